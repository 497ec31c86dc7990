/**
 * What one pass over a folder shares between its steps (copy-folder.ts runs the pass,
 * copy-pending.ts copies its pending messages on one or more connection pairs,
 * verify-folder.ts checks the result): the copier's inputs and options, the pass's counters and
 * pending UIDs, and reading one window of source metadata.
 */
import type { FailedMessage } from '../contract/job.js';
import type { SpecialUse } from '../contract/plan.js';
import { migrationError, unwrap, type MigrationError } from '../contract/result.js';
import type { FolderJournal } from './folder-journal.js';
import type { DestinationStore, MessageFilter, MessageMeta, SourceStore } from './store.js';

/** A source and a destination connection, used together. */
export interface Lane {
  source: SourceStore;
  destination: DestinationStore;
}

export interface CopyFolderDeps extends Lane {
  journal: FolderJournal;
  /** Waits until `bytes` may be sent (bandwidth cap); resolves at once when there is none. */
  throttle?: (bytes: number, signal?: AbortSignal) => Promise<void>;
  /** Where messages too large for the destination go instead (an archive), if anywhere. */
  refusedTo?: DestinationStore;
}

export interface CopyFolderInput {
  sourcePath: string;
  destinationPath: string;
  /** Copy only the messages this keeps (see MessageFilter). */
  messageFilter?: MessageFilter;
  /** The largest message the destination takes (pre-flight): larger ones are never sent. */
  maxMessageBytes?: number;
  /** Create the destination folder as this special use, where the server can be told (RFC 6154). */
  specialUse?: SpecialUse;
  /**
   * Newest first: this pass copies only the messages that arrived on or after this day
   * (INTERNALDATE) and skips verification; a later pass without it copies the rest and verifies.
   * Matching and the pass line cover every message, so the later pass starts exactly as after
   * any pass that stopped early.
   */
  recentSince?: Date;
  /** The destination folder was created (or found) by this job already: not asked again. */
  isFolderReady?: boolean;
}

/** Absolute counters for one folder. */
export interface FolderCounters {
  messagesTotal: number;
  messagesDone: number;
  bytesTotal: number;
  bytesDone: number;
  /** Bytes actually sent in this pass (for the transfer rate). */
  bytesSent: number;
}

/**
 * Connection pairs a folder may borrow (the job's idle ones) to copy its pending messages on
 * several lanes at once. `request` posts the folder's need; each pair that joins calls `help`
 * with itself, and `help` resolves when that lane is done (its result says whether the pair is
 * still fit to use). The returned function withdraws the request: no pair joins after it.
 */
export interface LanePool {
  /** The most lanes one folder may use, its own included. */
  readonly size: number;
  request(help: (lane: Lane) => Promise<{ ok: true } | { ok: false; error: MigrationError }>): () => void;
}

/** When a folder's pending messages are split over several lanes. */
export interface SplitThreshold {
  /** Split when at least this many messages are pending... */
  messages: number;
  /** ...or at least this many bytes. */
  bytes: number;
}

export interface CopyFolderOptions {
  signal?: AbortSignal;
  onPhase?: (phase: 'scanning' | 'copying' | 'verifying') => void;
  /** The pass waits until `until` (epoch ms) for an earlier batch that may still land. */
  onSettling?: (until: number) => void;
  onProgress?: (counters: FolderCounters) => void;
  onFailure?: (failure: FailedMessage) => void;
  onLog?: (level: 'info' | 'warn', message: string) => void;
  batchMaxBytes?: number;
  batchMaxMessages?: number;
  windowMessages?: number;
  /** Idle connection pairs of the job, for splitting a large folder (see copy-pending.ts). */
  lanes?: LanePool;
  /** Default SPLIT_THRESHOLD (copy-pending.ts). */
  splitThreshold?: SplitThreshold;
  /** Add to our copies the flags their source messages gained (sync-flags.ts). */
  syncFlags?: boolean;
}

/** What one pass shares between reading metadata, copying and counting. */
export interface PassContext {
  /** Source UIDs still to match or copy, ascending. */
  pending: number[];
  /** Sizes from the start of the pass (what the totals were built from). */
  sizes: Map<number, number>;
  counters: FolderCounters;
  /** Expunged on the source while we worked. */
  vanished: Set<number>;
  /** Flagged \Deleted on the source (after the SEARCH, too). */
  deleted: Set<number>;
  windowSize: number;
}

export const cancelled = (): MigrationError => migrationError('cancelled', 'Stopped before the folder was finished; it will continue from here next time.');

/** Read failures that cost the connection: the message being sent may be the cause. */
export const READ_LOST_KINDS = new Set(['network', 'timeout']);

export const isMigrationError = (thrown: unknown): thrown is MigrationError => !!thrown && typeof thrown === 'object' && 'kind' in thrown;

export const failureOf = (sourcePath: string, uidValidity: string, meta: MessageMeta | undefined, uid: number, error: MigrationError): FailedMessage => ({
  sourcePath,
  uid,
  uidValidity,
  subject: meta?.subject,
  date: meta?.date,
  messageId: meta?.messageId,
  sizeBytes: meta?.sizeBytes,
  error,
});

const isFlaggedDeleted = (meta: MessageMeta): boolean => meta.flags.some((f) => f.toLowerCase() === '\\deleted');

/** A message that disappeared from the source: out of the totals, not reported. */
export const dropVanished = (pass: PassContext, uid: number): void => {
  if (pass.vanished.has(uid)) return;
  pass.vanished.add(uid);
  pass.counters.messagesTotal--;
  pass.counters.bytesTotal -= pass.sizes.get(uid) ?? 0;
};

/**
 * Metadata of one window of source UIDs, ascending. Messages flagged \Deleted since the SEARCH
 * and messages expunged since are taken out of the pass and its totals here.
 */
export const readWindow = async (source: SourceStore, input: CopyFolderInput, pass: PassContext, window: number[]): Promise<MessageMeta[]> => {
  const { counters, sizes } = pass;
  const metas = unwrap(await source.listMessages(input.sourcePath, window)).sort((a, b) => a.uid - b.uid);
  const usable: MessageMeta[] = [];
  const listed = new Set<number>();
  for (const meta of metas) {
    listed.add(meta.uid);
    const counted = sizes.get(meta.uid) ?? 0;
    if (isFlaggedDeleted(meta)) {
      // Flagged \Deleted after the SEARCH: still one the owner threw away, so skipped too.
      if (!pass.deleted.has(meta.uid)) {
        pass.deleted.add(meta.uid);
        counters.messagesTotal--;
        counters.bytesTotal -= counted;
      }
      continue;
    }
    if (meta.sizeBytes !== counted) {
      counters.bytesTotal += meta.sizeBytes - counted;
      sizes.set(meta.uid, meta.sizeBytes);
    }
    usable.push(meta);
  }
  // Expunged between the SEARCH and this FETCH: nothing to copy, nothing to report.
  for (const uid of window) if (!listed.has(uid)) dropVanished(pass, uid);
  return usable;
};
