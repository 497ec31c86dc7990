/**
 * Keeps every read and write of an archive inside it. An archive may come from anywhere (a
 * download, someone else's backup, a folder prepared by another program or person), and what
 * is in it decides which paths we touch: directory listings, folder names, index entries. A
 * symbolic link planted in it (a message file, `cur/`, a `.sbd` folder, an index) would
 * otherwise make a restore upload an outside file as mail, and a destination write or move
 * files outside. So, for every path a store touches:
 * - it is built under the archive root and checked to stay there;
 * - no symbolic link at or below the root is followed, for reading or for writing: each level
 *   between the root and the file is checked with lstat, files are opened with O_NOFOLLOW
 *   (lstat where the platform has none) and must be regular files (a FIFO would hang a read;
 *   O_NONBLOCK keeps even its open from waiting);
 * - files are created 0600 and directories 0700: mail is for the user alone.
 * The root itself is what the user chose; a link there is resolved once, when the archive opens.
 * A refusal is a MigrationError of kind `bad-input` naming the path and why; file-system errors
 * are thrown as they are (archiveError classifies them).
 *
 * The checks guard against what an archive holds, not against another process swapping a
 * directory for a link between a check and the use (no portable Node API closes that window).
 */
import { constants, promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { migrationError } from '../contract/result.js';
import { fsyncDirectory, PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE, writeFileAtomic } from '../fs/write-file-atomic.js';

/** Mode of every file an archive store creates: readable and writable by the user only. */
export const ARCHIVE_FILE_MODE = PRIVATE_FILE_MODE;
/** Mode of every directory an archive store creates. */
export const ARCHIVE_DIRECTORY_MODE = PRIVATE_DIRECTORY_MODE;

// Windows has neither; there lstat stands in for O_NOFOLLOW, and FIFOs do not exist.
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
const NON_BLOCK = constants.O_NONBLOCK ?? 0;
const OPEN_FLAGS = {
  r: constants.O_RDONLY,
  'r+': constants.O_RDWR,
  a: constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT,
  wx: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
} as const;

export type ArchiveOpenMode = keyof typeof OPEN_FLAGS;

/** Is `target` the root or below it (after resolving `.` and `..`, not links)? */
export const isInside = (root: string, target: string): boolean => {
  const rel = path.relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
};

const linkRefused = (at: string) =>
  migrationError(
    'bad-input',
    `Refused ${at}: it is a symbolic link, and Mailferry never follows links inside an archive (they can lead outside it). Replace it with the real file or folder to include it.`,
  );

const outsideRefused = (target: string, root: string) => migrationError('bad-input', `Refused ${target}: it is outside the archive ${root}.`);

const notAFile = (file: string) => migrationError('bad-input', `Refused ${file}: it is not a regular file (a device, a pipe or a folder), so it cannot be part of an archive.`);

export class ArchiveJail {
  /** `root`: the archive's directory (for a single mbox file, the directory holding it). */
  constructor(readonly root: string) {}

  /** `target`, made absolute; throws if it is outside the root. */
  inside(target: string): string {
    const resolved = path.resolve(this.root, target);
    if (!isInside(this.root, resolved)) throw outsideRefused(target, this.root);
    return resolved;
  }

  /**
   * Throws if `target` is outside the root or if any level below the root down to `target`
   * (itself included) is a symbolic link. Levels that do not exist yet end the check.
   */
  async refuseLinks(target: string): Promise<void> {
    const resolved = this.inside(target);
    let at = this.root;
    for (const part of path.relative(this.root, resolved).split(path.sep)) {
      if (part === '') continue;
      at = path.join(at, part);
      let stat;
      try {
        stat = await fs.lstat(at);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw e;
      }
      if (stat.isSymbolicLink()) throw linkRefused(at);
    }
  }

  /** Opens a file of the archive without following a link anywhere on its way; it must be a regular file. */
  async open(file: string, mode: ArchiveOpenMode): Promise<fs.FileHandle> {
    const resolved = this.inside(file);
    await this.refuseLinks(NO_FOLLOW === 0 ? resolved : path.dirname(resolved));
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(resolved, OPEN_FLAGS[mode] | NO_FOLLOW | NON_BLOCK, ARCHIVE_FILE_MODE);
    } catch (e) {
      // Linux and macOS say ELOOP for a link opened with O_NOFOLLOW, FreeBSD EMLINK.
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'EMLINK') throw linkRefused(resolved);
      throw e;
    }
    try {
      if (!(await handle.stat()).isFile()) throw notAFile(resolved);
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw e;
    }
    return handle;
  }

  /** The whole content of a file of the archive. */
  async readFile(file: string): Promise<Buffer> {
    const handle = await this.open(file, 'r');
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  /** A directory's entries, with their types as the listing gives them (a link is a link, not what it points to). */
  async readdir(dir: string): Promise<Dirent[]> {
    await this.refuseLinks(dir);
    return fs.readdir(this.inside(dir), { withFileTypes: true });
  }

  /** Creates a directory and its missing parents (0700), refusing links on the way. */
  async mkdir(dir: string): Promise<void> {
    await this.refuseLinks(dir);
    await fs.mkdir(this.inside(dir), { recursive: true, mode: ARCHIVE_DIRECTORY_MODE });
  }

  /** Writes `data` to a new file (failing if the name exists, a link included), fsyncs it, sets its mtime. */
  async writeNew(file: string, data: Buffer | string | readonly Buffer[], mtime?: Date): Promise<void> {
    const handle = await this.open(file, 'wx');
    try {
      // A message's pieces one after another: each writeFile goes on from where the last ended.
      if (typeof data === 'string' || Buffer.isBuffer(data)) await handle.writeFile(data);
      else for (const piece of data) await handle.writeFile(piece);
      if (mtime) await handle.utimes(mtime, mtime);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Replaces `file` atomically with `data` (small metadata files only); a link of that name is replaced, never followed. */
  async replace(file: string, data: Buffer | string): Promise<void> {
    const target = this.inside(file);
    // The levels on the way are checked here; the temp file is created without following a link.
    await this.refuseLinks(path.dirname(target));
    await writeFileAtomic(target, data);
  }

  /**
   * Renames a regular file within the archive. rename never follows a link at either name; the
   * directories on the way are checked, and a planted link is not moved about.
   */
  async rename(from: string, to: string): Promise<void> {
    await this.refuseLinks(path.dirname(from));
    await this.refuseLinks(path.dirname(to));
    const source = this.inside(from);
    if (!(await fs.lstat(source)).isFile()) throw notAFile(source);
    await fs.rename(source, this.inside(to));
  }

  /** Removes a file (a link itself, never what it points to) after checking the directories on the way. */
  async remove(file: string): Promise<void> {
    await this.refuseLinks(path.dirname(file));
    await fs.rm(this.inside(file), { force: true });
  }

  /** Cuts a file to `length` bytes, through a handle opened without following links. */
  async truncate(file: string, length: number): Promise<void> {
    const handle = await this.open(file, 'r+');
    try {
      await handle.truncate(length);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /**
   * Moves a finished temp file to its final name without ever replacing an existing file: a
   * hard link fails with EEXIST where rename would silently overwrite. File systems without
   * hard links (FAT, exFAT) fall back to rename after checking the name is free.
   */
  async publish(temp: string, final: string, options: { syncDirectory?: boolean } = {}): Promise<void> {
    await this.refuseLinks(path.dirname(temp));
    await this.refuseLinks(path.dirname(final));
    const from = this.inside(temp);
    const to = this.inside(final);
    // link() would link a planted symbolic link itself: only a regular file is published.
    if (!(await fs.lstat(from)).isFile()) throw notAFile(from);
    try {
      await fs.link(from, to);
      await fs.unlink(from);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw e;
      const isTaken = await fs.lstat(to).then(
        () => true,
        () => false,
      );
      if (isTaken) throw Object.assign(new Error(`${to} exists`), { code: 'EEXIST' });
      await fs.rename(from, to);
    }
    // A batch publishing many files syncs the directory once, after the last.
    if (options.syncDirectory ?? true) await fsyncDirectory(path.dirname(to));
  }
}
