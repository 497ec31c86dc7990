/**
 * "Save it from the report": writes the raw bytes of a message that could not be copied to a
 * `.eml` file, so a person can keep it, open it in a mail program, or hand it to an admin.
 *
 * The message is read again from the source (EXAMINE + BODY.PEEK[], nothing changes there), by
 * the UID the report names, and only while the folder's UIDVALIDITY is still the one the report
 * was made under: otherwise the UID could name another message. Whatever bytes the source serves
 * are written as they are, even when they are shorter than the size the server claims (a
 * truncated message is still worth keeping). An existing file is never overwritten.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FailedMessage } from '../contract/job.js';
import { err, migrationError, ok, type MigrationError, type Result } from '../contract/result.js';
import type { SourceStore } from './store.js';
import { joinedBytes } from './message-bytes.js';

/** Longest file-name stem taken from a subject. */
const MAX_STEM_CHARS = 60;

/** A file name from the folder, UID and subject: no path separators or control characters. */
export const emlFileName = (failure: Pick<FailedMessage, 'sourcePath' | 'uid' | 'subject'>): string => {
  const clean = (s: string): string =>
    s
      .normalize('NFC')
      .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/^\.+/, '');
  const folder = clean(failure.sourcePath).slice(0, 40) || 'folder';
  const subject = clean(failure.subject ?? '').slice(0, MAX_STEM_CHARS);
  return `${folder} - ${failure.uid}${subject ? ` - ${subject}` : ''}.eml`;
};

/**
 * Saves one failed message to `directory` and returns the file's path. Never overwrites: a
 * second save of the same message gets a ` (2)` suffix.
 */
export const saveFailedMessage = async (source: SourceStore, failure: FailedMessage, directory: string): Promise<Result<string>> => {
  const state = await source.openFolder(failure.sourcePath);
  if (!state.ok) return state;
  if (failure.uidValidity && state.value.uidValidity !== failure.uidValidity) {
    return err(
      migrationError('uidvalidity-changed', `The folder ${failure.sourcePath} was rebuilt on the source since the report was made; run the copy again to get a fresh report, then save from it.`),
    );
  }
  let body: Buffer | undefined;
  try {
    for await (const read of source.readBodies(failure.sourcePath, [failure.uid])) {
      if (read.uid !== failure.uid) continue;
      if (!read.ok) return err(read.error);
      body = joinedBytes(read.body);
    }
  } catch (thrown) {
    // readBodies throws MigrationErrors when the connection fails (a server that drops the
    // connection on this very message does so here too).
    if (thrown && typeof thrown === 'object' && 'kind' in thrown) return err(thrown as MigrationError);
    return err(migrationError('internal', `Could not read the message: ${(thrown as Error)?.message ?? String(thrown)}`));
  }
  if (!body) return err(migrationError('not-found', `The message is no longer in ${failure.sourcePath} on the source.`));

  await fs.mkdir(directory, { recursive: true });
  const name = emlFileName(failure);
  const stem = name.slice(0, -'.eml'.length);
  for (let n = 1; n <= 1000; n++) {
    const file = path.join(directory, n === 1 ? name : `${stem} (${n}).eml`);
    try {
      await fs.writeFile(file, body, { flag: 'wx' });
      return ok(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        return err(migrationError('internal', `Could not write ${file}: ${(e as Error).message}`));
      }
    }
  }
  return err(migrationError('internal', `Too many saved copies of this message in ${directory}.`));
};
