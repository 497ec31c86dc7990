/**
 * Proves the private Cyrus IMAP 3.6 harness: it starts in well under a second, each user logs in
 * with imapflow and sees the classic Cyrus layout (`INBOX.` prefix, `.` separator), folders with
 * children and non-ASCII names (modified UTF-7 on the wire) can be created, an APPEND keeps the
 * exact bytes, flags, keywords and a 2004 INTERNALDATE, and nothing is left running afterwards,
 * even when the test process is killed.
 */
import assert from 'node:assert/strict';

import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ImapFlow, type StatusObject } from 'imapflow';
import { startCyrus, type CyrusServer } from './cyrus.js';
import { appendAndRead, ODD_MESSAGES } from './odd-messages.js';
import { processesInPidNamespace } from './server-namespace.js';
import { assertKilledTestLeavesNothing, assertStopLeavesNothing } from './instance-checks.js';

const USERS = [
  { name: 'alice', password: 'alice-pw' },
  { name: 'bob', password: 'bob "quoted" pw' },
];
const MESSAGE = Buffer.from(
  'From: Ann Example <ann@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n' +
    'Date: Sun, 29 Feb 2004 23:59:58 +0000\r\nMessage-ID: <leap-2004@example.com>\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße, line one.\r\n.leading dot\r\n',
);
const INTERNAL_DATE = new Date('2004-02-29T23:59:58.000Z');
const FLAGS = ['\\Seen', '$Forwarded', 'MyKeyword'];

const started: CyrusServer[] = [];
const start = async (options: Partial<Parameters<typeof startCyrus>[0]> = {}): Promise<CyrusServer> => {
  const server = await startCyrus({ users: USERS, ...options });
  started.push(server);
  return server;
};
after(async () => {
  for (const s of started) await s.stop();
});

