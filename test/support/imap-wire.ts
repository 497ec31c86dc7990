/**
 * An IMAP-aware recorder of what a client says on the wire, so a test can assert that no
 * destructive command was ever sent.
 *
 * The client→server stream is cut into command lines. Literal data (`{N}`, `{N+}`, `~{N}` at the
 * end of a line: the next N bytes are literal, then the command line goes on) is skipped and shown
 * as `{N bytes}`, so a message body that contains the text `a1 EXPUNGE\r\n` is never mistaken for
 * a command. Chunk boundaries may fall anywhere, even inside `{12`. The server→client stream is
 * also read, for three reasons: it records tagged and untagged status lines (handy when a test
 * fails), a tagged reply that arrives while the client waits for `+` before a synchronizing
 * literal means the literal will never come, and a `+` during AUTHENTICATE means the next client
 * line is SASL data, not a command. After a successful STARTTLS or COMPRESS, or when the client's
 * first byte starts a TLS handshake, the stream is opaque and no longer parsed.
 *
 * Used standalone:
 * ```ts
 * const log = new WireLog();
 * const rec = log.connection(1);
 * rec.server(Buffer.from('* OK ready\r\n'));
 * rec.client(Buffer.from('a1 APPEND INBOX {12+}\r\na1 EXPUNGE\r\n\r\n'));
 * log.commands(); // [{ connection: 1, tag: 'a1', name: 'APPEND', line: 'a1 APPEND INBOX {12 bytes}', ... }]
 * findDestructive(log.commands()).destructive; // []
 * ```
 * The fault proxy (`fault-proxy.ts`) feeds one of these for every connection: `proxy.wire()`.
 *
 * LOGIN and AUTHENTICATE arguments are redacted from recorded lines.
 */

/** One command as the client sent it. */
export interface WireCommand {
  /** The proxy's connection number, from 1. */
  connection: number;
  tag: string;
  /** Upper-case command name; UID commands as `UID FETCH`, `UID STORE`, ... */
  name: string;
  /** The command with each literal replaced by `{N bytes}` and credentials redacted, no CRLF. */
  line: string;
  /** False while the command is still arriving (for instance cut off in the middle of a literal). */
  complete: boolean;
  /** True when the fault proxy answered this command itself and never passed it to the server. */
  answeredByProxy: boolean;
}

/** One server line: tagged replies, untagged status replies (OK/NO/BAD/BYE/PREAUTH) and `+`. */
export interface WireResponse {
  connection: number;
  /** `*`, `+`, or the tag of the command it completes. */
  tag: string;
  /** `OK`, `NO`, `BAD`, `BYE`, `PREAUTH`, or '' for a continuation request. */
  status: string;
  line: string;
  /** True when the fault proxy made this line up (an injected reply). */
  injected: boolean;
}

/**
 * A piece of the client stream, as cut by {@link ConnectionRecorder.client}. Concatenating the
 * `bytes` of all segments gives back the stream exactly.
 */
export interface ClientSegment {
  /**
   * `line`: a whole line, CRLF included. `literal`: literal data. `raw`: bytes not parsed (an
   * opaque TLS/COMPRESS stream, or an overlong line passed through in pieces).
   */
  kind: 'line' | 'literal' | 'raw';
  bytes: Buffer;
  /** The command this segment belongs to; undefined for continuation data and `raw`. */
  command?: WireCommand;
  /** The line's text without CRLF (only for `line`), not redacted. */
  text?: string;
  /** This line is the first line of a command. */
  startsCommand: boolean;
  /** This segment ends its command. */
  endsCommand: boolean;
  /** Set on a line that ends with a literal announcement. */
  literal?: { size: number; synchronizing: boolean };
}

/** Why a command could delete or alter mail. */
export interface DestructiveFinding {
  command: WireCommand;
  reason: string;
}

/** What {@link findDestructive} found. */
export interface DestructiveReport {
  /** Commands that can delete, move, rename or alter mail or open a mailbox read-write. */
  destructive: DestructiveFinding[];
  /** Every STORE / UID STORE, whatever the flags (STORE with \Deleted is in both lists). */
  flagChanges: DestructiveFinding[];
}

