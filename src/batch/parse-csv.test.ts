import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseCsv } from './parse-csv.js';

/** RFC 4180 writing: quote a field that holds a comma, quote or line break, doubling quotes. */
const quote = (field: string): string => (/[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field);

const fieldsOf = (text: string) => {
  const parsed = parseCsv(text);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.value.map((r) => r.fields);
};

describe('parseCsv', () => {
  test('RFC 4180 examples: quoted commas, quotes and line breaks; CRLF, LF and a missing last line break', () => {
    assert.deepEqual(fieldsOf('id,from\r\nalice,"imaps://a@h"\r\n'), [['id', 'from'], ['alice', 'imaps://a@h']]);
    assert.deepEqual(fieldsOf('a,"b,c","d""e",f\n"line\r\nbreak",,'), [['a', 'b,c', 'd"e', 'f'], ['line\r\nbreak', '', '']]);
    assert.deepEqual(fieldsOf('"",x'), [['', 'x']]);
    assert.deepEqual(fieldsOf(' a , b '), [[' a ', ' b ']], 'spaces belong to the field');
  });

  test('empty lines are not records; every record knows the line it starts on', () => {
    const parsed = parseCsv('h1,h2\n\n"a\nb",c\r\n\r\nd,e\n');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value.map((r) => r.line), [1, 3, 6]);
  });

  test('what RFC 4180 does not allow is refused with its line', () => {
    assert.deepEqual(parseCsv('a,b\nc,d"e\n'), { ok: false, error: { line: 2, reason: 'a quote inside a field that does not start with one (enclose the field in quotes and double the quote: "a ""b"" c")' } });
    const after = parseCsv('a\n"b"c,d');
    assert.ok(!after.ok);
    assert.equal(after.error.line, 2);
    assert.match(after.error.reason, /text follows the closing quote/);
    const open = parseCsv('a\nb\n"c,\nd\ne');
    assert.ok(!open.ok);
    assert.deepEqual([open.error.line, open.error.reason], [3, 'a quoted field is never closed (a " is missing)']);
  });

  test('property: any table written as RFC 4180 (CRLF or LF) reads back the same, with the right lines', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', '"', '\r', '\n', '\r\n', 'é', '日', ';', '=', "'"), maxLength: 8 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((width) => fc.array(fc.array(field, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 8 })),
        fc.constantFrom('\r\n', '\n'),
        fc.boolean(),
        (rows, eol, isTerminated) => {
          // A record of one empty field would be an empty line, which is no record: the writer quotes it.
          const lines = rows.map((r) => (r.length === 1 && r[0] === '' ? '""' : r.map(quote).join(',')));
          const text = lines.join(eol) + (isTerminated ? eol : '');
          const parsed = parseCsv(text);
          assert.ok(parsed.ok, JSON.stringify(parsed));
          assert.deepEqual(parsed.value.map((r) => r.fields), rows);
          let expectedLine = 1;
          for (const [i, record] of parsed.value.entries()) {
            assert.equal(record.line, expectedLine);
            const breaks = (lines[i] as string).match(/\r\n|\r|\n/g)?.length ?? 0;
            expectedLine += breaks + 1;
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test('property: any text either parses or is refused with a line inside it; never a throw', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', ' '), maxLength: 40 }), (text) => {
        const parsed = parseCsv(text);
        const lines = (text.match(/\r\n|\r|\n/g)?.length ?? 0) + 1;
        if (!parsed.ok) assert.ok(parsed.error.line >= 1 && parsed.error.line <= lines, JSON.stringify({ text, parsed }));
        else for (const r of parsed.value) assert.ok(r.line >= 1 && r.line <= lines);
      }),
      { numRuns: 1000 },
    );
  });
});
