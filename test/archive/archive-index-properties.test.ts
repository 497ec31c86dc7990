/**
 * Properties of the archive index reader (parseIndex and FolderIndex.load in
 * src/archive/archive-index.ts), for each format's rules:
 * - an index as Mailferry writes it reads back as written (the last line per UID wins, a torn
 *   last line is ignored);
 * - random bytes, and valid indexes mutated (bytes changed, inserted, dropped, lines repeated
 *   or swapped, hostile lines added), never make it throw: it returns an error value of kind
 *   bad-input or an index whose every entry keeps to the format's rules (plain names of the
 *   folder's own files, UIDs from 1 to 2^32-1, ordered mbox offsets);
 * - what it returns is bounded by what it read, and a file larger than MAX_INDEX_BYTES is
 *   refused from its size alone, before anything is read.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FolderIndex, isPlainName, MAX_INDEX_BYTES, parseIndex, type IndexEntry, type IndexLine, type IndexRules } from '../../src/archive/archive-index.js';
import { ArchiveJail } from '../../src/archive/archive-jail.js';
import { EML_INDEX_RULES } from '../../src/archive/eml-store.js';
import { MAILDIR_INDEX_RULES } from '../../src/archive/maildir-store.js';
import { MBOX_INDEX_RULES } from '../../src/archive/mbox-store.js';
import type { ArchiveFormat } from '../../src/contract/account.js';

const RULES: Record<ArchiveFormat, IndexRules> = { maildir: MAILDIR_INDEX_RULES, eml: EML_INDEX_RULES, mbox: MBOX_INDEX_RULES };
const MAX_UID = 2 ** 32 - 1;

const plainName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9.,=_ -]{0,30}$/);
const common = { fp: fc.stringMatching(/^[0-9a-f]{8,16}$/), size: fc.nat(10_000_000), flags: fc.array(fc.constantFrom('\\Seen', '\\Flagged', '$label', 'Work'), { maxLength: 3 }), date: fc.integer({ min: 0, max: 4e12 }), subject: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }) };

/** One entry as each format writes it (messages of its own, and foreign ones it adopted). */
const entryOf = (format: ArchiveFormat, uid: number): fc.Arbitrary<IndexEntry> => {
  switch (format) {
    case 'maildir':
      return fc.record({ key: plainName, info: fc.constantFrom(':2,', ':2,S', ':2,FRa'), own: fc.boolean(), ...common }).map(({ key, info, own, subject, ...rest }) => ({
        t: 'msg' as const,
        uid,
        key,
        ...rest,
        ...(subject === undefined ? {} : { subject }),
        ...(own ? { tmp: `tmp/${key}`, file: `cur/${key}${info}` } : { crlf: true }),
      }));
    case 'eml':
      return fc.record({ name: plainName.map((n) => `${n}.eml`), tmp: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex')), own: fc.boolean(), ...common }).map(({ name, tmp, own, subject, ...rest }) => ({
        t: 'msg' as const,
        uid,
        key: name,
        file: name,
        ...rest,
        ...(subject === undefined ? {} : { subject }),
        ...(own ? { tmp: `.mailferry-${tmp}.tmp` } : { crlf: true }),
      }));
    case 'mbox':
      return fc.record({ off: fc.nat(1e9), head: fc.nat(200), len: fc.nat(1e7), tail: fc.nat(2), ...common }).map(({ off, head, len, tail, subject, ...rest }) => ({
        t: 'msg' as const,
        uid,
        key: String(off),
        ...rest,
        ...(subject === undefined ? {} : { subject }),
        mbox: { off, body: off + head, len, end: off + head + len + tail },
      }));
  }
};

/** A whole index as written: the header, then entries with increasing UIDs (sometimes one repeated). */
const indexOf = (format: ArchiveFormat) =>
  fc
    .array(fc.integer({ min: 1, max: 50 }), { maxLength: 12 })
    .chain((steps) => {
      let uid = 0;
      const uids = steps.map((s) => (uid += s));
      return fc.tuple(fc.constant(uids), fc.tuple(...uids.map((u) => entryOf(format, Math.min(u, MAX_UID)))));
    })
    .map(([, entries]) => ({
      header: { t: 'folder' as const, v: 1, format, path: 'Work/Sub', uidValidity: '123456', created: 0 },
      entries: entries as IndexEntry[],
    }));

const text = (lines: IndexLine[]): Buffer => Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join(''));

/** What must hold for anything parseIndex returns. */
const assertSound = (result: ReturnType<typeof parseIndex>, data: Buffer, rules: IndexRules): void => {
  if (!result.ok) {
    assert.equal(result.error.kind, 'bad-input');
    assert.equal(typeof result.error.message, 'string');
    return;
  }
  if (!result.value) return;
  const { header, entries, validBytes } = result.value;
  assert.equal(header.format, rules.format);
  assert.ok(validBytes <= data.length);
  let previous = 0;
  for (const e of entries) {
    assert.ok(Number.isSafeInteger(e.uid) && e.uid > previous && e.uid <= MAX_UID, `uid ${e.uid}`);
    previous = e.uid;
    assert.equal(rules.entryProblem?.(e), undefined);
    for (const name of [e.tmp, e.file]) if (name !== undefined) assert.ok(name.split('/').every(isPlainName), JSON.stringify(name));
    if (e.mbox) assert.ok(e.mbox.off <= e.mbox.body && e.mbox.body + e.mbox.len <= e.mbox.end);
  }
  // Parsed JSON is never much larger than the text it came from.
  assert.ok(JSON.stringify(entries).length <= 8 * data.length + 64, 'bounded by the input');
};

