/**
 * An IMAP account as a read-only SourceStore that reads messages over wire-session.ts instead
 * of imapflow: one connection, EXAMINE, UID SEARCH and UID FETCH (BODY.PEEK) only. imapflow
 * spends about a millisecond of CPU on every FETCH response (it re-compiles each response for
 * its log, and copies literals several times), which made reading the source the largest CPU
 * cost of a copy and the metadata scan of a 100,000-message folder take minutes.
 *
 * Invariants:
 * - Read-only: folders are opened with EXAMINE and the store refuses a folder the server
 *   opened read-write; bodies and headers are read with BODY.PEEK, so not even \Seen changes.
 *   The commands this module can send are EXAMINE, LIST, UID SEARCH, UID FETCH, ENABLE,
 *   NAMESPACE and LOGOUT; nothing here can store, expunge, delete, rename or move.
 * - Fingerprints are computed from the same header fields as on the destination side (which
 *   lists its messages through fetchMetaOverWire too) and in the archives (fingerprint.ts).
 * - This is the only way the copier reads an IMAP source. Listing folders (planning) and the
 *   Gmail label filter are left to imapflow (source-planner.ts), whose connection is opened
 *   only when one of them is asked for and again if it was lost.
 */
import type { AccountCredentials } from '../contract/account.js';
import type { SourceFolder } from '../contract/plan.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import { isMessageBytes, joinedBytes } from '../engine/message-bytes.js';
import type { BodyResult, FolderState, ListUidsOptions, MessageFilter, MessageMeta, NamespaceInfo, SourceStore, UidListing } from '../engine/store.js';
import { FINGERPRINT_HEADERS, fingerprintFromFields, headerValue, parseHeaderFields } from '../engine/fingerprint.js';
import { classifyImapError } from './classify-error.js';
import { connectImap, type ConnectTimeouts } from './connect-imap.js';
import { narrowFailedRead } from './narrow-failed-read.js';
import { createSourcePlanner, type SourcePlanner } from './source-planner.js';
import { encodeMailboxName } from './imap-utf7.js';
import { chunkUids, toUidSet } from './uid-set.js';
import { existsOf, formatSearchDate, parseFetch, parseInternalDate, parseNamespace, searchBound, searchResults, tokenFlags, tokenNumber, tokenString, type Token } from './wire-parse.js';
import { formatBytes, MAX_LITERAL_BYTES } from './server-limits.js';
import { openWireSession, quoted, responseError, type Tagged, type WireResponse, type WireSession } from './wire-session.js';

/** Bodies read ahead of the copier are held up to this many bytes; then reading pauses. */
const READ_AHEAD_BYTES = 1024 * 1024;

const META_ITEMS = `(UID RFC822.SIZE FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (${FINGERPRINT_HEADERS.join(' ')})])`;

/** Thrown for a tagged NO/BAD; [EXPUNGEISSUED] (RFC 5530) means "partial, some were expunged". */
const isPartialExpunged = (tagged: Tagged): boolean => tagged.status === 'NO' && tagged.code === 'EXPUNGEISSUED';

const ensureOk = (tagged: Tagged): void => {
  if (tagged.status !== 'OK' && !isPartialExpunged(tagged)) throw responseError(tagged);
};

const headerItem = (items: Map<string, Token>): Buffer | undefined => {
  for (const [key, value] of items) if (key.startsWith('BODY[HEADER.FIELDS')) return isMessageBytes(value) ? joinedBytes(value) : Buffer.alloc(0);
  return undefined;
};

/** MessageMeta from a FETCH response of META_ITEMS; \Recent (session state owned by the server) is never kept. */
const metaFromFetch = (items: Map<string, Token>): MessageMeta | undefined => {
  const uid = tokenNumber(items.get('UID'));
  const headers = headerItem(items);
  if (uid === undefined || headers === undefined) return undefined;
  const date = tokenString(items.get('INTERNALDATE'));
  const size = tokenNumber(items.get('RFC822.SIZE')) ?? 0;
  const fields = parseHeaderFields(headers);
  return {
    uid,
    sizeBytes: size,
    flags: [...new Set(tokenFlags(items.get('FLAGS')))].filter((f) => f.toLowerCase() !== '\\recent').sort(),
    internalDate: date !== undefined ? parseInternalDate(date) : new Date(0),
    fingerprint: fingerprintFromFields(fields, size),
    subject: headerValue(fields, 'subject'),
    messageId: headerValue(fields, 'message-id'),
    date: headerValue(fields, 'date'),
  };
};

