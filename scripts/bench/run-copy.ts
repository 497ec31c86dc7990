/**
 * Runs the real `mailferry` CLI as a child process and measures it from outside: wall time,
 * peak RSS (GNU time's %M, the kernel's max resident set of the process), and from its
 * `--json` progress events the copy rate of the first and the last 10% of the messages.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const GNU_TIME = '/usr/bin/time';
/** No benchmark run may take longer than this (a hung copy must not hang the benchmark). */
const RUN_TIMEOUT_MS = 60 * 60 * 1000;

export interface CliRun {
  exitCode: number;
  wallMs: number;
  peakRssKb?: number;
  /** CPU seconds of the mailferry process (GNU time's %U and %S). */
  userCpuSeconds?: number;
  systemCpuSeconds?: number;
  /** Progress samples: time since spawn, messages and bytes done (whole job). */
  samples: { atMs: number; messagesDone: number; bytesDone: number }[];
  messagesTotal: number;
  bytesTotal: number;
  summary?: { exitCode: number; report?: { status: string; totals: Record<string, number> } };
  stderr: string;
}

export interface CliCommand {
  /** node + script, e.g. ['node', '.tmp/bench-dist/src/cli/main.js']. */
  command: string[];
  args: string[];
  env: Record<string, string>;
}

export const runCli = async ({ command, args, env }: CliCommand): Promise<CliRun> => {
  const scratch = mkdtempSync(join(tmpdir(), 'mf-bench-time-'));
  const timeFile = join(scratch, 'time');
  const hasTime = existsSync(GNU_TIME);
  const argv = hasTime ? [GNU_TIME, '-f', '%U %S %M', '-o', timeFile, ...command, ...args] : [...command, ...args];
  const started = performance.now();
  const child = spawn(argv[0] as string, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const samples: CliRun['samples'] = [];
  let messagesTotal = 0;
  let bytesTotal = 0;
  let summary: CliRun['summary'];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const atMs = performance.now() - started;
    let event: { type?: string; progress?: { messagesDone: number; bytesDone: number; messagesTotal: number; bytesTotal: number; status: string } } & Record<string, unknown>;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (event.type === 'progress' && event.progress) {
      const p = event.progress;
      messagesTotal = p.messagesTotal;
      bytesTotal = p.bytesTotal;
      samples.push({ atMs, messagesDone: p.messagesDone, bytesDone: p.bytesDone });
    } else if (event.type === 'summary') summary = event as unknown as CliRun['summary'];
  });
  const exitCode = await new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  clearTimeout(killer);
  const wallMs = performance.now() - started;
  let peakRssKb: number | undefined;
  let userCpuSeconds: number | undefined;
  let systemCpuSeconds: number | undefined;
  if (hasTime && existsSync(timeFile)) {
    // The last line; a killed child makes GNU time print a note line before it.
    const [user, system, kb] = (readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
    if (kb !== undefined && Number.isFinite(kb) && kb > 0) peakRssKb = kb;
    if (user !== undefined && Number.isFinite(user)) userCpuSeconds = user;
    if (system !== undefined && Number.isFinite(system)) systemCpuSeconds = system;
  }
  rmSync(scratch, { recursive: true, force: true });
  return { exitCode, wallMs, peakRssKb, userCpuSeconds, systemCpuSeconds, samples, messagesTotal, bytesTotal, summary, stderr };
};

/** When the job's message counter crossed `target`, interpolated between progress samples. */
const crossing = (samples: CliRun['samples'], target: number): number | undefined => {
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as CliRun['samples'][number];
    if (s.messagesDone >= target) {
      const prev = samples[i - 1];
      if (!prev || s.messagesDone === prev.messagesDone) return s.atMs;
      return prev.atMs + ((target - prev.messagesDone) / (s.messagesDone - prev.messagesDone)) * (s.atMs - prev.atMs);
    }
  }
  return undefined;
};

/**
 * Messages per second over the first and the last 10% of the messages. The first 10% starts
 * at the last sample that still had nothing done (copying begins), so connecting and
 * scanning are not counted against it. Progress events come at most every 250 ms: on a run
 * of a few seconds these figures are coarse.
 */
export const edgeRates = (run: CliRun): { first?: number; last?: number } => {
  const total = run.messagesTotal;
  if (total < 10 || run.samples.length < 3) return {};
  const zero = [...run.samples].reverse().find((s) => s.messagesDone === 0);
  const t0 = zero?.atMs;
  const t10 = crossing(run.samples, total * 0.1);
  const t90 = crossing(run.samples, total * 0.9);
  const t100 = crossing(run.samples, total);
  const rate = (from: number | undefined, to: number | undefined): number | undefined =>
    from !== undefined && to !== undefined && to > from ? (total * 0.1) / ((to - from) / 1000) : undefined;
  return { first: rate(t0, t10), last: rate(t90, t100) };
};
