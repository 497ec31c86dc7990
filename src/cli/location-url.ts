/**
 * Parses the CLI's location arguments: `imaps://USER@HOST[:PORT]` (implicit TLS),
 * `imap://USER@HOST[:PORT]` (STARTTLS required, or plain with --allow-plaintext), and local
 * archives `mbox:/path`, `maildir:/path`, `eml:/path`. USER may be percent-encoded.
 */
import type { ArchiveLocation, MailLocation } from '../contract/account.js';
import { DEFAULT_PORTS } from '../contract/account.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';

export type Location = MailLocation;

export const parseLocation = (raw: string, allowPlaintext: boolean): Result<Location> => {
  const archive = /^(mbox|maildir|eml):(.+)$/i.exec(raw);
  if (archive && !raw.includes('://')) {
    return ok({ kind: 'archive', archive: { format: (archive[1] as string).toLowerCase() as ArchiveLocation['format'], path: archive[2] as string } });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return err(migrationError('bad-input', `"${raw}" is not a location. Use imaps://user@host, imap://user@host:143, or mbox:/path.`));
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'imap' && scheme !== 'imaps') {
    return err(migrationError('bad-input', `"${scheme}" is not supported. Use imaps:// or imap://, or mbox:/maildir:/eml: for archives.`));
  }
  if (!url.username) return err(migrationError('bad-input', `The location "${raw}" has no user name: write imaps://USER@${url.hostname || 'host'}.`));
  if (!url.hostname) return err(migrationError('bad-input', `The location "${raw}" has no server name.`));
  let user: string;
  try {
    user = decodeURIComponent(url.username);
  } catch {
    return err(migrationError('bad-input', `The user name in "${raw}" is not valid percent-encoding.`));
  }
  const security = scheme === 'imaps' ? 'tls' : allowPlaintext ? 'plain' : 'starttls';
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[security];
  // IPv6 literals come bracketed from URL.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return ok({ kind: 'imap', endpoint: { host, port, security, user, allowPlaintext } });
};
