/**
 * Reports carry text chosen by whoever sent the mail or runs the old server (subjects, folder
 * names, server messages). In CSV a cell a spreadsheet would evaluate is neutralised with a
 * leading `'` (OWASP: `= + - @`, tab, CR, and here also LF and the full-width `＝ ＋ － ＠`); the
 * HTML report escapes markup. Checked on single cells, on whole reports (random text, read back
 * with an RFC 4180 parser), and through the app's export channel (file mode 0600 too).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { saveJobReport } from '../jobs/job-records.js';
import { createAppService } from './app-service.js';
import { csvCell, reportToCsv, reportToHtml } from './report-export.js';
import { reportWithFailures } from '../../test/support/report-fixtures.js';

const FORMULA_STARTS = ['=', '+', '-', '@', '\t', '\r', '\n', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20'];

/** RFC 4180: rows of cells; quoted cells may hold commas, quotes (doubled) and line breaks. */
const parseCsv = (text: string): string[][] => {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let isQuoted = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (isQuoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
      } else if (c === '"') {
        isQuoted = false;
        i++;
      } else {
        cell += c;
        i++;
      }
    } else if (c === '"') {
      isQuoted = true;
      i++;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 2;
    } else {
      cell += c;
      i++;
    }
  }
  assert.equal(isQuoted, false, 'a quoted cell is closed');
  assert.equal(row.length + cell.length, 0, 'the text ends with CRLF');
  return rows;
};

const isFormula = (cell: string): boolean => FORMULA_STARTS.some((s) => cell.startsWith(s));

describe('CSV cells a spreadsheet would evaluate are neutralised', () => {
  test("every formula start, ASCII or full-width, gets a leading '; ordinary text is left alone", () => {
    for (const start of FORMULA_STARTS) {
      const text = `${start}HYPERLINK("http://evil.example","click")`;
      const [[cell]] = parseCsv(csvCell(text) + '\r\n') as [[string]];
      assert.equal(cell, `'${text}`, JSON.stringify(start));
    }
    for (const text of ['Inbox', 'Re: =?utf-8?q?x?=', 'a=b', ' =1+1', "'quoted", '', 'Überfahrt']) {
      const [[cell]] = parseCsv(csvCell(text) + '\r\n') as [[string]];
      assert.equal(cell, text);
    }
    assert.equal(csvCell(3), '3');
  });

  test('any text reads back as itself, or as itself behind one quote when it would be a formula', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: fc.constantFrom(...FORMULA_STARTS, '"', ',', 'a', ' ', "'") })), (text) => {
        const [[cell], ...rest] = parseCsv(csvCell(text) + '\r\n') as [[string]];
        assert.equal(rest.length, 0);
        assert.equal(isFormula(cell), false);
        assert.equal(cell, isFormula(text) ? `'${text}` : text);
      }),
      { numRuns: 2000 },
    );
  });

  test('a whole report with hostile folder names, subjects and server words keeps its rows and columns, and no cell is a formula', () => {
    const hostile = fc.string({ unit: fc.constantFrom(...FORMULA_STARTS, '"', ',', '\r\n', 'x', '<', '>') });
    fc.assert(
      fc.property(fc.array(fc.record({ folder: hostile, subject: hostile, server: hostile, reason: hostile }), { maxLength: 5 }), (texts) => {
        const rows = parseCsv(reportToCsv(reportWithFailures(texts)));
        assert.equal(rows.length, 1 + 2 * texts.length);
        for (const row of rows) {
          assert.equal(row.length, 16);
          for (const cell of row) assert.equal(isFormula(cell), false, JSON.stringify(cell));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the HTML report escapes what it shows', () => {
  test('markup in folder names, subjects and server words is shown as text', () => {
    const html = reportToHtml(reportWithFailures([{ folder: '<img src=x onerror=alert(1)>', subject: '"><script>alert(2)</script>', server: "' onmouseover='x", reason: '&lt;' }]));
    assert.doesNotMatch(html, /<img|<script|' onmouseover/);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(html, /&quot;&gt;&lt;script&gt;/);
    assert.match(html, /&#39; onmouseover=&#39;x/);
    assert.match(html, /&amp;lt;/);
  });
});

describe('exporting a report through the app', () => {
  test('the CSV written for reports:export is neutralised and readable by the user only', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'mailferry-export-'));
    try {
      const report = reportWithFailures([{ folder: '=cmd|"/c calc"!A1', subject: '\uFF1DSUM(A1)', server: '\t+1', reason: '@x' }]);
      await saveJobReport(stateDir, report);
      const target = path.join(stateDir, 'exported.csv');
      const service = createAppService({
        stateDir,
        settings: { getAccount: () => undefined, setAccount: () => undefined },
        vault: { save: () => undefined, load: () => undefined, remove: () => undefined },
        emit: () => undefined,
        chooseSavePath: async () => target,
      });
      const saved = await service['reports:export']({ jobId: report.jobId, format: 'csv' });
      assert.ok(saved.ok, JSON.stringify(saved));
      assert.equal(statSync(target).mode & 0o777, 0o600);
      const rows = parseCsv(readFileSync(target, 'utf8'));
      assert.deepEqual(rows[1]?.slice(0, 2), ['folder', `'=cmd|"/c calc"!A1`]);
      assert.deepEqual([rows[2]?.[12], rows[2]?.[14], rows[2]?.[15]], ['\'\uFF1DSUM(A1)', "'@x", "'\t+1"]);
      await service.shutdown();
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
