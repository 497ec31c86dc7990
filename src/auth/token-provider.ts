/**
 * Access tokens for every (re)connect of a long move. Each connection asks `accessToken()`; the
 * provider hands out the token it holds while enough of its lifetime is left, and otherwise
 * refreshes it first, so a move of many hours survives short token lifetimes and reconnects.
 *
 * Invariants:
 * - Tokens live in this object's memory only. A rotated refresh token is handed to
 *   `onRefreshToken` (which may keep it in an encrypted vault or the OS keychain), nowhere else.
 * - A token is refreshed when less than a fifth of its lifetime, and at most 5 minutes, is left.
 * - At most one refresh runs at a time: connections opened together share it (a server that
 *   rotates refresh tokens would treat a second use of the old one as a replay and revoke it).
 * - A refresh the server refuses (revoked, expired) is final: every later call gets the same
 *   "sign in again" error without asking the server again, until the person signs in again.
 */
import * as client from 'openid-client';
import type { AccessTokenSource } from '../contract/account.js';
import { err, migrationError, ok, type MigrationError, type Result } from '../contract/result.js';
import type { OAuthClient } from './oauth-client.js';
import { oauthFailure } from './oauth-failure.js';

/** Refresh when less than this share of a token's lifetime is left... */
const REFRESH_WHEN_LEFT_FRACTION = 1 / 5;
/** ...but never wait for less than this to be left. */
const REFRESH_WHEN_LEFT_MAX_MS = 5 * 60_000;

/** What a sign-in or refresh gave. */
export interface TokenSet {
  accessToken: string;
  /** Epoch ms when the access token expires; absent when the server did not say. */
  expiresAt?: number;
  /** Its lifetime when issued (for the refresh margin). */
  lifetimeMs?: number;
  refreshToken?: string;
}

/** A TokenSet from a token endpoint answer, timed by `now`. */
export const tokenSetOf = (response: client.TokenEndpointResponse, now: number, previousRefreshToken?: string): TokenSet => {
  const lifetimeMs = typeof response.expires_in === 'number' && response.expires_in > 0 ? response.expires_in * 1000 : undefined;
  return {
    accessToken: response.access_token,
    ...(lifetimeMs !== undefined ? { expiresAt: now + lifetimeMs, lifetimeMs } : {}),
    // A server that does not rotate sends no new refresh token: the old one stays good.
    ...((response.refresh_token ?? previousRefreshToken) !== undefined ? { refreshToken: response.refresh_token ?? previousRefreshToken } : {}),
  };
};

/** True when the token should be refreshed before it is used. */
export const needsRefresh = (tokens: TokenSet, now: number): boolean => {
  if (tokens.expiresAt === undefined) return false;
  const margin = Math.min((tokens.lifetimeMs ?? REFRESH_WHEN_LEFT_MAX_MS) * REFRESH_WHEN_LEFT_FRACTION, REFRESH_WHEN_LEFT_MAX_MS);
  return tokens.expiresAt - now <= margin;
};

export interface TokenProviderOptions {
  oauth: OAuthClient;
  account: 'source' | 'destination';
  initial: TokenSet;
  /** A new refresh token the server rotated to; the old one no longer works. */
  onRefreshToken?(refreshToken: string): void | Promise<void>;
  /** Told of every refresh (for logs and tests; never given a token). */
  onRefresh?(info: { expiresAt?: number }): void;
  now?: () => number;
}

/** A token source that refreshes by itself; see the file header for its rules. */
export interface RefreshingTokenSource extends AccessTokenSource {
  /** How many times it refreshed so far. */
  readonly refreshCount: number;
  /** The refresh token it holds now (for sign-out and revocation), if any. */
  currentRefreshToken(): string | undefined;
}

/** A token source that refreshes before expiry, once at a time, and remembers a refusal. */
export const createTokenProvider = (options: TokenProviderOptions): RefreshingTokenSource => {
  const now = options.now ?? Date.now;
  const { provider, config } = options.oauth;
  let tokens: TokenSet = options.initial;
  let refreshing: Promise<Result<TokenSet>> | undefined;
  let refusedForGood: MigrationError | undefined;
  let refreshCount = 0;

  const refresh = (): Promise<Result<TokenSet>> => {
    refreshing ??= (async (): Promise<Result<TokenSet>> => {
      const refreshToken = tokens.refreshToken;
      if (!refreshToken) {
        return err(migrationError('auth', `The sign-in at ${provider.name} has expired and cannot be renewed — sign in again.`, { needsSignIn: options.account }));
      }
      try {
        const response = await client.refreshTokenGrant(config, refreshToken);
        const next = tokenSetOf(response, now(), refreshToken);
        tokens = next;
        refreshCount++;
        if (next.refreshToken && next.refreshToken !== refreshToken) await options.onRefreshToken?.(next.refreshToken);
        options.onRefresh?.({ expiresAt: next.expiresAt });
        return ok(next);
      } catch (e) {
        const failure = oauthFailure(e, provider.name, 'renew the sign-in', options.account);
        if (failure.needsSignIn) refusedForGood = failure;
        return err(failure);
      }
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  return {
    issuerName: provider.name,
    account: options.account,
    get refreshCount() {
      return refreshCount;
    },
    currentRefreshToken: () => tokens.refreshToken,
    async accessToken() {
      if (refusedForGood) return err(refusedForGood);
      if (refreshing || needsRefresh(tokens, now())) {
        const refreshed = await refresh();
        return refreshed.ok ? ok(refreshed.value.accessToken) : refreshed;
      }
      return ok(tokens.accessToken);
    },
    refused(token) {
      if (refusedForGood || !tokens.refreshToken) return false;
      // Expire it only if it is still the one held: another connection may have refreshed already.
      if (token === tokens.accessToken) tokens = { ...tokens, expiresAt: now() };
      return true;
    },
  };
};

/** A ready access token (from an IT script): used as it is, never refreshed. */
export const createStaticTokenSource = (token: string, issuerName: string, account: 'source' | 'destination'): AccessTokenSource => ({
  issuerName,
  account,
  accessToken: async () => ok(token),
  refused: () => false,
});