/** A line held longer than this is passed on in pieces and no longer parsed. */
const MAX_HELD_LINE_BYTES = 1024 * 1024;
/** Server lines are recorded up to this many; later ones are counted, not stored. */
const MAX_RECORDED_RESPONSES = 20_000;
/** Recorded server lines are cut to this many characters (FETCH headers can be long). */
const MAX_RESPONSE_TEXT_CHARS = 500;
/** A literal announcement at the very end of a line: `{12}`, `{12+}`, `~{12}`. */
const LITERAL_AT_END = /(~?)\{(\d{1,12})(\+?)\}$/;
/** Enough of a line's end to hold the longest literal announcement. */
const SERVER_TAIL_BYTES = 24;
const TLS_HANDSHAKE_RECORD = 0x16;
const LF = 0x0a;

/** All connections' commands and responses, in the order they were seen. */
export class WireLog {
  private readonly recorded: WireCommand[] = [];
  private readonly replies: WireResponse[] = [];
  private readonly recorders = new Map<number, ConnectionRecorder>();
  /** Server lines not stored because of {@link MAX_RECORDED_RESPONSES}. */
  droppedResponses = 0;

  /** The recorder of one connection (created on first use). */
  connection(id: number): ConnectionRecorder {
    let recorder = this.recorders.get(id);
    if (!recorder) {
      recorder = new ConnectionRecorder(id, this);
      this.recorders.set(id, recorder);
    }
    return recorder;
  }

  /** Copies of every command seen so far, in order, including incomplete ones. */
  commands(): WireCommand[] {
    return this.recorded.map((command) => ({ ...command }));
  }

  /** Copies of the recorded server status lines. */
  responses(): WireResponse[] {
    return this.replies.map((response) => ({ ...response }));
  }

  /** Shorthand for `findDestructive(this.commands())`. */
  destructive(): DestructiveReport {
    return findDestructive(this.commands());
  }

  /** Forgets what was recorded (connections keep their parsing state). */
  clear(): void {
    this.recorded.length = 0;
    this.replies.length = 0;
    this.droppedResponses = 0;
  }

  /** @internal */
  addCommand(command: WireCommand): void {
    this.recorded.push(command);
  }

  /** @internal */
  addResponse(response: WireResponse): void {
    if (this.replies.length >= MAX_RECORDED_RESPONSES) {
      this.droppedResponses++;
      return;
    }
    this.replies.push(response);
  }
}

/**
 * Parses one connection's two streams. Feed client bytes to {@link client} and server bytes to
 * {@link server} in the order they arrive; each may be cut anywhere.
 */
export class ConnectionRecorder {
  // client side
  private clientMode: 'line' | 'literal' = 'line';
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Inside an overlong line that is being passed through unparsed. */
  private skippingLongLine = false;
  private literalLeft = 0;
  /** A synchronizing literal was announced and no byte of it has arrived yet. */
  private awaitingContinuation = false;
  private current: WireCommand | undefined;
  /** Text parts of the current command, literals replaced. */
  private currentParts: string[] = [];
  private idleTag: string | undefined;
  private saslTag: string | undefined;
  private saslLinesExpected = 0;
  /** Tags of STARTTLS / COMPRESS commands waiting for their reply. */
  private readonly opaqueIfOk = new Set<string>();
  private opaque = false;
  private sawClientByte = false;
  /** Commands sent and not yet answered with a tagged reply, in the order sent. */
  private readonly unanswered: WireCommand[] = [];

  // server side
  private serverMode: 'line' | 'literal' = 'line';
  private serverHead: Buffer[] = [];
  private serverHeadBytes = 0;
  private serverTail = Buffer.alloc(0);
  private serverLinePending = false;
  /** The current server line had a literal; what follows it continues that response. */
  private serverAfterLiteral = false;
  private serverLiteralLeft = 0;

  constructor(
    readonly id: number,
    private readonly log: WireLog,
  ) {}

  /** True when the server stream is between lines (nothing of a line or literal pending). */
  get serverAtLineStart(): boolean {
    return this.opaque || (this.serverMode === 'line' && !this.serverLinePending && !this.serverAfterLiteral);
  }

  /**
   * True when a command sent before `command` still waits for its tagged reply (a server answers
   * in order, so a reply made up for `command` must wait for those).
   */
  hasUnansweredBefore(command: WireCommand): boolean {
    const index = this.unanswered.indexOf(command);
    return index < 0 ? this.unanswered.length > 0 : index > 0;
  }

  /** True once the stream is opaque (TLS, COMPRESS) and no longer parsed. */
  get isOpaque(): boolean {
    return this.opaque;
  }

