/**
 * What a running job means for the desktop around the window: the computer kept awake while
 * mail moves, progress on the taskbar or dock, a notification when it ends. Driven by the
 * same JobEvents the renderer gets; Electron's pieces come in as functions so this is testable.
 */
import { ACTIVE_JOB_STATUSES as ACTIVE, type JobEvent, type JobStatus } from '../src/contract/job.js';

export interface DesktopEffects {
  keepAwake(isOn: boolean): void;
  /** 0..1, or -1 to remove; mode 'paused' and 'error' colour it where the platform can. */
  setProgress(fraction: number, mode: 'normal' | 'paused' | 'error'): void;
  notify(title: string, body: string): void;
}

export function createJobEffects(effects: DesktopEffects): (event: JobEvent) => void {
  let isAwake = false;
  let status: JobStatus | null = null;
  const awake = (on: boolean): void => {
    if (on !== isAwake) effects.keepAwake(on);
    isAwake = on;
  };
  return (event) => {
    if (event.type === 'progress') {
      const { bytesDone, bytesTotal } = event.progress;
      if (status === null || ACTIVE.has(status)) {
        awake(true);
        effects.setProgress(bytesTotal > 0 ? Math.min(1, bytesDone / bytesTotal) : 0, 'normal');
      }
      return;
    }
    if (event.type !== 'job-status') return;
    status = event.status;
    if (ACTIVE.has(event.status)) {
      awake(true);
      return;
    }
    awake(false);
    switch (event.status) {
      case 'paused':
        effects.setProgress(1, 'paused');
        break;
      case 'done':
        effects.setProgress(-1, 'normal');
        effects.notify('Your mail has moved', 'Every selected folder was copied and checked where it went.');
        break;
      case 'needs-attention':
        effects.setProgress(1, 'error');
        effects.notify('The move finished with problems', 'Some folders or messages need a look. Open Mailferry for the report.');
        break;
      case 'cancelled':
        effects.setProgress(-1, 'normal');
        break;
    }
  };
}
