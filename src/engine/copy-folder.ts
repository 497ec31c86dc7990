/**
 * Copies one folder so that the destination ends with exactly the source's messages.
 *
 * How a pass works, and why it is safe to interrupt at any point:
 * 0. If an earlier APPEND batch is still in doubt (its connection was lost, or the process
 *    killed, after the bytes that commit it left: see folder-journal.ts), wait until it cannot
 *    land any more. Nothing of the folder is sent again before that, so a late commit on the
 *    server is found by this pass's scan instead of doubling the mail.
 * 1. EXAMINE the source, read the journal. If either side's UIDVALIDITY changed, the journal's
 *    UIDs mean nothing any more: it is reset and messages are re-identified by fingerprint.
 * 2. If the journal says this folder was verified complete and neither side changed since
 *    (UIDVALIDITY, UIDNEXT, count, HIGHESTMODSEQ), stop: a re-run reads no messages.
 * 3. List the source's UIDs and the sizes of those not journaled yet (progress by bytes from the
 *    start), and scan the destination from the last pass's UIDNEXT (everything, the first time)
 *    for fingerprints.
 * 4. If the scan found unclaimed messages, match the unjournaled source messages against them
 *    by fingerprint, as a multiset, one window of WINDOW_MESSAGES source messages at a time. A
 *    match is journaled as `present` (already there, from an earlier crashed run or from
 *    elsewhere). Only then is the pass line written.
 * 5. Walk the rest in windows again and APPEND them in batches (BODY.PEEK on the source, flags
 *    and INTERNALDATE kept), sized by the destination to a few seconds of its link. Before the
 *    bytes that can commit a batch leave, a `send` line is flushed; each message is journaled
 *    as `copied` only after the server's OK, flushed before progress is reported, and the send
 *    `settled` once its answers are in. A message the destination refuses is journaled as `failed`
 *    with the server's words and the folder goes on; a lost connection, throttling or a full
 *    quota stops the pass with an error value, and the next pass starts again at step 1.
 * 6. Verify: every expected source message must have its own match on the destination, and the
 *    destination may hold no more copies of them than the source (see verify-folder.ts).
 *
 * Memory: only one window's metadata and two batches' bodies are held at a time; what grows
 * with the folder is a UID, a size and a journal entry per message (and a fingerprint per
 * destination message when the destination must be scanned).
 */
import type { FailedMessage, FolderReport } from '../contract/job.js';
import type { SpecialUse } from '../contract/plan.js';
import { err, migrationError, ok, unwrap, type MigrationError, type Result } from '../contract/result.js';
import { sleep } from './backoff.js';
import { setAsideOversized } from './set-aside-oversized.js';
import { syncFolderFlags } from './sync-flags.js';
import type { FolderJournal } from './folder-journal.js';
import { reportFromJournal, scanDestination, verifyFolder } from './verify-folder.js';
import { FingerprintPool } from './fingerprint-pool.js';
import type { AppendOutcome, BodyResult, CommitPoint, DestinationStore, FolderState, MessageFilter, MessageMeta, SourceStore } from './store.js';

/** A batch is cut at this many bytes or messages, whichever comes first. */
export const BATCH_MAX_BYTES = 8 * 1024 * 1024;
/**
 * 1,000: a batch is one MULTIAPPEND, one transaction on the destination, and on a maildir
 * server each transaction rescans the folder's directory; with 200 per batch that rescan made
 * the last tenth of a 100,000-message folder copy at half the rate of the first.
 */
export const BATCH_MAX_MESSAGES = 1000;
/** Source metadata is read (and matched) this many messages at a time. */
export const WINDOW_MESSAGES = 5000;

export interface CopyFolderDeps {
  source: SourceStore;
  destination: DestinationStore;
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
  /** Add to our copies the flags their source messages gained (sync-flags.ts). */
  syncFlags?: boolean;
}

const sameState = (a: FolderState, b: FolderState): boolean =>
  a.uidValidity === b.uidValidity && a.uidNext === b.uidNext && a.messages === b.messages && (a.highestModseq ?? '') === (b.highestModseq ?? '');

