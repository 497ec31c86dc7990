/**
 * A Maildir++ archive, laid out the way Dovecot, Courier and mutt read it: the root is INBOX
 * (`cur/ new/ tmp/`), every other folder a directory `.Level1.Level2` with a `maildirfolder`
 * marker. Level names are modified UTF-7 (Dovecot's default on disk) with `.` and characters
 * Windows forbids escaped as `%XX` (archive-names.ts).
 *
 * Messages are stored byte for byte, never altered. Flags live in the file name
 * (`<unique>:2,<letters>`, `!2,` on Windows: D draft, F flagged, R answered, S seen, T deleted), keywords as
 * letters `a`–`z` through the folder's `dovecot-keywords` file (26 at most; more stay in our
 * index only), INTERNALDATE as the file's mtime (Dovecot's received date).
 *
 * Crash safety, per batch: each message is written to `tmp/`, fsynced and given its mtime; then
 * the index lines (with temp and final names) are appended and fsynced; then each file is renamed
 * into `cur/` and the directory fsynced. A crash before the index write leaves only our temp
 * files (removed on the next open); a crash after it leaves index entries whose file is still in
 * `tmp/`, and the next open finishes those renames. Only after all of it does `append` report
 * the messages stored.
 *
 * The index (`mailferry-index.jsonl` inside each folder directory; Dovecot ignores unknown files
 * there) holds UIDs, fingerprints and the original flags. Messages another program put into the
 * folder are read too (see archive-index.ts); in a Maildir of Dovecot's own, with no index of
 * ours, UIDs and UIDVALIDITY come from its `dovecot-uidlist`.
 */
import { metaOfStoredMessage, refusedMessageMeta } from './message-meta.js';
import { promises as fs, type Dirent } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SourceFolder } from '../contract/plan.js';
import { migrationError, ok } from '../contract/result.js';
import { fingerprintFromFields, headerBlockEnd, headerValue, parseHeaderFields } from '../engine/fingerprint.js';
import type { AppendOutcome, AppendedMessage, MessageMeta, OutgoingMessage } from '../engine/store.js';
import type { Result } from '../contract/result.js';
import { archiveError, checkFolderNameIsFree, exists, fsyncDirectory, isMigrationError } from './archive-fs.js';
import { derivedUidValidity, FolderIndex, indexForListing, isPlainName, loadFolderIndex, type IndexEntry, type IndexRules } from './archive-index.js';
import { ArchiveJail } from './archive-jail.js';
import { fileNameToSegment, segmentToFileName } from './archive-names.js';
import { archiveFolder, ARCHIVE_DELIMITER, folderStateOf, toCrlf, type ArchiveBackend, type ArchiveFolderView } from './archive-store.js';
import { decodeModifiedUtf7, encodeModifiedUtf7 } from './modified-utf7.js';
import { headerBlockOf, piecesOf } from '../engine/message-bytes.js';

export const MAILDIR_INDEX_FILE = 'mailferry-index.jsonl';
/**
 * Our entries name their temp file `tmp/<key>` and their final file `cur/<key><flags>`; the
 * repair after a crash renames one to the other, so anything else (a path out of the folder,
 * another message's name) is refused before it is used.
 */
export const MAILDIR_INDEX_RULES: IndexRules = {
  format: 'maildir',
  entryProblem: (e) => {
    if (e.tmp === undefined && e.file === undefined) return undefined;
    const isOurs = isPlainName(e.key) && e.tmp === `tmp/${e.key}` && e.file?.startsWith(`cur/${e.key}`) === true && isPlainName(e.file.slice('cur/'.length));
    return isOurs ? undefined : `a message whose files ${JSON.stringify(e.tmp)} and ${JSON.stringify(e.file)} are not its own names in tmp/ and cur/`;
  },
};
const KEYWORDS_FILE = 'dovecot-keywords';
const MAX_KEYWORD_LETTERS = 26;
/**
 * Between a message's unique name and its flags. Windows forbids `:` in file names (NTFS would
 * even take `name:2,S` as a data stream of `name`), so there we write `!` as mbsync does on
 * Windows; reading accepts `:`, `!` and `;`.
 */
const INFO_SEPARATOR = process.platform === 'win32' ? '!' : ':';
/** A foreign message's header is looked for in this many first bytes before the whole file is read. */
const HEADER_PROBE_BYTES = 64 * 1024;

