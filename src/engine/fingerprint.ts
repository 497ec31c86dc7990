/**
 * Message identity across stores and UIDVALIDITY changes. A UID means nothing on another server,
 * and Message-ID is missing or duplicated in real mail, so a message is identified by a hash of
 * its size and a fixed set of header fields. Byte-identical twins share a fingerprint; the copier
 * keeps them apart by counting (a multiset), never by collapsing them.
 */
import { createHash } from 'node:crypto';

/** The header fields that make up the fingerprint, as requested from IMAP servers. */
export const FINGERPRINT_HEADERS = ['MESSAGE-ID', 'DATE', 'FROM', 'TO', 'CC', 'SUBJECT', 'IN-REPLY-TO', 'RESENT-MESSAGE-ID'] as const;
const FINGERPRINT_HEADER_SET = new Set<string>(FINGERPRINT_HEADERS);

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

/** Parses a header block (latin1 so any byte survives) into unfolded fields. */
export const parseHeaderFields = (block: Buffer): HeaderField[] => {
  const text = block.toString('latin1');
  const fields: HeaderField[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  for (const f of fields) f.value = f.value.replace(/\s+/g, ' ');
  return fields;
};

/**
 * Fingerprint from the identifying header fields and the size. Fields are taken in their
 * original order (servers return HEADER.FIELDS in message order), so a message whose fields
 * appear in a different order is a different message, which is what bytes say too.
 */
export const fingerprintFromHeaders = (headerBlock: Buffer, sizeBytes: number): string => {
  const hash = createHash('sha256');
  hash.update(`size:${sizeBytes}\n`);
  for (const field of parseHeaderFields(headerBlock)) {
    if (!FINGERPRINT_HEADER_SET.has(field.name.toUpperCase())) continue;
    hash.update(`${field.name}:${field.value}\n`);
  }
  return hash.digest('base64url').slice(0, 32);
};

/** Fingerprint of a whole raw message (archives, tests): same result as the IMAP path. */
export const fingerprintOfMessage = (raw: Buffer): string =>
  fingerprintFromHeaders(raw.subarray(0, headerBlockEnd(raw)), raw.length);

/** First value of a header field, for reports (subject, date, message-id). */
export const headerValue = (fields: HeaderField[], name: string): string | undefined =>
  fields.find((f) => f.name === name.toLowerCase())?.value;
