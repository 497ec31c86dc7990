/**
 * Signing in for tests the way a person does: Mailferry's own browser sign-in (loopback listener,
 * PKCE, state) against the test authorization server, with headless Chromium as the person's
 * browser. Gives tokens and ready token sources for the engine.
 */
import type { AccountCredentials, OAuthCredentials } from '../../src/contract/account.js';
import { createOAuthClient, type OAuthClient } from '../../src/auth/oauth-client.js';
import { resolveProvider } from '../../src/auth/oauth-provider.js';
import { signInWithBrowser } from '../../src/auth/sign-in-browser.js';
import { createTokenProvider, type RefreshingTokenSource, type TokenProviderOptions, type TokenSet } from '../../src/auth/token-provider.js';
import { signInInBrowser, TEST_CLIENT_ID, type OAuthTestServer } from './oauth-server.js';

/** The client for the test server, as the CLI and the app build it. */
export const testOAuthClient = async (server: OAuthTestServer): Promise<OAuthClient> => {
  const provider = resolveProvider(server.issuer);
  if (!provider.ok) throw new Error(provider.error.message);
  const oauth = await createOAuthClient(provider.value, { clientId: TEST_CLIENT_ID });
  if (!oauth.ok) throw new Error(oauth.error.message);
  return oauth.value;
};

/** Signs in as `accountId` through the system-browser flow, Chromium playing the person. */
export const signInAs = async (oauth: OAuthClient, accountId: string): Promise<TokenSet> => {
  let browserDone: Promise<string> | undefined;
  const tokens = await signInWithBrowser({
    oauth,
    openBrowser: (url) => {
      browserDone = signInInBrowser(url, accountId);
      browserDone.catch(() => undefined);
    },
  });
  await browserDone;
  if (!tokens.ok) throw new Error(`sign-in failed: ${tokens.error.message}`);
  return tokens.value;
};

/** A refreshing token source for `accountId`, signed in just now. */
export const tokenSourceFor = async (
  oauth: OAuthClient,
  accountId: string,
  account: 'source' | 'destination',
  extra: Partial<TokenProviderOptions> = {},
): Promise<RefreshingTokenSource> => createTokenProvider({ oauth, account, initial: await signInAs(oauth, accountId), ...extra });

/** Password credentials turned into OAuth2 ones (same server, same user). */
export const withOAuth = (credentials: AccountCredentials, oauth: OAuthCredentials['oauth']): OAuthCredentials => {
  const { password: _password, ...endpoint } = credentials;
  return { ...endpoint, oauth };
};
