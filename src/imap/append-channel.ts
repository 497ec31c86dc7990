/**
 * A second, append-only IMAP connection to the destination that pipelines APPEND commands.
 *
 * Why it exists: imapflow sends one command at a time and, for a literal over 4 KB, waits for
 * the server's `+` before sending it, so every message costs two round trips. Over a 50 ms
 * round trip that caps a copy at ~10 messages a second whatever the bandwidth. This channel
 * speaks just enough IMAP to log in and APPEND: with LITERAL+ (RFC 7888) each message is one
 * command sent without waiting, many commands are in flight at once, and each one still gets
 * its own tagged answer, so a refused message fails alone.
 *
 * Invariants:
 * - It sends only APPEND, CREATE with USE (a new special-use folder), and for listing what a
 *   folder holds EXAMINE (read-only) and UID FETCH of headers with BODY.PEEK or of FLAGS, then LOGOUT (after wire-session.ts's CAPABILITY, STARTTLS and
 *   login, with the same TLS verification and pinning as connect-imap.ts). Nothing that
 *   changes or removes existing mail exists here.
 * - A message counts as appended only on its tagged OK. When the connection fails, every
 *   message without an answer is reported unanswered, and the batch says whether any of them
 *   may still land (`isInDoubt`): an APPEND commits when the server has all of it, which can be
 *   long after we stopped waiting (bytes still in a slow link's buffers, or in the socket of a
 *   process that was killed), so resetting our socket does not undo it.
 * - Before the first byte that could complete an APPEND leaves, `beforeCommit` is awaited (the
 *   copier makes the batch's intent durable there). A MULTIAPPEND sends its last message as a
 *   synchronizing literal: the server's `+` says it has read everything before it, so the
 *   batch cannot commit before we send that last literal, and only it is ever in flight when we
 *   commit to the batch. Losing the connection before then leaves nothing in doubt.
 * - Waiting for an answer is allowed the idle timeout plus the time the bytes still on their
 *   way need at the slowest rate this connection has measured (times a safety factor), so a
 *   large batch on a slow link is not given up while it is still arriving. Batches are sized
 *   to a few seconds of that rate (`preferredBatchBytes`).
 * - Without LITERAL+ it falls back to synchronizing literals (waiting for `+`), still one
 *   round trip per message instead of two, because the next command is sent before the
 *   previous one's answer.
 * - A literal goes unasked (LITERAL+) only up to the largest size the server has already taken
 *   on this connection (at least UNASKED_LITERAL_FLOOR_BYTES); a larger one waits for `+`. A
 *   server that refuses a literal on its announced size may read its bytes as commands, and a
 *   message's text is not ours: it must never reach the server as a command.
 * - Flags that are not valid IMAP atoms are never put on the wire (a BAD there could leave a
 *   server reading message bytes as commands); such a message is refused locally.
 */
import type { AccountCredentials } from '../contract/account.js';
import { migrationError, ok, type MigrationError, type Result } from '../contract/result.js';
import { classifyImapError } from './classify-error.js';
import { LinkRate, SETTLE_MARGIN_MS } from './link-rate.js';
import type { ConnectTimeouts } from './connect-imap.js';
import { encodeMailboxName } from './imap-utf7.js';
import type { CommitPoint, FolderState, MessageMeta } from '../engine/store.js';
import { hasNulByte, piecesOf, type MessageBytes } from '../engine/message-bytes.js';
import { examineOverWire, fetchFlagsOverWire, fetchMetaOverWire } from './wire-source.js';
import { chunkUids, toUidSet, uidRange } from './uid-set.js';
import { existsOf, expandUidSet, formatInternalDate, searchBound, searchResults } from './wire-parse.js';
import { connectionError, openWireSession, quoted, responseError, type Tagged, type WireSession } from './wire-session.js';

/** Answers after which the rest of a batch is not sent: the next message would meet the same. */
const STOPS_SENDING = new Set(['quota', 'throttled', 'not-found']);
/** RFC 7888: LITERAL- allows non-synchronizing literals up to this size. */
const LITERAL_MINUS_MAX_BYTES = 4096;
/** Literals up to this size go without asking (LITERAL+) before the server has taken a larger one. */
export const UNASKED_LITERAL_FLOOR_BYTES = 64 * 1024;
/**
 * The largest batch as one streamed MULTIAPPEND. One transaction per batch: Dovecot's maildir
 * rescans the folder at every commit, and with 8 MB batches copying 5,000 messages of the
 * standard size mix into one folder cost the destination 3.5 s of CPU, with 48 MB batches 1.3 s.
 * Only the message being written is held, so this bounds the transaction, not the memory.
 */
