/**
 * An IMAP account as a read-only SourceStore. Folders are opened with EXAMINE and bodies read
 * with BODY.PEEK[], so nothing on the source changes, not even \Seen. The ImapFlow client stays
 * private to this module: callers get no way to send STORE, EXPUNGE, DELETE, RENAME or MOVE.
 */
import type { ImapConnection } from './connect-imap.js';
import { disconnectImap } from './connect-imap.js';
import type { BodyResult, FolderState, MessageFilter, MessageMeta, NamespaceInfo, SourceStore, UidListing } from '../engine/store.js';
import { isOnlyInAllMail } from '../engine/provider-quirks.js';
import type { SourceFolder } from '../contract/plan.js';
import { err, ok, migrationError, type Result } from '../contract/result.js';
import { classifyImapError } from './classify-error.js';
import { narrowFailedRead } from './narrow-failed-read.js';
import { fetchMeta } from './fetch-meta.js';
import { listFolders, namespaceOf } from './list-folders.js';
import { chunkUids, toUidSet } from './uid-set.js';

const stateOf = (mailbox: { uidValidity: bigint; uidNext: number; exists: number; highestModseq?: bigint }): FolderState => ({
  uidValidity: mailbox.uidValidity.toString(),
  uidNext: mailbox.uidNext,
  messages: mailbox.exists,
  highestModseq: mailbox.highestModseq?.toString(),
});

export const createImapSource = (connection: ImapConnection): SourceStore => {
  const { client, server } = connection;
  // A command cut off because we closed the connection (a limit, Ctrl-C) reports why we did.
  const fail = (thrown: unknown, operation: string) => err(classifyImapError(connection.closedBecause() ?? thrown, { server, operation, side: 'old' }));

  /** EXAMINE the folder unless it is already the open one. */
  const examine = async (path: string): Promise<FolderState> => {
    const current = client.mailbox;
    if (current && current.path === path && current.readOnly) return stateOf(current);
    const mailbox = await client.mailboxOpen(path, { readOnly: true });
    if (!mailbox.readOnly) throw Object.assign(new Error('Server opened the source folder read-write'), { code: 'NotReadOnly' });
    return stateOf(mailbox);
  };

  /** One FETCH BODY.PEEK[] for a batch; on a server NO, narrow down message by message. */
  async function* readBodies(path: string, uids: number[]): AsyncIterable<BodyResult> {
    await examine(path);
    const pending = new Set(uids);
    try {
      for await (const message of client.fetch(toUidSet(uids), { uid: true, source: true }, { uid: true })) {
        if (!pending.delete(message.uid)) continue;
        yield message.source
          ? { uid: message.uid, ok: true, body: message.source }
          : { uid: message.uid, ok: false, error: migrationError('rejected', 'The source server returned no content for this message.') };
      }
    } catch (thrown) {
      const error = classifyImapError(connection.closedBecause() ?? thrown, { server, operation: 'read messages', side: 'old' });
      yield* narrowFailedRead(error, connection.isClosed(), uids, pending, (uid) => readBodies(path, [uid]));
      return;
    }
    for (const uid of pending) {
      yield { uid, ok: false, error: migrationError('not-found', 'The message was removed from the source while it was being copied.') };
    }
  }

  return {
    kind: 'imap',
    namespace: (): NamespaceInfo => namespaceOf(client),
    async listFolders(): Promise<Result<SourceFolder[]>> {
      try {
        return ok(await listFolders(client, true));
      } catch (thrown) {
        return fail(thrown, 'list folders');
      }
    },
    async openFolder(path: string): Promise<Result<FolderState>> {
      try {
        return ok(await examine(path));
      } catch (thrown) {
        return fail(thrown, 'open folder');
      }
    },
    async listUids(path: string, filter?: MessageFilter): Promise<Result<UidListing>> {
      try {
        const state = await examine(path);
        if (state.messages === 0) return ok({ uids: [], deletedUids: [] });
        const uids = await client.search({ all: true }, { uid: true });
        const deletedUids = await client.search({ deleted: true }, { uid: true });
        if (!uids || !deletedUids) throw Object.assign(new Error('SEARCH failed'), { code: 'NoConnection' });
        if (filter === 'gmail-only-in-all-mail') {
          if (!client.capabilities.has('X-GM-EXT-1')) return err(migrationError('bad-input', 'Only Gmail can tell which messages live only in All Mail.'));
          const kept = new Set<number>();
          for await (const m of client.fetch('1:*', { uid: true, labels: true }, { uid: true })) if (isOnlyInAllMail(m.labels ?? [])) kept.add(m.uid);
          return ok({ uids: uids.filter((uid) => kept.has(uid)).sort((a, b) => a - b), deletedUids });
        }
        return ok({ uids: uids.sort((a, b) => a - b), deletedUids });
      } catch (thrown) {
        return fail(thrown, 'list messages');
      }
    },
    async listMessages(path: string, uids: number[] | 'all'): Promise<Result<MessageMeta[]>> {
      try {
        const state = await examine(path);
        if (state.messages === 0 || (uids !== 'all' && uids.length === 0)) return ok([]);
        return ok(await fetchMeta(client, uids === 'all' ? '1:*' : uids));
      } catch (thrown) {
        return fail(thrown, 'list messages');
      }
    },
    async listSizes(path: string, uids: number[]): Promise<Result<Map<number, number>>> {
      try {
        const state = await examine(path);
        const sizes = new Map<number, number>();
        if (state.messages === 0 || uids.length === 0) return ok(sizes);
        for (const chunk of chunkUids(uids)) {
          for await (const m of client.fetch(toUidSet(chunk), { uid: true, size: true }, { uid: true })) if (m.size !== undefined) sizes.set(m.uid, m.size);
        }
        return ok(sizes);
      } catch (thrown) {
        return fail(thrown, 'list messages');
      }
    },
    readBodies,
    close: () => disconnectImap(connection),
  };
};
