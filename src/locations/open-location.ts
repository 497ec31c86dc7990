/**
 * Opens a MailLocation as a store. Each call makes a new connection (or file handle), which is
 * what the job runner needs to replace a broken one; with OAuth2 each one asks the token source
 * for a token that is valid now. The stores come marked with their side (side-tagged-store.ts):
 * every failure says whether it was the source's or the destination's.
 */
import type { AccessTokenSource, AccountCredentials, AccountEndpoint, ArchiveLocation, MailLocation } from '../contract/account.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import type { DestinationStore, SourceStore } from '../engine/store.js';
import type { ConnectTimeouts } from '../imap/connect-imap.js';
import { openImapDestination, openImapSource } from '../imap/imap-stores.js';
import { openArchiveDestination, openArchiveSource } from '../archive/open-archive.js';
import { sideTaggedDestination, sideTaggedSource, tagOpened } from './side-tagged-store.js';

/** How an IMAP location logs in: a password, or an OAuth2 token source (which wins when both are given). */
export interface LocationSecrets {
  password?: string;
  oauth?: AccessTokenSource;
}

/** The endpoint with what it takes to log in, or why it cannot. */
export const credentialsOf = (endpoint: AccountEndpoint, secrets: LocationSecrets): Result<AccountCredentials> => {
  if (secrets.oauth) return ok({ ...endpoint, oauth: secrets.oauth });
  if (secrets.password !== undefined) return ok({ ...endpoint, password: secrets.password });
  return err(migrationError('bad-input', 'No password was given for this account.'));
};

/** Opens the location to read from (a new connection or file handle each call). */
export const openLocationAsSource = async (location: MailLocation, secrets: LocationSecrets, timeouts?: ConnectTimeouts): Promise<Result<SourceStore>> => {
  const opened = await openUntagged(location, secrets, openArchiveSource, openImapSource, timeouts);
  return tagOpened(opened, 'source', sideTaggedSource);
};

/** Opens the location to write to (a new connection or file handle each call). */
export const openLocationAsDestination = async (location: MailLocation, secrets: LocationSecrets, timeouts?: ConnectTimeouts): Promise<Result<DestinationStore>> => {
  const opened = await openUntagged(location, secrets, openArchiveDestination, openImapDestination, timeouts);
  return tagOpened(opened, 'destination', sideTaggedDestination);
};

const openUntagged = async <S>(
  location: MailLocation,
  secrets: LocationSecrets,
  openArchive: (archive: ArchiveLocation) => Promise<Result<S>>,
  openImap: (credentials: AccountCredentials, timeouts?: ConnectTimeouts) => Promise<Result<S>>,
  timeouts?: ConnectTimeouts,
): Promise<Result<S>> => {
  if (location.kind === 'archive') return openArchive(location.archive);
  const credentials = credentialsOf(location.endpoint, secrets);
  return credentials.ok ? openImap(credentials.value, timeouts) : credentials;
};
