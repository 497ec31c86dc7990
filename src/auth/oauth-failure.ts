/**
 * The one place where failures of the OAuth2 protocol (openid-client's errors, an authorization
 * server's error codes) become MigrationErrors. Decisions are made by the OAuth `error` code,
 * the HTTP status and the error's class or `code`, never by matching message text; the server's
 * own description is kept in `serverText`.
 */
import * as client from 'openid-client';
import { migrationError, type MigrationError } from '../contract/result.js';

type Side = 'source' | 'destination';

/** OAuth error codes (RFC 6749 §5.2, RFC 8628 §3.5) that no retry can cure: the person must sign in again. */
const SIGN_IN_AGAIN_CODES = new Set(['invalid_grant', 'invalid_token', 'expired_token', 'invalid_scope', 'consent_required', 'login_required', 'interaction_required']);
/** Error codes of a registration that does not fit: a setting to fix, not a sign-in to repeat. */
const CLIENT_CODES = new Set(['invalid_client', 'unauthorized_client', 'unsupported_grant_type', 'unsupported_response_type', 'invalid_request']);
const LATER_CODES = new Set(['temporarily_unavailable', 'server_error', 'slow_down']);

/** `— sign in again` ends every sentence that needs the person to sign in. */
export const signInAgainSentence = (issuerName: string, reason: string): string => `${issuerName} refused the sign-in: ${reason} — sign in again.`;

const asString = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The OAuth error of a server answer, if the thrown value carries one. */
const oauthErrorOf = (e: unknown): { code: string; description?: string; status?: number } | undefined => {
  if (e instanceof client.ResponseBodyError) return { code: e.error, description: e.error_description, status: e.status };
  if (e instanceof client.AuthorizationResponseError) return { code: e.error, description: e.error_description };
  return undefined;
};

/** Why a sign-in code was refused, in words. */
const reasonOf = (code: string): string => {
  switch (code) {
    case 'invalid_grant':
      return 'the sign-in has expired or was revoked';
    case 'expired_token':
      return 'the code expired before the sign-in was finished';
    case 'invalid_scope':
      return 'it does not grant access to mail for this app';
    default:
      return `it answered ${code}`;
  }
};

/**
 * A MigrationError for anything thrown while talking to an authorization server. `doing` words
 * the step (`renew the sign-in`, `look up the sign-in server`); `account` marks errors that need
 * the person to sign in again.
 */
export const oauthFailure = (thrown: unknown, issuerName: string, doing: string, account?: Side): MigrationError => {
  const oauthError = oauthErrorOf(thrown);
  if (oauthError) {
    const serverText = oauthError.description ?? oauthError.code;
    if (oauthError.code === 'access_denied') return migrationError('cancelled', `The sign-in at ${issuerName} was declined, so nothing was signed in.`, { serverText });
    if (SIGN_IN_AGAIN_CODES.has(oauthError.code)) {
      return migrationError('auth', signInAgainSentence(issuerName, reasonOf(oauthError.code)), { serverText, serverCode: oauthError.code, ...(account ? { needsSignIn: account } : {}) });
    }
    if (CLIENT_CODES.has(oauthError.code)) {
      return migrationError('auth', `${issuerName} refused this app's registration (${oauthError.code}): check the client ID${oauthError.code === 'invalid_client' ? ' and secret' : ''} (the README says how to register one).`, { serverText, serverCode: oauthError.code });
    }
    if (LATER_CODES.has(oauthError.code) || (oauthError.status !== undefined && oauthError.status >= 500)) {
      return migrationError('network', `${issuerName} could not ${doing} just now; trying again later.`, { serverText, serverCode: oauthError.code, retryable: true });
    }
    return migrationError('auth', `${issuerName} refused to ${doing} (${oauthError.code}).`, { serverText, serverCode: oauthError.code });
  }
  if (thrown instanceof DOMException && (thrown.name === 'TimeoutError' || thrown.name === 'AbortError')) {
    return migrationError(thrown.name === 'AbortError' ? 'cancelled' : 'timeout', thrown.name === 'AbortError' ? 'The sign-in was stopped.' : `${issuerName} did not answer in time to ${doing}.`, { retryable: thrown.name === 'TimeoutError' });
  }
  if (thrown instanceof client.ClientError) {
    // The server answered, but not as OAuth2 says (a 404 for metadata, HTML, a mismatched issuer).
    const status = (thrown.cause as { status?: unknown } | undefined)?.status;
    const code = asString(thrown.code);
    return migrationError(
      'auth',
      `${issuerName} did not answer as an OAuth2 sign-in server should when asked to ${doing}${typeof status === 'number' ? ` (HTTP ${status})` : ''}.`,
      { serverCode: code, serverText: asString(thrown.message) },
    );
  }
  if (thrown instanceof TypeError) {
    // fetch's network failures: the cause carries Node's code (ECONNREFUSED, ENOTFOUND, ...).
    const code = asString((thrown.cause as { code?: unknown } | undefined)?.code);
    return migrationError('network', `Could not reach ${issuerName}'s sign-in server to ${doing}${code ? ` (${code})` : ''}.`, { retryable: true, serverCode: code });
  }
  if (thrown && typeof thrown === 'object' && 'kind' in thrown && 'retryable' in thrown) return thrown as MigrationError;
  return migrationError('internal', `Unexpected failure while trying to ${doing} at ${issuerName}: ${thrown instanceof Error ? thrown.message : String(thrown)}`, { retryable: true });
};
