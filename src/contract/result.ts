/** A value or a reason it could not be had; used at every module boundary instead of throwing. */
export type Result<T, E = MigrationError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** Every way a migration step can fail, each with a sentence a person can read. */
export type MigrationErrorKind =
  | 'auth'
  | 'tls'
  | 'network'
  | 'timeout'
  | 'throttled'
  | 'quota'
  | 'rejected'
  | 'not-found'
  | 'uidvalidity-changed'
  /** The destination holds more copies of a message than the source (see FolderReport.surplus). */
  | 'surplus'
  /** A server sent more than any honest server would (an endless answer, a giant line): not retried. */
  | 'broken-server'
  | 'bad-input'
  | 'cancelled'
  | 'internal';

export interface MigrationError {
  kind: MigrationErrorKind;
  /** One sentence for a person: what went wrong and, where known, what to do. */
  message: string;
  /** True when trying the same thing again later can succeed without the user changing anything. */
  retryable: boolean;
  /** The server's own words (its NO/BAD/BYE text), when there was one. */
  serverText?: string;
  /** The server's response code, e.g. `OVERQUOTA`, `LIMIT`, `UNAVAILABLE`. */
  serverCode?: string;
  /** A back-off the server asked for, in milliseconds. */
  retryAfterMs?: number;
  /**
   * The provider's account-wide limit was reached (a day's uploads, a throttling window): the
   * whole job waits until `retryAfterMs` has passed and goes on by itself; not a failure.
   */
  isProviderLimit?: boolean;
  /** For TLS failures: the SHA-256 fingerprint of the certificate the server presented. */
  certificateFingerprint?: string;
  /**
   * An OAuth2 sign-in of this side was refused (revoked, expired): the move waits until the
   * person signs in again, then resumes.
   */
  needsSignIn?: 'source' | 'destination';
  /**
   * Which side of the move it happened on: the source (the old account, or the archive read
   * from) or the destination (the new account, or the archive written to). Set where a store is
   * opened (src/locations/), so a person reads "the old account" rather than "the server".
   */
  side?: 'source' | 'destination';
}

export const migrationError = (
  kind: MigrationErrorKind,
  message: string,
  extra: Partial<Omit<MigrationError, 'kind' | 'message'>> = {},
): MigrationError => ({ kind, message, retryable: extra.retryable ?? false, ...extra });

/** The value, or the error thrown: for code whose caller turns a thrown MigrationError back into a value. */
export const unwrap = <T>(result: Result<T>): T => {
  if (!result.ok) throw result.error;
  return result.value;
};
