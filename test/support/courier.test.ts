/**
 * Proves the private Courier IMAP 5.0 harness: it starts in well under a second, each user logs in
 * with imapflow and sees Courier's layout (`INBOX.` prefix, `.` separator, Maildir++ folders),
 * folders with children and non-ASCII names can be created (UTF-8 once imapflow ENABLEs
 * UTF8=ACCEPT, modified UTF-7 without it: the same folder), an APPEND keeps the exact bytes, flags,
 * keywords and a 2004 INTERNALDATE (the file's mtime), and nothing is left running afterwards,
 * even when the test process is killed.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';

import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ImapFlow, type StatusObject } from 'imapflow';
import { startCourier, type CourierServer } from './courier.js';
import { appendAndRead, ODD_MESSAGES } from './odd-messages.js';
import { processesInPidNamespace } from './server-namespace.js';
import { assertKilledTestLeavesNothing, assertStopLeavesNothing } from './instance-checks.js';

const USERS = [
  { name: 'alice', password: 'alice-pw' },
  { name: 'bob', password: "bob's \"quoted\" pw" },
];
const MESSAGE = Buffer.from(
  'From: Ann Example <ann@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n' +
    'Date: Sun, 29 Feb 2004 23:59:58 +0000\r\nMessage-ID: <leap-2004@example.com>\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße, line one.\r\n.leading dot\r\n',
);
const INTERNAL_DATE = new Date('2004-02-29T23:59:58.000Z');
const FLAGS = ['\\Seen', '$Forwarded', 'MyKeyword'];

const started: CourierServer[] = [];
const start = async (options: Partial<Parameters<typeof startCourier>[0]> = {}): Promise<CourierServer> => {
  const server = await startCourier({ users: USERS, ...options });
  started.push(server);
  return server;
};
after(async () => {
  for (const s of started) await s.stop();
});

/** An imapflow client that records the lines it sends and receives (imapflow's debug log). */
const openClient = async (server: CourierServer, user: string, extra: Partial<ConstructorParameters<typeof ImapFlow>[0]> = {}): Promise<{ client: ImapFlow; wire: string[] }> => {
  const wire: string[] = [];
  const account = server.account(user);
  const client = new ImapFlow({
    host: account.host,
    port: account.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: account.user, pass: account.password },
    logger: {
      debug: (entry: { msg?: string }) => void (entry.msg && wire.push(entry.msg)),
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    ...extra,
  });
  client.on('error', () => undefined);
  await client.connect();
  return { client, wire };
};

/** STATUS that fails the test instead of returning imapflow's `false`. */
const statusOf = async (client: ImapFlow, path: string, query: Parameters<ImapFlow['status']>[1]): Promise<StatusObject> => {
  const status = await client.status(path, query);
  assert.ok(status, `STATUS ${path} failed`);
  return status;
};

/** imapflow's untyped raw command: resolves once tagged OK; the parser waits until `next()`. */
interface RawExec {
  exec(command: string, attributes: unknown[]): Promise<{ next: () => void }>;
}
/** Sends a raw command (for syntax imapflow 2.1.2 has no method for, like CREATE ... (USE ...)). */
const execRaw = async (client: ImapFlow, command: string, attributes: unknown[]): Promise<void> => {
  const response = await (client as unknown as RawExec).exec(command, attributes);
  response.next();
};

/** The message files of a Maildir folder (`cur` and `new`). */
const messageFiles = (folderDir: string): string[] =>
  ['cur', 'new'].flatMap((sub) => (existsSync(join(folderDir, sub)) ? readdirSync(join(folderDir, sub)).map((f) => join(folderDir, sub, f)) : []));

