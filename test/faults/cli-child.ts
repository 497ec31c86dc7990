/**
 * Runs the real CLI (`node --import tsx src/cli/main.ts`) as a child process, as a person would,
 * with passwords in environment variables only, and can SIGKILL it at a chosen point. Each run
 * gets a home of its own, so nothing falls back on the machine's app-data folder.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { World } from './harness.js';
import { DESTINATION_USER, newestFirstFromEnv, SOURCE_USER } from './harness.js';
import { makePrivateHome } from '../support/private-home.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** A CLI run that takes longer than this is killed and the test fails. */
const CHILD_LIMIT_MS = 60_000;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Parsed `--json` lines. */
  events: { type: string; [k: string]: unknown }[];
  killed: boolean;
}

export interface CliRunOptions {
  /** SIGKILL the child once this returns true for a parsed JSON event (checked on each line). */
  killWhen?: (event: { type: string; [k: string]: unknown }, count: number, killIn: (ms: number) => void) => boolean;
  /** SIGKILL after this many ms. */
  killAfterMs?: number;
  /** SIGKILL once this resolves (e.g. when the fault proxy has seen a whole APPEND). */
  killOn?: Promise<unknown>;
  env?: Record<string, string>;
  /** The child is killed and the run fails after this long (default CHILD_LIMIT_MS). */
  limitMs?: number;
}

export const cliArgs = (world: World, extra: string[] = []): string[] => [
  'copy',
  '--from',
  `imap://${SOURCE_USER.name}@127.0.0.1:${world.sourceProxy.port}`,
  '--to',
  `imap://${DESTINATION_USER.name}@127.0.0.1:${world.destinationProxy.port}`,
  '--allow-plaintext',
  '--state',
  world.stateDir,
  '--json',
  '--timeout',
  '2',
  '--retry-delay',
  '0.05',
  ...newestFirstArgs(extra),
  ...extra,
];

/** The matrix run newest first (MAILFERRY_NEWEST_FIRST_DAYS, see harness.ts), unless the test sets it itself. */
const newestFirstArgs = (extra: string[]): string[] => {
  const env = newestFirstFromEnv(process.env);
  return 'newestFirst' in env && !extra.includes('--newest-first') && !extra.includes('--recent-days') ? ['--newest-first', '--recent-days', String(env.recentDays)] : [];
};

export const runCli = (args: string[], options: CliRunOptions = {}): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const home = makePrivateHome('cli');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...home.env,
        NO_COLOR: '1',
        MAILFERRY_FROM_PASSWORD: SOURCE_USER.password,
        MAILFERRY_TO_PASSWORD: DESTINATION_USER.password,
        // The matrix with splitting forced on passes it to the CLI too (see harness.ts).
        ...(process.env.MAILFERRY_SPLIT_MIN_MESSAGES ? { MAILFERRY_SPLIT_MIN_MESSAGES: process.env.MAILFERRY_SPLIT_MIN_MESSAGES } : {}),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let count = 0;
    let killed = false;
    const events: CliResult['events'] = [];
    const kill = (): void => {
      if (killed || child.exitCode !== null || child.signalCode !== null) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const limitMs = options.limitMs ?? CHILD_LIMIT_MS;
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not finish within ${limitMs} ms:\n${stderr.slice(-2000)}`));
    }, limitMs);
    let killTimer = options.killAfterMs !== undefined ? setTimeout(kill, options.killAfterMs) : undefined;
    void options.killOn?.then(kill, () => undefined);
    const killIn = (ms: number): void => {
      if (killTimer) clearTimeout(killTimer);
      killTimer = setTimeout(kill, ms);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stdout += text;
      pending += text;
      let eol: number;
      while ((eol = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, eol);
        pending = pending.slice(eol + 1);
        if (!line.startsWith('{')) continue;
        try {
          const event = JSON.parse(line) as CliResult['events'][number];
          events.push(event);
          count++;
          if (!killed && options.killWhen?.(event, count, killIn)) kill();
        } catch {
          // a line torn by the kill
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      if (killTimer) clearTimeout(killTimer);
      rmSync(home.dir, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr, events, killed });
    });
  });
