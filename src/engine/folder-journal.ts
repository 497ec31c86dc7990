/**
 * The per-folder journal: an append-only JSON-lines file that says which source messages are
 * certainly on the destination.
 *
 * Invariants:
 * - A `copied` line is written only after the destination answered OK to the APPEND; a
 *   `present` line only after the message was found on the destination by fingerprint.
 * - Lines are flushed with fsync before progress is reported, so a reported message survives
 *   a crash. A torn last line (crash mid-write) is ignored on load.
 * - A `pass` line records the destination UIDNEXT at the moment the destination was scanned:
 *   every destination message below it was matched during that pass; everything at or above
 *   it (our own unjournaled appends after a crash, new mail) is rescanned by the next pass.
 * - A `reset` line (UIDVALIDITY changed on either side) voids everything before it; the next
 *   pass re-identifies messages by fingerprint, so nothing is copied twice.
 * - A `lost` line (verification did not find a journaled message on the destination) voids that
 *   one message, so the next pass copies it again.
 * - A `send` line is written and flushed before the first byte that could complete an APPEND
 *   leaves (see append-channel.ts): from then on, until a `settled` line names it, its messages
 *   are in doubt. An APPEND commits when the server has all of it, which can be long after we
 *   gave up waiting (a slow link's buffers, a killed process whose socket still drains), so an
 *   open send forbids sending its messages again until `at + settleMs` has passed and a scan
 *   after that time has matched what landed. `settled` is written once the answers are
 *   journaled, or after that scan. A later `send` line with the same id replaces the window
 *   (the store learned more when the connection ended).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { MigrationError } from '../contract/result.js';
import type { FolderState } from './store.js';

export type JournalLine =
  | { t: 'pass'; srcUidValidity: string; dstUidValidity: string; dstScanFrom: number; at: number }
  | { t: 'copied' | 'present'; src: number; dst?: number; fp: string; size: number }
  | {
      t: 'failed';
      src: number;
      error: MigrationError;
      subject?: string;
      date?: string;
      messageId?: string;
      size?: number;
      /** The source connection was lost while this message was read on its own (not in a batch). */
      isReadAlone?: boolean;
    }
  | { t: 'verified'; src: FolderState; dst: FolderState; at: number }
  | { t: 'reset'; reason: string; at: number }
  | { t: 'lost'; src: number; at: number }
  | {
      t: 'send';
      /** Numbers the sends of one journal, from 1. */
      id: number;
      /** Source UIDs of the messages in this APPEND batch. */
      src: number[];
      /** Epoch ms when the first committing byte was about to leave. */
      at: number;
      /** Until `at + settleMs` an APPEND of this batch may still commit on the server. */
      settleMs: number;
    }
  | { t: 'settled'; ids: number[]; at: number }
  /** Over the destination's size limit: saved to the archive the person named instead (set-aside-oversized.ts). */
  | { t: 'archived'; src: number; size: number; at: number }
  /** A --sync-flags run finished, from the source's state `srcModseq` (CONDSTORE) on. */
  | { t: 'flags'; srcUidValidity: string; srcModseq?: string; at: number };

export type DoneEntry = Extract<JournalLine, { t: 'copied' | 'present' }>;
export type FailedEntry = Extract<JournalLine, { t: 'failed' }>;
export type SendEntry = Extract<JournalLine, { t: 'send' }>;

