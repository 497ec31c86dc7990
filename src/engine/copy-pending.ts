/**
 * Copies a pass's pending messages (step 5 of copy-folder.ts) on the folder's own connection
 * pair and, for a large folder, on idle pairs of the job at the same time ("lanes").
 *
 * How a lane works: it takes a chunk of the pending UIDs (ascending), reads the chunk's
 * metadata, and copies it in batches. A batch is one APPEND transaction on the destination
 * (one MULTIAPPEND where the server has it), written as the source delivers the bodies: a body
 * goes from the source's FETCH answer to the destination's socket as it is, and only what is
 * on its way is held, whatever the size of the transaction. While a batch waits for its
 * commit, the next batch's FETCH is already under way.
 *
 * Why it stays exact with several lanes on one folder:
 * - The pass line was written before any lane started (copy-folder.ts): every message a lane
 *   appends gets a UID at or above it, so "every destination message below the pass line was
 *   matched in that pass" holds however many lanes append.
 * - All lanes write into the folder's one journal. Its flushes run one after another, and a send
 *   id is taken and its line recorded in one synchronous step, so ids stay unique. The rules of
 *   folder-journal.ts hold line by line, whichever lane wrote the line: a `send` line flushed
 *   before the bytes that can commit its batch (listing every message of the batch: possibly
 *   more than are sent, never fewer), `copied` after the server's OK, `settled` once the
 *   answers are in. A send whose window could end before its last byte leaves (single APPENDs
 *   fed slowly by the source) is announced again, with the same id, before that can happen.
 * - A lane that fails stops the pass: the other lanes finish the batch they are in and take no
 *   more. The pass ends with the first error and the next pass starts from the journal, waiting
 *   for any send in doubt; nothing of an unsettled batch is sent again within a pass.
 * - A borrowed lane first checks that both folders still have the UIDVALIDITY the pass began
 *   with; otherwise the pass's UIDs would name other messages there.
 * - Destination UIDs follow the order in which the lanes' batches commit: within a batch the
 *   source's order, across lanes not.
 */
import { migrationError, unwrap, type MigrationError } from '../contract/result.js';
import { cancelled, dropVanished, failureOf, isMigrationError, readWindow, READ_LOST_KINDS } from './folder-pass.js';
import type { CopyFolderDeps, CopyFolderInput, CopyFolderOptions, PassContext, SplitThreshold } from './folder-pass.js';
import type { AppendOutcome, BodyResult, CommitPoint, FolderState, MessageMeta, OutgoingMessage } from './store.js';

/** A batch is cut at this many bytes unless the destination asks for another size. */
export const BATCH_MAX_BYTES = 8 * 1024 * 1024;
/**
 * A batch is one transaction on the destination, and on a maildir server each transaction
 * rescans the folder's directory: with 200 messages per batch that rescan made the last tenth
 * of a 100,000-message folder copy at half the rate of the first. Bodies are streamed, so the
 * count costs no memory.
 */
export const BATCH_MAX_MESSAGES = 5000;
/**
 * A folder is split over several lanes from this many pending messages or bytes on. Measured on
 * loopback with Dovecot (npm run bench -- --one-folder, split forced on and off, alternately):
 * from about 8,000 messages of the standard mix (~850 MB) on 4 connections, splitting paid off;
 * below it, and with 2 connections, the extra connections and transactions (lanes commit into
 * the same folder, and Dovecot rescans a maildir at each commit) cost about what they brought.
 * See the README's performance section.
 */
export const SPLIT_THRESHOLD: SplitThreshold = { messages: 8000, bytes: 1024 * 1024 * 1024 };
/** A split folder is cut into this many chunks per lane, so lanes that finish early take more. */
const CHUNKS_PER_LANE = 4;

/** The pending UIDs in chunks of at most `maxMessages` and (unless one message is larger) `maxBytes`. */
class ChunkQueue {
  private at = 0;

