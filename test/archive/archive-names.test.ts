/** Folder names → file names valid on Windows, macOS and Linux, and back. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileNameKey, fileNameToSegment, MAX_NAME_BYTES, messageFileName, segmentToFileName, THUNDERBIRD_RESERVED_SUFFIXES } from '../../src/archive/archive-names.js';
import { maildirSegment, maildirSegmentName } from '../../src/archive/maildir-store.js';
import { decodeModifiedUtf7, encodeModifiedUtf7 } from '../../src/archive/modified-utf7.js';

/** What no file name may be on any of the three systems. */
const assertPortable = (name: string): void => {
  assert.ok(name.length > 0, 'empty name');
  assert.doesNotMatch(name, /[<>:"/\\|?*\u0000-\u001f\u007f]/, `${JSON.stringify(name)} has a character Windows forbids`);
  assert.doesNotMatch(name, /[. ]$/, `${JSON.stringify(name)} ends in a dot or space (Windows drops it)`);
  assert.doesNotMatch(name, /^\./, `${JSON.stringify(name)} starts with a dot (hidden, ignored by Thunderbird)`);
  assert.doesNotMatch(name, /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\.|$)/i, `${JSON.stringify(name)} is a Windows device name`);
  assert.ok(Buffer.byteLength(name, 'utf8') <= 255, `${JSON.stringify(name)} is longer than 255 bytes`);
  assert.equal(name, name.normalize('NFC'));
};

const AWKWARD = [
  'CON',
  'con',
  'Aux',
  'aux.txt',
  'NUL.tar.gz',
  'COM1',
  'lpt9.log',
  'COM¹',
  'CONOUT$',
  'Console', // not reserved: stays as it is
  'Reports.',
  'Reports...',
  'trailing space ',
  '.hidden',
  '~home',
  'a/b',
  'back\\slash',
  'Q1: plans?',
  'Re: "quotes" <angle> |pipe| *star*',
  '100% sure',
  'tab\there',
  'Überfahrt',
  'Été & Co',
  '日本語',
  'Ελληνικά',
  'emoji 📬 box',
  'e\u0301te\u0301', // decomposed (macOS NFD): becomes NFC
  'x'.repeat(300),
  'Ä'.repeat(150),
];

describe('segmentToFileName', () => {
  test('every awkward folder name becomes a portable file name', () => {
    for (const name of AWKWARD) assertPortable(segmentToFileName(name));
    for (const name of AWKWARD) assertPortable(segmentToFileName(name, { reservedSuffixes: THUNDERBIRD_RESERVED_SUFFIXES }));
    for (const name of AWKWARD) assertPortable(maildirSegment(name));
  });

  test('Windows device names are escaped in any case and with extensions; lookalikes are not', () => {
    assert.equal(segmentToFileName('CON'), '%43ON');
    assert.equal(segmentToFileName('con'), '%63on');
    assert.equal(segmentToFileName('aux.txt'), '%61ux.txt');
    assert.equal(segmentToFileName('Console'), 'Console');
    assert.equal(segmentToFileName('CONTACTS'), 'CONTACTS');
  });

  test('trailing dots and spaces, leading dots, and forbidden characters are escaped, letters are not', () => {
    assert.equal(segmentToFileName('Reports.'), 'Reports%2E');
    assert.equal(segmentToFileName('Reports..'), 'Reports%2E%2E');
    assert.equal(segmentToFileName('a b '), 'a b%20');
    assert.equal(segmentToFileName('.hidden'), '%2Ehidden');
    assert.equal(segmentToFileName('Q1: plans?'), 'Q1%3A plans%3F');
    assert.equal(segmentToFileName('100%'), '100%25');
    assert.equal(segmentToFileName('Überfahrt'), 'Überfahrt');
    assert.equal(segmentToFileName('日本語'), '日本語');
  });

  test('the mapping is reversible for every name short enough', () => {
    for (const name of AWKWARD.filter((n) => Buffer.byteLength(n) < 150)) {
      assert.equal(fileNameToSegment(segmentToFileName(name)), name.normalize('NFC'), name);
      assert.equal(fileNameToSegment(segmentToFileName(name, { reservedSuffixes: THUNDERBIRD_RESERVED_SUFFIXES })), name.normalize('NFC'), name);
      assert.equal(maildirSegmentName(maildirSegment(name)), name.normalize('NFC'), name);
    }
  });

  test('Thunderbird suffixes are not left at the end of a folder name', () => {
    const name = segmentToFileName('Projects.sbd', { reservedSuffixes: THUNDERBIRD_RESERVED_SUFFIXES });
    assert.equal(name, 'Projects%2Esbd');
    assert.equal(fileNameToSegment(name), 'Projects.sbd');
    assert.equal(segmentToFileName('notes.msf', { reservedSuffixes: THUNDERBIRD_RESERVED_SUFFIXES }), 'notes%2Emsf');
  });

  test('too long names are cut at a character boundary and stay distinct', () => {
    const a = segmentToFileName('Ä'.repeat(150) + 'a');
    const b = segmentToFileName('Ä'.repeat(150) + 'b');
    assert.notEqual(a, b);
    assert.ok(Buffer.byteLength(a) <= MAX_NAME_BYTES);
    assert.ok(!a.includes('\ufffd'));
  });

  test('Maildir++ levels escape dots (the level separator) and are modified UTF-7 like Dovecot writes them', () => {
    assert.equal(maildirSegment('Überfahrt'), '&ANw-berfahrt');
    assert.equal(maildirSegment('Été & Co'), '&AMk-t&AOk- &- Co');
    assert.equal(maildirSegment('v1.2'), 'v1%2E2');
    assert.equal(maildirSegmentName('&ZeVnLIqe-'), '日本語');
  });

  test('names equal on a case-insensitive file system get the same key', () => {
    assert.equal(fileNameKey('Work'), fileNameKey('work'));
    assert.equal(fileNameKey('e\u0301'), fileNameKey('é'));
  });
});

describe('modified UTF-7', () => {
  test('round-trips and matches RFC 3501 examples', () => {
    assert.equal(encodeModifiedUtf7('~peter/mail/台北/日本語'), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
    assert.equal(decodeModifiedUtf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-'), '~peter/mail/台北/日本語');
    for (const s of ['&', 'a&b', 'emoji 📬', 'Ελληνικά']) assert.equal(decodeModifiedUtf7(encodeModifiedUtf7(s)), s);
  });
});

describe('messageFileName', () => {
  test('date and subject, portable, with the .eml extension', () => {
    const name = messageFileName(new Date('2004-03-02T14:05:09Z'), 'Re: Q1 plans? <draft> / final.');
    assert.equal(name, '2004-03-02 140509 Re_ Q1 plans_ _draft_ _ final.eml');
    assertPortable(name);
    assertPortable(messageFileName(new Date('2020-01-01T00:00:00Z'), 'x'.repeat(500)));
    assertPortable(messageFileName(new Date('2020-01-01T00:00:00Z'), undefined));
    assertPortable(messageFileName(new Date('2020-01-01T00:00:00Z'), 'Fähre — Überfahrt\tam Montag'));
  });
});
