/**
 * OAuth2 for the command line: turns `--from-oauth` / `--to-oauth` (and friends) into a token
 * source for each side. A kept sign-in (`--remember`, in the OS keychain) is used when it still
 * works; otherwise the person signs in, in the browser when there is a display, else with a code
 * on another device (RFC 8628), which is printed on stderr (and, with --json, as an event).
 *
 * Tokens never reach stdout, stderr, the state folder or any event: only the keychain sees the
 * refresh token, and only with --remember.
 */
import { err, migrationError, ok, type Result } from '../contract/result.js';
import type { AccessTokenSource, AccountEndpoint } from '../contract/account.js';
import { createOAuthClient, type OAuthClient, type OAuthClientId } from '../auth/oauth-client.js';
import { resolveProvider, type OAuthProvider } from '../auth/oauth-provider.js';
import { refreshTokenKey, type RefreshTokenStore } from '../auth/refresh-token-store.js';
import { signInWithBrowser } from '../auth/sign-in-browser.js';
import { signInWithDeviceCode, type DeviceCodePrompt } from '../auth/sign-in-device.js';
import { createStaticTokenSource, createTokenProvider, type TokenSet } from '../auth/token-provider.js';
import type { OAuthClientSettings } from '../auth/oauth-settings.js';

export type Side = 'source' | 'destination';

const SIDE_NAME: Record<Side, string> = { source: 'old account (source)', destination: 'new account (destination)' };

/** What the CLI learned from its arguments for one side. */
export interface SideSignIn {
  side: Side;
  endpoint: AccountEndpoint;
  /** `google`, `microsoft` or an issuer URL; absent with only a ready token. */
  provider?: string;
  clientId?: string;
  /** A ready access token from the environment (no refresh). */
  readyToken?: string;
}

export interface SignInEnvironment {
  env: Record<string, string | undefined>;
  /** Client IDs and secrets from the settings file, by provider. */
  settings: OAuthClientSettings;
  /** Use the device grant even with a display. */
  isDeviceCode: boolean;
  /** Keep the refresh token in the keychain. */
  isRemember: boolean;
  keychain?: RefreshTokenStore;
  /** Opens the system browser; absent when there is none. */
  openBrowser?(url: string): Promise<void>;
  stderr(text: string): void;
  /** `--json`: also tells the sign-in prompt as an event. */
  emitEvent?(event: Record<string, unknown>): void;
  signal?: AbortSignal;
  /**
   * False where nobody is there to sign in (a batch): only a kept sign-in or a ready token is
   * used, and its absence is an error at once instead of a prompt that would wait for ever.
   */
  isInteractive?: boolean;
}

/** True when there is a display to open a browser on (always on macOS and Windows). */
export const hasDisplay = (env: Record<string, string | undefined>, platform: NodeJS.Platform = process.platform): boolean =>
  platform === 'darwin' || platform === 'win32' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);

const providerKeyOf = (provider: OAuthProvider): string => (provider.server.kind === 'issuer' ? provider.server.issuer.href : provider.id);

const providerOf = (name: string, environment: Pick<SignInEnvironment, 'env' | 'settings'>): Result<OAuthProvider> =>
  resolveProvider(name, { tenant: environment.env.MAILFERRY_OAUTH_TENANT ?? environment.settings.microsoft?.tenant, scope: environment.env.MAILFERRY_OAUTH_SCOPE });

/** Where `--remember` keeps this side's sign-in in the keychain. */
const keptSignInKey = (sign: SideSignIn, provider: OAuthProvider, clientId: OAuthClientId): string =>
  refreshTokenKey({ provider: providerKeyOf(provider), clientId: clientId.clientId, user: sign.endpoint.user, host: sign.endpoint.host });

/** The app's registration for this provider: the option, then MAILFERRY_OAUTH_CLIENT_ID, then the settings file. */
const clientIdFor = (sign: SideSignIn, provider: OAuthProvider, environment: Pick<SignInEnvironment, 'env' | 'settings'>): Result<OAuthClientId> => {
  const fromSettings = environment.settings[providerKeyOf(provider)] ?? environment.settings[provider.id];
  const clientId = sign.clientId ?? environment.env.MAILFERRY_OAUTH_CLIENT_ID ?? fromSettings?.clientId;
  if (!clientId) {
    const flag = sign.side === 'source' ? '--from-client-id' : '--to-client-id';
    return err(migrationError('bad-input', `No client ID for signing in at ${provider.name}: pass ${flag} ID or set MAILFERRY_OAUTH_CLIENT_ID (the README says how to register one).`));
  }
  const clientSecret = environment.env.MAILFERRY_OAUTH_CLIENT_SECRET ?? fromSettings?.clientSecret;
  return ok({ clientId, ...(clientSecret ? { clientSecret } : {}) });
};

