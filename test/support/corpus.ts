/**
 * Deterministic test mail: the same seed gives the same bytes, flags and dates on every machine,
 * so a failing test can be re-run exactly. The default corpus is small (a few hundred KB) but
 * holds every awkward case a migration meets: nested and non-ASCII folder names (`&` needs
 * modified UTF-7 on the wire), a folder that exists only as a hierarchy level, an empty folder,
 * old INTERNALDATEs written in many time zones, messages without Message-ID, two different
 * messages sharing one Message-ID, byte-identical duplicates (in one folder and across folders),
 * a message flagged \Deleted, MIME with base64 attachments, 8-bit and Latin-1 bodies, raw 8-bit
 * header bytes, and body lines starting `From ` / `>From `. Every line ends in CRLF.
 */
import { createHash } from 'node:crypto';
import type { SpecialUse } from '../../src/contract/plan.js';
import { openTestClient, type ImapTestAccount, type MailSet, type MessageKey } from './mail-snapshot.js';

/** What a message is there to exercise; tests find their case by it. */
export type MessageKind =
  | 'plain'
  | 'alternative'
  | 'multipart'
  | '8bit'
  | 'latin1'
  | 'header-8bit'
  | 'from-lines'
  | 'no-message-id'
  | 'twin'
  | 'duplicate'
  | 'deleted'
  | 'old-date'
  | 'big'
  | 'filler';

export interface CorpusMessage {
  /** The message as it must arrive, CRLF line endings. */
  raw: Buffer;
  /** Flags and keywords to APPEND with (never \Recent). */
  flags: string[];
  /** INTERNALDATE, whole seconds. */
  internalDate: Date;
  kind: MessageKind;
}

export interface CorpusFolder {
  /** Hierarchy levels, e.g. ['Reisen', 'Überfahrt']; ['INBOX'] is the inbox. */
  segments: string[];
  /** The special use the folder should have (Dovecot assigns it by name from its config). */
  specialUse?: SpecialUse;
  messages: CorpusMessage[];
}

export interface Corpus {
  seed: string;
  folders: CorpusFolder[];
}

export interface FolderSpec {
  segments: string[];
  specialUse?: SpecialUse;
}

export interface CorpusOptions {
  seed: number | string;
  /** Folders to fill with ordinary messages. Default: see DEFAULT_FOLDERS. The special cases go to INBOX and the first other folders. */
  folders?: FolderSpec[];
  /** Ordinary messages per folder (besides the special cases). Default 3. */
  messagesPerFolder?: number;
  /** Include the special cases (twins, duplicates, \Deleted, 8-bit, ...). Default true. */
  specials?: boolean;
  /** Add big messages to INBOX (sizes in bytes, default [3 MB, 6 MB] when true). */
  big?: boolean | number[];
  /** Range of ordinary message sizes in bytes. Default 1 KB .. 40 KB. */
  sizeRange?: [number, number];
}

/**
 * The default folders. `Projekte/2004/Q1` is created without its parents, so `Projekte` and
 * `Projekte/2004` exist only as hierarchy levels (\Noselect on most servers). `Leer` stays empty.
 */
export const DEFAULT_FOLDERS: FolderSpec[] = [
  { segments: ['INBOX'] },
  { segments: ['Sent'], specialUse: '\\Sent' },
  { segments: ['Drafts'], specialUse: '\\Drafts' },
  { segments: ['Reisen'] },
  { segments: ['Reisen', 'Überfahrt'] },
  { segments: ['日本語'] },
  { segments: ['Été & Co'] },
  { segments: ['Projekte', '2004', 'Q1'] },
  { segments: ['Leer'] },
];

// ---------------------------------------------------------------------------------------------
// Seeded randomness (sfc32 seeded by a SHA-256 of the seed): fast, and identical everywhere.

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string) {
    const h = createHash('sha256').update(String(seed)).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 16; i += 1) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Pseudo-random bytes (attachment payloads). */
  bytes(n: number): Buffer {
    const buf = Buffer.allocUnsafe(Math.ceil(n / 4) * 4);
    for (let i = 0; i < buf.length; i += 4) buf.writeUInt32LE(this.u32(), i);
    return buf.subarray(0, n);
  }

  /** Log-uniform integer in [min, max]: many small values, a few big ones, like real mail. */
  logUniform(min: number, max: number): number {
    return Math.round(Math.exp(Math.log(min) + this.next() * (Math.log(max) - Math.log(min))));
  }
}

