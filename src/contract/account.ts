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

/** An endpoint with the password to log in. Lives only in the engine and in main, never in the renderer's state. */
export interface AccountCredentials extends AccountEndpoint {
  password: string;
}

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
