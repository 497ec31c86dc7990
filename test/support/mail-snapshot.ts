/**
 * What an account holds, read without changing it, and comparisons that say what differs.
 *
 * `snapshotAccount` opens every folder with EXAMINE and reads bodies with BODY.PEEK[], so taking a
 * snapshot never sets \Seen or expunges anything: a source can be snapshotted before and after a
 * job and the two must be equal (`assertSourceUnchanged`). Messages are compared as multisets of
 * (sha256 of the raw bytes, size, flags, INTERNALDATE): order and UIDs do not matter, twins count.
 * `snapshotMaildirFiles` looks at a Dovecot maildir from outside IMAP, for the same check done
 * without trusting the server's answers.
 */
import { AssertionError } from 'node:assert';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ImapFlow } from 'imapflow';
import type { Security } from '../../src/contract/account.js';
import { fingerprintOfMessage, headerBlockEnd, headerValue, parseHeaderFields } from '../../src/engine/fingerprint.js';

/** How the test helpers reach an IMAP account (a Dovecot instance's `account()` gives one). */
export interface ImapTestAccount {
  host: string;
  port: number;
  user: string;
  password: string;
  /** `tls`: implicit TLS; `starttls`: upgrade required; `plain`: no TLS at all. */
  security: Security;
  /** PEM of the CA (for our self-signed servers, the certificate itself) to trust. */
  ca?: string;
}

