import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMimeWords } from './mime-words.js';

test('encoded words in a subject read as text; the space between two of them goes, other text stays', () => {
  assert.equal(decodeMimeWords('=?UTF-8?B?R3Jvw59lIERhdGVpIDIzOiBxdWFydGVyIGJpZW50?= =?UTF-8?B?w7R0?='), 'Große Datei 23: quarter bientôt');
  assert.equal(decodeMimeWords('=?ISO-8859-1?Q?Caf=E9_cr=E8me?= und mehr'), 'Café crème und mehr');
  assert.equal(decodeMimeWords('Re: =?utf-8?q?=C3=9Cberfahrt?='), 'Re: Überfahrt');
  assert.equal(decodeMimeWords('Plain subject'), 'Plain subject');
  assert.equal(decodeMimeWords('a =?x-unknown?B?AAAA?= b'), 'a =?x-unknown?B?AAAA?= b', 'an unknown charset stays as written');
  assert.equal(decodeMimeWords('=?UTF-8?B?/w==?='), '=?UTF-8?B?/w==?=', 'bytes that are not UTF-8 stay as written');
  assert.equal(decodeMimeWords('x =?UTF-8?Q?a?=  y'), 'x a  y', 'space before ordinary text is kept');
});
