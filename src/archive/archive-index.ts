/**
 * The index of one archive folder: which messages it holds, under which stable UID, with their
 * fingerprints, sizes, flags and dates, so that listing, matching and verifying an archive never
 * reads message bodies.
 *
 * Format: JSON lines, append-only, one file per folder (where it lives is the format's choice:
 * inside the Maildir/eml folder, next to the mbox file). The first line is the header
 * `{"t":"folder","v":1,...,"uidValidity":"N"}`, written whole by temp file + rename; then
 * `{"t":"msg","uid":N,...}` per message, plus format-specific lines (the mbox append intent).
 *
 * Invariants:
 * - UIDs are handed out in increasing order and never reused; `uidValidity` is a random id fixed
 *   when the index is created. Together they mean what IMAP's do: a (uidValidity, uid) pair
 *   always names the same message.
 * - Lines are appended and fsynced; a torn last line (crash mid-write) is ignored when read and
 *   cut off before the next append by a writer. Readers (a source) never change the file.
 * - Messages found in the folder but missing from the index (written by another program, or by
 *   an older crash) get UIDs after `uidNext` in a stable order. A reader reports a UIDVALIDITY
 *   derived from the index's and those messages' keys, so a changed set of unindexed messages
 *   reads as a changed folder (the copier then re-identifies by fingerprint); a writer adopts
 *   them into the index first, keeping the index's own UIDVALIDITY.
 */
import { createHash, randomInt } from 'node:crypto';
import path from 'node:path';
import type { ArchiveFormat } from '../contract/account.js';
import { err, migrationError, ok, unwrap, type Result } from '../contract/result.js';
import { isMigrationError } from './archive-fs.js';
import type { ArchiveJail } from './archive-jail.js';

export const INDEX_VERSION = 1;

export interface IndexHeader {
  t: 'folder';
  v: number;
  format: ArchiveFormat;
  /** The folder's real path (file names may be shortened or escaped). */
  path: string;
  uidValidity: string;
  created: number;
}

/** Where an mbox message sits: its `From ` line, its stored bytes, and the next message's start. */
export interface MboxPlace {
  /** Offset of the `From ` line. */
  off: number;
  /** Offset of the stored (quoted) message bytes, after our envelope lines. */
  body: number;
  /** Stored length (quoted). */
  len: number;
  /** Offset just past this record (separator included): where the next one starts. */
  end: number;
}

export interface IndexEntry {
  t: 'msg';
  uid: number;
  /** What identifies the message in the folder: a file name (eml), a unique name (Maildir), an offset (mbox). */
  key: string;
  fp: string;
  size: number;
  flags: string[];
  /** INTERNALDATE, ms since 1970. */
  date: number;
  /** mbox only. */
  mbox?: MboxPlace;
  /** Maildir/eml: the temp file the message was written to before its final name (relative to the folder). */
  tmp?: string;
  /** Maildir/eml: the final name it was given (relative to the folder); flags may rename a Maildir file later. */
  file?: string;
  subject?: string;
  /** Not written by us: read with bare LFs as CRLF (see toCrlf). */
  crlf?: boolean;
}

/** mbox: about to write `len` bytes at `off`. A matching tail without `msg` lines is a torn append. */
export interface IndexIntent {
  t: 'intent';
  off: number;
  len: number;
  at: number;
}

export interface IndexRollback {
  t: 'rollback';
  off: number;
  removed: number;
  at: number;
}

export type IndexLine = IndexHeader | IndexEntry | IndexIntent | IndexRollback;

/** An index larger than this is refused unread: about 1.5 million messages, more than any folder we write. */
export const MAX_INDEX_BYTES = 512 * 1024 * 1024;
/** UIDs, like IMAP's, are non-zero 32-bit numbers. */
const MAX_UID = 2 ** 32 - 1;

/**
 * What one archive format accepts in its index: the format named in the header, and for each
 * message entry whether it could be one the format wrote (the names it holds are plain names
 * of files in the folder, say). An index that breaks these is reported, never obeyed.
 */
export interface IndexRules {
  format: ArchiveFormat;
  /** Why this entry cannot be one the format wrote; undefined when it can. */
  entryProblem?(entry: IndexEntry): string | undefined;
}

/**
 * A name of a file directly in a folder: not empty, not `.` or `..`, no separator, no NUL.
 * Every name an index holds must be one, or it could lead out of the folder.
 */
export const isPlainName = (name: string): boolean =>
  name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes(path.sep) && !name.includes('\0');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isOptional = (v: unknown, type: 'string' | 'boolean'): boolean => v === undefined || typeof v === type;

/** Has a `msg` line the fields every reader needs? (Lines without them are skipped, as they always were: a date of NaN is written as null.) */
const hasEntryFields = (v: Record<string, unknown>): boolean =>
  typeof v.uid === 'number' &&
  typeof v.key === 'string' &&
  typeof v.fp === 'string' &&
  typeof v.size === 'number' &&
  Array.isArray(v.flags) &&
  v.flags.every((f) => typeof f === 'string') &&
  typeof v.date === 'number';

