/** @jsxRuntime automatic */
/** @jsxImportSource react */

/** A bar by bytes. The width is set through the DOM style object, which the CSP allows (no inline style text). */
export function ProgressBar({ done, total, label, tone = 'normal', size = 'normal' }: { done: number; total: number; label: string; tone?: 'normal' | 'ok' | 'warn' | 'idle'; size?: 'normal' | 'large' }) {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : done > 0 ? 1 : 0;
  const percent = Math.round(fraction * 1000) / 10;
  return (
    <div
      className={`progress progress-${tone} progress-${size}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.floor(percent)}
    >
      <div className="progress-fill" style={{ width: `${percent}%` }} />
    </div>
  );
}
