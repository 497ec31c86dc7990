/**
 * Crashes while archiving, and what the next run makes of them:
 * - the CLI process SIGKILLed while it appends to an mbox (and to a Maildir): the next run ends
 *   with exactly the source's messages, nothing truncated, nothing twice;
 * - an interrupted mbox append simulated exactly (an intent in the index, half a batch in the
 *   file): the torn bytes are rolled back and the messages written once;
 * - bytes another program appended to our mbox (no intent of ours): kept and indexed, never cut;
 * - the index files deleted: the next run rebuilds them from the messages and adds nothing twice.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ArchiveFormat } from '../../src/contract/account.js';
import { mboxIndexFile } from '../../src/archive/mbox-store.js';
import { fromLine, quoteMboxrd } from '../../src/archive/mboxrd.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillAccount, generateCorpus, generateFolderOfSize, type CorpusMessage } from '../support/corpus.js';
import { assertSameMail, snapshotAccount, type AccountSnapshot, type MailSet } from '../support/mail-snapshot.js';
import { PASSWORDS, runCliCaptured, spawnCli } from '../engine/cli-harness.js';
import { archiveMail, digestFiles } from './archive-helpers.js';

/** How long a killed run may take to reach the point where it is killed. */
const KILL_WAIT_MS = 60_000;
const POLL_MS = 2;

