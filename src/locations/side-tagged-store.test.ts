import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { migrationError, type MigrationError } from '../contract/result.js';
import type { DestinationStore, SourceStore } from '../engine/store.js';
import { openLocationAsDestination, openLocationAsSource } from './open-location.js';
import { sideTaggedDestination, sideTaggedSource } from './side-tagged-store.js';

const lost = migrationError('network', 'The connection was lost.', { retryable: true });
const refused = migrationError('rejected', 'The server refused this message: too big.');

/** A port nothing listens on: bound, then closed again. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
};

test('a connection refused on either side says which side', async () => {
  const port = await closedPort();
  const endpoint = { host: '127.0.0.1', port, security: 'plain' as const, allowPlaintext: true, user: 'u' };
  const source = await openLocationAsSource({ kind: 'imap', endpoint }, { password: 'pw' }, { connectionTimeoutMs: 5_000, greetingTimeoutMs: 5_000, socketTimeoutMs: 5_000 });
  const destination = await openLocationAsDestination({ kind: 'imap', endpoint }, { password: 'pw' }, { connectionTimeoutMs: 5_000, greetingTimeoutMs: 5_000, socketTimeoutMs: 5_000 });
  assert.equal(source.ok, false);
  assert.equal(destination.ok, false);
  assert.equal(!source.ok && source.error.side, 'source');
  assert.equal(!destination.ok && destination.error.side, 'destination');
  assert.equal(!source.ok && source.error.kind, 'network');
});

test('errors a source returns, yields or throws carry its side; values pass unchanged', async () => {
  const inner: SourceStore = {
    kind: 'imap',
    namespace: () => ({ delimiter: '/', prefix: '', capabilities: [] }),
    listFolders: async () => ({ ok: true, value: [] }),
    openFolder: async () => ({ ok: false, error: lost }),
    listUids: async () => {
      throw lost;
    },
    listMessages: async () => ({ ok: true, value: [] }),
    listSizes: async () => ({ ok: true, value: new Map([[1, 10]]) }),
    readBodies: async function* () {
      yield { uid: 1, ok: true, body: Buffer.from('a') };
      yield { uid: 2, ok: false, error: refused };
      throw lost;
    },
    close: async () => undefined,
  };
  const store = sideTaggedSource(inner);
  assert.deepEqual(await store.listFolders(), { ok: true, value: [] });
  assert.deepEqual(await store.listSizes('INBOX', [1]), { ok: true, value: new Map([[1, 10]]) });
  const opened = await store.openFolder('INBOX');
  assert.equal(!opened.ok && opened.error.side, 'source');
  await assert.rejects(store.listUids('INBOX'), (e: MigrationError) => e.side === 'source' && e.kind === 'network');
  const seen: (string | undefined)[] = [];
  await assert.rejects(
    (async () => {
      for await (const body of store.readBodies('INBOX', [1, 2])) seen.push(body.ok ? body.body.toString() : body.error.side);
    })(),
    (e: MigrationError) => e.side === 'source',
  );
  assert.deepEqual(seen, ['a', 'source']);
  assert.equal(lost.side, undefined, 'the original error object is left alone');
});

test('a destination marks refused messages and a stopped append; optional methods stay optional', async () => {
  const inner: DestinationStore = {
    kind: 'imap',
    namespace: () => ({ delimiter: '/', prefix: '', capabilities: [] }),
    listFolders: async () => ({ ok: true, value: [] }),
    ensureFolder: async () => ({ ok: true, value: { created: true } }),
    folderState: async () => ({ ok: false, error: { ...lost, side: 'source' } }),
    listMessages: async () => ({ ok: true, value: [] }),
    append: async () => ({ results: [{ ok: true, value: { uid: 7 } }, { ok: false, error: refused }], stopped: lost, isInDoubt: true }),
    close: async () => undefined,
  };
  const store = sideTaggedDestination(inner);
  assert.equal(store.listUids, undefined);
  assert.equal(store.quota, undefined);
  const outcome = await store.append('INBOX', []);
  assert.deepEqual(outcome.results[0], { ok: true, value: { uid: 7 } });
  assert.equal(!outcome.results[1]!.ok && outcome.results[1]!.error.side, 'destination');
  assert.equal(outcome.stopped?.side, 'destination');
  assert.equal(outcome.isInDoubt, true);
  const state = await store.folderState('INBOX');
  assert.equal(!state.ok && state.error.side, 'source', 'an error that names its side keeps it');
});

test('the wrappers keep every method a store has, optional ones included, and pass their arguments on', async () => {
  // Required<>: a method added to a store interface must be added here, and then to the wrapper.
  const calls: string[] = [];
  const note = (name: string, ...args: unknown[]): void => void calls.push(`${name}(${JSON.stringify(args)})`);
  const source: Required<SourceStore> = {
    kind: 'imap',
    namespace: () => ({ delimiter: '/', prefix: '', capabilities: [] }),
    listFolders: async () => ({ ok: true, value: [] }),
    openFolder: async () => ({ ok: true, value: { uidValidity: '1', uidNext: 1, messages: 0 } }),
    listUids: async () => ({ ok: true, value: { uids: [], deletedUids: [] } }),
    listMessages: async () => ({ ok: true, value: [] }),
    listSizes: async () => ({ ok: true, value: new Map() }),
    searchLarger: async (...args) => (note('searchLarger', ...args), { ok: true, value: [7] }),
    searchSince: async (...args) => (note('searchSince', args[0], args[1].toISOString()), { ok: true, value: [8] }),
    readBodies: async function* () {},
    listFlags: async (...args) => (note('listFlags', ...args), { ok: true, value: new Map([[7, ['\\Seen']]]) }),
    close: async () => undefined,
  };
  const destination: Required<DestinationStore> = {
    kind: 'imap',
    namespace: () => ({ delimiter: '/', prefix: '', capabilities: [] }),
    listFolders: async () => ({ ok: true, value: [] }),
    ensureFolder: async (...args) => (note('ensureFolder', ...args), { ok: true, value: { created: true } }),
    folderState: async () => ({ ok: true, value: { uidValidity: '1', uidNext: 1, messages: 0 } }),
    listMessages: async () => ({ ok: true, value: [] }),
    listUids: async () => ({ ok: true, value: [] }),
    listMessagesByUid: async () => ({ ok: true, value: [] }),
    append: async (...args) => (note('append', args[0], Array.isArray(args[1]) ? args[1].length : -1, typeof args[2]?.beforeCommit), { results: [], isInDoubt: true, settleMs: 5 }),
    preferredBatchBytes: () => 1234,
    quota: async () => ({ usedBytes: 1, limitBytes: 2 }),
    listFlags: async (...args) => (note('listFlags', ...args), { ok: true, value: new Map() }),
    addFlags: async (...args) => (note('addFlags', ...args), { ok: false, error: refused }),
    close: async () => undefined,
  };
  const wrappedSource = sideTaggedSource(source);
  const wrappedDestination = sideTaggedDestination(destination);
  assert.deepEqual(Object.keys(wrappedSource).sort(), Object.keys(source).sort(), 'no source method dropped');
  assert.deepEqual(Object.keys(wrappedDestination).sort(), Object.keys(destination).sort(), 'no destination method dropped');
  assert.deepEqual(await wrappedSource.searchLarger?.('INBOX', 100), { ok: true, value: [7] });
  assert.deepEqual(await wrappedSource.searchSince?.('INBOX', new Date('2026-11-07T00:00:00Z')), { ok: true, value: [8] });
  await wrappedSource.listFlags?.('INBOX', [7], '42');
  await wrappedDestination.ensureFolder('Sent', { specialUse: '\\Sent' });
  const outcome = await wrappedDestination.append('INBOX', [], { beforeCommit: async () => undefined });
  assert.equal(outcome.isInDoubt, true, 'what the store says of doubt passes through');
  assert.equal(outcome.settleMs, 5);
  assert.equal(wrappedDestination.preferredBatchBytes?.(), 1234);
  const added = await wrappedDestination.addFlags?.('INBOX', [{ uid: 3, flags: ['\\Seen'] }]);
  assert.equal(added && !added.ok && added.error.side, 'destination');
  assert.deepEqual(calls, [
    'searchLarger(["INBOX",100])',
    'searchSince(["INBOX","2026-11-07T00:00:00.000Z"])',
    'listFlags(["INBOX",[7],"42"])',
    'ensureFolder(["Sent",{"specialUse":"\\\\Sent"}])',
    'append(["INBOX",0,"function"])',
    'addFlags(["INBOX",[{"uid":3,"flags":["\\\\Seen"]}]])',
  ]);
});
