/** The corpus generator: deterministic, CRLF throughout, and holding every awkward case it promises. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { corpusBytes, expectedFromCorpus, folderPath, formatMailDate, generateCorpus, generateFolderOfSize, type CorpusMessage } from './corpus.js';

const header = (m: CorpusMessage, name: string): string | undefined => {
  const head = m.raw.subarray(0, m.raw.indexOf('\r\n\r\n')).toString('latin1');
  const match = new RegExp(`^${name}: (.*)$`, 'mi').exec(head);
  return match?.[1];
};
const all = (seed: number | string = 1): CorpusMessage[] => generateCorpus({ seed }).folders.flatMap((f) => f.messages);
const ofKind = (kind: CorpusMessage['kind']): CorpusMessage[] => all().filter((m) => m.kind === kind);

describe('generateCorpus', () => {
  test('the same seed gives the same bytes, flags and dates; another seed differs', () => {
    const a = generateCorpus({ seed: 7, big: [200_000] });
    const b = generateCorpus({ seed: 7, big: [200_000] });
    assert.deepEqual(a, b);
    const c = generateCorpus({ seed: 8 });
    assert.notDeepEqual(
      a.folders.map((f) => f.messages.map((m) => m.raw.toString('hex'))),
      c.folders.map((f) => f.messages.map((m) => m.raw.toString('hex'))),
    );
  });

  test('every line ends in CRLF, stays under 998 bytes, and the header block is terminated', () => {
    for (const m of all()) {
      const text = m.raw.toString('latin1');
      assert.ok(!/[^\r]\n/.test(text) && !/\r[^\n]/.test(text), `bare CR or LF in a ${m.kind} message`);
      assert.ok(text.endsWith('\r\n'));
      assert.ok(text.includes('\r\n\r\n'));
      assert.ok(text.split('\r\n').every((line) => line.length <= 998));
    }
  });

  test('folders: nested, non-ASCII, with & (modified UTF-7), a level without its own folder, and an empty one', () => {
    const corpus = generateCorpus({ seed: 1 });
    const paths = corpus.folders.map((f) => f.segments.join('/'));
    for (const p of ['INBOX', 'Reisen/Überfahrt', '日本語', 'Été & Co', 'Projekte/2004/Q1', 'Leer']) assert.ok(paths.includes(p), p);
    assert.ok(!paths.includes('Projekte'), 'Projekte exists only as a hierarchy level');
    assert.equal(corpus.folders.find((f) => f.segments[0] === 'Leer')?.messages.length, 0);
    assert.equal(corpus.folders.find((f) => f.segments[0] === 'Sent')?.specialUse, '\\Sent');
    assert.equal(folderPath(['Reisen', 'Überfahrt'], '.', 'INBOX.'), 'INBOX.Reisen.Überfahrt');
    assert.equal(folderPath(['INBOX'], '.', 'INBOX.'), 'INBOX');
  });

  test('twins share a Message-ID with different bytes; duplicates are byte-identical, also across folders', () => {
    const twins = ofKind('twin');
    assert.equal(twins.length, 2);
    assert.equal(header(twins[0] as CorpusMessage, 'Message-ID'), header(twins[1] as CorpusMessage, 'Message-ID'));
    assert.ok(!(twins[0] as CorpusMessage).raw.equals((twins[1] as CorpusMessage).raw));

    const dups = ofKind('duplicate');
    assert.equal(dups.length, 3);
    assert.ok(dups.every((d) => d.raw.equals((dups[0] as CorpusMessage).raw)));
    const corpus = generateCorpus({ seed: 1 });
    const foldersWithDup = corpus.folders.filter((f) => f.messages.some((m) => m.kind === 'duplicate'));
    assert.equal(foldersWithDup.length, 2);
  });

  test('special cases: no Message-ID, \\Deleted, 8-bit and Latin-1 bodies, raw 8-bit headers, From lines, attachments', () => {
    const [noId] = ofKind('no-message-id');
    assert.ok(noId && header(noId, 'Message-ID') === undefined);
    assert.ok(ofKind('deleted').every((m) => m.flags.includes('\\Deleted')) && ofKind('deleted').length === 1);

    const [eight] = ofKind('8bit');
    assert.ok(eight && eight.raw.some((b) => b >= 0x80));
    assert.match(eight.raw.toString('utf8'), /Überfahrt|Grüße|会議/);
    const [latin1] = ofKind('latin1');
    assert.ok(latin1 && latin1.raw.some((b) => b >= 0x80));
    assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(latin1.raw), 'Latin-1 body is not valid UTF-8');
    const [h8] = ofKind('header-8bit');
    assert.match(h8?.raw.subarray(0, h8.raw.indexOf('\r\n\r\n')).toString('utf8') ?? '', /Subject: Fähre/);

    const [fromLines] = ofKind('from-lines');
    const body = fromLines?.raw.toString('latin1').split('\r\n\r\n').slice(1).join('\r\n\r\n') ?? '';
    assert.match(body, /^From /m);
    assert.match(body, /^>From /m);

    const multipart = ofKind('multipart');
    assert.ok(multipart.length >= 2);
    assert.ok(multipart.every((m) => /Content-Transfer-Encoding: base64/.test(m.raw.toString('latin1'))));
  });

  test('flags and dates: every system flag and keyword, no \\Recent, whole seconds, 2004, many zones', () => {
    const messages = all();
    const flags = new Set(messages.flatMap((m) => m.flags));
    for (const f of ['\\Seen', '\\Flagged', '\\Answered', '\\Draft', '\\Deleted', '$Forwarded', '$Label1', 'Work']) assert.ok(flags.has(f), f);
    assert.ok(!flags.has('\\Recent'));
    assert.ok(messages.every((m) => m.internalDate.getUTCMilliseconds() === 0));
    assert.ok(messages.some((m) => m.internalDate.getUTCFullYear() === 2004));
    const zones = new Set(messages.map((m) => /([+-]\d{4})$/.exec(header(m, 'Date') ?? '')?.[1]));
    assert.ok(zones.size >= 5, `zones: ${[...zones].join(' ')}`);
    assert.equal(formatMailDate(new Date('2004-03-02T08:35:09Z'), 330), 'Tue, 02 Mar 2004 14:05:09 +0530');
    assert.equal(formatMailDate(new Date('2004-03-02T08:35:09Z'), -210), 'Tue, 02 Mar 2004 05:05:09 -0330');
  });

  test('sizes: the default corpus is small; big messages come on request at about the asked size', () => {
    const small = generateCorpus({ seed: 3 });
    assert.ok(corpusBytes(small) < 1_000_000, `default corpus is ${corpusBytes(small)} bytes`);
    assert.ok(small.folders.flatMap((f) => f.messages).every((m) => m.raw.length < 300_000));
    const big = generateCorpus({ seed: 3, big: true }).folders.flatMap((f) => f.messages).filter((m) => m.kind === 'big');
    assert.equal(big.length, 2);
    for (const [m, size] of big.map((m, i) => [m, [3 * 1024 * 1024, 6 * 1024 * 1024][i] as number] as const)) {
      assert.ok(Math.abs(m.raw.length - size) / size < 0.03, `${m.raw.length} vs ${size}`);
    }
  });

  test('messagesPerFolder, specials: false and custom folders', () => {
    const corpus = generateCorpus({ seed: 4, specials: false, messagesPerFolder: 5, folders: [{ segments: ['INBOX'] }, { segments: ['A', 'B'] }] });
    assert.deepEqual(
      corpus.folders.map((f) => [f.segments.join('/'), f.messages.length]),
      [
        ['INBOX', 5],
        ['A/B', 5],
      ],
    );
    const expected = expectedFromCorpus(corpus, '.', 'INBOX.');
    assert.deepEqual(
      expected.folders.map((f) => f.path),
      ['INBOX', 'INBOX.A.B'],
    );
  });
});

describe('generateFolderOfSize', () => {
  test('about the asked total, deterministically', () => {
    const folder = generateFolderOfSize({ seed: 9, totalBytes: 8 * 1024 * 1024, segments: ['Bench'] });
    const total = folder.messages.reduce((s, m) => s + m.raw.length, 0);
    assert.ok(Math.abs(total - 8 * 1024 * 1024) / (8 * 1024 * 1024) < 0.05, `total ${total}`);
    assert.deepEqual(folder.segments, ['Bench']);
    assert.deepEqual(generateFolderOfSize({ seed: 9, totalBytes: 8 * 1024 * 1024, segments: ['Bench'] }), folder);
  });

  test('an exact message count', () => {
    const folder = generateFolderOfSize({ seed: 9, messages: 250, totalBytes: 2 * 1024 * 1024 });
    assert.equal(folder.messages.length, 250);
    assert.ok(folder.messages.every((m) => m.raw.length >= 800));
  });
});
