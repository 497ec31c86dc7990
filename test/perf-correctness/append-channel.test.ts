/**
 * The pipelined append channel against a real Dovecot: what it sends lands byte for byte with
 * flags and INTERNALDATE, a refused message fails alone, it works without LITERAL+, over
 * STARTTLS and TLS with the pinned certificate, and a dropped connection leaves every
 * unanswered message marked as unanswered (never as appended).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openAppendChannel } from '../../src/imap/append-channel.js';
import { formatInternalDate } from '../../src/imap/wire-parse.js';
import { encodeMailboxName } from '../../src/imap/imap-utf7.js';
import { generateFolderOfSize, messageKeyOf, type CorpusMessage } from '../support/corpus.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { diffMail, folderOf, openTestClient, snapshotAccount } from '../support/mail-snapshot.js';

const PASSWORD = 'channel-secret';
const toOutgoing = (m: CorpusMessage) => ({ body: m.raw, flags: m.flags, internalDate: m.internalDate });

describe('append channel', () => {
  let server: DovecotServer;
  /** No STARTTLS: a plain account uses the STARTTLS a server offers, and these cases are about plain IMAP. */
  let plainOnly: DovecotServer;
  const users = ['plainuser', 'limited', 'nolitplus', 'tlsuser', 'dropuser', 'utf7user'].map((name) => ({ name, password: PASSWORD }));

  before(async () => {
    [server, plainOnly] = await Promise.all([startDovecot({ users, tls: true, maxMessageBytes: 200 * 1024 }), startDovecot({ users, maxMessageBytes: 200 * 1024 })]);
  });
  after(async () => {
    await Promise.all([server?.stop(), plainOnly?.stop()]);
  });

  test('pipelined APPENDs land byte-identical with flags and dates, UIDs in order', async () => {
    const folder = generateFolderOfSize({ seed: 'channel-1', messages: 60, sizeRange: [500, 150 * 1024] });
    // Flags of every kind, including keywords, and an old INTERNALDATE.
    folder.messages[0] = { ...(folder.messages[0] as CorpusMessage), flags: ['\\Seen', '\\Answered', '\\Flagged', '\\Draft', '$Forwarded', 'Work'], internalDate: new Date('1999-12-31T23:59:59Z') };
    const opened = await openAppendChannel(plainOnly.credentials('plainuser', 'plain'));
    assert.ok(opened.ok, opened.ok ? '' : opened.error.message);
    const channel = opened.value;
    assert.ok(channel.capabilities.has('LITERAL+'), 'Dovecot offers LITERAL+');
    let commitPoints = 0;
    const { answers, isInDoubt } = await channel.append('INBOX', folder.messages.map(toOutgoing), async () => {
      commitPoints++;
    });
    await channel.close();
    assert.equal(commitPoints, 1, 'the commit point is announced once per batch');
    assert.equal(isInDoubt, false);
    assert.equal(answers.length, 60);
    assert.ok(answers.every((a) => a.ok));
    const uids = answers.map((a) => (a.ok ? a.uid : undefined));
    assert.deepEqual(uids, Array.from({ length: 60 }, (_, i) => i + 1), 'APPENDUID per message, in order');
    const snapshot = await snapshotAccount(plainOnly.account('plainuser'));
    assert.deepEqual(diffMail({ folders: [{ path: 'INBOX', messages: folder.messages.map(messageKeyOf) }] }, snapshot), []);
  });

  test('a refused MULTIAPPEND stores nothing and says so; sent again one by one, the refused message fails alone', async () => {
    const folder = generateFolderOfSize({ seed: 'channel-2', messages: 5, sizeRange: [2000, 20_000] });
    const big = generateFolderOfSize({ seed: 'channel-2-big', messages: 1, totalBytes: 300 * 1024, sizeRange: [300 * 1024, 300 * 1024 + 1] }).messages[0] as CorpusMessage;
    const messages = [folder.messages[0], folder.messages[1], big, folder.messages[2], folder.messages[3], folder.messages[4]] as CorpusMessage[];
    const opened = await openAppendChannel(plainOnly.credentials('limited', 'plain'));
    assert.ok(opened.ok);
    const together = await opened.value.append('INBOX', messages.map(toOutgoing));
    assert.equal(together.isInDoubt, false);
    assert.deepEqual(
      together.answers.map((a) => !a.ok && a.isAnswered && a.isRefusedTogether === true),
      [true, true, true, true, true, true],
      'all or nothing: every message refused with the transaction, each may go alone',
    );
    assert.equal(folderOf(await snapshotAccount(server.account('limited')), 'INBOX').messages.length, 0, 'nothing stored');
    const { answers } = await opened.value.append('INBOX', messages.map(toOutgoing), undefined, { isEachAlone: true });
    await opened.value.close();
    assert.deepEqual(
      answers.map((a) => a.ok),
      [true, true, false, true, true, true],
    );
    const refused = answers[2];
    assert.ok(refused && !refused.ok && refused.isAnswered && !refused.isRefusedTogether);
    assert.equal(refused.error.serverCode, 'LIMIT', 'the server\'s own response code is kept for classification');
    const snapshot = await snapshotAccount(plainOnly.account('limited'));
    assert.equal(folderOf(snapshot, 'INBOX').messages.length, 5);
  });

  test('a batch is written as its messages come: one MULTIAPPEND, one commit point, bodies taken one at a time', async () => {
    const folder = generateFolderOfSize({ seed: 'channel-stream', messages: 30, sizeRange: [500, 80_000] });
    const opened = await openAppendChannel(server.credentials('plainuser', 'plain'));
    assert.ok(opened.ok);
    let taken = 0;
    let takenAtCommit = -1;
    async function* slowly() {
      for (const m of folder.messages) {
        // Between messages the event loop turns: the channel must be writing, not waiting for all of them.
        await new Promise((resolve) => setImmediate(resolve));
        taken++;
        yield toOutgoing(m);
      }
    }
    const before = folderOf(await snapshotAccount(server.account('plainuser')), 'INBOX').messages.length;
    const appendsBefore = server.clientCommands('plainuser').filter((c) => / APPEND /.test(c)).length;
    const { answers, isInDoubt } = await opened.value.append('INBOX', slowly(), async () => {
      takenAtCommit = taken;
    });
    await opened.value.close();
    assert.equal(isInDoubt, false);
    assert.equal(takenAtCommit, 30, 'the commit point comes after the last message was taken');
    assert.ok(answers.every((a) => a.ok));
    const uids = answers.map((a) => (a.ok ? a.uid : undefined));
    assert.deepEqual(uids, Array.from({ length: 30 }, (_, i) => before + i + 1), 'APPENDUID in order');
    const appends = server.clientCommands('plainuser').filter((c) => / APPEND /.test(c));
    assert.equal(appends.length - appendsBefore, 1, 'one MULTIAPPEND for this batch');
  });

  test('without LITERAL+ it waits for each continuation and still lands everything', async () => {
    const plainServer = await startDovecot({ users: [{ name: 'nolitplus', password: PASSWORD }], disableCapabilities: ['LITERAL+'] });
    try {
      const folder = generateFolderOfSize({ seed: 'channel-3', messages: 12, sizeRange: [500, 60_000] });
      const opened = await openAppendChannel(plainServer.credentials('nolitplus', 'plain'));
      assert.ok(opened.ok, opened.ok ? '' : opened.error.message);
      assert.ok(!opened.value.capabilities.has('LITERAL+'));
      const { answers } = await opened.value.append('INBOX', folder.messages.map(toOutgoing));
      await opened.value.close();
      assert.ok(answers.every((a) => a.ok));
      const snapshot = await snapshotAccount(plainServer.account('nolitplus'));
      assert.deepEqual(diffMail({ folders: [{ path: 'INBOX', messages: folder.messages.map(messageKeyOf) }] }, snapshot), []);
      const sent = plainServer.clientCommands('nolitplus').filter((c) => / APPEND /.test(c));
      assert.equal(sent.length, 12);
      assert.ok(sent.every((c) => !c.includes('+}')), 'no non-synchronizing literal sent to a server without LITERAL+');
    } finally {
      await plainServer.stop();
    }
  });

  test('STARTTLS and implicit TLS with the pinned certificate; an unpinned self-signed one is refused', async () => {
    const folder = generateFolderOfSize({ seed: 'channel-4', messages: 4, sizeRange: [500, 5000] });
    for (const security of ['starttls', 'tls'] as const) {
      const opened = await openAppendChannel(server.credentials('tlsuser', security));
      assert.ok(opened.ok, opened.ok ? '' : opened.error.message);
      const { answers } = await opened.value.append('INBOX', folder.messages.slice(0, 2).map(toOutgoing));
      await opened.value.close();
      assert.ok(answers.every((a) => a.ok));
    }
    const refused = await openAppendChannel(server.credentials('tlsuser', 'starttls', { pin: false }));
    assert.ok(!refused.ok);
    assert.equal(refused.error.kind, 'tls');
    const wrongPassword = await openAppendChannel({ ...server.credentials('tlsuser', 'tls'), password: 'wrong' });
    assert.ok(!wrongPassword.ok);
    assert.equal(wrongPassword.error.kind, 'auth');
    const snapshot = await snapshotAccount(server.account('tlsuser'));
    assert.equal(folderOf(snapshot, 'INBOX').messages.length, 4);
  });

  test('a dropped connection: answered messages are reported appended, the rest unanswered', async () => {
    // Without MULTIAPPEND every message has its own answer; with it, the batch is one command.
    const singles = await startDovecot({ users: [{ name: 'dropuser', password: PASSWORD }], disableCapabilities: ['MULTIAPPEND'] });
    const proxy = await startFaultProxy({ targetHost: singles.host, targetPort: singles.port });
    try {
      const folder = generateFolderOfSize({ seed: 'channel-5', messages: 40, sizeRange: [20_000, 40_000] });
      const opened = await openAppendChannel({ ...singles.credentials('dropuser', 'plain'), port: proxy.port });
      assert.ok(opened.ok);
      assert.ok(!opened.value.capabilities.has('MULTIAPPEND'));
      // Drop once about ten tagged answers (~70 bytes each) have come back.
      proxy.setFaults([{ kind: 'drop', direction: 'server-to-client', onCommand: /^\S+ APPEND /, afterBytes: 700 }]);
      const { answers, isInDoubt } = await opened.value.append('INBOX', folder.messages.map(toOutgoing));
      await opened.value.close();
      const appended = answers.filter((a) => a.ok).length;
      assert.ok(appended > 0 && appended < 40, `some but not all answered (${appended})`);
      assert.equal(isInDoubt, true, 'unanswered pipelined APPENDs whose bytes went out may still land');
      for (const a of answers) if (!a.ok) assert.ok(!a.isAnswered && a.error.retryable && a.error.kind === 'network');
      // Every message reported appended is there; nothing is there twice.
      const client = await openTestClient(singles.account('dropuser'));
      const status = await client.status('INBOX', { messages: true });
      await client.logout();
      assert.ok(status, 'STATUS answered');
      assert.ok((status.messages ?? 0) >= appended && (status.messages ?? 0) <= 40);
    } finally {
      await proxy.stop();
      await singles.stop();
    }
  });

  test('MULTIAPPEND: a batch dropped before its last literal is all unanswered, not in doubt, and none of it lands', async () => {
    const proxy = await startFaultProxy({ targetHost: plainOnly.host, targetPort: plainOnly.port });
    try {
      const folder = generateFolderOfSize({ seed: 'channel-7', messages: 40, sizeRange: [20_000, 40_000] });
      const opened = await openAppendChannel({ ...plainOnly.credentials('dropuser', 'plain'), port: proxy.port });
      assert.ok(opened.ok);
      assert.ok(opened.value.capabilities.has('MULTIAPPEND'));
      proxy.setFaults([{ kind: 'drop', direction: 'client-to-server', onCommand: /^\S+ APPEND /, afterBytes: 500_000 }]);
      let commitPoints = 0;
      const { answers, isInDoubt } = await opened.value.append('INBOX', folder.messages.map(toOutgoing), async () => {
        commitPoints++;
      });
      await opened.value.close();
      assert.ok(answers.every((a) => !a.ok && !a.isAnswered && a.error.kind === 'network'));
      assert.equal(commitPoints, 0, 'the last literal was never asked for');
      assert.equal(isInDoubt, false);
      const client = await openTestClient(plainOnly.account('dropuser'));
      const status = await client.status('INBOX', { messages: true });
      await client.logout();
      assert.ok(status, 'STATUS answered');
      assert.equal(status.messages, 0, 'an interrupted MULTIAPPEND stores nothing');
    } finally {
      await proxy.stop();
    }
  });

  test('folder names with non-ASCII and & go out in modified UTF-7', async () => {
    assert.equal(encodeMailboxName('Été & Co'), '&AMk-t&AOk- &- Co');
    assert.equal(encodeMailboxName('日本語'), '&ZeVnLIqe-');
    assert.equal(formatInternalDate(new Date('2004-02-07T09:05:01Z')), ' 7-Feb-2004 09:05:01 +0000');
    const client = await openTestClient(plainOnly.account('utf7user'));
    await client.mailboxCreate('Été & Co/日本語');
    await client.logout();
    const folder = generateFolderOfSize({ seed: 'channel-6', messages: 2, sizeRange: [500, 900] });
    const opened = await openAppendChannel(plainOnly.credentials('utf7user', 'plain'));
    assert.ok(opened.ok);
    const { answers } = await opened.value.append('Été & Co/日本語', folder.messages.map(toOutgoing));
    const { answers: missing } = await opened.value.append('Does not exist', folder.messages.slice(0, 1).map(toOutgoing));
    await opened.value.close();
    assert.ok(answers.every((a) => a.ok));
    const notThere = missing[0];
    assert.ok(notThere && !notThere.ok && notThere.error.kind === 'not-found', 'TRYCREATE is classified as a missing folder');
    const snapshot = await snapshotAccount(plainOnly.account('utf7user'));
    assert.equal(folderOf(snapshot, 'Été & Co/日本語').messages.length, 2);
  });
});
