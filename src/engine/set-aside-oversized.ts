/**
 * Messages larger than the destination accepts are never sent: it would refuse each one only
 * after every byte crossed the link, and a refusal cannot be fixed by trying again. Pre-flight
 * lists them before the move; here each is journaled, after the pass matched what the
 * destination already holds (a copy that is there counts as there, whatever its size):
 * - `archived`, when the person named an archive to keep them in instead (`--refused-to`, or
 *   "save them to a local archive" in the app): the body is written there first;
 * - otherwise `failed`, with the reason, not retryable.
 */
import { migrationError, unwrap, type MigrationError } from '../contract/result.js';
import type { FolderJournal } from './folder-journal.js';
import type { DestinationStore, MessageMeta, SourceStore } from './store.js';

export interface SetAsideDeps {
  source: SourceStore;
  journal: FolderJournal;
  /** Where the person wants such messages kept instead (an archive), if anywhere. */
  refusedTo?: DestinationStore;
}

export const oversizedError = (limitBytes: number): MigrationError =>
  migrationError(
    'rejected',
    `Larger than the ${(limitBytes / (1024 * 1024)).toFixed(0)} MB the new account accepts for one message; it was not sent (a retry cannot help). Keep it in a local archive instead, or forward it in parts.`,
  );

/** The path a source folder gets in the archive: its hierarchy in the archive's separator. */
const archivePathOf = (source: SourceStore, archive: DestinationStore, sourcePath: string): string => {
  const from = source.namespace();
  const below = from.prefix && sourcePath.startsWith(from.prefix) && sourcePath !== 'INBOX' ? sourcePath.slice(from.prefix.length) : sourcePath;
  return from.delimiter ? below.split(from.delimiter).join(archive.namespace().delimiter) : below;
};

/**
 * Journals these source messages (all over `limitBytes`) as archived or refused; calls
 * `onFailure` for each refused one. Throws what the stores return as errors.
 */
export const setAsideOversized = async (
  deps: SetAsideDeps,
  sourcePath: string,
  uids: number[],
  limitBytes: number,
  onFailure: (meta: MessageMeta, error: MigrationError) => void,
): Promise<{ archived: MessageMeta[]; refused: MessageMeta[] }> => {
  const { source, journal, refusedTo } = deps;
  const metas = unwrap(await source.listMessages(sourcePath, uids)).sort((a, b) => a.uid - b.uid);
  if (!refusedTo) {
    const error = oversizedError(limitBytes);
    for (const meta of metas) {
      journal.record({ t: 'failed', src: meta.uid, error, subject: meta.subject, date: meta.date, messageId: meta.messageId, size: meta.sizeBytes });
      onFailure(meta, error);
    }
    await journal.flush();
    return { archived: [], refused: metas };
  }
  const path = archivePathOf(source, refusedTo, sourcePath);
  unwrap(await refusedTo.ensureFolder(path));
  const archived: MessageMeta[] = [];
  const refused: MessageMeta[] = [];
  const byUid = new Map(metas.map((m) => [m.uid, m]));
  // One at a time: each may be tens of megabytes.
  for (const meta of metas) {
    for await (const read of source.readBodies(sourcePath, [meta.uid])) {
      const target = byUid.get(read.uid);
      if (!target) continue;
      const error = !read.ok ? read.error : undefined;
      const outcome = read.ok ? await refusedTo.append(path, [{ body: read.body, flags: target.flags, internalDate: target.internalDate }]) : undefined;
      const result = outcome?.results[0];
      if (result?.ok) {
        journal.record({ t: 'archived', src: target.uid, size: target.sizeBytes, at: Date.now() });
        archived.push(target);
      } else {
        const why = error ?? (result && !result.ok ? result.error : outcome?.stopped) ?? migrationError('internal', 'The archive did not take the message.');
        journal.record({ t: 'failed', src: target.uid, error: why, subject: target.subject, date: target.date, messageId: target.messageId, size: target.sizeBytes });
        onFailure(target, why);
        refused.push(target);
      }
    }
    await journal.flush();
  }
  return { archived, refused };
};