  constructor(
    private readonly uids: number[],
    private readonly sizes: ReadonlyMap<number, number>,
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  get isEmpty(): boolean {
    return this.at >= this.uids.length;
  }

  take(): number[] | undefined {
    if (this.isEmpty) return undefined;
    const start = this.at;
    let bytes = 0;
    while (this.at < this.uids.length && this.at - start < this.maxMessages) {
      const size = this.sizes.get(this.uids[this.at] as number) ?? 0;
      if (this.at > start && bytes + size > this.maxBytes) break;
      bytes += size;
      this.at++;
    }
    return this.uids.slice(start, this.at);
  }
}

/** Set when a lane failed or the pass was stopped: the other lanes take no more work. */
interface StopState {
  isStopped: boolean;
  error?: unknown;
}

interface Batch {
  metas: MessageMeta[];
  /** Each message as its own APPEND: their MULTIAPPEND was refused as a whole. */
  isEachAlone?: boolean;
  /** One message whose reading cost the connection before: never read ahead of its turn. */
  isSuspect?: boolean;
}

/** A batch whose FETCH has been sent (its first body asked for). */
interface StartedRead {
  batch: Batch;
  bodies: AsyncIterator<BodyResult>;
  first: Promise<IteratorResult<BodyResult>>;
}

/** Marks a promise as handled and returns it: awaiting it later still throws. */
const handled = <T>(promise: Promise<T>): Promise<T> => {
  promise.catch(() => undefined);
  return promise;
};

/** Copies `pass.pending`; throws what stopped it (a MigrationError, usually). */
export const copyPending = async (
  deps: CopyFolderDeps,
  input: CopyFolderInput,
  states: { src: FolderState; dst: FolderState },
  pass: PassContext,
  options: CopyFolderOptions,
): Promise<void> => {
  const threshold = options.splitThreshold ?? SPLIT_THRESHOLD;
  const pendingBytes = pass.pending.reduce((sum, uid) => sum + (pass.sizes.get(uid) ?? 0), 0);
  const pool = options.lanes;
  const isSplit = pool !== undefined && pool.size > 1 && (pass.pending.length >= threshold.messages || pendingBytes >= threshold.bytes);
  const chunkCount = isSplit ? CHUNKS_PER_LANE * (pool as { size: number }).size : 1;
  const chunks = new ChunkQueue(
    pass.pending,
    pass.sizes,
    Math.max(1, Math.min(pass.windowSize, Math.ceil(pass.pending.length / chunkCount))),
    isSplit ? Math.max(1, Math.ceil(pendingBytes / chunkCount)) : Infinity,
  );
  const stop: StopState = { isStopped: false };
  const runLane = async (lane: CopyFolderDeps, isBorrowed: boolean): Promise<{ ok: true } | { ok: false; error: MigrationError }> => {
    try {
      if (isBorrowed) await checkSameFolders(lane, input, states);
      await copyOnLane(lane, input, states.src, pass, chunks, stop, options);
      return { ok: true };
    } catch (thrown) {
      if (!stop.isStopped) {
        stop.isStopped = true;
        stop.error = thrown;
      }
      return { ok: false, error: isMigrationError(thrown) ? thrown : migrationError('internal', (thrown as Error)?.message ?? String(thrown), { retryable: true }) };
    }
  };

  const borrowed: Promise<unknown>[] = [];
  let isOpen = true;
  const withdraw = isSplit
    ? (pool as NonNullable<typeof pool>).request(async (lane) => {
        // A pair that joins after the work ran out (it was connecting) has nothing to do.
        if (!isOpen || stop.isStopped || chunks.isEmpty) return { ok: true };
        const running = runLane({ ...lane, journal: deps.journal, throttle: deps.throttle }, true);
        borrowed.push(running);
        return running;
      })
    : undefined;
  if (isSplit) options.onLog?.('info', `${input.sourcePath}: ${pass.pending.length} messages to copy, on up to ${(pool as { size: number }).size} connections at once.`);
  try {
    await runLane(deps, false);
  } finally {
    isOpen = false;
    withdraw?.();
    await Promise.all(borrowed);
  }
  if (stop.isStopped) throw stop.error;
};

/** A borrowed lane's own view of both folders must be the pass's: same UIDVALIDITY. */
const checkSameFolders = async (lane: CopyFolderDeps, input: CopyFolderInput, states: { src: FolderState; dst: FolderState }): Promise<void> => {
  const src = unwrap(await lane.source.openFolder(input.sourcePath));
  const dst = unwrap(await lane.destination.folderState(input.destinationPath));
  if (src.uidValidity !== states.src.uidValidity || dst.uidValidity !== states.dst.uidValidity) {
    throw migrationError('uidvalidity-changed', `${input.sourcePath}: a folder was rebuilt on the server while it was being copied; it is looked at again from the start.`, { retryable: true });
  }
};

/**
 * The batches of one lane, in order, reading metadata one chunk at a time. Messages whose
 * reading cost the connection before are not batched: they are added to `suspects` at the end,
 * those lost in a batch before those lost even alone (see copyOnLane).
 */
async function* batchesOf(
  lane: CopyFolderDeps,
  input: CopyFolderInput,
  pass: PassContext,
  chunks: ChunkQueue,
  stop: StopState,
  options: CopyFolderOptions,
  suspects: MessageMeta[],
): AsyncGenerator<MessageMeta[]> {
  const { journal } = lane;
  // The destination sizes batches to its link as measured so far (asked anew at every cut).
  const maxBytes = (): number => Math.min(options.batchMaxBytes ?? Infinity, lane.destination.preferredBatchBytes?.() ?? BATCH_MAX_BYTES);
  const maxMessages = options.batchMaxMessages ?? BATCH_MAX_MESSAGES;
  const lostRead = (m: MessageMeta) => {
    const failed = journal.current.failed.get(m.uid);
    return failed && READ_LOST_KINDS.has(failed.error.kind) ? failed : undefined;
  };
  const lostInBatch: MessageMeta[] = [];
  const lostAlone: MessageMeta[] = [];
  let batch: MessageMeta[] = [];
  let batchBytes = 0;
  for (let chunk = chunks.take(); chunk; chunk = stop.isStopped ? undefined : chunks.take()) {
    for (const meta of await readWindow(lane.source, input, pass, chunk)) {
      const lost = lostRead(meta);
      if (lost) {
        (lost.isReadAlone ? lostAlone : lostInBatch).push(meta);
        continue;
      }
      if (batch.length > 0 && (batchBytes + meta.sizeBytes > maxBytes() || batch.length >= maxMessages)) {
        yield batch;
        batch = [];
        batchBytes = 0;
      }
      batch.push(meta);
      batchBytes += meta.sizeBytes;
    }
  }
  if (batch.length > 0) yield batch;
  suspects.push(...lostInBatch, ...lostAlone);
}

/**
 * Copies batches on one lane until there are no more (or the pass stops). Some servers drop
 * the connection every time they are asked for a damaged message: messages of a batch whose
 * reading cost the connection are read again one by one, after the rest, and one that cost it
 * even alone goes very last, so a damaged message cannot hold up the others.
 */
const copyOnLane = async (lane: CopyFolderDeps, input: CopyFolderInput, srcState: FolderState, pass: PassContext, chunks: ChunkQueue, stop: StopState, options: CopyFolderOptions): Promise<void> => {
  const { source, destination, journal } = lane;
  const { counters } = pass;
  /** Messages whose reading cost the connection before: last, one at a time, never read ahead. */
  const suspects: MessageMeta[] = [];
  const batches = batchesOf(lane, input, pass, chunks, stop, options, suspects);
  let isBatchingDone = false;
  /** Batches whose MULTIAPPEND was refused as a whole: sent again message by message. */
  const alone: MessageMeta[][] = [];

  /** The lane's next batch: retries alone first, then the chunks' batches, then the suspects. */
  const nextBatch = async (): Promise<Batch | undefined> => {
    if (stop.isStopped || options.signal?.aborted) return undefined;
    const retry = alone.shift();
    if (retry) return { metas: retry, isEachAlone: true };
    if (!isBatchingDone) {
      const next = await batches.next();
      if (!next.done) return { metas: next.value };
      isBatchingDone = true;
    }
    const suspect = suspects.shift();
    return suspect ? { metas: [suspect], isSuspect: true } : undefined;
  };
  const begin = (batch: Batch): StartedRead => {
    const bodies = source.readBodies(input.sourcePath, batch.metas.map((m) => m.uid))[Symbol.asyncIterator]();
    return { batch, bodies, first: handled(bodies.next()) };
  };
  /** The next batch, its read started unless it is a suspect (which waits for its turn). */
  const prepare = async (): Promise<StartedRead | Batch | undefined> => {
    const batch = await nextBatch();
    return !batch || batch.isSuspect ? batch : begin(batch);
  };
  /** The next batch, begun while the previous one commits (the source is free by then). */
  let upcoming: Promise<StartedRead | Batch | undefined> | undefined = handled(prepare());

  const fail = (meta: MessageMeta, error: MigrationError): void => {
    journal.record({ t: 'failed', src: meta.uid, error, subject: meta.subject, date: meta.date, messageId: meta.messageId, size: meta.sizeBytes });
    options.onFailure?.(failureOf(input.sourcePath, srcState.uidValidity, meta, meta.uid, error));
  };

  const copyBatch = async (read: StartedRead): Promise<void> => {
    const { batch } = read;
    const byUid = new Map(batch.metas.map((m) => [m.uid, m]));
    /** Messages handed to the destination, in order: its results are in the same order. */
    const handed: MessageMeta[] = [];
    const arrived = new Set<number>();
    const state: { isExhausted: boolean; lost?: MigrationError; error?: unknown } = { isExhausted: false };

    async function* outgoing(): AsyncGenerator<OutgoingMessage> {
      try {
        for (let next = await read.first; !next.done; next = await read.bodies.next()) {
          const body = next.value;
          arrived.add(body.uid);
          const meta = byUid.get(body.uid);
          if (!meta) continue;
          if (!body.ok && body.error.kind === 'not-found') {
            // Expunged on the source while we worked: nothing to copy, nothing to report.
            dropVanished(pass, meta.uid);
            continue;
          }
          if (!body.ok) {
            fail(meta, body.error);
            continue;
          }
          if (body.body.length !== meta.sizeBytes) {
            fail(meta, migrationError('rejected', `The source server sent ${body.body.length} bytes of a message it says has ${meta.sizeBytes}; the message is damaged on the source.`));
            continue;
          }
          // Stopping: the transaction ends with what it has (the rest stays pending).
          if (stop.isStopped || options.signal?.aborted) return;
          await lane.throttle?.(body.body.length, options.signal);
          handed.push(meta);
          yield { body: body.body, flags: meta.flags, internalDate: meta.internalDate };
        }
        state.isExhausted = true;
        // The source is free: the next batch's FETCH goes out while this one commits.
        upcoming = handled(prepare());
      } catch (thrown) {
        // After a lost connection only what arrived is handled (then the pass stops); the rest
        // is not "vanished", it was simply not read.
        if (isMigrationError(thrown) && READ_LOST_KINDS.has(thrown.kind)) state.lost = thrown;
        else state.error = thrown;
      }
    }

    const stream = outgoing();
    let sendId: number | undefined;
    const beforeCommit = async ({ settleMs }: CommitPoint): Promise<void> => {
      // Taken and recorded in one step: no other lane can take the same id in between. A second
      // announcement of the same batch replaces the first one's window.
      sendId ??= journal.current.lastSendId + 1;
      journal.record({ t: 'send', id: sendId, src: batch.metas.map((m) => m.uid), at: Date.now(), settleMs });
      await journal.flush();
    };
    let outcome: AppendOutcome;
    try {
      outcome = await destination.append(input.destinationPath, stream, {
        beforeCommit,
        isEachAlone: batch.isEachAlone,
        plannedBytes: batch.metas.reduce((sum, m) => sum + m.sizeBytes, 0),
      });
    } finally {
      // A destination that stopped early leaves the stream, and the source's FETCH, unfinished:
      // the source reads the rest of that FETCH and drops it.
      await stream.return(undefined).catch(() => undefined);
      if (!state.isExhausted) void read.bodies.return?.(undefined)?.catch(() => undefined);
    }

    const retryAlone = new Set(outcome.retryAlone ?? []);
    outcome.results.forEach((result, at) => {
      const meta = handed[at];
      if (!meta || retryAlone.has(at)) return;
      if (result.ok) {
        journal.record({ t: 'copied', src: meta.uid, dst: result.value.uid, fp: meta.fingerprint, size: meta.sizeBytes });
        counters.messagesDone++;
        counters.bytesDone += meta.sizeBytes;
        counters.bytesSent += meta.sizeBytes;
      } else {
        fail(meta, result.error);
      }
    });
    if (retryAlone.size > 0) alone.push(handed.filter((_, at) => retryAlone.has(at)));
    if (state.lost && !outcome.stopped) {
      // Every message of the batch that did not arrive is suspect (which one the source was
      // sending cannot be told in general). Journaled only, not announced as failures: the next
      // pass tries them again, and the report lists one only if that never succeeds.
      const isReadAlone = batch.metas.length === 1;
      const error = {
        ...state.lost,
        message: isReadAlone
          ? `The source server dropped the connection each time it was asked for this message; it may be damaged on the source. (${state.lost.message})`
          : `The connection to the source was lost while this message was being read; it is read again on its own. (${state.lost.message})`,
      };
      for (const m of batch.metas) {
        if (arrived.has(m.uid)) continue;
        journal.record({ t: 'failed', src: m.uid, error, subject: m.subject, date: m.date, messageId: m.messageId, size: m.sizeBytes, isReadAlone });
      }
    }
    // In doubt, the send stays open: the next pass waits for it before sending any of it again,
    // for as long as the store now says (it knows who ended the connection).
    if (sendId !== undefined && !outcome.isInDoubt) journal.record({ t: 'settled', ids: [sendId], at: Date.now() });
    else if (sendId !== undefined && outcome.isInDoubt && outcome.settleMs !== undefined) {
      const send = journal.current.openSends.get(sendId);
      if (send) journal.record({ ...send, at: Date.now(), settleMs: outcome.settleMs });
    }
    await journal.flush();
    options.onProgress?.({ ...counters });
    if (outcome.stopped) throw outcome.stopped;
    if (state.lost) throw state.lost;
    if (state.error) throw state.error;
  };

  try {
    for (;;) {
      let next = await upcoming;
      upcoming = undefined;
      // A suspect read ahead waits behind what this batch left to send alone.
      if (next && !('bodies' in next) && alone.length > 0) {
        suspects.unshift(...next.metas);
        next = undefined;
      }
      // What the last batch left to send alone was queued after the read-ahead found nothing.
      next ??= await prepare();
      if (!next) break;
      await copyBatch('bodies' in next ? next : begin(next));
      if (options.signal?.aborted) throw cancelled();
    }
  } finally {
    // A read started ahead and never used (the pass stopped): end it, its FETCH is drained.
    const unused = upcoming;
    if (unused) void unused.then((next) => (next && 'bodies' in next ? next.bodies.return?.(undefined) : undefined), () => undefined).catch(() => undefined);
    void batches.return(undefined).catch(() => undefined);
  }
};