/** What a journal file says, folded. */
export interface FolderJournalState {
  lastPass?: Extract<JournalLine, { t: 'pass' }>;
  /** Source UID → how it got to the destination. */
  done: Map<number, DoneEntry>;
  /** Source UID → the last failure (cleared when the message later arrives). */
  failed: Map<number, FailedEntry>;
  /** Done entries written after the last pass line (their destination UIDs are >= dstScanFrom). */
  doneSinceLastPass: DoneEntry[];
  lastVerified?: Extract<JournalLine, { t: 'verified' }>;
  /**
   * The destination's UIDNEXT when the job first saw the folder (the first pass line's scan
   * point since the last reset): every message we ever put there has a UID at or above it, and
   * mail below it was the person's own before the job began.
   */
  firstSeenDstUid?: number;
  /** Sends whose fate is not known yet: their messages may still land (see the header). */
  openSends: Map<number, SendEntry>;
  /** The highest send id used so far. */
  lastSendId: number;
  /** Source UID → saved to the person's archive instead of the destination (too large for it). */
  archived: Map<number, Extract<JournalLine, { t: 'archived' }>>;
  /** The last --sync-flags run (see sync-flags.ts). */
  lastFlagSync?: Extract<JournalLine, { t: 'flags' }>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isUidList = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => typeof n === 'number');

/** Validates one parsed line; a line from a future or corrupt file is dropped, not trusted. */
const asJournalLine = (v: unknown): JournalLine | undefined => {
  if (!isObject(v) || typeof v.t !== 'string') return undefined;
  switch (v.t) {
    case 'pass':
      return typeof v.srcUidValidity === 'string' && typeof v.dstUidValidity === 'string' && typeof v.dstScanFrom === 'number' ? (v as JournalLine) : undefined;
    case 'copied':
    case 'present':
      return typeof v.src === 'number' && typeof v.fp === 'string' && typeof v.size === 'number' ? (v as JournalLine) : undefined;
    case 'failed':
      return typeof v.src === 'number' && isObject(v.error) ? (v as JournalLine) : undefined;
    case 'verified':
      return isObject(v.src) && isObject(v.dst) ? (v as JournalLine) : undefined;
    case 'reset':
      return v as JournalLine;
    case 'lost':
      return typeof v.src === 'number' ? (v as JournalLine) : undefined;
    case 'send':
      return typeof v.id === 'number' && isUidList(v.src) && typeof v.at === 'number' && typeof v.settleMs === 'number' ? (v as JournalLine) : undefined;
    case 'settled':
      return isUidList(v.ids) ? (v as JournalLine) : undefined;
    case 'archived':
      return typeof v.src === 'number' && typeof v.size === 'number' ? (v as JournalLine) : undefined;
    case 'flags':
      return typeof v.srcUidValidity === 'string' && (v.srcModseq === undefined || typeof v.srcModseq === 'string') ? (v as JournalLine) : undefined;
    default:
      return undefined;
  }
};

/**
 * The values of a JSON-lines text. All lines in one JSON.parse (twice as fast as one parse a
 * line: a re-run of a 100,000-message folder reads that many lines); when that fails, line by
 * line, dropping the ones that do not parse (a torn last line from a crash mid-write: what it
 * described is re-identified by fingerprint).
 */
export const parseJsonLines = (text: string): unknown[] => {
  const lines = text.split('\n').filter((raw) => raw.length > 0);
  if (lines.length === 0) return [];
  try {
    const all: unknown = JSON.parse(`[${lines.join(',')}]`);
    // A line holding `1,2` would make two values: only a count that matches is trusted.
    if (Array.isArray(all) && all.length === lines.length) return all;
  } catch {
    // some line does not parse: see below
  }
  const values: unknown[] = [];
  for (const raw of lines) {
    try {
      values.push(JSON.parse(raw));
    } catch {
      // torn or foreign: left out
    }
  }
  return values;
};

/** The valid lines of a journal file's text; a torn or unknown line is dropped, not trusted. */
const parseJournalText = (text: string): JournalLine[] => {
  const lines: JournalLine[] = [];
  for (const parsed of parseJsonLines(text)) {
    const line = asJournalLine(parsed);
    if (line) lines.push(line);
  }
  return lines;
};

export const emptyJournalState = (): FolderJournalState => ({ done: new Map(), failed: new Map(), doneSinceLastPass: [], openSends: new Map(), lastSendId: 0, archived: new Map() });