/** Why an entry with those fields still cannot be one we wrote; undefined when it can. */
const entryRangeProblem = (v: Record<string, unknown>): string | undefined => {
  if (!Number.isSafeInteger(v.uid) || (v.uid as number) < 1 || (v.uid as number) > MAX_UID) return 'a UID that is not a number from 1 to 2^32-1';
  if (!isCount(v.size)) return 'a size that is not a whole number of bytes';
  if (!isOptional(v.tmp, 'string') || !isOptional(v.file, 'string') || !isOptional(v.subject, 'string') || !isOptional(v.crlf, 'boolean')) return 'a field of the wrong type';
  if (v.mbox !== undefined) {
    const m = v.mbox;
    if (!isObject(m) || !isCount(m.off) || !isCount(m.body) || !isCount(m.len) || !isCount(m.end)) return 'an mbox place that is not four byte offsets';
    if (m.off > m.body || m.body + m.len > m.end) return 'an mbox place whose offsets are out of order';
  }
  return undefined;
};

type Parsed = { line: IndexLine } | { problem: string } | undefined;

/** One line of the index: a known line, a problem that makes the whole index untrustworthy, or undefined (not ours: skipped). */
const parseLine = (v: unknown, rules: IndexRules): Parsed => {
  if (!isObject(v)) return undefined;
  switch (v.t) {
    case 'folder': {
      if (typeof v.path !== 'string' || typeof v.uidValidity !== 'string' || typeof v.format !== 'string') return undefined;
      if (v.format !== rules.format) return { problem: `it says it indexes a ${v.format} folder, not a ${rules.format} one` };
      if (!/^[1-9]\d{0,9}$/.test(v.uidValidity) || Number(v.uidValidity) > MAX_UID) return { problem: 'its UIDVALIDITY is not a number from 1 to 2^32-1' };
      return { line: v as unknown as IndexHeader };
    }
    case 'msg': {
      if (!hasEntryFields(v)) return undefined;
      const range = entryRangeProblem(v);
      if (range) return { problem: `it has ${range}` };
      const entry = v as unknown as IndexEntry;
      const problem = rules.entryProblem?.(entry);
      return problem ? { problem } : { line: entry };
    }
    case 'intent':
    case 'rollback':
      return isCount(v.off) && (v.t === 'rollback' || isCount(v.len)) ? { line: v as unknown as IndexLine } : { problem: 'it has an append record without byte offsets' };
    default:
      return undefined;
  }
};

/** What an index file says, as read by parseIndex. */
export interface ParsedIndex {
  header: IndexHeader;
  /** By UID, ascending (a later line for a UID replaces an earlier one). */
  entries: IndexEntry[];
  /** The last intent not followed by any message line (mbox). */
  pendingIntent: IndexIntent | undefined;
  /** Bytes of whole lines; anything after is a torn line. */
  validBytes: number;
}

/**
 * Reads the bytes of an index: undefined when it has no header (nothing of ours), an error
 * value when it holds a line no Mailferry writes (a name leading out of the folder, a UID out
 * of range, another format). Lines that are not JSON or of an unknown type are skipped, and a
 * last line without its newline (a crash mid-write) is ignored. Linear in the input; never throws.
 */
export const parseIndex = (data: Buffer, file: string, rules: IndexRules): Result<ParsedIndex | undefined> => {
  let header: IndexHeader | undefined;
  const byUid = new Map<number, IndexEntry>();
  let pendingIntent: IndexIntent | undefined;
  let validBytes = 0;
  let lineNumber = 0;
  for (let start = 0; start < data.length; ) {
    const nl = data.indexOf(0x0a, start);
    if (nl < 0) break; // torn last line
    lineNumber++;
    let parsed: Parsed;
    try {
      parsed = parseLine(JSON.parse(data.subarray(start, nl).toString('utf8')), rules);
    } catch {
      parsed = undefined;
    }
    start = nl + 1;
    validBytes = start;
    if (!parsed) continue;
    if ('problem' in parsed) {
      return err(
        migrationError(
          'bad-input',
          `The archive index ${file} is not one Mailferry wrote (line ${lineNumber}: ${parsed.problem}), so it is not used and nothing in this folder is read or written. Move the folder out of the archive, or delete the index to have it rebuilt from the messages.`,
        ),
      );
    }
    const line = parsed.line;
    if (line.t === 'folder') header ??= line;
    else if (line.t === 'msg') {
      byUid.set(line.uid, line);
      pendingIntent = undefined;
    } else if (line.t === 'intent') pendingIntent = line;
    else if (line.t === 'rollback') pendingIntent = undefined;
  }
  if (!header) return ok(undefined);
  return ok({ header, entries: [...byUid.values()].sort((a, b) => a.uid - b.uid), pendingIntent, validBytes });
};

