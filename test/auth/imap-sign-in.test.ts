/**
 * OAuth2 login to a real Dovecot whose oauth2 passdb checks every token by introspection at a real
 * authorization server (both started here, on 127.0.0.1): the lean wire session (wire source,
 * append channel) and imapflow's path (planning, the connection test) alike. OAUTHBEARER is
 * chosen when offered, XOAUTH2 otherwise; the initial response goes inline only with SASL-IR; a
 * refused token reads as one plain sentence ending "sign in again", decided from the server's
 * JSON error; a token the server refused is refreshed and tried once more.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AccessTokenSource } from '../../src/contract/account.js';
import type { OAuthClient } from '../../src/auth/oauth-client.js';
import { createStaticTokenSource } from '../../src/auth/token-provider.js';
import { openAppendChannel } from '../../src/imap/append-channel.js';
import { connectImap, disconnectImap } from '../../src/imap/connect-imap.js';
import { openWireSession } from '../../src/imap/wire-session.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startOAuthServer, type OAuthTestServer } from '../support/oauth-server.js';
import { signInAs, testOAuthClient, tokenSourceFor, withOAuth } from '../support/oauth-sign-in.js';

const USER = { name: 'olduser', password: 'pw-Old-1' };
const OTHER = { name: 'someone', password: 'pw-Other-2' };

describe('OAuth2 login to Dovecot (oauth2 passdb, every token introspected)', { concurrency: false }, () => {
  let auth: OAuthTestServer;
  let oauth: OAuthClient;
  let both: DovecotServer;
  let xoauth2Only: DovecotServer;
  let noSaslIr: DovecotServer;
  const proxies: FaultProxy[] = [];

  before(async () => {
    auth = await startOAuthServer();
    oauth = await testOAuthClient(auth);
    const oauth2 = { introspectionUrl: auth.introspectionUrlWithCredentials };
    [both, xoauth2Only, noSaslIr] = await Promise.all([
      startDovecot({ users: [USER, OTHER], oauth2 }),
      startDovecot({ users: [USER], oauth2: { ...oauth2, mechanisms: ['xoauth2'] } }),
      startDovecot({ users: [USER], oauth2, disableCapabilities: ['SASL-IR'] }),
    ]);
  });
  after(async () => {
    await Promise.allSettled(proxies.map((p) => p.stop()));
    await Promise.allSettled([both?.stop(), xoauth2Only?.stop(), noSaslIr?.stop()]);
    await auth?.stop();
  });

  /** Credentials for `server` through a recording proxy, signing in with `tokens`. */
  const through = async (server: DovecotServer, tokens: AccessTokenSource) => {
    const proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: server.port });
    proxies.push(proxy);
    return { proxy, credentials: { ...withOAuth(server.credentials(USER.name), tokens), port: proxy.port } };
  };
  const authenticateLines = (proxy: FaultProxy): string[] => proxy.wire().commands().filter((c) => c.name === 'AUTHENTICATE').map((c) => c.line.replace(/^\S+ /, ''));

  test('OAUTHBEARER with SASL-IR on both paths; each login introspected; the token never on the recorded wire', async () => {
    const tokens = await tokenSourceFor(oauth, USER.name, 'source');
    const { proxy, credentials } = await through(both, tokens);
    const before = auth.counts.introspections;
    const wire = await openWireSession(credentials);
    assert.ok(wire.ok, wire.ok ? '' : wire.error.message);
    const listed = await wire.value.collect('LIST "" "*"');
    assert.equal(listed.tagged.status, 'OK');
    await wire.value.logout();
    const flow = await connectImap(credentials);
    assert.ok(flow.ok, flow.ok ? '' : flow.error.message);
    assert.equal(flow.value.client.authenticated, true);
    await disconnectImap(flow.value);
    const channel = await openAppendChannel(credentials);
    assert.ok(channel.ok, channel.ok ? '' : channel.error.message);
    await channel.value.close();
    assert.deepEqual(authenticateLines(proxy), ['AUTHENTICATE OAUTHBEARER [redacted]', 'AUTHENTICATE OAUTHBEARER [redacted]', 'AUTHENTICATE OAUTHBEARER [redacted]']);
    assert.equal(auth.counts.introspections - before, 3, 'Dovecot asked the authorization server about every login');
  });

  test('XOAUTH2 when the server offers only that, on both paths', async () => {
    const tokens = await tokenSourceFor(oauth, USER.name, 'source');
    const { proxy, credentials } = await through(xoauth2Only, tokens);
    const wire = await openWireSession(credentials);
    assert.ok(wire.ok, wire.ok ? '' : wire.error.message);
    await wire.value.logout();
    const flow = await connectImap(credentials);
    assert.ok(flow.ok, flow.ok ? '' : flow.error.message);
    await disconnectImap(flow.value);
    assert.deepEqual(authenticateLines(proxy), ['AUTHENTICATE XOAUTH2 [redacted]', 'AUTHENTICATE XOAUTH2 [redacted]']);
  });

  test('without SASL-IR the wire session waits for the server\'s "+" before sending the token', async () => {
    const tokens = await tokenSourceFor(oauth, USER.name, 'source');
    const { proxy, credentials } = await through(noSaslIr, tokens);
    const wire = await openWireSession(credentials);
    assert.ok(wire.ok, wire.ok ? '' : wire.error.message);
    await wire.value.logout();
    assert.deepEqual(authenticateLines(proxy), ['AUTHENTICATE OAUTHBEARER']);
    const continuation = proxy.wire().responses().find((r) => r.tag === '+');
    assert.ok(continuation, 'the server asked for the initial response');
  });

  test('a revoked token: the plain sentence from the server\'s JSON error, "sign in again", on both paths', async () => {
    const token = (await signInAs(oauth, OTHER.name)).accessToken;
    assert.ok((await auth.revokeAccount(OTHER.name)) > 0);
    const tokens = createStaticTokenSource(token, auth.issuer.replace('http://', ''), 'destination');
    const credentials = { ...withOAuth(both.credentials(OTHER.name), tokens) };
    for (const opened of [await openWireSession(credentials), await connectImap(credentials)]) {
      assert.ok(!opened.ok);
      assert.equal(opened.error.kind, 'auth');
      assert.equal(opened.error.needsSignIn, 'destination');
      assert.match(opened.error.message, /^127\.0\.0\.1:\d+ refused the sign-in \(127\.0\.0\.1:\d+\): the token has expired or was revoked — sign in again\.$/);
      assert.ok(!opened.error.message.includes(token) && !JSON.stringify(opened.error).includes(token), 'the token is in no error');
    }
  });

  test('a token for another account is refused', async () => {
    const tokens = await tokenSourceFor(oauth, OTHER.name, 'source');
    const credentials = withOAuth(both.credentials(USER.name), tokens);
    const opened = await openWireSession(credentials);
    assert.ok(!opened.ok);
    assert.equal(opened.error.kind, 'auth');
    assert.match(opened.error.message, /sign in again\.$/);
  });

  test('a token the server refuses is refreshed and tried once more on the same connection', async () => {
    const tokens = await tokenSourceFor(oauth, USER.name, 'source');
    // The access token in hand dies (revoked at the server) while the refresh token lives on.
    const stale = await tokens.accessToken();
    assert.ok(stale.ok);
    const refreshesBefore = auth.counts.refreshToken;
    assert.ok((await auth.revokeAccount(USER.name, { accessTokensOnly: true })) > 0);
    const { proxy, credentials } = await through(both, tokens);
    const wire = await openWireSession(credentials);
    assert.ok(wire.ok, wire.ok ? '' : wire.error.message);
    await wire.value.logout();
    assert.equal(tokens.refreshCount, 1);
    assert.equal(auth.counts.refreshToken - refreshesBefore, 1);
    assert.deepEqual(authenticateLines(proxy), ['AUTHENTICATE OAUTHBEARER [redacted]', 'AUTHENTICATE OAUTHBEARER [redacted]']);
    const next = await tokens.accessToken();
    assert.deepEqual(next.ok && next.value !== stale.value, true);
  });

  test('a server without OAuth2 mechanisms says so plainly', async () => {
    const plainOnly = await startDovecot({ users: [USER] });
    try {
      const tokens = createStaticTokenSource('not-used', 'Example', 'source');
      for (const opened of [await openWireSession(withOAuth(plainOnly.credentials(USER.name), tokens)), await connectImap(withOAuth(plainOnly.credentials(USER.name), tokens))]) {
        assert.ok(!opened.ok);
        assert.equal(opened.error.kind, 'auth');
        assert.match(opened.error.message, /does not accept OAuth2 sign-in/);
      }
    } finally {
      await plainOnly.stop();
    }
  });
});
