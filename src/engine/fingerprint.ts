/**
 * Message identity across stores and UIDVALIDITY changes. A UID means nothing on another server,
 * and Message-ID is missing or duplicated in real mail, so a message is identified by a hash of
 * its size and a fixed set of header fields. Byte-identical twins share a fingerprint; the copier
 * keeps them apart by counting (a multiset), never by collapsing them.
 */
import crypto, { createHash } from 'node:crypto';

/** The header fields that make up the fingerprint, as requested from IMAP servers. */
export const FINGERPRINT_HEADERS = ['MESSAGE-ID', 'DATE', 'FROM', 'TO', 'CC', 'SUBJECT', 'IN-REPLY-TO', 'RESENT-MESSAGE-ID'] as const;

/** One header field, unfolded: name lowercased, value with whitespace runs collapsed. */
export interface HeaderField {
  name: string;
  value: string;
}

/** The end of the header block: the first empty line (CRLF CRLF, or bare LF LF in sloppy mail). */
export const headerBlockEnd = (raw: Buffer): number => {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return raw.length;
  if (crlf < 0) return lf + 2;
  if (lf < 0) return crlf + 4;
  return Math.min(crlf + 4, lf + 2);
};

/** True when replace(/\s+/g, ' ') would change the value: a whitespace run other than one space. */
const hasWhitespaceToCollapse = (value: string): boolean => /[^\S ]| {2}/.test(value);

/**
 * Parses a header block (latin1 so any byte survives) into unfolded fields. Runs for every
 * message listed, so it walks the text by index instead of splitting it: the result is the
 * same as splitting on /\r?\n/, folding continuation lines, trimming and collapsing whitespace
 * runs (\s, as JavaScript defines it) to one space; fingerprints depend on that staying so.
 */
export const parseHeaderFields = (block: Buffer): HeaderField[] => {
  const text = block.toString('latin1');
  const fields: HeaderField[] = [];
  let start = 0;
  while (start <= text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    // "\r\n" ends a line; a lone "\r" at the very end of the block does not (as with split).
    const lineEnd = newline >= 0 && end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    if (lineEnd === start) break;
    const first = text.charCodeAt(start);
    const last = fields[fields.length - 1];
    if ((first === 32 || first === 9) && last) {
      last.value += ' ' + text.slice(start, lineEnd).trim();
    } else {
      const colon = text.indexOf(':', start);
      if (colon > start && colon < lineEnd) fields.push({ name: text.slice(start, colon).trim().toLowerCase(), value: text.slice(colon + 1, lineEnd).trim() });
    }
    if (newline < 0) break;
    start = newline + 1;
  }
  for (const f of fields) if (hasWhitespaceToCollapse(f.value)) f.value = f.value.replace(/\s+/g, ' ');
  return fields;
};

const FINGERPRINT_FIELD_NAMES = new Set<string>(FINGERPRINT_HEADERS.map((name) => name.toLowerCase()));

/**
 * Fingerprint from the identifying header fields and the size. Fields are taken in their
 * original order (servers return HEADER.FIELDS in message order), so a message whose fields
 * appear in a different order is a different message, which is what bytes say too.
 */
export const fingerprintFromFields = (fields: readonly HeaderField[], sizeBytes: number): string => {
  let input = `size:${sizeBytes}\n`;
  for (const field of fields) if (FINGERPRINT_FIELD_NAMES.has(field.name)) input += `${field.name}:${field.value}\n`;
  return sha256Base64url32(input);
};

/**
 * The first 32 base64url characters of SHA-256 (the first 24 bytes, encoded): a flat string, not
 * a slice pinning the whole digest's text, as a journal holds one per message. One-shot
 * crypto.hash where Node has it (20.12+): no Hash object per message listed.
 */
const sha256Base64url32: (input: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (input) => (crypto as unknown as { hash: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash('sha256', input, 'buffer').toString('base64url', 0, 24)
    : (input) => createHash('sha256').update(input).digest().toString('base64url', 0, 24);

export const fingerprintFromHeaders = (headerBlock: Buffer, sizeBytes: number): string => fingerprintFromFields(parseHeaderFields(headerBlock), sizeBytes);

/** Fingerprint of a whole raw message (archives, tests): same result as the IMAP path. */
export const fingerprintOfMessage = (raw: Buffer): string =>
  fingerprintFromHeaders(raw.subarray(0, headerBlockEnd(raw)), raw.length);

/** First value of a header field, for reports (subject, date, message-id). */
export const headerValue = (fields: HeaderField[], name: string): string | undefined =>
  fields.find((f) => f.name === name.toLowerCase())?.value;