/** Signs in interactively: the browser with a display, else a code for another device. */
const signInInteractively = async (oauth: OAuthClient, sign: SideSignIn, environment: SignInEnvironment): Promise<Result<TokenSet>> => {
  const who = `${SIDE_NAME[sign.side]}, ${sign.endpoint.user}`;
  if (environment.isDeviceCode || !environment.openBrowser || !hasDisplay(environment.env)) {
    return signInWithDeviceCode({
      oauth,
      signal: environment.signal,
      onPrompt: (prompt: DeviceCodePrompt) => {
        environment.stderr(`To sign in to the ${who} at ${oauth.provider.name}, open ${prompt.verificationUri} on any device and enter the code ${prompt.userCode}\n`);
        environment.emitEvent?.({ type: 'sign-in', account: sign.side, verificationUri: prompt.verificationUri, userCode: prompt.userCode });
      },
    });
  }
  const openBrowser = environment.openBrowser;
  return signInWithBrowser({
    oauth,
    signal: environment.signal,
    loginHint: sign.endpoint.user.includes('@') ? sign.endpoint.user : undefined,
    openBrowser: async (url) => {
      environment.stderr(`Opening your web browser to sign in to the ${who} at ${oauth.provider.name}. If it does not open, visit:\n  ${url}\n`);
      await openBrowser(url);
    },
  });
};

/** Where a side signs in has no kept sign-in, and nobody is there to sign in. */
const noKeptSignIn = (sign: SideSignIn, providerName: string) =>
  migrationError(
    'bad-input',
    `No sign-in at ${providerName} is kept on this computer for ${sign.endpoint.user} (${SIDE_NAME[sign.side]}), and a batch cannot ask for one: sign in once with "mailferry copy … --${sign.side === 'source' ? 'from' : 'to'}-oauth … --remember", or give a ready access token (${sign.side === 'source' ? 'from' : 'to'}_token_env).`,
    { needsSignIn: sign.side },
  );

/**
 * Whether a kept sign-in (`--remember`) exists for this side, without using it: what a batch
 * checks before it starts. An error when the provider or its client ID cannot be resolved.
 */
export const hasKeptSignIn = async (sign: SideSignIn, environment: Pick<SignInEnvironment, 'env' | 'settings' | 'keychain'>): Promise<Result<boolean>> => {
  if (sign.provider === undefined) return ok(false);
  const provider = providerOf(sign.provider, environment);
  if (!provider.ok) return provider;
  const clientId = clientIdFor(sign, provider.value, environment);
  if (!clientId.ok) return clientId;
  if (!environment.keychain) return ok(false);
  const kept = await environment.keychain.load(keptSignInKey(sign, provider.value, clientId.value));
  if (!kept.ok) return kept;
  return ok(kept.value !== undefined);
};

/**
 * A token source for one side: a ready token, or a sign-in (kept, or new). Errors are
 * MigrationErrors; a refused sign-in says "sign in again".
 */
export const signInSide = async (sign: SideSignIn, environment: SignInEnvironment): Promise<Result<AccessTokenSource>> => {
  if (sign.readyToken !== undefined && sign.provider === undefined) {
    return ok(createStaticTokenSource(sign.readyToken, 'The mail server', sign.side));
  }
  if (sign.provider === undefined) return err(migrationError('bad-input', 'No sign-in provider was given.'));
  const provider = providerOf(sign.provider, environment);
  if (!provider.ok) return provider;
  if (sign.readyToken !== undefined) return ok(createStaticTokenSource(sign.readyToken, provider.value.name, sign.side));
  const clientId = clientIdFor(sign, provider.value, environment);
  if (!clientId.ok) return clientId;
  const oauth = await createOAuthClient(provider.value, clientId.value);
  if (!oauth.ok) return oauth;

  const keychain = environment.isRemember ? environment.keychain : undefined;
  const key = keptSignInKey(sign, provider.value, clientId.value);
  const keep = async (refreshToken: string): Promise<void> => {
    const saved = await keychain?.save(key, refreshToken);
    if (saved && !saved.ok) environment.stderr(`mailferry: ${saved.error.message} The sign-in is not kept; you will be asked to sign in next time.\n`);
  };
  const sourceFrom = (initial: TokenSet): AccessTokenSource => createTokenProvider({ oauth: oauth.value, account: sign.side, initial, onRefreshToken: keychain ? keep : undefined });

  if (keychain) {
    const kept = await keychain.load(key);
    if (!kept.ok) environment.stderr(`mailferry: ${kept.error.message}\n`);
    else if (kept.value !== undefined) {
      // A kept sign-in is checked at once: a refused one is forgotten and the person signs in anew.
      const tokens = sourceFrom({ accessToken: '', expiresAt: 0, refreshToken: kept.value });
      const first = await tokens.accessToken();
      if (first.ok) return ok(tokens);
      if (!first.error.needsSignIn) return first;
      await keychain.remove(key);
      environment.stderr(`The kept sign-in of the ${SIDE_NAME[sign.side]} no longer works (${first.error.message})${environment.isInteractive === false ? '' : ' Signing in anew.'}\n`);
    }
  }
  if (environment.isInteractive === false) return err(noKeptSignIn(sign, provider.value.name));
  const tokens = await signInInteractively(oauth.value, sign, environment);
  if (!tokens.ok) return tokens;
  if (tokens.value.refreshToken) await keep(tokens.value.refreshToken);
  return ok(sourceFrom(tokens.value));
};