// ---------------------------------------------------------------------------------------------
// Building blocks of messages.

const CRLF = '\r\n';
const WORDS = [
  'meeting', 'invoice', 'project', 'schedule', 'budget', 'report', 'draft', 'review', 'quarter', 'travel',
  'ferry', 'harbour', 'ticket', 'booking', 'luggage', 'weather', 'Montag', 'Dienstag', 'Termin', 'Rechnung',
  'Angebot', 'Besprechung', 'Unterlagen', 'Reise', 'Fähre', 'Grüße', 'bientôt', 'réunion', 'équipe', 'déjà',
  'the', 'and', 'of', 'to', 'in', 'for', 'with', 'on', 'at', 'by', 'please', 'thanks', 'attached', 'regards',
];
const ASCII_WORDS = WORDS.filter((w) => /^[\x20-\x7e]+$/.test(w));
const PEOPLE = [
  ['Anna Berger', 'anna.berger@example.org'],
  ['Jürgen Maaß', 'juergen@example.de'],
  ['Élodie Faure', 'elodie@example.fr'],
  ['山田 太郎', 'yamada@example.jp'],
  ['Bob Smith', 'bob@example.com'],
  ['Carol "CJ" Jones', 'carol@example.net'],
] as const;
/** Zone offsets in minutes, including half- and quarter-hour zones. */
const ZONES = [0, 60, 120, -300, -480, 330, 540, -210, 765, -600, 345];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const ORDINARY_FLAG_POOL: [string, number][] = [
  ['\\Seen', 0.7],
  ['\\Flagged', 0.15],
  ['\\Answered', 0.2],
  ['$Forwarded', 0.1],
  ['$Label1', 0.1],
  ['Work', 0.1],
];

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** RFC 5322 date of an instant as written in a given zone, e.g. `Tue, 02 Mar 2004 14:05:09 +0530`. */
export const formatMailDate = (instant: Date, zoneMinutes: number): string => {
  const local = new Date(instant.getTime() + zoneMinutes * 60_000);
  const sign = zoneMinutes < 0 ? '-' : '+';
  const abs = Math.abs(zoneMinutes);
  return `${DAYS[local.getUTCDay()]}, ${pad2(local.getUTCDate())} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()} ${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())} ${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
};

/** RFC 2047 encoded words (UTF-8, base64), folded, for any non-ASCII header text. */
const encodeWords = (text: string): string => {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const pieces: string[] = [];
  let current = '';
  for (const ch of text) {
    if (Buffer.byteLength(current + ch) > 30) {
      pieces.push(current);
      current = '';
    }
    current += ch;
  }
  if (current) pieces.push(current);
  return pieces.map((p) => `=?UTF-8?B?${Buffer.from(p).toString('base64')}?=`).join(`${CRLF} `);
};

const address = (person: readonly [string, string]): string => {
  const [name, email] = person;
  if (/^[\x20-\x7e]*$/.test(name)) return `"${name.replace(/"/g, '\\"')}" <${email}>`;
  return `${encodeWords(name)} <${email}>`;
};

