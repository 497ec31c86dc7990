/**
 * An archive of `.eml` files: one directory per folder (nested as the folders are, names made
 * safe by archive-names.ts, INBOX as `INBOX`), one file per message with a readable name
 * (`2004-03-02 140509 Subject words.eml`, the date being INTERNALDATE in UTC), the bytes exactly
 * as received. Flags exist only in the folder's index (`.mailferry-index.jsonl`, hidden); the
 * file's mtime is set to INTERNALDATE so file managers sort by it.
 *
 * Crash safety, per batch: each message goes to a hidden temp file in the folder, is fsynced and
 * given its mtime; the index lines (temp and final names) are appended and fsynced; then each
 * temp file is published under its final name with a hard link (never replacing an existing
 * file) and the directory fsynced. A crash before the index write leaves only our temp files
 * (removed on the next open); after it, the next open finishes the publishing. Only then does
 * `append` report the messages stored.
 */
import { metaOfStoredMessage, refusedMessageMeta } from './message-meta.js';
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SourceFolder } from '../contract/plan.js';
import { migrationError, ok, type Result } from '../contract/result.js';
import { fingerprintFromFields, headerValue, parseHeaderFields } from '../engine/fingerprint.js';
import type { AppendOutcome, AppendedMessage, MessageMeta, OutgoingMessage } from '../engine/store.js';
import { archiveError, checkFolderNameIsFree, exists, fsyncDirectory, inboxNameIn } from './archive-fs.js';
import { derivedUidValidity, FolderIndex, indexForListing, isPlainName, loadFolderIndex, type IndexEntry, type IndexRules } from './archive-index.js';
import { ArchiveJail } from './archive-jail.js';
import { fileNameKey, fileNameToSegment, messageFileName, segmentToFileName } from './archive-names.js';
import { archiveFolder, ARCHIVE_DELIMITER, folderStateOf, toCrlf, type ArchiveBackend, type ArchiveFolderView } from './archive-store.js';
import { headerBlockOf, piecesOf } from '../engine/message-bytes.js';

export const EML_INDEX_FILE = '.mailferry-index.jsonl';
const TEMP_PREFIX = '.mailferry-';
const TEMP_SUFFIX = '.tmp';
const isEmlName = (name: string): boolean => !name.startsWith('.') && name.toLowerCase().endsWith('.eml');
/** A message of the folder: an .eml name that is not a folder (a link or a pipe is listed, and refused when read). */
const isMessageEntry = (entry: Dirent): boolean => isEmlName(entry.name) && !entry.isDirectory();
/** A subfolder; a linked one is listed too, so that opening it says why it is refused. */
const isFolderEntry = (entry: Dirent): boolean => !entry.name.startsWith('.') && (entry.isDirectory() || (entry.isSymbolicLink() && !isEmlName(entry.name)));

/**
 * Every name in an entry is a file directly in the folder: the message's (`file`, or `key` for
 * old entries) and our temp file's. The repair after a crash publishes one as the other.
 */
export const EML_INDEX_RULES: IndexRules = {
  format: 'eml',
  entryProblem: (e) => {
    const isTemp = e.tmp === undefined || (isPlainName(e.tmp) && e.tmp.startsWith(TEMP_PREFIX) && e.tmp.endsWith(TEMP_SUFFIX));
    const isOurs = isPlainName(e.key) && (e.file === undefined || isPlainName(e.file)) && isTemp;
    return isOurs ? undefined : `a message whose file names ${JSON.stringify(e.file ?? e.key)} and ${JSON.stringify(e.tmp)} are not names of files in the folder`;
  },
};

/** RFC 2047 encoded words to text (for file names only; unknown charsets stay encoded). */
export const decodeHeaderText = (value: string): string => {
  // parseHeaderFields reads bytes as latin1: raw UTF-8 in a header comes back as UTF-8 text here.
  const asUtf8 = Buffer.from(value, 'latin1').toString('utf8');
  const text = asUtf8.includes('\ufffd') ? value : asUtf8;
  return text
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?\s*]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=/g, (word, charset: string, encoding: string, data: string) => {
      try {
        const bytes =
          encoding.toUpperCase() === 'B'
            ? Buffer.from(data, 'base64')
            : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
        return new TextDecoder(charset.toLowerCase()).decode(bytes);
      } catch {
        return word;
      }
    });
};

export class EmlArchive implements ArchiveBackend {
  readonly format = 'eml' as const;
  private readonly indexes = new Map<string, FolderIndex>();
  private readonly files = new Map<string, Map<number, { file: string; crlf: boolean }>>();
  private readonly repaired = new Set<string>();
  /** Writer only: folders viewed (repaired, foreign files indexed) since our last failed append. */
  private readonly isViewed = new Set<string>();

  /** INBOX's directory name here: `INBOX`, or what a tree of another tool has (`Inbox`). */
  private readonly inboxDir: string;
  private readonly jail: ArchiveJail;

  constructor(
    readonly root: string,
    private readonly isWritable: boolean,
  ) {
    this.inboxDir = inboxNameIn(root, 'INBOX', 'directory');
    this.jail = new ArchiveJail(root);
  }

