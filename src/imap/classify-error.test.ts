import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyImapError } from './classify-error.js';

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