const SYSTEM_LETTERS: [string, string][] = [
  ['\\Draft', 'D'],
  ['\\Flagged', 'F'],
  ['\\Answered', 'R'],
  ['\\Seen', 'S'],
  ['\\Deleted', 'T'],
];

/** Our unique names: `<sec>.M<usec>P<pid>Q<n>R<random>.<host>,S=<size>`; temp files left by a crash are recognised by it. */
const OWN_UNIQUE = /^\d+\.M\d+P\d+Q\d+R[0-9a-f]{8}\./;

let counter = 0;
/** The host part of unique names; characters other than letters, digits, `.` and `-` (`/` and `:` included) become `_`. */
const hostPart = os.hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'localhost';

const uniqueName = (size: number): string => {
  const now = Date.now();
  counter++;
  return `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${process.pid}Q${counter}R${randomBytes(4).toString('hex')}.${hostPart},S=${size}`;
};

/** One level of a folder path as a Maildir++ name component. */
export const maildirSegment = (segment: string): string => segmentToFileName(encodeModifiedUtf7(segment.normalize('NFC')), { escapeDots: true });
export const maildirSegmentName = (component: string): string => decodeModifiedUtf7(fileNameToSegment(component)).normalize('NFC');

interface MaildirFile {
  /** `cur/<name>` or `new/<name>`. */
  rel: string;
  unique: string;
  info: string;
  /** False for a link, a directory or a pipe where a message should be: listed, never read (reading it says why). */
  isRegular: boolean;
}

const parseName = (sub: string, name: string, isRegular: boolean): MaildirFile => {
  const at = name.indexOf(':2,');
  // Windows-friendly writers use `!` or `;` instead of `:`.
  const alt = at >= 0 ? at : Math.max(name.indexOf('!2,'), name.indexOf(';2,'));
  return { rel: `${sub}/${name}`, unique: alt >= 0 ? name.slice(0, alt) : name, info: alt >= 0 ? name.slice(alt + 3) : '', isRegular };
};

/** A metadata file of the folder as text; undefined when there is none or it cannot be read. A link is refused (thrown). */
const readFolderFile = async (jail: ArchiveJail, file: string): Promise<string | undefined> => {
  try {
    return (await jail.readFile(file)).toString('utf8');
  } catch (e) {
    if (isMigrationError(e)) throw e;
    return undefined;
  }
};

const readKeywords = async (jail: ArchiveJail, dir: string): Promise<string[]> => {
  const text = await readFolderFile(jail, path.join(dir, KEYWORDS_FILE));
  if (text === undefined) return [];
  const keywords: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) (\S+)$/.exec(line.trim());
    if (m && Number(m[1]) < MAX_KEYWORD_LETTERS) keywords[Number(m[1])] = m[2] as string;
  }
  return keywords;
};

/** What Dovecot's `dovecot-uidlist` (version 3) says: UIDVALIDITY, next UID, and UID (+ CRLF size) per base name. */
export const readDovecotUidlist = async (
  jail: ArchiveJail,
  dir: string,
): Promise<{ uidValidity: string; uidNext: number; uids: Map<string, { uid: number; virtualSize?: number }> } | undefined> => {
  const text = await readFolderFile(jail, path.join(dir, 'dovecot-uidlist'));
  if (text === undefined) return undefined;
  const [first, ...lines] = text.split('\n');
  const header = /^3 (.*)$/.exec(first ?? '');
  if (!header) return undefined;
  const fields = new Map((header[1] as string).split(' ').map((f) => [f[0] ?? '', f.slice(1)]));
  const uidValidity = fields.get('V');
  if (!uidValidity || !isUid(Number(uidValidity))) return undefined;
  const uids = new Map<string, { uid: number; virtualSize?: number }>();
  let uidNext = Number(fields.get('N') ?? 1);
  if (!isUid(uidNext)) uidNext = 1;
  for (const line of lines) {
    const m = /^(\d+)((?: [A-Z]\S*)*) :(.+)$/.exec(line);
    if (!m || !isUid(Number(m[1]))) continue;
    const w = / W(\d+)/.exec(m[2] ?? '');
    const name = (m[3] as string).split(':2,')[0] as string;
    const uid = Number(m[1]);
    uids.set(name, { uid, ...(w && Number.isSafeInteger(Number(w[1])) ? { virtualSize: Number(w[1]) } : {}) });
    uidNext = Math.max(uidNext, uid + 1);
  }
  return { uidValidity, uidNext, uids };
};