  folderDir(folderPath: string): string {
    if (folderPath.toUpperCase() === 'INBOX') return path.join(this.root, this.inboxDir);
    return path.join(this.root, ...folderPath.split(ARCHIVE_DELIMITER).map((s) => segmentToFileName(s)));
  }

  async listFolders(): Promise<SourceFolder[]> {
    const folders: SourceFolder[] = [];
    const fallbackPath = (segments: string[]): string => {
      const fallback = segments.length > 0 ? segments.join(ARCHIVE_DELIMITER) : fileNameToSegment(path.basename(this.root));
      return fallback.toUpperCase() === 'INBOX' ? 'INBOX' : fallback;
    };
    const walk = async (dir: string, segments: string[], depth: number): Promise<void> => {
      if (depth > 64) return;
      const entries = await this.jail.readdir(dir);
      const emls = entries.filter(isMessageEntry);
      const index = await indexForListing(this.jail, path.join(dir, EML_INDEX_FILE), EML_INDEX_RULES);
      if (segments.length > 0 || emls.length > 0 || index) {
        const sizes = new Map(index?.entries.map((e) => [e.file ?? e.key, e.size]) ?? []);
        let sizeBytes = 0;
        for (const e of emls) sizeBytes += sizes.get(e.name) ?? (e.isFile() ? (await fs.lstat(path.join(dir, e.name))).size : 0);
        folders.push(archiveFolder(index?.header.path ?? fallbackPath(segments), { messages: emls.length, sizeBytes }));
      }
      for (const e of entries) {
        if (!isFolderEntry(e)) continue;
        const child = [...segments, fileNameToSegment(e.name)];
        if (e.isDirectory()) await walk(path.join(dir, e.name), child, depth + 1);
        else folders.push(archiveFolder(fallbackPath(child), { messages: 0, sizeBytes: 0 }));
      }
    };
    await walk(this.root, [], 0);
    return folders;
  }

  private loadIndex(folderPath: string, dir: string): Promise<FolderIndex | undefined> {
    return loadFolderIndex(this.indexes, this.isWritable, this.jail, EML_INDEX_RULES, folderPath, path.join(dir, EML_INDEX_FILE));
  }

  private async createIndex(folderPath: string, dir: string): Promise<FolderIndex> {
    const index = await FolderIndex.create(this.jail, path.join(dir, EML_INDEX_FILE), 'eml', folderPath);
    this.indexes.set(folderPath, index);
    return index;
  }

  /** Finishes publishing what our crashed append indexed, and removes our unpublished temp files. */
  private async repair(folderPath: string, dir: string, index: FolderIndex): Promise<void> {
    if (this.repaired.has(folderPath)) return;
    for (const entry of index.entries) {
      if (!entry.tmp || !entry.file) continue;
      // The index's names were checked when it was read (EML_INDEX_RULES): both are files of this folder.
      if ((await exists(path.join(dir, entry.file))) || !(await exists(path.join(dir, entry.tmp)))) continue;
      await this.jail.publish(path.join(dir, entry.tmp), path.join(dir, entry.file));
    }
    for (const { name } of await this.jail.readdir(dir)) {
      if (!name.startsWith(TEMP_PREFIX) || !name.endsWith(TEMP_SUFFIX)) continue;
      const owner = index.entries.find((e) => e.tmp === name);
      // Unindexed: our write that never counted. Indexed and published: a link left by a cut-short unlink.
      if (!owner || (await exists(path.join(dir, owner.file ?? owner.key)))) await this.jail.remove(path.join(dir, name));
    }
    this.repaired.add(folderPath);
  }

  private isRootFolder(folderPath: string): boolean {
    return folderPath !== 'INBOX' && !folderPath.includes(ARCHIVE_DELIMITER) && fileNameToSegment(path.basename(this.root)) === folderPath;
  }

