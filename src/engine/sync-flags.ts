/**
 * Read state that follows (`--sync-flags`): people keep reading mail on the old account for days
 * after the move began. On a later pass, flags and keywords the source has and Mailferry's own
 * copy on the destination lacks are added to that copy.
 *
 * Invariants:
 * - Only messages this job copied (`copied` journal entries with a destination UID, under the
 *   destination UIDVALIDITY the journal holds) are ever touched. A message that was already on
 *   the destination (`present`) is the person's own: never touched, even if it matched ours.
 * - Flags are only added (the store can do nothing else: DestinationStore.addFlags), never
 *   removed: a flag removed on the source stays on the destination. `\Deleted` and `\Recent`
 *   are never added.
 * - Where the source has CONDSTORE, only messages changed since the last sync are read; the
 *   journal's `flags` line records the source's HIGHESTMODSEQ that sync started from.
 */
import type { FolderJournal } from './folder-journal.js';
import { unwrap } from '../contract/result.js';
import type { DestinationStore, FolderState, SourceStore } from './store.js';

/** Never carried over by --sync-flags (compared in lower case: IMAP flags ignore case). */
const NEVER_ADDED = new Set(['\\deleted', '\\recent']);

export interface SyncFlagsDeps {
  source: SourceStore;
  destination: DestinationStore;
  journal: FolderJournal;
}

/** Flags of these messages, through the store's flags-only listing where it has one. */
const sourceFlags = async (source: SourceStore, path: string, uids: number[], changedSince?: string): Promise<Map<number, string[]>> => {
  if (source.listFlags) return unwrap(await source.listFlags(path, uids, changedSince));
  return new Map(unwrap(await source.listMessages(path, uids)).map((m) => [m.uid, m.flags]));
};

const destinationFlags = async (destination: DestinationStore, path: string, uids: number[]): Promise<Map<number, string[]>> => {
  if (destination.listFlags) return unwrap(await destination.listFlags(path, uids));
  if (!destination.listMessagesByUid) return new Map();
  return new Map(unwrap(await destination.listMessagesByUid(path, uids)).map((m) => [m.uid, m.flags]));
};

/**
 * Adds to this job's copies the flags their source messages gained. Returns how many copies
 * gained something; throws what the stores return as errors (copy-folder.ts turns them into
 * values). Does nothing for a destination that cannot add flags (an archive).
 */
export const syncFolderFlags = async (
  deps: SyncFlagsDeps,
  paths: { sourcePath: string; destinationPath: string },
  srcState: FolderState,
  windowSize: number,
): Promise<number> => {
  const { source, destination, journal } = deps;
  if (!destination.addFlags) return 0;
  const ours = [...journal.current.done.values()].filter((e) => e.t === 'copied' && e.dst !== undefined);
  if (ours.length === 0) return 0;
  const last = journal.current.lastFlagSync;
  // CHANGEDSINCE only from a sync of this same source folder (same UIDVALIDITY).
  const changedSince = last?.srcModseq !== undefined && last.srcUidValidity === srcState.uidValidity && srcState.highestModseq !== undefined ? last.srcModseq : undefined;
  let updated = 0;
  for (let at = 0; at < ours.length; at += windowSize) {
    const window = ours.slice(at, at + windowSize);
    const fromSource = await sourceFlags(source, paths.sourcePath, window.map((e) => e.src), changedSince);
    const changed = window.filter((e) => fromSource.has(e.src));
    if (changed.length === 0) continue;
    const onDestination = await destinationFlags(destination, paths.destinationPath, changed.map((e) => e.dst as number));
    const changes: { uid: number; flags: string[] }[] = [];
    for (const entry of changed) {
      const dst = entry.dst as number;
      const has = onDestination.get(dst);
      if (!has) continue; // gone from the destination: verification's business, not ours
      const present = new Set(has.map((f) => f.toLowerCase()));
      const missing = (fromSource.get(entry.src) ?? []).filter((f) => !present.has(f.toLowerCase()) && !NEVER_ADDED.has(f.toLowerCase()));
      if (missing.length > 0) changes.push({ uid: dst, flags: missing });
    }
    if (changes.length > 0) updated += unwrap(await destination.addFlags(paths.destinationPath, changes));
  }
  journal.record({ t: 'flags', srcUidValidity: srcState.uidValidity, srcModseq: srcState.highestModseq, at: Date.now() });
  await journal.flush();
  return updated;
};
