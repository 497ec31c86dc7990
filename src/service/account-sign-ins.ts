/**
 * The app's OAuth2 sign-ins, one per account role: signing in through the system browser,
 * keeping the refresh token in the encrypted vault, handing out token sources to every
 * connection, and signing out.
 *
 * Invariants:
 * - Access tokens live only in the token sources in this object's memory; refresh tokens there
 *   and, encrypted, in the vault (rotated ones replace the old at once). Nothing here returns a
 *   token to a caller outside the engine.
 * - A role has at most one live token source; signing in again replaces it, so a paused move
 *   resumed afterwards connects with the new sign-in.
 */
import type { AccessTokenSource } from '../contract/account.js';
import type { AccountRole, SavedAccount, SignInSettings } from '../contract/ipc.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import * as client from 'openid-client';
import { createOAuthClient, type OAuthClient } from '../auth/oauth-client.js';
import { resolveProvider } from '../auth/oauth-provider.js';
import { signInWithBrowser } from '../auth/sign-in-browser.js';
import { createTokenProvider, type RefreshingTokenSource, type TokenSet } from '../auth/token-provider.js';

/** Encrypted storage of one secret per role (safeStorage in the app). */
export interface RoleVault {
  save(role: AccountRole, secret: string): void | Promise<void>;
  load(role: AccountRole): string | undefined | Promise<string | undefined>;
  remove(role: AccountRole): void | Promise<void>;
  /** Why nothing can be kept on this computer (then `save` keeps nothing), as a sentence; undefined when it can. */
  refusal?(): string | undefined;
}

/** Client registrations to fall back on: MAILFERRY_OAUTH_CLIENT_ID, oauth-clients.json. */
export type SignInDefaults = (providerKey: string) => { clientId?: string; clientSecret?: string; tenant?: string } | undefined;

export interface SignInDeps {
  /** Where refresh tokens are kept, encrypted. */
  vault: RoleVault;
  /** Opens the system browser (Electron's shell.openExternal). */
  openExternal?(url: string): Promise<void>;
  defaults?: SignInDefaults;
  /** A sign-in waits this long for the browser (default: the sign-in's own). */
  signInTimeoutMs?: number;
}

export interface AccountSignIns {
  /** How the account is described to the renderer. */
  describe(role: AccountRole, settings: SignInSettings): Promise<NonNullable<SavedAccount['signIn']>>;
  /** A token source for the account: the live one, or one from the kept refresh token. */
  tokenSource(role: AccountRole, settings: SignInSettings, user: string): Promise<Result<AccessTokenSource>>;
  signIn(role: AccountRole, settings: SignInSettings, email: string): Promise<Result<void>>;
  signOut(role: AccountRole, settings: SignInSettings | undefined): Promise<void>;
}

const providerNameOf = (settings: SignInSettings): string => {
  const provider = resolveProvider(settings.provider, { tenant: settings.tenant });
  return provider.ok ? provider.value.name : settings.provider;
};

const ROLE_NAME: Record<AccountRole, string> = { source: 'old', destination: 'new' };

/** The sign-ins of the app's two accounts; see the file header for where tokens live. */
export const createAccountSignIns = (deps: SignInDeps): AccountSignIns => {
  const live = new Map<AccountRole, RefreshingTokenSource>();

  const clientFor = async (settings: SignInSettings): Promise<Result<OAuthClient>> => {
    const fallback = deps.defaults?.(settings.provider);
    const provider = resolveProvider(settings.provider, { tenant: settings.tenant || fallback?.tenant });
    if (!provider.ok) return provider;
    const clientId = settings.clientId || fallback?.clientId;
    if (!clientId) {
      return err(migrationError('bad-input', `Signing in at ${provider.value.name} needs the client ID of a registration for Mailferry: enter it under Sign-in settings (the README says how to register one).`));
    }
    return createOAuthClient(provider.value, { clientId, ...(fallback?.clientSecret ? { clientSecret: fallback.clientSecret } : {}) });
  };

  const sourceFrom = (role: AccountRole, oauth: OAuthClient, initial: TokenSet): RefreshingTokenSource => {
    const tokens = createTokenProvider({
      oauth,
      account: role,
      initial,
      // The rotated token replaces the kept one at once: the old one no longer works.
      onRefreshToken: (refreshToken) => deps.vault.save(role, refreshToken),
    });
    live.set(role, tokens);
    return tokens;
  };

  return {
    async describe(role, settings) {
      const isSignedIn = live.has(role) || (await deps.vault.load(role)) !== undefined;
      return { ...settings, providerName: providerNameOf(settings), isSignedIn };
    },
    async tokenSource(role, settings) {
      const current = live.get(role);
      if (current) return ok(current);
      const kept = await deps.vault.load(role);
      if (kept === undefined) {
        return err(migrationError('auth', `Sign in to the ${ROLE_NAME[role]} account at ${providerNameOf(settings)} first.`, { needsSignIn: role }));
      }
      const oauth = await clientFor(settings);
      if (!oauth.ok) return oauth;
      // Refreshed at the first connection: the kept sign-in is checked there.
      return ok(sourceFrom(role, oauth.value, { accessToken: '', expiresAt: 0, refreshToken: kept }));
    },
    async signIn(role, settings, email) {
      if (!deps.openExternal) return err(migrationError('bad-input', 'Signing in needs a web browser, which is not available here.'));
      const oauth = await clientFor(settings);
      if (!oauth.ok) return oauth;
      const tokens = await signInWithBrowser({ oauth: oauth.value, openBrowser: deps.openExternal, loginHint: email.includes('@') ? email : undefined, timeoutMs: deps.signInTimeoutMs });
      if (!tokens.ok) return tokens;
      if (tokens.value.refreshToken) await deps.vault.save(role, tokens.value.refreshToken);
      else await deps.vault.remove(role);
      sourceFrom(role, oauth.value, tokens.value);
      return ok(undefined);
    },
    async signOut(role, settings) {
      const refreshToken = live.get(role)?.currentRefreshToken() ?? (await deps.vault.load(role));
      live.delete(role);
      await deps.vault.remove(role);
      if (!settings || !refreshToken) return;
      // Revoked at the provider where it offers that (Google does; Microsoft has no endpoint): best effort.
      const oauth = await clientFor(settings);
      if (oauth.ok && oauth.value.config.serverMetadata().revocation_endpoint) {
        await client.tokenRevocation(oauth.value.config, refreshToken, { token_type_hint: 'refresh_token' }).catch(() => undefined);
      }
    },
  };
};
