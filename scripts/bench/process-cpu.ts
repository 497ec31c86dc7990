/**
 * CPU time of a private Dovecot instance (test/support/dovecot.ts), read from /proc: the master's
 * own time, the time of its live children (imap, imap-login, auth, ...) and of the children it
 * has already reaped (an imap process exits when its session ends). A delta of two readings is
 * what the server spent on whatever ran in between, whichever processes did it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const TICKS_PER_SECOND = 100;
const POLL_MS = 50;

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, in ticks. */
  own: number;
  /** cutime + cstime (reaped children), in ticks. */
  children: number;
}

const readStat = (pid: number | string): ProcStat | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), ppid: Number(rest[1]), own: Number(rest[11]) + Number(rest[12]), children: Number(rest[13]) + Number(rest[14]) };
  } catch {
    return undefined;
  }
};

const childrenOf = (ppid: number): ProcStat[] => {
  const found: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat?.ppid === ppid) found.push(stat);
  }
  return found;
};

const masterPid = (serverDir: string): number => Number(readFileSync(join(serverDir, 'run', 'master.pid'), 'latin1').trim());

/** Seconds of CPU (user + system) the instance whose folder is `serverDir` has used so far. */
export const dovecotCpuSeconds = (serverDir: string): number => {
  const pid = masterPid(serverDir);
  const master = readStat(pid);
  if (!master) return NaN;
  const live = childrenOf(pid).reduce((sum, c) => sum + c.own + c.children, 0);
  return (master.own + master.children + live) / TICKS_PER_SECOND;
};

/** Waits (bounded) until the instance has no imap process left: sessions ended, their CPU counted. */
export const waitForSessionsEnded = async (serverDir: string, timeoutMs = 5_000): Promise<void> => {
  const pid = masterPid(serverDir);
  const deadline = Date.now() + timeoutMs;
  const title = (p: number): string => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0')[0] ?? '';
    } catch {
      return '';
    }
  };
  while (Date.now() < deadline) {
    if (!childrenOf(pid).some((c) => title(c.pid).endsWith('/imap'))) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
};
