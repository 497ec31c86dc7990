/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { ReactNode } from 'react';
import { useAppStore } from '../store/context.js';

/**
 * A link to a web page: a real link (keyboard, screen reader, hover show it as one), opened in
 * the person's own browser through main, never inside Mailferry's window.
 */
export function ExternalLink({ href, children }: { href: string; children?: ReactNode }) {
  const openLink = useAppStore((s) => s.openLink);
  return (
    <a
      className="external-link"
      href={href}
      rel="noreferrer"
      onClick={(e) => {
        e.preventDefault();
        void openLink(href);
      }}
    >
      {children ?? href.replace(/^https?:\/\//, '')}
      <span className="visually-hidden"> (opens in your web browser)</span>
    </a>
  );
}
