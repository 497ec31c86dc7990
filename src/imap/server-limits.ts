/**
 * What Mailferry accepts from an IMAP server, and the one error raised beyond it. A server may be
 * broken or hostile (an old provider about to shut down, a hijacked name, a man in the middle):
 * whatever it sends, memory and time stay bounded, and the session ends with a sentence that
 * says so instead of growing without end.
 *
 * Invariants:
 * - The response reader (response-reader.ts), the wire parser (wire-parse.ts) and the session
 *   (wire-session.ts) throw nothing but WireProtocolError for anything a server sends.
 * - Every limit is far above what an honest server sends for an account Mailferry can copy at
 *   all; crossing one is not retried (classify-error.ts: kind `broken-server`).
 */

const MIB = 1024 * 1024;

/**
 * A response's text (lines without their literals) longer than this ends the session. The
 * longest honest line is a SEARCH answer from a server without ESEARCH: about 8 bytes a
 * message, so this allows some four million messages in one folder.
 */
export const MAX_LINE_BYTES = 32 * MIB;
/**
 * The largest literal (message) kept in memory: a message is read whole before it is appended,
 * and with one this big in hand the CLI stays under 300 MB. Most providers accept far less
 * (Gmail 25 MB, Microsoft 365 at most 150 MB); a larger message fails alone, with its size
 * (see response-reader.ts).
 */
export const MAX_LITERAL_BYTES = 100 * MIB;
/** All literals of one response together (eleven 100 MB literals in one FETCH are not a message). */
export const MAX_RESPONSE_LITERAL_BYTES = MAX_LITERAL_BYTES;
/** Literals in one response (ours carry one or two; a million empty ones would each cost memory). */
export const MAX_RESPONSE_LITERALS = 1000;
/**
 * A literal in a FETCH response may exceed the RFC822.SIZE announced before it by this factor
 * plus ANNOUNCED_SIZE_SLACK_BYTES (servers that recompute sizes are off by little; a literal
 * beyond that is not the message the server described).
 */
const ANNOUNCED_SIZE_FACTOR = 1.5;
const ANNOUNCED_SIZE_SLACK_BYTES = 1 * MIB;
/** Untagged responses to one command other than per-message and per-folder ones (EXAMINE sends about eight). */
export const MAX_UNTAGGED_PER_COMMAND = 10_000;
/** Untagged bytes of one kind kept for one command (a SEARCH answer, LIST lines). */
export const MAX_UNTAGGED_BYTES = 64 * MIB;
/** Folders of one account (Gmail allows 10,000 labels; the largest shared trees have a few ten thousand). */
export const MAX_FOLDERS = 50_000;
/** Messages of one folder (EXISTS): per-message answers to a command are allowed twice this many. */
export const MAX_FOLDER_MESSAGES = 10_000_000;
/** Nesting of parenthesised lists in one response (a deep MIME tree needs a few dozen). */
export const MAX_NESTING = 100;

/** The largest literal a FETCH response may carry after announcing `announced` bytes as its RFC822.SIZE. */
export const literalAllowance = (announced: number): number => Math.floor(announced * ANNOUNCED_SIZE_FACTOR) + ANNOUNCED_SIZE_SLACK_BYTES;

/** Why a server's input was refused: beyond a limit (`ServerOverrun`) or not IMAP we can read (`InvalidResponse`). */
export type WireProtocolErrorCode = 'ServerOverrun' | 'InvalidResponse';

/**
 * The project's error for input a server should never have sent. Shaped like imapflow's errors
 * (a `code`), so classify-error.ts turns it into a MigrationError like any other failure.
 */
export class WireProtocolError extends Error {
  constructor(
    readonly code: WireProtocolErrorCode,
    message: string,
    /** For an overrun: what the server sent, worded to follow "sent more than" (`10,000 responses to one command`). */
    readonly excess?: string,
  ) {
    super(message);
    this.name = 'WireProtocolError';
  }
}

/** A server sent more than `excess` (e.g. `a line of 32 MB`): the session ends. */
export const serverOverrun = (excess: string): WireProtocolError => new WireProtocolError('ServerOverrun', `The server sent more than ${excess}.`, excess);

