/**
 * The mbox format, as read and written here.
 *
 * Writing: mboxrd. Each message is `From <sender> <asctime UTC>` + LF, then our envelope lines
 * (`Status:`, `X-Status:`, `X-Keywords:` as mutt and Dovecot write them, LF-terminated), then
 * the message bytes with every line matching `^>*From ` given one more `>`, then one empty line.
 * The message's own line endings (usually CRLF) are left as they are. Because mboxrd quoting is
 * reversible and the index records where our envelope ends, reading back our own file gives the
 * original bytes exactly.
 *
 * Reading files written by other tools (mutt, Thunderbird, ImportExportTools, procmail): we
 * assume mboxrd and remove one `>` from every `^>+From ` line. Those tools write mboxo, which
 * quotes only `^From ` and leaves `^>From ` as it is, so the two cannot be told apart in a file;
 * unquoting as mboxrd restores every `From ` line they quoted (the common case, and what DKIM
 * body hashes need) and differs from mboxo's own reading only for lines that were `>>From `
 * before quoting. An original `>From ` line in an mboxo file comes back as `From `: that loss
 * happened when the other tool wrote the file, and no reader can undo it.
 * A message starts at a line beginning `From ` at the start of the file or after an empty line;
 * the empty line before the next `From ` line is the separator, not part of the message.
 */

const LF = 0x0a;
const CR = 0x0d;
const GT = 0x3e;
const FROM_ = Buffer.from('From ', 'latin1');

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Thu Jan  1 00:00:00 1970`, in UTC (we read it back as UTC too). */
export const asctime = (date: Date): string => {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ${p2(date.getUTCHours())}:${p2(date.getUTCMinutes())}:${p2(date.getUTCSeconds())} ${date.getUTCFullYear()}`;
};

/** The `From ` line that opens a message (LF-terminated). The sender is a bare address without spaces. */
export const fromLine = (sender: string, date: Date): string => `From ${sender.replace(/\s+/g, '') || 'MAILER-DAEMON'} ${asctime(date)}\n`;

/**
 * The date of a `From ` line, read as UTC. Accepts the usual asctime shapes, with or without
 * a numeric zone or seconds (`From - Mon Jan  5 10:00:00 2004`, `... 2004 +0100`).
 */
export const parseFromLineDate = (line: string): Date | undefined => {
  const m = /(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:([+-]\d{4}|[A-Z]{3,4})\s+)?(\d{4})(?:\s+([+-]\d{4}))?/.exec(line);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[2] as string);
  let ms = Date.UTC(Number(m[8]), month, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const zone = m[7] && /^[+-]/.test(m[7]) ? m[7] : m[9];
  if (zone) {
    const sign = zone[0] === '-' ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  }
  return Number.isNaN(ms) ? undefined : new Date(ms);
};

/** Does the line at `start` match `^>*From `? */
const isFromLine = (buf: Buffer, start: number, end: number): boolean => {
  let i = start;
  while (i < end && buf[i] === GT) i++;
  return end - i >= FROM_.length && buf.compare(FROM_, 0, FROM_.length, i, i + FROM_.length) === 0;
};

/** mboxrd quoting: one more `>` before every line matching `^>*From `. */
export const quoteMboxrd = (raw: Buffer): Buffer => {
  const chunks: Buffer[] = [];
  let last = 0;
  for (let start = 0; start < raw.length; ) {
    const nl = raw.indexOf(LF, start);
    const end = nl < 0 ? raw.length : nl + 1;
    if (isFromLine(raw, start, end)) {
      chunks.push(raw.subarray(last, start), Buffer.from('>'));
      last = start;
    }
    start = end;
  }
  if (chunks.length === 0) return raw;
  chunks.push(raw.subarray(last));
  return Buffer.concat(chunks);
};

/** mboxrd unquoting: one `>` fewer on every line matching `^>+From `. */
export const unquoteMboxrd = (stored: Buffer): Buffer => {
  const chunks: Buffer[] = [];
  let last = 0;
  for (let start = 0; start < stored.length; ) {
    const nl = stored.indexOf(LF, start);
    const end = nl < 0 ? stored.length : nl + 1;
    if (stored[start] === GT && isFromLine(stored, start + 1, end)) {
      chunks.push(stored.subarray(last, start));
      last = start + 1;
    }
    start = end;
  }
  if (chunks.length === 0) return stored;
  chunks.push(stored.subarray(last));
  return Buffer.concat(chunks);
};

const SYSTEM_FLAG_LETTERS: [string, string, 'Status' | 'X-Status'][] = [
  ['\\Seen', 'R', 'Status'],
  ['\\Answered', 'A', 'X-Status'],
  ['\\Flagged', 'F', 'X-Status'],
  ['\\Draft', 'T', 'X-Status'],
  ['\\Deleted', 'D', 'X-Status'],
];

/**
 * The envelope lines that carry flags, as mutt and Dovecot write them: `Status: RO` (R read,
 * O old, i.e. not new), `X-Status:` (A answered, F flagged, T draft, D deleted), and the
 * keywords space-separated in `X-Keywords:`. LF-terminated, like the `From ` line.
 */
export const envelopeLines = (flags: string[]): string => {
  const status = SYSTEM_FLAG_LETTERS.filter(([f, , h]) => h === 'Status' && flags.includes(f)).map(([, l]) => l).join('') + 'O';
  const xStatus = SYSTEM_FLAG_LETTERS.filter(([f, , h]) => h === 'X-Status' && flags.includes(f)).map(([, l]) => l).join('');
  const keywords = flags.filter((f) => !f.startsWith('\\') && !/\s/.test(f));
  return `Status: ${status}\n` + (xStatus ? `X-Status: ${xStatus}\n` : '') + (keywords.length ? `X-Keywords: ${keywords.join(' ')}\n` : '');
};