const cancelled = (): MigrationError => migrationError('cancelled', 'Stopped before the folder was finished; it will continue from here next time.');

/** Read failures that cost the connection: the message being sent may be the cause. */
const READ_LOST_KINDS = new Set(['network', 'timeout']);

const failureOf = (sourcePath: string, uidValidity: string, meta: MessageMeta | undefined, uid: number, error: MigrationError): FailedMessage => ({
  sourcePath,
  uid,
  uidValidity,
  subject: meta?.subject,
  date: meta?.date,
  messageId: meta?.messageId,
  sizeBytes: meta?.sizeBytes,
  error,
});

/** Runs one pass over a folder. Errors that stop the pass come back as values. */
export const copyFolder = async (deps: CopyFolderDeps, input: CopyFolderInput, options: CopyFolderOptions = {}): Promise<Result<FolderReport>> => {
  try {
    return ok(await runPass(deps, input, options));
  } catch (thrown) {
    if (thrown && typeof thrown === 'object' && 'kind' in thrown) return err(thrown as MigrationError);
    return err(migrationError('internal', `Unexpected failure while copying ${input.sourcePath}: ${(thrown as Error)?.message ?? String(thrown)}`, { retryable: true }));
  } finally {
    await deps.journal.flush().catch(() => undefined);
  }
};

