/**
 * Properties of modified UTF-7 (RFC 3501 §5.1.3): the archive's codec (src/archive/modified-utf7.ts,
 * Maildir++ folder names on disk) and the wire encoder (src/imap/imap-utf7.ts, mailbox names
 * sent to servers):
 * - any text (any UTF-16, lone surrogates included) encodes to printable ASCII and decodes back
 *   to itself, and both encoders give the same bytes;
 * - the RFC's own example comes out as the RFC says;
 * - decoding any string (a folder name on disk, from anywhere) never throws and never grows it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeModifiedUtf7, encodeModifiedUtf7 } from '../../src/archive/modified-utf7.js';
import { encodeMailboxName } from '../../src/imap/imap-utf7.js';

/** Text rich in the cases that matter: `&`, `-`, `,`, `/`, runs of non-ASCII, controls, surrogates. */
const text = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('&', '-', '&-', ',', '/', '+', 'a', ' ', '~', 'é', '台', '😀', '\ud800', '\udc00', '\u0000', '\x7f', '\u0085') }),
);

describe('modified UTF-7', () => {
  test("RFC 3501's example", () => {
    const name = '~peter/mail/台北/日本語';
    assert.equal(encodeModifiedUtf7(name), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
    assert.equal(encodeMailboxName(name), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
    assert.equal(decodeModifiedUtf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-'), name);
    assert.equal(decodeModifiedUtf7('Tom &- Jerry'), 'Tom & Jerry');
  });

  test('any text encodes to printable ASCII and decodes back to itself; both encoders agree', () => {
    fc.assert(
      fc.property(text, (s) => {
        const encoded = encodeModifiedUtf7(s);
        assert.match(encoded, /^[\x20-\x7e]*$/);
        assert.equal(decodeModifiedUtf7(encoded), s);
        assert.equal(encodeMailboxName(s), encoded);
      }),
      { numRuns: 5000 },
    );
  });

  test('decoding any string never throws and never makes it longer', () => {
    const onDisk = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('&', '-', 'A', 'AA', 'Z', '+', ',', '/', '=', 'x', '&AAA-', '&2D3-', '&-') }),
    );
    fc.assert(
      fc.property(onDisk, (s) => {
        const decoded = decodeModifiedUtf7(s);
        assert.equal(typeof decoded, 'string');
        assert.ok(decoded.length <= s.length);
      }),
      { numRuns: 5000 },
    );
  });

  test('a long name of the worst shape is decoded in linear time', () => {
    const LIMIT_MS = 10_000;
    const started = Date.now();
    const long = '&'.repeat(2_000_000) + 'A'.repeat(2_000_000);
    assert.equal(decodeModifiedUtf7(long), long);
    const runs = '&AGE-'.repeat(400_000);
    assert.equal(decodeModifiedUtf7(runs), 'a'.repeat(400_000));
    assert.ok(Date.now() - started < LIMIT_MS, `${Date.now() - started} ms`);
  });
});