/** A connected ImapFlow for tests, with an `error` listener attached (an unhandled one kills the process). */
export const openTestClient = async (account: ImapTestAccount): Promise<ImapFlow> => {
  const client = new ImapFlow({
    host: account.host,
    port: account.port,
    secure: account.security === 'tls',
    doSTARTTLS: account.security === 'starttls' ? true : account.security === 'plain' ? false : undefined,
    auth: { user: account.user, pass: account.password },
    logger: false,
    tls: account.ca ? { ca: account.ca, servername: 'localhost' } : undefined,
    connectionTimeout: 15_000,
    greetingTimeout: 10_000,
    socketTimeout: 120_000,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
};

export interface MessageSnapshot {
  uid: number;
  /** SHA-256 (hex) of the message's raw bytes as the server returns them. */
  sha256: string;
  size: number;
  /** Sorted, without \Recent. */
  flags: string[];
  /** INTERNALDATE as ISO 8601 UTC (IMAP keeps it to the second). */
  internalDate: string;
  /** The engine's identity of the message (src/engine/fingerprint.ts). */
  fingerprint: string;
  /** For readable diffs only; not compared. */
  subject?: string;
  messageId?: string;
}

export interface FolderSnapshot {
  path: string;
  delimiter: string;
  /** LIST attributes, sorted (e.g. \HasNoChildren, \Noselect). */
  attributes: string[];
  specialUse?: string;
  isSelectable: boolean;
  /** Decimal string; absent for \Noselect folders. */
  uidValidity?: string;
  uidNext?: number;
  highestModseq?: string;
  /** Sorted by UID. Empty for \Noselect folders. */
  messages: MessageSnapshot[];
}

export interface AccountSnapshot {
  /** Sorted by path. */
  folders: FolderSnapshot[];
}

export interface SnapshotOptions {
  /** Only these paths (as the server names them). Default: every folder LIST returns. */
  folders?: string[];
}

const sortedFlags = (flags: Iterable<string> | undefined): string[] => [...(flags ?? [])].filter((f) => f.toLowerCase() !== '\\recent').sort();

const toIso = (value: Date | string | undefined): string => {
  if (value === undefined) return '';
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
};

/**
 * Reads every folder of an account read-only: LIST, then per selectable folder EXAMINE and
 * FETCH (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]). Nothing on the server changes.
 */
export const snapshotAccount = async (account: ImapTestAccount, options: SnapshotOptions = {}): Promise<AccountSnapshot> => {
  const client = await openTestClient(account);
  try {
    const listed = await client.list();
    const wanted = options.folders ? new Set(options.folders) : undefined;
    const folders: FolderSnapshot[] = [];
    for (const entry of listed) {
      if (wanted && !wanted.has(entry.path)) continue;
      const attributes = [...entry.flags].sort();
      const isSelectable = !attributes.some((a) => /^\\(noselect|nonexistent)$/i.test(a));
      const folder: FolderSnapshot = {
        path: entry.path,
        delimiter: entry.delimiter,
        attributes,
        ...(entry.specialUse ? { specialUse: entry.specialUse } : {}),
        isSelectable,
        messages: [],
      };
      folders.push(folder);
      if (!isSelectable) continue;
      const mailbox = await client.mailboxOpen(entry.path, { readOnly: true });
      folder.uidValidity = mailbox.uidValidity.toString();
      folder.uidNext = mailbox.uidNext;
      if (mailbox.highestModseq !== undefined) folder.highestModseq = mailbox.highestModseq.toString();
      if (mailbox.exists > 0) {
        for await (const msg of client.fetch('1:*', { uid: true, flags: true, internalDate: true, size: true, source: true })) {
          const raw = msg.source ?? Buffer.alloc(0);
          const fields = parseHeaderFields(raw.subarray(0, headerBlockEnd(raw)));
          const subject = headerValue(fields, 'subject');
          const messageId = headerValue(fields, 'message-id');
          folder.messages.push({
            uid: msg.uid,
            sha256: createHash('sha256').update(raw).digest('hex'),
            size: msg.size ?? raw.length,
            flags: sortedFlags(msg.flags),
            internalDate: toIso(msg.internalDate),
            fingerprint: fingerprintOfMessage(raw),
            ...(subject !== undefined ? { subject } : {}),
            ...(messageId !== undefined ? { messageId } : {}),
          });
        }
      }
      // No CLOSE/UNSELECT: the next EXAMINE deselects, and the wire log stays free of CLOSE.
      folder.messages.sort((a, b) => a.uid - b.uid);
    }
    folders.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { folders };
  } finally {
    await client.logout().catch(() => client.close());
  }
};

/** The folder with this path, or a thrown error listing what there is. */
export const folderOf = (snapshot: AccountSnapshot, path: string): FolderSnapshot => {
  const folder = snapshot.folders.find((f) => f.path === path);
  if (!folder) throw new Error(`no folder ${JSON.stringify(path)} in snapshot; folders: ${snapshot.folders.map((f) => JSON.stringify(f.path)).join(', ')}`);
  return folder;
};

/** Message facts that identify a message for comparison: any `MessageSnapshot` is one. */
export interface MessageKey {
  sha256: string;
  size: number;
  flags: string[];
  internalDate: string;
  subject?: string;
  messageId?: string;
}

/** Expected contents: an `AccountSnapshot`, or one built by hand / from a corpus (`expectedFromCorpus`). */
export interface MailSet {
  folders: { path: string; messages: MessageKey[] }[];
}

export interface CompareOptions {
  /** Compare only these folders (expected-side paths). */
  folders?: string[];
  /** Maps an expected folder path to the path it should have on the actual side. */
  mapPath?: (expectedPath: string) => string;
  /** Leave facts out of the comparison. */
  ignore?: ('flags' | 'internalDate')[];
  /** Expected messages for which this returns false are not expected (e.g. those flagged \Deleted). */
  filter?: (message: MessageKey, expectedPath: string) => boolean;
  /** Actual folders that no expected folder maps to may hold messages. Default false. */
  allowExtraFolders?: boolean;
}

const keyOf = (m: MessageKey, ignore: Set<string>): string =>
  [m.sha256, m.size, ignore.has('flags') ? '' : m.flags.join(' '), ignore.has('internalDate') ? '' : m.internalDate].join('|');

const describeMessage = (m: MessageKey): string =>
  `${m.sha256.slice(0, 12)} ${m.size} B ${m.internalDate} [${m.flags.join(' ')}]${m.subject !== undefined ? ` ${JSON.stringify(m.subject.slice(0, 60))}` : ''}`;

/** Multiset difference of two message lists: what `expected` has that `actual` lacks, and the reverse. */
const diffMessages = (expected: MessageKey[], actual: MessageKey[], ignore: Set<string>): { missing: MessageKey[]; unexpected: MessageKey[] } => {
  const pool = new Map<string, MessageKey[]>();
  for (const m of actual) {
    const k = keyOf(m, ignore);
    const list = pool.get(k);
    if (list) list.push(m);
    else pool.set(k, [m]);
  }
  const missing: MessageKey[] = [];
  for (const m of expected) {
    const list = pool.get(keyOf(m, ignore));
    if (list && list.length > 0) list.pop();
    else missing.push(m);
  }
  const unexpected = [...pool.values()].flat();
  return { missing, unexpected };
};

const folderDiffText = (path: string, expectedCount: number, actualCount: number, missing: MessageKey[], unexpected: MessageKey[]): string => {
  const lines = [`folder ${JSON.stringify(path)}: expected ${expectedCount} messages, found ${actualCount}`];
  // Pair up same-bytes messages whose flags or date differ: that is one change, not two.
  const unexpectedLeft = [...unexpected];
  const missingLeft: MessageKey[] = [];
  for (const m of missing) {
    const i = unexpectedLeft.findIndex((u) => u.sha256 === m.sha256);
    if (i >= 0) {
      const [u] = unexpectedLeft.splice(i, 1);
      lines.push(`  changed:    ${describeMessage(m)}\n          ->  ${describeMessage(u as MessageKey)}`);
    } else missingLeft.push(m);
  }
  for (const m of missingLeft) lines.push(`  missing:    ${describeMessage(m)}`);
  for (const u of unexpectedLeft) lines.push(`  unexpected: ${describeMessage(u)}`);
  return lines.join('\n');
};

/** Differences between expected and actual mail, as readable lines; empty when they agree. */
export const diffMail = (expected: MailSet, actual: MailSet, options: CompareOptions = {}): string[] => {
  const ignore = new Set<string>(options.ignore ?? []);
  const mapPath = options.mapPath ?? ((p: string) => p);
  const problems: string[] = [];
  const actualByPath = new Map(actual.folders.map((f) => [f.path, f]));
  const seenActual = new Set<string>();
  const only = options.folders ? new Set(options.folders) : undefined;
  for (const folder of expected.folders) {
    if (only && !only.has(folder.path)) continue;
    const actualPath = mapPath(folder.path);
    seenActual.add(actualPath);
    const expectedMessages = options.filter ? folder.messages.filter((m) => options.filter?.(m, folder.path)) : folder.messages;
    const actualFolder = actualByPath.get(actualPath);
    if (!actualFolder) {
      problems.push(`folder ${JSON.stringify(actualPath)} (expected ${expectedMessages.length} messages) does not exist`);
      continue;
    }
    const { missing, unexpected } = diffMessages(expectedMessages, actualFolder.messages, ignore);
    if (missing.length || unexpected.length) {
      const label = actualPath === folder.path ? folder.path : `${folder.path} -> ${actualPath}`;
      problems.push(folderDiffText(label, expectedMessages.length, actualFolder.messages.length, missing, unexpected));
    }
  }
  if (!options.allowExtraFolders && !only) {
    for (const folder of actual.folders) {
      if (seenActual.has(folder.path) || folder.messages.length === 0) continue;
      problems.push(folderDiffText(folder.path, 0, folder.messages.length, [], folder.messages));
    }
  }
  return problems;
};

/** Throws an AssertionError with a readable per-folder diff unless the mail agrees (as multisets). */
export const assertSameMail = (expected: MailSet, actual: MailSet, message = 'mail differs', options: CompareOptions = {}): void => {
  const problems = diffMail(expected, actual, options);
  if (problems.length > 0) throw new AssertionError({ message: `${message}:\n${problems.join('\n')}` });
};

/**
 * Throws unless two snapshots of the same account are identical: same folders, UIDVALIDITY,
 * UIDNEXT, and per UID the same bytes, flags and date. Use it on a source before and after a job
 * (a \Seen added by a careless FETCH BODY[] shows up here as a changed message).
 */
export const assertSourceUnchanged = (before: AccountSnapshot, after: AccountSnapshot, message = 'source account changed'): void => {
  const problems: string[] = [];
  const afterByPath = new Map(after.folders.map((f) => [f.path, f]));
  for (const b of before.folders) {
    const a = afterByPath.get(b.path);
    afterByPath.delete(b.path);
    if (!a) {
      problems.push(`folder ${JSON.stringify(b.path)} disappeared`);
      continue;
    }
    if (a.uidValidity !== b.uidValidity) problems.push(`folder ${JSON.stringify(b.path)}: UIDVALIDITY ${b.uidValidity} -> ${a.uidValidity}`);
    if (a.uidNext !== b.uidNext) problems.push(`folder ${JSON.stringify(b.path)}: UIDNEXT ${b.uidNext} -> ${a.uidNext}`);
    const afterByUid = new Map(a.messages.map((m) => [m.uid, m]));
    for (const m of b.messages) {
      const n = afterByUid.get(m.uid);
      afterByUid.delete(m.uid);
      if (!n) problems.push(`folder ${JSON.stringify(b.path)}: UID ${m.uid} gone (${describeMessage(m)})`);
      else if (keyOf(m, new Set()) !== keyOf(n, new Set())) problems.push(`folder ${JSON.stringify(b.path)}: UID ${m.uid} changed: ${describeMessage(m)} -> ${describeMessage(n)}`);
    }
    for (const n of afterByUid.values()) problems.push(`folder ${JSON.stringify(b.path)}: UID ${n.uid} appeared (${describeMessage(n)})`);
  }
  for (const a of afterByPath.values()) problems.push(`folder ${JSON.stringify(a.path)} appeared`);
  if (problems.length > 0) throw new AssertionError({ message: `${message}:\n${problems.join('\n')}` });
};

/** One message file of a maildir, keyed by its unique name (the part before `:2,`). */
export interface MaildirFile {
  /** Folder directory relative to the maildir root ('' for INBOX with maildir++). */
  folderDir: string;
  /** `cur` or `new`. */
  sub: 'cur' | 'new';
  /** The maildir info after `:2,` (flag letters; keywords are letters a-z), '' when none. */
  info: string;
  size: number;
  sha256: string;
}

/**
 * Every message file under a maildir root (`server.mailRoot(user)`), keyed by
 * `<folderDir>/<unique name>`. Dovecot's own index and cache files are left out: they change
 * whenever a folder is merely read.
 */
export const snapshotMaildirFiles = (root: string): Map<string, MaildirFile> => {
  const files = new Map<string, MaildirFile>();
  const walk = (dir: string, depth: number): void => {
    if (depth > 32) throw new Error(`maildir nested too deeply at ${dir}`);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full, depth + 1);
        continue;
      }
      const sub = dir.endsWith('/cur') ? 'cur' : dir.endsWith('/new') ? 'new' : undefined;
      if (!sub || !entry.isFile()) continue;
      const folderDir = relative(root, dir).replace(/\/?(cur|new)$/, '');
      const colon = entry.name.indexOf(':2,');
      const unique = colon >= 0 ? entry.name.slice(0, colon) : entry.name;
      const data = readFileSync(full);
      files.set(`${folderDir}/${unique}`, {
        folderDir,
        sub,
        info: colon >= 0 ? entry.name.slice(colon + 3) : '',
        size: statSync(full).size,
        sha256: createHash('sha256').update(data).digest('hex'),
      });
    }
  };
  walk(root, 0);
  return files;
};

/** Throws unless two maildir snapshots hold the same files with the same flags and bytes. */
export const assertMaildirUnchanged = (before: Map<string, MaildirFile>, after: Map<string, MaildirFile>, message = 'maildir changed'): void => {
  const problems: string[] = [];
  for (const [key, b] of before) {
    const a = after.get(key);
    if (!a) problems.push(`${key}: gone`);
    else if (a.info !== b.info || a.sha256 !== b.sha256 || a.size !== b.size || a.sub !== b.sub)
      problems.push(`${key}: ${b.sub}:2,${b.info} ${b.size} B -> ${a.sub}:2,${a.info} ${a.size} B${a.sha256 !== b.sha256 ? ' (bytes differ)' : ''}`);
  }
  for (const key of after.keys()) if (!before.has(key)) problems.push(`${key}: appeared`);
  if (problems.length > 0) throw new AssertionError({ message: `${message}:\n${problems.join('\n')}` });
};
