/**
 * Folds per-folder counters into job progress: absolute numbers (a lost or repeated event
 * harms nothing), a transfer rate over a sliding window, and an ETA measured in bytes.
 */
import type { FolderProgress, FolderStatus, JobProgress, JobStatus } from '../contract/job.js';

/** The transfer rate is measured over this window, so a stall shows quickly. */
export const RATE_WINDOW_MS = 15_000;

/** A folder's progress before it starts: totals from the plan, nothing done. */
export const waitingProgress = (f: { sourcePath: string; destinationPath: string; messages: number; sizeBytes: number }): FolderProgress => ({
  sourcePath: f.sourcePath,
  destinationPath: f.destinationPath,
  status: 'waiting',
  messagesTotal: f.messages,
  messagesDone: 0,
  bytesTotal: f.sizeBytes,
  bytesDone: 0,
});

export class ProgressTracker {
  private readonly folders = new Map<string, FolderProgress>();
  private readonly sentBytesByFolder = new Map<string, number>();
  private readonly samples: { at: number; sent: number }[] = [];
  status: JobStatus = 'queued';

  constructor(
    folders: { sourcePath: string; destinationPath: string; messages: number; sizeBytes: number }[],
    readonly startedAt: number,
    private readonly now: () => number = Date.now,
  ) {
    for (const f of folders) {
      this.folders.set(f.sourcePath, waitingProgress(f));
    }
  }

  folder(sourcePath: string): FolderProgress | undefined {
    return this.folders.get(sourcePath);
  }

  setStatus(sourcePath: string, status: FolderStatus, extra: Partial<FolderProgress> = {}): FolderProgress | undefined {
    const folder = this.folders.get(sourcePath);
    if (!folder) return undefined;
    folder.status = status;
    delete folder.retryAt;
    delete folder.settleUntil;
    delete folder.isOlderMailNext;
    Object.assign(folder, extra);
    return folder;
  }

  /** Absolute counters for a folder; `bytesSentThisPass` feeds the rate. */
  setCounters(sourcePath: string, counters: { messagesTotal: number; messagesDone: number; bytesTotal: number; bytesDone: number }, bytesSentThisPass: number, passId: string): void {
    const folder = this.folders.get(sourcePath);
    if (!folder) return;
    Object.assign(folder, counters);
    const key = `${sourcePath}\u0000${passId}`;
    this.sentBytesByFolder.set(key, bytesSentThisPass);
    const sent = [...this.sentBytesByFolder.values()].reduce((a, b) => a + b, 0);
    const at = this.now();
    this.samples.push({ at, sent });
    while (this.samples.length > 2 && (this.samples[0] as { at: number }).at < at - RATE_WINDOW_MS) this.samples.shift();
  }

  snapshot(): JobProgress {
    const folders = [...this.folders.values()].map((f) => ({ ...f }));
    const sum = (key: 'messagesTotal' | 'messagesDone' | 'bytesTotal' | 'bytesDone') => folders.reduce((n, f) => n + f[key], 0);
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const elapsedMs = first && last ? last.at - first.at : 0;
    const bytesPerSecond = first && last && elapsedMs > 0 ? ((last.sent - first.sent) / elapsedMs) * 1000 : 0;
    const bytesTotal = sum('bytesTotal');
    const bytesDone = sum('bytesDone');
    const remaining = Math.max(0, bytesTotal - bytesDone);
    return {
      status: this.status,
      messagesTotal: sum('messagesTotal'),
      messagesDone: sum('messagesDone'),
      bytesTotal,
      bytesDone,
      bytesPerSecond,
      etaSeconds: remaining === 0 ? 0 : bytesPerSecond > 0 ? Math.round(remaining / bytesPerSecond) : null,
      startedAt: this.startedAt,
      folders,
    };
  }
}
