/**
 * One job may go to two places: the new account and a local archive. Each place runs as its own
 * engine job (its own journals, one after the other; see run-job-parts.ts) and this module folds
 * their events and reports into those of the one job the user sees.
 *
 * Invariants:
 * - Every folder row leaving here carries its `target`; a folder going to both places is two rows.
 * - A part's own end (its job-status 'done'/'needs-attention'/'paused'/'cancelled' and its report)
 *   never reaches the app: only `finish` ends the job, with one status and one merged report.
 * - Progress stays absolute: counters are sums over every row of every part, including the rows
 *   of a part that has not started yet (as waiting), so the overall bar never jumps back.
 */
import { waitingProgress } from '../engine/progress-tracker.js';
import type { AppFolderProgress, AppFolderReport, AppJobEvent, AppJobReport, FolderTarget } from '../contract/ipc.js';
import type { ArchiveLocation } from '../contract/account.js';
import { RUN_END_STATUSES, type JobEvent, type JobReport, type JobStatus } from '../contract/job.js';
import type { MigrationError } from '../contract/result.js';
import type { JobFolder } from '../engine/run-job.js';

export interface PartFolders {
  target: FolderTarget;
  folders: JobFolder[];
}

/** The status of the whole job from the statuses its parts ended with (parts not run do not count). */
export const combinedStatus = (statuses: JobStatus[]): JobStatus => {
  if (statuses.includes('cancelled')) return 'cancelled';
  if (statuses.includes('paused')) return 'paused';
  if (statuses.includes('needs-attention')) return 'needs-attention';
  return statuses.length > 0 ? 'done' : 'cancelled';
};

/** One report from the reports of the parts that ran, each row marked with its target. */
export const mergeReports = (jobId: string, parts: { target: FolderTarget; report: JobReport }[], archive: ArchiveLocation | undefined, fallbackTime: number): AppJobReport => {
  const folders: AppFolderReport[] = parts.flatMap(({ target, report }) => report.folders.map((f) => ({ ...f, target })));
  const sum = (k: keyof JobReport['totals']): number => parts.reduce((n, p) => n + p.report.totals[k], 0);
  return {
    jobId,
    startedAt: parts.length > 0 ? Math.min(...parts.map((p) => p.report.startedAt)) : fallbackTime,
    finishedAt: parts.length > 0 ? Math.max(...parts.map((p) => p.report.finishedAt)) : fallbackTime,
    status: combinedStatus(parts.map((p) => p.report.status)),
    folders,
    totals: { expected: sum('expected'), copied: sum('copied'), alreadyThere: sum('alreadyThere'), skipped: sum('skipped'), failed: sum('failed'), bytesCopied: sum('bytesCopied') },
    ...(archive && parts.some((p) => p.target === 'archive') ? { archive } : {}),
  };
};

/**
 * A report after re-running some folders (retry): their new rows replace their old ones, the
 * other rows stay as the earlier report had them, so the report still covers the whole job.
 */
export const updateReport = (previous: AppJobReport | undefined, rerun: AppJobReport): AppJobReport => {
  if (!previous) return rerun;
  const key = (f: AppFolderReport): string => `${f.target ?? 'account'}\u0000${f.sourcePath}`;
  const fresh = new Map(rerun.folders.map((f) => [key(f), f]));
  const folders = previous.folders.map((f) => fresh.get(key(f)) ?? f);
  const seen = new Set(folders.map(key));
  for (const f of rerun.folders) if (!seen.has(key(f))) folders.push(f);
  const sum = (pick: (f: AppFolderReport) => number): number => folders.reduce((n, f) => n + pick(f), 0);
  const isStopped = rerun.status === 'paused' || rerun.status === 'cancelled';
  return {
    ...rerun,
    startedAt: Math.min(previous.startedAt, rerun.startedAt),
    status: isStopped ? rerun.status : folders.every((f) => f.isComplete) ? 'done' : 'needs-attention',
    folders,
    totals: {
      expected: sum((f) => f.expected),
      copied: sum((f) => f.copied),
      alreadyThere: sum((f) => f.alreadyThere),
      skipped: sum((f) => f.skipped),
      failed: sum((f) => f.failed.length),
      bytesCopied: previous.totals.bytesCopied + rerun.totals.bytesCopied,
    },
    ...(previous.archive || rerun.archive ? { archive: rerun.archive ?? previous.archive } : {}),
  };
};

