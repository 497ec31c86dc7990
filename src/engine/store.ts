/**
 * The two faces of a mail store as the copier sees them. A source can only be read; a
 * destination can only gain folders and messages. Neither interface has a way to delete,
 * expunge, rename, move or change flags: the copier cannot issue a destructive command because
 * no such method exists on what it is given. IMAP accounts and local archives implement both.
 */
import type { MigrationError, Result } from '../contract/result.js';
import type { SourceFolder, SpecialUse } from '../contract/plan.js';
import type { MessageBytes } from './message-bytes.js';

/** What identifies a folder's contents at a point in time. */
export interface FolderState {
  /** UIDVALIDITY as a decimal string (it can exceed 2^31; archives use their own stable id). */
  uidValidity: string;
  uidNext: number;
  messages: number;
  /** CONDSTORE's HIGHESTMODSEQ as a decimal string, when the store has it. */
  highestModseq?: string;
}

/** Per-message facts, enough to identify, report and re-create a message. */
export interface MessageMeta {
  uid: number;
  sizeBytes: number;
  /** Flags and keywords as stored, never `\Recent`. */
  flags: string[];
  internalDate: Date;
  /** See fingerprint.ts: stable across stores, keeps genuine twins apart only by count. */
  fingerprint: string;
  subject?: string;
  messageId?: string;
  date?: string;
}

/** A message body read from a source, or why it could not be read. */
export type BodyResult = { uid: number; ok: true; body: MessageBytes } | { uid: number; ok: false; error: MigrationError };

/** A message to add to a destination. */
export interface OutgoingMessage {
  body: MessageBytes;
  flags: string[];
  internalDate: Date;
}

/** Where an appended message landed, when the store can tell (UIDPLUS). */
export interface AppendedMessage {
  uid?: number;
  uidValidity?: string;
}

export interface AppendOutcome {
  /** One per message taken from the batch, in the order taken (fewer when stopped). */
  results: Result<AppendedMessage>[];
  /**
   * Positions (in `results`) of messages refused only together with the rest of their batch
   * (one MULTIAPPEND, all or nothing): none of them is stored, and each may be accepted when
   * sent on its own (`isEachAlone`). Their `results` entries hold the batch's refusal.
   */
  retryAlone?: number[];
  stopped?: MigrationError;
  /**
   * True when messages without an answer may still land: the bytes that complete their APPEND
   * were (or may have been) sent, and an APPEND commits when the server has all of it, whenever
   * that is. False or absent: every message without an answer is certainly not there.
   */
  isInDoubt?: boolean;
  /**
   * When in doubt and the store learned more when the connection ended: how long from now an
   * unanswered message could still land (replaces the estimate given at the commit point).
   */
  settleMs?: number;
}

/** Said by a store just before the first byte that could complete an APPEND leaves. */
export interface CommitPoint {
  /**
   * How long after now an APPEND of this batch could still commit if the connection were lost
   * from here on: the bytes still to travel at the slowest rate seen, with a margin.
   */
  settleMs: number;
}

export interface AppendOptions {
  /**
   * Awaited before the first byte that could complete an APPEND is sent; if it throws, nothing
   * more is sent. Called again before further bytes when the window it announced would end too
   * soon for them. Every message those bytes can complete has been taken from the batch by
   * then. The copier makes the batch's intent durable here.
   */
  beforeCommit?(point: CommitPoint): Promise<void>;
  /** Send each message on its own (its batch was refused as a whole: see AppendOutcome.retryAlone). */
  isEachAlone?: boolean;
  /** The batch holds at most this many bytes. */
  plannedBytes?: number;
}

export interface NamespaceInfo {
  delimiter: string;
  prefix: string;
  capabilities: string[];
  /** Host name, the server's own name (ID) and its greeting text, for recognising providers. */
  server?: { host: string; name?: string; greeting?: string };
}

/** A folder-level choice of which messages to copy. */
export type MessageFilter = 'gmail-only-in-all-mail';

/** Every UID of a folder, those flagged \Deleted, and with `withSizes` every message's size. */
export interface UidListing {
  uids: number[];
  deletedUids: number[];
  /** Present when asked for and the store could give them in the same go. */
  sizes?: Map<number, number>;
}

export interface ListUidsOptions {
  /**
   * Also every message's size, when it costs no extra round trip (a first copy needs them all;
   * a re-run needs only the new ones, which listSizes gets without sending every size again).
   */
  withSizes?: boolean;
}