/** Folds lines into state. Exported for units. */
export const foldJournal = (lines: Iterable<JournalLine>, state = emptyJournalState()): FolderJournalState => {
  for (const line of lines) {
    switch (line.t) {
      case 'reset': {
        // Send ids stay unique across a reset; a reset is written only after open sends settled.
        const { lastSendId } = state;
        Object.assign(state, emptyJournalState(), { lastSendId });
        state.lastPass = undefined;
        state.lastVerified = undefined;
        state.firstSeenDstUid = undefined;
        state.lastFlagSync = undefined;
        break;
      }
      case 'pass':
        state.lastPass = line;
        state.doneSinceLastPass = [];
        state.firstSeenDstUid ??= line.dstScanFrom;
        break;
      case 'copied':
      case 'present':
        state.done.set(line.src, line);
        state.failed.delete(line.src);
        state.doneSinceLastPass.push(line);
        state.lastVerified = undefined;
        break;
      case 'failed':
        if (!state.done.has(line.src)) state.failed.set(line.src, line);
        state.lastVerified = undefined;
        break;
      case 'verified':
        state.lastVerified = line;
        break;
      case 'lost':
        state.done.delete(line.src);
        state.lastVerified = undefined;
        break;
      case 'send':
        state.openSends.set(line.id, line);
        state.lastSendId = Math.max(state.lastSendId, line.id);
        state.lastVerified = undefined;
        break;
      case 'settled':
        for (const id of line.ids) state.openSends.delete(id);
        break;
      case 'flags':
        state.lastFlagSync = line;
        break;
      case 'archived':
        state.archived.set(line.src, line);
        state.failed.delete(line.src);
        break;
    }
  }
  return state;
};

/** An open journal file: read once, then appended to. */
export class FolderJournal {
  private pending: string[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly state: FolderJournalState;

  private constructor(
    private readonly file: string,
    state: FolderJournalState,
  ) {
    this.state = state;
  }

  /** Opens (or creates) the journal of one folder pair. */
  static async open(directory: string, sourcePath: string, destinationPath: string): Promise<FolderJournal> {
    await fs.mkdir(directory, { recursive: true, mode: 0o700 });
    const file = path.join(directory, `${journalKey(sourcePath, destinationPath)}.jsonl`);
    let text = '';
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const lines = parseJournalText(text);
    if (text.length > 0 && !text.endsWith('\n')) {
      // Terminate a torn line so the next append starts on a fresh line.
      await fs.appendFile(file, '\n', { mode: 0o600 });
    }
    return new FolderJournal(file, foldJournal(lines));
  }

  get current(): Readonly<FolderJournalState> {
    return this.state;
  }

  /** Queues a line (applied to the in-memory state at once); durable after flush(). */
  record(line: JournalLine): void {
    foldJournal([line], this.state);
    this.pending.push(JSON.stringify(line));
  }

  /**
   * Appends queued lines and fsyncs. Flushes run one after another, so when a flush resolves,
   * every line recorded before it was called is durable, even if another flush was under way.
   */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.writePending());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('\n') + '\n';
    this.pending = [];
    const handle = await fs.open(this.file, 'a', 0o600);
    try {
      await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/**
 * Bytes the journals of these folder pairs say are on the destination already, read without
 * creating anything (planning a move must not write state). A missing journal counts 0.
 */
export const journaledBytes = async (directory: string, pairs: { sourcePath: string; destinationPath: string }[]): Promise<number> => {
  let bytes = 0;
  for (const pair of pairs) {
    let text: string;
    try {
      text = await fs.readFile(path.join(directory, `${journalKey(pair.sourcePath, pair.destinationPath)}.jsonl`), 'utf8');
    } catch {
      continue;
    }
    for (const entry of foldJournal(parseJournalText(text)).done.values()) if (entry.t === 'copied') bytes += entry.size;
  }
  return bytes;
};

/** File name of a folder pair's journal: stable, short, safe on every file system. */
export const journalKey = (sourcePath: string, destinationPath: string): string =>
  createHash('sha256').update(`${sourcePath}\u0000${destinationPath}`).digest('hex').slice(0, 24);