  /**
   * Takes client bytes and returns them cut into segments. A partial line is held back until its
   * end arrives (or it grows past 1 MiB), so what is returned may be less than what was given;
   * {@link endClient} returns whatever is still held.
   */
  client(chunk: Buffer): ClientSegment[] {
    const segments: ClientSegment[] = [];
    if (chunk.length === 0) {
      return segments;
    }
    if (!this.sawClientByte) {
      this.sawClientByte = true;
      if (chunk[0] === TLS_HANDSHAKE_RECORD) {
        this.opaque = true;
      }
    }
    let pos = 0;
    // Each pass consumes at least one byte or ends the loop.
    while (pos < chunk.length) {
      if (this.opaque) {
        segments.push(...this.takeHeldAsRaw());
        segments.push(rawSegment(chunk.subarray(pos)));
        break;
      }
      if (this.clientMode === 'literal') {
        const take = Math.min(this.literalLeft, chunk.length - pos);
        this.awaitingContinuation = false;
        this.literalLeft -= take;
        pos += take;
        if (this.literalLeft === 0) {
          this.clientMode = 'line';
        }
        segments.push({
          kind: 'literal',
          bytes: chunk.subarray(pos - take, pos),
          command: this.current,
          startsCommand: false,
          endsCommand: false,
        });
        continue;
      }
      const lf = chunk.indexOf(LF, pos);
      if (this.skippingLongLine) {
        const end = lf < 0 ? chunk.length : lf + 1;
        segments.push(rawSegment(chunk.subarray(pos, end)));
        pos = end;
        if (lf >= 0) {
          this.skippingLongLine = false;
          this.finishCommand();
        }
        continue;
      }
      if (lf < 0) {
        this.held.push(chunk.subarray(pos));
        this.heldBytes += chunk.length - pos;
        pos = chunk.length;
        if (this.heldBytes > MAX_HELD_LINE_BYTES) {
          this.skippingLongLine = true;
          this.currentParts.push('…(overlong line, not parsed)');
          segments.push(...this.takeHeldAsRaw());
        }
        continue;
      }
      this.held.push(chunk.subarray(pos, lf + 1));
      pos = lf + 1;
      const bytes = Buffer.concat(this.held);
      this.held = [];
      this.heldBytes = 0;
      segments.push(this.clientLine(bytes));
    }
    return segments;
  }

  /** The client closed its side: returns any partial line still held, as `raw`. */
  endClient(): ClientSegment[] {
    return this.takeHeldAsRaw();
  }

  /**
   * Takes server bytes (nothing is held back from the caller: this only observes).
   * `injected` marks lines that the fault proxy made up.
   */
  server(chunk: Buffer, options: { injected?: boolean } = {}): void {
    let pos = 0;
    while (pos < chunk.length && !this.opaque) {
      if (this.serverMode === 'literal') {
        const take = Math.min(this.serverLiteralLeft, chunk.length - pos);
        this.serverLiteralLeft -= take;
        pos += take;
        if (this.serverLiteralLeft === 0) {
          this.serverMode = 'line';
        }
        continue;
      }
      const lf = chunk.indexOf(LF, pos);
      const end = lf < 0 ? chunk.length : lf;
      this.keepServerLinePart(chunk.subarray(pos, end));
      if (lf < 0) {
        break;
      }
      pos = lf + 1;
      const head = stripCr(Buffer.concat(this.serverHead).toString('utf8'));
      const tail = stripCr(this.serverTail.toString('latin1'));
      this.serverHead = [];
      this.serverHeadBytes = 0;
      this.serverTail = Buffer.alloc(0);
      const literal = LITERAL_AT_END.exec(tail);
      const isContinuation = this.serverAfterLiteral;
      if (literal) {
        // The response goes on after the literal: the server is mid-line until a plain LF.
        this.serverLiteralLeft = Number(literal[2]);
        this.serverMode = this.serverLiteralLeft > 0 ? 'literal' : 'line';
        this.serverAfterLiteral = true;
      } else {
        this.serverAfterLiteral = false;
        this.serverLinePending = false;
      }
      if (!isContinuation) {
        this.serverLine(head, options.injected === true);
      }
    }
  }

  /** Keeps the start of a server line (for the record) and its last bytes (for a literal). */
  private keepServerLinePart(part: Buffer): void {
    if (this.serverHeadBytes < MAX_RESPONSE_TEXT_CHARS * 4) {
      this.serverHead.push(part);
      this.serverHeadBytes += part.length;
    }
    const joined = Buffer.concat([this.serverTail, part]);
    this.serverTail = joined.subarray(Math.max(0, joined.length - SERVER_TAIL_BYTES));
    this.serverLinePending = this.serverLinePending || part.length > 0;
  }