/** UIDs and UIDVALIDITY, like IMAP's, are non-zero 32-bit numbers; a file saying otherwise is not believed. */
const isUid = (n: number): boolean => Number.isSafeInteger(n) && n >= 1 && n <= 2 ** 32 - 1;

const flagsFromInfo = (info: string, keywords: string[]): string[] => {
  const flags = new Set<string>();
  for (const ch of info) {
    const system = SYSTEM_LETTERS.find(([, l]) => l === ch);
    if (system) flags.add(system[0]);
    else if (ch >= 'a' && ch <= 'z') {
      const kw = keywords[ch.charCodeAt(0) - 97];
      if (kw) flags.add(kw);
    }
  }
  return [...flags];
};

export class MaildirArchive implements ArchiveBackend {
  readonly format = 'maildir' as const;
  /** Per folder path: the index as this writer knows it (destination only). */
  private readonly indexes = new Map<string, FolderIndex>();
  /** Per folder path: UID → file (and whether to read it as CRLF), from the last view. */
  private readonly files = new Map<string, Map<number, { rel: string; crlf: boolean }>>();
  private readonly repaired = new Set<string>();
  /** Writer only: folders viewed (repaired, foreign files indexed) since our last failed append. */
  private readonly isViewed = new Set<string>();
  private readonly foreignMetas = new Map<string, MessageMeta>();
  private readonly jail: ArchiveJail;

  constructor(
    readonly root: string,
    private readonly isWritable: boolean,
  ) {
    this.jail = new ArchiveJail(root);
  }

  folderDir(folderPath: string): string {
    if (folderPath.toUpperCase() === 'INBOX') return this.root;
    return path.join(this.root, '.' + folderPath.split(ARCHIVE_DELIMITER).map(maildirSegment).join('.'));
  }

  async listFolders(): Promise<SourceFolder[]> {
    const folders: SourceFolder[] = [];
    const candidates: { dir: string; path: string }[] = [];
    if ((await exists(path.join(this.root, 'cur'))) || (await exists(path.join(this.root, MAILDIR_INDEX_FILE)))) candidates.push({ dir: this.root, path: 'INBOX' });
    for (const entry of await this.jail.readdir(this.root)) {
      if (!entry.name.startsWith('.') || entry.name === '.' || entry.name === '..') continue;
      const dir = path.join(this.root, entry.name);
      // A linked folder is listed, so that opening it says why it is refused; it is never followed.
      if (!entry.isSymbolicLink() && !(entry.isDirectory() && (await exists(path.join(dir, 'cur'))))) continue;
      candidates.push({ dir, path: entry.name.slice(1).split('.').map(maildirSegmentName).join(ARCHIVE_DELIMITER) });
    }
    for (const c of candidates) {
      const index = await indexForListing(this.jail, path.join(c.dir, MAILDIR_INDEX_FILE), MAILDIR_INDEX_RULES);
      const folderPath = index?.header.path ?? c.path;
      let present: Map<string, MaildirFile>;
      try {
        present = await this.scanFiles(c.dir);
      } catch (e) {
        // Refused (a linked folder or cur/): listed empty; opening it gives the reason.
        if (!isMigrationError(e)) throw e;
        folders.push(archiveFolder(folderPath, { messages: 0, sizeBytes: 0 }));
        continue;
      }
      let sizeBytes = 0;
      const indexed = new Map(index?.entries.map((e) => [e.key, e]) ?? []);
      for (const file of present.values()) {
        const size = indexed.get(file.unique)?.size ?? Number(/,S=(\d+)/.exec(file.unique)?.[1] ?? NaN);
        if (Number.isSafeInteger(size)) sizeBytes += size;
        else if (file.isRegular) sizeBytes += (await fs.lstat(path.join(c.dir, file.rel))).size;
      }
      folders.push(archiveFolder(folderPath, { messages: present.size, sizeBytes }));
    }
    return folders;
  }

  /** The message files in new/ and cur/; throws (refusing the folder) if the folder or either directory is a link. */
  private async scanFiles(dir: string): Promise<Map<string, MaildirFile>> {
    const files = new Map<string, MaildirFile>();
    for (const sub of ['new', 'cur']) {
      let entries: Dirent[];
      try {
        entries = await this.jail.readdir(path.join(dir, sub));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        const file = parseName(sub, entry.name, entry.isFile());
        files.set(file.unique, file);
      }
    }
    return files;
  }

