import type { StateCreator } from 'zustand';
import type { AppFolderProgress, AppJobEvent, AppPlan, StartJobRequest } from '../../../src/contract/ipc.js';
import type { JobStatus } from '../../../src/contract/job.js';
import type { Result } from '../../../src/contract/result.js';
import type { AppState, JobSlice, SpeedSample } from './types.js';
import { rowKey, TERMINAL_JOB_STATUSES } from './types.js';
import { plannedProgress, progressFromSummary } from '../lib/planned-progress.js';

/** The log keeps the newest lines; older ones are in the engine's own log file. */
const MAX_LOG_LINES = 2000;
/** The speed chart keeps the last quarter of an hour at one sample a second. */
const MAX_SPEED_SAMPLES = 900;
const SPEED_SAMPLE_MS = 1000;

/** Adds a speed sample; within a second of the last one it replaces it (progress comes several times a second). */
export const addSpeedSample = (samples: readonly SpeedSample[], sample: SpeedSample): SpeedSample[] => {
  const last = samples.at(-1);
  // A pause (null) always gets its own point, so the line breaks there.
  const isSameSecond = last !== undefined && last.bytesPerSecond !== null && sample.bytesPerSecond !== null && sample.at - last.at < SPEED_SAMPLE_MS;
  const next = isSameSecond ? [...samples.slice(0, -1), { ...sample, at: last.at }] : [...samples, sample];
  return next.length > MAX_SPEED_SAMPLES ? next.slice(-MAX_SPEED_SAMPLES) : next;
};

export const freshJobState = (): Pick<
  JobSlice,
  'jobId' | 'jobStatus' | 'jobError' | 'jobErrorTarget' | 'progress' | 'folders' | 'folderOrder' | 'failures' | 'log' | 'report' | 'isActionPending' | 'speedSamples'
> => ({
  jobId: null,
  jobStatus: null,
  jobError: null,
  jobErrorTarget: undefined,
  progress: null,
  folders: {},
  folderOrder: [],
  failures: [],
  log: [],
  report: null,
  isActionPending: false,
  speedSamples: [],
});

const mergeFolders = (
  folders: Record<string, AppFolderProgress>,
  order: string[],
  updates: AppFolderProgress[],
): { folders: Record<string, AppFolderProgress>; folderOrder: string[] } => {
  const next = { ...folders };
  let nextOrder: string[] | null = null;
  for (const f of updates) {
    const key = rowKey(f);
    if (!(key in next)) {
      nextOrder ??= [...order];
      nextOrder.push(key);
    }
    next[key] = f;
  }
  return { folders: next, folderOrder: nextOrder ?? order };
};

/** The Move screen's state before the engine says anything: the plan's totals and a waiting row per folder. */
export const plannedJobState = (plan: AppPlan, request: StartJobRequest): Pick<JobSlice, 'progress' | 'folders' | 'folderOrder'> => {
  const progress = plannedProgress(plan, request, Date.now());
  return { progress, ...mergeFolders({}, [], progress.folders) };
};