describe('startCourier', () => {
  test('starts fast; each user logs in and sees personal namespace INBOX. with separator .', async (t) => {
    const server = await start();
    t.diagnostic(`Courier greeted after ${server.startupMs} ms: ${server.greeting}`);
    assert.match(server.greeting, /Courier-IMAP ready/);
    assert.ok(server.startupMs < 5_000, `startup took ${server.startupMs} ms`);
    for (const user of USERS) {
      const { client } = await openClient(server, user.name);
      try {
        assert.deepEqual(client.namespace, { prefix: 'INBOX.', delimiter: '.' });
        const capabilities = [...client.capabilities.keys()];
        t.diagnostic(`CAPABILITY after login (${user.name}): ${capabilities.join(' ')}`);
        for (const cap of ['UIDPLUS', 'IDLE', 'QUOTA', 'UTF8=ACCEPT', 'ACL']) assert.ok(client.capabilities.has(cap), `Courier advertises ${cap}`);
        for (const cap of ['CONDSTORE', 'SPECIAL-USE', 'LITERAL+', 'STATUS=SIZE', 'MOVE', 'COMPRESS=DEFLATE']) assert.ok(!client.capabilities.has(cap), `Courier does not advertise ${cap}`);
        assert.ok(client.enabled.has('UTF8=ACCEPT'), 'imapflow enabled UTF8=ACCEPT');
        assert.equal((await statusOf(client, 'INBOX', { messages: true })).messages, 0);
      } finally {
        await client.logout();
      }
    }
  });

  test('a wrong password is refused', async () => {
    const server = await start();
    await assert.rejects(openClient(server, 'alice', { auth: { user: 'alice', pass: 'wrong' } }), (error: { authenticationFailed?: boolean }) => error.authenticationFailed === true);
  });

  test('CREATE INBOX.Archive, INBOX.Archive.2019 and non-ASCII names (UTF-8 and modified UTF-7 reach the same folder); LIST shows the tree', async () => {
    const server = await start();
    const utf8 = await openClient(server, 'alice');
    const mutf7 = await openClient(server, 'alice', { disableAutoEnable: true });
    try {
      for (const path of ['INBOX.Archive', 'INBOX.Archive.2019', 'INBOX.Grüße – Ärger']) {
        assert.equal((await utf8.client.mailboxCreate(path)).created, true, path);
      }
      assert.ok(utf8.wire.some((l) => / CREATE "INBOX\.Grüße – Ärger"$/.test(l)), 'UTF-8 on the wire after ENABLE UTF8=ACCEPT');
      // Without ENABLE the name goes as modified UTF-7 and reaches the folder created above.
      assert.equal(mutf7.client.enabled.size, 0);
      await assert.rejects(mutf7.client.mailboxCreate('INBOX.Grüße – Ärger'));
      assert.ok(mutf7.wire.some((l) => / CREATE "INBOX\.Gr&APwA3w-e &IBM- &AMQ-rger"$/.test(l)), `modified UTF-7 CREATE in:\n${mutf7.wire.join('\n')}`);
      assert.equal((await mutf7.client.mailboxCreate('INBOX.Ärger.Ünïcode')).created, true);

      // CREATE of an existing folder: a plain NO, without RFC 5530's [ALREADYEXISTS] (Dovecot sends
      // it, and imapflow turns it into { created: false }; here imapflow throws).
      await assert.rejects(utf8.client.mailboxCreate('INBOX.Archive'), (error: { responseText?: string; serverResponseCode?: string }) => {
        assert.equal(error.responseText, 'Cannot create this folder.');
        assert.equal(error.serverResponseCode, undefined);
        return true;
      });
      for (const { client } of [utf8, mutf7]) {
        const list = await client.list();
        const byPath = new Map(list.map((m) => [m.path, m]));
        assert.deepEqual([...byPath.keys()].sort(), ['INBOX', 'INBOX.Archive', 'INBOX.Archive.2019', 'INBOX.Grüße – Ärger', 'INBOX.Ärger', 'INBOX.Ärger.Ünïcode']);
        assert.equal(byPath.get('INBOX.Archive.2019')?.delimiter, '.');
        assert.equal(byPath.get('INBOX.Archive.2019')?.parentPath, 'INBOX.Archive');
        assert.ok(byPath.get('INBOX.Archive')?.flags.has('\\HasChildren'));
        assert.ok(byPath.get('INBOX.Archive.2019')?.flags.has('\\HasNoChildren'));
      }
      // On disk: Maildir++ folders named in UTF-8 (Courier 5). CREATE of a child does not create its
      // parent: INBOX.Ärger exists only in LIST, as a \Noselect placeholder.
      const folders = readdirSync(server.mailRoot('alice')).filter((f) => f.startsWith('.')).sort();
      assert.deepEqual(folders, ['.Archive', '.Archive.2019', '.Grüße – Ärger', '.Ärger.Ünïcode']);
      const placeholder = (await utf8.client.list()).find((m) => m.path === 'INBOX.Ärger');
      assert.ok(placeholder?.flags.has('\\Noselect') && placeholder.flags.has('\\HasChildren'), `flags: ${[...(placeholder?.flags ?? [])].join(' ')}`);
    } finally {
      await utf8.client.logout();
      await mutf7.client.logout();
    }
  });

  test('APPEND with \\Seen, a keyword and a 2004 INTERNALDATE reads back byte-identical with the same flags and date', async () => {
    const server = await start();
    const { client } = await openClient(server, 'alice');
    try {
      await client.mailboxCreate('INBOX.Archive');
      await client.mailboxCreate('INBOX.Archive.2019');
      const appended = await client.append('INBOX.Archive.2019', MESSAGE, FLAGS, INTERNAL_DATE);
      assert.ok(appended && appended.uid === 1 && typeof appended.uidValidity === 'bigint', `APPENDUID: ${String(appended && appended.uid)}`);
      assert.equal((await statusOf(client, 'INBOX.Archive.2019', { messages: true })).messages, 1);
      const lock = await client.getMailboxLock('INBOX.Archive.2019');
      try {
        const permanent = client.mailbox && client.mailbox.permanentFlags;
        assert.ok(permanent instanceof Set && permanent.has('MyKeyword') && permanent.has('\\*'), 'keywords are permanent (IMAP_KEYWORDS=1)');
        const messages = [];
        for await (const m of client.fetch('1:*', { uid: true, flags: true, internalDate: true, source: true, size: true })) messages.push(m);
        assert.equal(messages.length, 1);
        const [m] = messages;
        assert.ok(m?.source && m.source.equals(MESSAGE), 'body is byte-identical');
        assert.equal(m.size, MESSAGE.length);
        assert.deepEqual([...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(), [...FLAGS].sort());
        assert.equal((m.internalDate as Date).toISOString(), INTERNAL_DATE.toISOString());
      } finally {
        lock.release();
      }
      // What the server holds: one file in cur/ (\Seen is the maildir S flag), its mtime the INTERNALDATE.
      const files = messageFiles(join(server.mailRoot('alice'), '.Archive.2019'));
      assert.equal(files.length, 1);
      const [file] = files as [string];
      assert.match(file, /\/cur\/[^/]+:2,S$/);
      assert.equal(statSync(file).mtime.toISOString(), INTERNAL_DATE.toISOString());
    } finally {
      await client.logout();
    }
  });

  test('two instances at once are independent', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    assert.notEqual(a.port, b.port);
    const first = await openClient(a, 'alice');
    await first.client.mailboxCreate('INBOX.OnlyInA');
    await first.client.logout();
    const second = await openClient(b, 'alice');
    try {
      assert.deepEqual((await second.client.list()).map((m) => m.path), ['INBOX']);
    } finally {
      await second.client.logout();
    }
  });

  test('what APPEND does to unusual bytes: line ends normalised to CRLF, a bare CR dropped, nothing refused', async () => {
    const server = await start();
    const { client } = await openClient(server, 'alice');
    // Courier stores LF line ends in the Maildir file and sends CRLF: whatever line ends came in.
    const expected: Record<string, Buffer | { refused: string }> = {
      'bare LF': Buffer.from('Subject: lf\r\n\r\nline1\r\nline2\r\n'),
      'bare CR': Buffer.from('Subject: cr\r\n\r\nline1line2\r\n'),
      'NUL in body': ODD_MESSAGES['NUL in body'] as Buffer,
      'no final CRLF': Buffer.from('Subject: nofinal\r\n\r\nlast line\r\n'),
      'no header': ODD_MESSAGES['no header'] as Buffer,
      empty: Buffer.from('\r\n'),
    };
    try {
      for (const [label, raw] of Object.entries(ODD_MESSAGES)) assert.deepEqual(await appendAndRead(client, raw, INTERNAL_DATE), expected[label], label);
    } finally {
      await client.logout();
    }
  });

  test('names Courier refuses (its own rules, not IMAP\'s)', async (t) => {
    const server = await start();
    const { client } = await openClient(server, 'alice');
    try {
      const refused: string[] = [];
      for (const path of ['INBOX.a/b', 'INBOX.dou..ble']) {
        await assert.rejects(client.mailboxCreate(path), (error: { responseText?: string }) => /Invalid mailbox name/.test(error.responseText ?? ''), path);
        refused.push(JSON.stringify(path));
      }
      const accepted: string[] = [];
      for (const path of ['INBOX.star*', 'INBOX.per%cent', 'INBOX.amp&and', 'INBOX.quote"d', 'INBOX.back\\slash', 'INBOX.tab\there', 'INBOX.Sent Items']) {
        assert.equal((await client.mailboxCreate(path)).created, true, path);
        accepted.push(JSON.stringify(path));
      }
      // A leading ~ is taken for INBOX itself.
      await assert.rejects(client.mailboxCreate('INBOX.~tilde'), (error: { responseText?: string }) => {
        refused.push(`"INBOX.~tilde" (${error.responseText ?? ''})`);
        return true;
      });
      // A trailing separator is RFC 3501's "will create children": OK, but no folder appears.
      assert.equal((await client.mailboxCreate('INBOX.trailing.')).created, true);
      const paths = (await client.list()).map((m) => m.path);
      assert.ok(!paths.some((p) => p.startsWith('INBOX.trailing')), paths.join(', '));
      for (const path of ['INBOX.star*', 'INBOX.per%cent', 'INBOX.quote"d', 'INBOX.back\\slash', 'INBOX.tab\there']) assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
      t.diagnostic(`refused: ${refused.join(' ')}; accepted: ${accepted.join(' ')}; "INBOX.trailing." answers OK and creates nothing`);
    } finally {
      await client.logout();
    }
  });

  test('no special-use: LIST carries no special-use attributes; CREATE ... (USE ...) is refused', async () => {
    const server = await start();
    const { client } = await openClient(server, 'alice');
    try {
      await client.mailboxCreate('INBOX.Sent');
      await client.mailboxCreate('INBOX.Old Mail');
      await assert.rejects(execRaw(client, 'CREATE', [{ type: 'STRING', value: 'INBOX.Archive' }, [{ type: 'ATOM', value: 'USE' }, [{ type: 'ATOM', value: '\\Archive' }]]]));
      const list = await client.list();
      // imapflow still guesses \Sent from the name; the server itself said nothing.
      assert.equal(list.find((m) => m.path === 'INBOX.Sent')?.specialUseSource, 'name');
      assert.equal(list.find((m) => m.path === 'INBOX.Old Mail')?.specialUse, undefined);
    } finally {
      await client.logout();
    }
  });

  test('users are separate Maildirs: bob does not see alice\'s folders', async () => {
    const server = await start();
    const alice = await openClient(server, 'alice');
    await alice.client.mailboxCreate('INBOX.Private');
    await alice.client.logout();
    const bob = await openClient(server, 'bob');
    try {
      assert.deepEqual((await bob.client.list()).map((m) => m.path), ['INBOX']);
    } finally {
      await bob.client.logout();
    }
  });

  test('stop() leaves no process behind, closes the port and removes the folder', async () => {
    const server = await startCourier({ users: USERS });
    const { client } = await openClient(server, 'alice');
    assert.ok(server.pidNamespace);
    assert.ok(processesInPidNamespace(server.pidNamespace).length >= 4, 'launcher, syslog sink, authdaemond, couriertcpd (and an imapd)');
    await assertStopLeavesNothing(server, () => client.close());
  });

  test('a test process killed with SIGKILL leaves no Courier behind', async () => {
    await assertKilledTestLeavesNothing(fileURLToPath(new URL('./courier.ts', import.meta.url)), 'startCourier');
  });
});
