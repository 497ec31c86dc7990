/**
 * Text from servers and archives never acts on the terminal: `shown` and `terminalSafe` leave
 * no control character (C0, DEL, C1) or text-hiding Unicode mark in what they return, and
 * `jsonLine` stays the same JSON value while escaping the characters JSON.stringify writes raw.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { CopyPlan } from '../contract/plan.js';
import { formatPlan, formatReport, jsonLine, shown, terminalSafe } from './format.js';
import { reportWithFailures } from '../../test/support/report-fixtures.js';

/** What a terminal acts on or hides text with. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const UNSAFE_EXCEPT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** Strings rich in what hostile text uses: ESC sequences (CSI, OSC with BEL), C1 CSI, bidi overrides. */
const hostileText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\x1b', '[', '2J', ']0;', '\x07', '\x9b', '\x7f', '\r', '\n', '\t', '\u202e', '\u2066', '\u200b', '\ufeff', '\u2028', 'a', 'ü', '\\', '"'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
});

describe('terminal escaping', () => {
  test('shown: an ESC sequence, a C1 CSI, a bidi override and DEL become visible escapes', () => {
    assert.equal(shown('\x1b]0;pwned\x07Inbox'), '\\x1b]0;pwned\\x07Inbox');
    assert.equal(shown('a\x9b31mb\x7f'), 'a\\x9b31mb\\x7f');
    assert.equal(shown('gpj.\u202eexe'), 'gpj.\\u202eexe');
    assert.equal(shown('line\nbreak\r'), 'line\\x0abreak\\x0d');
    assert.equal(shown('Überfahrt / 旅行 \\ ok'), 'Überfahrt / 旅行 \\ ok');
    assert.equal(terminalSafe('a\nb\x1b[2J'), 'a\nb\\x1b[2J');
  });

  test('shown and terminalSafe leave nothing a terminal acts on, for any text', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        assert.doesNotMatch(shown(text), UNSAFE);
        assert.doesNotMatch(terminalSafe(text), UNSAFE_EXCEPT_NEWLINE);
        // Text without anything unsafe is shown as it is.
        if (!UNSAFE.test(text)) assert.equal(shown(text), text);
      }),
      { numRuns: 3000 },
    );
  });

  test('jsonLine: one line, the same value, no raw control character, DEL or C1', () => {
    fc.assert(
      fc.property(fc.dictionary(hostileText, fc.oneof(hostileText, fc.integer(), fc.array(hostileText, { maxLength: 3 }))), (value) => {
        const line = jsonLine(value);
        assert.ok(line.endsWith('\n'));
        const body = line.slice(0, -1);
        assert.doesNotMatch(body, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
        assert.deepEqual(JSON.parse(body), JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 1000 },
    );
  });

  test('the plan table and the report escape folder names, subjects and server words', () => {
    const evil = '\x1b]0;pwned\x07\x1b[2J\u202eWork\nnext';
    const plan: CopyPlan = {
      source: { delimiter: '/', prefix: '', capabilities: [] },
      destination: { delimiter: '/', prefix: '', capabilities: [] },
      folders: [
        {
          source: { path: evil, segments: [evil], delimiter: '/', isSelectable: true, messages: 1, sizeBytes: 10 },
          destinationPath: evil,
          reasons: [{ kind: 'sanitized', detail: `named ${evil}` }],
          destinationExists: false,
          collidesWith: [evil],
          isSelected: false,
          defaultUnselectedReason: evil,
        },
      ],
      selectedMessages: 0,
      selectedBytes: 0,
      hasCollisions: false,
    };
    const report = reportWithFailures([{ folder: evil, subject: evil, server: evil, reason: evil }]);
    for (const text of [formatPlan(plan), formatReport(report)]) {
      assert.doesNotMatch(text, UNSAFE_EXCEPT_NEWLINE);
      assert.match(text, /\\x1b\]0;pwned\\x07\\x1b\[2J\\u202eWork\\x0anext/);
      // The folder's line breaks are escaped: every line is one of ours.
      assert.ok(text.split('\n').every((line) => !line.startsWith('next')), text);
    }
  });
});
