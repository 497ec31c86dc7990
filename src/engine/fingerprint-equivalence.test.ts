/**
 * Fingerprints are written into journals and compared across versions: the faster header
 * parser must give exactly what the first one gave, for any bytes. The first implementation
 * is kept here, verbatim, as the reference.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { FINGERPRINT_HEADERS, fingerprintFromHeaders, parseHeaderFields, type HeaderField } from './fingerprint.js';

const referenceParse = (block: Buffer): HeaderField[] => {
  const text = block.toString('latin1');
  const fields: HeaderField[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  for (const f of fields) f.value = f.value.replace(/\s+/g, ' ');
  return fields;
};

const referenceSet = new Set<string>(FINGERPRINT_HEADERS);
const referenceFingerprint = (block: Buffer, size: number): string => {
  const hash = createHash('sha256');
  hash.update(`size:${size}\n`);
  for (const field of referenceParse(block)) {
    if (!referenceSet.has(field.name.toUpperCase())) continue;
    hash.update(`${field.name}:${field.value}\n`);
  }
  return hash.digest('base64url').slice(0, 32);
};

/** A deterministic generator (xorshift), so a failure can be reproduced. */
const random = (seed: number) => {
  let x = seed >>> 0 || 1;
  return (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
};

// Pieces that stress the edges: CR/LF in every combination, folding, NBSP (\s in JavaScript),
// tabs, colons in odd places, 8-bit bytes, names in any case.
const PIECES = ['\r\n', '\n', '\r', ' ', '  ', '\t', '\xa0', ':', ' : ', 'Subject', 'subject', 'FROM', 'To', 'Message-ID', 'Date', 'X-Other', 'a', 'b c', '<id@x>', '\xe9\xff', '\r\n ', '\r\n\t', '\r\n\r\n', '\x00', '\v', '\f'];

test('the header parser and the fingerprint agree with the first implementation on 20,000 random blocks', () => {
  const next = random(20261122);
  for (let i = 0; i < 20_000; i++) {
    let text = '';
    const parts = 1 + next(24);
    for (let p = 0; p < parts; p++) text += PIECES[next(PIECES.length)];
    const block = Buffer.from(text, 'latin1');
    assert.deepEqual(parseHeaderFields(block), referenceParse(block), JSON.stringify(text));
    assert.equal(fingerprintFromHeaders(block, i), referenceFingerprint(block, i), JSON.stringify(text));
  }
});

test('and on realistic header blocks', () => {
  const blocks = [
    'From: A <a@x>\r\nSubject: Hi\r\n there\r\nMessage-ID: <1@x>\r\nDate: Mon, 1 Mar 2010 10:00:00 +0100\r\n\r\n',
    'Subject: =?UTF-8?B?w6TDtsO8?=\r\nTo:  x   y\r\n\r\n',
    'Subject: trailing\r',
    '',
    '\r\n',
    'From: \xe9t\xe9 <e@x>\r\nCc: a,\r\n\tb,\r\n  c\r\n\r\nbody: not a header\r\n',
  ];
  for (const text of blocks) {
    const block = Buffer.from(text, 'latin1');
    assert.deepEqual(parseHeaderFields(block), referenceParse(block), JSON.stringify(text));
    assert.equal(fingerprintFromHeaders(block, 1234), referenceFingerprint(block, 1234), JSON.stringify(text));
  }
});
