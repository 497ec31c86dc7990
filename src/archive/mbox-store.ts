/**
 * An mbox archive in Thunderbird's Local Folders layout: one mbox file per folder, a folder's
 * children in a directory named after it plus `.sbd` (`Reisen` and `Reisen.sbd/Überfahrt`),
 * INBOX as `Inbox`. Thunderbird opens it as a local folder tree, `mutt -f Reisen` opens a folder.
 * A single mbox file (mutt's, or one exported from Thunderbird) can be read as an archive of one
 * folder named after the file. The message format is mboxrd (see mboxrd.ts).
 *
 * The index of a folder is the hidden file `.<name>.mailferry-index.jsonl` next to its mbox file
 * (Thunderbird ignores names starting with a dot). Each message's entry records where its
 * `From ` line, its stored bytes and the next record start, so reading never parses the file.
 *
 * Crash safety of an append (one batch):
 * 1. An `intent` line (offset = current end of file, length of the batch) goes to the index, fsynced.
 * 2. The batch is appended to the mbox file and fsynced.
 * 3. The `msg` lines with the offsets go to the index, fsynced; only then is the batch reported stored.
 * On open, bytes beyond the last indexed record are either (a) our interrupted append (an intent
 * at exactly that offset covers them): the writer truncates the file back to where the batch
 * began (the roll-back; the reader just ignores them), or (b) messages another program appended:
 * they are parsed and indexed like any foreign mbox. If indexed records no longer start where the
 * index says (another program rewrote the file, e.g. compacted it), the index is not trusted:
 * a reader parses the file afresh; a writer refuses to append, since it could not keep its promises.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SourceFolder } from '../contract/plan.js';
import { migrationError, ok, type Result } from '../contract/result.js';
import { fingerprintOfMessage, headerBlockEnd, headerValue, parseHeaderFields } from '../engine/fingerprint.js';
import type { AppendOutcome, AppendedMessage, MessageMeta, OutgoingMessage } from '../engine/store.js';
import { checkFolderNameIsFree, exists, fsyncDirectory, inboxNameIn, isMigrationError } from './archive-fs.js';
import { derivedUidValidity, FolderIndex, indexForListing, loadFolderIndex, type IndexEntry, type IndexRules, type MboxPlace } from './archive-index.js';
import { ArchiveJail } from './archive-jail.js';
import { fileNameToSegment, segmentToFileName, THUNDERBIRD_RESERVED_SUFFIXES } from './archive-names.js';
import { archiveFolder, ARCHIVE_DELIMITER, folderStateOf, toCrlf, type ArchiveBackend, type ArchiveFolderView } from './archive-store.js';
import { envelopeLines, flagsFromHeaderBlock, fromLine, parseFromLineDate, quoteMboxrd, splitEnvelope, splitMbox, unquoteMboxrd, type ScannedMboxMessage } from './mboxrd.js';
import { joinedBytes } from '../engine/message-bytes.js';

const INDEX_SUFFIX = '.mailferry-index.jsonl';
const SUBFOLDER_SUFFIX = '.sbd';
const INBOX_FILE = 'Inbox';
/** Files not written by us are scanned in pieces of this size. */
export const SCAN_CHUNK_BYTES = 16 * 1024 * 1024;

export const mboxIndexFile = (mboxFile: string): string => path.join(path.dirname(mboxFile), `.${path.basename(mboxFile)}${INDEX_SUFFIX}`);

const nameOptions = { reservedSuffixes: THUNDERBIRD_RESERVED_SUFFIXES };

/** An mbox index locates messages by byte offsets only; an entry naming files is not ours. */
export const MBOX_INDEX_RULES: IndexRules = {
  format: 'mbox',
  entryProblem: (e) => (e.tmp === undefined && e.file === undefined ? undefined : 'a message that names files, which an mbox index never does'),
};

/** Is this file in a Thunderbird tree a folder (not a summary, a filter file, our index)? */
const isFolderFile = (name: string): boolean =>
  !name.startsWith('.') && !name.endsWith('~') && !name.startsWith('#') && !THUNDERBIRD_RESERVED_SUFFIXES.some((s) => name.toLowerCase().endsWith(s));