/** An imapflow client that records the lines it sends and receives (imapflow's debug log). */
const openClient = async (server: CyrusServer, user: string, extra: Partial<ConstructorParameters<typeof ImapFlow>[0]> = {}): Promise<{ client: ImapFlow; wire: string[] }> => {
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

describe('startCyrus', () => {
  test('starts fast; each user logs in and sees personal namespace INBOX. with separator .', async (t) => {
    const server = await start();
    t.diagnostic(`Cyrus greeted after ${server.startupMs} ms: ${server.greeting}`);
    assert.match(server.greeting, /Cyrus IMAP 3\.6/);
    assert.ok(server.startupMs < 5_000, `startup took ${server.startupMs} ms`);
    for (const user of USERS) {
      const { client } = await openClient(server, user.name);
      try {
        assert.deepEqual(client.namespace, { prefix: 'INBOX.', delimiter: '.' });
        const capabilities = [...client.capabilities.keys()];
        t.diagnostic(`CAPABILITY after login (${user.name}): ${capabilities.join(' ')}`);
        for (const cap of ['UIDPLUS', 'CONDSTORE', 'SPECIAL-USE', 'CREATE-SPECIAL-USE', 'LITERAL+', 'STATUS=SIZE', 'MOVE', 'QUOTA', 'LIST-EXTENDED']) {
          assert.ok(client.capabilities.has(cap), `Cyrus advertises ${cap}`);
        }
        assert.ok(!client.capabilities.has('UTF8=ACCEPT'), 'Cyrus 3.6 does not offer UTF8=ACCEPT: names travel as modified UTF-7');
        assert.ok(client.capabilities.has('COMPRESS=DEFLATE'));
        const inbox = await statusOf(client, 'INBOX', { messages: true });
        assert.equal(inbox.messages, 0);
      } finally {
        await client.logout();
      }
    }
  });

  test('a wrong password is refused', async () => {
    const server = await start();
    await assert.rejects(openClient(server, 'alice', { auth: { user: 'alice', pass: 'wrong' } }), (error: { authenticationFailed?: boolean }) => error.authenticationFailed === true);
  });

  test('CREATE INBOX.Archive, INBOX.Archive.2019 and a non-ASCII name (modified UTF-7 on the wire); LIST shows the tree', async () => {
    const server = await start();
    const { client, wire } = await openClient(server, 'alice');
    try {
      for (const path of ['INBOX.Archive', 'INBOX.Archive.2019', 'INBOX.Grüße – Ärger']) {
        const created = await client.mailboxCreate(path);
        assert.equal(created.created, true, path);
      }
      assert.ok(wire.includes('CREATE "INBOX.Gr&APwA3w-e &IBM- &AMQ-rger"') || wire.some((l) => / CREATE "INBOX\.Gr&APwA3w-e &IBM- &AMQ-rger"$/.test(l)), `modified UTF-7 CREATE in:\n${wire.join('\n')}`);
      // CREATE of an existing folder: a plain NO, without RFC 5530's [ALREADYEXISTS] (Dovecot sends
      // it, and imapflow turns it into { created: false }; here imapflow throws).
      await assert.rejects(client.mailboxCreate('INBOX.Archive'), (error: { responseText?: string; serverResponseCode?: string }) => {
        assert.equal(error.responseText, 'Mailbox already exists');
        assert.equal(error.serverResponseCode, undefined);
        return true;
      });
      const list = await client.list();
      const byPath = new Map(list.map((m) => [m.path, m]));
      assert.deepEqual([...byPath.keys()].sort(), ['INBOX', 'INBOX.Archive', 'INBOX.Archive.2019', 'INBOX.Grüße – Ärger']);
      assert.equal(byPath.get('INBOX.Archive.2019')?.delimiter, '.');
      assert.equal(byPath.get('INBOX.Archive.2019')?.parentPath, 'INBOX.Archive');
      assert.ok(byPath.get('INBOX.Archive')?.flags.has('\\HasChildren'));
      assert.ok(byPath.get('INBOX.Archive.2019')?.flags.has('\\HasNoChildren'));
      // Cyrus returns the name in modified UTF-7; imapflow decodes it.
      assert.ok(wire.some((l) => l.endsWith('"INBOX.Gr&APwA3w-e &IBM- &AMQ-rger"') && l.startsWith('* LIST')), 'LIST answers in modified UTF-7');
    } finally {
      await client.logout();
    }
  });

  test('APPEND with \\Seen, a keyword and a 2004 INTERNALDATE reads back byte-identical with the same flags and date', async () => {
    const server = await start();
    const { client, wire } = await openClient(server, 'alice');
    try {
      // imapflow negotiated COMPRESS=DEFLATE: everything below travels compressed.
      assert.ok(wire.some((l) => / OK DEFLATE active$/.test(l)), 'COMPRESS DEFLATE in use');
      await client.mailboxCreate('INBOX.Archive');
      await client.mailboxCreate('INBOX.Archive.2019');
      const appended = await client.append('INBOX.Archive.2019', MESSAGE, FLAGS, INTERNAL_DATE);
      assert.ok(appended && appended.uid === 1 && typeof appended.uidValidity === 'bigint', `APPENDUID: ${String(appended && appended.uid)}`);
      const status = await statusOf(client, 'INBOX.Archive.2019', { messages: true, size: true, highestModseq: true });
      assert.equal(status.messages, 1);
      assert.equal(status.size, MESSAGE.length, 'STATUS SIZE is the exact byte count');
      const lock = await client.getMailboxLock('INBOX.Archive.2019');
      try {
        // Keywords are permanent: the mailbox now lists them in PERMANENTFLAGS, with \* (any new keyword).
        const permanent = client.mailbox && client.mailbox.permanentFlags;
        assert.ok(permanent instanceof Set && permanent.has('MyKeyword') && permanent.has('\\*'));
        const messages = [];
        for await (const m of client.fetch('1:*', { uid: true, flags: true, internalDate: true, source: true, size: true })) messages.push(m);
        assert.equal(messages.length, 1);
        const [m] = messages;
        assert.ok(m?.source && m.source.equals(MESSAGE), 'body is byte-identical');
        assert.equal(m.size, MESSAGE.length);
        // Cyrus adds \Recent for the first session that sees the message.
        assert.deepEqual([...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(), [...FLAGS].sort());
        assert.equal((m.internalDate as Date).toISOString(), INTERNAL_DATE.toISOString());
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  });

  test('raw 8-bit bytes in a header become X on APPEND (munge8bit, the default); munge8bit: false keeps them', async () => {
    const raw = Buffer.from('From: a@example.com\r\nSubject: Fähre über\r\nMessage-ID: <8bit@example.com>\r\n\r\nFähre\r\n');
    const munged = Buffer.from('From: a@example.com\r\nSubject: FXXhre XXber\r\nMessage-ID: <8bit@example.com>\r\n\r\nFähre\r\n');
    for (const [munge8bit, expected] of [[undefined, munged], [false, raw]] as const) {
      const server = await start(munge8bit === undefined ? {} : { munge8bit });
      const { client } = await openClient(server, 'alice');
      try {
        await client.append('INBOX', raw, [], INTERNAL_DATE);
        const lock = await client.getMailboxLock('INBOX');
        try {
          const message = await client.fetchOne('1', { source: true });
          assert.ok(message && message.source?.equals(expected), `munge8bit ${String(munge8bit)}: ${message && message.source?.toString('utf8')}`);
        } finally {
          lock.release();
        }
      } finally {
        await client.logout();
      }
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

  test('what APPEND does to unusual bytes: bare LF and empty messages refused, the rest kept exactly', async () => {
    const server = await start();
    const { client } = await openClient(server, 'alice');
    const expected: Record<string, Buffer | { refused: string }> = {
      'bare LF': { refused: 'Message contains bare newlines' },
      'bare CR': ODD_MESSAGES['bare CR'] as Buffer,
      'NUL in body': ODD_MESSAGES['NUL in body'] as Buffer,
      'no final CRLF': ODD_MESSAGES['no final CRLF'] as Buffer,
      'no header': ODD_MESSAGES['no header'] as Buffer,
      empty: { refused: 'Zero-length message literal' },
    };
    try {
      for (const [label, raw] of Object.entries(ODD_MESSAGES)) assert.deepEqual(await appendAndRead(client, raw, INTERNAL_DATE), expected[label], label);
    } finally {
      await client.logout();
    }
  });

  test('names Cyrus refuses or rewrites (its own rules, not IMAP\'s)', async (t) => {
    const server = await start();
    const { client } = await openClient(server, 'alice');
    try {
      const refused: string[] = [];
      for (const path of ['INBOX.a/b', 'INBOX.per%cent', 'INBOX.quote"d', 'INBOX.back\\slash', 'INBOX.tab\there']) {
        await assert.rejects(client.mailboxCreate(path), (error: { responseText?: string }) => /Invalid mailbox name/.test(error.responseText ?? ''), path);
        refused.push(JSON.stringify(path));
      }
      for (const path of ['INBOX.star*', 'INBOX.amp&and', 'INBOX.~tilde', 'INBOX.Sent Items', 'INBOX. leading space']) {
        assert.equal((await client.mailboxCreate(path)).created, true, path);
      }
      // An empty level is dropped and a trailing separator ignored: CREATE says OK, the folder is elsewhere.
      await client.mailboxCreate('INBOX.dou..ble');
      await client.mailboxCreate('INBOX.trailing.');
      const paths = (await client.list()).map((m) => m.path);
      assert.ok(paths.includes('INBOX.dou.ble') && paths.includes('INBOX.dou') && !paths.includes('INBOX.dou..ble'), paths.join(', '));
      assert.ok(paths.includes('INBOX.trailing') && !paths.includes('INBOX.trailing.'), paths.join(', '));
      t.diagnostic(`refused: ${refused.join(' ')}; accepted: * & ~ spaces; "a..b" becomes "a.b" (with "a"), "x." becomes "x"`);
    } finally {
      await client.logout();
    }
  });

  test('special-use: CREATE ... (USE (\\Archive)) is honoured and LIST reports it', async () => {
    const server = await start();
    const { client, wire } = await openClient(server, 'alice');
    try {
      // imapflow 2.1.2 does not send USE from mailboxCreate, so the command is raw.
      await execRaw(client, 'CREATE', [{ type: 'STRING', value: 'INBOX.Old Mail' }, [{ type: 'ATOM', value: 'USE' }, [{ type: 'ATOM', value: '\\Archive' }]]]);
      const folder = (await client.list()).find((m) => m.path === 'INBOX.Old Mail');
      assert.equal(folder?.specialUse, '\\Archive');
      assert.equal(folder?.specialUseSource, 'extension', wire.join('\n'));
    } finally {
      await client.logout();
    }
  });

  test('users are separate mailboxes: bob does not see alice\'s folders', async () => {
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
    const server = await startCyrus({ users: USERS });
    const { client } = await openClient(server, 'alice');
    assert.ok(server.pidNamespace);
    assert.ok(processesInPidNamespace(server.pidNamespace).length >= 3, 'launcher, syslog sink, master (and an imapd)');
    await assertStopLeavesNothing(server, () => client.close());
  });

  test('a test process killed with SIGKILL leaves no Cyrus behind', async () => {
    await assertKilledTestLeavesNothing(fileURLToPath(new URL('./cyrus.ts', import.meta.url)), 'startCyrus');
  });
});