export const createJobSlice: StateCreator<AppState, [], [], JobSlice> = (set, get) => {
  let earlyEvents: AppJobEvent[] = [];
  /** Runs a job action; a failure becomes a notice rather than an exception. */
  const act = async (call: () => Promise<Result<unknown>>): Promise<boolean> => {
    set({ isActionPending: true });
    const result = await call();
    set({ isActionPending: false, notice: result.ok ? null : { tone: 'error', text: result.error.message } });
    return result.ok;
  };
  const setStatus = (status: JobStatus): void => {
    set({ jobStatus: status });
    if (TERMINAL_JOB_STATUSES.has(status) && get().report === null) void get().loadReport();
  };

  return {
    lastStart: null,
    ...freshJobState(),

    applyJobEvent(event) {
      const { jobId } = get();
      if (jobId === null && get().isActionPending) {
        // A job's first events can overtake the answer to jobs:start; keep them until we know its id.
        earlyEvents.push(event);
        return;
      }
      if (jobId === null || event.jobId !== jobId) return;
      switch (event.type) {
        case 'progress': {
          const { folders, folderOrder } = mergeFolders(get().folders, get().folderOrder, event.progress.folders);
          const isMoving = !TERMINAL_JOB_STATUSES.has(event.progress.status) && event.progress.status !== 'paused' && get().jobStatus !== 'paused';
          const speedSamples = isMoving ? addSpeedSample(get().speedSamples, { at: Date.now(), bytesPerSecond: Math.max(0, event.progress.bytesPerSecond) }) : get().speedSamples;
          set({ progress: event.progress, folders, folderOrder, speedSamples });
          // Status changes come as job-status events; a progress snapshot only lifts a job out of 'queued'.
          const current = get().jobStatus;
          if ((current === null || current === 'queued') && !TERMINAL_JOB_STATUSES.has(event.progress.status)) set({ jobStatus: event.progress.status });
          break;
        }
        case 'folder-status':
          set(mergeFolders(get().folders, get().folderOrder, [event.folder]));
          break;
        case 'job-status':
          set({ jobError: event.error ?? null, jobErrorTarget: event.target });
          if (event.status === 'paused') set({ speedSamples: addSpeedSample(get().speedSamples, { at: Date.now(), bytesPerSecond: null }) });
          setStatus(event.status);
          break;
        case 'message-failed':
          set({ failures: [...get().failures, event.failure] });
          break;
        case 'log': {
          const log = [...get().log, { at: event.at, level: event.level, message: event.message }];
          set({ log: log.length > MAX_LOG_LINES ? log.slice(-MAX_LOG_LINES) : log });
          break;
        }
        case 'report':
          set({ report: event.report });
          break;
      }
    },

    async pauseJob() {
      const { jobId, bridge } = get();
      if (jobId !== null && (await act(() => bridge.jobsPause({ jobId })))) {
        setStatus('paused');
        set({ speedSamples: addSpeedSample(get().speedSamples, { at: Date.now(), bytesPerSecond: null }) });
      }
    },
    async resumeJob(resumeId) {
      const { bridge } = get();
      const jobId = resumeId ?? get().jobId;
      if (jobId === null) return;
      if (resumeId !== undefined && resumeId !== get().jobId) {
        // Resuming an interrupted job from an earlier session: start watching it afresh, with
        // the figures its record kept until the engine's first progress event.
        const summary = get().interruptedJobs.find((j) => j.jobId === resumeId);
        set({ ...freshJobState(), jobId, jobStatus: 'queued', screen: 'copying', ...(summary ? { progress: progressFromSummary(summary) } : {}) });
        get().dismissResume(jobId);
      }
      set({ report: null });
      if (await act(() => bridge.jobsResume({ jobId }))) {
        if (get().jobStatus === 'paused') setStatus('copying');
      }
    },
    async cancelJob() {
      const { jobId, bridge } = get();
      if (jobId !== null) await act(() => bridge.jobsCancel({ jobId }));
    },
    async retryFolder(sourcePath, target) {
      const { jobId, bridge } = get();
      if (jobId === null) return;
      if (await act(() => bridge.jobsRetryFolder({ jobId, sourcePath, ...(target ? { target } : {}) }))) {
        const folder = get().folders[rowKey({ sourcePath, target })];
        if (folder) set(mergeFolders(get().folders, get().folderOrder, [{ ...folder, status: 'waiting' }]));
        if (get().jobStatus !== null && TERMINAL_JOB_STATUSES.has(get().jobStatus!)) set({ jobStatus: 'copying', report: null, screen: 'copying' });
      }
    },
    async retryFailed() {
      const { jobId, bridge } = get();
      if (jobId === null) return;
      if (await act(() => bridge.jobsRetryFailed({ jobId }))) {
        set({ jobStatus: 'copying', report: null, failures: [], screen: 'copying' });
      }
    },
    async signInAgainAndResume(role) {
      const jobId = get().jobId;
      if (jobId === null) return;
      set({ isActionPending: true });
      const signedIn = await get().bridge.accountsSignIn({ role });
      set({ isActionPending: false });
      if (!signedIn.ok) {
        set({ notice: { tone: 'error', text: signedIn.error.message } });
        return;
      }
      set({ jobError: null });
      await get().resumeJob();
    },
    async loadReport() {
      const { jobId, bridge } = get();
      if (jobId === null) return;
      const result = await bridge.jobsReport({ jobId });
      if (result.ok) set({ report: result.value });
      else set({ notice: { tone: 'error', text: result.error.message } });
    },
    async showReport() {
      if (get().report === null) await get().loadReport();
      set({ screen: 'report', notice: null });
    },
    async exportReport(format) {
      const { jobId, bridge } = get();
      if (jobId === null) return;
      const result = await bridge.reportsExport({ jobId, format });
      if (result.ok) set({ notice: { tone: 'info', text: `Report saved to ${result.value.path}` } });
      else if (result.error.kind !== 'cancelled') set({ notice: { tone: 'error', text: result.error.message } });
    },
    async saveEml(failure) {
      const { jobId, bridge } = get();
      if (jobId === null) return;
      const result = await bridge.messagesSaveEml({ jobId, sourcePath: failure.sourcePath, uid: failure.uid });
      if (result.ok) set({ notice: { tone: 'info', text: `Message saved to ${result.value.path}` } });
      else if (result.error.kind !== 'cancelled') set({ notice: { tone: 'error', text: result.error.message } });
    },
    adoptJob(jobId) {
      const pending = earlyEvents;
      earlyEvents = [];
      if (jobId === null) return;
      set({ jobId, jobStatus: 'queued', screen: 'copying', isActionPending: false, notice: null });
      for (const event of pending) get().applyJobEvent(event);
    },
    async runAgain() {
      const request = get().lastStart;
      const previousJobId = get().jobId;
      if (request === null) {
        // A job resumed from an earlier session: the engine re-runs it from its own record.
        if (previousJobId === null) return;
        set({ ...freshJobState(), jobId: previousJobId, jobStatus: 'queued', screen: 'copying' });
        await act(() => get().bridge.jobsResume({ jobId: previousJobId }));
        return;
      }
      const plan = get().plan;
      set({ ...freshJobState(), ...(plan ? plannedJobState(plan, request) : {}), isActionPending: true });
      // Same choices again: the engine finds what is already on the destination and sends only the rest.
      const result = await get().bridge.jobsStart(request);
      if (!result.ok) {
        get().adoptJob(null);
        set({ isActionPending: false, notice: { tone: 'error', text: result.error.message } });
        return;
      }
      get().adoptJob(result.value.jobId);
    },
  };
};
