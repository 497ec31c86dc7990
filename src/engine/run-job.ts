/**
 * Runs a whole copy job: folders in parallel up to the connection setting, each folder retried
 * with backoff on its own, the job going on while a folder is set aside.
 *
 * Invariants:
 * - Every folder pass goes through copyFolder, whose journal is the only truth about what is
 *   on the destination; this runner keeps no copy state of its own, so pausing, cancelling,
 *   crashing and running again all continue from the journal.
 * - A connection that failed is closed and never reused; a new one is made after a backoff.
 *   No reconnect happens without a delay from backoffDelayMs.
 * - A folder with `maxConsecutiveFailures` failed passes in a row (no progress between them)
 *   becomes `needs-attention`; the other folders go on.
 * - A full destination (quota) or a refused OAuth2 sign-in pauses the whole job instead of
 *   retrying: more attempts cannot help until a person frees space or signs in again.
 * - A provider's account-wide limit (MigrationError.isProviderLimit: a day's uploads, a suggested
 *   back-off) makes every folder wait until it has passed, then go on by itself; it never counts
 *   as a failed attempt, so an unattended move of several days keeps going.
 * - Abort with reason 'pause' ends as `paused`, any other reason as `cancelled`; open sockets
 *   are closed at once so no hung command holds the job.
 * - Only the first worker starts at once; the others when a folder starts copying, when no
 *   folder is left to start, or after EXTRA_WORKERS_AFTER_MS: a re-run whose folders are all
 *   unchanged finishes on one pair of connections instead of logging in again for each worker.
 * - Newest first (settings.newestFirst): every folder's recent part (copy-folder.ts's
 *   recentSince) runs before any folder's older mail; a folder's two parts run one after the
 *   other on its one journal, and only the second verifies.
 * - A worker with no folder left lends its connection pair to a folder still being copied that
 *   asks for lanes (copy-pending.ts splits a large folder's pending messages over several pairs);
 *   it opens a pair only for that, and a lent pair whose lane failed is closed, never reused.
 *   A pair that cannot be opened for lending is not retried: the folder goes on without it.
 */
import type { FailedMessage, FolderReport, FolderStatus, JobEvent, JobReport, JobSettings, JobStatus } from '../contract/job.js';
import { DEFAULT_JOB_SETTINGS, DEFAULT_RECENT_DAYS, PAUSE_REASON } from '../contract/job.js';
import { migrationError, type MigrationError, type Result } from '../contract/result.js';
import { backoffDelayMs, DEFAULT_BACKOFF, sleep, type BackoffPolicy } from './backoff.js';
import { createBandwidthLimiter } from './bandwidth-limiter.js';
import { copyFolder, type Lane, type LanePool, type SplitThreshold } from './copy-folder.js';
import { FolderJournal } from './folder-journal.js';
import { ProgressTracker } from './progress-tracker.js';
import type { FolderPlan, MappingReason, SpecialUse } from '../contract/plan.js';
import type { DestinationStore, MessageFilter, SourceStore } from './store.js';

/** Workers beyond the first start this long after the job, unless a folder starts copying sooner. */
export const EXTRA_WORKERS_AFTER_MS = 200;
/** Progress events are throttled to at most one per this interval (status changes always go out). */
export const PROGRESS_INTERVAL_MS = 250;
const DAY_MS = 24 * 60 * 60_000;
/** How often a provider's limit that names no end (Gmail's) is tried again. */
export const DEFAULT_PROVIDER_LIMIT_RETRY_MS = 60 * 60_000;
export { PAUSE_REASON } from '../contract/job.js';

export interface JobFolder {
  sourcePath: string;
  destinationPath: string;
  messages: number;
  sizeBytes: number;
  messageFilter?: MessageFilter;
  /** The largest message the destination takes (pre-flight): larger ones are never sent. */
  maxMessageBytes?: number;
  /** The destination lacks this special use: the folder is created as it (CREATE-SPECIAL-USE). */
  specialUse?: SpecialUse;
}