  private clientLine(bytes: Buffer): ClientSegment {
    const text = stripCr(bytes.toString('utf8'));
    const literalMatch = LITERAL_AT_END.exec(text);
    const literal = literalMatch
      ? { size: Number(literalMatch[2]), synchronizing: literalMatch[3] !== '+' }
      : undefined;

    // A continuation of a command whose literal just ended.
    if (this.current && !this.current.complete) {
      const command = this.current;
      this.appendText(text, literal);
      const segment: ClientSegment = { kind: 'line', bytes, command, text, startsCommand: false, endsCommand: false };
      if (literal) {
        segment.literal = literal;
      } else {
        segment.endsCommand = true;
        this.finishCommand();
      }
      return segment;
    }

    // Lines that answer a continuation request rather than start a command.
    if (this.idleTag !== undefined && /^DONE$/i.test(text)) {
      this.idleTag = undefined;
      return { kind: 'line', bytes, text, startsCommand: false, endsCommand: true };
    }
    if (this.saslTag !== undefined && this.saslLinesExpected > 0) {
      this.saslLinesExpected--;
      return { kind: 'line', bytes, text, startsCommand: false, endsCommand: true };
    }

    const words = text.split(' ');
    const tag = words[0] ?? '';
    let name = (words[1] ?? '').toUpperCase();
    if (name === 'UID' && words[2]) {
      name = `UID ${words[2].toUpperCase()}`;
    }
    const command: WireCommand = {
      connection: this.id,
      tag,
      name,
      line: '',
      complete: false,
      answeredByProxy: false,
    };
    this.current = command;
    this.currentParts = [];
    this.log.addCommand(command);
    this.unanswered.push(command);
    this.appendText(text, literal);
    if (name === 'IDLE') {
      this.idleTag = tag;
    } else if (name === 'AUTHENTICATE') {
      this.saslTag = tag;
      this.saslLinesExpected = 0;
    } else if (name === 'STARTTLS' || name === 'COMPRESS') {
      this.opaqueIfOk.add(tag);
    }
    const segment: ClientSegment = { kind: 'line', bytes, command, text, startsCommand: true, endsCommand: false };
    if (literal) {
      segment.literal = literal;
    } else {
      segment.endsCommand = true;
      this.finishCommand();
    }
    return segment;
  }

  /** Adds a line's text to the current command and enters literal mode if it announces one. */
  private appendText(text: string, literal: { size: number; synchronizing: boolean } | undefined): void {
    const command = this.current;
    if (!command) {
      return;
    }
    if (literal) {
      const marker = LITERAL_AT_END.exec(text);
      const before = marker ? text.slice(0, marker.index) : text;
      this.currentParts.push(before, `${marker?.[1] ?? ''}{${literal.size} bytes}`);
      if (literal.size > 0) {
        this.clientMode = 'literal';
        this.literalLeft = literal.size;
        this.awaitingContinuation = literal.synchronizing;
      }
    } else {
      this.currentParts.push(text);
    }
    command.line = redact(command, this.currentParts.join(''));
  }

  private finishCommand(): void {
    if (this.current) {
      this.current.complete = true;
    }
    this.current = undefined;
    this.currentParts = [];
  }

  private serverLine(text: string, injected: boolean): void {
    const space = text.indexOf(' ');
    const tag = space < 0 ? text : text.slice(0, space);
    const rest = space < 0 ? '' : text.slice(space + 1);
    const status = (rest.split(' ', 1)[0] ?? '').toUpperCase();

    if (tag === '+') {
      if (this.saslTag !== undefined && !this.awaitingContinuation) {
        this.saslLinesExpected++;
      }
      this.record({ tag, status: '', text, injected });
      return;
    }
    const isStatus = ['OK', 'NO', 'BAD', 'BYE', 'PREAUTH'].includes(status);
    if (!isStatus) {
      return;
    }
    this.record({ tag, status, text, injected });
    if (tag === '*') {
      if (status === 'BYE') {
        this.unanswered.length = 0;
      }
      return;
    }
    const answered = this.unanswered.findIndex((command) => command.tag === tag);
    if (answered >= 0) {
      this.unanswered.splice(answered, 1);
    }
    // A tagged reply ends its command's conversation.
    if (this.current && this.current.tag === tag && this.awaitingContinuation) {
      // The server refused the command instead of sending "+": the literal never comes.
      this.clientMode = 'line';
      this.literalLeft = 0;
      this.awaitingContinuation = false;
      this.finishCommand();
    }
    if (tag === this.saslTag) {
      this.saslTag = undefined;
      this.saslLinesExpected = 0;
    }
    if (tag === this.idleTag) {
      this.idleTag = undefined;
    }
    if (this.opaqueIfOk.delete(tag) && status === 'OK') {
      this.opaque = true;
    }
  }

