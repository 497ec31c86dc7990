import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headerBlockEnd } from './fingerprint.js';
import { hasNulByte, headerBlockOf, joinedBytes, PiecedBytes, piecesOf } from './message-bytes.js';

const cut = (raw: Buffer, sizes: number[]): PiecedBytes => {
  const pieces: Buffer[] = [];
  for (let at = 0, i = 0; at < raw.length; i++) {
    const size = sizes[i % sizes.length] as number;
    pieces.push(raw.subarray(at, at + size));
    at += size;
  }
  return new PiecedBytes(pieces);
};

test('the header block of pieces is that of the joined message, however it is cut and however long the header', () => {
  const body = Buffer.alloc(300_000, 'b');
  const messages = [
    Buffer.concat([Buffer.from('Subject: a\r\nFrom: x@example\r\n\r\n'), body]),
    Buffer.concat([Buffer.from('Subject: lf only\nFrom: x@example\n\n'), body]),
    Buffer.concat([Buffer.from(`X-Long: ${'h'.repeat(200_000)}\r\n\r\n`), body]),
    Buffer.from(`Subject: no blank line at all ${'n'.repeat(150_000)}\r\n`),
    Buffer.from('Subject: ends exactly at the blank line\r\n\r\n'),
  ];
  for (const [m, raw] of messages.entries()) {
    const expected = raw.subarray(0, headerBlockEnd(raw));
    for (const sizes of [[1], [2, 3], [7], [4096], [16 * 1024], [64 * 1024], [65_535, 1], [raw.length]]) {
      const pieces = cut(raw, sizes);
      assert.equal(pieces.length, raw.length);
      assert.ok(joinedBytes(pieces).equals(raw));
      assert.ok(headerBlockOf(pieces).equals(expected), `message ${m}, pieces of ${sizes.join('/')}`);
    }
    assert.ok(headerBlockOf(raw).equals(expected), `message ${m} as one Buffer`);
  }
});

test('a NUL is found in whichever piece holds it; pieces of a Buffer are the Buffer itself', () => {
  const raw = Buffer.from('Subject: x\r\n\r\nabc\0def');
  assert.equal(hasNulByte(cut(raw, [3])), true);
  assert.equal(hasNulByte(cut(Buffer.from('Subject: x\r\n\r\nabcdef'), [3])), false);
  assert.deepEqual(piecesOf(raw), [raw]);
});
