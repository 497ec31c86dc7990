/**
 * Stores that say which side of the move their failures come from. Every MigrationError a
 * wrapped store returns, yields or throws carries `side` ('source' or 'destination'), so a
 * front end can say "the old account" or "the new account" instead of "the server" without
 * reading the sentence. Only errors are touched: values pass through unchanged, and nothing is
 * added to what a store can do (the wrappers expose exactly the store's own methods).
 */
import type { MigrationError, Result } from '../contract/result.js';
import type { AppendOutcome, BodyResult, DestinationStore, SourceStore } from '../engine/store.js';

export type StoreSide = NonNullable<MigrationError['side']>;

const isMigrationError = (value: unknown): value is MigrationError =>
  typeof value === 'object' && value !== null && 'kind' in value && 'message' in value && 'retryable' in value;

/** The error with its side; an error that already names one keeps it (it knows better). */
export const withSide = (error: MigrationError, side: StoreSide): MigrationError => (error.side ? error : { ...error, side });

const tagResult = <T>(result: Result<T>, side: StoreSide): Result<T> => (result.ok ? result : { ok: false, error: withSide(result.error, side) });

/** Awaits a store call; a MigrationError it throws is thrown again with its side. */
const tagged = async <T>(side: StoreSide, call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (thrown) {
    throw isMigrationError(thrown) ? withSide(thrown, side) : thrown;
  }
};

const taggedResult = <T>(side: StoreSide, call: () => Promise<Result<T>>): Promise<Result<T>> => tagged(side, call).then((r) => tagResult(r, side));

async function* taggedBodies(side: StoreSide, bodies: AsyncIterable<BodyResult>): AsyncIterable<BodyResult> {
  try {
    for await (const body of bodies) yield body.ok ? body : { ...body, error: withSide(body.error, side) };
  } catch (thrown) {
    throw isMigrationError(thrown) ? withSide(thrown, side) : thrown;
  }
}

const tagOutcome = (outcome: AppendOutcome, side: StoreSide): AppendOutcome => ({
  ...outcome,
  results: outcome.results.map((r) => tagResult(r, side)),
  ...(outcome.stopped ? { stopped: withSide(outcome.stopped, side) } : {}),
});

/** The source store, its failures marked as the source's. */
export const sideTaggedSource = (store: SourceStore): SourceStore => {
  const side: StoreSide = 'source';
  const { searchLarger, searchSince, listFlags } = store;
  return {
    kind: store.kind,
    namespace: () => store.namespace(),
    listFolders: () => taggedResult(side, () => store.listFolders()),
    openFolder: (path) => taggedResult(side, () => store.openFolder(path)),
    listUids: (path, filter, options) => taggedResult(side, () => store.listUids(path, filter, options)),
    listMessages: (path, uids) => taggedResult(side, () => store.listMessages(path, uids)),
    listSizes: (path, uids) => taggedResult(side, () => store.listSizes(path, uids)),
    readBodies: (path, uids) => taggedBodies(side, store.readBodies(path, uids)),
    ...(searchLarger ? { searchLarger: (path: string, bytes: number) => taggedResult(side, () => searchLarger.call(store, path, bytes)) } : {}),
    ...(searchSince ? { searchSince: (path: string, since: Date) => taggedResult(side, () => searchSince.call(store, path, since)) } : {}),
    ...(listFlags ? { listFlags: (path: string, uids: number[], changedSince?: string) => taggedResult(side, () => listFlags.call(store, path, uids, changedSince)) } : {}),
    close: () => store.close(),
  };
};

/** The destination store, its failures marked as the destination's. */
export const sideTaggedDestination = (store: DestinationStore): DestinationStore => {
  const side: StoreSide = 'destination';
  const { listUids, listMessagesByUid, preferredBatchBytes, quota, listFlags, addFlags } = store;
  return {
    kind: store.kind,
    namespace: () => store.namespace(),
    listFolders: () => taggedResult(side, () => store.listFolders()),
    ensureFolder: (path, options) => taggedResult(side, () => store.ensureFolder(path, options)),
    folderState: (path) => taggedResult(side, () => store.folderState(path)),
    listMessages: (path, fromUid, toUid) => taggedResult(side, () => store.listMessages(path, fromUid, toUid)),
    ...(listUids ? { listUids: (path: string) => taggedResult(side, () => listUids.call(store, path)) } : {}),
    ...(listMessagesByUid ? { listMessagesByUid: (path: string, uids: number[]) => taggedResult(side, () => listMessagesByUid.call(store, path, uids)) } : {}),
    append: (path, messages, options) => tagged(side, () => store.append(path, messages, options)).then((o) => tagOutcome(o, side)),
    ...(preferredBatchBytes ? { preferredBatchBytes: () => preferredBatchBytes.call(store) } : {}),
    ...(quota ? { quota: () => quota.call(store) } : {}),
    ...(listFlags ? { listFlags: (path: string, uids: number[]) => taggedResult(side, () => listFlags.call(store, path, uids)) } : {}),
    ...(addFlags ? { addFlags: (path: string, changes: { uid: number; flags: string[] }[]) => taggedResult(side, () => addFlags.call(store, path, changes)) } : {}),
    close: () => store.close(),
  };
};

/** An opened store (or why it could not be opened), marked with its side. */
export const tagOpened = <S>(opened: Result<S>, side: StoreSide, wrap: (store: S) => S): Result<S> =>
  opened.ok ? { ok: true, value: wrap(opened.value) } : { ok: false, error: withSide(opened.error, side) };