  private record(response: { tag: string; status: string; text: string; injected: boolean }): void {
    this.log.addResponse({
      connection: this.id,
      tag: response.tag,
      status: response.status,
      line: response.text.length > MAX_RESPONSE_TEXT_CHARS ? `${response.text.slice(0, MAX_RESPONSE_TEXT_CHARS)}…` : response.text,
      injected: response.injected,
    });
  }

  private takeHeldAsRaw(): ClientSegment[] {
    if (this.heldBytes === 0) {
      return [];
    }
    const bytes = Buffer.concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    return [rawSegment(bytes)];
  }
}

function rawSegment(bytes: Buffer): ClientSegment {
  return { kind: 'raw', bytes, startsCommand: false, endsCommand: false };
}

function stripCr(text: string): string {
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text.endsWith('\r') ? text.slice(0, -1) : text;
}

/** Keeps passwords and SASL data out of recorded lines. */
function redact(command: WireCommand, line: string): string {
  if (command.name === 'LOGIN') {
    return `${command.tag} LOGIN [redacted]`;
  }
  if (command.name === 'AUTHENTICATE') {
    const mechanism = line.split(' ')[2] ?? '';
    return `${command.tag} AUTHENTICATE ${mechanism}${line.split(' ').length > 3 ? ' [redacted]' : ''}`;
  }
  return line;
}

/** FETCH items that set \Seen: BODY[...] and BINARY[...] without .PEEK, RFC822, RFC822.TEXT. */
const SEEN_SETTING_FETCH_ITEM = /(?:^|[\s(])(BODY\[|BINARY\[|RFC822(?:\.TEXT)?(?![.\w]))/i;

/**
 * Returns every command that could delete or alter mail: STORE/UID STORE with \Deleted, EXPUNGE,
 * UID EXPUNGE, DELETE, RENAME, MOVE, UID MOVE, SELECT (a source must be opened with EXAMINE),
 * CLOSE after SELECT (it expunges), and FETCH/UID FETCH of BODY[ / BINARY[ without .PEEK or of
 * RFC822 / RFC822.TEXT (they set \Seen). Every STORE at all is also listed in `flagChanges`.
 * Commands answered by the proxy itself are included: what matters is what the client tried.
 */
export function findDestructive(commands: readonly WireCommand[]): DestructiveReport {
  const report: DestructiveReport = { destructive: [], flagChanges: [] };
  // The last mailbox-opening command per connection decides whether CLOSE expunges.
  const openedWith = new Map<number, 'SELECT' | 'EXAMINE'>();
  for (const command of commands) {
    const flag = (reason: string): void => {
      report.destructive.push({ command, reason });
    };
    const args = command.line.slice(command.tag.length + 1 + command.name.length);
    switch (command.name) {
      case 'STORE':
      case 'UID STORE':
        report.flagChanges.push({ command, reason: 'changes flags' });
        if (/\\Deleted\b/i.test(args) && !/(^|\s)-FLAGS/i.test(args)) {
          flag('marks messages \\Deleted');
        }
        break;
      case 'EXPUNGE':
      case 'UID EXPUNGE':
        flag('removes \\Deleted messages');
        break;
      case 'DELETE':
        flag('deletes a mailbox');
        break;
      case 'RENAME':
        flag('renames a mailbox');
        break;
      case 'MOVE':
      case 'UID MOVE':
        flag('moves messages out of the mailbox');
        break;
      case 'SELECT':
        openedWith.set(command.connection, 'SELECT');
        flag('opens a mailbox read-write (a source must use EXAMINE)');
        break;
      case 'EXAMINE':
        openedWith.set(command.connection, 'EXAMINE');
        break;
      case 'CLOSE':
        if (openedWith.get(command.connection) !== 'EXAMINE') {
          flag('CLOSE after SELECT expunges \\Deleted messages');
        }
        openedWith.delete(command.connection);
        break;
      case 'FETCH':
      case 'UID FETCH': {
        const item = SEEN_SETTING_FETCH_ITEM.exec(args);
        if (item) {
          flag(`fetches ${item[1]} without .PEEK, which sets \\Seen`);
        }
        break;
      }
      default:
        break;
    }
  }
  return report;
}
