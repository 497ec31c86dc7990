/**
 * Properties of the mbox format code (src/archive/mboxrd.ts), with random and hostile input:
 * - mboxrd quoting is reversed exactly by unquoting, for any bytes, and leaves no line that
 *   could start a message;
 * - what Mailferry writes (From line, envelope, quoted message, separator) splits back into the
 *   same messages and flags, for CRLF messages ending in CRLF (what IMAP delivers);
 * - the readers (splitMbox, splitEnvelope, flagsFromHeaderBlock, parseFromLineDate) take any
 *   input without throwing, and what they return is bounded by what they were given;
 * - the work is linear: a few megabytes of the worst shapes (every line a `From ` line to
 *   quote, every line a message start) finish in well under the time a quadratic pass would take.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { envelopeLines, flagsFromHeaderBlock, fromLine, parseFromLineDate, quoteMboxrd, splitEnvelope, splitMbox, unquoteMboxrd } from '../../src/archive/mboxrd.js';

/** Bytes rich in what matters to mbox: `From `, `>`, line ends, empty lines. */
const mboxishBytes = fc
  .array(fc.oneof(fc.constantFrom('From ', '>', '>>From ', '\n', '\r\n', '\n\n', 'From x Thu Jan  1 00:00:00 1970\n', 'Status: RO\n', 'a', ' '), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 60 })
  .map((parts) => Buffer.from(parts.join(''), 'latin1'));
const anyBytes = fc.oneof(mboxishBytes, fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)));

/** A message as IMAP delivers it: CRLF lines, ending in CRLF, with a header block. */
const crlfMessage = fc
  .tuple(
    fc.array(fc.constantFrom('Subject: hi', 'From: a@example.org', 'Status: RO', 'X-Keywords: x'), { minLength: 1, maxLength: 4 }),
    fc.array(fc.oneof(fc.constantFrom('From the ferry', '>From quoted', '>>From twice', '', 'From ', '>'), fc.string({ unit: fc.constantFrom('a', ' ', '>', 'F', 'r', 'o', 'm', '\t', 'é') })), { maxLength: 12 }),
  )
  .map(([header, body]) => Buffer.from([...header, '', ...body].join('\r\n') + '\r\n', 'utf8'));

const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Draft', '\\Deleted'];
const flagSet = fc.uniqueArray(fc.oneof(fc.constantFrom(...SYSTEM_FLAGS), fc.stringMatching(/^[A-Za-z$][A-Za-z0-9_$-]{0,8}$/)), { maxLength: 6 });

/** Lines of a buffer (LF-separated), for checks on line starts. */
const lines = (b: Buffer): string[] => b.toString('latin1').split('\n');

describe('mboxrd quoting', () => {
  test('unquote(quote(bytes)) is the bytes, for any bytes', () => {
    fc.assert(
      fc.property(anyBytes, (raw) => {
        assert.deepEqual(unquoteMboxrd(quoteMboxrd(raw)), raw);
      }),
      { numRuns: 3000 },
    );
  });

  test('after quoting no line starts with "From ", and each quoted line gained exactly one ">"', () => {
    fc.assert(
      fc.property(anyBytes, (raw) => {
        const quoted = quoteMboxrd(raw);
        const before = lines(raw);
        const after = lines(quoted);
        assert.equal(after.length, before.length);
        after.forEach((line, i) => {
          assert.ok(!line.startsWith('From '), JSON.stringify(line));
          const original = before[i] as string;
          assert.equal(line, /^>*From /.test(original) ? `>${original}` : original);
        });
      }),
      { numRuns: 2000 },
    );
  });

  test('unquoting any bytes never grows them, and quoting adds at most one byte per line', () => {
    fc.assert(
      fc.property(anyBytes, (raw) => {
        assert.ok(unquoteMboxrd(raw).length <= raw.length);
        assert.ok(quoteMboxrd(raw).length <= raw.length + lines(raw).length);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('an mbox written the way Mailferry writes it reads back', () => {
  test('messages and flags come back exactly from the file alone (no index)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(crlfMessage, flagSet), { minLength: 1, maxLength: 5 }), (messages) => {
        const file = Buffer.concat(
          messages.map(([body, flags]) => {
            const quoted = quoteMboxrd(body);
            return Buffer.concat([Buffer.from(fromLine('sender@example.org', new Date(Date.UTC(2026, 0, 2, 3, 4, 5))) + envelopeLines(flags), 'latin1'), quoted, Buffer.from('\n')]);
          }),
        );
        const found = splitMbox(file);
        assert.equal(found.length, messages.length);
        found.forEach((m, i) => {
          const [body, flags] = messages[i] as [Buffer, string[]];
          const { envelope, message } = splitEnvelope(m.body());
          assert.deepEqual(message, body);
          assert.deepEqual(flagsFromHeaderBlock(envelope), [...flags].sort());
          assert.equal(parseFromLineDate(m.fromLine)?.toISOString(), '2026-01-02T03:04:05.000Z');
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('the mbox readers take anything', () => {
  test('splitMbox: no throw; messages in order, inside the input, their bodies no longer than their region', () => {
    fc.assert(
      fc.property(anyBytes, fc.nat(1000), (data, base) => {
        const found = splitMbox(data, base);
        let previous = base - 1;
        for (const m of found) {
          assert.ok(m.fromOffset > previous && m.fromOffset < m.contentOffset && m.contentOffset <= m.contentEnd && m.contentEnd <= base + data.length);
          previous = m.fromOffset;
          const region = Math.max(0, m.contentEnd - m.contentOffset);
          assert.ok(m.body().length <= region);
        }
        assert.ok(found.length <= data.length / 5 + 1);
      }),
      { numRuns: 3000 },
    );
  });

  test('splitEnvelope, flagsFromHeaderBlock and parseFromLineDate: no throw, bounded output', () => {
    fc.assert(
      fc.property(anyBytes, fc.string({ unit: 'binary', maxLength: 120 }), (data, line) => {
        const { envelope, message } = splitEnvelope(data);
        assert.equal(envelope.length + message.length, data.length);
        const flags = flagsFromHeaderBlock(data);
        assert.ok(flags.join(' ').length <= data.length + 40);
        const date = parseFromLineDate(line);
        assert.ok(date === undefined || date instanceof Date);
      }),
      { numRuns: 3000 },
    );
  });

  test('a few megabytes of the worst shapes are quoted, unquoted and split in linear time', () => {
    // A quadratic pass over 4 MB would take minutes; linear ones take tens of milliseconds.
    const LIMIT_MS = 10_000;
    const size = 4 * 1024 * 1024;
    for (const unit of ['From x\n', '>From \n', '\nFrom a Thu Jan  1 00:00:00 1970\n', 'From \r\n\r\n']) {
      const data = Buffer.from(unit.repeat(Math.ceil(size / unit.length)), 'latin1');
      const started = Date.now();
      const quoted = quoteMboxrd(data);
      assert.deepEqual(unquoteMboxrd(quoted), data);
      const found = splitMbox(data);
      let total = 0;
      for (const m of found.slice(0, 1000)) total += m.body().length;
      assert.ok(total <= data.length);
      const elapsed = Date.now() - started;
      assert.ok(elapsed < LIMIT_MS, `${JSON.stringify(unit)} × ${data.length / unit.length} took ${elapsed} ms`);
    }
  });
});
