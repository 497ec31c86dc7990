/**
 * The response reader must give the same responses however the socket cuts the byte stream:
 * in the middle of a line, of a CRLF, of a literal marker or of a literal.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { joinedBytes, PiecedBytes } from '../engine/message-bytes.js';
import { PIECED_FROM_BYTES, ResponseReader, type WireResponse } from './response-reader.js';

const STREAM = Buffer.from(
  [
    '* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n',
    '* 1 FETCH (UID 7 BODY[] {12}\r\nHello\r\nWorld)\r\n',
    '* 2 FETCH (UID 8 BODY[HEADER.FIELDS (SUBJECT)] {0}\r\n FLAGS (\\Seen))\r\n',
    '* 3 FETCH (UID 9 BODY[] {4}\r\n\r\n\r\n INTERNALDATE "22-Nov-2026 03:00:00 +0000")\r\n',
    'A1 OK done\r\n',
  ].join(''),
  'latin1',
);

const read = (chunks: Buffer[]): { text: string; literals: string[] }[] => {
  const out: WireResponse[] = [];
  const reader = new ResponseReader((r) => out.push(r));
  for (const chunk of chunks) reader.push(chunk);
  return out.map((r) => ({ text: r.text, literals: r.literals.map((l) => joinedBytes(l).toString('latin1')) }));
};

test('a stream read whole gives its five responses with their literals', () => {
  const whole = read([STREAM]);
  assert.equal(whole.length, 5);
  assert.deepEqual(whole[1], { text: '* 1 FETCH (UID 7 BODY[] {12})', literals: ['Hello\r\nWorld'] });
  assert.deepEqual(whole[2]?.literals, ['']);
  assert.deepEqual(whole[3]?.literals, ['\r\n\r\n']);
  assert.equal(whole[4]?.text, 'A1 OK done');
});

test('cut in two at every byte, or fed one byte at a time, the responses are the same', () => {
  const whole = read([STREAM]);
  for (let at = 0; at <= STREAM.length; at++) {
    assert.deepEqual(read([STREAM.subarray(0, at), STREAM.subarray(at)]), whole, `cut at ${at}`);
  }
  assert.deepEqual(read([...STREAM].map((b) => Buffer.from([b]))), whole, 'one byte at a time');
});

test('a large literal comes as views of the chunks it arrived in, the same bytes however the stream is cut', () => {
  const body = (size: number, seed: number): string => Array.from({ length: size }, (_, i) => String.fromCharCode(32 + ((i * 7 + seed) % 90))).join('');
  const big = body(100_000, 1);
  const atLimit = body(PIECED_FROM_BYTES, 2);
  const below = body(PIECED_FROM_BYTES - 1, 3);
  const stream = Buffer.from(
    `* 1 FETCH (UID 1 BODY[] {${big.length}}\r\n${big} FLAGS ())\r\n* 2 FETCH (UID 2 BODY[] {${atLimit.length}}\r\n${atLimit} BODY[HEADER] {${below.length}}\r\n${below})\r\nA1 OK done\r\n`,
    'latin1',
  );
  const expected = [[big], [atLimit, below], []];
  for (const chunkSize of [1, 7, 1000, 16 * 1024, 64 * 1024, stream.length]) {
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; at += chunkSize) chunks.push(Buffer.from(stream.subarray(at, at + chunkSize)));
    const out: WireResponse[] = [];
    const reader = new ResponseReader((r) => out.push(r));
    for (const chunk of chunks) reader.push(chunk);
    assert.deepEqual(
      out.map((r) => r.literals.map((l) => joinedBytes(l).toString('latin1'))),
      expected,
      `chunks of ${chunkSize}`,
    );
    const [large, atFloor, small] = [out[0]?.literals[0], out[1]?.literals[0], out[1]?.literals[1]];
    assert.ok(large instanceof PiecedBytes && atFloor instanceof PiecedBytes, `chunks of ${chunkSize}: large literals kept as pieces`);
    assert.ok(Buffer.isBuffer(small), `chunks of ${chunkSize}: a literal below ${PIECED_FROM_BYTES} bytes is copied into a Buffer of its own`);
    const chunkMemory = new Set(chunks.map((c) => c.buffer));
    assert.ok(large.pieces.every((piece) => chunkMemory.has(piece.buffer)), `chunks of ${chunkSize}: pieces are views of the chunks, not copies`);
    assert.equal(large.length, big.length);
  }
});
