/**
 * Where a job reads and writes: one source and its destinations (the new account, an archive
 * kept beside it, or both), each with a way to open a fresh store. Every front end (the app, the
 * command line, a batch row) describes its job this way; the rest of src/jobs/ takes it from here.
 */
import type { MailLocation } from '../contract/account.js';
import type { FolderTarget } from '../contract/ipc.js';
import type { Result } from '../contract/result.js';
import type { DestinationStore, SourceStore } from '../engine/store.js';
import type { ConnectTimeouts } from '../imap/connect-imap.js';
import { openLocationAsDestination, openLocationAsSource, type LocationSecrets } from '../locations/open-location.js';

/**
 * One destination of a job. `account` is the job's main destination (the new account, or the
 * archive a copy goes to on the command line); `archive` is an archive the app keeps beside it.
 */
export interface JobDestination {
  target: FolderTarget;
  location: MailLocation;
  /** A new connection (or file handle) each call: the runner replaces broken ones. */
  open(): Promise<Result<DestinationStore>>;
}

/** A job's source and destinations, each with a way to open a fresh store. */
export interface JobEnds {
  source: MailLocation;
  openSource(): Promise<Result<SourceStore>>;
  /** In the order the parts run: the account first, then an archive. */
  destinations: JobDestination[];
}

/** Ends opened through open-location.ts with the given secrets (none for an archive). */
export const jobEndsOf = (
  source: { location: MailLocation; secrets?: LocationSecrets },
  destinations: { target: FolderTarget; location: MailLocation; secrets?: LocationSecrets }[],
  timeouts?: ConnectTimeouts,
): JobEnds => ({
  source: source.location,
  openSource: () => openLocationAsSource(source.location, source.secrets ?? {}, timeouts),
  destinations: destinations.map((d) => ({ target: d.target, location: d.location, open: () => openLocationAsDestination(d.location, d.secrets ?? {}, timeouts) })),
});
