/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useEffect, useRef, type ReactNode } from 'react';

/**
 * A screen's heading. When a screen replaces the one whose button was pressed, focus would fall
 * back to the page; it goes to the new heading instead, so keyboard and screen-reader users start
 * reading (and tabbing) at the top of the new screen.
 */
export function ScreenTitle({ id, children }: { id: string; children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const active = document.activeElement;
    if (active === null || active === document.body) ref.current?.focus({ preventScroll: true });
  }, []);
  return (
    <h1 id={id} ref={ref} tabIndex={-1} className="screen-title">
      {children}
    </h1>
  );
}
