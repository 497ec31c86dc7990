/**
 * `npm run bench`: how fast `mailferry copy` moves a mailbox between two private Dovecots.
 *
 * What it does, in order:
 * 1. Compiles the app (tsc into .tmp/bench-dist, so nobody's dist/ is touched) unless --no-build.
 * 2. Generates a deterministic corpus (default ~2,000 messages / ~200 MB, 2 KB–10 MB; or
 *    --big-folder: one folder of 100,000 small messages) and writes it into the source's maildir
 *    (fast; filling is not measured).
 * 3. Per run (--runs, default 3): `node .tmp/bench-dist/src/cli/main.js copy ... --json` into a
 *    fresh destination account, under GNU time for the peak RSS; then the same command again
 *    (nothing new: the no-op re-run time); then the destination is read back and compared with
 *    the corpus byte for byte, with flags and INTERNALDATE, so a fast wrong copy cannot pass.
 * 4. `mailferry plan` against an account of --folders folders (default 1,000).
 * Prints one table row of medians (and the single runs) to stdout; with --out, also JSON.
 * With --latency-ms L, both servers sit behind a proxy adding L ms each way (a slow link).
 * Where the time goes: each copy's CPU seconds in mailferry (GNU time), in the source Dovecot
 * and in the destination Dovecot (their processes' CPU from /proc, process-cpu.ts), next to
 * the wall time; with --cpu-prof DIR, mailferry runs under `node --cpu-prof` and the profile's
 * heaviest functions are listed (scripts/bench/cpu-profile-summary.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { corpusBytes, expectedFromCorpus, type CorpusFolder } from '../test/support/corpus.js';
import { startDovecot, type DovecotServer } from '../test/support/dovecot.js';
import { diffMail, snapshotAccount } from '../test/support/mail-snapshot.js';
import { bigFolderCorpus, hugeMessageCorpus, manyFoldersCorpus, oneFolderCorpus, standardCorpus, writeMaildir } from './bench/bench-corpus.js';
import { summarizeProfiles } from './bench/cpu-profile-summary.js';
import { dovecotCpuSeconds, waitForSessionsEnded } from './bench/process-cpu.js';
import { startLatencyProxy, type LatencyProxy } from './bench/latency-proxy.js';
import { edgeRates, runCli, type CliRun } from './bench/run-copy.js';
import { fmt, intOption, median } from './bench/figures.js';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, '.tmp', 'bench-dist');
const PASSWORD = 'bench-password';

const { values } = parseArgs({
  options: {
    messages: { type: 'string' },
    'big-folder': { type: 'boolean' },
    'one-folder': { type: 'boolean' },
    'cpu-prof': { type: 'string' },
    'huge-message-mb': { type: 'string' },
    'latency-ms': { type: 'string' },
    runs: { type: 'string' },
    connections: { type: 'string' },
    folders: { type: 'string' },
    'no-plan': { type: 'boolean' },
    'no-build': { type: 'boolean' },
    dist: { type: 'string' },
    'node-options': { type: 'string' },
    'no-verify': { type: 'boolean' },
    label: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(`npm run bench -- [options]
  --messages N         messages in the corpus (default 2000; with --big-folder 100000)
  --big-folder         one folder of small messages instead of the standard mailbox
  --one-folder         the standard mailbox's messages all in one INBOX (a real Inbox)
  --cpu-prof DIR       run mailferry under node --cpu-prof, profiles into DIR, heaviest functions listed
  --huge-message-mb M  add a folder holding one message of M MB
  --latency-ms L       put both servers behind a proxy adding L ms each way
  --runs R             copy runs, median reported (default 3)
  --connections C      pass --connections C to mailferry
  --folders F          folders of the account timed with "mailferry plan" (default 1000)
  --no-plan            skip the plan timing
  --no-build           use the existing .tmp/bench-dist build
  --dist DIR           run the CLI compiled in DIR instead (another version, for before/after)
  --node-options OPTS  NODE_OPTIONS for the mailferry process only (e.g. --max-old-space-size=128)
  --label TEXT         name of the table row
  --out FILE           also write the figures as JSON (e.g. bench-results/x.json)
Peers on the same machine and corpus (imapsync, mbsync, offlineimap, doveadm import):
  npx tsx scripts/bench/peers.ts --help
`);
  process.exit(0);
}

const isBig = values['big-folder'] === true;
const isOneFolder = values['one-folder'] === true;
const messageCount = intOption(values.messages, isBig ? 100_000 : 2_000);
const runs = Math.max(1, intOption(values.runs, 3));
const latencyMs = intOption(values['latency-ms'], 0);
const planFolders = intOption(values.folders, 1000);
const hugeMb = intOption(values['huge-message-mb'], 0);

const log = (text: string): void => {
  process.stderr.write(`[bench] ${text}\n`);
};

const main = async (): Promise<void> => {
  if (!values['no-build'] && !values.dist) {
    log('compiling into .tmp/bench-dist');
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.json'), '--outDir', DIST], { stdio: 'inherit', cwd: ROOT });
  }
  const script = join(values.dist ? resolve(values.dist) : DIST, 'src', 'cli', 'main.js');
  const cpuProfDir = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined;
  const cli = ['node', script];
  const profiledCli = cpuProfDir ? ['node', '--cpu-prof', '--cpu-prof-dir', cpuProfDir, script] : cli;

  log('generating corpus');
  const folders: CorpusFolder[] = isBig ? bigFolderCorpus(messageCount) : isOneFolder ? oneFolderCorpus(messageCount) : standardCorpus(messageCount);
  if (hugeMb > 0) folders.push(...hugeMessageCorpus(hugeMb * 1024 * 1024));
  const totalMessages = folders.reduce((n, f) => n + f.messages.length, 0);
  const totalBytes = corpusBytes(folders);
  log(`${totalMessages} messages, ${(totalBytes / 1e6).toFixed(1)} MB in ${folders.length} folder(s)`);

  const servers: DovecotServer[] = [];
  const proxies: LatencyProxy[] = [];
  const stateRoot = mkdtempSync(join(tmpdir(), 'mf-bench-state-'));
  try {
    const destinationUsers = Array.from({ length: runs }, (_, i) => ({ name: `dst${i + 1}`, password: PASSWORD }));
    const source = await startDovecot({ users: [{ name: 'src', password: PASSWORD }, { name: 'many', password: PASSWORD }], rawlog: false });
    servers.push(source);
    const destination = await startDovecot({ users: [...destinationUsers, { name: 'plan', password: PASSWORD }], rawlog: false });
    servers.push(destination);
    log('filling the source');
    writeMaildir(source.mailRoot('src'), folders);
    if (!values['no-plan']) writeMaildir(source.mailRoot('many'), manyFoldersCorpus(planFolders));

    let sourcePort = source.port;
    let destinationPort = destination.port;
    if (latencyMs > 0) {
      const a = await startLatencyProxy(source.port, latencyMs);
      const b = await startLatencyProxy(destination.port, latencyMs);
      proxies.push(a, b);
      sourcePort = a.port;
      destinationPort = b.port;
    }
    const connections = values.connections ? ['--connections', values.connections] : [];
    const env: Record<string, string> = { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, NO_COLOR: '1' };
    if (values['node-options']) env.NODE_OPTIONS = values['node-options'];
    const copyArgs = (user: string, stateDir: string): string[] => [
      'copy',
      '--from',
      `imap://src@127.0.0.1:${sourcePort}`,
      '--to',
      `imap://${user}@127.0.0.1:${destinationPort}`,
      '--allow-plaintext',
      '--state',
      stateDir,
      '--json',
      ...connections,
    ];

    const results: { copy: CliRun; noop: CliRun; first?: number; last?: number; sourceCpu: number; destinationCpu: number }[] = [];
    const expected = expectedFromCorpus(folders, '/');
    for (let r = 0; r < runs; r++) {
      const user = `dst${r + 1}`;
      const stateDir = join(stateRoot, user);
      log(`run ${r + 1}/${runs}: copy`);
      const cpuBefore = [dovecotCpuSeconds(source.dir), dovecotCpuSeconds(destination.dir)];
      const copy = await runCli({ command: profiledCli, args: copyArgs(user, stateDir), env });
      await Promise.all([waitForSessionsEnded(source.dir), waitForSessionsEnded(destination.dir)]);
      const sourceCpu = dovecotCpuSeconds(source.dir) - (cpuBefore[0] as number);
      const destinationCpu = dovecotCpuSeconds(destination.dir) - (cpuBefore[1] as number);
      if (copy.exitCode !== 0) throw new Error(`copy exited ${copy.exitCode}:\n${copy.stderr}\n${JSON.stringify(copy.summary)?.slice(0, 2000)}`);
      log(`run ${r + 1}/${runs}: ${(copy.wallMs / 1000).toFixed(2)} s; no-op re-run`);
      const noop = await runCli({ command: cli, args: copyArgs(user, stateDir), env });
      if (noop.exitCode !== 0) throw new Error(`re-run exited ${noop.exitCode}:\n${noop.stderr}`);
      // A re-run that copied anything twice shows up below as unexpected messages.
      if (!values['no-verify']) {
        log(`run ${r + 1}/${runs}: verifying the destination byte for byte`);
        const problems = diffMail(expected, await snapshotAccount(destination.account(user)));
        if (problems.length > 0) throw new Error(`the destination differs from the source:\n${problems.slice(0, 20).join('\n')}`);
      }
      results.push({ copy, noop, ...edgeRates(copy), sourceCpu, destinationCpu });
    }

    const planMs: number[] = [];
    if (!values['no-plan']) {
      for (let r = 0; r < runs; r++) {
        const plan = await runCli({
          command: cli,
          args: ['plan', '--from', `imap://many@127.0.0.1:${sourcePort}`, '--to', `imap://plan@127.0.0.1:${destinationPort}`, '--allow-plaintext', '--json'],
          env,
        });
        if (plan.exitCode !== 0) throw new Error(`plan exited ${plan.exitCode}:\n${plan.stderr}`);
        planMs.push(plan.wallMs);
      }
    }

    const wall = median(results.map((x) => x.copy.wallMs / 1000)) as number;
    const row = {
      label: values.label ?? (isBig ? `big folder ${messageCount}` : isOneFolder ? `one folder ${messageCount}` : `${messageCount} msgs`) + (latencyMs ? ` +${latencyMs} ms` : ''),
      messages: totalMessages,
      megabytes: totalBytes / 1e6,
      wallSeconds: wall,
      messagesPerSecond: totalMessages / wall,
      megabytesPerSecond: totalBytes / 1e6 / wall,
      peakRssMb: median(results.map((x) => (x.copy.peakRssKb ?? NaN) / 1024)),
      noopSeconds: median(results.map((x) => x.noop.wallMs / 1000)),
      firstTenthRate: median(results.map((x) => x.first ?? NaN)),
      lastTenthRate: median(results.map((x) => x.last ?? NaN)),
      planSeconds: median(planMs.map((ms) => ms / 1000)),
      planFolders: values['no-plan'] ? undefined : planFolders,
      cpuSeconds: {
        mailferry: median(results.map((x) => (x.copy.userCpuSeconds ?? NaN) + (x.copy.systemCpuSeconds ?? NaN))),
        source: median(results.map((x) => x.sourceCpu)),
        destination: median(results.map((x) => x.destinationCpu)),
      },
      runs: results.map((x) => ({
        wallSeconds: x.copy.wallMs / 1000,
        peakRssMb: (x.copy.peakRssKb ?? NaN) / 1024,
        noopSeconds: x.noop.wallMs / 1000,
        first: x.first,
        last: x.last,
        cpu: { user: x.copy.userCpuSeconds, system: x.copy.systemCpuSeconds, source: x.sourceCpu, destination: x.destinationCpu },
      })),
    };
    const lastOverFirst = row.firstTenthRate && row.lastTenthRate ? row.lastTenthRate / row.firstTenthRate : undefined;
    process.stdout.write(
      [
        `| case | wall | msgs/s | MB/s | peak RSS | no-op re-run | rate first/last 10% (msgs/s) | plan ${planFolders} folders |`,
        '|---|---:|---:|---:|---:|---:|---:|---:|',
        `| ${row.label} (${totalMessages} msgs, ${row.megabytes.toFixed(0)} MB) | ${fmt(wall, 2)} s | ${fmt(row.messagesPerSecond, 0)} | ${fmt(row.megabytesPerSecond, 1)} | ${fmt(row.peakRssMb, 0)} MB | ${fmt(row.noopSeconds, 2)} s | ${fmt(row.firstTenthRate, 0)} / ${fmt(row.lastTenthRate, 0)}${lastOverFirst ? ` (${(lastOverFirst * 100).toFixed(0)}%)` : ''} | ${fmt(row.planSeconds, 2)} s |`,
        `runs: ${row.runs.map((x) => `${x.wallSeconds.toFixed(2)} s / ${fmt(x.peakRssMb, 0)} MB / re-run ${x.noopSeconds.toFixed(2)} s`).join('; ')}`,
        `CPU seconds per run (mailferry user + system / source Dovecot / destination Dovecot, against the wall): ${row.runs
          .map((x) => `${fmt(x.cpu.user, 2)} + ${fmt(x.cpu.system, 2)} / ${fmt(x.cpu.source, 2)} / ${fmt(x.cpu.destination, 2)} in ${x.wallSeconds.toFixed(2)} s`)
          .join('; ')}`,
        '',
      ].join('\n'),
    );
    if (cpuProfDir) process.stdout.write(summarizeProfiles(cpuProfDir) + '\n');
    if (values.out) {
      mkdirSync(resolve(values.out, '..'), { recursive: true });
      writeFileSync(values.out, JSON.stringify({ at: new Date().toISOString(), latencyMs, ...row }, null, 2));
    }
  } finally {
    for (const p of proxies) await p.stop();
    for (const s of servers) await s.stop();
    rmSync(stateRoot, { recursive: true, force: true });
  }
};

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 1;
});