export const MAX_STREAMED_BATCH_BYTES = 256 * 1024 * 1024;
/** The largest batch of single APPENDs (the copier's BATCH_MAX_BYTES). */
export const MAX_HELD_BATCH_BYTES = 8 * 1024 * 1024;

/** One message to append. */
export interface ChannelMessage {
  body: MessageBytes;
  flags: string[];
  internalDate?: Date;
}

/** The answer for one message: appended (with its UID when the server has UIDPLUS) or why not. */
export type ChannelAnswer =
  | { ok: true; uid?: number; uidValidity?: string }
  | {
      ok: false;
      error: MigrationError;
      isAnswered: boolean;
      /** Refused with the rest of a MULTIAPPEND: not stored, and may well be accepted on its own. */
      isRefusedTogether?: boolean;
    };

export interface ChannelAppendOptions {
  /** Send each message as its own APPEND (after a MULTIAPPEND of them was refused as a whole). */
  isEachAlone?: boolean;
  /** At most this many bytes will come: the window announced before single APPENDs covers them. */
  plannedBytes?: number;
}

/** A batch's answers, and whether those without one may still land. */
export interface ChannelBatch {
  answers: ChannelAnswer[];
  /** Some message without an answer had all its bytes (or may have had) sent: see the header. */
  isInDoubt: boolean;
  /** When in doubt: how long from now one of them could still land, as far as this connection can tell. */
  settleMs?: number;
}

export interface AppendChannel {
  readonly capabilities: ReadonlySet<string>;
  /**
   * Appends messages in order as they come, pipelined; one answer per message taken, in the same
   * order (fewer when the connection failed or the server refused the rest). `beforeCommit` is
   * awaited before the first byte that could complete an APPEND is sent, and again whenever the
   * window it announced would end before what is still to be sent (single APPENDs of a batch
   * that comes slowly); every message that byte can complete has been taken by then.
   */
  append(
    mailbox: string,
    messages: Iterable<ChannelMessage> | AsyncIterable<ChannelMessage>,
    beforeCommit?: (point: CommitPoint) => Promise<void>,
    options?: ChannelAppendOptions,
  ): Promise<ChannelBatch>;
  /**
   * Bytes the next batch should carry: about BATCH_TARGET_MS of the link as measured, up to
   * MAX_STREAMED_BATCH_BYTES where a batch is one MULTIAPPEND written as it comes, and
   * MAX_HELD_BATCH_BYTES where it is single APPENDs (the copier holds such a batch whole).
   */
  preferredBatchBytes(): number;
  /**
   * Metadata of the folder's messages with UID >= fromUid, read over this connection (EXAMINE,
   * so its counts include everything appended). Throws what classify-error.ts understands.
   */
  listMessages(mailbox: string, fromUid: number, toUid?: number): Promise<MessageMeta[]>;
  /** Metadata of exactly these messages, over this connection. */
  listMessagesByUid(mailbox: string, uids: number[]): Promise<MessageMeta[]>;
  /** Every UID the folder holds (ESEARCH's compact form where offered), over this connection. */
  listUids(mailbox: string): Promise<number[]>;
  /**
   * CREATE-SPECIAL-USE (RFC 6154): `CREATE name (USE (\Sent))`, for a folder the destination
   * lacks. Creating a folder changes no mail. Throws what classify-error.ts understands.
   */
  createSpecialUse(mailbox: string, use: string): Promise<void>;
  /** Flags of exactly these messages (UID → flags without `\Recent`), read-only (EXAMINE). */
  listFlags(mailbox: string, uids: number[]): Promise<Map<number, string[]>>;
  isClosed(): boolean;
  close(): Promise<void>;
}