/** A read-only mail store. */
export interface SourceStore {
  readonly kind: 'imap' | 'archive';
  namespace(): NamespaceInfo;
  listFolders(): Promise<Result<SourceFolder[]>>;
  /** Opens a folder read-only (IMAP: EXAMINE) and reports its state. */
  openFolder(path: string): Promise<Result<FolderState>>;
  /**
   * Every UID in the folder, and which of them are flagged \\Deleted (those are not copied).
   * With `filter`, only the messages it keeps (e.g. Gmail's archived-only mail in All Mail).
   */
  listUids(path: string, filter?: MessageFilter, options?: ListUidsOptions): Promise<Result<UidListing>>;
  /** Metadata of the messages of an open folder whose UID is in `uids` ('all' for every message). */
  listMessages(path: string, uids: number[] | 'all'): Promise<Result<MessageMeta[]>>;
  /**
   * UIDs of the messages larger than `bytes` and not flagged \Deleted (IMAP: UID SEARCH LARGER):
   * pre-flight finds what a destination will refuse without listing every size.
   */
  searchLarger?(path: string, bytes: number): Promise<Result<number[]>>;
  /**
   * UIDs of the messages that arrived on or after the day of `since` (INTERNALDATE; IMAP: UID
   * SEARCH SINCE, whole days in the server's time zone): newest-first finds a folder's recent
   * mail without reading every message's metadata.
   */
  searchSince?(path: string, since: Date): Promise<Result<number[]>>;
  /**
   * Just the sizes of these messages (UID → bytes): enough for progress by bytes before any
   * header is read. A UID missing from the answer was expunged.
   */
  listSizes(path: string, uids: number[]): Promise<Result<Map<number, number>>>;
  /** Message bodies, byte-exact, without changing anything (IMAP: BODY.PEEK[]). Yields in any order. */
  readBodies(path: string, uids: number[]): AsyncIterable<BodyResult>;
  /**
   * Just the flags and keywords of these messages (UID → flags, never `\Recent`); with
   * `changedSince` (a CONDSTORE mod-sequence), only those changed after it. A UID missing
   * from the answer was expunged, or did not change.
   */
  listFlags?(path: string, uids: number[], changedSince?: string): Promise<Result<Map<number, string[]>>>;
  close(): Promise<void>;
}

/** An append-only mail store. */
export interface DestinationStore {
  readonly kind: 'imap' | 'archive';
  namespace(): NamespaceInfo;
  listFolders(): Promise<Result<SourceFolder[]>>;
  /**
   * Creates the folder (and subscribes it) if it does not exist. With `specialUse`, a server
   * that offers CREATE-SPECIAL-USE (RFC 6154) is told what the new folder is for.
   */
  ensureFolder(path: string, options?: { specialUse?: SpecialUse }): Promise<Result<{ created: boolean }>>;
  folderState(path: string): Promise<Result<FolderState>>;
  /** Metadata of the folder's messages with fromUid <= UID (<= toUid when given), for matching. */
  listMessages(path: string, fromUid: number, toUid?: number): Promise<Result<MessageMeta[]>>;
  /** Just the UIDs the folder holds: enough to verify messages whose UID the store told us. */
  listUids?(path: string): Promise<Result<number[]>>;
  /** Metadata of exactly these messages (a scan that skips what the journal already claims). */
  listMessagesByUid?(path: string, uids: number[]): Promise<Result<MessageMeta[]>>;
  /**
   * Adds messages to a folder, in order, taking them from `messages` as they come (a store may
   * write each before the next arrives). `results` holds one entry per message that got an
   * answer: a refused message (too large, malformed) fails alone and the rest go on. When the
   * connection fails, the quota runs out or the server throttles, the call stops with `stopped`
   * (and takes no more messages); `isInDoubt` then says whether the unanswered messages may
   * still land.
   */
  append(path: string, messages: Iterable<OutgoingMessage> | AsyncIterable<OutgoingMessage>, options?: AppendOptions): Promise<AppendOutcome>;
  /**
   * How many bytes one APPEND batch should carry now: a few seconds of the link as measured, so
   * a batch's answer comes soon and little is ever in doubt. Absent: BATCH_MAX_BYTES.
   */
  preferredBatchBytes?(): number;
  /** Storage quota, when the store knows it. */
  quota?(): Promise<{ usedBytes: number; limitBytes: number } | undefined>;
  /** Flags and keywords of these messages (UID → flags, never `\Recent`). */
  listFlags?(path: string, uids: number[]): Promise<Result<Map<number, string[]>>>;
  /**
   * The one change Mailferry ever makes to a message already on the destination, and only to
   * its own copies (`--sync-flags`): adding flags it lacks (IMAP: UID STORE +FLAGS.SILENT).
   * Never a removal, never `\Deleted` (refused here, whatever the caller asks), never `\Recent`.
   * Flags the folder does not allow (PERMANENTFLAGS) are left out. Returns how many messages
   * were asked to gain something.
   */
  addFlags?(path: string, changes: { uid: number; flags: string[] }[]): Promise<Result<number>>;
  close(): Promise<void>;
}
