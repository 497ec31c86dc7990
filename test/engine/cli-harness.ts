/** Runs the CLI in-process (or as a child process) and collects what it said, for engine tests. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/run-cli.js';
import type { JobReport } from '../../src/contract/job.js';
import { makePrivateHome } from '../support/private-home.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed lines of --json output. */
  events: Record<string, unknown>[];
  /** The report from the final summary line (--json copy runs). */
  report?: JobReport;
}

const parseJsonLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const withResult = (code: number, stdout: string, stderr: string): CliRun => {
  const events = parseJsonLines(stdout);
  const summary = events[events.length - 1];
  return { code, stdout, stderr, events, report: summary?.type === 'summary' ? (summary.report as JobReport | undefined) : undefined };
};

export const runCliCaptured = async (args: string[], env: Record<string, string>, signal?: AbortSignal): Promise<CliRun> => {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env, signal });
  return withResult(code, stdout, stderr);
};

export const freshStateDir = (): string => mkdtempSync(path.join(tmpdir(), 'mailferry-state-'));

const CLI_ENTRY = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

/** The real CLI in a child process (tsx), for tests that kill it; it gets a home of its own. */
export const spawnCli = (args: string[], env: Record<string, string>) => {
  const home = makePrivateHome('cli');
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    env: { ...process.env, ...home.env, ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<CliRun>((resolve) =>
    child.on('close', (code, signalName) => {
      rmSync(home.dir, { recursive: true, force: true });
      resolve(withResult(code ?? (signalName ? 137 : 1), stdout, stderr));
    }),
  );
  return { child, exited, output: () => stdout };
};

export const PASSWORDS = { MAILFERRY_FROM_PASSWORD: 'source-secret-1', MAILFERRY_TO_PASSWORD: 'dest-secret-2' };