/** A hostile line an attacker might plant. */
const hostileLine = fc.constantFrom(
  { t: 'msg', uid: 9, key: 'k', fp: 'f', size: 1, flags: [], date: 0, tmp: '../outside', file: '../outside2' },
  { t: 'msg', uid: 9, key: 'k', fp: 'f', size: 1, flags: [], date: 0, tmp: 'tmp/k', file: 'cur/../../x' },
  { t: 'msg', uid: 9, key: '..', fp: 'f', size: 1, flags: [], date: 0, tmp: 'tmp/..', file: 'cur/..' },
  { t: 'msg', uid: 9, key: 'a.eml', fp: 'f', size: 1, flags: [], date: 0, tmp: '/etc/passwd', file: 'a.eml' },
  { t: 'msg', uid: -3, key: 'k', fp: 'f', size: 1, flags: [], date: 0 },
  { t: 'msg', uid: 9, key: 'k', fp: 'f', size: 1, flags: [], date: 0, mbox: { off: 5, body: 1, len: 2 ** 60, end: 0 } },
  { t: 'folder', v: 1, format: 'eml', path: 'x', uidValidity: '99999999999' },
  { t: 'intent', off: -1, len: 5 },
);

const mutate = (data: Buffer) =>
  fc
    .array(
      fc.oneof(
        fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0x0a, 0x22, 0x2f, 0x2e, 0x7b, 0x7d, 0x5c, 0x30, 0x2d, 0x00, 0xff) }),
        fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.constantFrom('\n', '"..', '/', '{"t":"msg"', '\\u002e', '9e99', ',"tmp":"../x"', '}\n') }),
        fc.record({ kind: fc.constant('drop' as const), at: fc.nat(), length: fc.nat(40) }),
        fc.record({ kind: fc.constant('line' as const), at: fc.nat(), line: hostileLine }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((steps) => {
      let out = Buffer.from(data);
      for (const step of steps) {
        const at = out.length === 0 ? 0 : step.at % (out.length + 1);
        if (step.kind === 'set' && out.length > 0) out[Math.min(at, out.length - 1)] = step.byte;
        else if (step.kind === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from(step.bytes), out.subarray(at)]);
        else if (step.kind === 'drop') out = Buffer.concat([out.subarray(0, at), out.subarray(at + step.length)]);
        else if (step.kind === 'line') {
          const lineStart = out.lastIndexOf(0x0a, at - 1) + 1;
          out = Buffer.concat([out.subarray(0, lineStart), Buffer.from(JSON.stringify(step.line) + '\n'), out.subarray(lineStart)]);
        } else if (step.kind === 'cut') out = out.subarray(0, at);
      }
      return out;
    });

for (const format of ['maildir', 'eml', 'mbox'] as const) {
  const rules = RULES[format];
  describe(`the ${format} index reader`, () => {
    test('an index as written reads back as written; a torn last line is ignored', () => {
      fc.assert(
        fc.property(indexOf(format), fc.string({ maxLength: 30 }), ({ header, entries }, torn) => {
          const written = text([header, ...entries]);
          const withTorn = Buffer.concat([written, Buffer.from(torn.replace(/\n/g, ''))]);
          const result = parseIndex(withTorn, 'index', rules);
          assert.ok(result.ok, result.ok ? '' : result.error.message);
          assert.ok(result.value);
          assert.deepEqual(result.value.header, header);
          assert.deepEqual(result.value.entries, entries);
          assert.equal(result.value.validBytes, written.length);
        }),
        { numRuns: 500 },
      );
    });

    test('random bytes never make it throw', () => {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)), fc.json().map((j) => Buffer.from(`${j}\n${j}\n`))), (data) => {
          assertSound(parseIndex(data, 'index', rules), data, rules);
        }),
        { numRuns: 3000 },
      );
    });

    test('a valid index, mutated, never makes it throw; what it returns keeps to the rules', () => {
      fc.assert(
        fc.property(
          indexOf(format).chain(({ header, entries }) => mutate(text([header, ...entries]))),
          (data) => {
            assertSound(parseIndex(data, 'index', rules), data, rules);
          },
        ),
        { numRuns: 3000 },
      );
    });

    test('a hostile line anywhere after the header makes the whole index an error value, never used', () => {
      fc.assert(
        fc.property(indexOf(format), hostileLine, fc.nat(), (index, line, at) => {
          const lines: object[] = [index.header, ...index.entries];
          lines.splice(1 + (at % (lines.length)), 0, line);
          const data = Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join(''));
          const result = parseIndex(data, 'index', rules);
          assert.equal(result.ok, false, JSON.stringify(line));
          if (!result.ok) assert.match(result.error.message, /is not one Mailferry wrote \(line \d+: /);
        }),
        { numRuns: 500 },
      );
    });
  });
}

describe('FolderIndex.load', () => {
  test('a file larger than MAX_INDEX_BYTES is refused from its size, before anything is read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailferry-index-size-'));
    try {
      const file = path.join(dir, 'mailferry-index.jsonl');
      writeFileSync(file, '');
      truncateSync(file, MAX_INDEX_BYTES + 1); // sparse: no disk space used
      await assert.rejects(FolderIndex.load(new ArchiveJail(dir), file, MAILDIR_INDEX_RULES), (e: unknown) => (e as { kind?: string }).kind === 'bad-input' && /larger/.test((e as Error).message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