/** The sender for the `From ` line: Return-Path if there is one, as mail delivery writes it. */
const envelopeSender = (body: Buffer): string => {
  const fields = parseHeaderFields(body.subarray(0, headerBlockEnd(body)));
  const returnPath = headerValue(fields, 'return-path');
  const address = returnPath?.replace(/^<|>$/g, '').trim();
  return address && /^[^\s<>]+$/.test(address) ? address : 'MAILER-DAEMON';
};

/** Where a message is, and whether it is read as CRLF (not written by us). */
type Located = MboxPlace & { crlf: boolean };

interface Computed {
  view: ArchiveFolderView;
  places: Map<number, Located>;
}

export class MboxArchive implements ArchiveBackend {
  readonly format = 'mbox' as const;
  private readonly indexes = new Map<string, FolderIndex>();
  private readonly places = new Map<string, Map<number, Located>>();
  /** Writer only: per folder, the file size its index was last checked against (we hold the lock). */
  private readonly checkedSize = new Map<string, number>();

  /** Reads and writes stay in the tree (for a single file: in its directory, where its index is). */
  private readonly jail: ArchiveJail;

  /** `root` is a directory (a folder tree) or, for reading only, a single mbox file. */
  constructor(
    readonly root: string,
    private readonly isWritable: boolean,
    private readonly isSingleFile = false,
    private readonly scanChunkBytes = SCAN_CHUNK_BYTES,
  ) {
    this.inboxFile = isSingleFile ? INBOX_FILE : inboxNameIn(root, INBOX_FILE, 'file');
    this.jail = new ArchiveJail(isSingleFile ? path.dirname(root) : root);
  }

  /** INBOX's file name here: `Inbox` as Thunderbird writes it, or what a tree of another tool has. */
  private readonly inboxFile: string;

  private singleFolderPath(): string {
    const name = fileNameToSegment(path.basename(this.root));
    return name.toLowerCase() === 'inbox' ? 'INBOX' : name;
  }

  mboxFile(folderPath: string): string {
    if (this.isSingleFile) {
      if (folderPath !== this.singleFolderPath()) throw migrationError('not-found', `The mbox file holds only the folder "${this.singleFolderPath()}".`);
      return this.root;
    }
    const segments = folderPath.split(ARCHIVE_DELIMITER);
    const names = segments.map((s, i) => (i === 0 && s.toUpperCase() === 'INBOX' ? this.inboxFile : segmentToFileName(s, nameOptions)));
    return path.join(this.root, ...names.slice(0, -1).map((n) => n + SUBFOLDER_SUFFIX), names[names.length - 1] as string);
  }

  async listFolders(): Promise<SourceFolder[]> {
    const found: string[] = [];
    if (this.isSingleFile) found.push(this.singleFolderPath());
    else {
      const walk = async (dir: string, segments: string[], depth: number): Promise<void> => {
        if (depth > 64) return;
        for (const entry of await this.jail.readdir(dir)) {
          // A linked folder file is listed, so that opening it says why it is refused; it is never followed.
          if ((entry.isFile() || entry.isSymbolicLink()) && isFolderFile(entry.name)) {
            const name = segments.length === 0 && entry.name.toLowerCase() === 'inbox' ? 'INBOX' : fileNameToSegment(entry.name);
            const index = await indexForListing(this.jail, mboxIndexFile(path.join(dir, entry.name)), MBOX_INDEX_RULES);
            found.push(index?.header.path ?? [...segments, name].join(ARCHIVE_DELIMITER));
          } else if (entry.isDirectory() && entry.name.endsWith(SUBFOLDER_SUFFIX)) {
            const base = entry.name.slice(0, -SUBFOLDER_SUFFIX.length);
            const name = segments.length === 0 && base.toLowerCase() === 'inbox' ? 'INBOX' : fileNameToSegment(base);
            await walk(path.join(dir, entry.name), [...segments, name], depth + 1);
          }
        }
      };
      await walk(this.root, [], 0);
    }
    const folders: SourceFolder[] = [];
    for (const folderPath of found) {
      try {
        const { view } = await this.compute(folderPath, false);
        folders.push(archiveFolder(folderPath, view.messages, view.state));
      } catch (e) {
        // Refused (a link, an index not ours): listed empty; opening it gives the reason.
        if (!isMigrationError(e) || e.kind !== 'bad-input') throw e;
        folders.push(archiveFolder(folderPath, { messages: 0, sizeBytes: 0 }));
      }
    }
    return folders;
  }

