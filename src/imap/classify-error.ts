/**
 * The one place where imapflow's and Node's failures become MigrationErrors. Decisions are made
 * by `code`, `authenticationFailed` and `serverResponseCode`, never by matching message text;
 * the server's own words are kept in `serverText` for the person reading the report.
 */
import type { AccessTokenSource } from '../contract/account.js';
import { migrationError, type MigrationError } from '../contract/result.js';
import { PROVIDER_LIMIT_ANSWERS } from '../engine/provider-quirks.js';
import { formatBytes } from './server-limits.js';

const NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'NoConnection', 'EConnectionClosed', 'ClosedAfterConnectText', 'ClosedAfterConnectTLS', 'StateLogout', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);
const TIMEOUT_CODES = new Set(['ETIMEOUT', 'CONNECT_TIMEOUT', 'UPGRADE_TIMEOUT', 'ETIMEDOUT', 'LockTimeout']);
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'EPROTO',
  'CERT_PIN_MISMATCH',
]);
/** Response codes (RFC 5530 and friends) meaning "not now, later". */
const THROTTLE_RESPONSE_CODES = new Set(['LIMIT', 'UNAVAILABLE', 'INUSE', 'SERVERBUG', 'THROTTLED']);
/** Response codes meaning "this message will never be accepted as it is". */
const REJECT_RESPONSE_CODES = new Set(['TOOBIG', 'APPENDLIMIT', 'CANNOT', 'PARSE', 'BADCHARSET', 'CORRUPTION']);

/** Where the failure happened, to word the sentence. */
export interface ErrorContext {
  /** e.g. 'src@old.example:993' */
  server?: string;
  /** What we were doing: 'connect', 'append', 'fetch', ... */
  operation?: string;
  /** Set when the login was an OAuth2 sign-in: a refused login is then a refused token. */
  oauth?: Pick<AccessTokenSource, 'issuerName' | 'account'>;
  /** Which account the server holds, when the caller knows: "the old server", "the new server". */
  side?: 'old' | 'new';
}

interface ImapFlowLikeError {
  code?: unknown;
  message?: unknown;
  authenticationFailed?: unknown;
  serverResponseCode?: unknown;
  response?: unknown;
  responseText?: unknown;
  responseStatus?: unknown;
  reason?: unknown;
  throttleReset?: unknown;
  certificateFingerprint?: unknown;
  /** Set by imapflow's mailboxOpen when a NO to SELECT/EXAMINE was followed by an empty LIST. */
  mailboxMissing?: unknown;
  /** Set by imapflow when STARTTLS was required and the server does not offer it. */
  tlsFailed?: unknown;
  /** The JSON error an OAuth2 login was refused with (wire-session.ts and imapflow both set it). */
  oauthError?: unknown;
  /** WireProtocolError (server-limits.ts): what the server sent beyond a limit. */
  excess?: unknown;
  /** imapflow's LineTooLarge, LiteralTooLarge, ResponseTooLarge: the limit crossed. */
  maxSize?: unknown;
}

/** What a server sent beyond a limit, worded to follow "sent more than", for our errors and imapflow's. */
const excessOf = (code: string, e: ImapFlowLikeError): string | undefined => {
  if (code === 'ServerOverrun') return asString(e.excess) ?? 'Mailferry accepts';
  const limit = typeof e.maxSize === 'number' ? formatBytes(e.maxSize) : 'the limit';
  if (code === 'LineTooLarge') return `${limit} in one response line`;
  if (code === 'LiteralTooLarge') return `${limit} in one message`;
  if (code === 'ResponseTooLarge') return `${limit} in one response`;
  return undefined;
};

/**
 * Why a server refused an OAuth2 token, from the `status` of its JSON error (RFC 7628 §3.2.2
 * uses the OAuth error codes; Google sends HTTP-like numbers).
 */
const oauthRefusalReason = (oauthError: unknown): string => {
  const status = oauthError && typeof oauthError === 'object' ? (oauthError as { status?: unknown }).status : undefined;
  const scope = oauthError && typeof oauthError === 'object' ? asString((oauthError as { scope?: unknown }).scope) : undefined;
  switch (typeof status === 'number' ? String(status) : status) {
    case 'invalid_token':
    case '401':
      return 'the token has expired or was revoked';
    case 'insufficient_scope':
    case '403':
      return `the token does not give access to mail${scope ? ` (it needs ${scope})` : ''}`;
    case 'invalid_request':
    case '400':
      return 'the sign-in request was not in the form it expects';
    default:
      return 'the token was not accepted';
  }
};

