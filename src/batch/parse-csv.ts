/**
 * Reads CSV as RFC 4180 writes it, strictly: fields separated by commas, records by line breaks
 * (CRLF as the RFC says, and LF or CR alone as other programs write them), a field in double
 * quotes may hold commas, line breaks and doubled quotes. What the RFC does not allow is refused
 * with the line it is on rather than guessed at: a quote inside an unquoted field, text after a
 * closing quote, a quoted field that never ends. Empty lines are not records. Each record knows
 * the file line it starts on, so a person can be told where to look.
 */
import { err, ok, type Result } from '../contract/result.js';

/** One record of a CSV file. */
export interface CsvRecord {
  fields: string[];
  /** The file line (1-based) the record starts on. */
  line: number;
}

/** Where and why a file is not RFC 4180 CSV. */
export interface CsvSyntaxError {
  /** The file line (1-based) of the problem. */
  line: number;
  reason: string;
}

const QUOTE = 34;
const COMMA = 44;
const CR = 13;
const LF = 10;

/** The records of a CSV text (BOM already removed), or the first syntax error with its line. */
export const parseCsv = (text: string): Result<CsvRecord[], CsvSyntaxError> => {
  const records: CsvRecord[] = [];
  const n = text.length;
  let line = 1;
  let i = 0;
  const isBreak = (at: number): boolean => text.charCodeAt(at) === CR || text.charCodeAt(at) === LF;
  /** Steps over one line break (CR, LF or CRLF) at i. */
  const skipBreak = (): void => {
    i += text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
    line++;
  };
  /** Reads the field at i; leaves i at the comma, line break or end after it. */
  const readField = (): Result<string, CsvSyntaxError> => {
    if (text.charCodeAt(i) !== QUOTE) {
      const start = i;
      while (i < n && text.charCodeAt(i) !== COMMA && !isBreak(i)) {
        if (text.charCodeAt(i) === QUOTE) return err({ line, reason: 'a quote inside a field that does not start with one (enclose the field in quotes and double the quote: "a ""b"" c")' });
        i++;
      }
      return ok(text.slice(start, i));
    }
    const startLine = line;
    let value = '';
    i++;
    for (;;) {
      const close = text.indexOf('"', i);
      if (close < 0) return err({ line: startLine, reason: 'a quoted field is never closed (a " is missing)' });
      for (let k = i; k < close; k++) {
        const code = text.charCodeAt(k);
        if (code === LF || (code === CR && text.charCodeAt(k + 1) !== LF)) line++;
      }
      value += text.slice(i, close);
      i = close + 1;
      if (text.charCodeAt(i) !== QUOTE) break;
      value += '"';
      i++;
    }
    if (i < n && text.charCodeAt(i) !== COMMA && !isBreak(i)) return err({ line, reason: 'text follows the closing quote of a field (a quote inside a field is written "")' });
    return ok(value);
  };

  for (;;) {
    // Empty lines are not records.
    while (i < n && isBreak(i)) skipBreak();
    if (i >= n) break;
    const record: CsvRecord = { fields: [], line };
    for (;;) {
      const field = readField();
      if (!field.ok) return field;
      record.fields.push(field.value);
      if (text.charCodeAt(i) !== COMMA) break;
      i++;
    }
    records.push(record);
    if (i < n) skipBreak();
  }
  return ok(records);
};
