/**
 * Opens a local archive (mbox, Maildir, eml) as a read-only source or an append-only destination.
 * A source must exist and is never written to; a destination folder is created if missing and
 * locked for this process until the store is closed (archive-lock.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ArchiveLocation } from '../contract/account.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import type { DestinationStore, SourceStore } from '../engine/store.js';
import { archiveError } from './archive-fs.js';
import { ARCHIVE_DIRECTORY_MODE } from './archive-jail.js';
import { lockArchive } from './archive-lock.js';
import { createArchiveDestination, createArchiveSource, type ArchiveBackend } from './archive-store.js';
import { EmlArchive } from './eml-store.js';
import { MaildirArchive } from './maildir-store.js';
import { MboxArchive } from './mbox-store.js';

const backendFor = (location: ArchiveLocation, root: string, isWritable: boolean, isFile: boolean): ArchiveBackend => {
  switch (location.format) {
    case 'mbox':
      return new MboxArchive(root, isWritable, isFile);
    case 'maildir':
      return new MaildirArchive(root, isWritable);
    case 'eml':
      return new EmlArchive(root, isWritable);
  }
};

/**
 * The archive's root as it really is: a link in the path the user chose is theirs to make, so it
 * is resolved here, once; below the root no link is followed (archive-jail.ts).
 */
const realRoot = (location: ArchiveLocation): Promise<string> => fs.realpath(path.resolve(location.path));

export const openArchiveSource = async (location: ArchiveLocation): Promise<Result<SourceStore>> => {
  const root = path.resolve(location.path);
  try {
    const stat = await fs.stat(root);
    if (stat.isFile() && location.format !== 'mbox') {
      return err(migrationError('bad-input', `${root} is a file; a ${location.format} archive is a folder.`));
    }
    if (!stat.isFile() && !stat.isDirectory()) return err(migrationError('bad-input', `${root} is neither a file nor a folder, so it cannot be an archive.`));
    return ok(createArchiveSource(backendFor(location, await realRoot(location), false, stat.isFile())));
  } catch (thrown) {
    if ((thrown as NodeJS.ErrnoException).code === 'ENOENT') return err(migrationError('bad-input', `There is no archive at ${root}.`));
    return err(archiveError(thrown, 'open the archive'));
  }
};

export const openArchiveDestination = async (location: ArchiveLocation): Promise<Result<DestinationStore>> => {
  try {
    const stat = await fs.stat(path.resolve(location.path)).catch(() => undefined);
    if (!stat) await fs.mkdir(path.resolve(location.path), { recursive: true, mode: ARCHIVE_DIRECTORY_MODE });
    else if (!stat.isDirectory()) return err(migrationError('bad-input', `${path.resolve(location.path)} is a file; an archive to write into must be a folder.`));
    const root = await realRoot(location);
    const release = await lockArchive(root);
    const store = createArchiveDestination(backendFor(location, root, true, false));
    return ok({
      ...store,
      close: async () => {
        try {
          await store.close();
        } finally {
          await release();
        }
      },
    });
  } catch (thrown) {
    return err(archiveError(thrown, 'create the archive folder'));
  }
};