/** A random UIDVALIDITY in IMAP's range (non-zero 32-bit). */
export const newUidValidity = (): string => String(randomInt(1, 2 ** 32 - 1));

/** A UIDVALIDITY derived from content: the same input gives the same value on every run. */
export const derivedUidValidity = (...parts: string[]): string => {
  const n = createHash('sha256').update(parts.join('\n')).digest().readUInt32BE(0);
  return String(n === 0 ? 1 : n);
};

export class FolderIndex {
  private constructor(
    private readonly jail: ArchiveJail,
    readonly file: string,
    readonly header: IndexHeader,
    /** By UID, ascending. */
    readonly entries: IndexEntry[],
    /** The last intent not followed by any message line (mbox). */
    public pendingIntent: IndexIntent | undefined,
    /** Bytes of valid lines; anything after is a torn line. */
    private validBytes: number,
    private fileBytes: number,
  ) {}

  get uidValidity(): string {
    return this.header.uidValidity;
  }

  get uidNext(): number {
    const last = this.entries[this.entries.length - 1];
    return last ? last.uid + 1 : 1;
  }

  /**
   * Reads an index; undefined when there is none or it has no header. Never writes. Throws a
   * MigrationError (bad-input) for an index that is a link, too large, or not one we wrote.
   */
  static async load(jail: ArchiveJail, file: string, rules: IndexRules): Promise<FolderIndex | undefined> {
    let handle;
    try {
      handle = await jail.open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let data: Buffer;
    try {
      const { size } = await handle.stat();
      if (size > MAX_INDEX_BYTES) {
        throw migrationError('bad-input', `The archive index ${file} is larger (${size} bytes) than any index Mailferry writes, so it is not used. Move the folder out of the archive, or delete the index to have it rebuilt.`);
      }
      data = await handle.readFile();
    } finally {
      await handle.close();
    }
    const parsed = unwrap(parseIndex(data, file, rules));
    if (!parsed) return undefined;
    return new FolderIndex(jail, file, parsed.header, parsed.entries, parsed.pendingIntent, parsed.validBytes, data.length);
  }

  /** Creates a new index with a fresh UIDVALIDITY (whole header line via temp + rename). */
  static async create(jail: ArchiveJail, file: string, format: ArchiveFormat, folderPath: string): Promise<FolderIndex> {
    const header: IndexHeader = { t: 'folder', v: INDEX_VERSION, format, path: folderPath, uidValidity: newUidValidity(), created: Date.now() };
    const line = JSON.stringify(header) + '\n';
    await jail.replace(file, line);
    return new FolderIndex(jail, file, header, [], undefined, Buffer.byteLength(line), Buffer.byteLength(line));
  }

  /** Appends lines and fsyncs; a torn line left by a crash is cut off first. */
  async append(lines: IndexLine[]): Promise<void> {
    if (lines.length === 0) return;
    if (this.fileBytes > this.validBytes) {
      await this.jail.truncate(this.file, this.validBytes);
      this.fileBytes = this.validBytes;
    }
    const text = lines.map((l) => JSON.stringify(l) + '\n').join('');
    const handle = await this.jail.open(this.file, 'a');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const bytes = Buffer.byteLength(text);
    this.validBytes += bytes;
    this.fileBytes += bytes;
    for (const line of lines) {
      if (line.t === 'msg') {
        this.entries.push(line);
        this.pendingIntent = undefined;
      } else if (line.t === 'intent') this.pendingIntent = line;
      else if (line.t === 'rollback') this.pendingIntent = undefined;
    }
    this.entries.sort((a, b) => a.uid - b.uid);
  }
}

/**
 * A folder's index for a store: a writer keeps the one it loaded (its appends update it in
 * memory), a reader loads it afresh each time (another process may be writing).
 */
export const loadFolderIndex = async (
  cache: Map<string, FolderIndex>,
  isWritable: boolean,
  jail: ArchiveJail,
  rules: IndexRules,
  folderPath: string,
  file: string,
): Promise<FolderIndex | undefined> => {
  if (!isWritable) return FolderIndex.load(jail, file, rules);
  const cached = cache.get(folderPath);
  if (cached) return cached;
  const loaded = await FolderIndex.load(jail, file, rules);
  if (loaded) cache.set(folderPath, loaded);
  return loaded;
};

/**
 * The index of a folder being listed, or undefined when there is none or it is refused: a
 * listing goes on with the other folders, and opening this one reports why.
 */
export const indexForListing = async (jail: ArchiveJail, file: string, rules: IndexRules): Promise<FolderIndex | undefined> => {
  try {
    return await FolderIndex.load(jail, file, rules);
  } catch (e) {
    if (isMigrationError(e)) return undefined;
    throw e;
  }
};
