/**
 * The command line's refresh-token store: the operating system's keychain (macOS Keychain,
 * Windows Credential Manager, the Secret Service — GNOME Keyring, KWallet — on Linux) through
 * @napi-rs/keyring. On Linux the Secret Service is required: the kernel keyring the library could
 * fall back to forgets everything at logout, which is not what `--remember` promises.
 */
import { AsyncEntry } from '@napi-rs/keyring';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import type { RefreshTokenStore } from '../auth/refresh-token-store.js';

const SERVICE = 'Mailferry';

const entryOf = (key: string): AsyncEntry => new AsyncEntry(SERVICE, key, process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined);

const unavailable = (e: unknown): Result<never> =>
  err(migrationError('internal', `The keychain of this computer could not be used (${e instanceof Error ? e.message : String(e)}).`));

/** The OS keychain as a refresh-token store; every failure (no Secret Service, locked) is a value. */
export const createOsKeychain = (): RefreshTokenStore => ({
  async load(key) {
    try {
      return ok((await entryOf(key).getPassword()) ?? undefined);
    } catch (e) {
      return unavailable(e);
    }
  },
  async save(key, refreshToken) {
    try {
      await entryOf(key).setPassword(refreshToken);
      return ok(undefined);
    } catch (e) {
      return unavailable(e);
    }
  },
  async remove(key) {
    try {
      await entryOf(key).deletePassword();
      return ok(undefined);
    } catch (e) {
      return unavailable(e);
    }
  },
});