export interface PartMerger {
  /** Feed one event of the part running for `target`. */
  onEvent(target: FolderTarget, event: JobEvent): void;
  /** The job's end: the last combined progress, the status and the merged report. */
  finish(report: AppJobReport): void;
  /** Bytes done and total over every row, for the job record. */
  counters(): { bytesDone: number; bytesTotal: number };
}

const rowKey = (target: FolderTarget, sourcePath: string): string => `${target}\u0000${sourcePath}`;

export const createPartMerger = (jobId: string, parts: PartFolders[], emit: (event: AppJobEvent) => void, now: () => number = Date.now): PartMerger => {
  // Every row of every part, in the order the parts run; parts not yet started show as waiting.
  const rows = new Map<string, AppFolderProgress>();
  for (const { target, folders } of parts) {
    for (const f of folders) {
      rows.set(rowKey(target, f.sourcePath), { ...waitingProgress(f), target });
    }
  }
  const startedAt = now();
  let status: JobStatus = 'queued';
  let bytesPerSecond = 0;
  let lastError: { error: MigrationError; target: FolderTarget } | undefined;

  const progress = () => {
    const list = [...rows.values()];
    const sum = (k: 'messagesTotal' | 'messagesDone' | 'bytesTotal' | 'bytesDone'): number => list.reduce((n, f) => n + f[k], 0);
    const bytesTotal = sum('bytesTotal');
    const bytesDone = sum('bytesDone');
    return {
      status,
      bytesPerSecond,
      etaSeconds: bytesPerSecond > 0 ? Math.max(0, bytesTotal - bytesDone) / bytesPerSecond : null,
      startedAt,
      folders: list.map((f) => ({ ...f })),
      messagesTotal: sum('messagesTotal'),
      messagesDone: sum('messagesDone'),
      bytesTotal,
      bytesDone,
    };
  };

  return {
    onEvent(target, event) {
      switch (event.type) {
        case 'progress': {
          for (const f of event.progress.folders) rows.set(rowKey(target, f.sourcePath), { ...f, target });
          bytesPerSecond = event.progress.bytesPerSecond;
          if (!RUN_END_STATUSES.has(event.progress.status)) status = event.progress.status;
          emit({ type: 'progress', jobId, progress: progress() });
          return;
        }
        case 'folder-status': {
          const row = { ...event.folder, target };
          rows.set(rowKey(target, row.sourcePath), row);
          emit({ type: 'folder-status', jobId, folder: row });
          return;
        }
        case 'job-status':
          if (event.error) lastError = { error: event.error, target };
          if (RUN_END_STATUSES.has(event.status)) return; // the part's end; the job goes on or `finish` ends it
          status = event.status;
          emit({ type: 'job-status', jobId, status: event.status, ...(event.error ? { error: event.error, target } : {}) });
          return;
        case 'message-failed':
          emit({ type: 'message-failed', jobId, failure: { ...event.failure, target } });
          return;
        case 'log':
          emit({ ...event, jobId, message: target === 'archive' && parts.length > 1 ? `Archive: ${event.message}` : event.message });
          return;
        case 'report':
          return; // merged in finish
      }
    },
    finish(report) {
      status = report.status;
      bytesPerSecond = 0;
      emit({ type: 'progress', jobId, progress: progress() });
      const error = report.status === 'done' ? undefined : lastError;
      emit({ type: 'job-status', jobId, status: report.status, ...(error ? { error: error.error, target: error.target } : {}) });
      emit({ type: 'report', jobId, report });
    },
    counters() {
      const list = [...rows.values()];
      return { bytesDone: list.reduce((n, f) => n + f.bytesDone, 0), bytesTotal: list.reduce((n, f) => n + f.bytesTotal, 0) };
    },
  };
};
