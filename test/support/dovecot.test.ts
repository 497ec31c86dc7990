/**
 * Proves the real-server harness: private Dovecot instances start fast, hold exactly what is
 * appended (bytes, flags, dates), speak TLS and STARTTLS with a pinnable certificate, enforce
 * quota with [OVERQUOTA], survive restart() with their mail, and leave no process behind, even
 * when the test process is killed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDovecot, type DovecotServer } from './dovecot.js';
import { corpusBytes, expectedFromCorpus, fillAccount, generateCorpus } from './corpus.js';
import { assertMaildirUnchanged, assertSameMail, assertSourceUnchanged, folderOf, openTestClient, snapshotAccount, snapshotMaildirFiles } from './mail-snapshot.js';

const USERS = [
  { name: 'alice', password: 'alice-pw' },
  { name: 'bob', password: 'bob-pw' },
];

const started: DovecotServer[] = [];
const start = async (options: Omit<Parameters<typeof startDovecot>[0], 'users'> & { users?: typeof USERS } = {}): Promise<DovecotServer> => {
  const server = await startDovecot({ users: USERS, ...options });
  started.push(server);
  return server;
};
after(async () => {
  for (const s of started) await s.stop();
});

/** Processes whose command line mentions the path (the master is started with `-c <config>`). */
const processesMentioning = (path: string): number[] =>
  readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(path);
      } catch {
        return false;
      }
    })
    .map(Number);

const portAccepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