const runPass = async (deps: CopyFolderDeps, input: CopyFolderInput, options: CopyFolderOptions): Promise<FolderReport> => {
  const { source, destination, journal } = deps;
  const { sourcePath, destinationPath } = input;
  const signal = options.signal;
  const checkCancelled = (): void => {
    if (signal?.aborted) throw cancelled();
  };

  options.onPhase?.('scanning');
  const srcState = unwrap(await source.openFolder(sourcePath));
  unwrap(await destination.ensureFolder(destinationPath, input.specialUse ? { specialUse: input.specialUse } : undefined));
  const settledIds = await waitForOpenSends(journal, options);
  let dstState = unwrap(await destination.folderState(destinationPath));

  const before = journal.current;
  if (before.lastPass && (before.lastPass.srcUidValidity !== srcState.uidValidity || before.lastPass.dstUidValidity !== dstState.uidValidity)) {
    const side = before.lastPass.srcUidValidity !== srcState.uidValidity ? 'source' : 'destination';
    journal.record({ t: 'reset', reason: `UIDVALIDITY changed on the ${side}`, at: Date.now() });
    options.onLog?.('warn', `${sourcePath}: the ${side} folder was rebuilt (UIDVALIDITY changed); re-identifying messages by content, nothing will be copied twice.`);
  }

  const windowSize = Math.max(1, options.windowMessages ?? WINDOW_MESSAGES);
  // Fast path: verified earlier and nothing changed on either side since.
  const verified = journal.current.lastVerified;
  if (verified && sameState(verified.src, srcState) && sameState(verified.dst, dstState)) {
    const report = reportFromJournal(journal, input, srcState, undefined, true);
    // With CONDSTORE a flag change moves HIGHESTMODSEQ, so "nothing changed" covers flags too.
    if (options.syncFlags && srcState.highestModseq === undefined) await followFlags(deps, input, srcState, report, windowSize);
    return report;
  }

  const state = journal.current;
  // A folder's first pass needs every size: they come with the UID listing, in the same round trip.
  const listing = unwrap(await source.listUids(sourcePath, input.messageFilter, { withSizes: state.done.size === 0 }));
  const deleted = new Set(listing.deletedUids);
  const expectedUids = listing.uids.filter((uid) => !deleted.has(uid));
  const undone = expectedUids.filter((uid) => !state.done.has(uid));
  const sizes = listing.sizes ?? (undone.length > 0 ? unwrap(await source.listSizes(sourcePath, undone)) : new Map<number, number>());
  checkCancelled();

  // Scan the destination where unjournaled messages can be, and take out what the journal claims.
  const scanFrom = state.lastPass ? state.lastPass.dstScanFrom : 1;
  const claimed = new Set<number>();
  for (const entry of state.doneSinceLastPass) if (entry.dst !== undefined) claimed.add(entry.dst);
  const scan = undone.length > 0 ? await scanDestination(destination, destinationPath, scanFrom, windowSize, claimed) : new Map<number, string>();
  claimed.clear();
  const pool = new FingerprintPool();
  for (const [uid, fingerprint] of scan) pool.add(fingerprint, uid);
  // Entries with a destination UID were left out of the scan; the others claim one match each.
  for (const entry of state.doneSinceLastPass) if (entry.dst === undefined) pool.take(entry.fp);
  let scannedUpTo = dstState.uidNext;
  for (const uid of scan.keys()) scannedUpTo = Math.max(scannedUpTo, uid + 1);
  scan.clear();

  // Totals by bytes: what is expected, and what is certainly there already.
  const counters: FolderCounters = { messagesTotal: expectedUids.length, messagesDone: 0, bytesTotal: 0, bytesDone: 0, bytesSent: 0 };
  const vanished = new Set<number>();
  for (const uid of expectedUids) {
    const done = journal.current.done.get(uid);
    if (done) {
      counters.messagesDone++;
      counters.bytesDone += done.size;
      counters.bytesTotal += done.size;
      continue;
    }
    const size = sizes.get(uid);
    if (size === undefined) {
      vanished.add(uid); // expunged between SEARCH and FETCH
      counters.messagesTotal--;
    } else counters.bytesTotal += size;
  }
  options.onProgress?.({ ...counters });

  const pass: PassContext = { pending: undone.filter((uid) => !vanished.has(uid)), sizes, counters, vanished, deleted, windowSize };
  // Every unjournaled source message is matched against the scan before the pass line says the
  // destination below scannedUpTo is accounted for; a pass stopped while matching leaves the
  // previous pass line in force, so the next pass scans (and matches) that range again.
  if (!pool.isEmpty && pass.pending.length > 0) await matchWithDestination(deps, input, pass, pool, options);
  journal.record({ t: 'pass', srcUidValidity: srcState.uidValidity, dstUidValidity: dstState.uidValidity, dstScanFrom: scannedUpTo, at: Date.now() });
  // What the waited-for sends landed is matched now; the rest of their messages may go again.
  if (settledIds.length > 0) journal.record({ t: 'settled', ids: settledIds, at: Date.now() });
  await journal.flush();

  pass.pending = pass.pending.filter((uid) => !journal.current.done.has(uid) && !journal.current.archived.has(uid) && !vanished.has(uid) && !deleted.has(uid));
  if (input.maxMessageBytes !== undefined) await setAsideTooLarge(deps, input, srcState, pass, input.maxMessageBytes, options);
  if (pass.pending.length > 0) {
    options.onPhase?.('copying');
    await copyMessages(deps, input, srcState, pass, options);
  }

  options.onPhase?.('verifying');
  dstState = unwrap(await destination.folderState(destinationPath));
  const stillExpected = expectedUids.filter((uid) => !vanished.has(uid) && !deleted.has(uid));
  const report = await verifyFolder(deps, input, srcState, dstState, stillExpected, deleted.size, windowSize);
  if (options.syncFlags) await followFlags(deps, input, srcState, report, windowSize);
  return report;
};

/**
 * --sync-flags after a pass. Adding flags moves the destination's HIGHESTMODSEQ, so a folder
 * verified in this pass is recorded verified again at its new state: a re-run stays fast.
 */
const followFlags = async (deps: CopyFolderDeps, input: CopyFolderInput, srcState: FolderState, report: FolderReport, windowSize: number): Promise<void> => {
  const updated = await syncFolderFlags(deps, input, srcState, windowSize);
  report.flagsUpdated = updated;
  if (updated > 0 && report.isComplete) {
    const dst = unwrap(await deps.destination.folderState(input.destinationPath));
    deps.journal.record({ t: 'verified', src: srcState, dst, at: Date.now() });
    await deps.journal.flush();
  }
};

/**
 * Waits out every send of the journal that may still land, so that the scan after it sees what
 * did. Returns their ids, to be settled once that scan's matches are journaled. A wall clock
 * that jumped back cannot stretch a wait beyond the send's own settle window.
 */
