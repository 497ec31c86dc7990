/**
 * A batch of mailboxes: up to `parallel` at once, in file order, each through runMailbox over
 * its own state folder, all under one bandwidth cap. `--shard I/N` picks the rows whose position
 * modulo N is I−1, so any scheduler (GNU parallel, a Kubernetes Indexed Job) can split a batch
 * over processes and machines that share one CSV (and may share one state folder).
 *
 * Invariants:
 * - A mailbox's failure ends only that mailbox; the batch goes on with the others.
 * - Stopping the batch (the signal) stops every running mailbox as a pause (its journal keeps
 *   everything done) and starts no new one; those report `not-run`.
 * - A re-run resumes every unfinished mailbox and passes over finished ones quickly: each one's
 *   journal knows its verified folders.
 */
import type { MailboxSummary } from '../contract/batch.js';
import { createBandwidthLimiter } from '../engine/bandwidth-limiter.js';
import type { BatchRow } from './batch-file.js';
import type { RowCredentials } from './batch-logins.js';
import { runMailbox, type MailboxContext, type MailboxEvent } from './run-mailbox.js';

/** A part of a batch: 1-based `index` of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** `2/3` → { index: 2, count: 3 }; undefined when it is not a shard of that form. */
export const parseShard = (text: string): Shard | undefined => {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return count >= 1 && index >= 1 && index <= count ? { index, count } : undefined;
};

/** The rows of one shard: those whose position (data row − 1) modulo `count` is `index` − 1. */
export const rowsOfShard = <R extends { row: number }>(rows: readonly R[], shard: Shard | undefined): R[] =>
  shard ? rows.filter((r) => (r.row - 1) % shard.count === shard.index - 1) : [...rows];

/** How a batch runs: a mailbox's context plus how many at once, the batch's cap and its observer. */
export interface BatchSettings extends Omit<MailboxContext, 'onEvent' | 'throttle'> {
  /** Mailboxes at once. */
  parallel: number;
  /** A cap on bytes per second for the whole batch (0 = none). */
  maxBytesPerSecond: number;
  /** Every mailbox event, with the row it belongs to. */
  onEvent?(row: BatchRow, event: MailboxEvent): void;
}

/** Runs the rows (already chosen: a shard, or all); resolves to one report line per row, in row order. */
export const runBatch = async (rows: BatchRow[], credentials: ReadonlyMap<string, RowCredentials>, settings: BatchSettings): Promise<MailboxSummary[]> => {
  const { parallel, maxBytesPerSecond, onEvent, ...context } = settings;
  const throttle = maxBytesPerSecond > 0 ? createBandwidthLimiter(maxBytesPerSecond) : undefined;
  const results = new Map<string, MailboxSummary>();
  const queue = [...rows];
  const worker = async (): Promise<void> => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      const current = row;
      const rowCredentials = credentials.get(current.id);
      if (!rowCredentials) throw new Error(`no credentials for row ${current.row}`);
      results.set(current.id, await runMailbox(current, rowCredentials, { ...context, ...(throttle ? { throttle } : {}), onEvent: (event) => onEvent?.(current, event) }));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, rows.length)) }, worker));
  return rows.map((r) => results.get(r.id) as MailboxSummary);
};
