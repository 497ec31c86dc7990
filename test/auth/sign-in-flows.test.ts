/**
 * The sign-in flows against the real test authorization server, with Chromium as the person's
 * browser: a tampered `state` or PKCE challenge is refused, the loopback listener answers only
 * the sign-in it started and closes afterwards, the device grant polls at the server's interval
 * and slows down when told, and issuer metadata is looked up as RFC 8414 says, then at
 * ISSUER/.well-known/openid-configuration.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createOAuthClient, type OAuthClient } from '../../src/auth/oauth-client.js';
import { resolveProvider } from '../../src/auth/oauth-provider.js';
import { signInWithBrowser } from '../../src/auth/sign-in-browser.js';
import { signInWithDeviceCode, type DeviceCodePrompt } from '../../src/auth/sign-in-device.js';
import { signInInBrowser, startOAuthServer, type OAuthTestServer } from '../support/oauth-server.js';
import { testOAuthClient } from '../support/oauth-sign-in.js';

/** Signs in with the URL changed on its way to the browser, as a meddling page or proxy would. */
const signInTampered = async (oauth: OAuthClient, tamper: (url: URL) => void) => {
  let finalUrl: Promise<string> | undefined;
  let sentState = '';
  const result = await signInWithBrowser({
    oauth,
    openBrowser: (raw) => {
      const url = new URL(raw);
      sentState = url.searchParams.get('state') ?? '';
      tamper(url);
      finalUrl = signInInBrowser(url.href, 'someone');
      finalUrl.catch(() => undefined);
    },
    timeoutMs: 60_000,
  });
  return { result, finalUrl: await finalUrl, sentState };
};

describe('sign-in flows', { concurrency: false }, () => {
  let auth: OAuthTestServer;
  let oauth: OAuthClient;
  before(async () => {
    auth = await startOAuthServer({ devicePollIntervalS: 1, slowDownPolls: 1 });
    oauth = await testOAuthClient(auth);
  });
  after(async () => auth?.stop());

  test('an answer with another state is refused and signs nothing in', async () => {
    const codesBefore = auth.counts.authorizationCode;
    const { result, finalUrl } = await signInTampered(oauth, (url) => url.searchParams.set('state', 'forged-state-of-another-page'));
    assert.ok(!result.ok);
    assert.equal(result.error.kind, 'auth');
    assert.match(result.error.message, /did not match the request Mailferry made/);
    assert.match(finalUrl ?? '', /state=forged-state-of-another-page/, 'the browser came back with the forged state');
    assert.equal(auth.counts.authorizationCode, codesBefore, 'no code was exchanged');
  });

  test('a code bound to another PKCE challenge is refused by the server at the exchange', async () => {
    const { result } = await signInTampered(oauth, (url) => url.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'));
    assert.ok(!result.ok);
    assert.equal(result.error.kind, 'auth');
    assert.equal(result.error.serverCode, 'invalid_grant');
    assert.match(result.error.message, /sign in again\.$/);
  });

  test('the loopback listener ignores other requests, takes one answer, and is gone afterwards', async () => {
    let redirect = '';
    let strays: number[] = [];
    const result = await signInWithBrowser({
      oauth,
      openBrowser: async (raw) => {
        redirect = new URL(raw).searchParams.get('redirect_uri') ?? '';
        assert.match(redirect, /^http:\/\/127\.0\.0\.1:\d+\/$/);
        // Another page on this computer probing the listener before the real answer.
        strays = await Promise.all([fetch(`${redirect}favicon.ico`), fetch(redirect), fetch(`${redirect}?code=x`, { method: 'POST' })].map((r) => r.then((res) => res.status)));
        void signInInBrowser(raw, 'someone').catch(() => undefined);
      },
    });
    assert.deepEqual(strays, [404, 404, 404]);
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    await assert.rejects(fetch(`${redirect}?state=late&code=late`), 'the listener is closed after the sign-in');
  });

  test('the device grant shows a code, polls at the interval the server asks, and slows down when told', async () => {
    let prompt: DeviceCodePrompt | undefined;
    const pollsBefore = auth.counts.devicePolls.length;
    const result = await signInWithDeviceCode({
      oauth,
      onPrompt: (p) => {
        prompt = p;
        void signInInBrowser(p.verificationUri, 'someone', p.userCode).catch(() => undefined);
      },
    });
    assert.ok(result.ok, result.ok ? '' : result.error.message);
    assert.ok(result.value.refreshToken, 'a refresh token came with it');
    assert.ok(prompt && /^[A-Z]{4}-[A-Z]{4}$/.test(prompt.userCode));
    const polls = auth.counts.devicePolls.slice(pollsBefore);
    assert.ok(polls.length >= 2, `polled ${polls.length} times`);
    const gaps = polls.slice(1).map((t, i) => t - (polls[i] as number));
    // The first poll was told slow_down: the next waits the interval (1 s) plus 5 s.
    assert.ok((gaps[0] as number) >= 5_900, `after slow_down the next poll waited ${gaps[0]} ms`);
    for (const gap of gaps.slice(1)) assert.ok(gap >= 5_900, `later polls keep the slower interval (${gap} ms)`);
  });
});

describe('issuer metadata lookup', () => {
  /** A tiny server that publishes metadata at the given paths only, and records what was asked. */
  const metadataServer = async (paths: (issuer: string) => string[], issuerPath: string) => {
    const asked: string[] = [];
    const server = http.createServer((req, res) => {
      asked.push(req.url ?? '');
      const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}${issuerPath}`;
      if (!paths(issuer).includes(req.url ?? '')) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, device_authorization_endpoint: `${issuer}/device` }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}${issuerPath}`;
    return { issuer, asked, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  };

  test('RFC 8414 first: the well-known part goes before the issuer path', async () => {
    const server = await metadataServer(() => ['/.well-known/oauth-authorization-server/tenant/one'], '/tenant/one');
    try {
      const provider = resolveProvider(server.issuer);
      assert.ok(provider.ok);
      const client = await createOAuthClient(provider.value, { clientId: 'c' });
      assert.ok(client.ok, client.ok ? '' : client.error.message);
      assert.equal(client.value.config.serverMetadata().token_endpoint, `${server.issuer}/token`);
      assert.deepEqual(server.asked, ['/.well-known/oauth-authorization-server/tenant/one']);
    } finally {
      await server.close();
    }
  });

  test('then ISSUER/.well-known/openid-configuration, for issuers that serve it there', async () => {
    const server = await metadataServer(() => ['/realms/mail/.well-known/openid-configuration'], '/realms/mail');
    try {
      const provider = resolveProvider(server.issuer);
      assert.ok(provider.ok);
      const client = await createOAuthClient(provider.value, { clientId: 'c' });
      assert.ok(client.ok, client.ok ? '' : client.error.message);
      assert.deepEqual(server.asked, ['/.well-known/oauth-authorization-server/realms/mail', '/realms/mail/.well-known/openid-configuration']);
    } finally {
      await server.close();
    }
  });

  test('an issuer that publishes nothing: a plain sentence', async () => {
    const server = await metadataServer(() => [], '');
    try {
      const provider = resolveProvider(server.issuer);
      assert.ok(provider.ok);
      const client = await createOAuthClient(provider.value, { clientId: 'c' });
      assert.ok(!client.ok);
      assert.match(client.error.message, /did not answer as an OAuth2 sign-in server should when asked to look up the sign-in server \(HTTP 404\)\./);
    } finally {
      await server.close();
    }
  });
});