  private loadIndex(folderPath: string, dir: string): Promise<FolderIndex | undefined> {
    return loadFolderIndex(this.indexes, this.isWritable, this.jail, MAILDIR_INDEX_RULES, folderPath, path.join(dir, MAILDIR_INDEX_FILE));
  }

  /** Finishes renames our crashed append left in tmp/, and removes our unpublished temp files. */
  private async repair(folderPath: string, dir: string, index: FolderIndex): Promise<void> {
    if (this.repaired.has(folderPath)) return;
    const present = await this.scanFiles(dir);
    const referenced = new Set<string>();
    for (const entry of index.entries) {
      if (!entry.tmp || !entry.file) continue;
      referenced.add(entry.tmp);
      if (present.has(entry.key)) continue;
      // The index's names were checked when it was read (MAILDIR_INDEX_RULES): both stay in this folder.
      if (await exists(path.join(dir, entry.tmp))) {
        await this.jail.rename(path.join(dir, entry.tmp), path.join(dir, entry.file));
        await fsyncDirectory(path.join(dir, 'cur'));
      }
    }
    let leftovers: string[] = [];
    try {
      leftovers = (await this.jail.readdir(path.join(dir, 'tmp'))).filter((e) => !e.isDirectory()).map((e) => e.name);
    } catch (e) {
      if (isMigrationError(e)) throw e;
      leftovers = [];
    }
    for (const name of leftovers) {
      if (OWN_UNIQUE.test(name) && !referenced.has(`tmp/${name}`)) await this.jail.remove(path.join(dir, 'tmp', name));
    }
    this.repaired.add(folderPath);
  }

  async view(folderPath: string): Promise<ArchiveFolderView> {
    const dir = this.folderDir(folderPath);
    await this.jail.refuseLinks(path.join(dir, 'cur'));
    if (!(await exists(path.join(dir, 'cur')))) throw migrationError('not-found', `The archive has no folder "${folderPath}".`);
    let index = await this.loadIndex(folderPath, dir);
    if (this.isWritable && index) await this.repair(folderPath, dir, index);
    const keywords = await readKeywords(this.jail, dir);
    const present = await this.scanFiles(dir);
    const messages: MessageMeta[] = [];
    const located = new Map<number, { rel: string; crlf: boolean }>();
    const indexedKeys = new Set<string>();
    for (const entry of index?.entries ?? []) {
      indexedKeys.add(entry.key);
      const file = present.get(entry.key);
      if (!file) continue; // removed by someone else since
      const fromName = flagsFromInfo(file.info, keywords);
      const onlyInIndex = entry.flags.filter((f) => !f.startsWith('\\') && !keywords.includes(f));
      messages.push({ uid: entry.uid, sizeBytes: entry.size, flags: [...new Set([...fromName, ...onlyInIndex])].sort(), internalDate: new Date(entry.date), fingerprint: entry.fp, subject: entry.subject });
      located.set(entry.uid, { rel: file.rel, crlf: entry.crlf === true });
    }
    // A Maildir of Dovecot's own (no index of ours): its dovecot-uidlist gives stable UIDs and UIDVALIDITY.
    const uidlist = index ? undefined : await readDovecotUidlist(this.jail, dir);
    const listed = (f: MaildirFile): number => uidlist?.uids.get(f.unique)?.uid ?? Number.MAX_SAFE_INTEGER;
    // A writer leaves what it may not read (a link, say) alone; a reader lists it, and reading it says why it is refused.
    const extras = [...present.values()]
      .filter((f) => !indexedKeys.has(f.unique) && (f.isRegular || !this.isWritable))
      .sort((a, b) => listed(a) - listed(b) || (a.unique < b.unique ? -1 : a.unique > b.unique ? 1 : 0));
    let uidValidity = index?.uidValidity ?? uidlist?.uidValidity;
    let uidNext = index?.uidNext ?? uidlist?.uidNext ?? 1;
    const unlisted: string[] = [];
    if (extras.length > 0) {
      const adopted: IndexEntry[] = [];
      for (const file of extras) {
        const fromList = uidlist?.uids.get(file.unique);
        if (!fromList) unlisted.push(file.unique);
        const uid = fromList?.uid ?? uidNext++;
        const flags = flagsFromInfo(file.info, keywords);
        located.set(uid, { rel: file.rel, crlf: true });
        if (!file.isRegular) {
          messages.push(refusedMessageMeta(uid, file.rel, flags));
          continue;
        }
        const meta = await this.foreignMeta(path.join(dir, file.rel), file, uid, flags, fromList?.virtualSize);
        messages.push(meta);
        adopted.push({ t: 'msg', uid: meta.uid, key: file.unique, fp: meta.fingerprint, size: meta.sizeBytes, flags: meta.flags, date: meta.internalDate.getTime(), subject: meta.subject, crlf: true });
      }
      messages.sort((a, b) => a.uid - b.uid);
      if (this.isWritable) {
        index ??= await this.createIndex(folderPath, dir);
        await index.append(adopted);
        uidValidity = index.uidValidity;
        uidNext = index.uidNext;
      } else if (!uidlist || unlisted.length > 0) {
        uidValidity = derivedUidValidity(uidValidity ?? 'unindexed', ...(uidlist ? unlisted : extras.map((f) => f.unique)));
      }
    }
    this.files.set(folderPath, located);
    if (this.isWritable) this.isViewed.add(folderPath);
    return { state: folderStateOf(uidValidity ?? derivedUidValidity('empty', folderPath), uidNext, messages), messages };
  }

