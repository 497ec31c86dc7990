/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useAppStore } from '../store/context.js';

export function Notice() {
  const notice = useAppStore((s) => s.notice);
  const setNotice = useAppStore((s) => s.setNotice);
  if (notice === null) return null;
  return (
    <div className={`notice notice-${notice.tone}`} role={notice.tone === 'error' ? 'alert' : 'status'}>
      <span>{notice.text}</span>
      <button type="button" className="button-link" onClick={() => setNotice(null)}>
        Dismiss
      </button>
    </div>
  );
}
