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
  failed: FailedMessage[];
  /** True when verification found every expected message on the destination, each once. */
  isComplete: boolean;
  /**
   * Copies of this folder's messages on the destination beyond what the source holds, among
   * the messages that arrived after the job first saw the folder (mail that was there before
   * is never counted). Mailferry never deletes them; the report says how to.
   */
  surplus?: number;
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
}

export const DEFAULT_JOB_SETTINGS: JobSettings = { connectionsPerSide: 2, maxBytesPerSecond: 0, maxConsecutiveFailures: 5 };
