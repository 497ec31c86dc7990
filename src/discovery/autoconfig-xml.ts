/**
 * Reads a Thunderbird-style autoconfig file (`config-v1.1.xml`, the format of Mozilla's ISPDB and
 * of `autoconfig.DOMAIN/mail/config-v1.1.xml`) and picks its best IMAP server: implicit TLS
 * before STARTTLS before plain, in the file's order otherwise. Placeholders (`%EMAILADDRESS%`,
 * `%EMAILLOCALPART%`, `%EMAILDOMAIN%`) are filled in from the address. The file comes from the
 * network: every value is checked (host name, port, socket type) before it is used.
 */
import { DOMParser, onErrorStopParsing, type Element } from '@xmldom/xmldom';
import type { Security } from '../contract/account.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';

/** One IMAP server as an autoconfig file describes it. */
export interface AutoconfigServer {
  host: string;
  port: number;
  security: Security;
  /** The user name to log in with, placeholders filled in; absent when the file names none. */
  user?: string;
  /** `<displayName>` of the provider, when given. */
  providerName?: string;
  /** `<authentication>` values (`password-cleartext`, `OAuth2`, …). */
  authentication: string[];
}

const SOCKET_TYPES: Record<string, Security> = { SSL: 'tls', STARTTLS: 'starttls', plain: 'plain' };
const SECURITY_RANK: Record<Security, number> = { tls: 0, starttls: 1, plain: 2 };
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** True for a syntactically valid DNS host name (letters, digits, hyphens; IDNs in their ASCII form). */
export const isHostName = (value: string): boolean => HOST_NAME.test(value);

const textOf = (parent: Element, tag: string): string | undefined => {
  const found = parent.getElementsByTagName(tag)[0];
  const text = found?.textContent?.trim();
  return text ? text : undefined;
};

const fillIn = (template: string, email: string): string => {
  const at = email.lastIndexOf('@');
  return template
    .replaceAll('%EMAILADDRESS%', email)
    .replaceAll('%EMAILLOCALPART%', email.slice(0, at))
    .replaceAll('%EMAILDOMAIN%', email.slice(at + 1));
};

/**
 * The best IMAP server of an autoconfig file for `email`, or why the file gives none (not XML,
 * no usable `<incomingServer type="imap">`).
 */
export const parseAutoconfig = (xml: string, email: string): Result<AutoconfigServer> => {
  let root: Element | null;
  try {
    root = new DOMParser({ onError: onErrorStopParsing }).parseFromString(xml, 'text/xml').documentElement;
  } catch {
    return err(migrationError('bad-input', 'The settings file is not valid XML.'));
  }
  if (!root || root.tagName !== 'clientConfig') return err(migrationError('bad-input', 'The settings file is not an autoconfig file (no <clientConfig>).'));
  const provider = root.getElementsByTagName('emailProvider')[0];
  const providerName = provider ? textOf(provider, 'displayName') : undefined;
  const servers: AutoconfigServer[] = [];
  const incoming = root.getElementsByTagName('incomingServer');
  for (let i = 0; i < incoming.length; i += 1) {
    const server = incoming[i]!;
    if (server.getAttribute('type') !== 'imap') continue;
    const host = fillIn(textOf(server, 'hostname') ?? '', email).toLowerCase();
    const port = Number(textOf(server, 'port'));
    const security = SOCKET_TYPES[textOf(server, 'socketType') ?? ''];
    if (!isHostName(host) || !Number.isInteger(port) || port < 1 || port > 65_535 || security === undefined) continue;
    const userTemplate = textOf(server, 'username');
    const authentication: string[] = [];
    const auths = server.getElementsByTagName('authentication');
    for (let j = 0; j < auths.length; j += 1) {
      const value = auths[j]!.textContent?.trim();
      if (value) authentication.push(value);
    }
    servers.push({ host, port, security, ...(userTemplate ? { user: fillIn(userTemplate, email) } : {}), ...(providerName ? { providerName } : {}), authentication });
  }
  // A stable sort keeps the file's own order among servers of the same security.
  const best = servers.sort((a, b) => SECURITY_RANK[a.security] - SECURITY_RANK[b.security])[0];
  return best ? ok(best) : err(migrationError('not-found', 'The settings file names no IMAP server.'));
};