  private loadIndex(folderPath: string, file: string): Promise<FolderIndex | undefined> {
    return loadFolderIndex(this.indexes, this.isWritable, this.jail, MBOX_INDEX_RULES, folderPath, mboxIndexFile(file));
  }

  /** Do the indexed records still start with `From ` where the index says? */
  private async indexMatchesFile(handle: fs.FileHandle, size: number, entries: IndexEntry[]): Promise<boolean> {
    const probe = Buffer.alloc(5);
    for (const entry of entries) {
      const place = entry.mbox;
      if (!place || place.end > size) return false;
      const { bytesRead } = await handle.read(probe, 0, 5, place.off);
      if (bytesRead !== 5 || probe.toString('latin1') !== 'From ') return false;
    }
    return true;
  }

  /** The folder as it is on disk; with `repair`, our torn append is rolled back and foreign messages indexed. */
  private async compute(folderPath: string, repair: boolean): Promise<Computed> {
    const file = this.mboxFile(folderPath);
    let handle: fs.FileHandle;
    try {
      handle = await this.jail.open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw migrationError('not-found', `The archive has no folder "${folderPath}".`);
      throw e;
    }
    try {
      let size = (await handle.stat()).size;
      let index = await this.loadIndex(folderPath, file);
      let entries = index?.entries ?? [];
      // A writer that checked this file at this size already need not probe every record again.
      const isChecked = repair && this.checkedSize.get(folderPath) === size;
      if (index && !isChecked && !(await this.indexMatchesFile(handle, size, entries))) {
        if (repair) {
          throw migrationError(
            'bad-input',
            `The mbox file ${file} was changed by another program since Mailferry wrote it (its index no longer matches); Mailferry will not add to it. Choose a new archive folder, or move this one away.`,
          );
        }
        index = undefined;
        entries = [];
      }
      const committedEnd = entries.reduce((end, e) => Math.max(end, e.mbox?.end ?? 0), 0);
      const intent = index?.pendingIntent;
      if (index && intent && intent.off === committedEnd && size <= intent.off + intent.len) {
        // Our own append was interrupted: those bytes were never reported stored. Roll back.
        if (repair) {
          if (size > intent.off) await this.jail.truncate(file, intent.off);
          await index.append([{ t: 'rollback', off: intent.off, removed: size - intent.off, at: Date.now() }]);
        }
        size = Math.min(size, intent.off);
      }
      const places = new Map<number, Located>();
      const messages: MessageMeta[] = [];
      for (const entry of entries) {
        if (!entry.mbox) continue;
        places.set(entry.uid, { ...entry.mbox, crlf: entry.crlf === true });
        messages.push({ uid: entry.uid, sizeBytes: entry.size, flags: entry.flags, internalDate: new Date(entry.date), fingerprint: entry.fp, subject: entry.subject });
      }
      let uidValidity = index?.uidValidity;
      let uidNext = index?.uidNext ?? 1;
      if (size > committedEnd) {
        // Messages another program appended (or a whole mbox we did not write), scanned in
        // chunks so a big file never has to fit in memory; the last message of a chunk may go
        // on in the next, so it is carried over until the next `From ` line (or the end) is seen.
        const adopted: IndexEntry[] = [];
        const take = (m: ScannedMboxMessage, end: number): void => {
          const { envelope, message } = splitEnvelope(m.body());
          const body = toCrlf(message);
          const header = body.subarray(0, headerBlockEnd(body));
          const fields = parseHeaderFields(header);
          const dateHeader = headerValue(fields, 'date');
          const internalDate = parseFromLineDate(m.fromLine) ?? (dateHeader && !Number.isNaN(Date.parse(dateHeader)) ? new Date(Date.parse(dateHeader)) : new Date(0));
          const place: MboxPlace = { off: m.fromOffset, body: m.contentOffset + envelope.length, len: m.contentEnd - m.contentOffset - envelope.length, end };
          const entry: IndexEntry = {
            t: 'msg',
            uid: uidNext++,
            key: String(m.fromOffset),
            fp: fingerprintOfMessage(body),
            size: body.length,
            flags: flagsFromHeaderBlock(envelope.length > 0 ? envelope : header),
            date: internalDate.getTime(),
            mbox: place,
            subject: headerValue(fields, 'subject'),
            crlf: true,
          };
          adopted.push(entry);
          places.set(entry.uid, { ...place, crlf: true });
          messages.push({ uid: entry.uid, sizeBytes: entry.size, flags: entry.flags, internalDate, fingerprint: entry.fp, subject: entry.subject, messageId: headerValue(fields, 'message-id'), date: dateHeader });
        };
        let carry = Buffer.alloc(0);
        let carryBase = committedEnd;
        for (let pos = committedEnd; pos < size; ) {
          const chunk = Buffer.alloc(Math.min(this.scanChunkBytes, size - pos));
          const { bytesRead } = await handle.read(chunk, 0, chunk.length, pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
          const found = splitMbox(data, carryBase);
          const isLast = pos >= size;
          const complete = isLast ? found.length : found.length - 1;
          for (let i = 0; i < complete; i++) take(found[i] as ScannedMboxMessage, found[i + 1]?.fromOffset ?? size);
          if (!isLast) {
            const open = found[found.length - 1];
            carry = open ? data.subarray(open.fromOffset - carryBase) : data;
            carryBase = open ? open.fromOffset : carryBase;
          }
        }
        if (repair && adopted.length > 0) {
          index ??= await this.createIndex(folderPath, file);
          await index.append(adopted);
          uidValidity = index.uidValidity;
        } else if (adopted.length > 0) {
          uidValidity = derivedUidValidity(uidValidity ?? 'unindexed', ...adopted.map((e) => `${e.key}:${e.fp}`));
        }
      }
      if (repair && index) this.checkedSize.set(folderPath, (await handle.stat()).size);
      return { view: { state: folderStateOf(uidValidity ?? derivedUidValidity('empty', folderPath), uidNext, messages), messages }, places };
    } finally {
      await handle.close();
    }
  }

  private async createIndex(folderPath: string, file: string): Promise<FolderIndex> {
    const index = await FolderIndex.create(this.jail, mboxIndexFile(file), 'mbox', folderPath);
    this.indexes.set(folderPath, index);
    return index;
  }

  async view(folderPath: string): Promise<ArchiveFolderView> {
    const computed = await this.compute(folderPath, this.isWritable);
    this.places.set(folderPath, computed.places);
    return computed.view;
  }

  async readBody(folderPath: string, uid: number): Promise<Buffer> {
    let place = this.places.get(folderPath)?.get(uid);
    if (!place) {
      await this.view(folderPath);
      place = this.places.get(folderPath)?.get(uid);
    }
    if (!place) throw migrationError('not-found', 'The message is no longer in the archive.');
    const handle = await this.jail.open(this.mboxFile(folderPath), 'r');
    try {
      const stored = Buffer.alloc(place.len);
      const { bytesRead } = await handle.read(stored, 0, place.len, place.body);
      if (bytesRead !== place.len) throw migrationError('not-found', 'The mbox file is shorter than its index says; it was changed by another program.');
      const body = unquoteMboxrd(stored);
      return place.crlf ? toCrlf(body) : body;
    } finally {
      await handle.close();
    }
  }

  async ensureFolder(folderPath: string): Promise<{ created: boolean }> {
    const file = this.mboxFile(folderPath);
    // Thunderbird expects an mbox file for every level that has a `.sbd` directory.
    await this.jail.refuseLinks(file);
    const segments = folderPath.split(ARCHIVE_DELIMITER);
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = this.mboxFile(segments.slice(0, depth).join(ARCHIVE_DELIMITER));
      await this.jail.mkdir(parent + SUBFOLDER_SUFFIX);
      if (!(await exists(parent))) await (await this.jail.open(parent, 'a')).close();
    }
    await this.jail.mkdir(path.dirname(file));
    if (!this.isSingleFile) await checkFolderNameIsFree(file, folderPath, (await this.loadIndex(folderPath, file))?.header.path);
    const created = !(await exists(file));
    if (created) {
      await (await this.jail.open(file, 'a')).close();
      await fsyncDirectory(path.dirname(file));
    }
    if (!(await this.loadIndex(folderPath, file))) await this.createIndex(folderPath, file);
    return { created };
  }

