/**
 * Sign-in in the system browser as RFC 8252 asks of native apps: the authorization page opens in
 * the person's own browser (never a window of ours), the answer comes back to a loopback listener
 * on `http://127.0.0.1:<random port>/`, bound to this computer only, and the code is exchanged
 * with PKCE (S256). openid-client builds the request and checks the answer.
 *
 * Invariants:
 * - The listener accepts exactly one answer: the first request that carries `code`, `error` or
 *   `state`. An answer whose `state` is not the one we sent is refused (and ends the sign-in), so
 *   another page on this computer cannot slip its own code in.
 * - The listener is closed when the sign-in ends, however it ends (answer, timeout, abort).
 * - The browser tab learns only whether it worked; tokens never reach it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import type { OAuthClient } from './oauth-client.js';
import { oauthFailure } from './oauth-failure.js';
import { tokenSetOf, type TokenSet } from './token-provider.js';

/** How long the person has to finish signing in before the listener gives up. */
export const BROWSER_SIGN_IN_TIMEOUT_MS = 10 * 60_000;
/** How long the listener waits for the browser to take its last page before closing anyway. */
const LISTENER_CLOSE_GRACE_MS = 2_000;

export interface BrowserSignInOptions {
  oauth: OAuthClient;
  /** Opens the URL in the system browser (`shell.openExternal` in the app). */
  openBrowser(url: string): Promise<void> | void;
  /** The address the person signs in as, so the provider can preselect it. */
  loginHint?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  now?: () => number;
}

const page = (title: string, text: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
  '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32em;margin:4em auto;padding:0 1em;color:#1d2733}h1{font-size:1.3em}</style>' +
  `</head><body><h1>${title}</h1><p>${text}</p></body></html>`;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const answer = (res: http.ServerResponse, status: number, title: string, text: string): void => {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  });
  res.end(page(escapeHtml(title), escapeHtml(text)));
};

/** Signs in through the system browser; resolves with the tokens, or why not. */
export const signInWithBrowser = async (options: BrowserSignInOptions): Promise<Result<TokenSet>> => {
  const { oauth } = options;
  const name = oauth.provider.name;
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const state = client.randomState();

  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const redirectUri = `http://127.0.0.1:${port}/`;

  let settle: (result: Result<TokenSet>) => void = () => undefined;
  const done = new Promise<Result<TokenSet>>((resolve) => {
    settle = resolve;
  });
  let isAnswered = false;
  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', redirectUri);
    const params = url.searchParams;
    // Browsers also ask for /favicon.ico and the like: only the answer to our request counts.
    if (req.method !== 'GET' || url.pathname !== '/' || !(params.has('state') || params.has('code') || params.has('error'))) {
      res.writeHead(404).end();
      return;
    }
    if (isAnswered) {
      answer(res, 409, 'Already answered', 'Mailferry has already received an answer for this sign-in. You can close this tab.');
      return;
    }
    isAnswered = true;
    if (params.get('state') !== state) {
      answer(res, 400, 'Sign-in refused', 'This answer does not belong to the sign-in Mailferry started, so it was refused. Nothing was signed in.');
      settle(err(migrationError('auth', `The answer from the ${name} sign-in page did not match the request Mailferry made, so it was refused. Sign in again.`)));
      return;
    }
    void client
      .authorizationCodeGrant(oauth.config, url, { pkceCodeVerifier: verifier, expectedState: state })
      .then(
        (response) => {
          answer(res, 200, `Signed in to ${name}`, 'Mailferry is signed in. You can close this tab and go back to Mailferry.');
          settle(ok(tokenSetOf(response, (options.now ?? Date.now)())));
        },
        (e: unknown) => {
          const failure = oauthFailure(e, name, 'finish the sign-in');
          answer(res, 400, 'Sign-in did not work', `${failure.message} You can close this tab.`);
          settle(err(failure));
        },
      );
  });

  const timeoutMs = options.timeoutMs ?? BROWSER_SIGN_IN_TIMEOUT_MS;
  const timer = setTimeout(() => settle(err(migrationError('timeout', `The sign-in at ${name} was not finished within ${Math.round(timeoutMs / 60_000)} minutes. Sign in again.`, { retryable: true }))), timeoutMs);
  const onAbort = (): void => settle(err(migrationError('cancelled', 'The sign-in was stopped.')));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    const authorizationUrl = client.buildAuthorizationUrl(oauth.config, {
      redirect_uri: redirectUri,
      scope: oauth.provider.scope,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      ...oauth.provider.authorizationParams,
      ...(options.loginHint ? { login_hint: options.loginHint } : {}),
    });
    try {
      await options.openBrowser(authorizationUrl.href);
    } catch (e) {
      settle(err(migrationError('internal', `Could not open the web browser for the ${name} sign-in: ${e instanceof Error ? e.message : String(e)}`)));
    }
    return await done;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    // Idle connections go now; one still sending its page gets a moment to finish it.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), LISTENER_CLOSE_GRACE_MS);
    await closed;
    clearTimeout(force);
  }
};
