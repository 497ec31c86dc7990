/**
 * Where a refresh token may be kept between runs: only an encrypted store (the app's safeStorage
 * vault, the operating system's keychain on the command line), never a plain file.
 */
import type { Result } from '../contract/result.js';

export interface RefreshTokenStore {
  /** The kept token, undefined when there is none. */
  load(key: string): Promise<Result<string | undefined>>;
  save(key: string, refreshToken: string): Promise<Result<void>>;
  remove(key: string): Promise<Result<void>>;
}

/** The key a sign-in is kept under: which provider (and app registration) signed which mailbox in. */
export const refreshTokenKey = (parts: { provider: string; clientId: string; user: string; host: string }): string =>
  `oauth2 ${parts.provider} ${parts.clientId} ${parts.user}@${parts.host}`;
