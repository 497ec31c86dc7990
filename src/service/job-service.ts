/**
 * The app's jobs: planning what the accounts hold, starting, pausing, resuming and retrying a
 * move, the list of moves for the resume offer, and their reports. The job itself (records,
 * parts, journals, runs) is src/jobs/, which the command line and a batch use as well.
 *
 * Invariants:
 * - A job's truth is its journal: pause, cancel, resume, retry and "run again" all start the job
 *   again over the same journal directories and continue from them.
 * - At most one run per job at a time.
 * - A job that goes to the account and an archive runs two parts one after the other, each over
 *   its own journals, under the one job id the app knows (src/jobs/job-parts.ts).
 */
import type { ArchiveLocation } from '../contract/account.js';
import type { AppJobEvent, AppJobReport, AppPlan, FolderTarget, JobSummary, StartJobRequest } from '../contract/ipc.js';
import type { CopyPlan, PlanOptions } from '../contract/plan.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import type { BackoffPolicy } from '../engine/backoff.js';
import { PAUSE_REASON } from '../engine/run-job.js';
import { collidingFolders } from '../jobs/job-folders.js';
import { describeJobLocation, listJobRecords, loadJobRecord, loadJobReport, partsOf } from '../jobs/job-records.js';
import { planJob, type JobPlans } from '../jobs/plan-job.js';
import { prepareJob, prepareRerun, type JobRoutes, type PreparedJob } from '../jobs/prepare-job.js';
import { startJobParts } from '../jobs/run-job-parts.js';
import type { JobEnds } from '../jobs/job-ends.js';
import type { AccountService, EndsWanted } from './account-service.js';
import type { ChannelHandlers } from './channel-handlers.js';

/** What the job concern needs: the state folder, the account ends, the event sink. */
export interface JobServiceDeps {
  stateDir: string;
  accounts: Pick<AccountService, 'jobEnds'>;
  emit(event: AppJobEvent): void;
  /** Asks for a folder on disk (a dialog in the app, new folders allowed); undefined if cancelled. */
  chooseFolder?(): Promise<string | undefined>;
  backoff?: BackoffPolicy;
}

/** The channels the job concern answers. */
export type JobChannel = 'plan:load' | 'jobs:start' | 'jobs:pause' | 'jobs:cancel' | 'jobs:resume' | 'jobs:retryFolder' | 'jobs:retryFailed' | 'jobs:list' | 'jobs:report' | 'archive:chooseFolder';

/** The job concern: its channels, the last report of a job, quitting. */
export type JobService = ChannelHandlers<JobChannel> & {
  /** The last report of a job: of this session's run, or the one saved beside its record. */
  reportOf(jobId: string): Promise<AppJobReport | undefined>;
  /** Stops every running job (pause) and waits for them; for app quit. */
  shutdown(): Promise<void>;
  /** True while any job is copying: main keeps the computer awake then. */
  isBusy(): boolean;
};

interface RunningJob {
  controller: AbortController;
  done: Promise<AppJobReport>;
}

/** Which paths a start request sends where (a request with an archive but no archivePaths is archive-only). */
const routesOf = (request: StartJobRequest): Record<FolderTarget, string[]> => {
  if (!request.archive) return { account: request.selectedPaths, archive: [] };
  if (request.archivePaths === undefined) return { account: [], archive: request.selectedPaths };
  return { account: request.selectedPaths, archive: request.archivePaths };
};

const TARGET_NAME: Record<FolderTarget, string> = { account: 'new account', archive: 'archive' };

const toMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Selected folders that land on one destination folder: a sentence, or undefined. */
const collisionText = (plan: CopyPlan | undefined, paths: string[], target: FolderTarget): string | undefined => {
  const collisions = collidingFolders(plan, paths);
  if (collisions.length === 0) return undefined;
  return `Some folders would land in the same place in the ${TARGET_NAME[target]}: ${collisions.map((f) => `${f.source.path} → ${f.destinationPath}`).join(', ')}. Rename one of them.`;
};