/** A response that cannot be read as IMAP. */
export const invalidResponse = (why: string): WireProtocolError => new WireProtocolError('InvalidResponse', why);

/** Bytes in the unit a person reads: `160 MB`, `12 KB`, `100 bytes`. */
export const formatBytes = (bytes: number): string =>
  bytes >= MIB ? `${Math.round(bytes / MIB).toLocaleString('en-US')} MB` : bytes >= 1024 ? `${Math.round(bytes / 1024).toLocaleString('en-US')} KB` : `${bytes} bytes`;

/** Which allowance an untagged response draws from. */
type Bucket = 'messages' | 'folders' | 'statuses' | 'other';
const BUCKETS: readonly Bucket[] = ['messages', 'folders', 'statuses', 'other'];

const BUCKET_OF: Record<string, Bucket> = { FETCH: 'messages', EXPUNGE: 'messages', VANISHED: 'messages', LIST: 'folders', LSUB: 'folders', XLIST: 'folders', STATUS: 'statuses' };

/**
 * Counts the untagged responses a command gets before its tagged answer, by kind: per-message
 * answers (FETCH, EXPUNGE) up to twice the largest EXISTS seen plus MAX_UNTAGGED_PER_COMMAND,
 * folders (LIST, LSUB) and folder statuses (STATUS, also inside LIST-STATUS) up to MAX_FOLDERS
 * each, all others up to MAX_UNTAGGED_PER_COMMAND; bytes of all but per-message answers up to
 * MAX_UNTAGGED_BYTES. Per-message bytes are bounded by their consumers, which keep only what
 * they asked for. Used by the wire session and, through its logger, by imapflow
 * (response-watch.ts).
 */
export class UntaggedBudget {
  private readonly counts: Record<Bucket, number> = { messages: 0, folders: 0, statuses: 0, other: 0 };
  private readonly bytes: Record<Bucket, number> = { messages: 0, folders: 0, statuses: 0, other: 0 };
  private largestExists = 0;

  /**
   * Counts one untagged response (`* ...`, its text as far as it is at hand, and its size in
   * bytes); throws WireProtocolError beyond the allowance.
   */
  count(text: string, size: number): void {
    // Only the head is looked at: `* 12 FETCH`, `* LIST`, `* OK`.
    const head = /^\* (?:(\d{1,20}) )?([A-Za-z.-]{1,20})/.exec(text.slice(0, 48));
    const kind = head?.[2]?.toUpperCase() ?? '';
    if (kind === 'EXISTS' && head?.[1] !== undefined) {
      const exists = Number(head[1]);
      if (exists > MAX_FOLDER_MESSAGES) throw serverOverrun(`${MAX_FOLDER_MESSAGES.toLocaleString('en-US')} messages in one folder`);
      this.largestExists = Math.max(this.largestExists, exists);
    }
    const bucket: Bucket = BUCKET_OF[kind] ?? 'other';
    const count = ++this.counts[bucket];
    this.bytes[bucket] += size;
    if (bucket === 'folders' && count > MAX_FOLDERS) throw serverOverrun(`${MAX_FOLDERS.toLocaleString('en-US')} folders`);
    if (bucket === 'statuses' && count > MAX_FOLDERS) throw serverOverrun(`${MAX_FOLDERS.toLocaleString('en-US')} folder statuses to one command`);
    const allowed = bucket === 'messages' ? 2 * this.largestExists + MAX_UNTAGGED_PER_COMMAND : MAX_UNTAGGED_PER_COMMAND;
    if (bucket !== 'folders' && bucket !== 'statuses' && count > allowed) throw serverOverrun(`${allowed.toLocaleString('en-US')} responses to one command`);
    if (bucket !== 'messages' && this.bytes[bucket] > MAX_UNTAGGED_BYTES) throw serverOverrun(`${formatBytes(MAX_UNTAGGED_BYTES)} of responses to one command`);
  }

  /** A command was answered: the next one starts afresh (the largest EXISTS is kept). */
  reset(): void {
    for (const bucket of BUCKETS) {
      this.counts[bucket] = 0;
      this.bytes[bucket] = 0;
    }
  }
}
