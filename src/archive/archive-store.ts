/**
 * A local archive as a SourceStore or DestinationStore. Each format (mbox, Maildir, eml) is an
 * ArchiveBackend that knows its files; this module gives them the store interfaces the copier
 * uses for IMAP accounts, so the journal, fingerprint matching, verification and reports work
 * for archives unchanged.
 *
 * Invariants:
 * - A source backend never writes: not a message, not an index, not a timestamp.
 * - A destination backend only adds folders and messages; like the IMAP destination it has no
 *   way to delete, rename or re-flag anything. (Cutting off a torn mbox tail that our own
 *   interrupted append left, and finishing our own interrupted renames, are the only repairs,
 *   and they touch only bytes we wrote and never reported as stored.)
 * - Folder paths use `/` between levels, no namespace prefix; INBOX is `INBOX`.
 * - Nothing outside the archive is read or written and no link inside it is followed
 *   (archive-jail.ts); an index that names anything but its folder's own files is not used.
 *   A source lists what it refuses (a linked message, a linked folder) and says why when it is
 *   read, so the rest of a restore goes on and its plan and copy count the same messages.
 */
import type { ArchiveFormat } from '../contract/account.js';
import type { SourceFolder, SpecialUse } from '../contract/plan.js';
import { err, ok, type Result } from '../contract/result.js';
import type { AppendOutcome, BodyResult, DestinationStore, FolderState, MessageMeta, NamespaceInfo, OutgoingMessage, SourceStore } from '../engine/store.js';
import { archiveError } from './archive-fs.js';

/** Folder levels in archive paths are separated by this. */
export const ARCHIVE_DELIMITER = '/';

export const ARCHIVE_NAMESPACE: NamespaceInfo = { delimiter: ARCHIVE_DELIMITER, prefix: '', capabilities: [] };

/** A folder as the backend sees it right now. Messages ascending by UID. */
export interface ArchiveFolderView {
  state: FolderState;
  messages: MessageMeta[];
}

export interface ArchiveBackend {
  readonly format: ArchiveFormat;
  /** Every folder in the archive with its message count and size. */
  listFolders(): Promise<SourceFolder[]>;
  /** The folder's messages. A writable backend first repairs its own interrupted writes and indexes foreign messages. */
  view(path: string): Promise<ArchiveFolderView>;
  /** The message's original bytes. */
  readBody(path: string, uid: number): Promise<Buffer>;
  /** Destination backends only. */
  ensureFolder?(path: string): Promise<{ created: boolean }>;
  append?(path: string, messages: OutgoingMessage[]): Promise<AppendOutcome>;
  close?(): Promise<void>;
}

/** Top-level names Thunderbird, Dovecot and most servers give their special folders. */
const TOP_LEVEL_SPECIAL_USE: Record<string, SpecialUse> = {
  sent: '\\Sent',
  drafts: '\\Drafts',
  trash: '\\Trash',
  junk: '\\Junk',
  archive: '\\Archive',
  archives: '\\Archive',
};

/**
 * Special use of an archive's folders, guessed from top-level names, for a restore (so `Sent`
 * lands in the new server's Sent folder even when that is called `Sent Items`). A use claimed by
 * two folders is given to neither, so the guess never depends on listing order. Only a source
 * reports it: as a destination the archive must map folders by name alone, or a re-run could
 * send a source's special folder into a different archive folder than the first run did.
 */
export const withGuessedSpecialUse = (folders: SourceFolder[]): SourceFolder[] => {
  const guess = (f: SourceFolder): SpecialUse | undefined => (f.segments.length === 1 ? TOP_LEVEL_SPECIAL_USE[(f.segments[0] as string).toLowerCase()] : undefined);
  const claims = new Map<SpecialUse, number>();
  for (const f of folders) {
    const use = guess(f);
    if (use) claims.set(use, (claims.get(use) ?? 0) + 1);
  }
  return folders.map((f) => {
    const use = guess(f);
    return use && claims.get(use) === 1 ? { ...f, specialUse: use } : f;
  });
};

/** A SourceFolder for an archive folder path (no special use; see withGuessedSpecialUse). */
export const archiveFolder = (path: string, messages: MessageMeta[] | { messages: number; sizeBytes: number }, state?: FolderState): SourceFolder => {
  const segments = path.toUpperCase() === 'INBOX' ? ['INBOX'] : path.split(ARCHIVE_DELIMITER);
  const counts = Array.isArray(messages) ? { messages: messages.length, sizeBytes: messages.reduce((n, m) => n + m.sizeBytes, 0) } : messages;
  return {
    path: segments.length === 1 && segments[0] === 'INBOX' ? 'INBOX' : path,
    segments,
    delimiter: ARCHIVE_DELIMITER,
    isSelectable: true,
    messages: counts.messages,
    sizeBytes: counts.sizeBytes,
    uidValidity: state?.uidValidity,
    uidNext: state?.uidNext,
  };
};