  async append(folderPath: string, messages: OutgoingMessage[]): Promise<AppendOutcome> {
    const file = this.mboxFile(folderPath);
    await this.view(folderPath); // rolls back a torn append, indexes foreign messages
    const index = (await this.loadIndex(folderPath, file)) ?? (await this.createIndex(folderPath, file));
    // A new `From ` line must follow an empty line; files from other tools may not end with one.
    const reader = await this.jail.open(file, 'r');
    const last = Buffer.alloc(4);
    let start: number;
    let lastBytes: number;
    try {
      start = (await reader.stat()).size;
      ({ bytesRead: lastBytes } = await reader.read(last, 0, Math.min(4, start), Math.max(0, start - 4)));
    } finally {
      await reader.close();
    }
    const text = last.subarray(0, lastBytes).toString('latin1');
    const padding = start === 0 || text.endsWith('\n\n') || text.endsWith('\r\n\r\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    const chunks: Buffer[] = [Buffer.from(padding, 'latin1')];
    let at = start + padding.length;
    let uid = index.uidNext;
    const entries: IndexEntry[] = messages.map((message) => {
      const body = joinedBytes(message.body);
      const head = Buffer.from(fromLine(envelopeSender(body), message.internalDate) + envelopeLines(message.flags), 'latin1');
      const quoted = quoteMboxrd(body);
      const tail = Buffer.from(quoted.length > 0 && quoted[quoted.length - 1] === 0x0a ? '\n' : '\n\n', 'latin1');
      chunks.push(head, quoted, tail);
      const place: MboxPlace = { off: at, body: at + head.length, len: quoted.length, end: at + head.length + quoted.length + tail.length };
      at = place.end;
      const fields = parseHeaderFields(body.subarray(0, headerBlockEnd(body)));
      return {
        t: 'msg',
        uid: uid++,
        key: String(place.off),
        fp: fingerprintOfMessage(body),
        size: body.length,
        flags: [...message.flags].filter((f) => f.toLowerCase() !== '\\recent').sort(),
        date: message.internalDate.getTime(),
        mbox: place,
        subject: headerValue(fields, 'subject'),
      };
    });
    const batch = Buffer.concat(chunks);

    await index.append([{ t: 'intent', off: start, len: batch.length, at: Date.now() }]);
    const writer = await this.jail.open(file, 'a');
    try {
      await writer.writeFile(batch);
      await writer.sync();
    } catch (thrown) {
      this.checkedSize.delete(folderPath);
      await writer.close().catch(() => undefined);
      // Undo at once what this failed write left (a full disk, usually); the next open would too.
      const isUndone = await this.jail.truncate(file, start).then(
        () => true,
        () => false,
      );
      if (isUndone) await index.append([{ t: 'rollback', off: start, removed: batch.length, at: Date.now() }]).catch(() => undefined);
      throw thrown;
    }
    await writer.close();
    await index.append(entries);
    this.checkedSize.set(folderPath, start + batch.length);
    const results: Result<AppendedMessage>[] = entries.map((e) => ok({ uid: e.uid, uidValidity: index.uidValidity }));
    return { results };
  }
}
