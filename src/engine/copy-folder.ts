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
 * 5. Copy the rest (copy-pending.ts): in batches, each one APPEND transaction, the bodies
 *    streamed from the source's FETCH (BODY.PEEK) to the destination (flags and INTERNALDATE
 *    kept), sized by the destination to a few seconds of its link. Before the bytes that can
 *    commit a batch leave, a `send` line is flushed; each message is journaled as `copied` only
 *    after the server's OK, flushed before progress is reported, and the send `settled` once
 *    its answers are in. A message the destination refuses is journaled as `failed` with the
 *    server's words and the folder goes on; a lost connection, throttling or a full quota stops
 *    the pass with an error value, and the next pass starts again at step 1. A large folder is
 *    copied on several connection pairs at once (lanes), all after this pass's one pass line,
 *    into the one journal: copy-pending.ts says why that stays exact.
 * 6. Verify, once, after every lane is done: every expected source message must have its own
 *    match on the destination, and the destination may hold no more copies of them than the
 *    source (see verify-folder.ts).
 *
 * Memory: per lane, one chunk's metadata and what is on its way between the two servers (a
 * bounded read-ahead); what grows with the folder is a UID, a size and a journal entry per
 * message (and a fingerprint per destination message when the destination must be scanned).
 */
import type { FolderReport } from '../contract/job.js';
import { err, migrationError, ok, unwrap, type MigrationError, type Result } from '../contract/result.js';
import { sleep } from './backoff.js';
import { copyPending } from './copy-pending.js';
import { setAsideOversized } from './set-aside-oversized.js';
import { syncFolderFlags } from './sync-flags.js';
import type { FolderJournal } from './folder-journal.js';
import { cancelled, failureOf, readWindow, type CopyFolderDeps, type CopyFolderInput, type CopyFolderOptions, type FolderCounters, type PassContext } from './folder-pass.js';
import { reportFromJournal, scanDestination, verifyFolder } from './verify-folder.js';
import { FingerprintPool } from './fingerprint-pool.js';
import type { FolderState } from './store.js';

export type { CopyFolderDeps, CopyFolderInput, CopyFolderOptions, FolderCounters, Lane, LanePool, SplitThreshold } from './folder-pass.js';
export { BATCH_MAX_BYTES, BATCH_MAX_MESSAGES, SPLIT_THRESHOLD } from './copy-pending.js';

/** Source metadata is read (and matched) this many messages at a time. */
export const WINDOW_MESSAGES = 5000;

const sameState = (a: FolderState, b: FolderState): boolean =>
  a.uidValidity === b.uidValidity && a.uidNext === b.uidNext && a.messages === b.messages && (a.highestModseq ?? '') === (b.highestModseq ?? '');

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
  if (!input.isFolderReady) unwrap(await destination.ensureFolder(destinationPath, input.specialUse ? { specialUse: input.specialUse } : undefined));
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
  const older = input.recentSince ? await holdBackOlder(deps, input, pass, input.recentSince) : [];
  if (pass.pending.length > 0) {
    options.onPhase?.('copying');
    await copyPending(deps, input, { src: srcState, dst: dstState }, pass, options);
  }
  const stillExpected = expectedUids.filter((uid) => !vanished.has(uid) && !deleted.has(uid));
  if (input.recentSince) {
    // The older mail is copied, and everything verified, by the folder's next pass.
    const report = reportFromJournal(journal, input, srcState, stillExpected, false);
    options.onLog?.('info', `${sourcePath}: recent mail copied; ${older.length} older message(s) follow once every folder's recent mail is in.`);
    return { ...report, status: 'incomplete', isComplete: false };
  }

  options.onPhase?.('verifying');
  dstState = unwrap(await destination.folderState(destinationPath));
  const report = await verifyFolder(deps, input, srcState, dstState, stillExpected, deleted.size, windowSize);
  if (options.syncFlags) await followFlags(deps, input, srcState, report, windowSize);
  return report;
};

/**
 * Newest first: takes the messages older than `since` out of the pass (they stay pending in the
 * journal's terms) and returns them. Where the source can search, one UID SEARCH SINCE;
 * otherwise the metadata of the pending messages, window by window.
 */
const holdBackOlder = async (deps: CopyFolderDeps, input: CopyFolderInput, pass: PassContext, since: Date): Promise<number[]> => {
  if (pass.pending.length === 0) return [];
  let recent: Set<number>;
  if (deps.source.searchSince) recent = new Set(unwrap(await deps.source.searchSince(input.sourcePath, since)));
  else {
    recent = new Set();
    const day = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate());
    for (let at = 0; at < pass.pending.length; at += pass.windowSize) {
      for (const meta of await readWindow(deps.source, input, pass, pass.pending.slice(at, at + pass.windowSize))) {
        if (meta.internalDate.getTime() >= day) recent.add(meta.uid);
      }
    }
  }
  const older = pass.pending.filter((uid) => !recent.has(uid));
  pass.pending = pass.pending.filter((uid) => recent.has(uid));
  return older;
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
    for (const meta of await readWindow(deps.source, input, pass, pass.pending.slice(at, at + pass.windowSize))) {
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
