/**
 * Reads the parts of server responses the wire source needs: FETCH data items, SEARCH and
 * ESEARCH results, NAMESPACE, INTERNALDATE. Literals come from the response's literal list,
 * in order, where the text shows their `{n}` marker.
 */
import type { WireResponse } from './wire-session.js';

/** A parsed token: atom or number (string), quoted string, literal (Buffer), NIL (null), or a list. */
export type Token = string | Buffer | null | Token[];

/** `{n}`, `{n+}` or `~{n}` where the tokenizer stands (sticky). */
const LITERAL_MARKER = /~?\{(\d+)\+?\}/y;

class Tokenizer {
  pos = 0;
  private literal = 0;

  constructor(
    private readonly text: string,
    private readonly literals: Buffer[],
  ) {}

  private skipSpaces(): void {
    while (this.text[this.pos] === ' ') this.pos++;
  }

  get isAtEnd(): boolean {
    this.skipSpaces();
    return this.pos >= this.text.length;
  }

  /** One token; `)` ends a list and is returned as undefined. */
  next(): Token | undefined {
    this.skipSpaces();
    const c = this.text[this.pos];
    if (c === undefined) return undefined;
    if (c === ')') {
      this.pos++;
      return undefined;
    }
    if (c === '(') {
      this.pos++;
      const list: Token[] = [];
      for (let token = this.next(); token !== undefined; token = this.next()) list.push(token);
      return list;
    }
    if (c === '"') {
      const end = this.text.indexOf('"', this.pos + 1);
      const escape = this.text.indexOf('\\', this.pos + 1);
      if (end >= 0 && (escape < 0 || escape > end)) {
        // No backslash inside: the common case (INTERNALDATE), taken as one slice.
        const value = this.text.slice(this.pos + 1, end);
        this.pos = end + 1;
        return Buffer.from(value, 'latin1');
      }
      let value = '';
      this.pos++;
      while (this.pos < this.text.length && this.text[this.pos] !== '"') {
        if (this.text[this.pos] === '\\') this.pos++;
        value += this.text[this.pos] ?? '';
        this.pos++;
      }
      this.pos++;
      return Buffer.from(value, 'latin1');
    }
    if (c === '{' || (c === '~' && this.text[this.pos + 1] === '{')) {
      LITERAL_MARKER.lastIndex = this.pos;
      const literal = LITERAL_MARKER.exec(this.text);
      if (literal) {
        this.pos += literal[0].length;
        const buffer = this.literals[this.literal++];
        if (!buffer) throw Object.assign(new Error('A literal is missing from the response.'), { code: 'InvalidResponse' });
        return buffer;
      }
    }
    // An atom; a [section] may hold spaces and parentheses (BODY[HEADER.FIELDS (A B)]).
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos] as string;
      if (ch === '[') depth++;
      else if (ch === ']') depth--;
      else if (depth === 0 && (ch === ' ' || ch === ')' || ch === '(')) break;
      this.pos++;
    }
    const atom = this.text.slice(start, this.pos);
    return atom.length === 3 && atom.toUpperCase() === 'NIL' ? null : atom;
  }
}

const asString = (t: Token | undefined): string | undefined => (typeof t === 'string' ? t : Buffer.isBuffer(t) ? t.toString('latin1') : undefined);

/** The data items of `* n FETCH (...)`, keys upper-cased; undefined when it is not a FETCH. */
export const parseFetch = (response: WireResponse): Map<string, Token> | undefined => {
  const m = /^\* \d+ FETCH /i.exec(response.text);
  if (!m) return undefined;
  const tokenizer = new Tokenizer(response.text.slice(m[0].length), response.literals);
  const list = tokenizer.next();
  if (!Array.isArray(list)) return undefined;
  const items = new Map<string, Token>();
  for (let i = 0; i + 1 < list.length; i += 2) {
    const key = asString(list[i]);
    if (key !== undefined) items.set(key.toUpperCase(), list[i + 1] as Token);
  }
  return items;
};

export const tokenString = asString;

/** Flags of a FETCH FLAGS item. */
export const tokenFlags = (t: Token | undefined): string[] => (Array.isArray(t) ? t.map((f) => asString(f) ?? '').filter(Boolean) : []);

/** A number item (UID, RFC822.SIZE); undefined unless a plain decimal. */
export const tokenNumber = (t: Token | undefined): number | undefined => {
  const s = asString(t);
  return s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : undefined;
};

const MONTHS: Record<string, number> = { JAN: 0, FEB: 1, MAR: 2, APR: 3, MAY: 4, JUN: 5, JUL: 6, AUG: 7, SEP: 8, OCT: 9, NOV: 10, DEC: 11 };

/** `17-Jul-1996 02:44:25 -0700` (day may be space-padded) as a Date; invalid → Invalid Date. */
export const parseInternalDate = (value: string): Date => {
  const m = /^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\s*$/.exec(value);
  const month = m ? MONTHS[(m[2] as string).toUpperCase()] : undefined;
  if (!m || month === undefined) return new Date(NaN);
  const offsetMinutes = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  return new Date(Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offsetMinutes * 60_000);
};

/** Expands an IMAP sequence set of UIDs ("1:3,7") into numbers. */
export const expandUidSet = (set: string): number[] => {
  const uids: number[] = [];
  for (const part of set.split(',')) {
    if (!part) continue;
    const [a, b] = part.split(':');
    const from = Number(a);
    const to = b === undefined ? from : Number(b);
    if (!Number.isInteger(from) || !Number.isInteger(to)) continue;
    for (let u = Math.min(from, to); u <= Math.max(from, to); u++) uids.push(u);
  }
  return uids;
};

/**
 * UIDs of `* SEARCH 1 2 3` responses, or of `* ESEARCH (TAG "x") UID ALL 1:3,7` responses
 * (only those of command `tag` when given).
 */
export const searchResults = (untagged: WireResponse[], tag?: string): number[] => {
  const uids: number[] = [];
  for (const r of untagged) {
    const search = /^\* SEARCH(?: (.*))?$/i.exec(r.text);
    if (search && tag === undefined) {
      for (const n of (search[1] ?? '').trim().split(/\s+/)) if (/^\d+$/.test(n)) uids.push(Number(n));
      continue;
    }
    const esearch = /^\* ESEARCH \(TAG "([^"]*)"\)(.*)$/i.exec(r.text);
    if (!esearch || (tag !== undefined && esearch[1] !== tag)) continue;
    const all = /\bALL ([\d:,]+)/i.exec(esearch[2] as string);
    if (all) uids.push(...expandUidSet(all[1] as string));
  }
  return uids;
};

/** The first personal namespace of `* NAMESPACE (("" "/")) NIL NIL`. */
export const parseNamespace = (untagged: WireResponse[]): { prefix: string; delimiter: string } | undefined => {
  for (const r of untagged) {
    const m = /^\* NAMESPACE /i.exec(r.text);
    if (!m) continue;
    const personal = new Tokenizer(r.text.slice(m[0].length), r.literals).next();
    const first = Array.isArray(personal) ? personal[0] : undefined;
    if (!Array.isArray(first)) return undefined;
    return { prefix: asString(first[0]) ?? '', delimiter: asString(first[1]) ?? '/' };
  }
  return undefined;
};