const withoutDeleted = (snapshot: AccountSnapshot): MailSet => ({
  folders: snapshot.folders.filter((f) => f.isSelectable).map((f) => ({ path: f.path, messages: f.messages.filter((m) => !m.flags.includes('\\Deleted')) })),
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const message = (n: number): CorpusMessage => ({
  raw: Buffer.from(`From: crash${n}@example.org\r\nSubject: after the crash ${n}\r\nMessage-ID: <crash-${n}@example.org>\r\n\r\nFrom the ferry, ${n}.\r\n`),
  flags: ['\\Seen'],
  internalDate: new Date(Date.UTC(2026, 10, 22, 1, n, 0)),
  kind: 'plain',
});

describe('crash while archiving, then resume', () => {
  let src: DovecotServer;
  const dirs: string[] = [];
  const tempDir = (label: string): string => {
    const dir = mkdtempSync(path.join(tmpdir(), `mailferry-${label}-`));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    src = await startDovecot({ users: [{ name: 'alice', password: PASSWORDS.MAILFERRY_FROM_PASSWORD }] });
    // One big folder (many batches) plus the usual awkward corpus.
    await fillAccount(src.account(), [...generateCorpus({ seed: 'archive-crash' }).folders, generateFolderOfSize({ seed: 'crash-bulk', segments: ['Bulk'], messages: 400, totalBytes: 48 * 1024 * 1024 })]);
  });
  after(async () => {
    await src?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  for (const format of ['mbox', 'maildir', 'eml'] as ArchiveFormat[]) {
    test(`${format}: the CLI killed (SIGKILL) mid-archive, then run again, ends exact`, async (t) => {
      const archive = tempDir(format);
      const state = tempDir('state');
      const args = ['copy', '--from', `imap://alice@127.0.0.1:${src.port}`, '--to', `${format}:${archive}`, '--allow-plaintext', '--state', state, '--json', '--connections', '1'];
      // Watch the Bulk folder grow and kill the process while it is being written.
      const bulk = format === 'maildir' ? path.join(archive, '.Bulk', 'cur') : path.join(archive, 'Bulk');
      const { child, exited } = spawnCli(args, PASSWORDS);
      const deadline = Date.now() + KILL_WAIT_MS;
      let sizeAtKill = -1;
      while (Date.now() < deadline && child.exitCode === null) {
        // mbox: bytes in the file; Maildir, eml: files in the folder.
        const size = existsSync(bulk) ? (format === 'mbox' ? statSync(bulk).size : readdirSync(bulk).length) : 0;
        if (size > (format === 'mbox' ? 12 * 1024 * 1024 : 100)) {
          sizeAtKill = size;
          child.kill('SIGKILL');
          break;
        }
        await sleep(POLL_MS);
      }
      const killed = await exited;
      assert.ok(sizeAtKill >= 0, `the run ended before it could be killed: ${killed.stderr}`);

      const resumed = await runCliCaptured(args, PASSWORDS);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.report?.status, 'done');
      const source = withoutDeleted(await snapshotAccount(src.account()));
      assertSameMail(source, await archiveMail(format, archive), `${format} archive after a kill and a resume`);
      if (format === 'mbox') {
        const index = readFileSync(mboxIndexFile(path.join(archive, 'Bulk')), 'utf8');
        const rolledBack = index.split('\n').filter((l) => l.includes('"t":"rollback"')).length;
        t.diagnostic(`mbox killed at ${sizeAtKill} bytes; torn appends rolled back on resume: ${rolledBack}`);
      } else t.diagnostic(`${format} killed with ${sizeAtKill} files in the folder`);
    });
  }

  test('mbox: a torn append (intent in the index, half a batch in the file) is rolled back and written once', async () => {
    const archive = tempDir('mbox-torn');
    const state = tempDir('state');
    const args = ['copy', '--from', `imap://alice@127.0.0.1:${src.port}`, '--to', `mbox:${archive}`, '--allow-plaintext', '--state', state, '--json', '--folder', 'Reisen'];
    const first = await runCliCaptured(args, PASSWORDS);
    assert.equal(first.code, 0, first.stderr);

    // New mail on the source, and the crash of an append of it: the intent was fsynced, then
    // part of the batch reached the file, then the process died before the index entries.
    await fillAccount(src.account(), [{ segments: ['Reisen'], messages: [message(1), message(2)] }]);
    const mbox = path.join(archive, 'Reisen');
    const before = readFileSync(mbox);
    const torn = Buffer.from('From crash1@example.org Sun Nov 22 01:01:00 2026\nStatus: RO\n\nFrom: crash1@example.org\r\nSubject: after the cr');
    appendFileSync(mboxIndexFile(mbox), JSON.stringify({ t: 'intent', off: before.length, len: torn.length + 400, at: Date.now() }) + '\n');
    appendFileSync(mbox, torn);

    const resumed = await runCliCaptured(args, PASSWORDS);
    assert.equal(resumed.code, 0, resumed.stderr);
    const after = readFileSync(mbox);
    assert.deepEqual(after.subarray(0, before.length), before, 'what was there before is untouched');
    assert.equal(after.toString('latin1').split('\nSubject: after the crash 1\r\n').length - 1, 1, 'the message is in the file exactly once');
    assert.ok(!after.includes('Subject: after the cr\n') && !after.subarray(before.length).includes(torn), 'the torn bytes are gone');
    const source = withoutDeleted(await snapshotAccount(src.account(), { folders: ['Reisen'] }));
    assertSameMail(source, await archiveMail('mbox', archive), 'Reisen after the roll-back', { allowExtraFolders: true, folders: ['Reisen'] });
  });

  test('mbox: mail another program appended to our mbox is kept and indexed, never cut off', async () => {
    const archive = tempDir('mbox-foreign');
    const state = tempDir('state');
    const args = ['copy', '--from', `imap://alice@127.0.0.1:${src.port}`, '--to', `mbox:${archive}`, '--allow-plaintext', '--state', state, '--json', '--folder', 'Drafts'];
    assert.equal((await runCliCaptured(args, PASSWORDS)).code, 0);
    const mbox = path.join(archive, 'Drafts');
    // Thunderbird appends a draft: mboxo, LF endings, its own status header, no final empty line.
    const foreign = 'From - Sun Nov 22 01:30:00 2026\nX-Mozilla-Status: 0001\nSubject: written in Thunderbird\nMessage-ID: <tb@example.org>\n\n>From the desk.\n';
    appendFileSync(mbox, foreign);
    await fillAccount(src.account(), [{ segments: ['Drafts'], messages: [message(3)] }]);
    const again = await runCliCaptured(args, PASSWORDS);
    assert.equal(again.code, 0, again.stderr);
    const text = readFileSync(mbox, 'latin1');
    assert.ok(text.includes(foreign), 'the foreign message is still there, byte for byte');
    const mail = await archiveMail('mbox', archive);
    const drafts = mail.folders.find((f) => f.path === 'Drafts');
    assert.ok(drafts);
    const tb = drafts.messages.find((m) => m.subject === 'written in Thunderbird');
    assert.ok(tb, 'the foreign message is read as a message of the folder');
    assert.deepEqual(tb.flags, ['\\Seen']);
    assert.ok(drafts.messages.some((m) => m.subject === 'after the crash 3'), 'new source mail was appended after it');
    // And the folder still matches the source plus that one message.
    const source = withoutDeleted(await snapshotAccount(src.account(), { folders: ['Drafts'] }));
    const sourceDrafts = source.folders[0];
    assert.ok(sourceDrafts);
    assert.equal(drafts.messages.length, sourceDrafts.messages.length + 1);
  });

  for (const format of ['mbox', 'maildir', 'eml'] as ArchiveFormat[]) {
    test(`${format}: with its index files deleted, a re-run rebuilds them and writes no message twice`, async () => {
      const archive = tempDir(`${format}-noindex`);
      const args = (state: string) => ['copy', '--from', `imap://alice@127.0.0.1:${src.port}`, '--to', `${format}:${archive}`, '--allow-plaintext', '--state', state, '--json', '--exclude', 'Bulk'];
      assert.equal((await runCliCaptured(args(tempDir('state')), PASSWORDS)).code, 0);
      const isIndex = (file: string): boolean => file.includes('mailferry-index');
      const messagesBefore = [...digestFiles(archive)].filter(([file]) => !isIndex(file));
      for (const [file] of digestFiles(archive)) if (isIndex(file)) rmSync(path.join(archive, file));
      // A new state folder too: nothing remembers what was copied.
      const again = await runCliCaptured(args(tempDir('state')), PASSWORDS);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.report?.totals.copied, 0, 'everything is recognised as already there');
      const messagesAfter = [...digestFiles(archive)].filter(([file]) => !isIndex(file));
      assert.deepEqual(messagesAfter, messagesBefore, 'message files unchanged');
      const source = withoutDeleted(await snapshotAccount(src.account()));
      source.folders = source.folders.filter((f) => f.path !== 'Bulk');
      // eml keeps flags only in its index: those are gone with it.
      assertSameMail(source, await archiveMail(format, archive), `${format} after the index was rebuilt`, format === 'eml' ? { ignore: ['flags'] } : {});
    });
  }

  test('a restore from an mbox of another tool, killed midway (SIGKILL), resumes exact: UIDs are stable without an index', async (t) => {
    const dir = tempDir('foreign-restore');
    const file = path.join(dir, 'old-mail');
    const folder = generateFolderOfSize({ seed: 'foreign-restore', messages: 300, totalBytes: 24 * 1024 * 1024 });
    const records = folder.messages.map((m) => Buffer.concat([Buffer.from(fromLine('someone@example.org', m.internalDate), 'latin1'), quoteMboxrd(m.raw), Buffer.from('\n')]));
    writeFileSync(file, Buffer.concat(records));
    const dst = await startDovecot({ users: [{ name: 'dave', password: PASSWORDS.MAILFERRY_TO_PASSWORD }] });
    try {
      const state = tempDir('state');
      const args = ['copy', '--from', `mbox:${file}`, '--to', `imap://dave@127.0.0.1:${dst.port}`, '--allow-plaintext', '--state', state, '--json', '--connections', '1'];
      const { child, exited, output } = spawnCli(args, PASSWORDS);
      const deadline = Date.now() + KILL_WAIT_MS;
      let doneAtKill = -1;
      while (Date.now() < deadline && child.exitCode === null) {
        const done = Math.max(0, ...[...output().matchAll(/"messagesDone":(\d+)/g)].map((m) => Number(m[1])));
        if (done >= 60) {
          doneAtKill = done;
          child.kill('SIGKILL');
          break;
        }
        await sleep(POLL_MS * 5);
      }
      const killed = await exited;
      assert.ok(doneAtKill >= 0, `the restore ended before it could be killed: ${killed.stderr}`);
      const resumed = await runCliCaptured(args, PASSWORDS);
      assert.equal(resumed.code, 0, resumed.stderr);
      const restored = await snapshotAccount(dst.account('dave'), { folders: ['old-mail'] });
      assertSameMail(await archiveMail('mbox', file), restored, 'restored after a kill', { ignore: ['flags'] });
      assert.equal(restored.folders[0]?.messages.length, 300);
      t.diagnostic(`killed after ${doneAtKill} messages; the resume copied ${resumed.report?.totals.copied ?? '?'} in all (journal included)`);
    } finally {
      await dst.stop();
    }
  });
});
