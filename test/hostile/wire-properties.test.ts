/**
 * Properties of the code that reads what an IMAP server sends (src/imap/response-reader.ts,
 * wire-parse.ts, server-limits.ts), with random and mutated input:
 * - nothing but WireProtocolError is ever thrown;
 * - the reader never holds more than its limits (a line's text, a response's literals), and
 *   gives the same responses however the stream is cut into chunks;
 * - the parsers' results are bounded by their input and by the bound the caller gives (UID
 *   sets, search results), and deep nesting is refused instead of overflowing the stack;
 * - the work is linear: a line just under the 32 MB limit, arriving in 4 KB chunks, is read in
 *   a small fraction of the time the old reader (which rescanned the growing line on every
 *   chunk: 32 MB took 14 s) needed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { joinedBytes } from '../../src/engine/message-bytes.js';
import { ResponseReader, type ReaderLimits, type WireResponse } from '../../src/imap/response-reader.js';
import { MAX_LINE_BYTES, MAX_RESPONSE_LITERALS, UntaggedBudget, WireProtocolError } from '../../src/imap/server-limits.js';
import { expandUidSet, parseFetch, parseInternalDate, parseNamespace, searchResults, tokenFlags, tokenNumber } from '../../src/imap/wire-parse.js';

const LIMITS: ReaderLimits = { maxLineBytes: 300, maxLiteralBytes: 200, maxResponseLiteralBytes: 260 };

/** Pieces of IMAP responses, so random streams are often almost valid. */
const imapPiece = fc.oneof(
  fc.constantFrom('* 1 FETCH (', 'UID 7 ', 'RFC822.SIZE 20 ', 'RFC822.SIZE 5000 ', 'BODY[] ', '{5}\r\n', '{0}\r\n', '{150}\r\n', '{99999999999}\r\n', '~{3}\r\n', '{4+}\r\n'),
  fc.constantFrom('\r\n', '\r', '\n', ')', '(', '"', '\\', '* OK ', 'W1 OK done\r\n', '+ go\r\n', '* SEARCH 1 2 3\r\n', '* BYE\r\n'),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
const imapStream = fc.array(imapPiece, { maxLength: 80 }).map((parts) => Buffer.from(parts.join(''), 'latin1'));
const anyStream = fc.oneof(imapStream, fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)));
/** Where to cut a stream into chunks (fractions of its length). */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

interface ReadOutcome {
  responses: { text: string; literals: string[]; oversized?: number }[];
  error?: string;
}

/** Reads `stream` cut at `at` (fractions), checking the bound after every chunk. */
const readCut = (stream: Buffer, at: number[], limits: ReaderLimits = LIMITS): ReadOutcome => {
  const responses: ReadOutcome['responses'] = [];
  const reader = new ResponseReader((r: WireResponse) => {
    assert.ok(r.text.length <= limits.maxLineBytes, 'a response text within its limit');
    assert.ok(r.literals.reduce((sum, l) => sum + l.length, 0) <= limits.maxResponseLiteralBytes, 'literals within their limit');
    responses.push({ text: r.text, literals: r.literals.map((l) => joinedBytes(l).toString('latin1')), ...(r.oversized !== undefined ? { oversized: r.oversized } : {}) });
  }, limits);
  const points = [...new Set(at.map((f) => Math.floor(f * stream.length)))].sort((a, b) => a - b);
  let from = 0;
  try {
    for (const to of [...points, stream.length]) {
      reader.push(stream.subarray(from, to));
      from = to;
      assert.ok(reader.heldBytes <= limits.maxLineBytes + limits.maxResponseLiteralBytes, `held ${reader.heldBytes} bytes`);
    }
  } catch (e) {
    if (!(e instanceof WireProtocolError)) throw e;
    return { responses, error: e.message };
  }
  return { responses };
};

