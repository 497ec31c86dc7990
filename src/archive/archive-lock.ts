/**
 * One writing process per archive. Two processes appending to the same mbox would interleave
 * their records and each would roll back the other's "torn" bytes; so a destination archive is
 * locked by a file `.mailferry-lock` at its root (a hidden file: Thunderbird, Dovecot and mutt
 * ignore it) naming the process that writes.
 *
 * Within one process the lock is shared and counted: the job runner opens one destination per
 * worker, and they write different folders. A lock whose process is gone (same host, no such
 * PID: a crash or a kill) is taken over; a live one, or one from another host (a network drive),
 * is refused with the path, so a person can decide.
 */
import { promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrationError } from '../contract/result.js';
import { ArchiveJail } from './archive-jail.js';
import { isProcessAlive } from '../fs/is-process-alive.js';

export const LOCK_FILE = '.mailferry-lock';
const TAKEOVER_ATTEMPTS = 3;

interface LockInfo {
  pid: number;
  host: string;
  since: number;
}

/** Locks this process holds, by lock file; set before any await so concurrent openers share one. */
const held = new Map<string, { count: number; ready: Promise<void> }>();

const readLock = async (file: string): Promise<LockInfo | undefined> => {
  try {
    // A lock file planted as a link is not read through (and so counts as unreadable).
    const value = JSON.parse((await new ArchiveJail(path.dirname(file)).readFile(file)).toString('utf8')) as Partial<LockInfo>;
    return typeof value.pid === 'number' && typeof value.host === 'string' ? { pid: value.pid, host: value.host, since: Number(value.since) || 0 } : undefined;
  } catch {
    return undefined;
  }
};

/** Takes the archive's write lock (or shares this process's); resolves to its release. */
export const lockArchive = async (root: string): Promise<() => Promise<void>> => {
  const file = path.join(root, LOCK_FILE);
  let entry = held.get(file);
  if (!entry) {
    const created = { count: 0, ready: acquire(file) };
    created.ready.catch(() => {
      if (held.get(file) === created) held.delete(file);
    });
    held.set(file, created);
    entry = created;
  }
  const mine = entry;
  mine.count++;
  try {
    await mine.ready;
  } catch (e) {
    mine.count--;
    throw e;
  }
  let isReleased = false;
  return async () => {
    if (isReleased) return;
    isReleased = true;
    if (--mine.count > 0 || held.get(file) !== mine) return;
    // Synchronously, so that no opener in this process sees the map empty but the file still there.
    held.delete(file);
    rmSync(file, { force: true });
  };
};

const acquire = async (file: string): Promise<void> => {
  const info: LockInfo = { pid: process.pid, host: os.hostname(), since: Date.now() };
  for (let attempt = 1; attempt <= TAKEOVER_ATTEMPTS; attempt++) {
    try {
      const handle = await new ArchiveJail(path.dirname(file)).open(file, 'wx');
      try {
        await handle.writeFile(JSON.stringify(info) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const other = await readLock(file);
    // A lock file being written right now reads as empty: look again before judging it.
    if (!other) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (!(await readLock(file))) throw lockedError(file, 'an unreadable lock file');
      continue;
    }
    // Ours but not in `held`: left by a store of this process that never closed. Gone: crashed.
    if (other.host === info.host && (other.pid === process.pid || !isProcessAlive(other.pid))) {
      await fs.rm(file, { force: true });
      continue;
    }
    throw lockedError(file, `process ${other.pid} on ${other.host}, since ${new Date(other.since).toISOString()}`);
  }
  throw lockedError(file, 'another process');
};

const lockedError = (file: string, who: string) =>
  migrationError('bad-input', `Another Mailferry is writing to this archive (${who}). Wait for it to finish; if none is running, delete ${file}.`);
