/**
 * `npx tsx scripts/bench/batch.ts`: how long `mailferry batch` takes for an office of mailboxes
 * (default 50) at several `--parallel` settings (default 1, 4 and 8), between two private
 * Dovecots on loopback.
 *
 * 1. Compiles the app into .tmp/bench-dist (unless --no-build), as `npm run bench` does.
 * 2. Fills the office's source mailboxes (test/batch/batch-world.ts: seeded corpora, one with
 *    every awkward case; --messages-per-folder sets their size). Filling is not measured.
 * 3. Per setting: a fresh destination server, `mailferry batch users.csv --parallel P --json`
 *    (wall time), then the same command again (nothing new: the re-run time), then every
 *    mailbox compared with its source, so a fast wrong batch cannot pass.
 * Prints a table to stdout.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { assertOfficeExact, startOffice } from '../../test/batch/batch-world.js';
import { fmt, intOption } from './figures.js';
import { runCli } from './run-copy.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DIST = join(ROOT, '.tmp', 'bench-dist');

const { values } = parseArgs({
  options: {
    users: { type: 'string' },
    parallel: { type: 'string' },
    'messages-per-folder': { type: 'string' },
    'no-build': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`npx tsx scripts/bench/batch.ts [options]
  --users N                 mailboxes in the office (default 50)
  --parallel LIST           --parallel settings to measure, comma-separated (default 1,4,8)
  --messages-per-folder M   messages in each of a mailbox's three folders (default 20)
  --no-build                use .tmp/bench-dist as it is
`);
  process.exit(0);
}

const users = intOption(values.users, 50);
const settings = (values.parallel ?? '1,4,8').split(',').map((p) => intOption(p, 1));
if (!values['no-build']) execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.json'), '--outDir', DIST], { stdio: 'inherit', cwd: ROOT });

const office = await startOffice(users, { messagesPerFolder: intOption(values['messages-per-folder'], 20) });
try {
  const messages = [...office.sourceBefore.values()].reduce((n, s) => n + s.folders.reduce((m, f) => m + f.messages.filter((x) => !x.flags.includes('\\Deleted')).length, 0), 0);
  const bytes = [...office.sourceBefore.values()].reduce((n, s) => n + s.folders.reduce((m, f) => m + f.messages.reduce((k, x) => k + x.size, 0), 0), 0);
  process.stdout.write(`${users} mailboxes, ${messages} messages, ${(bytes / 1024 / 1024).toFixed(1)} MB\n\n| --parallel | wall | mailboxes/min | re-run, nothing new |\n|---:|---:|---:|---:|\n`);
  for (const parallel of settings) {
    const destination = await office.addDestination();
    const csv = office.writeCsv(`bench-${parallel}.csv`, destination);
    const args = ['batch', csv, '--state-dir', join(office.dir, `state-${parallel}`), '--allow-plaintext', '--parallel', String(parallel), '--json'];
    const command = { command: ['node', join(DIST, 'src', 'cli', 'main.js')], args, env: { ...office.env, NO_COLOR: '1' } };
    const first = await runCli(command);
    if (first.exitCode !== 0) throw new Error(`the batch at --parallel ${parallel} ended with ${first.exitCode}:\n${first.stderr.slice(-2000)}`);
    const again = await runCli(command);
    if (again.exitCode !== 0) throw new Error(`the re-run at --parallel ${parallel} ended with ${again.exitCode}`);
    await destination.proxy.whenIdle(60_000);
    await assertOfficeExact(office, destination, office.users.map((u) => u.name));
    process.stdout.write(`| ${parallel} | ${fmt(first.wallMs / 1000)} s | ${fmt(users / (first.wallMs / 60_000), 0)} | ${fmt(again.wallMs / 1000)} s |\n`);
  }
} finally {
  await office.stop();
}
