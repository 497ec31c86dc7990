/**
 * File-system steps the archive formats share (folder-name clashes; fsync of a directory comes
 * from src/fs/) and the one place file-system failures become MigrationErrors. Reads and writes
 * go through archive-jail.ts, which keeps them inside the archive.
 */
import { promises as fs, readdirSync } from 'node:fs';
import path from 'node:path';
import { migrationError, type MigrationError } from '../contract/result.js';
import { fileNameKey } from './archive-names.js';

export { fsyncDirectory } from '../fs/write-file-atomic.js';

/**
 * The name INBOX has in a folder tree: IMAP's INBOX is case-insensitive, file names may not be
 * (a tree written by another tool may say `inbox` or `INBOX`). Read once when an archive opens.
 */
export const inboxNameIn = (root: string, fallback: string, kind: 'file' | 'directory'): string => {
  try {
    const found = readdirSync(root, { withFileTypes: true }).find((e) => e.name.toLowerCase() === 'inbox' && (kind === 'file' ? e.isFile() : e.isDirectory()));
    return found?.name ?? fallback;
  } catch {
    return fallback;
  }
};

export const exists = async (file: string): Promise<boolean> => {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
};

/**
 * Refuses to store a folder under a name that differs from an existing neighbour only in case or
 * Unicode normalization (`Work` and `work`): on Windows and macOS those are one file, so two
 * folders would be mixed into one, and an archive made on Linux could not be copied there.
 * Also refuses when the index found there belongs to another folder.
 */
export const checkFolderNameIsFree = async (target: string, folderPath: string, indexedPath?: string): Promise<void> => {
  const name = path.basename(target);
  let names: string[] = [];
  try {
    names = await fs.readdir(path.dirname(target));
  } catch {
    names = [];
  }
  const clash = names.find((n) => n !== name && fileNameKey(n) === fileNameKey(name));
  const other = indexedPath !== undefined && indexedPath.normalize('NFC') !== folderPath.normalize('NFC') ? indexedPath : undefined;
  if (clash || other) {
    throw migrationError(
      'bad-input',
      `The folder "${folderPath}" would be stored as "${name}", which Windows and macOS cannot tell apart from ${other ? `the folder "${other}"` : `the existing "${clash}"`}; give it another name with --map.`,
    );
  }
};

/** Is this a MigrationError thrown by archive code (rather than a file-system error)? */
export const isMigrationError = (e: unknown): e is MigrationError => typeof e === 'object' && e !== null && 'kind' in e && 'retryable' in e && 'message' in e;

/** Classifies a file-system failure: a full disk is a quota (pauses the job), a missing file is not-found. */
export const archiveError = (thrown: unknown, operation: string): MigrationError => {
  if (isMigrationError(thrown)) return thrown;
  const e = thrown as NodeJS.ErrnoException;
  const where = e?.path ? ` (${e.path})` : '';
  switch (e?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return migrationError('quota', `The disk holding the archive is full${where}; free some space and run again.`, { serverCode: e.code });
    case 'ENOENT':
      return migrationError('not-found', `Could not ${operation}: a file of the archive is missing${where}.`, { serverCode: e.code });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return migrationError('bad-input', `Could not ${operation}: no permission to write or read the archive${where}.`, { serverCode: e.code });
    default:
      return migrationError('internal', `Could not ${operation}: ${e?.message ?? String(thrown)}`, { retryable: true, serverCode: e?.code });
  }
};