/** Ends with a full stop unless the server's own words already did ("... (0.001 secs)." + "." reads badly). */
const endSentence = (text: string): string => (/[.!?]$/.test(text) ? text : `${text}.`);

const asString = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The human text of a server response line, without the tag and status word. */
const serverTextOf = (e: ImapFlowLikeError): string | undefined => {
  const raw = asString(e.responseText) ?? asString(e.response) ?? asString(e.reason);
  if (!raw) return undefined;
  // "A3 NO [OVERQUOTA] Quota exceeded" → "[OVERQUOTA] Quota exceeded"
  return raw.replace(/^\S+\s+(OK|NO|BAD|BYE)\s+/i, '').trim();
};

/** The response code of an imapflow parsed response (`{ attributes: [{ type: 'SECTION', section: [{ value: 'LIMIT' }] }, ...] }`). */
const responseCodeOfParsed = (response: unknown): string | undefined => {
  if (!response || typeof response !== 'object') return undefined;
  const first = (response as { attributes?: unknown }).attributes;
  if (!Array.isArray(first)) return undefined;
  const section = (first[0] as { type?: unknown; section?: unknown } | undefined)?.section;
  if (!Array.isArray(section)) return undefined;
  return asString((section[0] as { value?: unknown } | undefined)?.value);
};

