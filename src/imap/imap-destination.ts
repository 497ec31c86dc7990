/**
 * An IMAP account as an append-only DestinationStore: it can create and subscribe folders,
 * APPEND messages with their flags and INTERNALDATE, and (for --sync-flags) add flags that
 * messages lack; nothing else. The ImapFlow client stays private here, so the copier has no way
 * to delete, expunge, rename, move a message or remove a flag: `addFlags` sends only
 * `UID STORE +FLAGS.SILENT`, never with `\Deleted`, and the folder is never CLOSEd.
 *
 * Every APPEND, and every listing of a destination folder's messages, goes over a second
 * connection that pipelines them (append-channel.ts): one round trip per batch instead of two
 * per message, answers still taken one message at a time. imapflow (this connection) plans:
 * folders, CREATE, SUBSCRIBE, STATUS, quota. Its view of the selected folder is stale after
 * appends, so it is selected again before its counts are read.
 */
import type { AppendChannel, ChannelMessage } from './append-channel.js';
import { FIRST_BATCH_BYTES } from './link-rate.js';
import type { ImapConnection } from './connect-imap.js';
import { disconnectImap } from './connect-imap.js';
import type { AppendOptions, AppendOutcome, AppendedMessage, DestinationStore, FolderState, MessageMeta, NamespaceInfo, OutgoingMessage } from '../engine/store.js';
import type { SourceFolder, SpecialUse } from '../contract/plan.js';
import { err, ok, type MigrationError, type Result } from '../contract/result.js';
import { classifyImapError } from './classify-error.js';
import { listFolders, namespaceOf } from './list-folders.js';
import { chunkUids, toUidSet } from './uid-set.js';

/**
 * What --sync-flags may add: any flag or keyword but these. `\Deleted` would mark the person's
 * mail for removal; `\Recent` is the server's own.
 */
const isAddable = (flag: string): boolean => !['\\deleted', '\\recent'].includes(flag.toLowerCase());

/** Failures that stop a batch: the next message would fail the same way. */
const STOPS_BATCH = new Set(['network', 'timeout', 'throttled', 'quota', 'not-found', 'auth', 'tls', 'cancelled']);

export interface ImapDestinationOptions {
  /** Opens the pipelined append connection every APPEND and destination listing goes over. */
  openAppendChannel: () => Promise<Result<AppendChannel>>;
  /**
   * The imapflow connection can sit idle for a whole folder while the channel works: a NOOP
   * this often keeps its socket timeout from closing it. Default: none.
   */
  keepAliveMs?: number;
}