/** The job concern; see the file header for its invariants. */
export const createJobService = (deps: JobServiceDeps): JobService => {
  const running = new Map<string, RunningJob>();
  const reports = new Map<string, AppJobReport>();

  /** The ends of a job and their plans, over one source connection. */
  const planEnds = async (options: PlanOptions, want: EndsWanted): Promise<Result<{ ends: JobEnds; plans: JobPlans }>> => {
    const ends = await deps.accounts.jobEnds(want);
    if (!ends.ok) return ends;
    // With the state folder: what this job already copied in earlier runs is not counted as needed again.
    const plans = await planJob(ends.value, options, { stateDir: deps.stateDir });
    if (!plans.ok) {
      const { failedAt: _side, ...error } = plans.error;
      return err(error);
    }
    return ok({ ends: ends.value, plans: plans.value });
  };

  /** Starts (or restarts) a run of the job; resolves once it is under way. */
  const startRun = async (job: PreparedJob, previousReport?: AppJobReport): Promise<Result<{ jobId: string }>> => {
    const { jobId } = job.record;
    if (running.has(jobId)) return err(migrationError('bad-input', 'This move is already running.'));
    const controller = new AbortController();
    const started = await startJobParts(deps.stateDir, job, { signal: controller.signal, backoff: deps.backoff, previousReport, onEvent: (event) => deps.emit(event) });
    const done = started.finished.then(({ report }) => {
      reports.set(jobId, report);
      return report;
    });
    running.set(jobId, { controller, done });
    void done
      .catch((e: unknown) => {
        deps.emit({ type: 'log', jobId, level: 'error', message: `The move stopped unexpectedly: ${toMessage(e)}`, at: Date.now() });
        deps.emit({ type: 'job-status', jobId, status: 'needs-attention', error: migrationError('internal', toMessage(e)) });
      })
      .finally(() => running.delete(jobId));
    return ok({ jobId });
  };

  const reportOf = async (jobId: string): Promise<AppJobReport | undefined> => reports.get(jobId) ?? (await loadJobReport(deps.stateDir, jobId));

  /** Re-plans a recorded job (folder sizes change between runs) and runs the given folders of it. */
  const rerun = async (jobId: string, only?: (report: AppJobReport | undefined) => JobRoutes): Promise<Result<void>> => {
    const record = await loadJobRecord(deps.stateDir, jobId);
    if (!record) return err(migrationError('not-found', 'This move is not known any more.'));
    const parts = partsOf(record);
    const hasPart = (target: FolderTarget) => parts.some((p) => p.target === target);
    const planned = await planEnds(record.options, { account: hasPart('account'), archive: hasPart('archive') ? record.archiveLocation : undefined, source: record.sourceArchive });
    if (!planned.ok) return planned;
    const report = await reportOf(jobId);
    const job = prepareRerun(record, planned.value.ends, planned.value.plans, only?.(report));
    if (job.parts.every((p) => p.folders.length === 0)) return err(migrationError('bad-input', 'There is nothing to run again here.'));
    // A retry of some folders keeps the other rows of the report; a whole run replaces it.
    const started = await startRun(job, only ? report : undefined);
    return started.ok ? ok(undefined) : started;
  };

  const stop = async (jobId: string, reason: string): Promise<Result<void>> => {
    const job = running.get(jobId);
    if (!job) return err(migrationError('bad-input', 'This move is not running.'));
    job.controller.abort(reason);
    await job.done.catch(() => undefined);
    return ok(undefined);
  };

  return {
    reportOf,
    async 'plan:load'({ options, archive, source, archiveOnly }): Promise<Result<AppPlan>> {
      if (source && archive) return err(migrationError('bad-input', 'A restore from an archive goes to the new account only.'));
      if (archiveOnly && !archive) return err(migrationError('bad-input', 'Choose the folder on this computer to save the mail to.'));
      // Saving to this computer alone: the new account is neither needed nor opened.
      const planned = await planEnds(options, { account: !archiveOnly, archive, source });
      if (!planned.ok) return planned;
      const { account: accountPlan, archive: archivePlan } = planned.value.plans;
      const plan = archiveOnly ? archivePlan : accountPlan;
      if (!plan) return err(migrationError('internal', archiveOnly ? 'The archive was not planned.' : 'The new account was not planned.'));
      if (!archive || !archivePlan) return ok(plan);
      const folders = archivePlan.folders.map((f) => ({ sourcePath: f.source.path, destinationPath: f.destinationPath, destinationExists: f.destinationExists, collidesWith: f.collidesWith }));
      return ok({ ...plan, archive: { location: archive, folders } });
    },
    async 'jobs:start'(request: StartJobRequest) {
      if (request.source && request.archive) return err(migrationError('bad-input', 'A restore from an archive goes to the new account only.'));
      const routes = routesOf(request);
      if (request.refusedTo && routes.account.length === 0) return err(migrationError('bad-input', 'Nothing goes to the new account, so no message can be too large for it.'));
      const archive: ArchiveLocation | undefined = routes.archive.length > 0 ? request.archive : undefined;
      const planned = await planEnds(request.options, { account: routes.account.length > 0, archive, source: request.source });
      if (!planned.ok) return planned;
      for (const target of ['account', 'archive'] as const) {
        const text = collisionText(planned.value.plans[target], routes[target], target);
        if (text) return err(migrationError('bad-input', text));
      }
      const job = await prepareJob(deps.stateDir, planned.value.ends, planned.value.plans, {
        options: request.options,
        routes,
        settings: request.settings,
        // Messages too large for the new account go to this archive instead of being left out.
        ...(request.refusedTo ? { refusedTo: { kind: 'archive', archive: request.refusedTo } } : {}),
      });
      if (!job.ok) return err(migrationError('bad-input', 'Choose at least one folder to move.'));
      if (job.value.parts.every((p) => p.folders.length === 0)) return err(migrationError('bad-input', 'Choose at least one folder to move.'));
      return startRun(job.value);
    },
    async 'jobs:pause'({ jobId }) {
      return stop(jobId, PAUSE_REASON);
    },
    async 'jobs:cancel'({ jobId }) {
      return stop(jobId, 'cancel');
    },
    async 'jobs:resume'({ jobId }) {
      return rerun(jobId);
    },
    async 'jobs:retryFolder'({ jobId, sourcePath, target }) {
      const record = await loadJobRecord(deps.stateDir, jobId);
      const parts = record ? partsOf(record) : [];
      // Without a target: the account row if the folder has one, else its archive row.
      const chosen = target ?? (parts.some((p) => p.target === 'account' && p.selectedPaths.includes(sourcePath)) ? 'account' : parts.some((p) => p.target === 'archive') ? 'archive' : 'account');
      return rerun(jobId, () => ({ account: chosen === 'account' ? [sourcePath] : [], archive: chosen === 'archive' ? [sourcePath] : [] }));
    },
    async 'jobs:retryFailed'({ jobId }) {
      return rerun(jobId, (report) => {
        const incomplete = report ? report.folders.filter((f) => !f.isComplete) : [];
        return {
          account: incomplete.filter((f) => (f.target ?? 'account') === 'account').map((f) => f.sourcePath),
          archive: incomplete.filter((f) => f.target === 'archive').map((f) => f.sourcePath),
        };
      });
    },
    async 'jobs:list'(): Promise<Result<JobSummary[]>> {
      const records = await listJobRecords(deps.stateDir);
      return ok(
        records.map((r) => ({
          jobId: r.jobId,
          source: describeJobLocation(r.source),
          destination: r.parts && r.parts.length > 1 && r.archiveLocation ? `${describeJobLocation(r.destination)} and an archive at ${r.archiveLocation.path}` : describeJobLocation(r.destination),
          startedAt: r.createdAt,
          updatedAt: r.updatedAt,
          // A record still saying "copying" with no run in this process was interrupted (crash, quit).
          status: r.status === 'copying' && !running.has(r.jobId) ? 'paused' : r.status,
          bytesDone: r.bytesDone,
          bytesTotal: r.bytesTotal,
        })),
      );
    },
    async 'jobs:report'({ jobId }) {
      const report = await reportOf(jobId);
      return report ? ok(report) : err(migrationError('not-found', 'There is no report for this move yet.'));
    },
    async 'archive:chooseFolder'() {
      if (!deps.chooseFolder) return err(migrationError('bad-input', 'Choosing a folder is not available here.'));
      const chosen = await deps.chooseFolder();
      return chosen ? ok({ path: chosen }) : err(migrationError('cancelled', 'No folder chosen.'));
    },
    async shutdown() {
      for (const job of running.values()) job.controller.abort(PAUSE_REASON);
      await Promise.allSettled([...running.values()].map((j) => j.done));
    },
    isBusy: () => running.size > 0,
  };
};