/**
 * IMAP's form of a message: every bare LF as CRLF. Files written by Unix tools (mutt,
 * Thunderbird on Linux, Dovecot's own Maildir) end lines in LF; an IMAP server converts them
 * on APPEND and reports the CRLF size, so messages not written by us are read in that form,
 * or the destination's copy would never match its source by size and fingerprint.
 * Messages we wrote are returned exactly as stored.
 */
export const toCrlf = (raw: Buffer): Buffer => {
  let bare = 0;
  for (let i = raw.indexOf(0x0a); i >= 0; i = raw.indexOf(0x0a, i + 1)) if (i === 0 || raw[i - 1] !== 0x0d) bare++;
  if (bare === 0) return raw;
  const out = Buffer.alloc(raw.length + bare);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i] as number;
    if (b === 0x0a && (i === 0 || raw[i - 1] !== 0x0d)) out[o++] = 0x0d;
    out[o++] = b;
  }
  return out;
};

/** The state of a folder view from its messages and index facts. */
export const folderStateOf = (uidValidity: string, uidNext: number, messages: MessageMeta[]): FolderState => ({
  uidValidity,
  uidNext,
  messages: messages.length,
});

const attempt = async <T>(operation: string, run: () => Promise<T>): Promise<Result<T>> => {
  try {
    return ok(await run());
  } catch (thrown) {
    return err(archiveError(thrown, operation));
  }
};

/** Read-only store over a backend. */
export const createArchiveSource = (backend: ArchiveBackend): SourceStore => {
  const views = new Map<string, ArchiveFolderView>();
  const viewOf = async (path: string): Promise<ArchiveFolderView> => views.get(path) ?? (await refresh(path));
  const refresh = async (path: string): Promise<ArchiveFolderView> => {
    const view = await backend.view(path);
    views.set(path, view);
    return view;
  };

  async function* readBodies(path: string, uids: number[]): AsyncIterable<BodyResult> {
    for (const uid of uids) {
      try {
        yield { uid, ok: true, body: await backend.readBody(path, uid) };
      } catch (thrown) {
        yield { uid, ok: false, error: archiveError(thrown, 'read a message from the archive') };
      }
    }
  }

  return {
    kind: 'archive',
    namespace: () => ARCHIVE_NAMESPACE,
    listFolders: () => attempt('list the archive folders', async () => withGuessedSpecialUse(await backend.listFolders())),
    openFolder: (path) => attempt('open an archive folder', async () => (await refresh(path)).state),
    listUids: (path) =>
      attempt('list archive messages', async () => {
        const view = await viewOf(path);
        return { uids: view.messages.map((m) => m.uid), deletedUids: view.messages.filter((m) => m.flags.includes('\\Deleted')).map((m) => m.uid) };
      }),
    listMessages: (path, uids) =>
      attempt('list archive messages', async () => {
        const view = await viewOf(path);
        if (uids === 'all') return view.messages;
        const wanted = new Set(uids);
        return view.messages.filter((m) => wanted.has(m.uid));
      }),
    listSizes: (path, uids) =>
      attempt('list archive messages', async () => {
        const wanted = new Set(uids);
        return new Map((await viewOf(path)).messages.filter((m) => wanted.has(m.uid)).map((m) => [m.uid, m.sizeBytes]));
      }),
    readBodies,
    close: async () => {
      await backend.close?.();
    },
  };
};

/** Append-only store over a backend. */
export const createArchiveDestination = (backend: ArchiveBackend): DestinationStore => {
  const { ensureFolder, append } = backend;
  if (!ensureFolder || !append) throw new Error(`the ${backend.format} backend was opened read-only`);
  return {
    kind: 'archive',
    namespace: () => ARCHIVE_NAMESPACE,
    listFolders: () => attempt('list the archive folders', () => backend.listFolders()),
    ensureFolder: (path) => attempt('create an archive folder', () => ensureFolder.call(backend, path)),
    folderState: (path) => attempt('read an archive folder', async () => (await backend.view(path)).state),
    listMessages: (path, fromUid, toUid = Infinity) =>
      attempt('list archive messages', async () => (await backend.view(path)).messages.filter((m) => m.uid >= fromUid && m.uid <= toUid)),
    listMessagesByUid: (path, uids) =>
      attempt('list archive messages', async () => {
        const wanted = new Set(uids);
        return (await backend.view(path)).messages.filter((m) => wanted.has(m.uid));
      }),
    append: async (path, messages) => {
      try {
        // A batch is written as a whole (index and mbox rollback work per batch); the copier
        // keeps an archive's batches at BATCH_MAX_BYTES.
        const batch: OutgoingMessage[] = [];
        for await (const message of messages) batch.push(message);
        return await append.call(backend, path, batch);
      } catch (thrown) {
        return { results: [], stopped: archiveError(thrown, 'write to the archive') };
      }
    },
    close: async () => {
      await backend.close?.();
    },
  };
};