/** Special uses a destination folder may be created for (RFC 6154); the rest are views. */
const CREATABLE_SPECIAL_USES = new Set<SpecialUse>(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive']);

/** The job's view of one planned folder (every front end builds its folders with this). */
export const jobFolderOf = (folder: FolderPlan, maxMessageBytes?: number): JobFolder => {
  const created = folder.reasons.find((r): r is Extract<MappingReason, { kind: 'special-use' }> => r.kind === 'special-use' && !r.existing && CREATABLE_SPECIAL_USES.has(r.use));
  // Only the special folder itself (its children carry its reason too); Gmail's All Mail goes
  // into Archive when only its archived mail is copied.
  const use = folder.source.specialUse === '\\All' && folder.messageFilter ? '\\Archive' : folder.source.specialUse;
  const isTheFolder = created !== undefined && use === created.use;
  return {
    sourcePath: folder.source.path,
    destinationPath: folder.destinationPath,
    messages: folder.source.messages,
    sizeBytes: folder.source.sizeBytes,
    ...(folder.messageFilter ? { messageFilter: folder.messageFilter } : {}),
    ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
    ...(isTheFolder && created ? { specialUse: created.use } : {}),
  };
};

export interface RunJobDeps {
  openSource(): Promise<Result<SourceStore>>;
  openDestination(): Promise<Result<DestinationStore>>;
  /** Folder where this job's journals live. */
  journalDirectory: string;
  /**
   * Where messages too large for the destination are kept instead (an archive), opened once for
   * the whole job at the first such message. Without it they are reported as refused.
   */
  openRefusedTo?(): Promise<Result<DestinationStore>>;
  /** A bandwidth cap shared with other jobs (a batch of mailboxes); default: this job's own maxBytesPerSecond. */
  throttle?: (bytes: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

export interface RunJobOptions {
  jobId: string;
  signal?: AbortSignal;
  onEvent?: (event: JobEvent) => void;
  settings?: Partial<JobSettings>;
  backoff?: BackoffPolicy;
  progressIntervalMs?: number;
  /** When a folder is split over several connection pairs (default: copy-pending.ts's SPLIT_THRESHOLD). */
  splitThreshold?: SplitThreshold;
}

type Pair = Lane;

/** A folder's pass asking for more lanes (see LanePool), and how many more pairs may join it. */
interface LaneRequest {
  help: Parameters<LanePool['request']>[0];
  slots: number;
  isOpen: boolean;
}

const isStopError = (e: MigrationError): boolean => e.kind === 'cancelled';

export const runJob = async (folders: JobFolder[], deps: RunJobDeps, options: RunJobOptions): Promise<JobReport> => {
  const now = deps.now ?? Date.now;
  const settings: JobSettings = { ...DEFAULT_JOB_SETTINGS, ...options.settings };
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const { jobId } = options;
  const emit = (event: JobEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // an observer's failure must not stop the copy
    }
  };
  const startedAt = now();
  const tracker = new ProgressTracker(folders, startedAt, now);
  const throttle = deps.throttle ?? createBandwidthLimiter(settings.maxBytesPerSecond, now);

  // One controller for the job: the caller's signal, a fatal error, or a full quota stop it.
  const job = new AbortController();
  let jobError: MigrationError | undefined;
  /** Paused for a person: a full quota, or a sign-in to repeat. */
  let isQuotaPause = false;
  const onCallerAbort = (): void => job.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (options.signal?.aborted) job.abort(options.signal.reason);
  const openPairs = new Set<Pair>();
  job.signal.addEventListener('abort', () => {
    for (const pair of openPairs) void closePair(pair);
  });

  let lastProgressAt = 0;
  const emitProgress = (force = false): void => {
    const t = now();
    if (!force && t - lastProgressAt < (options.progressIntervalMs ?? PROGRESS_INTERVAL_MS)) return;
    lastProgressAt = t;
    emit({ type: 'progress', jobId, progress: tracker.snapshot() });
  };
  const setJobStatus = (status: JobStatus, error?: MigrationError): void => {
    tracker.status = status;
    emit({ type: 'job-status', jobId, status, error });
  };
  const setFolderStatus = (sourcePath: string, status: FolderStatus, extra: Parameters<ProgressTracker['setStatus']>[2] = {}): void => {
    const folder = tracker.setStatus(sourcePath, status, extra);
    if (folder) emit({ type: 'folder-status', jobId, folder: { ...folder } });
    emitProgress(true);
  };
  const log = (level: 'info' | 'warn' | 'error', message: string): void => emit({ type: 'log', jobId, level, message, at: now() });

  const closePair = async (pair: Pair): Promise<void> => {
    openPairs.delete(pair);
    await Promise.allSettled([pair.source.close(), pair.destination.close()]);
  };
  const openPair = async (): Promise<Result<Pair>> => {
    const [source, destination] = await Promise.all([deps.openSource(), deps.openDestination()]);
    if (!source.ok || !destination.ok) {
      if (source.ok) await source.value.close();
      if (destination.ok) await destination.value.close();
      return { ok: false, error: (!source.ok ? source.error : (destination as { ok: false; error: MigrationError }).error) };
    }
    const pair = { source: source.value, destination: destination.value };
    openPairs.add(pair);
    if (job.signal.aborted) void closePair(pair);
    return { ok: true, value: pair };
  };

  // The first worker starts at once, the others once there is copying to share (see the header).
  let startExtraWorkers: () => void = () => undefined;
  const extraWorkersStart = new Promise<void>((resolve) => (startExtraWorkers = resolve));
  const extraWorkersTimer = setTimeout(() => startExtraWorkers(), EXTRA_WORKERS_AFTER_MS);
  extraWorkersTimer.unref();

  // Folders asking for lanes, and the idle workers waiting for one to ask.
  const laneRequests = new Set<LaneRequest>();
  let foldersInProgress = 0;
  const signalled = (): { promise: Promise<void>; resolve: () => void } => {
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };
  let changed = signalled();
  const notify = (): void => {
    const previous = changed;
    changed = signalled();
    previous.resolve();
  };
  job.signal.addEventListener('abort', notify);
  const lanePool: LanePool = {
    size: settings.connectionsPerSide,
    request(help) {
      const request: LaneRequest = { help, slots: settings.connectionsPerSide - 1, isOpen: true };
      laneRequests.add(request);
      notify();
      return () => {
        request.isOpen = false;
        laneRequests.delete(request);
      };
    },
  };
  /** A request with room for one more pair; undefined once no folder can ask any more. */
  const nextLaneRequest = async (): Promise<LaneRequest | undefined> => {
    for (;;) {
      if (job.signal.aborted) return undefined;
      const request = [...laneRequests].find((r) => r.isOpen && r.slots > 0);
      if (request) {
        request.slots--;
        return request;
      }
      if (foldersInProgress === 0) return undefined;
      await changed.promise;
    }
  };
  /** Lends the worker's pair (opened for it if needed) to a folder for one lane. */
  const lend = async (request: LaneRequest, worker: { pair?: Pair }): Promise<void> => {
    if (!worker.pair) {
      const opened = await openPair();
      if (!opened.ok) {
        log('info', `One more connection could not be opened to help copy a large folder (${opened.error.message}); it goes on without it.`);
        return;
      }
      worker.pair = opened.value;
    }
    const lane = await request.help(worker.pair);
    if (!lane.ok) {
      const broken = worker.pair;
      worker.pair = undefined;
      await closePair(broken);
    }
  };

  const reports = new Map<string, FolderReport>();
  /** The archive for messages too large for the destination, shared by every worker. */
  let refusedTo: DestinationStore | undefined;
  /** Until when the provider's limit holds every folder back (epoch ms); 0 when it does not. */
  let providerLimitUntil = 0;
  /** Waits out the provider's limit before an attempt, showing when the folder goes on. */
  const waitForProviderLimit = async (folder: JobFolder, attempt: number, error?: MigrationError): Promise<void> => {
    const wait = providerLimitUntil - now();
    if (wait <= 0) return;
    setFolderStatus(folder.sourcePath, 'retrying', { retryAt: providerLimitUntil, attempt, ...(error ? { lastError: error } : {}) });
    await sleep(wait, job.signal);
  };
  // A fatal error (wrong password, certificate) stops every folder: they need a person, not a re-run.
  const stopStatus = (): FolderStatus => (isQuotaPause || job.signal.reason === PAUSE_REASON ? 'paused' : jobError ? 'needs-attention' : 'cancelled');

  /** What one attempt at a folder came to, and so what the folder loop does next. */
  type AttemptOutcome =
    | { next: 'finish'; report: FolderReport }
    | { next: 'retry'; error: MigrationError; hasProgressed: boolean }
    | { next: 'set-aside'; error: MigrationError }
    | { next: 'stop' };

  /** Stops the whole job as paused: what it met needs a person (space freed, a new sign-in). */
  const pauseForPerson = (folder: JobFolder, error: MigrationError): AttemptOutcome => {
    if (!isQuotaPause) log('error', `${folder.sourcePath}: ${error.message}`);
    isQuotaPause = true;
    jobError ??= error;
    job.abort(error.kind === 'quota' ? 'quota' : 'sign-in');
    return { next: 'stop' };
  };

  /** One pass over a folder on the worker's connections (opened first if needed). */
  const attemptFolder = async (folder: JobFolder, worker: { pair?: Pair }, journal: FolderJournal, attempt: number, failuresInARow: number, recentSince?: Date): Promise<AttemptOutcome> => {
    if (!worker.pair) {
      const opened = await openPair();
      if (!opened.ok) {
        if (opened.error.retryable) return { next: 'retry', error: opened.error, hasProgressed: false };
        if (opened.error.needsSignIn) return pauseForPerson(folder, opened.error);
        // Wrong password, certificate, plaintext refused: no folder can proceed.
        jobError = opened.error;
        job.abort('fatal');
        return { next: 'stop' };
      }
      worker.pair = opened.value;
    }
    setFolderStatus(folder.sourcePath, 'scanning', { attempt });
    const passId = `${recentSince ? 'recent-' : ''}${attempt}`;
    const doneBefore = tracker.folder(folder.sourcePath)?.messagesDone ?? 0;
    const result = await copyFolder(
      { source: worker.pair.source, destination: worker.pair.destination, journal, throttle, refusedTo },
      { ...folder, ...(recentSince ? { recentSince } : {}), ...(readyFolders.has(folder.sourcePath) ? { isFolderReady: true } : {}) },
      {
        signal: job.signal,
        lanes: lanePool,
        splitThreshold: options.splitThreshold,
        onPhase: (phase) => {
          if (phase === 'copying') startExtraWorkers();
          setFolderStatus(folder.sourcePath, phase);
        },
        onSettling: (until) => setFolderStatus(folder.sourcePath, 'settling', { settleUntil: until, attempt }),
        onProgress: (c) => {
          tracker.setCounters(folder.sourcePath, c, c.bytesSent, passId);
          emitProgress();
        },
        onFailure: (failure: FailedMessage) => emit({ type: 'message-failed', jobId, failure }),
        onLog: (level, message) => log(level, message),
        syncFlags: settings.syncFlags,
      },
    );
    if (result.ok) {
      // Refusals that may be temporary (an ambiguous [LIMIT]), or messages verification found
      // missing, earn another pass after a backoff.
      const retryable = result.value.failed.find((f) => f.error.retryable)?.error ?? (result.value.error?.retryable ? result.value.error : undefined);
      if (retryable && failuresInARow + 1 < settings.maxConsecutiveFailures) return { next: 'retry', error: retryable, hasProgressed: false };
      return { next: 'finish', report: result.value };
    }
    const error = result.error;
    // The next attempt makes sure of the destination folder again (it may be what failed).
    readyFolders.delete(folder.sourcePath);
    if (job.signal.aborted || isStopError(error)) return { next: 'stop' };
    if (error.kind === 'quota' || error.needsSignIn) return pauseForPerson(folder, error);
    if (!error.retryable) return { next: 'set-aside', error };
    // The connection may be unusable now: never reuse it.
    const broken = worker.pair;
    worker.pair = undefined;
    await closePair(broken);
    return { next: 'retry', error, hasProgressed: (tracker.folder(folder.sourcePath)?.messagesDone ?? 0) > doneBefore };
  };

  /** Copies one folder to completion, or until it needs a person, or the job stops. */
  /** Each folder's journal, opened once: newest first runs two parts of a folder one after the other. */
  const journals = new Map<string, FolderJournal>();
  /** Folders whose recent part gave up after failed attempts in a row (newest first). */
  const recentGaveUp = new Set<string>();
  /** Folders whose recent part created (or found) their destination folder. */
  const readyFolders = new Set<string>();
  /**
   * Copies one folder to completion, or until it needs a person, or the job stops. With
   * `recentSince`, only the folder's recent part: it then waits for the rest (status `waiting`).
   */
  const processFolder = async (folder: JobFolder, worker: { pair?: Pair }, recentSince?: Date): Promise<void> => {
    // Its recent part already ended it (set aside, or the job stopped): nothing more here.
    if (reports.has(folder.sourcePath)) return;
    const journal = journals.get(folder.sourcePath) ?? (await FolderJournal.open(deps.journalDirectory, folder.sourcePath, folder.destinationPath));
    journals.set(folder.sourcePath, journal);
    const setAside = (error: MigrationError): void => {
      log('error', `${folder.sourcePath}: ${error.message}`);
      setFolderStatus(folder.sourcePath, 'needs-attention', { lastError: error });
      reports.set(folder.sourcePath, partialReport(journal, folder, 'needs-attention', error));
    };
    // A recent part that gave up leaves its older part one failed attempt without progress.
    let failuresInARow = recentGaveUp.has(folder.sourcePath) ? settings.maxConsecutiveFailures - 1 : 0;
    let lastError: MigrationError | undefined;
    let hasEverProgressed = false;
    for (let attempt = 1; ; attempt++) {
      await waitForProviderLimit(folder, attempt, lastError);
      const outcome = job.signal.aborted ? ({ next: 'stop' } as const) : await attemptFolder(folder, worker, journal, attempt, failuresInARow, recentSince);
      switch (outcome.next) {
        case 'finish': {
          if (recentSince) {
            readyFolders.add(folder.sourcePath);
            setFolderStatus(folder.sourcePath, 'waiting', { isOlderMailNext: true });
            return;
          }
          const { report } = outcome;
          const bytesTotal = tracker.folder(folder.sourcePath)?.bytesTotal ?? 0;
          const bytesDone = report.isComplete ? bytesTotal : (tracker.folder(folder.sourcePath)?.bytesDone ?? 0);
          tracker.setCounters(folder.sourcePath, { messagesTotal: report.expected, messagesDone: report.copied + report.alreadyThere, bytesTotal, bytesDone }, 0, `${attempt}-final`);
          reports.set(folder.sourcePath, report);
          setFolderStatus(folder.sourcePath, report.status, report.error ? { lastError: report.error } : {});
          return;
        }
        case 'stop': {
          // The job's own reason (wrong password, full quota) explains the stop better than
          // whatever this folder's last attempt met on the way (often a mere symptom of it).
          const error = jobError ?? lastError;
          setFolderStatus(folder.sourcePath, stopStatus(), error ? { lastError: error } : {});
          reports.set(folder.sourcePath, partialReport(journal, folder, stopStatus(), error));
          return;
        }
        case 'set-aside':
          setAside(outcome.error);
          return;
        case 'retry': {
          lastError = outcome.error;
          if (outcome.error.isProviderLimit) {
            const until = now() + (outcome.error.retryAfterMs ?? settings.providerLimitRetryMs ?? DEFAULT_PROVIDER_LIMIT_RETRY_MS);
            if (until > providerLimitUntil) {
              providerLimitUntil = until;
              log('warn', `${outcome.error.message} Going on at ${new Date(until).toISOString().slice(11, 19)} UTC.`);
            }
            continue; // not a failure: the next turn of the loop waits for it
          }
          failuresInARow = outcome.hasProgressed ? 1 : failuresInARow + 1;
          hasEverProgressed ||= outcome.hasProgressed;
          if (failuresInARow >= settings.maxConsecutiveFailures && recentSince && hasEverProgressed) {
            // It copied some and then kept failing: maybe on one damaged message. The older
            // mail is still copied (before it, as in any pass), and the folder's end says what
            // is missing. A part that never got anywhere sets the folder aside as usual.
            log('warn', `${folder.sourcePath}: its recent mail could not all be copied (${outcome.error.message}); its older mail follows.`);
            recentGaveUp.add(folder.sourcePath);
            setFolderStatus(folder.sourcePath, 'waiting', { isOlderMailNext: true, lastError: outcome.error });
            return;
          }
          if (failuresInARow >= settings.maxConsecutiveFailures) {
            setAside({ ...outcome.error, message: `Gave up after ${failuresInARow} failed attempts in a row: ${outcome.error.message}` });
            return;
          }
          const delay = backoffDelayMs(failuresInARow, backoff, outcome.error.retryAfterMs, deps.random);
          log('warn', `${folder.sourcePath}: ${outcome.error.message} Retrying in ${Math.ceil(delay / 1000)} s.`);
          setFolderStatus(folder.sourcePath, 'retrying', { retryAt: now() + delay, attempt, lastError: outcome.error });
          await sleep(delay, job.signal);
        }
      }
    }
  };

  // Largest folders first: the job's length is bounded by its biggest folder, so it starts early.
  const queue = [...folders].sort((a, b) => b.sizeBytes - a.sizeBytes);
  // Newest first: every folder's recent part, then (once the last of them has ended) the rest.
  const recentSince = settings.newestFirst ? new Date(now() - (settings.recentDays ?? DEFAULT_RECENT_DAYS) * DAY_MS) : undefined;
  const recentQueue = recentSince ? [...queue] : [];
  let recentRunning = 0;
  const takeFolder = (): { folder: JobFolder; recentSince?: Date } | undefined => {
    const recent = recentQueue.shift();
    if (recent) return { folder: recent, recentSince };
    if (recentRunning > 0) return undefined;
    const folder = queue.shift();
    return folder ? { folder } : undefined;
  };
  const isNothingLeftToStart = (): boolean => recentQueue.length === 0 && queue.length === 0;
  if (deps.openRefusedTo) {
    const opened = await deps.openRefusedTo();
    if (opened.ok) refusedTo = opened.value;
    else {
      // Sending them anyway would only meet the refusal; the person named this place for them.
      jobError = { ...opened.error, message: `The archive for messages too large for the new account could not be opened: ${opened.error.message}` };
      job.abort('fatal');
    }
  }
  setJobStatus('copying');
  emitProgress(true);
  // As many workers as connections, also for fewer folders: one left without a folder lends its
  // pair to a large folder (it connects only then).
  const workerCount = queue.length === 0 ? 0 : Math.max(1, settings.connectionsPerSide);
  await Promise.all(
    Array.from({ length: workerCount }, async (_, index) => {
      if (index > 0) await extraWorkersStart;
      const worker: { pair?: Pair } = {};
      try {
        for (;;) {
          const next = takeFolder();
          // Nothing left to start: the others need not wait any longer (they only help now).
          if (isNothingLeftToStart()) startExtraWorkers();
          if (next) {
            foldersInProgress++;
            if (next.recentSince) recentRunning++;
            try {
              await processFolder(next.folder, worker, next.recentSince);
            } finally {
              foldersInProgress--;
              if (next.recentSince) recentRunning--;
              notify();
            }
            continue;
          }
          // Nothing to start now: help a folder still being copied, until none is.
          const request = await nextLaneRequest();
          if (request) {
            await lend(request, worker);
            continue;
          }
          // The last recent part has ended: the older mail starts now.
          if (!job.signal.aborted && !isNothingLeftToStart()) continue;
          break;
        }
      } finally {
        if (worker.pair) await closePair(worker.pair);
      }
    }),
  );
  options.signal?.removeEventListener('abort', onCallerAbort);
  await refusedTo?.close();
  job.signal.removeEventListener('abort', notify);
  clearTimeout(extraWorkersTimer);

  // Folders never started (job stopped first) still get a line in the report.
  for (const folder of folders) {
    if (!reports.has(folder.sourcePath)) {
      const journal = journals.get(folder.sourcePath) ?? (await FolderJournal.open(deps.journalDirectory, folder.sourcePath, folder.destinationPath));
      const status: FolderStatus = jobError && !isQuotaPause ? 'needs-attention' : stopStatus();
      setFolderStatus(folder.sourcePath, status, jobError ? { lastError: jobError } : {});
      reports.set(folder.sourcePath, partialReport(journal, folder, status, jobError));
    }
  }
  const folderReports = folders.map((f) => reports.get(f.sourcePath) as FolderReport);
  const status: JobStatus =
    jobError && !isQuotaPause
      ? 'needs-attention'
      : isQuotaPause || job.signal.reason === PAUSE_REASON
        ? 'paused'
        : job.signal.aborted
          ? 'cancelled'
          : folderReports.every((r) => r.isComplete)
            ? 'done'
            : 'needs-attention';
  const report: JobReport = {
    jobId,
    startedAt,
    finishedAt: now(),
    status,
    folders: folderReports,
    totals: {
      expected: folderReports.reduce((n, r) => n + r.expected, 0),
      copied: folderReports.reduce((n, r) => n + r.copied, 0),
      alreadyThere: folderReports.reduce((n, r) => n + r.alreadyThere, 0),
      skipped: folderReports.reduce((n, r) => n + r.skipped, 0),
      failed: folderReports.reduce((n, r) => n + r.failed.length, 0),
      bytesCopied: tracker.snapshot().bytesDone,
    },
  };
  setJobStatus(status, jobError);
  emitProgress(true);
  emit({ type: 'report', jobId, report });
  return report;
};

/** What the journal says about a folder that did not finish its pass. */
const partialReport = (journal: FolderJournal, folder: JobFolder, status: FolderStatus, error?: MigrationError): FolderReport => {
  const state = journal.current;
  let copied = 0;
  let alreadyThere = 0;
  let copiedBytes = 0;
  let alreadyThereBytes = 0;
  for (const entry of state.done.values()) {
    if (entry.t === 'copied') {
      copied++;
      copiedBytes += entry.size;
    } else {
      alreadyThere++;
      alreadyThereBytes += entry.size;
    }
  }
  const failed: FailedMessage[] = [...state.failed.values()].map((f) => ({
    sourcePath: folder.sourcePath,
    uid: f.src,
    uidValidity: state.lastPass?.srcUidValidity ?? '',
    subject: f.subject,
    date: f.date,
    messageId: f.messageId,
    sizeBytes: f.size,
    error: f.error,
  }));
  return {
    sourcePath: folder.sourcePath,
    destinationPath: folder.destinationPath,
    status,
    expected: Math.max(folder.messages, copied + alreadyThere + failed.length),
    copied,
    alreadyThere,
    skipped: 0,
    copiedBytes,
    alreadyThereBytes,
    failed,
    isComplete: false,
    error,
  };
};
