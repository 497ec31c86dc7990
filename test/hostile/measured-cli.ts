/**
 * Runs the real CLI in a child process (its own home and state folder) and measures what a
 * hostile server cost it: wall time, peak resident memory (/proc's VmHWM, written at exit by
 * peak-rss.mjs and polled while it runs, so a child that had to be killed still has a figure),
 * and, when asked, how long it took to stop after Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePrivateHome } from '../support/private-home.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PEAK_RSS_HOOK = fileURLToPath(new URL('./peak-rss.mjs', import.meta.url));
/** A run that takes longer is killed and reported as such (every case here ends in seconds). */
const CHILD_LIMIT_MS = 90_000;
const POLL_MS = 50;

export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From start to exit. */
  elapsedMs: number;
  /** Peak resident set size in MB. */
  peakRssMb: number;
  /** With `interruptOn`: from the SIGINT to the exit. */
  stopMs?: number;
  /** True when the child had to be killed at CHILD_LIMIT_MS. */
  isKilled: boolean;
}

export interface MeasuredOptions {
  env?: Record<string, string>;
  /** Sends SIGINT (Ctrl-C) once this resolves. */
  interruptOn?: Promise<unknown>;
}

/** VmHWM of a running process in KB, or 0 when it is gone. */
const highWaterKb = (pid: number): number => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
};

/** `mailferry ARGS` (through tsx, as the other CLI tests run it), measured. */
export const runMeasuredCli = (args: string[], options: MeasuredOptions = {}): Promise<MeasuredRun> =>
  new Promise((resolve, reject) => {
    const home = makePrivateHome('hostile');
    const work = mkdtempSync(path.join(tmpdir(), 'mailferry-hostile-run-'));
    const rssFile = path.join(work, 'peak-rss');
    const startedAt = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', PEAK_RSS_HOOK, 'src/cli/main.ts', ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...home.env, NO_COLOR: '1', MAILFERRY_TEST_PEAK_RSS_FILE: rssFile, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let polledKb = 0;
    let interruptedAt: number | undefined;
    let isKilled = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const poll = setInterval(() => (polledKb = Math.max(polledKb, highWaterKb(child.pid ?? 0))), POLL_MS);
    const limit = setTimeout(() => {
      isKilled = true;
      child.kill('SIGKILL');
    }, CHILD_LIMIT_MS);
    void options.interruptOn?.then(() => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      interruptedAt = Date.now();
      child.kill('SIGINT');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(limit);
      const exitedAt = Date.now();
      const reportedKb = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) : 0;
      rmSync(home.dir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
      resolve({
        code,
        stdout,
        stderr,
        elapsedMs: exitedAt - startedAt,
        peakRssMb: Math.max(reportedKb, polledKb) / 1024,
        stopMs: interruptedAt !== undefined ? exitedAt - interruptedAt : undefined,
        isKilled,
      });
    });
  });

/** A fresh folder for a run's state and archive; the caller removes it. */
export const freshFolder = (label: string): string => mkdtempSync(path.join(tmpdir(), `mailferry-hostile-${label}-`));

/**
 * `mailferry COMMAND --from FROM` into a fresh Maildir archive with a state folder of its own
 * (both removed afterwards), the source password in the environment, measured.
 */
export const runIntoArchive = async (command: 'plan' | 'copy', from: string, args: string[], options: MeasuredOptions = {}): Promise<MeasuredRun> => {
  const dir = freshFolder(command);
  try {
    return await runMeasuredCli([command, '--from', from, '--to', `maildir:${dir}/archive`, '--state', `${dir}/state`, ...args], {
      ...options,
      env: { MAILFERRY_FROM_PASSWORD: 'hostile-test-secret', ...options.env },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
