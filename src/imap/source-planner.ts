/**
 * What the source's imapflow connection is still used for: the folder list with counts, sizes
 * and special use (planning), and Gmail's labels. Messages are listed and read over
 * wire-source.ts only, so the path that copies is the one path the tests cover.
 *
 * Read-only like the rest of the source: LIST, STATUS, EXAMINE, and FETCH of sizes and
 * X-GM-LABELS; the ImapFlow client stays private here.
 */
import type { SourceFolder } from '../contract/plan.js';
import { migrationError } from '../contract/result.js';
import type { NamespaceInfo } from '../engine/store.js';
import { isOnlyInAllMail } from '../engine/provider-quirks.js';
import { disconnectImap, type ImapConnection } from './connect-imap.js';
import { listFolders, namespaceOf } from './list-folders.js';

export interface SourcePlanner {
  namespace(): NamespaceInfo;
  /** Every folder with its STATUS counts and size. Throws what classify-error.ts understands. */
  listFolders(): Promise<SourceFolder[]>;
  /**
   * UIDs of the messages of `path` that carry no label that counts (Gmail's archived mail, only
   * in All Mail). Throws a MigrationError (bad-input) on a server that is not Gmail.
   */
  uidsOnlyInAllMail(path: string): Promise<Set<number>>;
  isClosed(): boolean;
  /** Why we closed its connection ourselves (a limit crossed, Ctrl-C), if we did. */
  closedBecause(): Error | undefined;
  close(): Promise<void>;
}

export const createSourcePlanner = (connection: ImapConnection): SourcePlanner => {
  const { client } = connection;
  return {
    namespace: () => namespaceOf(client),
    listFolders: () => listFolders(client, true),
    async uidsOnlyInAllMail(path: string): Promise<Set<number>> {
      if (!client.capabilities.has('X-GM-EXT-1')) throw migrationError('bad-input', 'Only Gmail can tell which messages live only in All Mail.');
      const mailbox = await client.mailboxOpen(path, { readOnly: true });
      if (!mailbox.readOnly) throw Object.assign(new Error('Server opened the source folder read-write'), { code: 'NotReadOnly' });
      const kept = new Set<number>();
      if (mailbox.exists === 0) return kept;
      for await (const m of client.fetch('1:*', { uid: true, labels: true }, { uid: true })) if (isOnlyInAllMail(m.labels ?? [])) kept.add(m.uid);
      return kept;
    },
    isClosed: () => connection.isClosed(),
    closedBecause: () => connection.closedBecause(),
    close: () => disconnectImap(connection),
  };
};
