/**
 * The copy engine through the CLI, against two real private Dovecots, with a fault-free proxy in
 * front of each so every command on the wire is recorded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillAccount, generateCorpus, messageKeyOf, type CorpusMessage } from '../support/corpus.js';
import { assertSourceUnchanged, diffMail, snapshotAccount, type AccountSnapshot, type MailSet } from '../support/mail-snapshot.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { findDestructive } from '../support/imap-wire.js';
import { freshStateDir, PASSWORDS, runCliCaptured } from './cli-harness.js';

const foreignMessage: CorpusMessage = {
  raw: Buffer.from(
    'From: someone@new.example\r\nTo: bob@new.example\r\nSubject: Arrived on the new server today\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\nMessage-ID: <today@new.example>\r\n\r\nThis mail was never on the old server and must survive.\r\n',
  ),
  flags: ['\\Seen'],
  internalDate: new Date('2026-11-21T10:00:00Z'),
  kind: 'plain',
};

const withoutDeleted = (snapshot: AccountSnapshot): MailSet => ({
  folders: snapshot.folders.filter((f) => f.isSelectable).map((f) => ({ path: f.path, messages: f.messages.filter((m) => !m.flags.includes('\\Deleted')) })),
});

describe('copy between two Dovecot accounts', () => {
  let src: DovecotServer;
  let dst: DovecotServer;
  let srcProxy: FaultProxy;
  let dstProxy: FaultProxy;
  let sourceBefore: AccountSnapshot;
  const corpus = generateCorpus({ seed: 'copy-engine', big: [3 * 1024 * 1024] });
  const reisen = corpus.folders.find((f) => f.segments.join('/') === 'Reisen');
  const state = freshStateDir();
  const args = () => [
    'copy',
    '--from',
    `imap://alice@127.0.0.1:${srcProxy.port}`,
    '--to',
    `imap://bob@127.0.0.1:${dstProxy.port}`,
    '--allow-plaintext',
    '--state',
    state,
    '--json',
  ];

  before(async () => {
    [src, dst] = await Promise.all([
      startDovecot({ users: [{ name: 'alice', password: PASSWORDS.MAILFERRY_FROM_PASSWORD }] }),
      startDovecot({ users: [{ name: 'bob', password: PASSWORDS.MAILFERRY_TO_PASSWORD }] }),
    ]);
    srcProxy = await startFaultProxy({ targetHost: src.host, targetPort: src.port });
    dstProxy = await startFaultProxy({ targetHost: dst.host, targetPort: dst.port });
    await fillAccount(src.account(), corpus);
    assert.ok(reisen && reisen.messages[0]);
    // The destination already holds a message of its own, and one identical to a source message.
    await fillAccount(dst.account(), [
      { segments: ['INBOX'], messages: [foreignMessage] },
      { segments: ['Reisen'], messages: [reisen.messages[0] as CorpusMessage] },
    ]);
    sourceBefore = await snapshotAccount(src.account());
  });
  after(async () => {
    await Promise.allSettled([srcProxy?.stop(), dstProxy?.stop()]);
    await Promise.allSettled([src?.stop(), dst?.stop()]);
  });

  test('the destination ends with exactly the source, and keeps its own mail', async () => {
    const run = await runCliCaptured(args(), PASSWORDS);
    assert.equal(run.code, 0, run.stderr);
    const report = run.report;
    assert.ok(report, 'summary line with a report');
    assert.equal(report.status, 'done');
    assert.ok(report.folders.every((f) => f.isComplete));
    // Progress is by bytes, absolute, and ends at the total.
    const progress = run.events.filter((e) => e.type === 'progress').map((e) => e.progress as { bytesDone: number; bytesTotal: number; messagesDone: number; messagesTotal: number; folders: { bytesDone: number; bytesTotal: number }[] });
    assert.ok(progress.length >= 2, 'progress events were sent');
    const last = progress[progress.length - 1];
    assert.ok(last && last.bytesTotal > 3 * 1024 * 1024 && last.bytesDone === last.bytesTotal, 'the last progress event says every byte is done');
    assert.ok(last.folders.every((f) => f.bytesDone === f.bytesTotal));
    const reisenReport = report.folders.find((f) => f.sourcePath === 'Reisen');
    assert.equal(reisenReport?.alreadyThere, 1, 'the identical message on the destination is found, not copied again');
    // The report's sizes are those of the messages themselves (the app draws them by size).
    const sourceReisen = withoutDeleted(sourceBefore).folders.find((f) => f.path === 'Reisen')!;
    const sumOf = (sizes: number[]): number => sizes.reduce((n, s) => n + s, 0);
    assert.equal((reisenReport?.copiedBytes ?? 0) + (reisenReport?.alreadyThereBytes ?? 0), sumOf(sourceReisen.messages.map((m) => m.size)));
    assert.ok((reisenReport?.alreadyThereBytes ?? 0) > 0 && (reisenReport?.copiedBytes ?? 0) > 0);
    const inbox = report.folders.find((f) => f.sourcePath === 'INBOX');
    assert.equal(inbox?.skipped, 1, 'the \\Deleted message is skipped and counted');

    const expected = withoutDeleted(sourceBefore);
    const expectedInbox = expected.folders.find((f) => f.path === 'INBOX');
    expectedInbox?.messages.push(messageKeyOf(foreignMessage) as never);
    const destination = await snapshotAccount(dst.account());
    assert.deepEqual(diffMail(expected, destination, { allowExtraFolders: true }), []);
    // Twins and byte-identical duplicates both arrived: counts match per folder.
    for (const folder of expected.folders) {
      assert.equal(destination.folders.find((f) => f.path === folder.path)?.messages.length, folder.messages.length, folder.path);
    }
    assertSourceUnchanged(sourceBefore, await snapshotAccount(src.account()));
  });

  test('nothing destructive crossed the wire, and the source was only examined and peeked', () => {
    const sourceCommands = srcProxy.wire().commands();
    const destinationCommands = dstProxy.wire().commands();
    assert.ok(sourceCommands.some((c) => c.name === 'EXAMINE'), 'the source was opened with EXAMINE');
    assert.ok(sourceCommands.some((c) => /BODY\.PEEK\[\]/i.test(c.line)), 'bodies were read with BODY.PEEK[]');
    assert.ok(destinationCommands.some((c) => c.name === 'APPEND'), 'messages were appended');
    assert.deepEqual(findDestructive(sourceCommands).destructive, []);
    assert.deepEqual(findDestructive(sourceCommands).flagChanges, []);
    // The destination folder is SELECTed before APPEND (a read-only one would drop flags); nothing else is allowed.
    const destinationFindings = findDestructive(destinationCommands).destructive.filter((f) => f.command.name !== 'SELECT');
    assert.deepEqual(destinationFindings, []);
    assert.deepEqual(findDestructive(destinationCommands).flagChanges, []);
  });

  test('a second run sends no message and reads no body', async () => {
    const appendsBefore = dstProxy.wire().commands().filter((c) => c.name === 'APPEND').length;
    const fetchesBefore = srcProxy.wire().commands().filter((c) => /BODY\.PEEK\[\]/i.test(c.line)).length;
    const started = Date.now();
    const run = await runCliCaptured(args(), PASSWORDS);
    const elapsed = Date.now() - started;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(dstProxy.wire().commands().filter((c) => c.name === 'APPEND').length, appendsBefore, 'no APPEND on the re-run');
    assert.equal(srcProxy.wire().commands().filter((c) => /BODY\.PEEK\[\]/i.test(c.line)).length, fetchesBefore, 'no body read on the re-run');
    assert.ok(elapsed < 10_000, `re-run took ${elapsed} ms`);
  });

  test('new mail on the source arrives on the next run, and only it', async () => {
    const late: CorpusMessage = { ...foreignMessage, raw: Buffer.from(foreignMessage.raw.toString().replace('today@new.example', 'late@old.example').replace('Arrived on the new server today', 'Late arrival on the old server')) };
    await fillAccount(src.account(), [{ segments: ['INBOX'], messages: [late] }]);
    const appendsBefore = dstProxy.wire().commands().filter((c) => c.name === 'APPEND').length;
    const run = await runCliCaptured(args(), PASSWORDS);
    assert.equal(run.code, 0, run.stderr);
    const appends = dstProxy.wire().commands().filter((c) => c.name === 'APPEND');
    assert.equal(appends.length, appendsBefore + 1, `exactly one APPEND; the last ones: ${JSON.stringify(appends.slice(appendsBefore))}\n${run.stderr}${run.stdout.split('\n').filter((l) => l.includes('"log"')).join('\n')}`);
    const destination = await snapshotAccount(dst.account());
    const expected = withoutDeleted(await snapshotAccount(src.account()));
    expected.folders.find((f) => f.path === 'INBOX')?.messages.push(messageKeyOf(foreignMessage) as never);
    assert.deepEqual(diffMail(expected, destination, { allowExtraFolders: true }), []);
  });

  test('a message removed from the destination behind our back is noticed and copied again, once', async () => {
    const beforeRemoval = await snapshotAccount(dst.account());
    const reisenOnDestination = beforeRemoval.folders.find((f) => f.path === 'Reisen');
    const victim = reisenOnDestination?.messages.at(-1);
    assert.ok(victim);
    await dst.doveadm(['expunge', '-u', 'bob', 'mailbox', 'Reisen', 'uid', String(victim.uid)]);
    const run = await runCliCaptured([...args(), '--retry-delay', '0.05'], PASSWORDS);
    assert.equal(run.code, 0, run.stderr);
    const after = await snapshotAccount(dst.account());
    assert.deepEqual(diffMail(beforeRemoval, after, { folders: ['Reisen'] }), [], 'Reisen holds the same messages again');
  });
});