  /**
   * Facts of a message not written by us, in IMAP's CRLF form. When its CRLF size is known (Dovecot
   * writes it as `,W=` in the name and in dovecot-uidlist) only the header is read; otherwise the
   * whole file. Remembered per file for the life of this backend (one job's connection).
   */
  private async foreignMeta(full: string, file: MaildirFile, uid: number, flags: string[], listedVirtualSize?: number): Promise<MessageMeta> {
    const handle = await this.jail.open(full, 'r');
    try {
      const stat = await handle.stat();
      const cacheKey = `${full}|${stat.size}|${stat.mtimeMs}`;
      const internalDate = new Date(Math.floor(stat.mtimeMs / 1000) * 1000);
      const cached = this.foreignMetas.get(cacheKey);
      if (cached) return { ...cached, uid, flags: [...flags].sort(), internalDate };
      const virtualSize = listedVirtualSize ?? (/,W=(\d+)/.test(file.unique) ? Number(/,W=(\d+)/.exec(file.unique)?.[1]) : undefined);
      let meta: MessageMeta | undefined;
      if (virtualSize !== undefined) {
        const head = Buffer.alloc(Math.min(HEADER_PROBE_BYTES, stat.size));
        await handle.read(head, 0, head.length, 0);
        const end = headerBlockEnd(head);
        if (end < head.length || head.length === stat.size) {
          const header = head.subarray(0, end);
          const fields = parseHeaderFields(header);
          meta = {
            uid,
            sizeBytes: virtualSize,
            flags: [...flags].sort(),
            internalDate,
            fingerprint: fingerprintFromFields(fields, virtualSize),
            subject: headerValue(fields, 'subject'),
            messageId: headerValue(fields, 'message-id'),
            date: headerValue(fields, 'date'),
          };
        }
      }
      meta ??= metaOfStoredMessage(uid, toCrlf(await handle.readFile()), flags, internalDate);
      this.foreignMetas.set(cacheKey, meta);
      return meta;
    } finally {
      await handle.close();
    }
  }

  private async createIndex(folderPath: string, dir: string): Promise<FolderIndex> {
    const index = await FolderIndex.create(this.jail, path.join(dir, MAILDIR_INDEX_FILE), 'maildir', folderPath);
    this.indexes.set(folderPath, index);
    return index;
  }

  async readBody(folderPath: string, uid: number): Promise<Buffer> {
    let file = this.files.get(folderPath)?.get(uid);
    if (!file) {
      await this.view(folderPath);
      file = this.files.get(folderPath)?.get(uid);
    }
    if (!file) throw migrationError('not-found', 'The message is no longer in the archive.');
    let body: Buffer;
    try {
      body = await this.jail.readFile(path.join(this.folderDir(folderPath), file.rel));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // Renamed by a flag change in another program: look again.
      await this.view(folderPath);
      file = this.files.get(folderPath)?.get(uid);
      if (!file) throw migrationError('not-found', 'The message is no longer in the archive.');
      body = await this.jail.readFile(path.join(this.folderDir(folderPath), file.rel));
    }
    return file.crlf ? toCrlf(body) : body;
  }