const mailboxArg = (path: string): string => {
  const name = quoted(encodeMailboxName(path));
  if (!name) throw migrationError('bad-input', `The folder name ${JSON.stringify(path)} cannot be sent to an IMAP server.`);
  return name;
};

/** EXAMINE (read-only; a folder opened read-write is refused) and the folder's state. */
export const examineOverWire = async (session: WireSession, path: string): Promise<FolderState> => {
  const { tagged, untagged } = await session.collect(`EXAMINE ${mailboxArg(path)}`);
  if (tagged.status === 'NO' && !tagged.code) {
    // Dovecot says a bare NO for a missing folder; like imapflow, ask LIST whether it exists.
    const listed = await session.collect(`LIST "" ${mailboxArg(path)}`);
    if (listed.tagged.status === 'OK' && !listed.untagged.some((r) => /^\* LIST /i.test(r.text))) {
      throw Object.assign(new Error(`Mailbox doesn't exist: ${path}`), { code: 'NotFound' });
    }
  }
  if (tagged.status !== 'OK') throw responseError(tagged);
  if (tagged.code !== 'READ-ONLY') throw Object.assign(new Error('Server opened the folder read-write'), { code: 'NotReadOnly' });
  const state: FolderState = { uidValidity: '0', uidNext: 0, messages: 0 };
  for (const r of untagged) {
    const exists = /^\* (\d+) EXISTS/i.exec(r.text);
    if (exists) state.messages = Number(exists[1]);
    const code = /^\* OK \[(UIDVALIDITY|UIDNEXT|HIGHESTMODSEQ) (\d+)\]/i.exec(r.text);
    if (!code) continue;
    const name = (code[1] as string).toUpperCase();
    if (name === 'UIDVALIDITY') state.uidValidity = code[2] as string;
    else if (name === 'UIDNEXT') state.uidNext = Number(code[2]);
    else state.highestModseq = code[2] as string;
  }
  if (state.uidNext === 0 && state.messages > 0) {
    // Courier sends no UIDNEXT with EXAMINE. Without it a re-run could not see that one message
    // was expunged and another arrived (same count), so ask STATUS, which every server answers.
    const status = await session.collect(`STATUS ${mailboxArg(path)} (UIDNEXT)`);
    const uidNext = status.untagged.map((r) => /UIDNEXT (\d+)/i.exec(r.text)?.[1]).find((v) => v !== undefined);
    if (uidNext) state.uidNext = Number(uidNext);
  }
  return state;
};

/**
 * UID FETCH of many sets at once (one round trip), each response parsed and handed to
 * `onResponse` as it arrives, so a 100,000-message listing never holds its raw responses.
 */
const fetchSets = async (session: WireSession, sets: string[], items: string, onResponse: (fetched: Map<string, Token>) => void): Promise<void> => {
  if (sets.length === 0) return;
  const answers = await session.pipeline(
    sets.map((set) => `UID FETCH ${set} ${items}`),
    (r: WireResponse) => {
      const fetched = parseFetch(r);
      if (!fetched) return false;
      onResponse(fetched);
      return true;
    },
  );
  for (const { tagged } of answers) ensureOk(tagged);
};

/** Metadata of the messages in these UID sets of the open folder. */
export const fetchMetaOverWire = async (session: WireSession, sets: string[]): Promise<MessageMeta[]> => {
  const metas: MessageMeta[] = [];
  await fetchSets(session, sets, META_ITEMS, (items) => {
    const meta = metaFromFetch(items);
    if (meta) metas.push(meta);
  });
  return metas;
};

/**
 * Flags of the messages in these UID sets of the open folder (UID → flags without `\Recent`);
 * with `changedSince`, only those whose mod-sequence is higher (CONDSTORE, RFC 7162).
 */
export const fetchFlagsOverWire = async (session: WireSession, sets: string[], changedSince?: string): Promise<Map<number, string[]>> => {
  const flags = new Map<number, string[]>();
  const modifier = changedSince !== undefined && /^\d+$/.test(changedSince) ? ` (CHANGEDSINCE ${changedSince})` : '';
  await fetchSets(session, sets, `(UID FLAGS)${modifier}`, (items) => {
    const uid = tokenNumber(items.get('UID'));
    if (uid !== undefined) flags.set(uid, tokenFlags(items.get('FLAGS')).filter((f) => f.toLowerCase() !== '\\recent'));
  });
  return flags;
};

