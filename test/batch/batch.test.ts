/**
 * `mailferry batch` as IT staff run it: the real CLI in child processes, an office of 50 users on
 * a private Dovecot, moved to another Dovecot, each server behind a fault proxy (the wire is read,
 * and every comparison waits until both servers have closed every connection).
 *
 * - An invalid CSV: exit 2, the rows named with row and line, nothing copied, no connection made.
 * - The batch killed with SIGKILL in the middle, run again at once: every mailbox exact, one whose
 *   new server refuses the password reported as failed with the server's refusal (exit 1), the
 *   others verified; the CSV and HTML reports say so.
 * - Run again: a fast no-op (no message read or appended).
 * - Split into 3 shards by GNU parallel, with the README's own recipe, over one CSV and one state
 *   folder: the union is exact.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseCsv } from '../../src/batch/parse-csv.js';
import type { MailboxSummary } from '../../src/contract/batch.js';
import { runCli, type CliResult } from '../faults/cli-child.js';
import { makePrivateHome } from '../support/private-home.js';
import { assertNothingDestructiveOn, assertOfficeExact, startOffice, type Destination, type Office } from './batch-world.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const USERS = 50;
/** A whole batch run of the office; far more than it takes on a busy machine, less than the test's limit. */
const RUN_LIMIT_MS = 240_000;
/** Long enough for what a killed process left on the wire to reach the server, and the server to close. */
const IDLE_WAIT_MS = 90_000;
const BODY_READ = /^\S+ UID FETCH .*BODY\.PEEK\[\]/i;
const APPEND = /^\S+ APPEND /i;

const summaryOf = (run: CliResult): { exitCode: number; mailboxes: MailboxSummary[] } => {
  const last = run.events.at(-1) as { type: string; exitCode: number; mailboxes: MailboxSummary[] } | undefined;
  assert.equal(last?.type, 'summary', `the last line is the summary:\n${run.stderr.slice(-3000)}`);
  return last;
};

const csvRows = (file: string): Record<string, string>[] => {
  const parsed = parseCsv(readFileSync(file, 'utf8'));
  assert.ok(parsed.ok);
  const [header, ...rows] = parsed.value;
  return rows.map((r) => Object.fromEntries(r.fields.map((f, i) => [header?.fields[i] as string, f])));
};

