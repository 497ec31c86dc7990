/**
 * The response reader must give the same responses however the socket cuts the byte stream:
 * in the middle of a line, of a CRLF, of a literal marker or of a literal.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseReader, type WireResponse } from './response-reader.js';

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
  return out.map((r) => ({ text: r.text, literals: r.literals.map((l) => l.toString('latin1')) }));
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