/** Lines of text (joined with CRLF) of about `bytes` bytes, wrapped below 78 characters. */
const textLines = (rng: Rng, bytes: number, words: readonly string[] = ASCII_WORDS): string => {
  const lines: string[] = [];
  let size = 0;
  let line = '';
  while (size < bytes) {
    const word = rng.pick(words);
    if (line.length + word.length + 1 > 72) {
      lines.push(line);
      size += Buffer.byteLength(line) + 2;
      line = rng.chance(0.1) ? '' : word;
      if (line === '') {
        lines.push('');
        size += 2;
        line = word;
      }
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(CRLF);
};

const base64Lines = (data: Buffer): string => {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join(CRLF);
};

interface HeaderInput {
  from: readonly [string, string];
  to: readonly [string, string];
  subject: string;
  date: Date;
  zone: number;
  messageId?: string | null;
  extra?: [string, string][];
}

const headerBlock = (h: HeaderInput): string => {
  const fields: [string, string][] = [
    ['Return-Path', `<${h.from[1]}>`],
    ['Date', formatMailDate(h.date, h.zone)],
    ['From', address(h.from)],
    ['To', address(h.to)],
    ['Subject', encodeWords(h.subject)],
  ];
  if (h.messageId) fields.push(['Message-ID', h.messageId]);
  fields.push(['MIME-Version', '1.0']);
  fields.push(...(h.extra ?? []));
  return fields.map(([k, v]) => `${k}: ${v}`).join(CRLF) + CRLF;
};

/** A message's date and its INTERNALDATE (a little later, whole seconds). */
const datesFor = (rng: Rng, fromYear: number, toYear: number): { date: Date; zone: number; internalDate: Date } => {
  const start = Date.UTC(fromYear, 0, 1);
  const end = Date.UTC(toYear, 11, 31, 23, 0, 0);
  const date = new Date(Math.floor((start + rng.next() * (end - start)) / 1000) * 1000);
  const internalDate = new Date(date.getTime() + rng.int(5, 900) * 1000);
  return { date, zone: rng.pick(ZONES), internalDate };
};

const ordinaryFlags = (rng: Rng): string[] => ORDINARY_FLAG_POOL.filter(([, p]) => rng.chance(p)).map(([f]) => f);

// ---------------------------------------------------------------------------------------------
// Message makers.

interface MakeContext {
  rng: Rng;
  seed: string;
  counter: { n: number };
}

const nextMessageId = (ctx: MakeContext): string => {
  ctx.counter.n += 1;
  return `<${createHash('sha1').update(`${ctx.seed}/${ctx.counter.n}`).digest('hex').slice(0, 16)}.${ctx.counter.n}@mailferry.test>`;
};

const subjectFor = (ctx: MakeContext, prefix: string): string => `${prefix} ${ctx.counter.n + 1}: ${ctx.rng.pick(WORDS)} ${ctx.rng.pick(WORDS)}`;

/** text/plain, 7bit, of about `size` bytes. */
const makePlain = (ctx: MakeContext, size: number, opts: { years?: [number, number]; messageId?: string | null; subject?: string } = {}): CorpusMessage => {
  const { rng } = ctx;
  const { date, zone, internalDate } = datesFor(rng, opts.years?.[0] ?? 2001, opts.years?.[1] ?? 2025);
  const messageId = opts.messageId === undefined ? nextMessageId(ctx) : opts.messageId;
  const headers = headerBlock({
    from: rng.pick(PEOPLE),
    to: rng.pick(PEOPLE),
    subject: opts.subject ?? subjectFor(ctx, 'Note'),
    date,
    zone,
    messageId,
    extra: [
      ['Content-Type', 'text/plain; charset=us-ascii'],
      ['Content-Transfer-Encoding', '7bit'],
    ],
  });
  const body = textLines(rng, Math.max(64, size - Buffer.byteLength(headers)));
  return { raw: Buffer.from(`${headers}${CRLF}${body}${CRLF}`, 'latin1'), flags: ordinaryFlags(rng), internalDate, kind: 'plain' };
};

/** multipart/alternative: text and HTML, quoted-printable. */
const makeAlternative = (ctx: MakeContext, size: number): CorpusMessage => {
  const { rng } = ctx;
  const { date, zone, internalDate } = datesFor(rng, 2010, 2025);
  const boundary = `=_alt_${rng.u32().toString(16)}`;
  const text = textLines(rng, Math.max(64, size / 3));
  const html = `<html><body><p>${text.replace(/\r\n/g, '<br>=\r\n')}</p></body></html>`;
  const headers = headerBlock({
    from: rng.pick(PEOPLE),
    to: rng.pick(PEOPLE),
    subject: subjectFor(ctx, 'Newsletter'),
    date,
    zone,
    messageId: nextMessageId(ctx),
    extra: [['Content-Type', `multipart/alternative; boundary="${boundary}"`]],
  });
  const raw = [
    headers,
    'This is a multi-part message in MIME format.',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    text,
    `--${boundary}`,
    'Content-Type: text/html; charset=us-ascii',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    html,
    `--${boundary}--`,
    '',
  ].join(CRLF);
  return { raw: Buffer.from(raw, 'latin1'), flags: ordinaryFlags(rng), internalDate, kind: 'alternative' };
};

/** multipart/mixed with a text part and base64 attachments whose sizes add up to `attachmentBytes`. */
const makeMultipart = (ctx: MakeContext, attachmentBytes: number[], kind: MessageKind = 'multipart'): CorpusMessage => {
  const { rng } = ctx;
  const { date, zone, internalDate } = datesFor(rng, 2005, 2025);
  const boundary = `=_mixed_${rng.u32().toString(16)}`;
  const headers = headerBlock({
    from: rng.pick(PEOPLE),
    to: rng.pick(PEOPLE),
    subject: subjectFor(ctx, kind === 'big' ? 'Große Datei' : 'Unterlagen'),
    date,
    zone,
    messageId: nextMessageId(ctx),
    extra: [['Content-Type', `multipart/mixed; boundary="${boundary}"`]],
  });
  const parts = [headers, 'This is a multi-part message in MIME format.', `--${boundary}`, 'Content-Type: text/plain; charset=us-ascii', '', textLines(rng, 300)];
  attachmentBytes.forEach((bytes, i) => {
    const [type, name] = rng.pick([
      ['application/pdf', `Rechnung-${i + 1}.pdf`],
      ['image/png', `photo ${i + 1}.png`],
      ['application/octet-stream', `Überfahrt ${i + 1}.bin`],
    ] as const);
    const filenameParam = /^[\x20-\x7e]*$/.test(name) ? `filename="${name}"` : `filename*=UTF-8''${encodeURIComponent(name)}`;
    parts.push(`--${boundary}`, `Content-Type: ${type}`, 'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; ${filenameParam}`, '', base64Lines(rng.bytes(bytes)));
  });
  parts.push(`--${boundary}--`, '');
  const flags = kind === 'big' ? ['\\Seen'] : ordinaryFlags(rng);
  return { raw: Buffer.from(parts.join(CRLF), 'latin1'), flags, internalDate, kind };
};

const UTF8_TEXT = [
  'Grüße aus Überlingen: die Fähre legt um 9 Uhr ab, Gepäck bitte vorher abgeben.',
  'Voilà le programme de la réunion : café, déjà-vu, et crème brûlée à volonté.',
  '明日の会議は午後三時からです。資料を確認してください。',
  'Ärger mit der Straßenbahn? Öffnungszeiten: Mo–Fr 8–18 Uhr. ½ Preis für Kinder.',
];

/** text/plain; charset=utf-8 sent as 8bit: raw UTF-8 bytes in the body. */
const make8bit = (ctx: MakeContext): CorpusMessage => {
  const { rng } = ctx;
  const { date, zone, internalDate } = datesFor(rng, 2008, 2025);
  const headers = headerBlock({
    from: PEOPLE[1],
    to: PEOPLE[2],
    subject: `Überfahrt nach Île-de-Ré ${ctx.counter.n + 1}`,
    date,
    zone,
    messageId: nextMessageId(ctx),
    extra: [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Transfer-Encoding', '8bit'],
    ],
  });
  const body = Array.from({ length: 12 }, () => rng.pick(UTF8_TEXT)).join(CRLF);
  return { raw: Buffer.from(`${headers}${CRLF}${body}${CRLF}`, 'utf8'), flags: ['\\Seen', '$Label1'], internalDate, kind: '8bit' };
};

/** ISO-8859-1 body bytes (not valid UTF-8). */
const makeLatin1 = (ctx: MakeContext): CorpusMessage => {
  const { rng } = ctx;
  const { date, zone, internalDate } = datesFor(rng, 2002, 2012);
  const headers = headerBlock({
    from: PEOPLE[0],
    to: PEOPLE[1],
    subject: 'Kurze Frage (latin-1)',
    date,
    zone,
    messageId: nextMessageId(ctx),
    extra: [
      ['Content-Type', 'text/plain; charset=iso-8859-1'],
      ['Content-Transfer-Encoding', '8bit'],
    ],
  });
  const body = 'Sehr geehrte Frau Müller,\r\nanbei die Unterlagen für Ihre Überfahrt. Größe: 3×4 m². Preis: 12 € (Währung egal).\r\nMit freundlichen Grüßen\r\n';
  return { raw: Buffer.concat([Buffer.from(headers + CRLF, 'latin1'), Buffer.from(body.replace('€', 'EUR'), 'latin1')]), flags: ['\\Seen'], internalDate, kind: 'latin1' };
};

/** Raw (unencoded) UTF-8 in the Subject and From headers, as sloppy mailers send. */
const makeHeader8bit = (ctx: MakeContext): CorpusMessage => {
  const { rng } = ctx;
  const { date, zone, internalDate } = datesFor(rng, 2015, 2025);
  const raw =
    `Date: ${formatMailDate(date, zone)}${CRLF}From: Jürgen Maaß <juergen@example.de>${CRLF}To: anna.berger@example.org${CRLF}` +
    `Subject: Fähre — Überfahrt am Montag ${ctx.counter.n + 1}${CRLF}Message-ID: ${nextMessageId(ctx)}${CRLF}` +
    `Content-Type: text/plain; charset=utf-8${CRLF}Content-Transfer-Encoding: 8bit${CRLF}${CRLF}Bis Montag! Grüße${CRLF}`;
  return { raw: Buffer.from(raw, 'utf8'), flags: ['\\Answered', '\\Seen'], internalDate, kind: 'header-8bit' };
};

/** Body lines beginning `From ` and `>From ` (mbox escaping must round-trip), and a lone dot. */
const makeFromLines = (ctx: MakeContext): CorpusMessage => {
  const { rng } = ctx;
  const { date, zone, internalDate } = datesFor(rng, 2003, 2020);
  const headers = headerBlock({
    from: PEOPLE[4],
    to: PEOPLE[0],
    subject: 'From lines in the body',
    date,
    zone,
    messageId: nextMessageId(ctx),
    extra: [['Content-Type', 'text/plain; charset=us-ascii']],
  });
  const body = [
    'Forwarded below.',
    '',
    'From bob@example.com Mon Jan  5 10:00:00 2004',
    'From here on the ferry leaves at nine.',
    '>From the archive: an already escaped line.',
    '>>From twice escaped.',
    ' From with a leading space.',
    '.',
    'From',
    'End.',
  ].join(CRLF);
  return { raw: Buffer.from(`${headers}${CRLF}${body}${CRLF}`, 'latin1'), flags: ['\\Seen', '$Forwarded'], internalDate, kind: 'from-lines' };
};

// ---------------------------------------------------------------------------------------------

const DEFAULT_BIG_SIZES = [3 * 1024 * 1024, 6 * 1024 * 1024];

/**
 * Generates a corpus. Same options, same bytes.
 *
 * @example
 *   const corpus = generateCorpus({ seed: 42 });
 *   await fillAccount(server.account('alice'), corpus);
 *   assertSameMail(expectedFromCorpus(corpus, '/'), await snapshotAccount(server.account('alice')));
 */
export const generateCorpus = (options: CorpusOptions): Corpus => {
  const seed = String(options.seed);
  const ctx: MakeContext = { rng: new Rng(seed), seed, counter: { n: 0 } };
  const { rng } = ctx;
  const specs = options.folders ?? DEFAULT_FOLDERS;
  const perFolder = options.messagesPerFolder ?? 3;
  const [minSize, maxSize] = options.sizeRange ?? [1024, 40 * 1024];
  const folders: CorpusFolder[] = specs.map((s) => ({ segments: [...s.segments], ...(s.specialUse ? { specialUse: s.specialUse } : {}), messages: [] }));
  const isEmptyByDesign = (f: CorpusFolder): boolean => options.folders === undefined && f.segments.join('/') === 'Leer';

  for (const folder of folders) {
    if (isEmptyByDesign(folder)) continue;
    const isOld = folder.segments.includes('2004');
    for (let i = 0; i < perFolder; i += 1) {
      const m = i % 4 === 3 ? makeAlternative(ctx, rng.logUniform(minSize, maxSize)) : makePlain(ctx, rng.logUniform(minSize, maxSize), isOld ? { years: [2004, 2004] } : {});
      if (isOld) m.kind = 'old-date';
      if (folder.specialUse === '\\Drafts') m.flags = [...m.flags.filter((f) => f !== '\\Answered'), '\\Draft'];
      folder.messages.push(m);
    }
  }

  if (options.specials ?? true) {
    const inbox = folders.find((f) => f.segments.length === 1 && f.segments[0]?.toUpperCase() === 'INBOX') ?? folders[0];
    if (!inbox) throw new Error('a corpus with specials needs at least one folder');
    // Special cases go to ordinary folders, so Drafts holds only drafts.
    const others = folders.filter((f) => f !== inbox && !isEmptyByDesign(f) && !f.specialUse);
    const second = others[0] ?? inbox;
    const third = others[1] ?? second;

    // Two different messages with the same Message-ID.
    const sharedId = nextMessageId(ctx);
    inbox.messages.push(
      { ...makePlain(ctx, 1500, { messageId: sharedId, subject: 'Twin A' }), kind: 'twin' },
      { ...makePlain(ctx, 2500, { messageId: sharedId, subject: 'Twin B' }), kind: 'twin' },
    );
    // Byte-identical duplicates: twice in INBOX, and once more in another folder.
    const dup = makePlain(ctx, 1800, { subject: 'Duplicate' });
    dup.flags = ['\\Seen'];
    inbox.messages.push({ ...dup, kind: 'duplicate' }, { ...dup, raw: Buffer.from(dup.raw), kind: 'duplicate' });
    second.messages.push({ ...dup, raw: Buffer.from(dup.raw), flags: ['\\Seen', 'Work'], kind: 'duplicate' });
    // No Message-ID at all.
    inbox.messages.push({ ...makePlain(ctx, 1200, { messageId: null, subject: 'No Message-ID here' }), flags: ['\\Flagged'], kind: 'no-message-id' });
    // Flagged \Deleted but never expunged.
    inbox.messages.push({ ...makePlain(ctx, 1100, { subject: 'Deleted but not expunged' }), flags: ['\\Deleted', '\\Seen'], kind: 'deleted' });
    // Very old, with a zone far from UTC.
    const old = makePlain(ctx, 2000, { years: [2004, 2004], subject: 'Alte Nachricht' });
    inbox.messages.push({ ...old, flags: ['\\Seen', '\\Answered', '$Label1'], kind: 'old-date' });
    inbox.messages.push(makeMultipart(ctx, [rng.int(4_000, 30_000), rng.int(20_000, 120_000)]));
    second.messages.push(make8bit(ctx), makeFromLines(ctx));
    third.messages.push(makeLatin1(ctx), makeHeader8bit(ctx), makeMultipart(ctx, [rng.int(2_000, 10_000)]));
  }

  if (options.big) {
    const inbox = folders[0];
    if (!inbox) throw new Error('a corpus with big messages needs a folder');
    const sizes = options.big === true ? DEFAULT_BIG_SIZES : options.big;
    // Base64 grows data by 4/3; aim the attachment so the message is about the asked size.
    for (const size of sizes) inbox.messages.push(makeMultipart(ctx, [Math.max(1024, Math.floor((size * 3) / 4) - 2048)], 'big'));
  }

  return { seed, folders };
};

export interface FolderOfSizeOptions {
  seed: number | string;
  segments?: string[];
  /** How many messages (default: enough to reach `totalBytes` at ~50 KB each). */
  messages?: number;
  /** About how many bytes in all (default: messages × 50 KB). */
  totalBytes?: number;
  /** Size range per message before scaling to the total. Default 2 KB .. 2 MB, log-uniform. */
  sizeRange?: [number, number];
}

/** One folder of ordinary messages of about N messages / M bytes, for benchmarks. */
export const generateFolderOfSize = (options: FolderOfSizeOptions): CorpusFolder => {
  const seed = `${options.seed}/size`;
  const ctx: MakeContext = { rng: new Rng(seed), seed, counter: { n: 0 } };
  const AVERAGE = 50 * 1024;
  const count = options.messages ?? Math.max(1, Math.round((options.totalBytes ?? AVERAGE * 20) / AVERAGE));
  const [min, max] = options.sizeRange ?? [2 * 1024, 2 * 1024 * 1024];
  const draws = Array.from({ length: count }, () => ctx.rng.logUniform(min, max));
  const scale = options.totalBytes ? options.totalBytes / draws.reduce((a, b) => a + b, 0) : 1;
  const messages = draws.map((d) => {
    const size = Math.max(800, Math.round(d * scale));
    // Up to ~64 KB as text; beyond that as an attachment, like real big mail.
    const m = size <= 64 * 1024 ? makePlain(ctx, size) : makeMultipart(ctx, [Math.max(1024, Math.floor((size * 3) / 4) - 1500)]);
    return { ...m, kind: 'filler' as const };
  });
  return { segments: options.segments ?? ['Bulk'], messages };
};

/** Total bytes of a corpus (or folder list). */
export const corpusBytes = (corpus: Corpus | CorpusFolder[]): number =>
  (Array.isArray(corpus) ? corpus : corpus.folders).reduce((sum, f) => sum + f.messages.reduce((s, m) => s + m.raw.length, 0), 0);

/** The path a folder gets on a server with this delimiter and namespace prefix (INBOX stays INBOX). */
export const folderPath = (segments: string[], delimiter: string, prefix = ''): string =>
  segments.length === 1 && segments[0]?.toUpperCase() === 'INBOX' ? 'INBOX' : prefix + segments.join(delimiter);

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Message facts as a snapshot reports them, for comparing with `assertSameMail`. */
export const messageKeyOf = (m: CorpusMessage): MessageKey => ({
  sha256: sha256(m.raw),
  size: m.raw.length,
  flags: [...m.flags].sort(),
  internalDate: m.internalDate.toISOString(),
});

/** What an account filled with this corpus should hold, by folder path. */
export const expectedFromCorpus = (corpus: Corpus | CorpusFolder[], delimiter: string, prefix = ''): MailSet => ({
  folders: (Array.isArray(corpus) ? corpus : corpus.folders).map((f) => ({ path: folderPath(f.segments, delimiter, prefix), messages: f.messages.map(messageKeyOf) })),
});

export interface FillOptions {
  /** Parallel connections, folders split between them. Default 1. */
  connections?: number;
}

export interface FilledFolder {
  path: string;
  segments: string[];
  /** Per appended message, in corpus order: the UID the server gave (UIDPLUS), if any. */
  uids: (number | undefined)[];
  uidValidity?: string;
}

/**
 * Creates the corpus's folders (subscribed) and APPENDs every message with its flags and
 * INTERNALDATE. Existing folders are reused; nothing is ever deleted.
 */
export const fillAccount = async (account: ImapTestAccount, corpus: Corpus | CorpusFolder[], options: FillOptions = {}): Promise<FilledFolder[]> => {
  const folders = Array.isArray(corpus) ? corpus : corpus.folders;
  const connections = Math.max(1, Math.min(options.connections ?? 1, folders.length));
  const results: FilledFolder[] = new Array(folders.length);
  const queue = folders.map((f, i) => ({ f, i }));
  const worker = async (): Promise<void> => {
    const client = await openTestClient(account);
    try {
      const delimiter = client.namespace?.delimiter ?? '/';
      const prefix = client.namespace?.prefix ?? '';
      for (let job = queue.shift(); job; job = queue.shift()) {
        const { f, i } = job;
        const path = folderPath(f.segments, delimiter, prefix);
        if (path !== 'INBOX') await client.mailboxCreate(path);
        const filled: FilledFolder = { path, segments: f.segments, uids: [] };
        for (const m of f.messages) {
          const res = await client.append(path, m.raw, m.flags, m.internalDate);
          if (res === false) throw new Error(`APPEND to ${path} was not sent (connection not authenticated?)`);
          filled.uids.push(res?.uid);
          if (res?.uidValidity !== undefined) filled.uidValidity = res.uidValidity.toString();
        }
        results[i] = filled;
      }
    } finally {
      await client.logout().catch(() => client.close());
    }
  };
  await Promise.all(Array.from({ length: connections }, () => worker()));
  return results;
};
