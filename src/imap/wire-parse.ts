/**
 * Reads the parts of server responses the wire source needs: FETCH data items, SEARCH and
 * ESEARCH results, NAMESPACE, INTERNALDATE. Literals come from the response's literal list,
 * in order, where the text shows their `{n}` marker.
 *
 * Invariants: whatever a server sends, these functions end in time linear in their input (UID
 * sets are expanded only up to a bound the caller gives), and throw nothing but
 * WireProtocolError (lists nested deeper than MAX_NESTING, a literal marker without its
 * literal, more UIDs than the folder can hold).
 */
import { isMessageBytes, joinedBytes, type MessageBytes } from '../engine/message-bytes.js';
import type { WireResponse } from './response-reader.js';
import { invalidResponse, MAX_NESTING, MAX_UNTAGGED_PER_COMMAND, serverOverrun } from './server-limits.js';

/** A parsed token: atom or number (string), quoted string (Buffer), literal (a large one as pieces), NIL (null), or a list. */
export type Token = string | MessageBytes | null | Token[];

/** `{n}`, `{n+}` or `~{n}` where the tokenizer stands (sticky). */
const LITERAL_MARKER = /~?\{(\d+)\+?\}/y;

class Tokenizer {
  pos = 0;
  private literal = 0;

  constructor(
    private readonly text: string,
    private readonly literals: MessageBytes[],
  ) {}

  private skipSpaces(): void {
    while (this.text[this.pos] === ' ') this.pos++;
  }

  get isAtEnd(): boolean {
    this.skipSpaces();
    return this.pos >= this.text.length;
  }

  /** One token; `)` ends a list and is returned as undefined. */
  next(nesting = 0): Token | undefined {
    this.skipSpaces();
    const c = this.text[this.pos];
    if (c === undefined) return undefined;
    if (c === ')') {
      this.pos++;
      return undefined;
    }
    if (c === '(') {
      if (nesting >= MAX_NESTING) throw invalidResponse(`The server sent lists nested more than ${MAX_NESTING} deep.`);
      this.pos++;
      const list: Token[] = [];
      for (let token = this.next(nesting + 1); token !== undefined; token = this.next(nesting + 1)) list.push(token);
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
        if (!buffer) throw invalidResponse('A literal is missing from the response.');
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

const asString = (t: Token | undefined): string | undefined => (typeof t === 'string' ? t : isMessageBytes(t) ? joinedBytes(t).toString('latin1') : undefined);

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

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTHS: Record<string, number> = Object.fromEntries(MONTH_NAMES.map((name, i) => [name.toUpperCase(), i]));

/** IMAP date-time in UTC: ` 7-Feb-2004 09:05:01 +0000` (day space-padded, as RFC 3501 writes it). */
export const formatInternalDate = (date: Date): string | undefined => {
  if (Number.isNaN(date.getTime())) return undefined;
  const day = String(date.getUTCDate()).padStart(2, ' ');
  return `${day}-${MONTH_NAMES[date.getUTCMonth()]}-${date.getUTCFullYear()} ${date.toISOString().slice(11, 19)} +0000`;
};

/** An IMAP search date (RFC 3501 `date`: 7-Dec-2026), the day of `date` in UTC. */
export const formatSearchDate = (date: Date): string => `${date.getUTCDate()}-${MONTH_NAMES[date.getUTCMonth()]}-${date.getUTCFullYear()}`;

/** `17-Jul-1996 02:44:25 -0700` (day may be space-padded) as a Date; invalid → Invalid Date. */
export const parseInternalDate = (value: string): Date => {
  const m = /^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\s*$/.exec(value);
  const month = m ? MONTHS[(m[2] as string).toUpperCase()] : undefined;
  if (!m || month === undefined) return new Date(NaN);
  const offsetMinutes = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  return new Date(Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offsetMinutes * 60_000);
};

/**
 * Expands an IMAP sequence set of UIDs ("1:3,7") into numbers; undefined when it holds more
 * than `max` (a server's "1:4294967295" would otherwise be four billion numbers).
 */
export const expandUidSet = (set: string, max: number): number[] | undefined => {
  const uids: number[] = [];
  for (const part of set.split(',')) {
    if (!part) continue;
    const [a, b] = part.split(':');
    const from = Number(a);
    const to = b === undefined ? from : Number(b);
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) continue;
    if (uids.length + Math.abs(to - from) + 1 > max) return undefined;
    for (let u = Math.min(from, to); u <= Math.max(from, to); u++) uids.push(u);
  }
  return uids;
};

/**
 * UIDs of `* SEARCH 1 2 3` responses, or of `* ESEARCH (TAG "x") UID ALL 1:3,7` responses
 * (only those of command `tag` when given). More than `max` UIDs (more than the folder can
 * hold) throw WireProtocolError.
 */
export const searchResults = (untagged: WireResponse[], tag: string | undefined, max: number): number[] => {
  const uids: number[] = [];
  const tooMany = (): Error => serverOverrun(`${max.toLocaleString('en-US')} messages in a search of one folder`);
  for (const r of untagged) {
    const search = /^\* SEARCH(?: (.*))?$/is.exec(r.text);
    if (search && tag === undefined) {
      const list = search[1] ?? '';
      const numbers = /\d+/g;
      for (let n = numbers.exec(list); n; n = numbers.exec(list)) {
        if (uids.length >= max) throw tooMany();
        uids.push(Number(n[0]));
      }
      continue;
    }
    const esearch = /^\* ESEARCH \(TAG "([^"]*)"\)(.*)$/is.exec(r.text);
    if (!esearch || (tag !== undefined && esearch[1] !== tag)) continue;
    const all = /\bALL ([\d:,]+)/i.exec(esearch[2] as string);
    const expanded = all ? expandUidSet(all[1] as string, max - uids.length) : [];
    if (!expanded) throw tooMany();
    for (const uid of expanded) uids.push(uid);
  }
  return uids;
};

/**
 * How many UIDs a search of a folder of `exists` messages may honestly return: mail may arrive
 * while it runs, but not more than the folder held twice over.
 */
export const searchBound = (exists: number): number => 2 * exists + MAX_UNTAGGED_PER_COMMAND;

/** The largest `* n EXISTS` among these responses (0 without one). */
export const existsOf = (untagged: WireResponse[]): number =>
  untagged.reduce((largest, r) => Math.max(largest, Number(/^\* (\d{1,10}) EXISTS/i.exec(r.text)?.[1] ?? 0)), 0);

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
