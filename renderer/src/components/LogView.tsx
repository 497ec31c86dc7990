/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useAppStore } from '../store/context.js';

const time = (at: number): string => new Date(at).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function LogView() {
  const log = useAppStore((s) => s.log);
  return (
    <details className="log-view">
      <summary>Log ({log.length} {log.length === 1 ? 'line' : 'lines'})</summary>
      {log.length === 0 ? (
        <p className="muted small">Nothing logged yet.</p>
      ) : (
        <div className="log-lines" role="log" aria-label="Log" tabIndex={0}>
          <ol>
          {log.map((line, i) => (
            <li key={i} className={`log-${line.level}`}>
              <span className="log-time">{time(line.at)}</span>
              <span className="log-level">{line.level}</span>
              <span className="log-message">{line.message}</span>
            </li>
          ))}
          </ol>
        </div>
      )}
    </details>
  );
}
