/**
 * Reads server responses from a byte stream: lines ending in CRLF, `{n}` literals collected into
 * Buffers, one WireResponse per response however the socket cuts the stream. A literal of
 * PIECED_FROM_BYTES or more (a message body, in practice) is not copied: it is kept as views of
 * the chunks it came in (PiecedBytes), which the copy path writes to the destination as they are.
 *
 * Invariants:
 * - Linear in the bytes received: each byte is searched and copied a bounded number of times,
 *   however many chunks a line comes in (a line without CRLF is kept as a list of chunks and
 *   joined once, never re-scanned or re-copied with every chunk).
 * - Bounded: a response's text beyond `maxLineBytes`, a literal beyond `maxLiteralBytes`, a
 *   response's literals beyond `maxResponseLiteralBytes` or MAX_RESPONSE_LITERALS, or a FETCH
 *   literal beyond the
 *   RFC822.SIZE the same response announced before it (server-limits.ts) throw
 *   WireProtocolError before the memory is taken. The one exception: a message whose announced
 *   RFC822.SIZE and literal agree but exceed `maxLiteralBytes` is read past without being kept,
 *   and its response says so (`oversized`), so that one message fails and not its folder.
 * - Throws nothing but WireProtocolError (and what `onResponse` throws).
 */
import { PiecedBytes, type MessageBytes } from '../engine/message-bytes.js';
import { formatBytes, literalAllowance, MAX_LINE_BYTES, MAX_LITERAL_BYTES, MAX_RESPONSE_LITERAL_BYTES, MAX_RESPONSE_LITERALS, serverOverrun } from './server-limits.js';

/** One server response: its text (literals shown as their `{n}` markers) and the literals in order. */
export interface WireResponse {
  text: string;
  literals: MessageBytes[];
  /**
   * Set when a literal was not kept because it is larger than Mailferry holds in memory, although
   * the server announced exactly that size (RFC822.SIZE): its size. Its place in `literals` holds
   * an empty Buffer.
   */
  oversized?: number;
}

export interface ReaderLimits {
  maxLineBytes: number;
  maxLiteralBytes: number;
  maxResponseLiteralBytes: number;
}

/** IMAP's number: RFC822.SIZE and literal sizes are 32-bit. */
const MAX_NUMBER = 0xffff_ffff;
const CR = 0x0d;
const CRLF = Buffer.from('\r\n', 'latin1');
/**
 * Literals from this size on are kept as views of the chunks they arrived in. Smaller ones are
 * copied: they cost little to copy, and a small literal kept for long (a header) should not hold
 * a whole read chunk in memory.
 */
export const PIECED_FROM_BYTES = 16 * 1024;

/** The size of a `{n}`, `{n+}` or `~{n}` marker ending `line`, or undefined when it has none. */
const literalMarkerSize = (line: string): number | undefined => {
  if (!line.endsWith('}')) return undefined;
  let i = line.length - 2;
  if (line[i] === '+') i--;
  const end = i + 1;
  while (i >= 0 && line.charCodeAt(i) >= 0x30 && line.charCodeAt(i) <= 0x39) i--;
  if (i < 0 || line[i] !== '{' || i + 1 === end) return undefined;
  // More digits than any 32-bit number has: as large as can be, refused below.
  return end - (i + 1) > 10 ? Infinity : Number(line.slice(i + 1, end));
};

export class ResponseReader {
  private readonly limits: ReaderLimits;
  /** The start of a line whose CRLF has not arrived yet, chunk by chunk. */
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  /** The pieces end in CR: the LF may start the next chunk. */
  private isCrPending = false;
  /** The response so far: its finished lines (each ending in a literal marker). */
  private text = '';
  private literals: MessageBytes[] = [];
  private literalBytes = 0;
  private isFetch = false;
  /** The RFC822.SIZE this FETCH response announced (the last one, before the literal at hand). */
  private announced?: number;
  private oversized?: number;
  /** The literal being read: a Buffer to fill, or (PIECED_FROM_BYTES and more) views of the chunks. */
  private literal?: { buffer: Buffer; filled: number } | { pieces: Buffer[]; filled: number; size: number };
  /** Bytes of an oversized literal still to read past. */
  private skipping = 0;

  constructor(
    private readonly onResponse: (response: WireResponse) => void,
    limits: Partial<ReaderLimits> = {},
  ) {
    this.limits = { maxLineBytes: MAX_LINE_BYTES, maxLiteralBytes: MAX_LITERAL_BYTES, maxResponseLiteralBytes: MAX_RESPONSE_LITERAL_BYTES, ...limits };
  }

  /** Bytes held for the response being read (a line's pieces, its text, its literals so far). */
  get heldBytes(): number {
    return this.pieceBytes + this.text.length + this.literalBytes;
  }