const ENVELOPE_LINE = /^(Status|X-Status|X-Keywords): [^\r\n]*\n$/;

/**
 * Separates the envelope lines we add (Status / X-Status / X-Keywords, LF-terminated, right
 * after the `From ` line) from a message whose own lines end in CRLF. Used when an mbox we wrote
 * is read without its index (lost or deleted): the bare-LF lines in front of a CRLF header can
 * only have been added by an mbox writer, so removing them gives back the original bytes and
 * the index can be rebuilt without any message counting twice. Messages with LF line endings
 * (files of other tools) are left whole: their Status lines cannot be told from their own.
 */
export const splitEnvelope = (message: Buffer): { envelope: Buffer; message: Buffer } => {
  let at = 0;
  while (at < message.length) {
    const nl = message.indexOf(LF, at);
    if (nl < 0) break;
    const line = message.subarray(at, nl + 1).toString('latin1');
    if (!ENVELOPE_LINE.test(line) || line.endsWith('\r\n')) break;
    at = nl + 1;
  }
  const nextEnd = message.indexOf(LF, at);
  const isCrlfMessage = nextEnd > at && message[nextEnd - 1] === CR;
  if (at === 0 || !isCrlfMessage) return { envelope: message.subarray(0, 0), message };
  return { envelope: message.subarray(0, at), message: message.subarray(at) };
};

/** Thunderbird's X-Mozilla-Status bits we understand. */
const MOZILLA_FLAGS: [number, string][] = [
  [0x0001, '\\Seen'],
  [0x0002, '\\Answered'],
  [0x0004, '\\Flagged'],
  [0x0008, '\\Deleted'],
  [0x1000, '$Forwarded'],
];

/**
 * Flags of a message in an mbox written by another tool, from the header lines those tools
 * keep flags in: Status / X-Status / X-Keywords (mutt, Dovecot, Pine) and X-Mozilla-Status /
 * X-Mozilla-Keys (Thunderbird).
 */
export const flagsFromHeaderBlock = (header: Buffer): string[] => {
  const flags = new Set<string>();
  const text = header.toString('latin1');
  const field = (name: string): string | undefined => new RegExp(`^${name}:[ \\t]*([^\\r\\n]*)`, 'im').exec(text)?.[1];
  const status = field('Status');
  const xStatus = field('X-Status');
  for (const [flag, letter, h] of SYSTEM_FLAG_LETTERS) {
    const value = h === 'Status' ? status : xStatus;
    if (value?.includes(letter)) flags.add(flag);
  }
  const mozilla = field('X-Mozilla-Status');
  if (mozilla && /^[0-9a-f]{1,4}$/i.test(mozilla.trim())) {
    const bits = parseInt(mozilla.trim(), 16);
    for (const [bit, flag] of MOZILLA_FLAGS) if (bits & bit) flags.add(flag);
  }
  for (const name of ['X-Keywords', 'X-Mozilla-Keys']) {
    for (const kw of (field(name) ?? '').split(/[\s,]+/)) if (kw && !kw.startsWith('\\') && /^[\x21-\x7e]+$/.test(kw)) flags.add(kw);
  }
  return [...flags].sort();
};

/** One message found by scanning an mbox file. */
export interface ScannedMboxMessage {
  /** Offset of its `From ` line. */
  fromOffset: number;
  /** The `From ` line, without its line ending. */
  fromLine: string;
  /** Offset just past the `From ` line. */
  contentOffset: number;
  /** Offset where the stored (quoted) message ends, before the separating empty line. */
  contentEnd: number;
  /** The message, unquoted (made on demand, so a scan does not hold every message at once). */
  body(): Buffer;
}

const lineIsEmpty = (buf: Buffer, start: number, end: number): boolean =>
  end - start === 0 || (end - start === 1 && buf[start] === LF) || (end - start === 2 && buf[start] === CR && buf[start + 1] === LF);

/**
 * Splits the bytes of an mbox region into messages. `data` starts at file offset `base`, at a
 * `From ` line (bytes before the first one are ignored: no mbox has them).
 */
export const splitMbox = (data: Buffer, base = 0): ScannedMboxMessage[] => {
  const starts: { at: number; lineEnd: number }[] = [];
  let previousEmpty = true;
  for (let start = 0; start < data.length; ) {
    const nl = data.indexOf(LF, start);
    const end = nl < 0 ? data.length : nl + 1;
    if (previousEmpty && end - start >= 5 && data.compare(FROM_, 0, 5, start, start + 5) === 0) starts.push({ at: start, lineEnd: end });
    previousEmpty = lineIsEmpty(data, start, end);
    start = end;
  }
  return starts.map(({ at, lineEnd }, i) => {
    const next = starts[i + 1]?.at ?? data.length;
    let contentEnd = next;
    // Drop the separating empty line (LF or CRLF) before the next message or at the end.
    if (contentEnd > lineEnd && data[contentEnd - 1] === LF) {
      const lastLineStart = data.lastIndexOf(LF, contentEnd - 2) + 1;
      if (lastLineStart >= lineEnd && lineIsEmpty(data, lastLineStart, contentEnd)) contentEnd = lastLineStart;
    }
    return {
      fromOffset: base + at,
      fromLine: data.subarray(at, lineEnd).toString('latin1').replace(/\r?\n$/, ''),
      contentOffset: base + lineEnd,
      contentEnd: base + contentEnd,
      body: () => unquoteMboxrd(data.subarray(lineEnd, contentEnd)),
    };
  });
};
