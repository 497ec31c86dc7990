import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprintFromHeaders, fingerprintOfMessage, parseHeaderFields } from './fingerprint.js';
import { FingerprintPool } from './fingerprint-pool.js';

const message = (headers: string, body = 'Hello\r\n') => Buffer.from(`${headers}\r\n\r\n${body}`);

test('the IMAP path (HEADER.FIELDS + RFC822.SIZE) and the whole-message path agree', () => {
  const raw = message('Received: x\r\nFrom: A <a@x>\r\nSubject: Hi\r\n there\r\nX-Other: y\r\nMessage-ID: <1@x>\r\nDate: Mon, 1 Mar 2010 10:00:00 +0100');
  // What a server returns for BODY.PEEK[HEADER.FIELDS (...)]: only the asked fields, in message order.
  const fields = Buffer.from('From: A <a@x>\r\nSubject: Hi\r\n there\r\nMessage-ID: <1@x>\r\nDate: Mon, 1 Mar 2010 10:00:00 +0100\r\n\r\n');
  assert.equal(fingerprintFromHeaders(fields, raw.length), fingerprintOfMessage(raw));
});

test('messages without Message-ID are told apart by their other fields and size', () => {
  const a = message('From: a@x\r\nSubject: one\r\nDate: Mon, 1 Mar 2010 10:00:00 +0100');
  const b = message('From: a@x\r\nSubject: two\r\nDate: Mon, 1 Mar 2010 10:00:00 +0100');
  const c = message('From: a@x\r\nSubject: one\r\nDate: Mon, 1 Mar 2010 10:00:00 +0100', 'Hello, longer\r\n');
  assert.notEqual(fingerprintOfMessage(a), fingerprintOfMessage(b));
  assert.notEqual(fingerprintOfMessage(a), fingerprintOfMessage(c));
});

test('two messages sharing a Message-ID but differing in content are different', () => {
  const a = message('Message-ID: <same@x>\r\nSubject: first');
  const b = message('Message-ID: <same@x>\r\nSubject: second');
  assert.notEqual(fingerprintOfMessage(a), fingerprintOfMessage(b));
});

test('folding and whitespace runs do not change identity', () => {
  assert.deepEqual(parseHeaderFields(Buffer.from('Subject: a\r\n\t  b\r\nTo:  x   y\r\n\r\n')), [
    { name: 'subject', value: 'a b' },
    { name: 'to', value: 'x y' },
  ]);
});

test('the pool counts twins: two copies are needed before both count as there', () => {
  const pool = new FingerprintPool([{ uid: 5, fingerprint: 'f' }]);
  assert.equal(pool.take('f'), 5);
  assert.equal(pool.take('f'), undefined, 'the second twin has no match yet');
  pool.add('f', 9);
  assert.equal(pool.take('f'), 9);
  assert.equal(pool.has('f'), false);
});
