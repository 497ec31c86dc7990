/**
 * The wire source (src/imap/wire-source.ts) against the imapflow source on the same Dovecot
 * account: same folder states, same UIDs, the same metadata and fingerprints for every awkward
 * message of the default corpus, bodies byte-identical, the account unchanged afterwards (no
 * \Seen set), and nothing but read-only commands on the wire.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connectImap } from '../../src/imap/connect-imap.js';
import { createImapSource } from '../../src/imap/imap-source.js';
import { openWireSource } from '../../src/imap/wire-source.js';
import { expandUidSet, parseFetch, parseInternalDate, searchResults } from '../../src/imap/wire-parse.js';
import type { SourceStore } from '../../src/engine/store.js';
import { fillAccount, generateCorpus, generateFolderOfSize } from '../support/corpus.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { assertSourceUnchanged, snapshotAccount } from '../support/mail-snapshot.js';

const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
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
    const flow: SourceStore = createImapSource(unwrap(await connectImap(account)));
    try {
      const folders = unwrap(await wire.listFolders()).filter((f) => f.isSelectable);
      assert.deepEqual(wire.namespace().delimiter, flow.namespace().delimiter);
      for (const folder of folders) {
        const [a, b] = [unwrap(await wire.openFolder(folder.path)), unwrap(await flow.openFolder(folder.path))];
        assert.deepEqual(a, b, `${folder.path}: folder state`);
        const [ua, ub] = [unwrap(await wire.listUids(folder.path)), unwrap(await flow.listUids(folder.path))];
        assert.deepEqual(ua, ub, `${folder.path}: UIDs`);
        const [ma, mb] = [unwrap(await wire.listMessages(folder.path, ua.uids)), unwrap(await flow.listMessages(folder.path, ub.uids))];
        const byUid = (m: { uid: number }[]) => [...m].sort((x, y) => x.uid - y.uid);
        assert.deepEqual(byUid(ma), byUid(mb), `${folder.path}: metadata and fingerprints`);
        assert.deepEqual(byUid(unwrap(await wire.listMessages(folder.path, 'all'))), byUid(mb), `${folder.path}: 'all'`);
        const sizes = new Map(mb.map((m) => [m.uid, m.sizeBytes]));
        assert.deepEqual(unwrap(await wire.listSizes(folder.path, ua.uids)), sizes, `${folder.path}: sizes (wire)`);
        const listed = unwrap(await wire.listUids(folder.path, undefined, { withSizes: true }));
        assert.deepEqual(listed.sizes, sizes, `${folder.path}: sizes with the UID listing (wire)`);
        assert.deepEqual(listed.uids, ua.uids, `${folder.path}: UIDs listed with sizes`);
        assert.deepEqual(unwrap(await flow.listSizes(folder.path, ub.uids)), sizes, `${folder.path}: sizes (imapflow)`);
        const hash = async (store: SourceStore) => {
          const out: Record<number, string> = {};
          for await (const r of store.readBodies(folder.path, ua.uids.slice(0, 300))) out[r.uid] = r.ok ? createHash('sha256').update(r.body).digest('hex') : `error ${r.error.kind}`;
          return out;
        };
        assert.deepEqual(await hash(wire), await hash(flow), `${folder.path}: bodies`);
      }
      // A UID that does not exist is reported as gone, not as an error.
      const gone: string[] = [];
      for await (const r of wire.readBodies('INBOX', [999_999])) gone.push(r.ok ? 'ok' : r.error.kind);
      assert.deepEqual(gone, ['not-found']);
      const missing = await wire.openFolder('No such folder');
      assert.ok(!missing.ok && missing.error.kind === 'not-found');
    } finally {
      await wire.close();
      await flow.close();
    }
    assertSourceUnchanged(before, await snapshotAccount(server.account('alice')));
    const risky = server
      .clientCommands('alice')
      .slice(commandsBefore)
      .filter((c) => /^\S+ (UID )?(SELECT|STORE|EXPUNGE|DELETE|RENAME|MOVE|CLOSE|APPEND)\b/i.test(c) || (/ FETCH /i.test(c) && /BODY\[(?!.*PEEK)/i.test(c.replace(/BODY\.PEEK\[/gi, ''))));
    assert.deepEqual(risky, [], 'read-only commands only (EXAMINE, BODY.PEEK)');
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