describe('mailferry batch: 50 mailboxes between two Dovecots', { concurrency: false }, () => {
  let office: Office;
  let destination: Destination;
  const wrong = 'u07';
  const batchArgs = (csv: string, state: string, extra: string[] = []): string[] => ['batch', csv, '--state-dir', state, '--allow-plaintext', '--json', '--timeout', '10', '--retry-delay', '0.05', ...extra];

  before(async () => {
    office = await startOffice(USERS);
    destination = await office.addDestination();
  });
  after(async () => {
    await office?.stop();
  });

  test('an invalid CSV: exit 2, each bad row named with row and line, nothing copied, no connection made', async () => {
    const good = readFileSync(office.writeCsv('good-for-invalid.csv', destination), 'utf8').split('\r\n');
    // Row 5 names a scheme Mailferry does not take; row 9 repeats the id of row 3.
    good[5] = (good[5] as string).replace(/^u05,imap:/, 'u05,pop3:');
    good[9] = (good[9] as string).replace(/^u09,/, 'u03,');
    const file = join(office.dir, 'invalid.csv');
    writeFileSync(file, good.join('\r\n'));
    const state = join(office.dir, 'state-invalid');
    const run = await runCli(batchArgs(file, state), { env: office.env, limitMs: RUN_LIMIT_MS });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /row 5 \(line 6\), column from: "pop3" is not supported/);
    assert.match(run.stderr, /row 9 \(line 10\), column id: The id "u03" is already the id of row 3/);
    assert.match(run.stderr, /Nothing was copied\./);
    const summary = run.events.at(-1) as { type: string; exitCode: number; problems: { row: number; line: number }[] };
    assert.deepEqual([summary.type, summary.exitCode, summary.problems.map((p) => [p.row, p.line])], ['summary', 2, [[5, 6], [9, 10]]]);
    assert.equal(office.sourceProxy.connections() + destination.proxy.connections(), 0, 'no server was contacted');
    assert.equal(existsSync(state), false, 'no state was written');
  });

  test('killed with SIGKILL mid-batch, run again at once: every mailbox exact; the one whose password is refused fails alone (exit 1); reports say so', async () => {
    const csv = office.writeCsv('office.csv', destination, { wrongPasswordFor: wrong });
    const state = join(office.dir, 'state-office');
    const report = { csv: join(office.dir, 'report.csv'), html: join(office.dir, 'report.html') };
    let finished = 0;
    const killed = await runCli(batchArgs(csv, state, ['--parallel', '4']), {
      env: office.env,
      limitMs: RUN_LIMIT_MS,
      // Some mailboxes finished, others half-way: killed at the 12th mailbox line.
      killWhen: (event) => event.type === 'mailbox' && ++finished >= 12,
    });
    assert.equal(killed.killed, true, `the first run was killed in the middle:\n${killed.stderr.slice(-2000)}`);
    const ended = new Set(killed.events.filter((e) => e.type === 'mailbox').map((e) => e.id));
    const cutOff = killed.events.filter((e) => e.type === 'plan' && !ended.has(e.id)).map((e) => e.id);
    assert.ok(ended.size < USERS, 'the kill came before the end');
    assert.ok(cutOff.length > 0, 'some mailboxes were cut off between their plan and their end');
    // Every event of a mailbox names it.
    for (const e of killed.events.filter((e) => ['progress', 'folder-status', 'job-status', 'plan', 'mailbox'].includes(e.type))) {
      assert.ok(typeof e.id === 'string' && typeof e.row === 'number', `event ${e.type} carries id and row`);
    }

    const resumed = await runCli(batchArgs(csv, state, ['--parallel', '4', '--report-csv', report.csv, '--report-html', report.html]), { env: office.env, limitMs: RUN_LIMIT_MS });
    assert.equal(resumed.code, 1, resumed.stderr.slice(-3000));
    const { exitCode, mailboxes } = summaryOf(resumed);
    assert.equal(exitCode, 1);
    assert.equal(mailboxes.length, USERS);
    const bad = mailboxes.find((m) => m.id === wrong);
    assert.equal(bad?.status, 'failed');
    assert.match(bad?.reason ?? '', /^Could not open the destination: The server refused the user name or password/);
    const others = mailboxes.filter((m) => m.id !== wrong);
    assert.deepEqual(others.filter((m) => m.status !== 'verified').map((m) => `${m.id}: ${m.status} ${m.reason ?? ''}`), [], 'every other mailbox verified');
    assert.ok(others.every((m) => m.messages > 0 && m.bytes > 0 && m.refused === 0));

    await Promise.all([destination.proxy.whenIdle(IDLE_WAIT_MS), office.sourceProxy.whenIdle(IDLE_WAIT_MS)]);
    await assertOfficeExact(office, destination, others.map((m) => m.id));
    assertNothingDestructiveOn(office.sourceProxy, destination.proxy);

    // The report: one line per mailbox, in row order, the columns the README names.
    const lines = csvRows(report.csv);
    assert.deepEqual(Object.keys(lines[0] ?? {}), ['id', 'row', 'status', 'messages', 'bytes', 'refused', 'needs_attention_folders', 'duration_s', 'reason']);
    assert.deepEqual(lines.map((l) => l.id), office.users.map((u) => u.name));
    assert.deepEqual(lines.map((l) => Number(l.row)), office.users.map((_, i) => i + 1));
    const badLine = lines.find((l) => l.id === wrong);
    assert.equal(badLine?.status, 'failed');
    assert.match(badLine?.reason ?? '', /refused the user name or password/);
    assert.deepEqual(
      lines.filter((l) => l.id !== wrong).map((l) => [l.id, l.status, l.messages]),
      others.map((m) => [m.id, 'verified', String(m.messages)]),
    );
    const html = readFileSync(report.html, 'utf8');
    assert.match(html, /50 mailboxes, 49 verified, 0 need attention, 1 failed, 0 not run/);
    assert.match(html, new RegExp(`<td>${wrong}</td><td>7</td><td>failed</td>`));
    // Each mailbox keeps its own journals under <state>/<id>.
    assert.deepEqual(readdirSync(state).sort(), office.users.map((u) => u.name).sort());
  });

  test('run again: a fast no-op (no message read, nothing appended), still exit 1 for the refused password alone', async () => {
    const csv = join(office.dir, 'office.csv');
    office.sourceProxy.wire().clear();
    destination.proxy.wire().clear();
    const started = Date.now();
    const again = await runCli(batchArgs(csv, join(office.dir, 'state-office'), ['--parallel', '4']), { env: office.env, limitMs: RUN_LIMIT_MS });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(again.code, 1, again.stderr.slice(-3000));
    const { mailboxes } = summaryOf(again);
    assert.deepEqual(mailboxes.filter((m) => m.status !== 'verified').map((m) => m.id), [wrong]);
    assert.deepEqual(office.sourceProxy.wire().commands().filter((c) => BODY_READ.test(c.line)).map((c) => c.line), [], 'no message body was read');
    assert.deepEqual(destination.proxy.wire().commands().filter((c) => APPEND.test(c.line)).map((c) => c.line), [], 'nothing was appended');
    console.log(`# the second run of ${USERS} mailboxes (nothing new) took ${seconds.toFixed(1)} s`);
    await Promise.all([destination.proxy.whenIdle(IDLE_WAIT_MS), office.sourceProxy.whenIdle(IDLE_WAIT_MS)]);
    await assertOfficeExact(office, destination, mailboxes.filter((m) => m.id !== wrong).map((m) => m.id));
  });

  test("GNU parallel runs the README's recipe: 3 shards over one CSV and one state folder, each mailbox in exactly one shard, the union exact", async () => {
    const second = await office.addDestination();
    office.writeCsv('users.csv', second);
    // The recipe as the README gives it, run by sh in the folder of users.csv.
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const lines = readme.split('\n');
    const first = lines.findIndex((l) => l.startsWith('parallel '));
    assert.ok(first >= 0, 'the README has a GNU parallel recipe');
    let last = first;
    while (lines[last]?.endsWith('\\')) last++;
    const recipe = lines.slice(first, last + 1).join('\n');
    assert.match(recipe, /mailferry batch users\.csv --state-dir state --shard \{\}\/3 --report-csv report-\{\}\.csv ::: 1 2 3$/);
    // `mailferry` here is the working tree's command line; the test servers speak plain IMAP on 127.0.0.1.
    const bin = join(office.dir, 'bin');
    mkdirSync(bin);
    const tsx = pathToFileURL(join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    writeFileSync(join(bin, 'mailferry'), `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${join(REPO, 'src', 'cli', 'main.ts')}" "$@" --allow-plaintext\n`, { mode: 0o755 });
    const home = makePrivateHome('batch-parallel');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('sh', ['-c', recipe], { cwd: office.dir, env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, ...home.env, NO_COLOR: '1', ...office.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const limit = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`parallel did not finish within ${RUN_LIMIT_MS} ms:\n${output.slice(-3000)}`));
      }, RUN_LIMIT_MS);
      child.on('error', reject);
      child.on('close', (exit) => {
        clearTimeout(limit);
        rmSync(home.dir, { recursive: true, force: true });
        if (exit !== 0) console.log(output.slice(-4000));
        resolve(exit);
      });
    });
    assert.equal(code, 0, 'every shard exited 0 (GNU parallel exits with the number of failed jobs)');
    const shards = [1, 2, 3].map((i) => csvRows(join(office.dir, `report-${i}.csv`)));
    // Shard I holds the rows whose position modulo 3 is I-1.
    for (const [i, rows] of shards.entries()) assert.deepEqual(rows.map((r) => Number(r.row) % 3), rows.map(() => (i + 1) % 3), `shard ${i + 1}`);
    const union = shards.flat();
    assert.deepEqual(union.map((r) => r.id).sort(), office.users.map((u) => u.name).sort(), 'each mailbox in exactly one shard');
    assert.deepEqual(union.filter((r) => r.status !== 'verified'), []);
    assert.deepEqual(readdirSync(join(office.dir, 'state')).sort(), office.users.map((u) => u.name).sort(), 'one state folder, a journal folder per mailbox');
    await Promise.all([second.proxy.whenIdle(IDLE_WAIT_MS), office.sourceProxy.whenIdle(IDLE_WAIT_MS)]);
    await assertOfficeExact(office, second, office.users.map((u) => u.name));
    assertNothingDestructiveOn(office.sourceProxy, second.proxy);
  });
});