  async view(folderPath: string): Promise<ArchiveFolderView> {
    let dir = this.folderDir(folderPath);
    // A folder of .eml files given directly as the archive is the folder named after it.
    if (!(await exists(dir)) && this.isRootFolder(folderPath)) dir = this.root;
    await this.jail.refuseLinks(dir);
    if (!(await exists(dir))) throw migrationError('not-found', `The archive has no folder "${folderPath}".`);
    let index = await this.loadIndex(folderPath, dir);
    if (this.isWritable && index) await this.repair(folderPath, dir, index);
    const found = (await this.jail.readdir(dir)).filter(isMessageEntry);
    const present = new Set(found.map((e) => e.name));
    const isRegular = new Set(found.filter((e) => e.isFile()).map((e) => e.name));
    const messages: MessageMeta[] = [];
    const located = new Map<number, { file: string; crlf: boolean }>();
    const indexedNames = new Set<string>();
    for (const entry of index?.entries ?? []) {
      const name = entry.file ?? entry.key;
      indexedNames.add(name);
      if (!present.has(name)) continue;
      messages.push({ uid: entry.uid, sizeBytes: entry.size, flags: entry.flags, internalDate: new Date(entry.date), fingerprint: entry.fp, subject: entry.subject });
      located.set(entry.uid, { file: path.join(dir, name), crlf: entry.crlf === true });
    }
    // A writer leaves what it may not read (a link, say) alone; a reader lists it, and reading it says why it is refused.
    const extras = [...present].filter((n) => !indexedNames.has(n) && (isRegular.has(n) || !this.isWritable)).sort();
    let uidValidity = index?.uidValidity;
    let uidNext = index?.uidNext ?? 1;
    if (extras.length > 0) {
      const adopted: IndexEntry[] = [];
      for (const name of extras) {
        const full = path.join(dir, name);
        const uid = uidNext++;
        located.set(uid, { file: full, crlf: true });
        if (!isRegular.has(name)) {
          messages.push(refusedMessageMeta(uid, name, []));
          continue;
        }
        const handle = await this.jail.open(full, 'r');
        const [body, stat] = await Promise.all([handle.readFile(), handle.stat()]).finally(() => handle.close());
        const meta = metaOfStoredMessage(uid, toCrlf(body), [], new Date(Math.floor(stat.mtimeMs / 1000) * 1000));
        messages.push(meta);
        adopted.push({ t: 'msg', uid: meta.uid, key: name, file: name, fp: meta.fingerprint, size: meta.sizeBytes, flags: [], date: meta.internalDate.getTime(), subject: meta.subject, crlf: true });
      }
      if (this.isWritable) {
        index ??= await this.createIndex(folderPath, dir);
        await index.append(adopted);
        uidValidity = index.uidValidity;
      } else uidValidity = derivedUidValidity(uidValidity ?? 'unindexed', ...extras);
    }
    this.files.set(folderPath, located);
    if (this.isWritable) this.isViewed.add(folderPath);
    return { state: folderStateOf(uidValidity ?? derivedUidValidity('empty', folderPath), uidNext, messages), messages };
  }

  async readBody(folderPath: string, uid: number): Promise<Buffer> {
    let file = this.files.get(folderPath)?.get(uid);
    if (!file) {
      await this.view(folderPath);
      file = this.files.get(folderPath)?.get(uid);
    }
    if (!file) throw migrationError('not-found', 'The message is no longer in the archive.');
    const body = await this.jail.readFile(file.file);
    return file.crlf ? toCrlf(body) : body;
  }

  async ensureFolder(folderPath: string): Promise<{ created: boolean }> {
    const dir = this.folderDir(folderPath);
    await this.jail.refuseLinks(dir);
    await checkFolderNameIsFree(dir, folderPath, (await this.loadIndex(folderPath, dir).catch(() => undefined))?.header.path);
    const created = !(await exists(dir));
    await this.jail.mkdir(dir);
    if (created) await fsyncDirectory(path.dirname(dir));
    if (!(await this.loadIndex(folderPath, dir))) await this.createIndex(folderPath, dir);
    return { created };
  }

  async append(folderPath: string, messages: OutgoingMessage[]): Promise<AppendOutcome> {
    const dir = this.folderDir(folderPath);
    if (!this.isViewed.has(folderPath)) await this.view(folderPath);
    const index = (await this.loadIndex(folderPath, dir)) ?? (await this.createIndex(folderPath, dir));
    // Names taken, compared as Windows and macOS do (case- and normalization-insensitive).
    const taken = new Set((await this.jail.readdir(dir)).map((e) => fileNameKey(e.name)));
    for (const e of index.entries) taken.add(fileNameKey(e.file ?? e.key));
    const entries: IndexEntry[] = [];
    const results: Result<AppendedMessage>[] = [];
    let uid = index.uidNext;
    try {
      for (const message of messages) {
        const fields = parseHeaderFields(headerBlockOf(message.body));
        const subject = headerValue(fields, 'subject');
        const base = messageFileName(message.internalDate, subject === undefined ? undefined : decodeHeaderText(subject), '');
        let name = `${base}.eml`;
        for (let n = 2; taken.has(fileNameKey(name)); n++) name = `${base} (${n}).eml`;
        taken.add(fileNameKey(name));
        const tmp = `${TEMP_PREFIX}${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`;
        await this.jail.writeNew(path.join(dir, tmp), piecesOf(message.body), message.internalDate);
        entries.push({
          t: 'msg',
          uid: uid++,
          key: name,
          fp: fingerprintFromFields(fields, message.body.length),
          size: message.body.length,
          flags: [...message.flags].filter((f) => f.toLowerCase() !== '\\recent').sort(),
          date: message.internalDate.getTime(),
          tmp,
          file: name,
          subject,
        });
      }
      await index.append(entries);
      for (const entry of entries) await this.jail.publish(path.join(dir, entry.tmp as string), path.join(dir, entry.file as string), { syncDirectory: false });
      await fsyncDirectory(dir);
      for (const entry of entries) results.push(ok({ uid: entry.uid, uidValidity: index.uidValidity }));
      return { results };
    } catch (thrown) {
      this.repaired.delete(folderPath);
      this.isViewed.delete(folderPath);
      return { results: [], stopped: archiveError(thrown, 'write to the eml archive') };
    }
  }
}
