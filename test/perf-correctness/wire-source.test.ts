/**
 * The wire source (src/imap/wire-source.ts, the only way the copier reads an IMAP source)
 * against an independent reading of the same Dovecot account with imapflow: same folder
 * states, same UIDs, the same metadata and fingerprints for every awkward message of the
 * default corpus, bodies byte-identical, the account unchanged afterwards (no \Seen set), and
 * nothing but read-only commands on the wire. Also: a body read stopped early by its consumer
 * leaves the session usable, and the next read on it gets only its own messages.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ImapFlow } from 'imapflow';
import { connectImap, disconnectImap } from '../../src/imap/connect-imap.js';
import { openWireSource } from '../../src/imap/wire-source.js';
import { joinedBytes } from '../../src/engine/message-bytes.js';
import { expandUidSet, parseFetch, parseInternalDate, searchResults } from '../../src/imap/wire-parse.js';
import { FINGERPRINT_HEADERS, fingerprintFromFields, headerValue, parseHeaderFields } from '../../src/engine/fingerprint.js';
import type { FolderState, MessageMeta, SourceStore } from '../../src/engine/store.js';
import { fillAccount, generateCorpus, generateFolderOfSize } from '../support/corpus.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { assertSourceUnchanged, snapshotAccount } from '../support/mail-snapshot.js';

const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

/** What imapflow reads of one folder: the reference the wire source is compared with. */
const referenceRead = async (client: ImapFlow, path: string, bodiesOf: number) => {
  const mailbox = await client.mailboxOpen(path, { readOnly: true });
  assert.equal(mailbox.readOnly, true);
  const state: FolderState = {
    uidValidity: mailbox.uidValidity.toString(),
    uidNext: mailbox.uidNext,
    messages: mailbox.exists,
    highestModseq: mailbox.highestModseq?.toString(),
  };
  const search = async (query: { all?: boolean; deleted?: boolean }): Promise<number[]> =>
    mailbox.exists === 0 ? [] : [...((await client.search(query, { uid: true })) || [])].sort((a, b) => a - b);
  const uids = await search({ all: true });
  const deletedUids = await search({ deleted: true });
  const metas: MessageMeta[] = [];
  if (mailbox.exists > 0) {
    for await (const m of client.fetch('1:*', { uid: true, size: true, flags: true, internalDate: true, headers: [...FINGERPRINT_HEADERS] }, { uid: true })) {
      const fields = parseHeaderFields(m.headers ?? Buffer.alloc(0));
      const size = m.size ?? 0;
      metas.push({
        uid: m.uid,
        sizeBytes: size,
        flags: [...(m.flags ?? [])].filter((f) => f.toLowerCase() !== '\\recent').sort(),
        internalDate: m.internalDate instanceof Date ? m.internalDate : new Date(m.internalDate ?? 0),
        fingerprint: fingerprintFromFields(fields, size),
        subject: headerValue(fields, 'subject'),
        messageId: headerValue(fields, 'message-id'),
        date: headerValue(fields, 'date'),
      });
    }
  }
  const bodies: Record<number, string> = {};
  const wanted = uids.slice(0, bodiesOf);
  if (wanted.length > 0) {
    for await (const m of client.fetch(wanted.join(','), { uid: true, source: true }, { uid: true })) {
      bodies[m.uid] = m.source ? createHash('sha256').update(m.source).digest('hex') : 'no content';
    }
  }
  return { state, uids, deletedUids, metas, bodies };
};