  async ensureFolder(folderPath: string): Promise<{ created: boolean }> {
    const dir = this.folderDir(folderPath);
    await this.jail.refuseLinks(dir);
    if (dir !== this.root) await checkFolderNameIsFree(dir, folderPath, (await this.loadIndex(folderPath, dir).catch(() => undefined))?.header.path);
    const created = !(await exists(path.join(dir, 'cur')));
    for (const sub of ['cur', 'new', 'tmp']) await this.jail.mkdir(path.join(dir, sub));
    if (dir !== this.root && !(await exists(path.join(dir, 'maildirfolder')))) await this.jail.writeNew(path.join(dir, 'maildirfolder'), '').catch(() => undefined);
    if (created) await fsyncDirectory(path.dirname(dir));
    if (!(await this.loadIndex(folderPath, dir))) await this.createIndex(folderPath, dir);
    return { created };
  }

  /** The letters for these keywords, adding new ones to dovecot-keywords (atomically) while there is room. */
  private async keywordLetters(dir: string, keywords: string[], wanted: string[]): Promise<string> {
    let changed = false;
    const letters: string[] = [];
    for (const kw of wanted) {
      let at = keywords.indexOf(kw);
      if (at < 0 && keywords.length < MAX_KEYWORD_LETTERS && /^[\x21-\x7e]+$/.test(kw)) {
        at = keywords.length;
        keywords.push(kw);
        changed = true;
      }
      if (at >= 0) letters.push(String.fromCharCode(97 + at));
    }
    if (changed) await this.jail.replace(path.join(dir, KEYWORDS_FILE), keywords.map((k, i) => `${i} ${k}\n`).join(''));
    return letters.sort().join('');
  }

  async append(folderPath: string, messages: OutgoingMessage[]): Promise<AppendOutcome> {
    const dir = this.folderDir(folderPath);
    // Repairs, indexes foreign files, makes sure the folder exists; once per folder is enough,
    // since we hold the archive's lock (new foreign files are picked up by the next view).
    if (!this.isViewed.has(folderPath)) await this.view(folderPath);
    const index = (await this.loadIndex(folderPath, dir)) ?? (await this.createIndex(folderPath, dir));
    const keywords = await readKeywords(this.jail, dir);
    const entries: IndexEntry[] = [];
    const results: Result<AppendedMessage>[] = [];
    let uid = index.uidNext;
    try {
      for (const message of messages) {
        const unique = uniqueName(message.body.length);
        const system = SYSTEM_LETTERS.filter(([f]) => message.flags.includes(f)).map(([, l]) => l).join('');
        const kwLetters = await this.keywordLetters(dir, keywords, message.flags.filter((f) => !f.startsWith('\\')));
        const tmp = `tmp/${unique}`;
        const file = `cur/${unique}${INFO_SEPARATOR}2,${system}${kwLetters}`;
        await this.jail.writeNew(path.join(dir, tmp), piecesOf(message.body), message.internalDate);
        const fields = parseHeaderFields(headerBlockOf(message.body));
        entries.push({
          t: 'msg',
          uid: uid++,
          key: unique,
          fp: fingerprintFromFields(fields, message.body.length),
          size: message.body.length,
          flags: [...message.flags].filter((f) => f.toLowerCase() !== '\\recent').sort(),
          date: message.internalDate.getTime(),
          tmp,
          file,
          subject: headerValue(fields, 'subject'),
        });
      }
      // The index first, then the renames: a crash in between is finished by repair().
      await index.append(entries);
      for (const entry of entries) await this.jail.rename(path.join(dir, entry.tmp as string), path.join(dir, entry.file as string));
      await fsyncDirectory(path.join(dir, 'cur'));
      for (const entry of entries) results.push(ok({ uid: entry.uid, uidValidity: index.uidValidity }));
      return { results };
    } catch (thrown) {
      // Nothing of this batch is reported stored; what reached the index is finished on the next open.
      this.repaired.delete(folderPath);
      this.isViewed.delete(folderPath);
      return { results: [], stopped: archiveError(thrown, 'write to the Maildir archive') };
    }
  }
}