export const openWireSource = async (account: AccountCredentials, timeouts?: ConnectTimeouts): Promise<Result<SourceStore>> => {
  const opened = await openWireSession(account, timeouts);
  if (!opened.ok) return opened;
  const session = opened.value;
  const server = `${account.host}:${account.port}`;
  try {
    // Same session settings as imapflow: CONDSTORE on (HIGHESTMODSEQ in EXAMINE), and the namespace.
    const commands = [...(session.capabilities.has('CONDSTORE') ? ['ENABLE CONDSTORE'] : []), ...(session.capabilities.has('NAMESPACE') ? ['NAMESPACE'] : [])];
    const answers = commands.length > 0 ? await session.pipeline(commands) : [];
    const namespace = parseNamespace(answers.flatMap((a) => a.untagged)) ?? { prefix: '', delimiter: '/' };
    return ok(createWireSource(session, server, namespace, () => connectImap(account, timeouts)));
  } catch (thrown) {
    await session.logout();
    return err(classifyImapError(thrown, { server, operation: 'log in', side: 'old' }));
  }
};

const createWireSource = (
  session: WireSession,
  server: string,
  ns: { prefix: string; delimiter: string },
  connectImapflow: () => ReturnType<typeof connectImap>,
): SourceStore => {
  const fail = (thrown: unknown, operation: string) => err(classifyImapError(thrown, { server, operation, side: 'old' }));
  let selected: { path: string; state: FolderState } | undefined;
  let planner: SourcePlanner | undefined;

  const viaImapflow = async (): Promise<SourcePlanner> => {
    if (planner && !planner.isClosed()) return planner;
    const connection = await connectImapflow();
    if (!connection.ok) throw connection.error;
    planner = createSourcePlanner(connection.value);
    return planner;
  };

  /**
   * The last body FETCH's answer. A read its consumer stopped early (the destination failed
   * mid-batch) is still answering: every later command waits until it has finished, its bodies
   * dropped, so none of them can be taken for a message of the next command (a UID of another
   * folder).
   */
  let unfinishedRead: Promise<unknown> | undefined;

  /** EXAMINE; `fresh` forces it even when the folder is the open one. */
  const examine = async (path: string, fresh = false): Promise<FolderState> => {
    if (unfinishedRead) {
      await unfinishedRead;
      unfinishedRead = undefined;
    }
    if (!fresh && selected?.path === path) return selected.state;
    selected = undefined;
    const state = await examineOverWire(session, path);
    selected = { path, state };
    return state;
  };

  /**
   * One FETCH BODY.PEEK[] for a batch, each body yielded as it arrives (when the connection
   * drops, what arrived before counts: copy-folder.ts takes the first missing one as the message
   * being sent); on a server NO, narrow down message by message. Bodies the consumer has not
   * taken yet are held up to READ_AHEAD_BYTES; beyond that the session stops reading and TCP
   * holds the rest back at the server.
   */
  async function* readBodies(path: string, uids: number[]): AsyncIterable<BodyResult> {
    const pending = new Set(uids);
    const arrived: BodyResult[] = [];
    let heldBytes = 0;
    let wake: (() => void) | undefined;
    let finished: { tagged?: Tagged; error?: unknown } | undefined;
    const previous = session.onUntagged;
    const take = (): BodyResult => {
      const next = arrived.shift() as BodyResult;
      if (next.ok) heldBytes -= next.body.length;
      if (heldBytes <= READ_AHEAD_BYTES / 2) session.resumeReading();
      return next;
    };
    try {
      await examine(path);
      session.onUntagged = (r) => {
        const items = parseFetch(r);
        const uid = items ? tokenNumber(items.get('UID')) : undefined;
        if (!items || uid === undefined || !items.has('BODY[]') || !pending.delete(uid)) return;
        const body = items.get('BODY[]');
        if (r.oversized !== undefined) {
          arrived.push({ uid, ok: false, error: migrationError('rejected', `The message is ${formatBytes(r.oversized)}, more than the ${formatBytes(MAX_LITERAL_BYTES)} Mailferry can hold in memory; it was not copied.`) });
        } else if (isMessageBytes(body)) {
          arrived.push({ uid, ok: true, body });
          heldBytes += body.length;
          if (heldBytes > READ_AHEAD_BYTES) session.pauseReading();
        } else arrived.push({ uid, ok: false, error: migrationError('rejected', 'The source server returned no content for this message.') });
        wake?.();
      };
      const tag = session.nextTag();
      const answer = session.expect(tag).then(
        (tagged) => (finished = { tagged }),
        (error: unknown) => (finished = { error }),
      );
      unfinishedRead = answer;
      void answer.finally(() => wake?.());
      // RFC822.SIZE first: the reader holds each literal to the size announced before it.
      await session.write(`${tag} UID FETCH ${toUidSet(uids)} (UID RFC822.SIZE BODY.PEEK[])\r\n`);
      for (;;) {
        while (arrived.length > 0) yield take();
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      while (arrived.length > 0) yield take();
      if (finished.error) throw finished.error;
      if (finished.tagged) ensureOk(finished.tagged);
    } catch (thrown) {
      session.onUntagged = previous;
      session.resumeReading();
      const error = classifyImapError(thrown, { server, operation: 'read messages', side: 'old' });
      yield* narrowFailedRead(error, session.closedError !== undefined, uids, pending, (uid) => readBodies(path, [uid]));
      return;
    } finally {
      // Stopped early by the consumer, the rest of this FETCH is read (no longer held back) and
      // dropped; the next command waits for its end (examine).
      session.onUntagged = previous;
      session.resumeReading();
    }
    for (const uid of pending) {
      yield { uid, ok: false, error: migrationError('not-found', 'The message was removed from the source while it was being copied.') };
    }
  }

  /** Every UID, those flagged \\Deleted, and with `withSizes` every size: one round trip where ESEARCH is offered. */
  const listAll = async (path: string, options: ListUidsOptions): Promise<Result<UidListing>> => {
    try {
      const state = await examine(path);
      if (state.messages === 0) return ok({ uids: [], deletedUids: [], ...(options.withSizes ? { sizes: new Map<number, number>() } : {}) });
      let uids: number[];
      let deletedUids: number[];
      const sizes = new Map<number, number>();
      const collectSize = (r: WireResponse): boolean => {
        const items = parseFetch(r);
        const uid = items ? tokenNumber(items.get('UID')) : undefined;
        const size = items ? tokenNumber(items.get('RFC822.SIZE')) : undefined;
        if (uid === undefined || size === undefined) return false;
        sizes.set(uid, size);
        return true;
      };
      const sizesCommand = options.withSizes ? ['UID FETCH 1:* (UID RFC822.SIZE)'] : [];
      if (session.capabilities.has('ESEARCH')) {
        // All in one round trip; ESEARCH answers carry their command's tag, so they cannot be mixed up.
        const [all, deleted, sized] = await session.pipeline(['UID SEARCH RETURN (ALL) ALL', 'UID SEARCH RETURN (ALL) DELETED', ...sizesCommand], collectSize);
        if (!all || !deleted) throw Object.assign(new Error('SEARCH failed'), { code: 'NoConnection' });
        ensureOk(all.tagged);
        ensureOk(deleted.tagged);
        if (sized) ensureOk(sized.tagged);
        const untagged = [...all.untagged, ...deleted.untagged];
        const bound = searchBound(Math.max(state.messages, existsOf(untagged)));
        uids = searchResults(untagged, all.tag, bound);
        deletedUids = searchResults(untagged, deleted.tag, bound);
      } else {
        const all = await session.collect('UID SEARCH ALL');
        ensureOk(all.tagged);
        const deleted = await session.collect('UID SEARCH DELETED');
        ensureOk(deleted.tagged);
        const bound = searchBound(Math.max(state.messages, existsOf([...all.untagged, ...deleted.untagged])));
        uids = searchResults(all.untagged, undefined, bound);
        deletedUids = searchResults(deleted.untagged, undefined, bound);
        const [sized] = sizesCommand.length > 0 ? await session.pipeline(sizesCommand, collectSize) : [];
        if (sized) ensureOk(sized.tagged);
      }
      return ok({ uids: uids.sort((a, b) => a - b), deletedUids, ...(options.withSizes ? { sizes } : {}) });
    } catch (thrown) {
      return fail(thrown, 'list messages');
    }
  };

  return {
    kind: 'imap',
    namespace: (): NamespaceInfo => planner?.namespace() ?? { ...ns, capabilities: [...session.capabilities].sort() },
    async listFolders(): Promise<Result<SourceFolder[]>> {
      try {
        return ok(await (await viaImapflow()).listFolders());
      } catch (thrown) {
        // A command cut off because we closed the connection (a limit, Ctrl-C) reports why we did.
        return fail(planner?.closedBecause() ?? thrown, 'list folders');
      }
    },
    async openFolder(path: string): Promise<Result<FolderState>> {
      try {
        return ok(await examine(path, true));
      } catch (thrown) {
        return fail(thrown, 'open folder');
      }
    },
    async listUids(path: string, filter?: MessageFilter, options: ListUidsOptions = {}): Promise<Result<UidListing>> {
      if (filter) {
        try {
          // Gmail's labels come from imapflow; the listing itself, as always, from the wire.
          const kept = await (await viaImapflow()).uidsOnlyInAllMail(path);
          const listed = await listAll(path, options);
          if (!listed.ok) return listed;
          const sizes = listed.value.sizes ? new Map([...listed.value.sizes].filter(([uid]) => kept.has(uid))) : undefined;
          return ok({ uids: listed.value.uids.filter((uid) => kept.has(uid)), deletedUids: listed.value.deletedUids, ...(sizes ? { sizes } : {}) });
        } catch (thrown) {
          return fail(planner?.closedBecause() ?? thrown, 'list messages');
        }
      }
      return listAll(path, options);
    },
    async listMessages(path: string, uids: number[] | 'all'): Promise<Result<MessageMeta[]>> {
      try {
        const state = await examine(path);
        if (state.messages === 0 || (uids !== 'all' && uids.length === 0)) return ok([]);
        return ok(await fetchMetaOverWire(session, uids === 'all' ? ['1:*'] : chunkUids(uids).map(toUidSet)));
      } catch (thrown) {
        return fail(thrown, 'list messages');
      }
    },
    async listSizes(path: string, uids: number[]): Promise<Result<Map<number, number>>> {
      try {
        const state = await examine(path);
        const sizes = new Map<number, number>();
        if (state.messages === 0 || uids.length === 0) return ok(sizes);
        await fetchSets(session, chunkUids(uids).map(toUidSet), '(UID RFC822.SIZE)', (items) => {
          const uid = tokenNumber(items.get('UID'));
          const size = tokenNumber(items.get('RFC822.SIZE'));
          if (uid !== undefined && size !== undefined) sizes.set(uid, size);
        });
        return ok(sizes);
      } catch (thrown) {
        return fail(thrown, 'list messages');
      }
    },
    readBodies,
    async searchLarger(path: string, bytes: number): Promise<Result<number[]>> {
      try {
        const state = await examine(path);
        if (state.messages === 0) return ok([]);
        const answer = await session.collect(`UID SEARCH LARGER ${Math.max(0, Math.floor(bytes))} NOT DELETED`);
        ensureOk(answer.tagged);
        return ok(searchResults(answer.untagged, undefined, searchBound(Math.max(state.messages, existsOf(answer.untagged)))).sort((a, b) => a - b));
      } catch (thrown) {
        return fail(thrown, 'search messages');
      }
    },
    async searchSince(path: string, since: Date): Promise<Result<number[]>> {
      try {
        const state = await examine(path);
        if (state.messages === 0) return ok([]);
        const answer = await session.collect(`UID SEARCH SINCE ${formatSearchDate(since)}`);
        ensureOk(answer.tagged);
        return ok(searchResults(answer.untagged, undefined, searchBound(Math.max(state.messages, existsOf(answer.untagged)))).sort((a, b) => a - b));
      } catch (thrown) {
        return fail(thrown, 'search messages');
      }
    },
    async listFlags(path: string, uids: number[], changedSince?: string): Promise<Result<Map<number, string[]>>> {
      try {
        const state = await examine(path, true);
        if (state.messages === 0 || uids.length === 0) return ok(new Map());
        // Changed since a mod-sequence: one FETCH over the whole folder returns just those.
        const useChangedSince = changedSince !== undefined && session.capabilities.has('CONDSTORE');
        const flags = await fetchFlagsOverWire(session, useChangedSince ? ['1:*'] : chunkUids(uids).map(toUidSet), useChangedSince ? changedSince : undefined);
        if (!useChangedSince) return ok(flags);
        const wanted = new Set(uids);
        for (const uid of flags.keys()) if (!wanted.has(uid)) flags.delete(uid);
        return ok(flags);
      } catch (thrown) {
        return fail(thrown, 'list flags');
      }
    },
    close: async () => {
      await Promise.allSettled([session.logout(), planner?.close()]);
    },
  };
};
