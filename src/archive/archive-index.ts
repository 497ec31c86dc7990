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
import { promises as fs } from 'node:fs';
import type { ArchiveFormat } from '../contract/account.js';
import { replaceFileAtomic } from './archive-fs.js';

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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

const asLine = (v: unknown): IndexLine | undefined => {
  if (!isObject(v)) return undefined;
  switch (v.t) {
    case 'folder':
      return typeof v.path === 'string' && typeof v.uidValidity === 'string' && typeof v.format === 'string' ? (v as unknown as IndexHeader) : undefined;
    case 'msg':
      return typeof v.uid === 'number' &&
        typeof v.key === 'string' &&
        typeof v.fp === 'string' &&
        typeof v.size === 'number' &&
        Array.isArray(v.flags) &&
        v.flags.every((f) => typeof f === 'string') &&
        typeof v.date === 'number' &&
        (v.mbox === undefined || (isObject(v.mbox) && ['off', 'body', 'len', 'end'].every((k) => typeof (v.mbox as Record<string, unknown>)[k] === 'number')))
        ? (v as unknown as IndexEntry)
        : undefined;
    case 'intent':
    case 'rollback':
      return typeof v.off === 'number' ? (v as unknown as IndexLine) : undefined;
    default:
      return undefined;
  }
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

  /** Reads an index; undefined when there is none or its header is unreadable. Never writes. */
  static async load(file: string): Promise<FolderIndex | undefined> {
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let header: IndexHeader | undefined;
    const byUid = new Map<number, IndexEntry>();
    let pendingIntent: IndexIntent | undefined;
    let validBytes = 0;
    for (let start = 0; start < data.length; ) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) break; // torn last line
      let parsed: IndexLine | undefined;
      try {
        parsed = asLine(JSON.parse(data.subarray(start, nl).toString('utf8')));
      } catch {
        parsed = undefined;
      }
      start = nl + 1;
      validBytes = start;
      if (!parsed) continue;
      if (parsed.t === 'folder') header ??= parsed;
      else if (parsed.t === 'msg') {
        byUid.set(parsed.uid, parsed);
        pendingIntent = undefined;
      } else if (parsed.t === 'intent') pendingIntent = parsed;
      else if (parsed.t === 'rollback') pendingIntent = undefined;
    }
    if (!header) return undefined;
    const entries = [...byUid.values()].sort((a, b) => a.uid - b.uid);
    return new FolderIndex(file, header, entries, pendingIntent, validBytes, data.length);
  }

  /** Creates a new index with a fresh UIDVALIDITY (whole header line via temp + rename). */
  static async create(file: string, format: ArchiveFormat, folderPath: string): Promise<FolderIndex> {
    const header: IndexHeader = { t: 'folder', v: INDEX_VERSION, format, path: folderPath, uidValidity: newUidValidity(), created: Date.now() };
    const line = JSON.stringify(header) + '\n';
    await replaceFileAtomic(file, line);
    return new FolderIndex(file, header, [], undefined, Buffer.byteLength(line), Buffer.byteLength(line));
  }

  /** Appends lines and fsyncs; a torn line left by a crash is cut off first. */
  async append(lines: IndexLine[]): Promise<void> {
    if (lines.length === 0) return;
    if (this.fileBytes > this.validBytes) {
      await fs.truncate(this.file, this.validBytes);
      this.fileBytes = this.validBytes;
    }
    const text = lines.map((l) => JSON.stringify(l) + '\n').join('');
    const handle = await fs.open(this.file, 'a');
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
export const loadFolderIndex = async (cache: Map<string, FolderIndex>, isWritable: boolean, folderPath: string, file: string): Promise<FolderIndex | undefined> => {
  if (!isWritable) return FolderIndex.load(file);
  const cached = cache.get(folderPath);
  if (cached) return cached;
  const loaded = await FolderIndex.load(file);
  if (loaded) cache.set(folderPath, loaded);
  return loaded;
};