const waitForOpenSends = async (journal: FolderJournal, options: CopyFolderOptions): Promise<number[]> => {
  const open = [...journal.current.openSends.values()];
  if (open.length === 0) return [];
  const now = Date.now();
  const until = Math.max(...open.map((send) => Math.min(send.at + send.settleMs, now + send.settleMs)));
  const wait = until > now ? `waiting ${Math.ceil((until - now) / 1000)} s, then matching` : 'matching';
  options.onLog?.('info', `An earlier upload of ${open.reduce((n, send) => n + send.src.length, 0)} message(s) got no answer; ${wait} what arrived before sending any of it again.`);
  if (until > now) {
    options.onSettling?.(until);
    await sleep(until - now, options.signal);
    if (options.signal?.aborted) throw cancelled();
  }
  return open.map((send) => send.id);
};

/**
 * Takes the messages over the destination's limit out of the pass (after matching: one already
 * there counts as there) and sets them aside (set-aside-oversized.ts). Archived ones count as
 * done; refused ones leave the totals, so progress reaches what can be moved.
 */
const setAsideTooLarge = async (deps: CopyFolderDeps, input: CopyFolderInput, srcState: FolderState, pass: PassContext, limit: number, options: CopyFolderOptions): Promise<void> => {
  const tooLarge = pass.pending.filter((uid) => (pass.sizes.get(uid) ?? 0) > limit);
  if (tooLarge.length === 0) return;
  const set = new Set(tooLarge);
  pass.pending = pass.pending.filter((uid) => !set.has(uid));
  const { archived, refused } = await setAsideOversized(deps, input.sourcePath, tooLarge, limit, (meta, error) =>
    options.onFailure?.(failureOf(input.sourcePath, srcState.uidValidity, meta, meta.uid, error)),
  );
  for (const meta of archived) {
    pass.counters.messagesDone++;
    pass.counters.bytesDone += meta.sizeBytes;
  }
  for (const meta of refused) {
    pass.counters.messagesTotal--;
    pass.counters.bytesTotal -= meta.sizeBytes;
  }
  options.onProgress?.({ ...pass.counters });
};

