/**
 * A message's bytes as a store hands them on: one Buffer, or the pieces of the socket reads a
 * large FETCH literal arrived in (response-reader.ts). Pieces go from the source's reads to the
 * destination's socket as they are: joining them would copy every byte once more and allocate
 * as much again, and on a copy of gigabytes that second allocation is what the garbage
 * collector spends its time on. Archives write the pieces as they are and join only the header
 * (`headerBlockOf`); what needs one contiguous Buffer joins them with `joinedBytes`.
 *
 * `length` is the byte count for both forms, so sizes read the same whichever form a store gives.
 */
import { headerBlockEnd } from './fingerprint.js';

/** A message's bytes in the pieces they arrived in. */
export class PiecedBytes {
  readonly length: number;

  /** `pieces` are never changed afterwards (they are views of reads nobody writes to again). */
  constructor(readonly pieces: readonly Buffer[]) {
    let length = 0;
    for (const piece of pieces) length += piece.length;
    this.length = length;
  }
}

export type MessageBytes = Buffer | PiecedBytes;

export const isMessageBytes = (value: unknown): value is MessageBytes => Buffer.isBuffer(value) || value instanceof PiecedBytes;

/** The bytes in order, as Buffers to write one after another. */
export const piecesOf = (bytes: MessageBytes): readonly Buffer[] => (Buffer.isBuffer(bytes) ? [bytes] : bytes.pieces);

/** One contiguous Buffer (a copy only for pieces). */
export const joinedBytes = (bytes: MessageBytes): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.concat(bytes.pieces as Buffer[], bytes.length));

/** True when the bytes hold a NUL (such a message needs BINARY's `~{n}` literal to be appended). */
export const hasNulByte = (bytes: MessageBytes): boolean => piecesOf(bytes).some((piece) => piece.includes(0));

/** Pieces are joined in growing prefixes of at least this size while the header's end is sought. */
const HEADER_PREFIX_BYTES = 64 * 1024;

/**
 * The header block (up to and with the blank line, or everything when there is none) as one
 * Buffer, joining only as many pieces as it takes: archives parse it and fingerprint it without
 * joining a large body (which would hold the message in memory twice).
 */
export const headerBlockOf = (bytes: MessageBytes): Buffer => {
  if (Buffer.isBuffer(bytes)) return bytes.subarray(0, headerBlockEnd(bytes));
  const { pieces } = bytes;
  let taken = 0;
  let prefixBytes = 0;
  // The prefix at least doubles each round, so a header without end costs linear time.
  for (let want = HEADER_PREFIX_BYTES; ; want = Math.max(want * 2, prefixBytes * 2)) {
    while (taken < pieces.length && prefixBytes < want) prefixBytes += (pieces[taken++] as Buffer).length;
    const prefix = Buffer.concat(pieces.slice(0, taken) as Buffer[], prefixBytes);
    const end = headerBlockEnd(prefix);
    // An end found before the prefix's last byte is the end: a blank line cannot start later.
    if (end < prefix.length || taken === pieces.length) return prefix.subarray(0, end);
  }
};