/** Turns anything thrown by imapflow, Node's net/tls, or our own code into a MigrationError. */
export const classifyImapError = (thrown: unknown, context: ErrorContext = {}): MigrationError => {
  if (thrown && typeof thrown === 'object' && 'kind' in thrown && 'retryable' in thrown) {
    return thrown as MigrationError;
  }
  const e = (thrown && typeof thrown === 'object' ? thrown : { message: String(thrown) }) as ImapFlowLikeError;
  const code = asString(e.code);
  // imapflow leaves serverResponseCode unset on some paths (a NO to FETCH, a BYE): the code is
  // then read from the parsed response (where a NO to FETCH keeps it; its responseText has the
  // bracketed code already cut off), or from the bracketed code at the start of the text.
  const responseCode = (
    asString(e.serverResponseCode) ??
    responseCodeOfParsed(e.response) ??
    /^\[([A-Za-z0-9-]+)/.exec(asString(e.responseText) ?? asString(e.reason) ?? '')?.[1]
  )?.toUpperCase();
  const serverText = serverTextOf(e);
  const where = context.server ? ` (${context.server})` : '';
  const extra = { serverText, serverCode: responseCode };

  // Before the quota check: Gmail's daily limit comes as [OVERQUOTA], like a full mailbox.
  const limit = serverText !== undefined ? PROVIDER_LIMIT_ANSWERS.find((answer) => answer.text.test(serverText)) : undefined;
  if (limit) {
    return migrationError('throttled', `${limit.provider}'s limit for this account was reached${where}; Mailferry waits and goes on by itself.`, {
      ...extra,
      retryable: true,
      isProviderLimit: true,
    });
  }
  // Before the auth check: a login refused for too many connections comes as NO [LIMIT] with
  // imapflow's authenticationFailed set, but it is a "later", not a wrong password.
  if (code === 'ETHROTTLE' || (responseCode && THROTTLE_RESPONSE_CODES.has(responseCode))) {
    const retryAfterMs = typeof e.throttleReset === 'number' ? e.throttleReset : undefined;
    // A suggested back-off (Microsoft 365) is the provider's own limit: the whole job waits it out.
    if (code === 'ETHROTTLE' && retryAfterMs !== undefined) {
      return migrationError('throttled', `The server asked us to wait ${Math.ceil(retryAfterMs / 1000)} s${where}; Mailferry waits and goes on by itself.`, {
        ...extra,
        retryable: true,
        retryAfterMs,
        isProviderLimit: true,
      });
    }
    return migrationError('throttled', `The server asked us to slow down${where}; waiting before trying again.`, { ...extra, retryable: true, retryAfterMs });
  }
  if (code === 'NoOAuthMechanism') {
    return migrationError('auth', `The server does not accept OAuth2 sign-in (neither OAUTHBEARER nor XOAUTH2)${where}: use a password or app password for this account.`, extra);
  }
  if (context.oauth && (e.authenticationFailed === true || responseCode === 'AUTHENTICATIONFAILED' || responseCode === 'AUTHORIZATIONFAILED')) {
    return migrationError('auth', `${context.oauth.issuerName} refused the sign-in${where}: ${oauthRefusalReason(e.oauthError)} — sign in again.`, {
      ...extra,
      needsSignIn: context.oauth.account,
    });
  }
  if (e.authenticationFailed === true || responseCode === 'AUTHENTICATIONFAILED' || responseCode === 'AUTHORIZATIONFAILED') {
    return migrationError('auth', `The server refused the user name or password${where}. If this account uses two-step verification, it may need an app password.`, extra);
  }
  if (responseCode === 'OVERQUOTA') {
    return migrationError('quota', `The destination mailbox is full${where}. Free some space (or raise the quota) and resume.`, extra);
  }
  if (responseCode && REJECT_RESPONSE_CODES.has(responseCode)) {
    return migrationError('rejected', endSentence(`The server refused this message${where}${serverText ? `: ${serverText}` : ''}`), extra);
  }
  // Dovecot answers EXAMINE of a missing folder with a plain NO (no [NONEXISTENT]); imapflow
  // then checks with LIST and sets mailboxMissing.
  if (responseCode === 'NONEXISTENT' || responseCode === 'TRYCREATE' || code === 'NotFound' || e.mailboxMissing === true) {
    return migrationError('not-found', `The folder does not exist${where}.`, extra);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return migrationError('network', `The server name could not be found${where}. Check the server address.`, { ...extra, retryable: code === 'EAI_AGAIN' });
  }
  if (code === 'ECONNREFUSED') {
    return migrationError('network', `Nothing answered on that port${where}: the server is down or the port is wrong.`, { ...extra, retryable: true });
  }
  if (code === 'GREETING_TIMEOUT') {
    return migrationError('timeout', `The server did not greet us${where}. If this port expects TLS, choose TLS security.`, { ...extra, retryable: true });
  }
  if (e.tlsFailed === true && !code) {
    return migrationError('tls', `The server does not offer STARTTLS${where}. Choose implicit TLS (imaps://, usually port 993) if it has it, or allow unencrypted IMAP explicitly.`, extra);
  }
  if (code && TLS_CODES.has(code)) {
    const fingerprint = asString(e.certificateFingerprint);
    const sentence =
      code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'EPROTO'
        ? `The server did not speak TLS on this port${where}. Try STARTTLS or the other port.`
        : code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? `The server's certificate is for a different name${where}.`
          : code === 'CERT_HAS_EXPIRED'
            ? `The server's certificate has expired${where}.`
            : code === 'CERT_PIN_MISMATCH'
              ? `The server's certificate is not the one you chose to trust${where}.`
              : `The server's certificate is not trusted (self-signed or unknown issuer)${where}.`;
    // No serverText: a TLS error's `reason` is Node's wording ("IP: 127.0.0.1 is not in the
    // cert's list"), and the CLI would print it as "server said: ...".
    return migrationError('tls', sentence, { serverCode: extra.serverCode, certificateFingerprint: fingerprint });
  }
  if (code && TIMEOUT_CODES.has(code)) {
    return migrationError('timeout', `The server stopped answering${where}.`, { ...extra, retryable: true });
  }
  if (code && NETWORK_CODES.has(code)) {
    return migrationError('network', `The connection was lost${where}.`, { ...extra, retryable: true });
  }
  if (code === 'MissingServerExtension') {
    return migrationError('rejected', `The server lacks a needed feature${where}.`, extra);
  }
  if (code === 'ERR_PLAINTEXT_REFUSED') {
    return migrationError('bad-input', asString(e.message) ?? 'Unencrypted IMAP was refused.', extra);
  }
  const excess = code ? excessOf(code, e) : undefined;
  const who = `The ${context.side ? `${context.side} ` : ''}server${where}`;
  if (excess !== undefined) {
    // Not retried: an honest server never sends this, and a hostile one would send it again.
    return migrationError('broken-server', `${who} sent more than ${excess} — it may be broken or hostile.`, extra);
  }
  if (code === 'InvalidResponse') {
    return migrationError('broken-server', `${who} sent a response Mailferry cannot read — it may be broken or hostile.`, extra);
  }
  if (code === 'ECANCELLED') return migrationError('cancelled', 'Stopped.');
  if (code?.startsWith('ParserError')) {
    return migrationError('network', `The server sent a response we could not read${where}.`, { ...extra, retryable: true });
  }
  if (asString(e.response) || responseCode || e.responseStatus === 'NO' || e.responseStatus === 'BAD') {
    // A plain NO/BAD to a command: the server said no, for its own reason.
    return migrationError('rejected', endSentence(`The server said no${context.operation ? ` to ${context.operation}` : ''}${where}${serverText ? `: ${serverText}` : ''}`), extra);
  }
  return migrationError('internal', `Unexpected failure${where}: ${asString(e.message) ?? 'unknown error'}`, { retryable: true });
};
