import type { MigrationError } from './result.js';

/** The abort reason that means "pause" rather than "cancel" (an AbortSignal's reason). */
export const PAUSE_REASON = 'pause';

/** A job's lifecycle. */
export type JobStatus = 'queued' | 'scanning' | 'copying' | 'verifying' | 'done' | 'needs-attention' | 'paused' | 'cancelled';

/** A folder's lifecycle within a job. */
export type FolderStatus =
  | 'waiting'
  | 'scanning'
  | 'copying'
  | 'retrying'
  /** Waiting until an earlier upload that may still be arriving at the server cannot land any more. */
  | 'settling'
  | 'verifying'
  | 'verified'
  | 'incomplete'
  | 'needs-attention'
  | 'paused'
  | 'cancelled';

/**
 * The job statuses by what they mean to whoever watches a job. Every front end (the app's main
 * process and renderer, the job module, the CLI) asks these sets, so the meanings are written once.
 */
/** A run is under way: the computer stays awake, progress is shown. */
export const ACTIVE_JOB_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['queued', 'scanning', 'copying', 'verifying']);
/** A run has ended (an engine run reports one of these last); `paused` ends a run but not the job. */
export const RUN_END_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['done', 'needs-attention', 'paused', 'cancelled']);
/** The job is over until someone starts it anew: its report is final. */
export const FINISHED_JOB_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['done', 'needs-attention', 'cancelled']);
/** The job can go on where it stopped (a run was under way when the app closed, or it was paused). */
export const RESUMABLE_JOB_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>([...ACTIVE_JOB_STATUSES, 'paused']);

/** A folder ended its pass without being verified: a person may look and retry it. */
export const FOLDER_PROBLEM_STATUSES: ReadonlySet<FolderStatus> = new Set<FolderStatus>(['incomplete', 'needs-attention']);
/** A folder waits for a moment it knows (its next attempt, or until an earlier upload can no longer land). */
export const FOLDER_WAITING_STATUSES: ReadonlySet<FolderStatus> = new Set<FolderStatus>(['retrying', 'settling']);

/** Absolute counters: a lost or repeated event harms nothing. */
export interface Counters {
  messagesTotal: number;
  messagesDone: number;
  bytesTotal: number;
  bytesDone: number;
}

export interface FolderProgress extends Counters {
  sourcePath: string;
  destinationPath: string;
  status: FolderStatus;
  /** When status is `retrying`: epoch ms of the next attempt. */
  retryAt?: number;
  /** When status is `settling`: epoch ms until which an earlier upload may still land. */
  settleUntil?: number;
  /** When status is `waiting` (newest first): its recent mail is in, its older mail follows. */
  isOlderMailNext?: boolean;
  attempt?: number;
  lastError?: MigrationError;
}

export interface JobProgress extends Counters {
  status: JobStatus;
  /** Bytes per second over a recent window. */
  bytesPerSecond: number;
  /** Seconds left by bytes, or null when unknown. */
  etaSeconds: number | null;
  startedAt: number;
  folders: FolderProgress[];
}

/** A message that could not be moved, with the reason. */
export interface FailedMessage {
  sourcePath: string;
  uid: number;
  uidValidity: string;
  subject?: string;
  date?: string;
  messageId?: string;
  sizeBytes?: number;
  error: MigrationError;
}

/** The per-folder result after a run, from verification. */
export interface FolderReport {
  sourcePath: string;
  destinationPath: string;
  status: FolderStatus;
  /** Messages on the source at the time of the run, not flagged \Deleted. */
  expected: number;
  /** Copied by this job (this run or an earlier one). */
  copied: number;
  /** Found on the destination already (not sent again). */
  alreadyThere: number;
  /** Deliberately left out (e.g. flagged \Deleted on the source). */
  skipped: number;
  /** Bytes of the `copied` messages (as the source gave them), where the journal knows them. */
  copiedBytes?: number;
  /** Bytes of the `alreadyThere` messages, where the journal knows them. */
  alreadyThereBytes?: number;
  failed: FailedMessage[];
  /** True when verification found every expected message on the destination, each once. */
  isComplete: boolean;
  /**
   * Copies of this folder's messages on the destination beyond what the source holds, among
   * the messages that arrived after the job first saw the folder (mail that was there before
   * is never counted). Mailferry never deletes them; the report says how to.
   */
  surplus?: number;
  /** With --sync-flags: copies that gained flags or keywords their source message gained. */
  flagsUpdated?: number;
  /** Too large for the destination, saved to the archive the person named instead (count as done). */
  archived?: number;
  error?: MigrationError;
}

export interface JobReport {
  jobId: string;
  startedAt: number;
  finishedAt: number;
  status: JobStatus;
  folders: FolderReport[];
  totals: { expected: number; copied: number; alreadyThere: number; skipped: number; failed: number; bytesCopied: number };
}

/** Everything a running job tells its observers. */
export type JobEvent =
  | { type: 'job-status'; jobId: string; status: JobStatus; error?: MigrationError }
  | { type: 'progress'; jobId: string; progress: JobProgress }
  | { type: 'folder-status'; jobId: string; folder: FolderProgress }
  | { type: 'message-failed'; jobId: string; failure: FailedMessage }
  | { type: 'log'; jobId: string; level: 'info' | 'warn' | 'error'; message: string; at: number }
  | { type: 'report'; jobId: string; report: JobReport };

/** Tunables of a job. */
export interface JobSettings {
  /** Connections per side; folders run in parallel up to this. Default 2. */
  connectionsPerSide: number;
  /** Optional cap on bytes per second sent to the destination (0 = none). */
  maxBytesPerSecond: number;
  /** Consecutive failures after which a folder is set aside as needs-attention. Default 5. */
  maxConsecutiveFailures: number;
  /**
   * Read state that follows: on every pass, add to Mailferry's own copies the flags and
   * keywords their source messages gained since (never a removal; see sync-flags.ts).
   */
  syncFlags?: boolean;
  /**
   * How long to wait before trying again when a provider's limit was reached without saying
   * for how long (Gmail's daily bandwidth). Default an hour.
   */
  providerLimitRetryMs?: number;
  /**
   * Newest mail first: in every folder, the messages of the last `recentDays` days (by
   * INTERNALDATE) are copied before any older one, and the recent parts of all folders before
   * the rest, so the new account is usable on the first day.
   */
  newestFirst?: boolean;
  /** With `newestFirst`: what counts as recent. Default 30. */
  recentDays?: number;
}

/** Newest first: what counts as recent when `recentDays` is not given. */
export const DEFAULT_RECENT_DAYS = 30;
export const DEFAULT_JOB_SETTINGS: JobSettings = { connectionsPerSide: 2, maxBytesPerSecond: 0, maxConsecutiveFailures: 5 };
