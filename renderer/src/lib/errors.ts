import type { MigrationError, MigrationErrorKind } from '../../../src/contract/result.js';

/** A short plain-words headline per kind; the engine's sentence explains the details below it. */
const TITLES: Record<MigrationErrorKind, string> = {
  auth: 'The server did not accept the user name or password',
  tls: 'The server’s certificate could not be trusted',
  network: 'The connection to the server failed',
  timeout: 'The server did not answer in time',
  throttled: 'The server asked us to slow down',
  quota: 'The new account is full',
  rejected: 'The server refused a message',
  'not-found': 'Not found',
  'uidvalidity-changed': 'The server renumbered the folder',
  surplus: 'Some messages are on the new account twice',
  'broken-server': 'The server sent something Mailferry will not accept',
  'bad-input': 'Something in the form needs a look',
  cancelled: 'Stopped',
  internal: 'Something went wrong inside Mailferry',
};

/** Where a folder row went changes what some kinds mean: a full archive is a full disk, not a full account. */
const ARCHIVE_TITLES: Partial<Record<MigrationErrorKind, string>> = {
  quota: 'The disk holding the archive is full',
  'bad-input': 'The archive folder cannot be written',
  'not-found': 'A file of the archive is missing',
  rejected: 'The archive could not store a message',
};

export function errorTitle(error: MigrationError, target?: 'account' | 'archive'): string {
  if (error.needsSignIn) return `The ${error.needsSignIn === 'source' ? 'old' : 'new'} account needs you to sign in again`;
  return (target === 'archive' ? ARCHIVE_TITLES[error.kind] : undefined) ?? TITLES[error.kind];
}

/** The server's own words, when they add something to the engine's sentence. */
export function serverWords(error: MigrationError): string | undefined {
  if (!error.serverText || error.message.includes(error.serverText)) return undefined;
  return error.serverCode ? `[${error.serverCode}] ${error.serverText}` : error.serverText;
}
