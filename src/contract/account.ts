import type { Result } from './result.js';

/** How the connection to a server is protected. */
export type Security = 'tls' | 'starttls' | 'plain';

/** Where an account lives, without its secret. Safe to persist, show and log. */
export interface AccountEndpoint {
  host: string;
  port: number;
  security: Security;
  user: string;
  /** Plain IMAP is refused unless this is set (old servers exist; the user must say so). */
  allowPlaintext?: boolean;
  /** SHA-256 fingerprint (hex, colon-separated) of a certificate the user chose to trust. */
  pinnedFingerprint?: string;
}

/**
 * Where access tokens for an OAuth2 sign-in come from (src/auth/). Each call gives a token that is
 * valid now, refreshed when needed; tokens live in memory only.
 */
export interface AccessTokenSource {
  /** Who signs the person in, for sentences: `Google`, `Microsoft`, or the issuer's host. */
  readonly issuerName: string;
  /** Which side of the move this sign-in belongs to, so "sign in again" can name it. */
  readonly account: 'source' | 'destination';
  /** A token that is valid now, or why none can be had (a refused refresh says: sign in again). */
  accessToken(): Promise<Result<string>>;
  /**
   * The server refused `token`: forget it, so the next `accessToken()` refreshes. True when a
   * refresh is possible (trying again may help), false for a token that cannot be renewed.
   */
  refused(token: string): boolean;
}

/**
 * An endpoint with what it takes to log in: a password, or an OAuth2 token source. Lives only in
 * the engine and in main, never in the renderer's state.
 */
export type AccountCredentials = PasswordCredentials | OAuthCredentials;
export type PasswordCredentials = AccountEndpoint & { password: string; oauth?: undefined };
export type OAuthCredentials = AccountEndpoint & { oauth: AccessTokenSource; password?: undefined };

/** An archive on local disk, as a source or destination instead of an IMAP account. */
export type ArchiveFormat = 'mbox' | 'maildir' | 'eml';
export interface ArchiveLocation {
  format: ArchiveFormat;
  path: string;
}

/** Default ports per security mode. */
export const DEFAULT_PORTS: Record<Security, number> = { tls: 993, starttls: 143, plain: 143 };

/** Describes an endpoint for messages and logs without any secret. */
export const describeEndpoint = (e: AccountEndpoint): string =>
  `${e.user}@${e.host}:${e.port} (${e.security === 'tls' ? 'TLS' : e.security === 'starttls' ? 'STARTTLS' : 'unencrypted'})`;

/** Where mail is read from or written to: an IMAP account or a local archive. */
export type MailLocation = { kind: 'imap'; endpoint: AccountEndpoint } | { kind: 'archive'; archive: ArchiveLocation };
