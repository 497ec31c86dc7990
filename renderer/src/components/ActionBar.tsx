/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { ReactNode } from 'react';

/**
 * The screen's next step, always in view: a bar that sticks to the bottom of the window with the
 * screen's primary action and a one-line summary of what it will do. Anything above it (a panel
 * of more options) opens upwards, inside the bar.
 */
export function ActionBar({ summary, children, above, label = 'Next step' }: { summary: ReactNode; children: ReactNode; above?: ReactNode; label?: string }) {
  return (
    <div className="action-bar" role="region" aria-label={label} data-testid="action-bar">
      {above}
      <div className="action-row">
        <div className="action-summary">{summary}</div>
        <div className="action-buttons">{children}</div>
      </div>
    </div>
  );
}