/** A flag we can send as an atom: a system flag or a keyword without IMAP specials. */
const isSendableFlag = (flag: string): boolean => /^\\?[^\x00-\x20\x7f-\uffff(){%*"\\\]]+$/.test(flag);

/** The copier's `beforeCommit` failed (its journal could not be written): nothing more may be sent. */
class CommitRefused extends Error {
  constructor(readonly reason: unknown) {
    super('beforeCommit failed');
  }
}

const commitOrThrow = async (beforeCommit: ((point: CommitPoint) => Promise<void>) | undefined, settleMs: number): Promise<void> => {
  try {
    await beforeCommit?.({ settleMs });
  } catch (thrown) {
    throw new CommitRefused(thrown);
  }
};

/**
 * Keeps a durable announcement (the copier's beforeCommit) ahead of what is sent: the returned
 * function is awaited before each message's bytes; it announces the first time, and again
 * whenever the window announced before would end too soon for `bytesLeft` (what may still
 * follow, this message included) sent from now: a batch fed slowly by its source takes longer
 * to send than its size alone says, and a single APPEND commits as soon as its own bytes are in.
 */
export const commitWindow = (rate: Pick<LinkRate, 'settleMs'>, announce: (settleMs: number) => Promise<void>, now: () => number = Date.now) => {
  let coveredUntil: number | undefined;
  return async (bytesLeft: number): Promise<void> => {
    const settleMs = rate.settleMs(bytesLeft);
    const calledAt = now();
    if (coveredUntil !== undefined && calledAt + settleMs <= coveredUntil) return;
    await announce(settleMs);
    coveredUntil = calledAt + settleMs;
  };
};

/** Connects and logs in (wire-session.ts), ready to append. */
export const openAppendChannel = async (account: AccountCredentials, timeouts: ConnectTimeouts = {}): Promise<Result<AppendChannel>> => {
  const session = await openWireSession(account, timeouts);
  return session.ok ? ok(channelOf(session.value, `${account.host}:${account.port}`)) : session;
};

const channelOf = (session: WireSession, server: string): AppendChannel => {
  const classify = (e: unknown): MigrationError => classifyImapError(e, { server, operation: 'append', side: 'new' });
  const rate = new LinkRate();
  /**
   * The largest literal this server has taken on this connection (a `+`, or an APPEND's OK).
   * A server that refuses a non-synchronizing literal on its announced size (Dovecot's NO
   * [LIMIT] for a message over its limit) may read the literal's bytes that follow as commands,
   * so a line `x DELETE INBOX` in a message would run. A literal goes without asking only up to
   * this size (at least UNASKED_LITERAL_FLOOR_BYTES); a larger one waits for the server's `+`,
   * one round trip each time the size grows past what was taken.
   */
  let largestTaken = UNASKED_LITERAL_FLOOR_BYTES;
  const noteTaken = (size: number): void => {
    largestTaken = Math.max(largestTaken, size);
  };
  const mayGoUnasked = (size: number): boolean =>
    (session.capabilities.has('LITERAL+') && size <= largestTaken) || (session.capabilities.has('LITERAL-') && size <= LITERAL_MINUS_MAX_BYTES);
  /** A batch goes as one MULTIAPPEND written as its messages come (see appendTogether). */
  const isStreaming = (): boolean => session.capabilities.has('MULTIAPPEND') && session.capabilities.has('LITERAL+');
  /** Waits for `answer`, allowing the idle timeout plus the time `bytesOnTheWay` need on the link. */
  const awaitAllowing = async <T>(answer: Promise<T>, bytesOnTheWay: number): Promise<T> => {
    session.extendIdleTimeout(rate.allowanceMs(bytesOnTheWay));
    try {
      return await answer;
    } finally {
      session.restoreIdleTimeout();
    }
  };

  /**
   * Pipelined single APPENDs, one tagged answer per message, sent as the messages come (each
   * commits on its own, so a refused message fails alone). `plannedBytes`: what the batch
   * carries at most, for the announced window.
   */
  const appendEach = async (
    mailbox: string,
    messages: Iterable<ChannelMessage> | AsyncIterable<ChannelMessage>,
    beforeCommit: ((point: CommitPoint) => Promise<void>) | undefined,
    plannedBytes: number,
  ): Promise<ChannelBatch> => {
    const answers: (ChannelAnswer | undefined)[] = [];
    /** Body sizes of the messages taken, by index. */
    const sizes: number[] = [];
    const name = quoted(encodeMailboxName(mailbox));
    const caps = session.capabilities;
    const hasBinary = caps.has('BINARY');
    const appendLimit = [...caps].map((c) => /^APPENDLIMIT=(\d+)$/.exec(c)?.[1]).find((v) => v !== undefined);
    const announce = commitWindow(rate, (settleMs) => commitOrThrow(beforeCommit, settleMs));
    const waits: Promise<void>[] = [];
    // Once the server says the folder is full, busy or gone, the rest of the batch is not sent.
    let refusedAll: MigrationError | undefined;
    /** Messages whose body went out (in part or whole): without an answer, they may land. */
    let bodiesSent = 0;
    let bytesSent = 0;
    let startedAt: number | undefined;
    try {
      for await (const message of messages) {
        const i = answers.length;
        answers.push(undefined);
        sizes.push(message.body.length);
        if (!name) {
          answers[i] = { ok: false, error: migrationError('bad-input', `The folder name ${JSON.stringify(mailbox)} cannot be sent to an IMAP server.`), isAnswered: true };
          continue;
        }
        const badFlag = message.flags.find((f) => !isSendableFlag(f));
        if (badFlag !== undefined) {
          answers[i] = { ok: false, error: migrationError('rejected', `The message has a flag that cannot be sent over IMAP: ${JSON.stringify(badFlag)}.`), isAnswered: true };
          continue;
        }
        if (appendLimit !== undefined && message.body.length > Number(appendLimit)) {
          answers[i] = { ok: false, error: classify(Object.assign(new Error('Message too big for APPENDLIMIT'), { serverResponseCode: 'APPENDLIMIT' })), isAnswered: true };
          continue;
        }
        // From the first body on, a lost connection leaves this batch in doubt: say so first.
        // Without a planned size, everything sent so far counts as still on its way (safe side).
        await announce(plannedBytes > 0 ? Math.max(plannedBytes - bytesSent, message.body.length) : bytesSent + message.body.length);
        startedAt ??= Date.now();
        const date = message.internalDate ? formatInternalDate(message.internalDate) : undefined;
        const isSync = !mayGoUnasked(message.body.length);
        // literal8 (RFC 3516) for bodies with NUL bytes, which a plain literal may not carry.
        const tilde = hasBinary && hasNulByte(message.body) ? '~' : '';
        const tag = session.nextTag();
        const head = `${tag} APPEND ${name} (${message.flags.join(' ')})${date ? ` "${date}"` : ''} ${tilde}{${message.body.length}${isSync ? '' : '+'}}\r\n`;
        const done = session.expect(tag);
        waits.push(
          done.then(
            (tagged) => {
              if (tagged.status === 'OK') {
                noteTaken(message.body.length);
                const uid = tagged.code === 'APPENDUID' && /^\d+$/.test(tagged.codeArgs[1] ?? '') ? Number(tagged.codeArgs[1]) : undefined;
                answers[i] = { ok: true, uid, uidValidity: uid !== undefined ? tagged.codeArgs[0] : undefined };
              } else {
                const error = classify(responseError(tagged));
                // [LIMIT] may be this message's size alone (imap-destination.ts tells which).
                if (STOPS_SENDING.has(error.kind) && error.serverCode !== 'LIMIT') refusedAll ??= error;
                answers[i] = { ok: false, error, isAnswered: true };
              }
            },
            () => undefined, // unanswered: filled in below
          ),
        );
        if (isSync) {
          const go = session.expectContinuation(tag);
          await session.write(head);
          // The `+` comes once the server has read every earlier message of the pipeline.
          if (!(await awaitAllowing(go, bytesSent))) continue;
          noteTaken(message.body.length);
        } else {
          await session.write(head);
        }
        bodiesSent = i + 1;
        await session.write(piecesOf(message.body));
        await session.write('\r\n');
        bytesSent += message.body.length;
        if (refusedAll) break;
      }
      await awaitAllowing(Promise.all(waits), bytesSent);
    } catch (thrown) {
      // The connection failed while sending or waiting; the answers that did arrive still count.
      if (thrown instanceof CommitRefused) throw thrown.reason;
      if (!session.closedError) throw thrown;
    }
    await Promise.all(waits);
    if (startedAt !== undefined && answers.every((a) => a !== undefined)) rate.record(bytesSent, Date.now() - startedAt);
    const lost = session.closedError;
    const unansweredBytes = sizes.slice(0, bodiesSent).reduce((sum, size, i) => sum + (answers[i] === undefined ? size : 0), 0);
    const isInDoubt = answers.slice(0, bodiesSent).some((a) => a === undefined);
    return {
      answers: answers.map(
        (a) => a ?? { ok: false, error: refusedAll ?? classify(lost ?? connectionError('EConnectionClosed', 'The connection was lost.')), isAnswered: false },
      ),
      isInDoubt,
      settleMs: isInDoubt ? settleAfterLoss(unansweredBytes) : undefined,
    };
  };

  /**
   * How long after a lost connection a command whose bytes went out may still commit. When the
   * server or the network ended the connection, nothing more of ours reaches the server: only
   * a commit already under way can land (the margin). When we gave up (a deadline, a close),
   * the bytes may still be on their way, at the slowest rate seen.
   */
  const settleAfterLoss = (bytesOnTheWay: number): number => (session.isGivenUp ? rate.settleMs(bytesOnTheWay) : SETTLE_MARGIN_MS);

  /**
   * One MULTIAPPEND (RFC 3502) for the whole batch, written as the messages come: one
   * transaction on the server, which for a maildir server means one directory sync instead of
   * one per message (appending to a folder of 20,000 messages one by one cost Dovecot 25-40 ms a
   * message, growing with the folder), and only the message being written is held here, so a
   * transaction can be far larger than what is held in memory.
   *
   * The last message goes as a synchronizing literal: the server's `+` for it proves it has
   * read everything before, and until we send that literal the command cannot commit. So a
   * connection lost before then leaves nothing in doubt, and after it only the last message's
   * bytes can still be on their way. Each message is written once the next one has come (or
   * the batch has ended), so the last one is known when its literal is announced.
   *
   * It is all or nothing: a refusal other than throttling or a missing folder marks every
   * message `isRefusedTogether` (none stored; each may be accepted alone). Messages that cannot
   * go in it (NUL bytes, flags that are not atoms, over APPENDLIMIT) are held aside and go
   * through appendEach after it.
   */
  const appendTogether = async (
    mailbox: string,
    messages: Iterable<ChannelMessage> | AsyncIterable<ChannelMessage>,
    beforeCommit: ((point: CommitPoint) => Promise<void>) | undefined,
  ): Promise<ChannelBatch> => {
    const name = quoted(encodeMailboxName(mailbox));
    const caps = session.capabilities;
    const appendLimit = Number([...caps].map((c) => /^APPENDLIMIT=(\d+)$/.exec(c)?.[1]).find((v) => v !== undefined) ?? Infinity);
    const isPlain = (m: ChannelMessage): boolean => m.flags.every(isSendableFlag) && m.body.length <= appendLimit && !hasNulByte(m.body);
    const argumentsOf = (message: ChannelMessage, isSync: boolean): string => {
      const date = message.internalDate ? formatInternalDate(message.internalDate) : undefined;
      return ` (${message.flags.join(' ')})${date ? ` "${date}"` : ''} {${message.body.length}${isSync ? '' : '+'}}\r\n`;
    };
    /** Index (in the order taken) of each message written into the command, in order. */
    const together: number[] = [];
    const aside: { index: number; message: ChannelMessage }[] = [];
    let taken = 0;
    let held: { index: number; message: ChannelMessage } | undefined;
    let tag: string | undefined;
    let done: Promise<Tagged> | undefined;
    let startedAt = 0;
    let bytesBefore = 0;
    let isLastSent = false;
    let tagged: Tagged | undefined;
    /**
     * Writes one message of the command, not its last: unasked where mayGoUnasked, else after
     * the server's `+`. False when the server answered the command instead (nothing written).
     */
    const writeLiteral = async (message: ChannelMessage): Promise<boolean> => {
      if (!session.isAwaiting(tag as string)) return false;
      const size = message.body.length;
      if (mayGoUnasked(size)) {
        await session.write(argumentsOf(message, false));
      } else {
        const go = session.expectContinuation(tag as string);
        await session.write(argumentsOf(message, true));
        if (!(await awaitAllowing(go, bytesBefore))) return false;
        noteTaken(size);
      }
      await session.write(piecesOf(message.body));
      return true;
    };
    const open = async (): Promise<void> => {
      if (tag) return;
      tag = session.nextTag();
      done = session.expect(tag);
      startedAt = Date.now();
      await session.write(`${tag} APPEND ${name}`);
    };
    try {
      for await (const message of messages) {
        const index = taken++;
        if (!name || !isPlain(message)) {
          aside.push({ index, message });
          continue;
        }
        // Answered before its end (refused while we were still sending): the rest of the command
        // would reach the server as new commands, so nothing more is sent; what comes shares the
        // command's answer (and may be sent alone).
        if (tag && !session.isAwaiting(tag)) continue;
        if (held) {
          await open();
          if (await writeLiteral(held.message)) {
            together.push(held.index);
            bytesBefore += held.message.body.length;
          }
        }
        held = { index, message };
      }
      if (held && (!tag || session.isAwaiting(tag))) {
        const last = held.message;
        await open();
        const go = session.expectContinuation(tag as string);
        await session.write(argumentsOf(last, true));
        together.push(held.index);
        if (await awaitAllowing(go, bytesBefore)) {
          noteTaken(last.body.length);
          await commitOrThrow(beforeCommit, rate.settleMs(last.body.length));
          isLastSent = true;
          await session.write(piecesOf(last.body));
          await session.write('\r\n');
        }
      }
      if (done) tagged = await awaitAllowing(done, isLastSent ? (held?.message.body.length ?? 0) : 0);
    } catch (thrown) {
      if (thrown instanceof CommitRefused || !session.closedError) {
        // Half a command is on the wire and its last literal will never come: drop the session.
        session.fail(connectionError('EConnectionClosed', 'The append was abandoned.'), true);
        throw thrown instanceof CommitRefused ? thrown.reason : thrown;
      }
      // All or nothing, and no answer: none of them is known to be there.
      const error = classify(session.closedError);
      const answers: ChannelAnswer[] = Array.from({ length: taken }, () => ({ ok: false, error, isAnswered: false }));
      return { answers, isInDoubt: isLastSent, settleMs: isLastSent ? settleAfterLoss(held?.message.body.length ?? 0) : undefined };
    }
    const answers: (ChannelAnswer | undefined)[] = new Array(taken).fill(undefined);
    if (tagged?.status === 'OK') {
      rate.record(bytesBefore + (held?.message.body.length ?? 0), Date.now() - startedAt);
      // A set larger than the batch maps nothing (and is never expanded in full).
      const uids = (tagged.code === 'APPENDUID' ? expandUidSet(tagged.codeArgs[1] ?? '', together.length) : undefined) ?? [];
      const isMapped = uids.length === together.length;
      const uidValidity = isMapped ? tagged.codeArgs[0] : undefined;
      together.forEach((index, i) => (answers[index] = { ok: true, uid: isMapped ? uids[i] : undefined, uidValidity }));
    } else if (tagged) {
      const error = classify(responseError(tagged));
      // [LIMIT] may mean "one of these is too big": only message by message can tell.
      const isRefusedForAll = error.kind === 'not-found' || (error.kind === 'throttled' && error.serverCode !== 'LIMIT');
      // Messages taken for the command but not sent (the answer came first) share its fate.
      const isAside = new Set(aside.map((a) => a.index));
      for (let index = 0; index < taken; index++) {
        if (!isAside.has(index)) answers[index] = { ok: false, error, isAnswered: true, isRefusedTogether: !isRefusedForAll };
      }
      if (isRefusedForAll) for (const { index } of aside) answers[index] = { ok: false, error, isAnswered: true };
    }
    let batch: ChannelBatch = { answers: [], isInDoubt: false };
    const alone = aside.filter(({ index }) => answers[index] === undefined);
    if (alone.length > 0) {
      batch = await appendEach(
        mailbox,
        alone.map((a) => a.message),
        beforeCommit,
        alone.reduce((sum, a) => sum + a.message.body.length, 0),
      );
      batch.answers.forEach((answer, i) => (answers[(alone[i] as { index: number }).index] = answer));
    }
    const lost = classify(session.closedError ?? connectionError('EConnectionClosed', 'The connection was lost.'));
    return { ...batch, answers: answers.map((a) => a ?? { ok: false, error: lost, isAnswered: false }) };
  };

  /**
   * Runs `read` with the folder EXAMINEd, then leaves it again: Courier refuses APPEND into the
   * folder this connection has open read-only ("Current box is selected READ-ONLY"). CLOSE
   * after EXAMINE expunges nothing (RFC 3501 6.4.2: a read-only mailbox loses no messages);
   * UNSELECT where offered.
   */
  const whileExamined = async <T>(mailbox: string, read: (state: FolderState) => Promise<T>): Promise<T> => {
    const state = await examineOverWire(session, mailbox);
    try {
      return await read(state);
    } finally {
      await session.collect(session.capabilities.has('UNSELECT') ? 'UNSELECT' : 'CLOSE').catch(() => undefined);
    }
  };

  return {
    get capabilities() {
      return session.capabilities;
    },
    isClosed: () => session.closedError !== undefined,
    append(mailbox, messages, beforeCommit, options = {}): Promise<ChannelBatch> {
      return isStreaming() && !options.isEachAlone ? appendTogether(mailbox, messages, beforeCommit) : appendEach(mailbox, messages, beforeCommit, options.plannedBytes ?? 0);
    },
    preferredBatchBytes: () => rate.preferredBatchBytes(isStreaming() ? MAX_STREAMED_BATCH_BYTES : MAX_HELD_BATCH_BYTES),
    listMessages: (mailbox: string, fromUid: number, toUid?: number): Promise<MessageMeta[]> =>
      whileExamined(mailbox, async (state) => {
        // Courier sends no UIDNEXT on EXAMINE (uidNext 0 here): then only FETCH can tell.
        if (state.messages === 0 || (state.uidNext > 0 && fromUid >= state.uidNext)) return [];
        // "N:*" returns the highest message even when its UID is below N: filter.
        const metas = await fetchMetaOverWire(session, [uidRange(fromUid, toUid)]);
        return metas.filter((m) => m.uid >= fromUid && m.uid <= (toUid ?? Infinity));
      }),
    async createSpecialUse(mailbox: string, use: string): Promise<void> {
      const name = quoted(encodeMailboxName(mailbox));
      if (!name || !/^\\[A-Za-z]+$/.test(use)) throw migrationError('bad-input', `The folder ${JSON.stringify(mailbox)} cannot be created as ${use}.`);
      const answer = await session.command(`CREATE ${name} (USE (${use}))`);
      if (answer.status !== 'OK') throw responseError(answer);
    },
    listFlags: (mailbox: string, uids: number[]): Promise<Map<number, string[]>> =>
      whileExamined(mailbox, async (state) => (state.messages === 0 || uids.length === 0 ? new Map() : fetchFlagsOverWire(session, chunkUids(uids).map(toUidSet)))),
    listMessagesByUid: (mailbox: string, uids: number[]): Promise<MessageMeta[]> =>
      whileExamined(mailbox, async (state) => (state.messages === 0 || uids.length === 0 ? [] : fetchMetaOverWire(session, chunkUids(uids).map(toUidSet)))),
    async listUids(mailbox: string): Promise<number[]> {
      const isCompact = session.capabilities.has('ESEARCH');
      const search = isCompact ? 'UID SEARCH RETURN (ALL) ALL' : 'UID SEARCH ALL';
      const name = quoted(encodeMailboxName(mailbox));
      if (name && session.capabilities.has('UNSELECT')) {
        // One round trip: UNSELECT never expunges, so it may go before EXAMINE's answer is seen.
        const [examined, searched] = await session.pipeline([`EXAMINE ${name}`, search, 'UNSELECT']);
        if (examined?.tagged.status === 'OK' && searched?.tagged.status === 'OK') {
          const untagged = [...examined.untagged, ...searched.untagged];
          return searchResults(untagged, isCompact ? searched.tag : undefined, searchBound(existsOf(untagged)));
        }
        // Otherwise ask again step by step, for the error examineOverWire gives (a missing folder, ...).
      }
      return whileExamined(mailbox, async (state) => {
        if (state.messages === 0) return [];
        const [answer] = await session.pipeline([search]);
        if (!answer) throw connectionError('NoConnection', 'SEARCH got no answer.');
        if (answer.tagged.status !== 'OK') throw responseError(answer.tagged);
        return searchResults(answer.untagged, isCompact ? answer.tag : undefined, searchBound(Math.max(state.messages, existsOf(answer.untagged))));
      });
    },
    close: () => session.logout(),
  };
};

export type { ConnectTimeouts };
