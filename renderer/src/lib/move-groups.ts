/**
 * The Move screen sorted by what needs a person: folders that need attention first (with their
 * reason and what can be done), then the ones running, then the waiting ones; finished folders
 * fold into one line. Also what a retry can and cannot do for an error, which the Move and Report
 * screens both say.
 */
import type { AppFolderProgress } from '../../../src/contract/ipc.js';
import type { FolderStatus, JobStatus } from '../../../src/contract/job.js';
import type { MigrationError } from '../../../src/contract/result.js';

export type MoveGroup = 'attention' | 'running' | 'waiting' | 'finished';

const GROUP_OF: Record<FolderStatus, MoveGroup> = {
  'needs-attention': 'attention',
  incomplete: 'attention',
  scanning: 'running',
  copying: 'running',
  retrying: 'running',
  settling: 'running',
  verifying: 'running',
  waiting: 'waiting',
  paused: 'waiting',
  verified: 'finished',
  cancelled: 'finished',
};

/** The group of a folder row. A verified folder with extra copies on the new account still needs a look. */
export const groupOf = (folder: Pick<AppFolderProgress, 'status' | 'lastError'>): MoveGroup =>
  folder.lastError?.kind === 'surplus' ? 'attention' : GROUP_OF[folder.status];

export type GroupedFolders = Record<MoveGroup, AppFolderProgress[]>;

/** Rows by group, each group in the order the rows came (the engine's own order). */
export function groupFolders(rows: readonly AppFolderProgress[]): GroupedFolders {
  const groups: GroupedFolders = { attention: [], running: [], waiting: [], finished: [] };
  for (const row of rows) groups[groupOf(row)].push(row);
  return groups;
}

/**
 * What a row shows while the whole job is paused: anything that was under way is paused too
 * (its countdown would be a lie), whatever its last event said.
 */
export function shownStatus(status: FolderStatus, jobStatus: JobStatus | null): FolderStatus {
  if (jobStatus !== 'paused') return status;
  return GROUP_OF[status] === 'running' || status === 'waiting' ? 'paused' : status;
}

/** Whether a retry can help, and if not, why not, in plain words. */
export type RetryAdvice = { canRetry: true; hint?: string } | { canRetry: false; reason: string };

/** A retry sends the same thing again: it helps with what passes (a dropped line, a busy server), not with a refusal. */
export function retryAdvice(error: MigrationError | undefined): RetryAdvice {
  if (!error) return { canRetry: true };
  if (error.needsSignIn) return { canRetry: false, reason: 'Sign in again first; the move then goes on by itself.' };
  switch (error.kind) {
    case 'surplus':
      return { canRetry: false, reason: 'A retry cannot remove extra copies: Mailferry never deletes anything. Delete them in your mail program if you want.' };
    case 'rejected':
      // An ambiguous refusal ([LIMIT] can mean "not now") is marked retryable by the engine.
      if (error.retryable) return { canRetry: true, hint: 'The server may take it at a quieter time.' };
      return { canRetry: false, reason: 'A retry cannot help: the server refuses this as it is (for example, a message too large for it). Save it as a file from the report instead.' };
    case 'quota':
      return { canRetry: true, hint: 'Make room first (delete or empty folders there), then retry.' };
    case 'auth':
    case 'tls':
      return { canRetry: true, hint: 'Fix the account on the Accounts screen first, then retry.' };
    case 'bad-input':
      return { canRetry: true, hint: 'Fix what the message says first, then retry.' };
    default:
      return { canRetry: true };
  }
}
