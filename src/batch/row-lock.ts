/**
 * One process per mailbox of a batch. Shards may share a state folder, and someone may start the
 * same batch twice: two processes running one row at once would append to the same journals and
 * could copy a message twice. So each row's state folder holds a lock file naming its process.
 *
 * The lock is a lease: its holder renews it every RENEW_MS. A lock is taken over when its process
 * is gone (same host, no such PID: a crash or a kill) or when it has not been renewed for LEASE_MS
 * (its holder on another machine died: a Kubernetes pod that was killed and restarted elsewhere);
 * a row whose lock is held waits up to LEASE_MS for that, then is reported as busy.
 * Two processes judging one dead lock at the same instant could both take it over; the window is
 * one rename wide and needs two runs of one row to be started at once after a crash.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import { sleep } from '../engine/backoff.js';
import { isProcessAlive } from '../fs/is-process-alive.js';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE, writeFileAtomic } from '../fs/write-file-atomic.js';

/** The lock file in each mailbox's state folder. */
export const ROW_LOCK_FILE = '.mailferry-row-lock';
/** How often a held lock is renewed. */
export const RENEW_MS = 5_000;
/** A lock not renewed for this long is dead. */
export const LEASE_MS = 30_000;
/** How often a row waiting for a lock looks again. */
const POLL_MS = 500;

interface LockInfo {
  pid: number;
  host: string;
  since: number;
  /** A random token: a lock renewed by its holder is recognised as still its own. */
  token: string;
}

/** A held lock. */
export interface RowLock {
  release(): Promise<void>;
}

/** Tunables of a row lock (tests shorten them). */
export interface RowLockOptions {
  now?: () => number;
  leaseMs?: number;
  renewMs?: number;
  signal?: AbortSignal;
}

const readLock = async (file: string): Promise<{ info?: LockInfo; renewedAt: number } | undefined> => {
  try {
    const [text, stat] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    const value = JSON.parse(text) as Partial<LockInfo>;
    const info = typeof value.pid === 'number' && typeof value.host === 'string' ? (value as LockInfo) : undefined;
    return { info, renewedAt: stat.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Being written right now, or damaged: judged by its age alone.
    const stat = await fs.stat(file).catch(() => undefined);
    return stat ? { renewedAt: stat.mtimeMs } : undefined;
  }
};

/** Takes the lock of the row state folder `dir`, waiting up to the lease for a held one. */
export const lockRow = async (dir: string, options: RowLockOptions = {}): Promise<Result<RowLock>> => {
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? LEASE_MS;
  const file = path.join(dir, ROW_LOCK_FILE);
  await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const info: LockInfo = { pid: process.pid, host: os.hostname(), since: now(), token: `${process.pid}-${Math.random().toString(36).slice(2)}` };
  const waitUntil = now() + leaseMs;
  for (;;) {
    try {
      const handle = await fs.open(file, 'wx', PRIVATE_FILE_MODE);
      try {
        await handle.writeFile(JSON.stringify(info));
        await handle.sync();
      } finally {
        await handle.close();
      }
      return ok(holdLock(file, info, options.renewMs ?? RENEW_MS));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return err(migrationError('internal', `Could not lock ${dir}: ${(e as Error).message}`));
    }
    const other = await readLock(file);
    if (!other) continue;
    const isGone = other.info !== undefined && other.info.host === info.host && other.info.pid !== process.pid && !isProcessAlive(other.info.pid);
    const isExpired = now() - other.renewedAt > leaseMs;
    if (isGone || isExpired) {
      // Moved aside rather than deleted: of two takers, only one rename finds it.
      const aside = `${file}.${info.token}.dead`;
      try {
        await fs.rename(file, aside);
        await fs.rm(aside, { force: true });
      } catch {
        // another taker was first
      }
      continue;
    }
    if (now() >= waitUntil || options.signal?.aborted) {
      const who = other.info ? `process ${other.info.pid} on ${other.info.host}, since ${new Date(other.info.since).toISOString()}` : 'another process';
      return err(migrationError('bad-input', `This mailbox is being moved by another Mailferry (${who}). Run it once at a time; if none is running, delete ${file}.`));
    }
    await sleep(POLL_MS, options.signal).catch(() => undefined);
  }
};

const holdLock = (file: string, info: LockInfo, renewMs: number): RowLock => {
  let isReleased = false;
  // Renewing rewrites the file (a new mtime); a lock that is no longer ours is left alone.
  const renew = async (): Promise<void> => {
    const text = await fs.readFile(file, 'utf8');
    if ((JSON.parse(text) as Partial<LockInfo>).token === info.token && !isReleased) await writeFileAtomic(file, JSON.stringify(info));
  };
  // One renewal at a time, and release waits for the one under way: a renewal that had checked
  // the lock just before release removed it would otherwise put the file back (its rename lands
  // after the removal), leaving a released lock on disk in this process's name.
  let renewal: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewal = renewal.then(renew).catch(() => undefined);
  }, renewMs);
  timer.unref();
  return {
    async release() {
      if (isReleased) return;
      isReleased = true;
      clearInterval(timer);
      await renewal;
      try {
        if ((JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LockInfo>).token === info.token) await fs.rm(file, { force: true });
      } catch {
        // gone already
      }
    },
  };
};
