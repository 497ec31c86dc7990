/**
 * The benchmark's mail: deterministic folders shaped like a real mailbox (mostly small mail, a
 * few big attachments up to 10 MB), and a fast way to put it into a private Dovecot: the
 * messages are written as maildir files (exact bytes, flags in the file name, keywords in
 * dovecot-keywords, INTERNALDATE as the file's mtime) before the server first looks at the
 * folder. Filling is not what is measured; the copy is checked against the corpus afterwards,
 * so a wrong fill could not go unnoticed.
 */
import { chownSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateFolderOfSize, Rng, type CorpusFolder } from '../../test/support/corpus.js';

/** Dovecot's mail user in test/support/dovecot.ts (Debian's nobody). */
const MAIL_UID = 65534;
const MAIL_GID = 65534;

interface FolderShape {
  name: string;
  /** Share of the messages. */
  share: number;
  /** Size range of a message, log-uniform. */
  sizeRange: [number, number];
}

/** About 100 KB per message on average, as in the measurements (2,000 messages, 204 MB). */
const SHAPES: FolderShape[] = [
  { name: 'INBOX', share: 0.4, sizeRange: [2 * 1024, 200 * 1024] },
  { name: 'Sent', share: 0.2, sizeRange: [2 * 1024, 100 * 1024] },
  { name: 'Lists', share: 0.2, sizeRange: [2 * 1024, 50 * 1024] },
  { name: 'Archive', share: 0.17, sizeRange: [4 * 1024, 1024 * 1024] },
  { name: 'Attachments', share: 0.03, sizeRange: [100 * 1024, 10 * 1024 * 1024] },
];

const logUniformMean = ([a, b]: [number, number]): number => (b - a) / Math.log(b / a);

/** The standard corpus: `messages` messages (default 2,000) in five folders, ~100 KB each on average. */
export const standardCorpus = (messages: number, seed = 'bench'): CorpusFolder[] => {
  const counts = SHAPES.map((s) => Math.max(1, Math.round(s.share * messages)));
  counts[0] = Math.max(1, messages - counts.slice(1).reduce((a, b) => a + b, 0));
  // Scale each folder to its expected total so the sample's luck does not move the whole size much.
  const expectedMean = SHAPES.reduce((sum, s) => sum + s.share * logUniformMean(s.sizeRange), 0);
  const factor = (100 * 1024) / expectedMean;
  return SHAPES.map((shape, i) => {
    const count = counts[i] as number;
    const folder = generateFolderOfSize({
      seed: `${seed}/${shape.name}`,
      segments: [shape.name],
      messages: count,
      totalBytes: Math.round(count * logUniformMean(shape.sizeRange) * factor),
      sizeRange: shape.sizeRange,
    });
    return folder;
  });
};

/**
 * The standard corpus's messages (same size mix, ~100 KB on average, attachments up to 10 MB)
 * all in one INBOX, in a seeded order: a real Inbox, the case one folder split over several
 * connections is for.
 */
export const oneFolderCorpus = (messages: number, seed = 'bench'): CorpusFolder[] => {
  const rng = new Rng(`${seed}/one-folder`);
  const all = standardCorpus(messages, seed).flatMap((f) => f.messages);
  // Fisher–Yates with the seeded generator: the big ones spread through the folder.
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [all[i], all[j]] = [all[j] as (typeof all)[number], all[i] as (typeof all)[number]];
  }
  return [{ segments: ['INBOX'], messages: all }];
};

/** One folder of many small messages (1–4 KB): for memory and rate decay. */
export const bigFolderCorpus = (messages: number, seed = 'bench-big'): CorpusFolder[] => [
  generateFolderOfSize({ seed, segments: ['Huge'], messages, sizeRange: [1024, 4 * 1024] }),
];

/** One message of about `bytes`, in its own folder (memory with a very large message). */
export const hugeMessageCorpus = (bytes: number, seed = 'bench-huge-message'): CorpusFolder[] => [
  generateFolderOfSize({ seed, segments: ['Huge message'], messages: 1, totalBytes: bytes, sizeRange: [bytes, bytes + 1] }),
];

const SYSTEM_FLAG_LETTERS: Record<string, string> = { '\\Draft': 'D', '\\Flagged': 'F', '\\Answered': 'R', '\\Seen': 'S', '\\Deleted': 'T' };

const chownTree = (paths: string[]): void => {
  for (const p of paths) chownSync(p, MAIL_UID, MAIL_GID);
};

/**
 * Writes folders into a user's maildir (maildir++ layout, `/` separator, no namespace prefix,
 * flat folder names only). Must run before the server has opened these folders.
 */
export const writeMaildir = (mailRoot: string, folders: CorpusFolder[]): void => {
  const created: string[] = [];
  const mkdir = (dir: string): void => {
    mkdirSync(dir, { recursive: true });
    created.push(dir);
  };
  mkdir(mailRoot);
  let sequence = 0;
  for (const folder of folders) {
    const name = folder.segments.join('/');
    if (folder.segments.length !== 1 || /[./&]/.test(name)) throw new Error(`bench folders must be flat ASCII names: ${name}`);
    const dir = name.toUpperCase() === 'INBOX' ? mailRoot : join(mailRoot, `.${name}`);
    for (const sub of ['', 'cur', 'new', 'tmp']) mkdir(join(dir, sub));
    if (dir !== mailRoot) {
      writeFileSync(join(dir, 'maildirfolder'), '');
      created.push(join(dir, 'maildirfolder'));
    }
    const keywords: string[] = [];
    const letterOf = (keyword: string): string => {
      let at = keywords.indexOf(keyword);
      if (at < 0) {
        at = keywords.push(keyword) - 1;
        if (at >= 26) throw new Error('more than 26 keywords in one folder');
      }
      return String.fromCharCode(97 + at);
    };
    const base = 1_700_000_000;
    for (const message of folder.messages) {
      const letters = message.flags.map((f) => SYSTEM_FLAG_LETTERS[f] ?? (f.startsWith('\\') ? '' : letterOf(f)));
      // S= and W= as Dovecot writes them (all lines end in CRLF, so both are the byte size):
      // without them Dovecot stats every file when it resyncs the folder.
      const size = message.raw.length;
      const file = join(dir, 'cur', `${base + sequence}.M${sequence}P1.bench,S=${size},W=${size}:2,${letters.sort().join('')}`);
      sequence++;
      writeFileSync(file, message.raw);
      utimesSync(file, message.internalDate, message.internalDate);
      created.push(file);
    }
    if (keywords.length > 0) {
      writeFileSync(join(dir, 'dovecot-keywords'), keywords.map((k, i) => `${i} ${k}\n`).join(''));
      created.push(join(dir, 'dovecot-keywords'));
    }
  }
  writeFileSync(join(mailRoot, 'subscriptions'), folders.filter((f) => f.segments[0]?.toUpperCase() !== 'INBOX').map((f) => `${f.segments.join('/')}\n`).join(''));
  created.push(join(mailRoot, 'subscriptions'));
  chownTree(created);
};

/** An account of `count` folders with one small message each, for timing `mailferry plan`. */
export const manyFoldersCorpus = (count: number, seed = 'bench-folders'): CorpusFolder[] => {
  const template = generateFolderOfSize({ seed, segments: ['x'], messages: count, sizeRange: [1024, 8 * 1024] });
  return template.messages.map((m, i) => ({ segments: [i === 0 ? 'INBOX' : `Folder${String(i).padStart(4, '0')}`], messages: [m] }));
};
