/**
 * The end of a folder pass: checking that every message the journal says is on the destination
 * is there, and the folder's report. Also the destination scan (UID → fingerprint, read in
 * windows) that both the start of a pass and verification use.
 */
import type { FailedMessage, FolderReport } from '../contract/job.js';
import { migrationError, unwrap } from '../contract/result.js';
import type { CopyFolderInput } from './folder-pass.js';
import type { DoneEntry, FolderJournal } from './folder-journal.js';
import { FingerprintPool } from './fingerprint-pool.js';
import type { DestinationStore, FolderState, MessageMeta } from './store.js';

/**
 * Fingerprints of the destination's messages from `fromUid` on (UID → fingerprint), read one
 * window at a time so that no more than a window's metadata is held at once. Messages in
 * `claimed` (the journal knows them by UID) are not read at all: a re-run of a big folder reads
 * the headers of only what it cannot account for.
 */
export const scanDestination = async (
  destination: DestinationStore,
  path: string,
  fromUid: number,
  windowSize: number,
  claimed: ReadonlySet<number> = new Set(),
): Promise<Map<number, string>> => {
  const fingerprints = new Map<number, string>();
  const add = (metas: MessageMeta[]) => {
    for (const m of metas) if (!claimed.has(m.uid)) fingerprints.set(m.uid, m.fingerprint);
  };
  if (!destination.listUids) {
    add(unwrap(await destination.listMessages(path, fromUid)));
    return fingerprints;
  }
  const uids = unwrap(await destination.listUids(path))
    .filter((uid) => uid >= fromUid && !claimed.has(uid))
    .sort((a, b) => a - b);
  for (let at = 0; at < uids.length; at += windowSize) {
    const window = uids.slice(at, at + windowSize);
    add(
      unwrap(
        destination.listMessagesByUid
          ? await destination.listMessagesByUid(path, window)
          : await destination.listMessages(path, window[0] as number, window[window.length - 1] as number),
      ),
    );
  }
  return fingerprints;
};

/**
 * Every message the journal says is on the destination must be there. Where the destination
 * told us its UID (UIDPLUS), that UID must exist: servers may rewrite what they store (Cyrus
 * masks 8-bit header bytes, Exchange adds headers), so content is not compared there. Without a
 * UID, each message needs its own fingerprint match. A message found missing is journaled as
 * `lost`, so the next pass copies exactly that one again.
 *
 * And no more than once: among the destination's messages from the UID the job first saw on
 * (what was there before is the person's own and never counted), one that no journal entry
 * claims but that has the fingerprint of a message we did copy is a surplus copy (an APPEND
 * that landed after we stopped waiting for it). A folder with surplus is not verified; its
 * report says how many, and Mailferry deletes nothing.
 */
export const verifyFolder = async (
  deps: { destination: DestinationStore; journal: FolderJournal },
  input: CopyFolderInput,
  srcState: FolderState,
  dstState: FolderState,
  expectedUids: number[],
  skipped: number,
  windowSize: number,
): Promise<FolderReport> => {
  const { destination, journal } = deps;
  const done = expectedUids.map((uid) => journal.current.done.get(uid)).filter((d): d is DoneEntry => d !== undefined);
  // Where every message's destination UID is known, the UIDs alone verify: no headers are read,
  // which keeps a 100,000-message folder's verification cheap in time and memory.
  const isUidOnly = destination.listUids !== undefined && done.every((d) => d.dst !== undefined);
  const fingerprints = isUidOnly ? new Map<number, string>() : await scanDestination(destination, input.destinationPath, 1, windowSize);
  const existingUids = isUidOnly && destination.listUids ? new Set(unwrap(await destination.listUids(input.destinationPath))) : fingerprints;
  const claimedUids = new Set<number>();
  const lost: number[] = [];
  const withoutUid: DoneEntry[] = [];
  for (const entry of done) {
    if (entry.dst === undefined) withoutUid.push(entry);
    else if (existingUids.has(entry.dst) && !claimedUids.has(entry.dst)) claimedUids.add(entry.dst);
    else lost.push(entry.src);
  }
  const unclaimed = new FingerprintPool();
  for (const [uid, fingerprint] of fingerprints) if (!claimedUids.has(uid)) unclaimed.add(fingerprint, uid);
  for (const entry of withoutUid) if (unclaimed.take(entry.fp) === undefined) lost.push(entry.src);
  for (const src of lost) journal.record({ t: 'lost', src, at: Date.now() });

  const report = reportFromJournal(journal, input, srcState, expectedUids, false, skipped);
  if (lost.length > 0) {
    report.isComplete = false;
    report.status = 'incomplete';
    report.error = migrationError('internal', `${lost.length} message(s) recorded as copied are not on the destination any more; they will be copied again.`, { retryable: true });
  } else if (journal.current.openSends.size > 0) {
    // Cannot happen after a pass that waited for its open sends; kept as the rule it is.
    report.isComplete = false;
    report.status = 'incomplete';
    report.error = migrationError('internal', 'An earlier upload to this folder may still be arriving; the folder is checked again once it cannot.', { retryable: true });
  } else if (report.isComplete) {
    const surplus = await countSurplus(destination, input.destinationPath, journal, done, isUidOnly ? existingUids : fingerprints, fingerprints, windowSize);
    if (surplus > 0) {
      report.isComplete = false;
      report.status = 'needs-attention';
      report.surplus = surplus;
      report.error = migrationError(
        'surplus',
        `${surplus} message(s) of this folder are on the new account more than once: an upload whose answer never came was stored after all. ` +
          'Mailferry deletes nothing; remove the extra copies in your mail program (sorted by date, the copies stand side by side), or keep them.',
      );
    } else journal.record({ t: 'verified', src: srcState, dst: dstState, at: Date.now() });
  }
  await journal.flush();
  return report;
};

