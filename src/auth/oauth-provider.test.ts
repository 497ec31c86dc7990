import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GOOGLE_SCOPE, isLoopbackHost, MICROSOFT_SCOPE, resolveProvider } from './oauth-provider.js';

test('Google and Microsoft come with their endpoints and IMAP scopes; Microsoft defaults to the common tenant', () => {
  const google = resolveProvider('google');
  assert.ok(google.ok && google.value.server.kind === 'static');
  assert.equal(google.value.scope, GOOGLE_SCOPE);
  assert.equal(google.value.server.endpoints.token_endpoint, 'https://oauth2.googleapis.com/token');
  const microsoft = resolveProvider('microsoft');
  assert.ok(microsoft.ok && microsoft.value.server.kind === 'static');
  assert.equal(microsoft.value.scope, MICROSOFT_SCOPE);
  assert.equal(microsoft.value.server.endpoints.authorization_endpoint, 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize');
  const tenant = resolveProvider('microsoft', { tenant: 'contoso.onmicrosoft.com' });
  assert.ok(tenant.ok && tenant.value.server.kind === 'static');
  assert.equal(tenant.value.server.endpoints.token_endpoint, 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token');
  assert.ok(!resolveProvider('microsoft', { tenant: '../evil' }).ok);
});

test('an issuer must be https, or plain http on a loopback address only', () => {
  assert.ok(resolveProvider('https://login.example.org/realms/mail').ok);
  for (const loopback of ['http://127.0.0.1:8080', 'http://localhost:9000/x', 'http://[::1]:9000']) assert.ok(resolveProvider(loopback).ok, loopback);
  for (const refused of ['http://login.example.org', 'http://10.0.0.5', 'ftp://127.0.0.1', 'https://user:pw@login.example.org', 'not a url']) {
    const result = resolveProvider(refused);
    assert.ok(!result.ok, refused);
    assert.equal(result.error.kind, 'bad-input');
  }
  assert.ok(isLoopbackHost('127.1.2.3') && isLoopbackHost('[::1]') && !isLoopbackHost('128.0.0.1') && !isLoopbackHost('localhost.example.org'));
});

test('an issuer asks for a refresh token with prompt=consent (OpenID Connect grants offline_access only then)', () => {
  const issuer = resolveProvider('https://login.example.org');
  assert.ok(issuer.ok);
  assert.equal(issuer.value.name, 'login.example.org');
  assert.deepEqual(issuer.value.authorizationParams, { prompt: 'consent' });
  const noRefresh = resolveProvider('https://login.example.org', { scope: 'openid mail' });
  assert.ok(noRefresh.ok);
  assert.deepEqual(noRefresh.value.authorizationParams, {});
});