export const createImapDestination = (connection: ImapConnection, options: ImapDestinationOptions): DestinationStore => {
  const { client, server } = connection;
  /** Folders that can hold messages. */
  let knownPaths: Set<string> | undefined;
  /**
   * Names that exist only as hierarchy levels (\Noselect): another client created a child
   * first. Courier and Dovecot's `fs` layout list them, but cannot select or append to them
   * until the folder itself is created.
   */
  let containerPaths = new Set<string>();
  /** The largest message this connection got accepted: tells a size limit from a rate limit. */
  let largestAcceptedBytes = 0;
  let channel: AppendChannel | undefined;
  /** Set when the append channel added messages: the imapflow view of the selected folder is old. */
  let isSelectionStale = false;
  const keepAlive =
    options.keepAliveMs
      ? setInterval(() => {
          if (!connection.isClosed()) client.noop().catch(() => undefined);
        }, options.keepAliveMs)
      : undefined;
  keepAlive?.unref();
  // A command cut off because we closed the connection (a limit, Ctrl-C) reports why we did.
  const fail = (thrown: unknown, operation: string) => err(classifyImapError(connection.closedBecause() ?? thrown, { server, operation, side: 'new' }));

  /** A refusal of one message, with [LIMIT] told apart from throttling (see below). */
  const refusalOf = (error: MigrationError, bodyBytes: number, isConnectionClosed: boolean): MigrationError => {
    if (error.serverCode === 'LIMIT' && bodyBytes > largestAcceptedBytes && !isConnectionClosed) {
      // [LIMIT] on APPEND is either "this message is over a limit" (Dovecot's size limit)
      // or "you are over a rate limit". A size limit cannot refuse a message no larger than
      // one this connection got accepted, so only such a refusal is taken as throttling.
      // Otherwise the refusal counts against this message alone, and stays retryable.
      return { ...error, kind: 'rejected', retryable: true, message: `The destination refused this message as over one of its limits${error.serverText ? `: ${error.serverText}` : ''}.` };
    }
    return error;
  };

  /** Flags the selected folder's PERMANENTFLAGS allow (what imapflow's own APPEND keeps). */
  const allowedFlags = (flags: string[]): string[] => {
    const permanent = client.mailbox ? client.mailbox.permanentFlags : undefined;
    return !permanent || permanent.has('\\*') ? flags : flags.filter((f) => permanent.has(f));
  };

  /** The append connection, opened (again) when needed. */
  const appendChannel = async (): Promise<Result<AppendChannel>> => {
    if (!channel || channel.isClosed()) {
      const opened = await options.openAppendChannel();
      if (!opened.ok) return opened;
      channel = opened.value;
    }
    return ok(channel);
  };

  const appendOverChannel = async (
    path: string,
    messages: Iterable<OutgoingMessage> | AsyncIterable<OutgoingMessage>,
    appendOptions: AppendOptions,
  ): Promise<AppendOutcome> => {
    const results: Result<AppendedMessage>[] = [];
    const opened = await appendChannel();
    if (!opened.ok) return { results, stopped: opened.error };
    const open = opened.value;
    isSelectionStale = true;
    /** Body sizes of the messages taken, in order (the bodies themselves are not kept). */
    const sizes: number[] = [];
    async function* toChannel(): AsyncGenerator<ChannelMessage> {
      for await (const m of messages) {
        sizes.push(m.body.length);
        yield { body: m.body, flags: allowedFlags(m.flags), internalDate: m.internalDate };
      }
    }
    const { answers, isInDoubt, settleMs } = await open.append(path, toChannel(), appendOptions.beforeCommit, {
      isEachAlone: appendOptions.isEachAlone,
      plannedBytes: appendOptions.plannedBytes,
    });
    const retryAlone: number[] = [];
    // Answers after a stop are left out: those that landed are found by the next pass's scan.
    for (let i = 0; i < answers.length; i++) {
      const answer = answers[i] as (typeof answers)[number];
      if (answer.ok) {
        results.push(ok({ uid: answer.uid, uidValidity: answer.uidValidity }));
        largestAcceptedBytes = Math.max(largestAcceptedBytes, sizes[i] ?? 0);
        continue;
      }
      // No answer: the connection went; this one and the rest may or may not land.
      if (!answer.isAnswered) return { results, stopped: answer.error, isInDoubt, settleMs, ...(retryAlone.length > 0 ? { retryAlone } : {}) };
      if (answer.isRefusedTogether) {
        // Only message by message can tell which one the server objects to, if any.
        retryAlone.push(results.length);
        results.push(err(answer.error));
        continue;
      }
      const error = refusalOf(answer.error, sizes[i] ?? 0, open.isClosed());
      if (STOPS_BATCH.has(error.kind) || open.isClosed()) return { results, stopped: error, isInDoubt, settleMs, ...(retryAlone.length > 0 ? { retryAlone } : {}) };
      results.push(err(error));
    }
    return { results, isInDoubt, ...(retryAlone.length > 0 ? { retryAlone } : {}) };
  };

  /**
   * CREATE, and when the server says NO, LIST before failing: Cyrus ("Mailbox already exists")
   * and Courier ("Cannot create this folder.") refuse to create an existing folder with a plain
   * NO, without the [ALREADYEXISTS] code imapflow turns into `created: false`. That happens
   * whenever the job's other connection created the same parent a moment earlier. If the name
   * is there now, it is ours to use; if not, the refusal stands.
   */
  const createOrFindFolder = async (path: string, isLevelOnly: boolean): Promise<{ created: boolean }> => {
    try {
      return await client.mailboxCreate(path);
    } catch (thrown) {
      const exists = await refreshKnownPaths().then(
        (paths) => paths.has(path) || (isLevelOnly && containerPaths.has(path)),
        () => false,
      );
      if (!exists) throw thrown;
      return { created: false };
    }
  };

  /**
   * CREATE name (USE (\Sent)) over the append channel (imapflow has no USE), then SUBSCRIBE as
   * for any folder we create. A server that refuses it gets the plain CREATE instead: the folder
   * matters more than its label.
   */
  const createSpecialUseFolder = async (path: string, use: SpecialUse): Promise<{ created: boolean }> => {
    const open = await appendChannel();
    if (!open.ok) throw open.error;
    try {
      await open.value.createSpecialUse(path, use);
    } catch {
      return createOrFindFolder(path, false);
    }
    await client.mailboxSubscribe(path);
    return { created: true };
  };

  const remember = (folders: SourceFolder[]): Set<string> => {
    knownPaths = new Set(folders.filter((f) => f.isSelectable).map((f) => f.path));
    containerPaths = new Set(folders.filter((f) => !f.isSelectable).map((f) => f.path));
    return knownPaths;
  };

  const refreshKnownPaths = async (): Promise<Set<string>> => remember(await listFolders(client, false));

  /**
   * SELECT (not EXAMINE) the destination folder before appending to it: imapflow drops flags the
   * selected folder's PERMANENTFLAGS do not allow, and a read-only folder allows none. SELECT
   * changes nothing by itself; we never send CLOSE or EXPUNGE.
   */
  const selectForWriting = async (path: string, needsFreshCounts = false): Promise<FolderState> => {
    const current = client.mailbox;
    const isCurrent = current && current.path === path && !current.readOnly && !(needsFreshCounts && isSelectionStale);
    const mailbox = isCurrent ? current : await client.mailboxOpen(path, { readOnly: false });
    if (!isCurrent && needsFreshCounts) isSelectionStale = false;
    return {
      uidValidity: mailbox.uidValidity.toString(),
      uidNext: mailbox.uidNext,
      messages: mailbox.exists,
      highestModseq: mailbox.highestModseq?.toString(),
    };
  };

  return {
    kind: 'imap',
    namespace: (): NamespaceInfo => namespaceOf(client),
    async listFolders(): Promise<Result<SourceFolder[]>> {
      try {
        const folders = await listFolders(client, false);
        remember(folders);
        return ok(folders);
      } catch (thrown) {
        return fail(thrown, 'list folders');
      }
    },
    async ensureFolder(path: string, ensureOptions: { specialUse?: SpecialUse } = {}): Promise<Result<{ created: boolean }>> {
      try {
        const known = knownPaths ?? (await refreshKnownPaths());
        if (path.toUpperCase() === 'INBOX' || known.has(path)) return ok({ created: false });
        // Create missing parents first: not every server creates them implicitly.
        const { delimiter, prefix } = namespaceOf(client);
        const below = prefix && path.startsWith(prefix) ? path.slice(prefix.length) : path;
        const levels = below.split(delimiter);
        let created = false;
        for (let depth = 1; depth <= levels.length; depth++) {
          const partial = (prefix && path.startsWith(prefix) ? prefix : '') + levels.slice(0, depth).join(delimiter);
          const isLevelOnly = depth < levels.length;
          if (known.has(partial) || partial.toUpperCase() === 'INBOX' || (isLevelOnly && containerPaths.has(partial))) continue;
          // A \Noselect name that is to receive messages is created: that makes it a folder.
          const use = !isLevelOnly && ensureOptions.specialUse && client.capabilities.has('CREATE-SPECIAL-USE') ? ensureOptions.specialUse : undefined;
          const result = use ? await createSpecialUseFolder(partial, use) : await createOrFindFolder(partial, isLevelOnly);
          if (!result.created) {
            // ALREADYEXISTS: still make sure it is subscribed, as a person would expect to see it.
            await client.mailboxSubscribe(partial);
          }
          created = created || (depth === levels.length && result.created);
          known.add(partial);
        }
        return ok({ created });
      } catch (thrown) {
        return fail(thrown, 'create folder');
      }
    },
    async folderState(path: string): Promise<Result<FolderState>> {
      try {
        // STATUS on the selected folder answers from this session's view, which has not seen
        // what the append channels (this store's, or another lane's) added: select it again first.
        if (client.mailbox && client.mailbox.path === path) {
          isSelectionStale = true;
          await selectForWriting(path, true);
        }
        const status = await client.status(path, { messages: true, uidNext: true, uidValidity: true, highestModseq: client.capabilities.has('CONDSTORE') });
        // imapflow throws NotFound for a folder that is not there; `false` means STATUS got no
        // answer (the connection went, or was not usable): retry, do not give the folder up.
        if (!status) return err(classifyImapError({ code: 'NoConnection' }, { server, operation: 'read folder status' }));
        return ok({
          uidValidity: (status.uidValidity ?? 0n).toString(),
          uidNext: status.uidNext ?? 0,
          messages: status.messages ?? 0,
          highestModseq: status.highestModseq?.toString(),
        });
      } catch (thrown) {
        return fail(thrown, 'read folder status');
      }
    },
    async listUids(path: string): Promise<Result<number[]>> {
      try {
        // Over the append connection: imapflow keeps a parsed token per UID of a long SEARCH answer.
        const open = await appendChannel();
        if (!open.ok) return open;
        return ok(await open.value.listUids(path));
      } catch (thrown) {
        return fail(thrown, 'list destination messages');
      }
    },
    async listMessages(path: string, fromUid: number, toUid?: number): Promise<Result<MessageMeta[]>> {
      try {
        // Over the append connection: imapflow's per-response cost made verifying a big folder slow.
        const open = await appendChannel();
        if (!open.ok) return open;
        return ok(await open.value.listMessages(path, fromUid, toUid));
      } catch (thrown) {
        return fail(thrown, 'list destination messages');
      }
    },
    async listMessagesByUid(path: string, uids: number[]): Promise<Result<MessageMeta[]>> {
      try {
        const open = await appendChannel();
        if (!open.ok) return open;
        return ok(await open.value.listMessagesByUid(path, uids));
      } catch (thrown) {
        return fail(thrown, 'list destination messages');
      }
    },
    async append(path: string, messages: Iterable<OutgoingMessage> | AsyncIterable<OutgoingMessage>, appendOptions: AppendOptions = {}): Promise<AppendOutcome> {
      try {
        await selectForWriting(path);
      } catch (thrown) {
        return { results: [], stopped: classifyImapError(connection.closedBecause() ?? thrown, { server, operation: 'open folder', side: 'new' }) };
      }
      return appendOverChannel(path, messages, appendOptions);
    },
    // Before the channel exists nothing was measured: its first batch is the small first size.
    preferredBatchBytes: () => (channel && !channel.isClosed() ? channel.preferredBatchBytes() : FIRST_BATCH_BYTES),
    async listFlags(path: string, uids: number[]): Promise<Result<Map<number, string[]>>> {
      try {
        const open = await appendChannel();
        if (!open.ok) return open;
        return ok(await open.value.listFlags(path, uids));
      } catch (thrown) {
        return fail(thrown, 'list destination flags');
      }
    },
    async addFlags(path: string, changes: { uid: number; flags: string[] }[]): Promise<Result<number>> {
      // One STORE per distinct set of flags to add, over the UIDs that lack exactly that set.
      const byFlags = new Map<string, { flags: string[]; uids: number[] }>();
      for (const change of changes) {
        const flags = [...new Set(change.flags.filter(isAddable))].sort();
        if (flags.length === 0) continue;
        const key = flags.join(' ');
        const group = byFlags.get(key) ?? { flags, uids: [] };
        group.uids.push(change.uid);
        byFlags.set(key, group);
      }
      if (byFlags.size === 0) return ok(0);
      try {
        await selectForWriting(path, true);
        let asked = 0;
        for (const { flags, uids } of byFlags.values()) {
          for (const set of chunkUids(uids).map(toUidSet)) {
            // imapflow sends UID STORE <set> +FLAGS.SILENT (...) and leaves out what PERMANENTFLAGS forbids.
            const isSent = await client.messageFlagsAdd(set, flags, { uid: true, silent: true });
            if (!isSent && connection.isClosed()) throw Object.assign(new Error('STORE got no answer'), { code: 'NoConnection' });
          }
          asked += uids.length;
        }
        return ok(asked);
      } catch (thrown) {
        return fail(thrown, 'add flags');
      }
    },
    async quota() {
      try {
        if (!client.capabilities.has('QUOTA')) return undefined;
        const quota = await client.getQuota('INBOX');
        if (!quota || !quota.storage || quota.storage.limit === undefined) return undefined;
        return { usedBytes: quota.storage.usage ?? 0, limitBytes: quota.storage.limit };
      } catch {
        return undefined;
      }
    },
    close: async () => {
      clearInterval(keepAlive);
      await Promise.allSettled([disconnectImap(connection), channel?.close()]);
    },
  };
};