describe('wire source', () => {
  let server: DovecotServer;
  const corpus = generateCorpus({ seed: 'wire-source', big: [2 * 1024 * 1024] });

  before(async () => {
    server = await startDovecot({ users: [{ name: 'alice', password: 'pw' }] });
    await fillAccount(server.account('alice'), [...corpus.folders, generateFolderOfSize({ seed: 'wire-many', segments: ['Many'], messages: 2500, sizeRange: [300, 900] })]);
  });
  after(async () => {
    await server?.stop();
  });

  test('reads exactly what the imapflow source reads, and changes nothing', async () => {
    const before = await snapshotAccount(server.account('alice'));
    const commandsBefore = server.clientCommands('alice').length;
    const account = server.credentials('alice', 'plain');
    const wire = unwrap(await openWireSource(account));
    const flow = unwrap(await connectImap(account));
    try {
      const folders = unwrap(await wire.listFolders()).filter((f) => f.isSelectable);
      assert.ok(folders.length > 5, 'the corpus has many folders');
      for (const folder of folders) {
        const reference = await referenceRead(flow.client, folder.path, 300);
        assert.deepEqual(unwrap(await wire.openFolder(folder.path)), reference.state, `${folder.path}: folder state`);
        const listed = unwrap(await wire.listUids(folder.path));
        assert.deepEqual(listed.uids, reference.uids, `${folder.path}: UIDs`);
        assert.deepEqual([...listed.deletedUids].sort((a, b) => a - b), reference.deletedUids, `${folder.path}: UIDs flagged \\Deleted`);
        const byUid = (m: { uid: number }[]) => [...m].sort((x, y) => x.uid - y.uid);
        assert.deepEqual(byUid(unwrap(await wire.listMessages(folder.path, listed.uids))), byUid(reference.metas), `${folder.path}: metadata and fingerprints`);
        assert.deepEqual(byUid(unwrap(await wire.listMessages(folder.path, 'all'))), byUid(reference.metas), `${folder.path}: 'all'`);
        const sizes = new Map(reference.metas.map((m) => [m.uid, m.sizeBytes]));
        assert.deepEqual(unwrap(await wire.listSizes(folder.path, listed.uids)), sizes, `${folder.path}: sizes`);
        const withSizes = unwrap(await wire.listUids(folder.path, undefined, { withSizes: true }));
        assert.deepEqual(withSizes.sizes, sizes, `${folder.path}: sizes with the UID listing`);
        assert.deepEqual(withSizes.uids, listed.uids, `${folder.path}: UIDs listed with sizes`);
        const bodies: Record<number, string> = {};
        for await (const r of wire.readBodies(folder.path, listed.uids.slice(0, 300))) bodies[r.uid] = r.ok ? createHash('sha256').update(joinedBytes(r.body)).digest('hex') : `error ${r.error.kind}`;
        assert.deepEqual(bodies, reference.bodies, `${folder.path}: bodies`);
      }
      // A UID that does not exist is reported as gone, not as an error.
      const gone: string[] = [];
      for await (const r of wire.readBodies('INBOX', [999_999])) gone.push(r.ok ? 'ok' : r.error.kind);
      assert.deepEqual(gone, ['not-found']);
      const missing = await wire.openFolder('No such folder');
      assert.ok(!missing.ok && missing.error.kind === 'not-found');
    } finally {
      await wire.close();
      await disconnectImap(flow);
    }
    assertSourceUnchanged(before, await snapshotAccount(server.account('alice')));
    const risky = server
      .clientCommands('alice')
      .slice(commandsBefore)
      .filter((c) => /^\S+ (UID )?(SELECT|STORE|EXPUNGE|DELETE|RENAME|MOVE|CLOSE|APPEND)\b/i.test(c) || (/ FETCH /i.test(c) && /BODY\[(?!.*PEEK)/i.test(c.replace(/BODY\.PEEK\[/gi, ''))));
    assert.deepEqual(risky, [], 'read-only commands only (EXAMINE, BODY.PEEK)');
  });

  test('a body read stopped early leaves the session usable; the next read gets only its own messages', async () => {
    const account = server.credentials('alice', 'plain');
    const wire: SourceStore = unwrap(await openWireSource(account));
    try {
      const many = unwrap(await wire.listUids('Many')).uids;
      const inbox = unwrap(await wire.listUids('INBOX')).uids;
      // Take two bodies of a 2,000-message FETCH, then stop reading (as a failed destination does).
      let taken = 0;
      for await (const r of wire.readBodies('Many', many.slice(0, 2000))) {
        assert.ok(r.ok);
        if (++taken === 2) break;
      }
      // INBOX has UIDs that Many has too: a leftover body of the first FETCH must not be taken for one.
      const expected: Record<number, string> = {};
      const flow = unwrap(await connectImap(account));
      try {
        Object.assign(expected, (await referenceRead(flow.client, 'INBOX', inbox.length)).bodies);
      } finally {
        await disconnectImap(flow);
      }
      const got: Record<number, string> = {};
      for await (const r of wire.readBodies('INBOX', inbox)) got[r.uid] = r.ok ? createHash('sha256').update(joinedBytes(r.body)).digest('hex') : `error ${r.error.kind}`;
      assert.deepEqual(got, expected);
      assert.deepEqual(unwrap(await wire.listUids('Many')).uids, many, 'and a command after it is answered as usual');
    } finally {
      await wire.close();
    }
  });

  test('parsing: FETCH items with literals and quoted strings, SEARCH and ESEARCH, dates', () => {
    const items = parseFetch({
      text: '* 3 FETCH (UID 17 RFC822.SIZE 42 FLAGS (\\Seen $Label1) INTERNALDATE " 7-Feb-2004 09:05:01 -0130" BODY[HEADER.FIELDS (MESSAGE-ID DATE)] {5} BODY[] "a\\"b")',
      literals: [Buffer.from('X: y\n')],
    });
    assert.ok(items);
    assert.equal(items.get('UID'), '17');
    assert.deepEqual(items.get('FLAGS'), ['\\Seen', '$Label1']);
    assert.deepEqual(items.get('BODY[HEADER.FIELDS (MESSAGE-ID DATE)]'), Buffer.from('X: y\n'));
    assert.deepEqual(items.get('BODY[]'), Buffer.from('a"b'));
    assert.equal(parseInternalDate(' 7-Feb-2004 09:05:01 -0130').toISOString(), '2004-02-07T10:35:01.000Z');
    assert.deepEqual(searchResults([{ text: '* SEARCH 4 5 9', literals: [] }], undefined, 10), [4, 5, 9]);
    assert.deepEqual(searchResults([{ text: '* ESEARCH (TAG "W3") UID ALL 1:3,7', literals: [] }], undefined, 10), [1, 2, 3, 7]);
    assert.deepEqual(expandUidSet('5', 10), [5]);
  });
});