describe('the response reader takes any stream', () => {
  test('random and almost-IMAP streams: only WireProtocolError, never beyond the limits', () => {
    fc.assert(
      fc.property(anyStream, cuts, (stream, at) => {
        readCut(stream, at);
      }),
      { numRuns: 3000 },
    );
  });

  test('however the stream is cut, the same responses (and the same refusal)', () => {
    fc.assert(
      fc.property(imapStream, cuts, (stream, at) => {
        assert.deepEqual(readCut(stream, at), readCut(stream, []));
      }),
      { numRuns: 2000 },
    );
  });

  test('a literal beyond the RFC822.SIZE its response announced is refused before it is read', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 40 }), (announced, extra) => {
        const limits: ReaderLimits = { maxLineBytes: 1 << 20, maxLiteralBytes: 1 << 30, maxResponseLiteralBytes: 1 << 30 };
        // The allowance is 1.5 × the announced size plus 1 MB: anything past it is refused at the marker.
        const size = Math.floor(announced * 1.5) + (1 << 20) + 1 + extra;
        const outcome = readCut(Buffer.from(`* 1 FETCH (UID 1 RFC822.SIZE ${announced} BODY[] {${size}}\r\n`, 'latin1'), [], limits);
        assert.match(outcome.error ?? '', /more than the \d+ bytes it announced for a message/);
      }),
      { numRuns: 300 },
    );
  });

  test('a line just under 32 MB, in 4 KB chunks, is read in linear time', () => {
    // The old reader rescanned the growing line with every chunk: 16 MB took 4.3 s, 32 MB 14.4 s
    // on this machine, and it grows with the square of the size. Linear reading takes tens of
    // milliseconds; the bound leaves room for a busy machine and none for a quadratic pass.
    const LIMIT_MS = 5_000;
    const size = MAX_LINE_BYTES - 1024;
    const chunk = Buffer.alloc(4096, 'x');
    const got: WireResponse[] = [];
    const reader = new ResponseReader((r) => got.push(r));
    const started = Date.now();
    reader.push(Buffer.from('* 1 FETCH (UID 1 X ', 'latin1'));
    for (let sent = 0; sent < size; sent += chunk.length) reader.push(chunk.subarray(0, Math.min(chunk.length, size - sent)));
    reader.push(Buffer.from(')\r\n', 'latin1'));
    const elapsed = Date.now() - started;
    assert.equal(got.length, 1);
    assert.ok(elapsed < LIMIT_MS, `${size} bytes took ${elapsed} ms`);
    assert.throws(() => reader.push(Buffer.alloc(MAX_LINE_BYTES + 1, 'y')), WireProtocolError, 'one byte past the limit is refused');
  });

  test('a response of a line full of RFC822.SIZE items and its literals is read in linear time', () => {
    const LIMIT_MS = 5_000;
    const items = ' RFC822.SIZE 9'.repeat(Math.floor((MAX_LINE_BYTES - 1024 * 1024) / 14));
    const literals = ' BODY[] {9}\r\n123456789'.repeat(MAX_RESPONSE_LITERALS - 1);
    const stream = Buffer.from(`* 1 FETCH (UID 1${items}${literals})\r\n`, 'latin1');
    const got: WireResponse[] = [];
    const started = Date.now();
    const reader = new ResponseReader((r) => got.push(r));
    for (let at = 0; at < stream.length; at += 4096) reader.push(stream.subarray(at, at + 4096));
    const elapsed = Date.now() - started;
    assert.equal(got.length, 1);
    assert.equal(got[0]?.literals.length, MAX_RESPONSE_LITERALS - 1);
    assert.ok(elapsed < LIMIT_MS, `${stream.length} bytes took ${elapsed} ms`);
  });

  test('a million empty literals in one response are refused after the thousandth', () => {
    const reader = new ResponseReader(() => assert.fail('no response'));
    assert.throws(() => reader.push(Buffer.from(`* 1 FETCH (UID 1${' BODY[] {0}\r\n'.repeat(1_000_000)})\r\n`, 'latin1')), /more than 1,000 literals in one response/);
  });
});

/** A valid FETCH response and its literals, then mutated at random. */
const validFetch = fc
  .tuple(fc.integer({ min: 1, max: 1e9 }), fc.array(fc.constantFrom('\\Seen', '$Label', '\\Flagged'), { maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 30 }))
  .map(([uid, flags, body]) => ({
    text: `* 3 FETCH (UID ${uid} RFC822.SIZE ${body.length} FLAGS (${flags.join(' ')}) INTERNALDATE " 7-Feb-2004 09:05:01 -0130" BODY[HEADER.FIELDS (MESSAGE-ID DATE)] {${body.length}} BODY[] "a\\"b")`,
    literals: [Buffer.from(body, 'latin1')],
  }));
const mutation = fc.array(fc.tuple(fc.nat(), fc.constantFrom('delete', 'insert', 'duplicate'), fc.constantFrom('(', ')', '"', '\\', '{3}', '[', ']', ' ', 'NIL', '~{1}', '{')), { maxLength: 8 });
const mutate = (text: string, edits: [number, string, string][]): string =>
  edits.reduce((t, [at, kind, piece]) => {
    const i = t.length === 0 ? 0 : at % t.length;
    if (kind === 'delete') return t.slice(0, i) + t.slice(i + 1);
    if (kind === 'insert') return t.slice(0, i) + piece + t.slice(i);
    return t.slice(0, i) + t.slice(i, i + 10).repeat(2) + t.slice(i + 10);
  }, text);