/** What one pass shares between reading metadata, copying and counting. */
interface PassContext {
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

const isFlaggedDeleted = (meta: MessageMeta): boolean => meta.flags.some((f) => f.toLowerCase() === '\\deleted');

/**
 * Metadata of one window of source UIDs, ascending. Messages flagged \Deleted since the SEARCH
 * and messages expunged since are taken out of the pass and its totals here.
 */
const readWindow = async (deps: CopyFolderDeps, input: CopyFolderInput, pass: PassContext, window: number[]): Promise<MessageMeta[]> => {
  const { counters, sizes } = pass;
  const metas = unwrap(await deps.source.listMessages(input.sourcePath, window)).sort((a, b) => a.uid - b.uid);
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

/**
 * Matches the pass's source messages with the destination's unclaimed messages by fingerprint,
 * one window at a time; a match is journaled as `present` (already there, from an earlier
 * crashed run or from elsewhere), so it is not copied.
 */
const matchWithDestination = async (deps: CopyFolderDeps, input: CopyFolderInput, pass: PassContext, pool: FingerprintPool, options: CopyFolderOptions): Promise<void> => {
  const { journal } = deps;
  const { counters } = pass;
  for (let at = 0; at < pass.pending.length && !pool.isEmpty; at += pass.windowSize) {
    if (options.signal?.aborted) throw cancelled();
    let matched = 0;
    for (const meta of await readWindow(deps, input, pass, pass.pending.slice(at, at + pass.windowSize))) {
      const dst = pool.take(meta.fingerprint);
      if (dst === undefined) continue;
      journal.record({ t: 'present', src: meta.uid, dst, fp: meta.fingerprint, size: meta.sizeBytes });
      counters.messagesDone++;
      counters.bytesDone += meta.sizeBytes;
      matched++;
    }
    if (matched > 0) {
      await journal.flush();
      options.onProgress?.({ ...counters });
    }
  }
};

/**
 * Yields the batches of a pass in order, reading source metadata one window at a time.
 * Messages whose reading cost the connection before come last, one per batch (see copyMessages).
 */
async function* batchesOf(
  deps: CopyFolderDeps,
  input: CopyFolderInput,
  pass: PassContext,
  options: CopyFolderOptions,
): AsyncGenerator<MessageMeta[]> {
  const { journal } = deps;
  // The destination sizes batches to its link as measured so far (asked anew at every cut).
  const maxBytes = (): number => Math.min(options.batchMaxBytes ?? BATCH_MAX_BYTES, deps.destination.preferredBatchBytes?.() ?? Infinity);
  const maxMessages = options.batchMaxMessages ?? BATCH_MAX_MESSAGES;
  const lostRead = (m: MessageMeta) => {
    const failed = journal.current.failed.get(m.uid);
    return failed && READ_LOST_KINDS.has(failed.error.kind) ? failed : undefined;
  };
  const lostInBatch: MessageMeta[] = [];
  const lostAlone: MessageMeta[] = [];
  let batch: MessageMeta[] = [];
  let batchBytes = 0;
  for (let at = 0; at < pass.pending.length; at += pass.windowSize) {
    for (const meta of await readWindow(deps, input, pass, pass.pending.slice(at, at + pass.windowSize))) {
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
  for (const meta of [...lostInBatch, ...lostAlone]) yield [meta];
}

/** A message that disappeared from the source: out of the totals, not reported. */
const dropVanished = (pass: PassContext, uid: number): void => {
  if (pass.vanished.has(uid)) return;
  pass.vanished.add(uid);
  pass.counters.messagesTotal--;
  pass.counters.bytesTotal -= pass.sizes.get(uid) ?? 0;
};

/** Reads batch k+1 from the source while batch k is being appended to the destination. */
const copyMessages = async (
  deps: CopyFolderDeps,
  input: CopyFolderInput,
  srcState: FolderState,
  pass: PassContext,
  options: CopyFolderOptions,
): Promise<void> => {
  const { source, destination, journal } = deps;
  const { counters } = pass;
  // Some servers drop the connection every time they are asked for a damaged message. Messages
  // of a batch whose reading cost the connection are read again one by one, after the rest; one
  // that cost it even alone goes very last. So a damaged message cannot hold up the others,
  // however the source delivers a batch.
  const batches = batchesOf(deps, input, pass, options);
  /** What a batch read delivered; on a lost connection, what arrived before it and the error. */
  const readBatch = async (batch: MessageMeta[]): Promise<{ bodies: Map<number, BodyResult>; lost?: MigrationError }> => {
    const bodies = new Map<number, BodyResult>();
    try {
      for await (const body of source.readBodies(input.sourcePath, batch.map((m) => m.uid))) bodies.set(body.uid, body);
    } catch (thrown) {
      if (!(thrown && typeof thrown === 'object' && 'kind' in thrown && READ_LOST_KINDS.has((thrown as MigrationError).kind))) throw thrown;
      return { bodies, lost: thrown as MigrationError };
    }
    return { bodies };
  };
  /** The next batch and its bodies; undefined when there is none. */
  const startRead = (): Promise<{ fullBatch: MessageMeta[]; bodies: Map<number, BodyResult>; lost?: MigrationError } | undefined> => {
    const promise = (async () => {
      const next = await batches.next();
      if (next.done) return undefined;
      return { fullBatch: next.value, ...(await readBatch(next.value)) };
    })();
    promise.catch(() => undefined); // observed below; this only keeps an early failure from going unhandled
    return promise;
  };

  const fail = (meta: MessageMeta, error: MigrationError): void => {
    journal.record({ t: 'failed', src: meta.uid, error, subject: meta.subject, date: meta.date, messageId: meta.messageId, size: meta.sizeBytes });
    options.onFailure?.(failureOf(input.sourcePath, srcState.uidValidity, meta, meta.uid, error));
  };

  let next = startRead() as ReturnType<typeof startRead> | undefined;
  for (;;) {
    const read = await next;
    if (!read) break;
    const { fullBatch, bodies, lost } = read;
    if (options.signal?.aborted) throw cancelled();
    // After a lost connection only what arrived is handled (then the pass stops); the rest is
    // not "vanished", it was simply not read.
    const batch = lost ? fullBatch.filter((m) => bodies.has(m.uid)) : fullBatch;
    next = lost ? undefined : startRead();

    const sendable: { meta: MessageMeta; body: Buffer }[] = [];
    for (const meta of batch) {
      const read = bodies.get(meta.uid);
      if (!read || (!read.ok && read.error.kind === 'not-found')) {
        // Expunged on the source while we worked: nothing to copy, nothing to report.
        dropVanished(pass, meta.uid);
        continue;
      }
      if (!read.ok) {
        fail(meta, read.error);
        continue;
      }
      if (read.body.length !== meta.sizeBytes) {
        fail(
          meta,
          migrationError('rejected', `The source server sent ${read.body.length} bytes of a message it says has ${meta.sizeBytes}; the message is damaged on the source.`),
        );
        continue;
      }
      sendable.push({ meta, body: read.body });
    }
    if (sendable.length === 0 && !lost) continue;

    const batchBytes = sendable.reduce((sum, s) => sum + s.body.length, 0);
    await deps.throttle?.(batchBytes, options.signal);
    const sendIds: number[] = [];
    const beforeCommit = async ({ settleMs }: CommitPoint): Promise<void> => {
      const id = journal.current.lastSendId + 1;
      journal.record({ t: 'send', id, src: sendable.map((s) => s.meta.uid), at: Date.now(), settleMs });
      sendIds.push(id);
      await journal.flush();
    };
    const outcome: AppendOutcome =
      sendable.length === 0
        ? { results: [] }
        : await destination.append(
            input.destinationPath,
            sendable.map((s) => ({ body: s.body, flags: s.meta.flags, internalDate: s.meta.internalDate })),
            { beforeCommit },
          );
    outcome.results.forEach((result, at) => {
      const { meta } = sendable[at] as { meta: MessageMeta };
      if (result.ok) {
        journal.record({ t: 'copied', src: meta.uid, dst: result.value.uid, fp: meta.fingerprint, size: meta.sizeBytes });
        counters.messagesDone++;
        counters.bytesDone += meta.sizeBytes;
        counters.bytesSent += meta.sizeBytes;
      } else {
        fail(meta, result.error);
      }
    });
    if (lost && !outcome.stopped) {
      // Every message of the batch that did not arrive is suspect (which one the source was
      // sending cannot be told in general). Journaled only, not announced as failures: the next
      // pass tries them again, and the report lists one only if that never succeeds.
      const isReadAlone = fullBatch.length === 1;
      const error = {
        ...lost,
        message: isReadAlone
          ? `The source server dropped the connection each time it was asked for this message; it may be damaged on the source. (${lost.message})`
          : `The connection to the source was lost while this message was being read; it is read again on its own. (${lost.message})`,
      };
      for (const m of fullBatch) {
        if (bodies.has(m.uid)) continue;
        journal.record({ t: 'failed', src: m.uid, error, subject: m.subject, date: m.date, messageId: m.messageId, size: m.sizeBytes, isReadAlone });
      }
    }
    // In doubt, the send stays open: the next pass waits for it before sending any of it again,
    // for as long as the store now says (it knows who ended the connection).
    if (sendIds.length > 0 && !outcome.isInDoubt) journal.record({ t: 'settled', ids: sendIds, at: Date.now() });
    else if (outcome.isInDoubt && outcome.settleMs !== undefined) {
      for (const id of sendIds) {
        const send = journal.current.openSends.get(id);
        if (send) journal.record({ ...send, at: Date.now(), settleMs: outcome.settleMs });
      }
    }
    await journal.flush();
    options.onProgress?.({ ...counters });
    if (outcome.stopped) {
      void next?.catch(() => undefined);
      throw outcome.stopped;
    }
    if (lost) throw lost;
  }
};

