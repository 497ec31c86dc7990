/**
 * A real OAuth2 / OpenID Connect authorization server for tests (oidc-provider), on 127.0.0.1 and
 * a free port, with short token lifetimes: authorization code with PKCE (S256), refresh tokens
 * (rotated on every use, as for public clients), the device authorization grant, introspection
 * (for Dovecot's oauth2 passdb) and revocation. Its login page is oidc-provider's development
 * page: any account name signs in, so a test "is" whichever IMAP user it types.
 *
 * The server records every token it issues, so a test can look for them (and their base64) where
 * they must never be, and can revoke everything an account holds, as a person does who removes
 * the app's access at their provider.
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

/** The public (native) client Mailferry signs in as. */
export const TEST_CLIENT_ID = 'mailferry-test';
/** Dovecot's client for introspection (client_secret_basic). */
export const DOVECOT_CLIENT = { id: 'dovecot', secret: 'dovecot-introspection-secret' };
const CHROMIUM = process.env.MAILFERRY_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** How long the browser gets for one page of the sign-in. */
const PAGE_TIMEOUT_MS = 20_000;

export interface OAuthServerOptions {
  /** Access token lifetime in seconds (default 600). */
  accessTokenTtlS?: number;
  /** Refresh token lifetime in seconds (default 1 day). */
  refreshTokenTtlS?: number;
  /** Seconds between device-code polls the server asks for (default 1; oidc-provider sends none, meaning 5). */
  devicePollIntervalS?: number;
  /** Answer this many device-code polls with `slow_down` (RFC 8628 §3.5) before handling them. */
  slowDownPolls?: number;
}

/** What happened at the token endpoint and the introspection endpoint, counted. */
export interface OAuthServerCounts {
  authorizationCode: number;
  refreshToken: number;
  deviceCode: number;
  introspections: number;
  /** Introspections answered `active: false`. */
  inactive: number;
  /** The tokens those were about, each once (several connections may present one token). */
  inactiveTokens: Set<string>;
  /** Epoch ms of every device-code poll at the token endpoint. */
  devicePolls: number[];
}

export interface OAuthTestServer {
  /** `http://127.0.0.1:PORT` (no trailing slash), the issuer identifier. */
  readonly issuer: string;
  /** The introspection endpoint with Dovecot's client credentials in it, for dovecot-oauth2.conf.ext. */
  readonly introspectionUrlWithCredentials: string;
  readonly counts: OAuthServerCounts;
  /** Every access and refresh token issued so far (values). */
  issuedTokens(): string[];
  /**
   * Revokes every access and refresh token of this account (the person removed the app's access),
   * or with `accessTokensOnly` just its access tokens (the refresh token keeps working).
   */
  revokeAccount(accountId: string, options?: { accessTokensOnly?: boolean }): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the server; stop it with `stop()`. */
/** A request's body as text (read here, so the middleware can look at it before oidc-provider). */
const requestBody = (req: http.IncomingMessage): Promise<string> =>
  new Promise<string>((resolve) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => resolve(text));
  });

