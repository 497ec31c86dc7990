import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseOAuthMechanism, oauthFailureAck, oauthInitialResponse, parseOAuthChallenge } from './sasl-oauth.js';

test('OAUTHBEARER is preferred when offered, XOAUTH2 otherwise', () => {
  assert.equal(chooseOAuthMechanism(new Set(['AUTH=XOAUTH2', 'AUTH=OAUTHBEARER'])), 'OAUTHBEARER');
  assert.equal(chooseOAuthMechanism(new Set(['AUTH=PLAIN', 'AUTH=XOAUTH2'])), 'XOAUTH2');
  assert.equal(chooseOAuthMechanism(new Set(['AUTH=PLAIN'])), undefined);
});

test('the initial responses are framed as RFC 7628 and Google document them; the user name is escaped in the GS2 header', () => {
  assert.equal(oauthInitialResponse('OAUTHBEARER', 'a,b=c@example.org', 'T0K', 'imap.example.org', 993).toString(), 'n,a=a=2Cb=3Dc@example.org,\x01host=imap.example.org\x01port=993\x01auth=Bearer T0K\x01\x01');
  assert.equal(oauthInitialResponse('XOAUTH2', 'me@gmail.com', 'T0K', 'imap.gmail.com', 993).toString(), 'user=me@gmail.com\x01auth=Bearer T0K\x01\x01');
  assert.equal(oauthFailureAck('OAUTHBEARER'), 'AQ==');
  assert.equal(oauthFailureAck('XOAUTH2'), '');
});

test('a failure challenge is the server\'s JSON error in base64', () => {
  const challenge = Buffer.from('{"status":"invalid_token","schemes":"bearer","scope":"mail"}').toString('base64');
  assert.deepEqual(parseOAuthChallenge(challenge), { status: 'invalid_token', schemes: 'bearer', scope: 'mail' });
  assert.equal(parseOAuthChallenge(''), undefined);
  assert.equal(parseOAuthChallenge(Buffer.from('[1]').toString('base64')), undefined);
});
