/**
 * A message's bytes as a store hands them on: one Buffer, or the pieces of the socket reads a
 * large FETCH literal arrived in (response-reader.ts). Pieces go from the source's reads to the
 * destination's socket as they are: joining them would copy every byte once more and allocate
 * as much again, and on a copy of gigabytes that second allocation is what the garbage
 * collector spends its time on. Only a consumer that needs one contiguous Buffer (an archive
 * file's header, a fingerprint) joins them, with `joinedBytes`.
 *
 * `length` is the byte count for both forms, so sizes read the same whichever form a store gives.
 */
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