/**
 * Surplus copies (see verifyFolder): destination messages at or above the first UID the job saw
 * that no journal entry claims, with the fingerprint of a message we copied, beyond the copies
 * journaled without a destination UID (which need such a match to count as there).
 * `existing` holds every destination UID; `known` the fingerprints already read (UID → fp).
 */
const countSurplus = async (
  destination: DestinationStore,
  path: string,
  journal: FolderJournal,
  done: DoneEntry[],
  existing: ReadonlySet<number> | ReadonlyMap<number, string>,
  known: ReadonlyMap<number, string>,
  windowSize: number,
): Promise<number> => {
  const firstSeen = journal.current.firstSeenDstUid;
  if (firstSeen === undefined) return 0;
  const claimed = new Set<number>();
  const withoutUid = new Map<string, number>();
  const copiedFingerprints = new Set<string>();
  for (const entry of done) {
    copiedFingerprints.add(entry.fp);
    if (entry.dst === undefined) withoutUid.set(entry.fp, (withoutUid.get(entry.fp) ?? 0) + 1);
    else claimed.add(entry.dst);
  }
  const unclaimed: number[] = [];
  for (const uid of existing.keys()) if (uid >= firstSeen && !claimed.has(uid)) unclaimed.push(uid);
  if (unclaimed.length === 0) return 0;
  const unread = unclaimed.filter((uid) => !known.has(uid));
  const read = new Map<number, string>();
  for (let at = 0; at < unread.length; at += windowSize) {
    const window = unread.slice(at, at + windowSize);
    const metas = unwrap(
      destination.listMessagesByUid
        ? await destination.listMessagesByUid(path, window)
        : await destination.listMessages(path, window[0] as number, window[window.length - 1] as number),
    );
    for (const meta of metas) read.set(meta.uid, meta.fingerprint);
  }
  const extra = new Map<string, number>();
  for (const uid of unclaimed) {
    const fingerprint = known.get(uid) ?? read.get(uid);
    if (fingerprint !== undefined && copiedFingerprints.has(fingerprint)) extra.set(fingerprint, (extra.get(fingerprint) ?? 0) + 1);
  }
  let surplus = 0;
  for (const [fingerprint, count] of extra) surplus += Math.max(0, count - (withoutUid.get(fingerprint) ?? 0));
  return surplus;
};

/** Builds a folder report from the journal (expectedUids undefined: everything journaled). */
export const reportFromJournal = (
  journal: FolderJournal,
  input: CopyFolderInput,
  srcState: FolderState,
  expectedUids: number[] | undefined,
  isFromFastPath: boolean,
  skipped = 0,
): FolderReport => {
  const state = journal.current;
  const expected = expectedUids ?? [...state.done.keys(), ...state.archived.keys(), ...state.failed.keys()];
  let copied = 0;
  let alreadyThere = 0;
  let archived = 0;
  let copiedBytes = 0;
  let alreadyThereBytes = 0;
  const failed: FailedMessage[] = [];
  for (const uid of expected) {
    const done = state.done.get(uid);
    if (done?.t === 'copied') {
      copied++;
      copiedBytes += done.size;
    } else if (done?.t === 'present') {
      alreadyThere++;
      alreadyThereBytes += done.size;
    } else if (state.archived.has(uid)) archived++;
    else {
      const failure = state.failed.get(uid);
      if (failure) {
        failed.push({
          sourcePath: input.sourcePath,
          uid,
          uidValidity: srcState.uidValidity,
          subject: failure.subject,
          date: failure.date,
          messageId: failure.messageId,
          sizeBytes: failure.size,
          error: failure.error,
        });
      }
    }
  }
  const isComplete = isFromFastPath || copied + alreadyThere + archived === expected.length;
  return {
    sourcePath: input.sourcePath,
    destinationPath: input.destinationPath,
    status: isComplete ? 'verified' : 'incomplete',
    expected: isFromFastPath ? copied + alreadyThere + archived : expected.length,
    copied,
    alreadyThere,
    skipped: isFromFastPath ? srcState.messages - copied - alreadyThere - archived : skipped,
    copiedBytes,
    alreadyThereBytes,
    failed,
    isComplete,
    ...(archived > 0 ? { archived } : {}),
  };
};
