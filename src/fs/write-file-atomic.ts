/**
 * The one way Mailferry replaces a whole file (job records, reports, archive indexes, exported
 * files): a crash or power cut leaves either the old content or the new, never a mix or nothing.
 *
 * How: the content goes to a new temporary file beside the target (created exclusively, never
 * through a link, readable by the user only), which is fsynced, renamed over the target, and
 * then the directory is fsynced so the rename itself survives a power cut.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

/** Mode of every file Mailferry creates: readable and writable by the user only. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of every directory Mailferry creates. */
export const PRIVATE_DIRECTORY_MODE = 0o700;

// Windows has no O_NOFOLLOW; an exclusive create of a fresh name cannot follow a link there either.
const NEW_FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** fsync a directory so a rename or a new file in it survives a power cut (no-op where unsupported). */
export const fsyncDirectory = async (dir: string): Promise<void> => {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open a directory for fsync; its renames are durable enough with the file fsynced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
};

let sequence = 0;

/**
 * Replaces `file` with `content` atomically and durably. Missing parent directories are created
 * (0700); the file is 0600. A link at `file` is replaced, never followed.
 */
export const writeFileAtomic = async (file: string, content: string | Buffer): Promise<void> => {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.${sequence++}.tmp`);
  const handle = await fs.open(temp, NEW_FILE_FLAGS, PRIVATE_FILE_MODE);
  try {
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (e) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw e;
  }
  await fsyncDirectory(dir);
};
