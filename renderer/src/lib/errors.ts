import type { MigrationError, MigrationErrorKind } from '../../../src/contract/result.js';

/**
 * A short label per kind, for headings. The engine's sentence below it says what happened and
 * what to do, so the label never repeats it: it only names the kind of trouble.
 */
const TITLES: Record<MigrationErrorKind, string> = {
  auth: 'Sign-in refused',
  tls: 'Certificate not trusted',
  network: 'Connection failed',
  timeout: 'No answer in time',
  throttled: 'Asked to slow down',
  quota: 'Mailbox full',
  rejected: 'Message refused',
  'not-found': 'Not found',
  'uidvalidity-changed': 'Folder renumbered by the server',
  surplus: 'Extra copies on the new account',
  'broken-server': 'The server sent something Mailferry will not accept',
  'bad-input': 'Needs a look',
  cancelled: 'Stopped',
  internal: 'Something went wrong inside Mailferry',
};

/** Where a folder row went changes what some kinds mean: a full archive is a full disk, not a full account. */
const ARCHIVE_TITLES: Partial<Record<MigrationErrorKind, string>> = {
  quota: 'Disk full',
  'bad-input': 'Archive folder cannot be written',
  'not-found': 'Archive file missing',
  rejected: 'Message could not be stored',
};

export function errorTitle(error: MigrationError, target?: 'account' | 'archive'): string {
  if (error.needsSignIn) return 'Sign in again';
  const isArchiveSide = target === 'archive' && error.side !== 'source';
  return (isArchiveSide ? ARCHIVE_TITLES[error.kind] : undefined) ?? TITLES[error.kind];
}

/**
 * Which account (or archive) an error is about, in plain words: "Old account", "New account",
 * "Archive". Undefined when nothing says (an error inside Mailferry).
 */
export function errorWho(error: MigrationError, where: { target?: 'account' | 'archive' | undefined; isRestore?: boolean } = {}): string | undefined {
  const side = error.needsSignIn ?? error.side;
  if (side === 'source') return where.isRestore ? 'Archive being restored' : 'Old account';
  if (side === 'destination') return where.target === 'archive' ? 'Archive' : 'New account';
  if (where.target === 'archive') return 'Archive';
  return undefined;
}

/** "Old account: Connection failed", or the label alone when nothing says where. */
export function errorHeading(error: MigrationError, where: { target?: 'account' | 'archive' | undefined; isRestore?: boolean; who?: string } = {}): string {
  const who = where.who ?? errorWho(error, where);
  const title = errorTitle(error, where.target);
  return who ? `${who}: ${title.charAt(0).toLowerCase()}${title.slice(1)}` : title;
}

/** The server's own words, when they add something to the engine's sentence. */
export function serverWords(error: MigrationError): string | undefined {
  if (!error.serverText || error.message.includes(error.serverText)) return undefined;
  return error.serverCode ? `[${error.serverCode}] ${error.serverText}` : error.serverText;
}