/** Calls `work`; anything it throws must be WireProtocolError. */
const onlyOurErrors = (work: () => unknown): void => {
  try {
    work();
  } catch (e) {
    if (!(e instanceof WireProtocolError)) throw e;
  }
};

/** Counts the tokens of a parsed value (a list counts its items). */
const tokenCount = (t: unknown): number => (Array.isArray(t) ? t.reduce((sum: number, x) => sum + tokenCount(x), 1) : 1);

describe('the wire parser takes any response', () => {
  test('random and mutated FETCH responses: only WireProtocolError, results bounded by the input', () => {
    const response = fc.oneof(
      fc.tuple(validFetch, mutation).map(([r, edits]) => ({ text: mutate(r.text, edits), literals: r.literals })),
      fc.tuple(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)), { maxLength: 3 })).map(([t, literals]) => ({ text: `* 1 FETCH ${t}`, literals })),
    );
    fc.assert(
      fc.property(response, (r) => {
        onlyOurErrors(() => {
          const items = parseFetch(r);
          if (!items) return;
          let tokens = 0;
          for (const [key, value] of items) {
            tokens += tokenCount(value);
            tokenFlags(value);
            tokenNumber(value);
            assert.ok(key.length <= r.text.length);
          }
          assert.ok(tokens <= r.text.length + r.literals.length + 1, 'no more tokens than characters');
        });
      }),
      { numRuns: 4000 },
    );
  });

  test('lists nested deeper than the limit are refused, never a stack overflow', () => {
    for (const depth of [101, 10_000, 1_000_000]) {
      assert.throws(() => parseFetch({ text: `* 1 FETCH ${'('.repeat(depth)}`, literals: [] }), WireProtocolError);
      assert.throws(() => parseNamespace([{ text: `* NAMESPACE ${'('.repeat(depth)}`, literals: [] }]), WireProtocolError);
    }
  });

  test('UID sets and search answers are expanded only up to the bound given', () => {
    const uidSet = fc.array(fc.oneof(fc.nat({ max: 5000 }).map(String), fc.tuple(fc.nat({ max: 4_294_967_295 }), fc.nat({ max: 4_294_967_295 })).map(([a, b]) => `${a}:${b}`), fc.string({ maxLength: 4 })), { maxLength: 6 }).map((p) => p.join(','));
    fc.assert(
      fc.property(uidSet, fc.nat({ max: 10_000 }), fc.string({ maxLength: 20 }), (set, max, tag) => {
        const uids = expandUidSet(set, max);
        assert.ok(uids === undefined || uids.length <= max);
        onlyOurErrors(() => {
          const found = searchResults(
            [
              { text: `* SEARCH ${set.replace(/[,:]/g, ' ')}`, literals: [] },
              { text: `* ESEARCH (TAG "${tag}") UID ALL ${set}`, literals: [] },
            ],
            undefined,
            max,
          );
          assert.ok(found.length <= max);
        });
      }),
      { numRuns: 3000 },
    );
    assert.throws(() => searchResults([{ text: '* ESEARCH (TAG "A1") UID ALL 1:4294967295', literals: [] }], 'A1', 1000), WireProtocolError);
  });

  test('NAMESPACE and INTERNALDATE take any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (text) => {
        onlyOurErrors(() => parseNamespace([{ text: `* NAMESPACE ${text}`, literals: [] }]));
        const date = parseInternalDate(text);
        assert.ok(date instanceof Date);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the untagged budget', () => {
  test('any run of responses is counted without other errors, and refused past the allowance', () => {
    const line = fc.oneof(fc.constantFrom('* OK x', '* 5 EXISTS', '* 99999999999 EXISTS', '* LIST () "/" a', '* STATUS a (MESSAGES 1)', '* 1 FETCH (UID 1)', '+ go'), fc.string({ unit: 'binary', maxLength: 30 }));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 200 }), (lines) => {
        const budget = new UntaggedBudget();
        onlyOurErrors(() => {
          for (const l of lines) budget.count(l, l.length);
        });
      }),
      { numRuns: 2000 },
    );
    const budget = new UntaggedBudget();
    assert.throws(() => {
      for (let i = 0; i <= 10_000; i++) budget.count('* OK still here', 15);
    }, /more than 10,000 responses to one command/);
  });
});