  /** Takes the next bytes from the server. Large literals keep views of `chunk`: it must not be written to afterwards. */
  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.skipping > 0) {
        const take = Math.min(this.skipping, chunk.length - pos);
        this.skipping -= take;
        pos += take;
        if (this.skipping === 0) this.literals.push(Buffer.alloc(0));
        continue;
      }
      const literal = this.literal;
      if (literal && 'pieces' in literal) {
        const take = Math.min(literal.size - literal.filled, chunk.length - pos);
        literal.pieces.push(chunk.subarray(pos, pos + take));
        literal.filled += take;
        pos += take;
        if (literal.filled === literal.size) {
          this.literals.push(new PiecedBytes(literal.pieces));
          this.literal = undefined;
        }
        continue;
      }
      if (literal) {
        const { buffer } = literal;
        const take = Math.min(buffer.length - literal.filled, chunk.length - pos);
        chunk.copy(buffer, literal.filled, pos, pos + take);
        literal.filled += take;
        pos += take;
        if (literal.filled === buffer.length) {
          this.literals.push(buffer);
          this.literal = undefined;
        }
        continue;
      }
      if (this.isCrPending && pos === 0 && chunk[0] === 0x0a) {
        // The CRLF itself was split between two chunks.
        const line = Buffer.concat(this.pieces, this.pieceBytes).toString('latin1', 0, this.pieceBytes - 1);
        this.clearPieces();
        pos = 1;
        this.endLine(line);
        continue;
      }
      const eol = chunk.indexOf(CRLF, pos);
      if (eol < 0) {
        this.checkLine(this.pieceBytes + chunk.length - pos);
        // A copy: the chunk's memory is not ours to keep.
        this.pieces.push(Buffer.from(chunk.subarray(pos)));
        this.pieceBytes += chunk.length - pos;
        this.isCrPending = chunk[chunk.length - 1] === CR;
        return;
      }
      this.checkLine(this.pieceBytes + eol - pos);
      const line =
        this.pieces.length === 0 ? chunk.toString('latin1', pos, eol) : Buffer.concat([...this.pieces, chunk.subarray(pos, eol)], this.pieceBytes + eol - pos).toString('latin1');
      this.clearPieces();
      pos = eol + 2;
      this.endLine(line);
    }
  }

  private clearPieces(): void {
    this.pieces = [];
    this.pieceBytes = 0;
    this.isCrPending = false;
  }

  private checkLine(lineBytes: number): void {
    if (this.text.length + lineBytes > this.limits.maxLineBytes) throw serverOverrun(`${formatBytes(this.limits.maxLineBytes)} in one response line`);
  }

  /** A line of the response is complete: wait for its literal, or hand the response on. */
  private endLine(line: string): void {
    if (this.text.length === 0 && this.literals.length === 0) this.isFetch = /^\* \d+ FETCH/i.test(line.slice(0, 32));
    if (this.isFetch) {
      // Each line is searched once, so a response of many literals stays linear.
      const item = /RFC822\.SIZE (\d{1,10})\b/gi;
      for (let m = item.exec(line); m; m = item.exec(line)) this.announced = Number(m[1]);
    }
    this.text += line;
    const size = literalMarkerSize(line);
    if (size === undefined) {
      const response: WireResponse = { text: this.text, literals: this.literals, ...(this.oversized !== undefined ? { oversized: this.oversized } : {}) };
      this.text = '';
      this.literals = [];
      this.literalBytes = 0;
      this.isFetch = false;
      this.announced = undefined;
      this.oversized = undefined;
      this.onResponse(response);
      return;
    }
    this.startLiteral(size);
  }

  private startLiteral(size: number): void {
    const { maxLiteralBytes, maxResponseLiteralBytes } = this.limits;
    if (this.literals.length >= MAX_RESPONSE_LITERALS) throw serverOverrun(`${MAX_RESPONSE_LITERALS.toLocaleString('en-US')} literals in one response`);
    const announced = this.announced;
    if (announced !== undefined && this.literalBytes + size > literalAllowance(announced)) {
      throw serverOverrun(`the ${formatBytes(announced)} it announced for a message`);
    }
    if (size > maxLiteralBytes) {
      // An honest message too large to hold: read past it, and let it fail alone.
      if (announced !== undefined && announced > maxLiteralBytes && size <= MAX_NUMBER && this.oversized === undefined) {
        this.oversized = size;
        this.skipping = size;
        return;
      }
      throw serverOverrun(`${formatBytes(maxLiteralBytes)} in one message`);
    }
    if (this.literalBytes + size > maxResponseLiteralBytes) throw serverOverrun(`${formatBytes(maxResponseLiteralBytes)} in one response`);
    this.literalBytes += size;
    if (size === 0) this.literals.push(Buffer.alloc(0));
    else if (size >= PIECED_FROM_BYTES) this.literal = { pieces: [], filled: 0, size };
    else this.literal = { buffer: Buffer.allocUnsafe(size), filled: 0 };
  }
}
