/** mboxrd quoting, `From ` lines, flags in envelope headers, and splitting files written by other tools. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asctime, envelopeLines, flagsFromHeaderBlock, fromLine, parseFromLineDate, quoteMboxrd, splitEnvelope, splitMbox, unquoteMboxrd } from '../../src/archive/mboxrd.js';

const body = [
  'Subject: From lines',
  '',
  'From here on the ferry leaves at nine.',
  '>From the archive: an already escaped line.',
  '>>From twice escaped.',
  ' From with a leading space.',
  'From',
  'Fromage is not a From line.',
  '',
].join('\r\n');

describe('mboxrd quoting', () => {
  test('adds one > to every ^>*From line and removes exactly it again', () => {
    const raw = Buffer.from(body, 'latin1');
    const quoted = quoteMboxrd(raw).toString('latin1');
    assert.match(quoted, /\r\n>From here on/);
    assert.match(quoted, /\r\n>>From the archive/);
    assert.match(quoted, /\r\n>>>From twice/);
    assert.match(quoted, /\r\n From with a leading space/);
    assert.match(quoted, /\r\nFrom\r\n/, 'a bare "From" without a space is not a From_ line');
    assert.match(quoted, /\r\nFromage/);
    assert.deepEqual(unquoteMboxrd(Buffer.from(quoted, 'latin1')), raw);
  });

  test('a message starting with "From " and one without a final newline round-trip', () => {
    for (const text of ['From me to you\nbody', 'x\nFrom y', '>From', '']) {
      const raw = Buffer.from(text);
      assert.deepEqual(unquoteMboxrd(quoteMboxrd(raw)), raw, JSON.stringify(text));
    }
  });
});

describe('From lines', () => {
  test('asctime in UTC, read back to the second', () => {
    const date = new Date('2004-01-05T09:03:07Z');
    assert.equal(asctime(date), 'Mon Jan  5 09:03:07 2004');
    assert.equal(fromLine('bob@example.com', date), 'From bob@example.com Mon Jan  5 09:03:07 2004\n');
    assert.equal(parseFromLineDate('From bob@example.com Mon Jan  5 09:03:07 2004')?.toISOString(), date.toISOString());
  });

  test('shapes other tools write', () => {
    assert.equal(parseFromLineDate('From - Tue Mar  2 14:05:09 2004')?.toISOString(), '2004-03-02T14:05:09.000Z');
    assert.equal(parseFromLineDate('From MAILER-DAEMON Fri Jul  8 12:08:34 2011 +0200')?.toISOString(), '2011-07-08T10:08:34.000Z');
    assert.equal(parseFromLineDate('From someone@example.org Sat Jan  3 01:05 1998')?.toISOString(), '1998-01-03T01:05:00.000Z');
    assert.equal(parseFromLineDate('From nobody'), undefined);
  });
});

describe('flags in the envelope', () => {
  test('Status / X-Status / X-Keywords as mutt and Dovecot write them, and read back', () => {
    const flags = ['$Forwarded', 'Work', '\\Answered', '\\Draft', '\\Flagged', '\\Seen'];
    const lines = envelopeLines(flags);
    assert.equal(lines, 'Status: RO\nX-Status: AFT\nX-Keywords: $Forwarded Work\n');
    assert.deepEqual(flagsFromHeaderBlock(Buffer.from(lines + '\n')), [...flags].sort());
    assert.equal(envelopeLines([]), 'Status: O\n');
  });

  test('our envelope lines (LF) in front of a CRLF message are told apart from the message; LF messages stay whole', () => {
    const original = Buffer.from('Status: RO\r\nSubject: kept, it is the message\'s own\r\n\r\nbody\r\n');
    const written = Buffer.concat([Buffer.from(envelopeLines(['\\Seen', 'Work'])), original]);
    const { envelope, message } = splitEnvelope(written);
    assert.deepEqual(message, original);
    assert.deepEqual(flagsFromHeaderBlock(envelope), ['Work', '\\Seen']);
    const mutt = Buffer.from('Status: RO\nSubject: mutt\n\nbody\n');
    assert.deepEqual(splitEnvelope(mutt).message, mutt);
  });

  test('Thunderbird X-Mozilla-Status bits and keys', () => {
    const header = Buffer.from('X-Mozilla-Status: 0005\r\nX-Mozilla-Status2: 00000000\r\nX-Mozilla-Keys: $label1 todo\r\nSubject: x\r\n\r\n');
    assert.deepEqual(flagsFromHeaderBlock(header), ['$label1', '\\Flagged', '\\Seen', 'todo']);
  });
});

describe('splitMbox (files from other tools, mboxo, LF line endings)', () => {
  const file = [
    'From alice@example.org Mon Jan  5 10:00:00 2004',
    'Status: RO',
    'Subject: one',
    '',
    '>From the start of a line (mboxo quoted it)',
    '',
    'From - Tue Jan  6 10:00:00 2004',
    'X-Mozilla-Status: 0001',
    'Subject: two',
    '',
    'no final blank line follows',
    'From bob@example.org Wed Jan  7 10:00:00 2004',
    'Subject: three',
    '',
    'last',
    '',
  ].join('\n');

  test('splits at From lines after an empty line, drops the separator, unquotes', () => {
    const messages = splitMbox(Buffer.from(file, 'latin1'), 100);
    assert.equal(messages.length, 2, 'a "From " line not after an empty line does not start a message');
    assert.equal(messages[0]?.fromOffset, 100);
    assert.equal(messages[0]?.body().toString('latin1'), 'Status: RO\nSubject: one\n\nFrom the start of a line (mboxo quoted it)\n');
    assert.equal(parseFromLineDate(messages[1]?.fromLine ?? '')?.toISOString(), '2004-01-06T10:00:00.000Z');
    assert.match(messages[1]?.body().toString('latin1') ?? '', /^X-Mozilla-Status: 0001\nSubject: two\n\nno final blank line follows\nFrom bob@example\.org .*\nlast\n$/s);
  });

  test('CRLF files: the separator is an empty CRLF line', () => {
    const crlf = 'From a Mon Jan  5 10:00:00 2004\r\nSubject: a\r\n\r\nbody a\r\n\r\nFrom b Mon Jan  5 10:00:00 2004\r\nSubject: b\r\n\r\nbody b\r\n\r\n';
    const messages = splitMbox(Buffer.from(crlf));
    assert.deepEqual(
      messages.map((m) => m.body().toString()),
      ['Subject: a\r\n\r\nbody a\r\n', 'Subject: b\r\n\r\nbody b\r\n'],
    );
  });
});
