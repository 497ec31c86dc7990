/**
 * Opens a MailLocation as a store. Each call makes a new connection (or file handle), which is
 * what the job runner needs to replace a broken one.
 */
import type { MailLocation } from '../contract/account.js';
import { err, migrationError, type Result } from '../contract/result.js';
import type { DestinationStore, SourceStore } from '../engine/store.js';
import type { ConnectTimeouts } from '../imap/connect-imap.js';
import { openImapDestination, openImapSource } from '../imap/imap-stores.js';
import { openArchiveDestination, openArchiveSource } from '../archive/open-archive.js';

export interface LocationSecrets {
  password?: string;
}

const missingPassword = () => err(migrationError('bad-input', 'No password was given for this account.'));

export const openLocationAsSource = async (location: MailLocation, secrets: LocationSecrets, timeouts?: ConnectTimeouts): Promise<Result<SourceStore>> => {
  if (location.kind === 'archive') return openArchiveSource(location.archive);
  if (secrets.password === undefined) return missingPassword();
  return openImapSource({ ...location.endpoint, password: secrets.password }, timeouts);
};

export const openLocationAsDestination = async (location: MailLocation, secrets: LocationSecrets, timeouts?: ConnectTimeouts): Promise<Result<DestinationStore>> => {
  if (location.kind === 'archive') return openArchiveDestination(location.archive);
  if (secrets.password === undefined) return missingPassword();
  return openImapDestination({ ...location.endpoint, password: secrets.password }, timeouts);
};