export const startOAuthServer = async (options: OAuthServerOptions = {}): Promise<OAuthTestServer> => {
  const httpServer = http.createServer();
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
  const port = (httpServer.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' };
  const counts: OAuthServerCounts = { authorizationCode: 0, refreshToken: 0, deviceCode: 0, introspections: 0, inactive: 0, inactiveTokens: new Set(), devicePolls: [] };
  let slowDowns = options.slowDownPolls ?? 0;
  const tokens = new Map<string, { kind: string; accountId?: string; destroy(): Promise<void> }>();

  const configuration: Configuration = {
    clients: [
      {
        client_id: TEST_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        // Native loopback redirects match on any port (RFC 8252 §7.3).
        redirect_uris: ['http://127.0.0.1/'],
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
      },
      { client_id: DOVECOT_CLIENT.id, client_secret: DOVECOT_CLIENT.secret, token_endpoint_auth_method: 'client_secret_basic', grant_types: [], response_types: [], redirect_uris: [] },
    ],
    jwks: { keys: [jwk as never] },
    cookies: { keys: ['mailferry-test-cookie-key'] },
    scopes: ['openid', 'offline_access', 'email'],
    claims: { email: ['email'] },
    ttl: {
      AccessToken: options.accessTokenTtlS ?? 600,
      RefreshToken: options.refreshTokenTtlS ?? 86_400,
      AuthorizationCode: 60,
      DeviceCode: 600,
      Grant: 86_400,
      Interaction: 600,
      Session: 86_400,
      IdToken: 600,
    },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    pkce: { required: () => true },
    // Every use of a refresh token gives a new one: a client that reused an old one would be caught.
    rotateRefreshToken: true,
    async findAccount(_ctx: KoaContextWithOIDC, sub: string) {
      return { accountId: sub, claims: async () => ({ sub, email: sub }) };
    },
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      // Consent once per client and account: later sign-ins (and device codes) go straight through.
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
  };
  const provider = new Provider(issuer, configuration);
  provider.proxy = false;
  const record = (token: { jti: string; kind: string; accountId?: string; destroy(): Promise<void> }): void => {
    tokens.set(token.jti, token);
  };
  provider.on('access_token.saved', record);
  provider.on('refresh_token.saved', record);
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = String(ctx.oidc.params?.grant_type ?? '');
    if (grantType === 'authorization_code') counts.authorizationCode++;
    else if (grantType === 'refresh_token') counts.refreshToken++;
    else if (grantType.endsWith('device_code')) counts.deviceCode++;
  });
  provider.on('introspection.error', () => undefined);
  // Count introspections and their answers at the HTTP level (oidc-provider emits no event for
  // them); give device codes a poll interval and, when asked, tell pollers to slow down.
  provider.use(async (ctx, next) => {
    let introspected: string | undefined;
    if (ctx.method === 'POST' && ctx.path === '/token/introspection') {
      const body = await requestBody(ctx.req);
      (ctx.req as unknown as { body?: string }).body = body;
      introspected = new URLSearchParams(body).get('token') ?? undefined;
    }
    if (ctx.method === 'POST' && ctx.path === '/token') {
      const body = await requestBody(ctx.req);
      // oidc-provider reads the body itself: hand it the bytes again.
      (ctx.req as unknown as { body?: string }).body = body;
      const isDevicePoll = new URLSearchParams(body).get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code';
      if (isDevicePoll) {
        counts.devicePolls.push(Date.now());
        if (slowDowns > 0) {
          slowDowns--;
          ctx.status = 400;
          ctx.body = { error: 'slow_down', error_description: 'polling too fast' };
          return;
        }
      }
    }
    await next();
    if (ctx.path === '/device/auth' && ctx.status === 200) (ctx.body as Record<string, unknown>).interval = options.devicePollIntervalS ?? 1;
    if (ctx.path === '/token/introspection' && ctx.status === 200) {
      counts.introspections++;
      if ((ctx.body as { active?: unknown } | undefined)?.active === false) {
        counts.inactive++;
        if (introspected !== undefined) counts.inactiveTokens.add(introspected);
      }
    }
  });
  const callback = provider.callback();
  httpServer.on('request', (req, res) => {
    void callback(req, res);
  });

  return {
    issuer,
    introspectionUrlWithCredentials: `http://${DOVECOT_CLIENT.id}:${DOVECOT_CLIENT.secret}@127.0.0.1:${port}/token/introspection`,
    counts,
    issuedTokens: () => [...tokens.keys()],
    async revokeAccount(accountId, revokeOptions) {
      let n = 0;
      for (const token of tokens.values()) {
        if (token.accountId !== accountId || (revokeOptions?.accessTokensOnly && token.kind !== 'AccessToken')) continue;
        await token.destroy();
        n++;
      }
      return n;
    },
    async stop() {
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
};

/**
 * Does what a person does in a browser: opens `url` (an authorization request or a device
 * verification page) in headless Chromium, types the user code if asked, signs in as `accountId`
 * on the development login page, and agrees to what the app asks for. Resolves with the last
 * page's URL once the browser has left the sign-in pages (e.g. reached the app's loopback page).
 */
export const signInInBrowser = async (url: string, accountId: string, userCode?: string): Promise<string> => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    await page.goto(url);
    const origin = new URL(url).origin;
    // Bounded: a user-code page, a login, a consent, a confirmation, at most a few of each.
    for (let step = 0; step < 8; step++) {
      if (new URL(page.url()).origin !== origin) break;
      if (await page.locator('input[name="user_code"]:not([type="hidden"])').count()) {
        if (!userCode) throw new Error('the page asks for a user code but none was given');
        await page.fill('input[name="user_code"]', userCode);
        await Promise.all([page.waitForLoadState(), page.locator('button[type="submit"], input[type="submit"]').first().click()]);
      } else if (await page.locator('input[name="login"]').count()) {
        await page.fill('input[name="login"]', accountId);
        if (await page.locator('input[name="password"]').count()) await page.fill('input[name="password"]', 'any');
        await Promise.all([page.waitForLoadState(), page.locator('button[type="submit"]').first().click()]);
      } else if (await page.locator('button[type="submit"]').count()) {
        // Consent ("Continue") or the device confirmation ("Continue").
        await Promise.all([page.waitForLoadState(), page.locator('button[type="submit"]').first().click()]);
      } else break;
      await page.waitForLoadState('load');
    }
    return page.url();
  } finally {
    await browser.close();
  }
};
