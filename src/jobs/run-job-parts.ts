/**
 * Runs a prepared job: its parts one after the other, each an engine job (runJob) over its own
 * journal directory, as one job for whoever watches.
 *
 * Invariants:
 * - The journals are the only truth about what is on a destination; this runner keeps none of
 *   its own, so a pause, a crash or a kill is followed by a run that continues from them.
 * - The record says `copying` before the first part starts and the run's end status after the
 *   last one; the report is saved before the record says the run ended.
 * - A part that ends paused or cancelled ends the job there; later parts wait for the next run.
 */
import type { AppJobEvent, AppJobReport, FolderTarget } from '../contract/ipc.js';
import type { JobEvent, JobReport } from '../contract/job.js';
import type { BackoffPolicy } from '../engine/backoff.js';
import { runJob, type RunJobDeps } from '../engine/run-job.js';
import type { SplitThreshold } from '../engine/copy-folder.js';
import { createPartMerger, mergeReports, updateReport } from './job-parts.js';
import { journalDirectory, saveJobRecord, saveJobReport } from './job-records.js';
import type { PreparedJob } from './prepare-job.js';

/** How a run is watched and stopped. */
export interface RunJobPartsOptions {
  signal?: AbortSignal;
  backoff?: BackoffPolicy;
  /** Every engine event as it comes, with the part it belongs to (what the command line prints). */
  onPartEvent?(target: FolderTarget, event: JobEvent): void;
  /** The job's events with its parts folded into one job (job-parts.ts): what the app shows. */
  onEvent?(event: AppJobEvent): void;
  /** A retry of some folders: the new report keeps this one's other rows. */
  previousReport?: AppJobReport;
  /** A bandwidth cap shared with other jobs (a batch's --max-rate); default: the job's own setting. */
  throttle?: RunJobDeps['throttle'];
  /** When a large folder is split over several connections (default: copy-pending.ts's measured one). */
  splitThreshold?: SplitThreshold;
}

/** How a run ended: the job's report and each part's own. */
export interface JobOutcome {
  /** The job's report, every row marked with its part's target. */
  report: AppJobReport;
  /** Each part's own engine report, in the order they ran. */
  partReports: { target: FolderTarget; report: JobReport }[];
}

/**
 * Marks the job as running and starts it; `finished` settles when its run ends. Resolves once
 * the record says `copying`, so a caller can answer "started" with the record already in place.
 */
export const startJobParts = async (stateDir: string, job: PreparedJob, options: RunJobPartsOptions = {}): Promise<{ finished: Promise<JobOutcome> }> => {
  const { record } = job;
  const withFolders = job.parts.filter((p) => p.folders.length > 0);
  // Nothing chosen anywhere: the first part runs empty and ends done (nothing to copy, nothing missing).
  const toRun = withFolders.length > 0 ? withFolders : job.parts.slice(0, 1);
  const merger = createPartMerger(record.jobId, toRun, (event) => options.onEvent?.(event));
  await saveJobRecord(stateDir, { ...record, status: 'copying', updatedAt: Date.now() });
  const finished = (async (): Promise<JobOutcome> => {
    const partReports: JobOutcome['partReports'] = [];
    for (const part of toRun) {
      if (options.signal?.aborted) break;
      const report = await runJob(
        part.folders,
        {
          openSource: job.openSource,
          openDestination: part.openDestination,
          journalDirectory: journalDirectory(stateDir, part.partId),
          ...(options.throttle ? { throttle: options.throttle } : {}),
          ...(part.openRefusedTo ? { openRefusedTo: part.openRefusedTo } : {}),
        },
        {
          jobId: record.jobId,
          signal: options.signal,
          settings: record.settings,
          backoff: options.backoff,
          ...(options.splitThreshold ? { splitThreshold: options.splitThreshold } : {}),
          onEvent: (event) => {
            options.onPartEvent?.(part.target, event);
            merger.onEvent(part.target, event);
          },
        },
      );
      partReports.push({ target: part.target, report });
      if (report.status === 'paused' || report.status === 'cancelled') break;
    }
    const report = updateReport(options.previousReport, mergeReports(record.jobId, partReports, record.archiveLocation, Date.now()));
    await saveJobReport(stateDir, report);
    await saveJobRecord(stateDir, { ...record, ...merger.counters(), status: report.status, updatedAt: Date.now() });
    merger.finish(report);
    return { report, partReports };
  })();
  return { finished };
};
