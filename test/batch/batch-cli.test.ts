/**
 * `mailferry batch` run in this process (runCli), on a small office: what a person reads, the
 * batch-wide --max-rate, a stop (Ctrl-C) and the run after it, input problems that need no
 * server, and `copy --report-csv / --report-html`.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseCsv } from '../../src/batch/parse-csv.js';
import { PAUSE_REASON } from '../../src/engine/run-job.js';
import type { MailboxSummary } from '../../src/contract/batch.js';
import { runCliCaptured } from '../engine/cli-harness.js';
import { assertOfficeExact, startOffice, type Destination, type Office } from './batch-world.js';

const IDLE_WAIT_MS = 60_000;

describe('mailferry batch in this process: output, rate cap, stop and resume', { concurrency: false }, () => {
  let office: Office;
  let destination: Destination;
  const args = (csv: string, state: string, extra: string[] = []): string[] => ['batch', csv, '--state-dir', state, '--allow-plaintext', '--timeout', '10', '--retry-delay', '0.05', ...extra];

  before(async () => {
    office = await startOffice(4);
    destination = await office.addDestination();
  });
  after(async () => {
    await office?.stop();
  });

  test('input problems that need no server: a variable that is not set, a password column, --shard out of range', async () => {
    const csv = office.writeCsv('problems.csv', destination);
    const unset = await runCliCaptured(args(csv, join(office.dir, 'state-problems')), { ...office.env, SRC_PW_U01: '' });
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /problems\.csv: row 1 \(line 2\), column from_password_env: The environment variable SRC_PW_U01 \(the source password\) is not set\./);
    const withPassword = join(office.dir, 'password-column.csv');
    writeFileSync(withPassword, 'id,from,to,password\nu01,imap://u01@127.0.0.1:1,imap://u01@127.0.0.1:2,x\n');
    const refused = await runCliCaptured(args(withPassword, join(office.dir, 'state-problems')), office.env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /line 1, column password: The column "password" would hold a password/);
    const shard = await runCliCaptured(args(csv, join(office.dir, 'state-problems'), ['--shard', '4/3']), office.env);
    assert.equal(shard.code, 2);
    assert.match(shard.stderr, /--shard needs I\/N with 1 <= I <= N/);
    assert.equal(office.sourceProxy.connections() + destination.proxy.connections(), 0, 'no server was contacted');
  });

  test('stopped (Ctrl-C) while copying: exit 1, the mailboxes not finished say "not run"; the next run finishes them exactly', async () => {
    const csv = office.writeCsv('office.csv', destination);
    const state = join(office.dir, 'state');
    const stop = new AbortController();
    // Stop once the first mailbox has moved some mail; slow the source so the others are mid-way.
    office.sourceProxy.setFaults([{ kind: 'latency', ms: 30, direction: 'server-to-client' }]);
    const watch = setInterval(() => {
      if (destination.proxy.wire().commands().some((c) => /^\S+ APPEND /i.test(c.line))) stop.abort(PAUSE_REASON);
    }, 20);
    const stopped = await runCliCaptured(args(csv, state, ['--parallel', '4']), office.env, stop.signal).finally(() => clearInterval(watch));
    office.sourceProxy.clearFaults();
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.match(stopped.stdout, /4 mailboxes: \d verified, 0 need attention, 0 failed, [1-4] not run\./);
    assert.match(stopped.stdout, /\(row \d\): not run: The batch was stopped before this mailbox finished; run it again to continue\./);
    assert.match(stopped.stdout, /Stopped\. Run the same command again to continue where it left off\./);

    const resumed = await runCliCaptured(args(csv, state, ['--parallel', '4', '--json']), office.env);
    assert.equal(resumed.code, 0, resumed.stderr);
    const summary = resumed.events.at(-1) as { mailboxes: MailboxSummary[] };
    assert.deepEqual(summary.mailboxes.map((m) => m.status), ['verified', 'verified', 'verified', 'verified']);
    await destination.proxy.whenIdle(IDLE_WAIT_MS);
    await assertOfficeExact(office, destination, office.users.map((u) => u.name));
  });

  test('what a person reads: the plan of the run, one line per mailbox as it ends, the summary on stdout', async () => {
    const second = await office.addDestination();
    const csv = office.writeCsv('people.csv', second, { wrongPasswordFor: 'u02' });
    const run = await runCliCaptured(args(csv, join(office.dir, 'state-people'), ['--parallel', '2']), office.env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Moving 4 mailboxes, 2 at a time; journals in .*state-people\.$/m);
    assert.match(run.stderr, /^u01: verified, \d+ messages \([\d.]+ KB\) in [\d.]+ s$/m);
    assert.match(run.stderr, /^u02: failed: Could not open the destination: The server refused the user name or password/m);
    assert.match(run.stdout, /^4 mailboxes: 3 verified, 0 need attention, 1 failed, 0 not run\.\n {2}u02 \(row 2\): failed: Could not open the destination: The server refused/m);
    assert.ok(!run.stdout.includes('Pw9') && !run.stderr.includes('Pw9'), 'no password in the output');
  });

  test('--max-rate caps the whole batch, not each mailbox', async () => {
    const third = await office.addDestination();
    const csv = office.writeCsv('rate.csv', third);
    const state = join(office.dir, 'state-rate');
    const total = [...office.sourceBefore.values()].reduce((n, s) => n + s.folders.reduce((m, f) => m + f.messages.filter((x) => !x.flags.includes('\\Deleted')).reduce((k, x) => k + x.size, 0), 0), 0);
    const rate = Math.floor(total / 4);
    const started = Date.now();
    const run = await runCliCaptured(args(csv, state, ['--parallel', '4', '--max-rate', String(rate), '--json']), office.env);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(run.code, 0, run.stderr);
    const copied = (run.events.at(-1) as { mailboxes: MailboxSummary[] }).mailboxes.reduce((n, m) => n + m.bytes, 0);
    assert.ok(copied >= total * 0.9, `the batch copied the mail (${copied} of ${total} bytes)`);
    // One second of burst, then the cap for everything at once (four mailboxes would each get it otherwise: under 2 s).
    assert.ok(seconds >= (total - rate) / rate - 0.5, `${total} bytes at ${rate} B/s for all mailboxes together took ${seconds.toFixed(1)} s`);
  });

  test('copy --report-csv and --report-html write the report the app exports', async () => {
    const fourth = await office.addDestination();
    const user = office.users[0]!;
    const csvFile = join(office.dir, 'copy-report.csv');
    const htmlFile = join(office.dir, 'copy-report.html');
    const run = await runCliCaptured(
      ['copy', '--from', `imap://${user.name}@127.0.0.1:${office.source.port}`, '--to', `imap://${user.name}@127.0.0.1:${fourth.server.port}`, '--allow-plaintext', '--state', join(office.dir, 'state-copy'), '--report-csv', csvFile, '--report-html', htmlFile],
      { MAILFERRY_FROM_PASSWORD: user.sourcePassword, MAILFERRY_TO_PASSWORD: user.destinationPassword },
    );
    assert.equal(run.code, 0, run.stderr);
    const parsed = parseCsv(readFileSync(csvFile, 'utf8'));
    assert.ok(parsed.ok);
    const [header, ...rows] = parsed.value.map((r) => r.fields);
    assert.deepEqual(header?.slice(0, 5), ['kind', 'source folder', 'goes to', 'destination folder', 'status']);
    const folders = rows.filter((r) => r[0] === 'folder');
    assert.ok(folders.length >= 5, 'one row per folder');
    assert.ok(folders.every((r) => r[2] === 'new account' && r[10] === 'true'), 'every folder complete, in the new account');
    assert.match(readFileSync(htmlFile, 'utf8'), /<h1>Mailferry report<\/h1>[\s\S]*<strong>done<\/strong>/);
  });
});