describe('startDovecot', () => {
  test('two fresh instances: a corpus filled into one round-trips exactly, the other stays empty', async () => {
    const t0 = Date.now();
    const [a, b] = await Promise.all([start(), start()]);
    const startupMs = Date.now() - t0;
    assert.ok(startupMs < 3000, `two instances took ${startupMs} ms to start`);
    assert.notEqual(a.port, b.port);

    const corpus = generateCorpus({ seed: 'roundtrip' });
    const filled = await fillAccount(a.account('alice'), corpus);
    assert.equal(filled.length, corpus.folders.length);
    assert.ok(filled.every((f, i) => f.uids.length === corpus.folders[i]?.messages.length && f.uids.every((uid) => typeof uid === 'number')), 'UIDPLUS gave a UID for each append');

    const snap = await snapshotAccount(a.account('alice'));
    assertSameMail(expectedFromCorpus(corpus, '/'), snap, 'Dovecot holds the corpus');

    const messages = snap.folders.flatMap((f) => f.messages);
    const corpusMessages = corpus.folders.flatMap((f) => f.messages);
    assert.equal(messages.length, corpusMessages.length);
    assert.equal(messages.reduce((s, m) => s + m.size, 0), corpusBytes(corpus));
    const allFlags = new Set(messages.flatMap((m) => m.flags));
    for (const flag of ['\\Seen', '\\Flagged', '\\Answered', '\\Draft', '\\Deleted', '$Forwarded', '$Label1', 'Work']) assert.ok(allFlags.has(flag), `flag ${flag} round-trips`);
    assert.ok(messages.some((m) => m.internalDate.startsWith('2004-')), 'INTERNALDATEs from 2004 survive');
    assert.ok(!messages.some((m) => m.flags.includes('\\Recent')), 'snapshots drop \\Recent');

    assert.equal(folderOf(snap, 'Sent').specialUse, '\\Sent');
    assert.equal(folderOf(snap, 'Leer').messages.length, 0);
    assert.equal(folderOf(snap, 'Projekte').isSelectable, false, 'a level created only by a child is \\Noselect');
    assert.ok(folderOf(snap, 'Été & Co').messages.length > 0);
    assert.ok(folderOf(snap, 'Reisen/Überfahrt').messages.length > 0);

    // The second instance is untouched, and bob on the first one too.
    for (const empty of [await snapshotAccount(b.account('alice')), await snapshotAccount(a.account('bob'))]) {
      assert.deepEqual(
        empty.folders.map((f) => [f.path, f.messages.length]),
        [['INBOX', 0]],
      );
    }
  });

  test('a snapshot reads without changing anything: no \\Seen added, same files, no STORE or EXPUNGE on the wire', async () => {
    const server = await start();
    const corpus = generateCorpus({ seed: 'read-only' });
    await fillAccount(server.account('alice'), corpus);
    const filesBefore = snapshotMaildirFiles(server.mailRoot('alice'));
    assert.ok(filesBefore.size >= corpus.folders.reduce((n, f) => n + f.messages.length, 0));

    const before = await snapshotAccount(server.account('alice'));
    const unseen = before.folders.flatMap((f) => f.messages).filter((m) => !m.flags.includes('\\Seen'));
    assert.ok(unseen.length > 0, 'the corpus has unread messages');
    const after = await snapshotAccount(server.account('alice'));
    assertSourceUnchanged(before, after);
    assertMaildirUnchanged(filesBefore, snapshotMaildirFiles(server.mailRoot('alice')));

    const commands = server.clientCommands('alice');
    assert.ok(commands.some((c) => /^\S+ EXAMINE /.test(c)));
    assert.ok(commands.some((c) => /BODY\.PEEK\[\]/.test(c)));
    assert.ok(!commands.some((c) => /^\S+ (UID )?(STORE|EXPUNGE|CLOSE|DELETE|RENAME|MOVE)\b/i.test(c)), commands.join('\n'));
    assert.ok(!commands.some((c) => /^\S+ SELECT /.test(c)), 'only EXAMINE opens folders');
  });

  test('assertSourceUnchanged and assertMaildirUnchanged notice a \\Seen added behind their back', async () => {
    const server = await start();
    await fillAccount(server.account('alice'), generateCorpus({ seed: 'seen', specials: false, messagesPerFolder: 2, folders: [{ segments: ['INBOX'] }] }));
    const client = await openTestClient(server.account('alice'));
    await client.mailboxOpen('INBOX');
    assert.equal(await client.messageFlagsRemove('1:*', ['\\Seen']), true);
    await client.logout();
    const files = snapshotMaildirFiles(server.mailRoot('alice'));
    const before = await snapshotAccount(server.account('alice'));

    // What a careless FETCH BODY[] (without PEEK) would do.
    const careless = await openTestClient(server.account('alice'));
    await careless.mailboxOpen('INBOX');
    assert.equal(await careless.messageFlagsAdd('1', ['\\Seen']), true);
    await careless.logout();

    const after = await snapshotAccount(server.account('alice'));
    assert.throws(() => assertSourceUnchanged(before, after), /UID 1 changed: .*\[\] .*\[\\Seen\]/s);
    assert.throws(() => assertMaildirUnchanged(files, snapshotMaildirFiles(server.mailRoot('alice'))), /:2,S/);
  });

  test('restart() keeps mail, UIDVALIDITY and ports', async () => {
    const server = await start();
    await fillAccount(server.account('bob'), generateCorpus({ seed: 'restart', big: [1_500_000] }));
    const before = await snapshotAccount(server.account('bob'));
    const port = server.port;
    const t0 = Date.now();
    await server.restart();
    assert.ok(Date.now() - t0 < 2000, `restart took ${Date.now() - t0} ms`);
    assert.equal(server.port, port);
    assert.ok(server.isRunning);
    assertSourceUnchanged(before, await snapshotAccount(server.account('bob')), 'mail after restart');
  });

  test('TLS: implicit TLS and STARTTLS accept a client that trusts the certificate, and the fingerprint matches', async () => {
    const server = await start({ tls: true });
    assert.ok(server.tlsPort && server.certPem && server.certFingerprint);
    assert.match(server.certFingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    for (const security of ['tls', 'starttls'] as const) {
      const client = await openTestClient(server.account('alice', security));
      assert.equal(client.secureConnection, true, `${security} is encrypted`);
      await client.logout();
    }

    // The fingerprint is the one a client sees on the wire (what a user would pin).
    const peerFingerprint = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: server.tlsPort as number, rejectUnauthorized: false, servername: 'localhost' }, () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.destroy();
      });
      socket.on('error', reject);
    });
    assert.equal(peerFingerprint, server.certFingerprint);
    assert.equal(server.credentials('alice', 'tls').pinnedFingerprint, server.certFingerprint);
    assert.equal(server.credentials('alice', 'tls', { pin: false }).pinnedFingerprint, undefined);

    // Without the CA the self-signed certificate is refused.
    const { ca: _ca, ...untrusted } = server.account('alice', 'tls');
    await assert.rejects(openTestClient(untrusted), (err: NodeJS.ErrnoException) => err.code === 'DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  test('quota: GETQUOTAROOT reports the limit and an APPEND beyond it gets NO [OVERQUOTA]', async () => {
    const server = await start({ quotaBytes: 100_000 });
    const client = await openTestClient(server.account('alice'));
    try {
      const message = (bytes: number): Buffer => Buffer.from(`Subject: quota\r\n\r\n${'x'.repeat(bytes)}\r\n`);
      assert.ok(await client.append('INBOX', message(60_000)));
      const quota = await client.getQuota('INBOX');
      assert.ok(quota && quota.storage, 'GETQUOTAROOT answered');
      assert.ok(Math.abs((quota.storage.limit ?? 0) - 100_000) < 2048, `limit ${quota.storage.limit}`);
      await assert.rejects(client.append('INBOX', message(60_000)), (err: Error & { serverResponseCode?: string }) => {
        assert.equal(err.serverResponseCode, 'OVERQUOTA');
        return true;
      });
      const status = await client.status('INBOX', { messages: true });
      assert.equal(status && status.messages, 1, 'the refused message did not land');
    } finally {
      await client.logout();
    }
  });

  test('maxMessageBytes refuses a too-big APPEND with NO [LIMIT]', async () => {
    const server = await start({ maxMessageBytes: 50_000 });
    const client = await openTestClient(server.account('alice'));
    try {
      await assert.rejects(client.append('INBOX', Buffer.from(`Subject: big\r\n\r\n${'x'.repeat(60_000)}\r\n`)), (err: Error & { serverResponseCode?: string }) => err.serverResponseCode === 'LIMIT');
      assert.ok(await client.append('INBOX', Buffer.from('Subject: small\r\n\r\nok\r\n')));
    } finally {
      await client.logout();
    }
  });

  test('disableCapabilities hides UIDPLUS, CONDSTORE and STATUS=SIZE from the capability list', async () => {
    const server = await start({ disableCapabilities: ['UIDPLUS', 'CONDSTORE', 'STATUS=SIZE'] });
    const client = await openTestClient(server.account('alice'));
    try {
      for (const hidden of ['UIDPLUS', 'CONDSTORE', 'STATUS=SIZE']) assert.equal(client.capabilities.has(hidden), false, `${hidden} hidden`);
      for (const kept of ['IDLE', 'SPECIAL-USE', 'NAMESPACE']) assert.equal(client.capabilities.has(kept), true, `${kept} kept`);
    } finally {
      await client.logout();
    }
  });

  test('maxConnectionsPerUser: one login too many gets NO [LIMIT]', async () => {
    const server = await start({ maxConnectionsPerUser: 2 });
    const first = await openTestClient(server.account('alice'));
    const second = await openTestClient(server.account('alice'));
    try {
      await assert.rejects(openTestClient(server.account('alice')), (err: Error & { serverResponseCode?: string }) => err.serverResponseCode === 'LIMIT');
      const other = await openTestClient(server.account('bob'));
      await other.logout();
    } finally {
      await first.logout();
      await second.logout();
    }
  });

  test("separator '.' with prefix 'INBOX.' (Courier-like) round-trips the corpus", async () => {
    const server = await start({ separator: '.', prefix: 'INBOX.' });
    const corpus = generateCorpus({ seed: 'courier-like' });
    const filled = await fillAccount(server.account('alice'), corpus);
    assert.ok(filled.some((f) => f.path === 'INBOX.Reisen.Überfahrt'));
    const snap = await snapshotAccount(server.account('alice'));
    assertSameMail(expectedFromCorpus(corpus, '.', 'INBOX.'), snap, 'INBOX.-prefixed account');
    assert.equal(folderOf(snap, 'INBOX.Sent').specialUse, '\\Sent');
  });

  test('stop() leaves no process and frees the port; a graceful stop says BYE to clients', async () => {
    const server = await startDovecot({ users: USERS });
    const client = await openTestClient(server.account('alice'));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    // A raw logged-in session, to see the BYE itself.
    const raw = netConnect(server.port, '127.0.0.1');
    let transcript = '';
    raw.on('data', (d: Buffer) => (transcript += d.toString('latin1')));
    raw.on('error', () => undefined);
    raw.write('a LOGIN alice alice-pw\r\n');
    const rawClosed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    while (!transcript.includes('a OK')) await new Promise((r) => setTimeout(r, 10));
    assert.ok(processesMentioning(server.configPath).length > 0);
    const t0 = Date.now();
    await server.stop({ graceful: true });
    assert.ok(Date.now() - t0 < 1500, `graceful stop took ${Date.now() - t0} ms`);
    await closed;
    await rawClosed;
    assert.match(transcript, /\* BYE Server shutting down/);
    assert.deepEqual(processesMentioning(server.configPath), []);
    assert.equal(await portAccepts(server.port), false);
    assert.equal(server.isRunning, false);

    const quick = await startDovecot({ users: USERS });
    const t1 = Date.now();
    await quick.stop();
    assert.ok(Date.now() - t1 < 1000, `stop took ${Date.now() - t1} ms`);
    assert.deepEqual(processesMentioning(quick.configPath), []);
  });

  test('a test process killed with SIGKILL leaves no Dovecot behind', async () => {
    const script = `
      import { startDovecot } from ${JSON.stringify(fileURLToPath(new URL('./dovecot.ts', import.meta.url)))};
      const s = await startDovecot({ users: [{ name: 'x', password: 'y' }] });
      console.log(JSON.stringify({ config: s.configPath, port: s.port }));
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] as string);
      });
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const { config, port } = JSON.parse(line) as { config: string; port: number };
    assert.equal(await portAccepts(port), true);
    assert.ok(processesMentioning(config).length > 0);
    child.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while (processesMentioning(config).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(processesMentioning(config), [], 'the watchdog killed the orphaned Dovecot');
    assert.equal(await portAccepts(port), false);
  });

  test('a missing dovecot binary is a clear error, never a skip', async () => {
    const saved = process.env.MAILFERRY_DOVECOT_BIN;
    process.env.MAILFERRY_DOVECOT_BIN = '/nonexistent/dovecot';
    try {
      await assert.rejects(startDovecot({ users: USERS }), /Dovecot is not installed .*apt-get install/);
    } finally {
      if (saved === undefined) delete process.env.MAILFERRY_DOVECOT_BIN;
      else process.env.MAILFERRY_DOVECOT_BIN = saved;
    }
  });

  test('doveadm runs against the instance', async () => {
    const server = await start();
    await fillAccount(server.account('alice'), generateCorpus({ seed: 'doveadm', specials: false, messagesPerFolder: 2, folders: [{ segments: ['INBOX'] }, { segments: ['Reisen', 'Überfahrt'] }] }));
    const list = await server.doveadm(['mailbox', 'list', '-u', 'alice']);
    assert.deepEqual(list.trim().split('\n').sort(), ['INBOX', 'Reisen', 'Reisen/Überfahrt'].sort());
    const count = await server.doveadm(['-f', 'flow', 'mailbox', 'status', '-u', 'alice', 'messages', 'Reisen/Überfahrt']);
    assert.match(count, /messages=2/);
  });
});
