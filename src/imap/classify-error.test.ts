import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyImapError } from './classify-error.js';
import { invalidResponse, serverOverrun } from './server-limits.js';

test('failures are classified by code and response code, never by text', () => {
  const kind = (e: object) => classifyImapError(e).kind;
  assert.equal(kind({ authenticationFailed: true, message: 'Authentication failed' }), 'auth');
  assert.equal(kind({ code: 'ECONNREFUSED' }), 'network');
  assert.equal(kind({ code: 'ENOTFOUND' }), 'network');
  assert.equal(kind({ code: 'ETIMEOUT' }), 'timeout');
  assert.equal(kind({ code: 'NoConnection' }), 'network');
  assert.equal(kind({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'tls');
  assert.equal(kind({ code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), 'tls');
  assert.equal(kind({ serverResponseCode: 'OVERQUOTA', response: 'A5 NO [OVERQUOTA] Quota exceeded' }), 'quota');
  assert.equal(kind({ serverResponseCode: 'UNAVAILABLE', response: 'A5 NO [UNAVAILABLE] later' }), 'throttled');
  assert.equal(kind({ code: 'ETHROTTLE', throttleReset: 5000 }), 'throttled');
  assert.equal(kind({ serverResponseCode: 'TOOBIG' }), 'rejected');
  assert.equal(kind({ serverResponseCode: 'TRYCREATE' }), 'not-found');
  // A NO to FETCH reaches us without serverResponseCode: the code comes from the response text.
  assert.equal(kind({ responseStatus: 'NO', responseText: '[UNAVAILABLE] Try later' }), 'throttled');
  assert.equal(kind({ responseStatus: 'NO', responseText: 'Mailbox is corrupted' }), 'rejected');
  assert.equal(kind(new Error('boom')), 'internal');
  // Dovecot refuses a login over mail_max_userip_connections with NO [LIMIT]; imapflow flags it as an auth failure.
  assert.equal(kind({ authenticationFailed: true, serverResponseCode: 'LIMIT' }), 'throttled');
});

test('retryable, the server\'s words and its suggested wait are kept', () => {
  const throttled = classifyImapError({ code: 'ETHROTTLE', throttleReset: 7000, response: 'A1 NO Request is throttled. Suggested Backoff Time: 7000 milliseconds' });
  assert.equal(throttled.retryable, true);
  assert.equal(throttled.retryAfterMs, 7000);
  assert.equal(throttled.serverText, 'Request is throttled. Suggested Backoff Time: 7000 milliseconds');
  assert.equal(classifyImapError({ authenticationFailed: true }).retryable, false);
  assert.match(classifyImapError({ code: 'ECONNREFUSED' }, { server: 'h:1' }).message, /\(h:1\)/);
});

test('a refused OAuth2 login is worded from the server\'s JSON error and asks the person to sign in again', () => {
  const oauth = { issuerName: 'Google', account: 'source' as const };
  const expired = classifyImapError({ authenticationFailed: true, oauthError: { status: '401', schemes: 'Bearer', scope: 'https://mail.google.com/' } }, { oauth });
  assert.equal(expired.kind, 'auth');
  assert.equal(expired.message, 'Google refused the sign-in: the token has expired or was revoked — sign in again.');
  assert.equal(expired.needsSignIn, 'source');
  const scope = classifyImapError({ authenticationFailed: true, oauthError: { status: 'insufficient_scope', scope: 'mail' } }, { oauth: { issuerName: 'Example', account: 'destination' }, server: 'imap.example.org:993' });
  assert.equal(scope.message, 'Example refused the sign-in (imap.example.org:993): the token does not give access to mail (it needs mail) — sign in again.');
  // Microsoft answers a bad token with a bare NO, no JSON.
  assert.equal(classifyImapError({ authenticationFailed: true, response: 'A1 NO AUTHENTICATE failed.' }, { oauth: { issuerName: 'Microsoft', account: 'source' } }).message, 'Microsoft refused the sign-in: the token was not accepted — sign in again.');
  // A login refused for too many connections is still "later", with or without OAuth2.
  assert.equal(classifyImapError({ authenticationFailed: true, serverResponseCode: 'LIMIT' }, { oauth }).kind, 'throttled');
  assert.equal(classifyImapError({ code: 'NoOAuthMechanism' }, { oauth }).kind, 'auth');
});

test("a provider's account limit is a wait, not a full mailbox: Gmail's [OVERQUOTA] bandwidth answer and Microsoft's suggested back-off", () => {
  const gmail = classifyImapError({ serverResponseCode: 'OVERQUOTA', responseText: '[OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)' });
  assert.equal(gmail.kind, 'throttled');
  assert.equal(gmail.isProviderLimit, true);
  assert.equal(gmail.retryable, true);
  assert.equal(gmail.retryAfterMs, undefined, 'Gmail names no end: the job decides how often to look');
  assert.match(gmail.message, /Gmail's limit/);
  const full = classifyImapError({ serverResponseCode: 'OVERQUOTA', responseText: '[OVERQUOTA] Quota exceeded (mailbox for user is full)' });
  assert.equal(full.kind, 'quota', 'a full mailbox stays a full mailbox');
  const microsoft = classifyImapError({ code: 'ETHROTTLE', throttleReset: 299_499 });
  assert.equal(microsoft.kind, 'throttled');
  assert.equal(microsoft.isProviderLimit, true);
  assert.equal(microsoft.retryAfterMs, 299_499);
  const busy = classifyImapError({ serverResponseCode: 'UNAVAILABLE', responseText: '[UNAVAILABLE] busy' });
  assert.equal(busy.isProviderLimit, undefined, 'a busy server is backed off per folder, as before');
});

test('a server beyond a limit is a broken server, said in one sentence and not retried', () => {
  const overrun = classifyImapError(serverOverrun('10,000 responses to one command'), { server: 'old.example:993', side: 'old' });
  assert.equal(overrun.kind, 'broken-server');
  assert.equal(overrun.retryable, false);
  assert.equal(overrun.message, 'The old server (old.example:993) sent more than 10,000 responses to one command — it may be broken or hostile.');
  assert.equal(classifyImapError(invalidResponse('A literal is missing from the response.'), { side: 'new' }).message, 'The new server sent a response Mailferry cannot read — it may be broken or hostile.');
  // imapflow's own caps read alike, with the limit it reports.
  const line = classifyImapError({ code: 'LineTooLarge', maxSize: 32 * 1024 * 1024 });
  assert.equal(line.kind, 'broken-server');
  assert.equal(line.message, 'The server sent more than 32 MB in one response line — it may be broken or hostile.');
  assert.equal(classifyImapError({ code: 'LiteralTooLarge', maxSize: 100 * 1024 * 1024 }).message, 'The server sent more than 100 MB in one message — it may be broken or hostile.');
  assert.equal(classifyImapError({ code: 'ResponseTooLarge' }).kind, 'broken-server');
  // Ctrl-C while connecting is a stop, not a failure.
  assert.equal(classifyImapError({ code: 'ECANCELLED' }).kind, 'cancelled');
});
