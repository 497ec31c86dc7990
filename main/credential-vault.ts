/**
 * Passwords the user asked us to remember, and OAuth2 refresh tokens, encrypted with the
 * operating system's key store (Electron `safeStorage`) and kept in the settings file as base64
 * ciphertext. Without encryption available nothing is written: a secret is never stored in clear.
 *
 * On Linux without a keyring, Electron "encrypts" with a fixed key (backend `basic_text`) while
 * `isEncryptionAvailable()` says yes: such a secret is readable by anyone who can read the file.
 * So there, and when the backend is `unknown`, nothing is remembered either (a secret stored with
 * the fixed key earlier is deleted), and `refusal()` says why, for the app to show.
 */
import type { AccountRole } from '../src/contract/ipc.js';
import type { CredentialVault } from '../src/service/app-service.js';
import type { KeyValueStore } from './settings-store.js';

/** The part of Electron's `safeStorage` the vault uses. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: `basic_text`, `gnome_libsecret`, `kwallet`, `kwallet5`, `kwallet6` or `unknown`. */
  getSelectedStorageBackend?(): string;
}

/** Linux backends that only obfuscate (a key compiled into Electron), or that could not be told. */
const UNSAFE_LINUX_BACKENDS = new Set(['basic_text', 'unknown']);

/**
 * Why secrets cannot be kept encrypted on this computer, as a sentence for the app, or undefined
 * when they can.
 */
export function storageRefusal(safeStorage: SafeStorageLike, platform: NodeJS.Platform = process.platform): string | undefined {
  if (!safeStorage.isEncryptionAvailable()) {
    return 'This computer offers no encrypted storage, so passwords and sign-ins are kept only until Mailferry closes.';
  }
  if (platform === 'linux' && UNSAFE_LINUX_BACKENDS.has(safeStorage.getSelectedStorageBackend?.() ?? 'unknown')) {
    return 'No keyring (GNOME Keyring or KWallet) is running on this computer: a remembered password would be stored with a key anyone can read, so passwords and sign-ins are kept only until Mailferry closes.';
  }
  return undefined;
}

/** What a vault keeps: passwords (`vault.ROLE`) or OAuth2 refresh tokens (`vault-oauth.ROLE`). */
export type VaultKind = 'password' | 'sign-in';

const PREFIX: Record<VaultKind, string> = { password: 'vault', 'sign-in': 'vault-oauth' };

/**
 * An encrypted vault of one secret per role. Refresh tokens get a vault of their own (`kind:
 * 'sign-in'`), so forgetting a password never touches a sign-in and the other way round.
 */
export function createCredentialVault(
  safeStorage: SafeStorageLike,
  kv: KeyValueStore,
  warn: (message: string) => void = () => undefined,
  kind: VaultKind = 'password',
  platform: NodeJS.Platform = process.platform,
): CredentialVault {
  const keyOf = (role: AccountRole): string => `${PREFIX[kind]}.${role}`;
  const refusal = (): string | undefined => storageRefusal(safeStorage, platform);
  return {
    refusal,
    save(role, password) {
      const why = refusal();
      if (why) {
        warn(`The ${kind === 'password' ? 'password' : 'sign-in'} was not remembered: ${why}`);
        kv.delete(keyOf(role));
        return;
      }
      kv.set(keyOf(role), safeStorage.encryptString(password).toString('base64'));
    },
    load(role) {
      const stored = kv.get(keyOf(role));
      if (typeof stored !== 'string' || stored === '') return undefined;
      if (refusal()) {
        // Chromium marks what it encrypted with its fixed key `v10` (a keyring's key: `v11`). Such
        // a secret, stored before this check existed, is as good as clear text: it goes.
        if (platform === 'linux' && Buffer.from(stored, 'base64').subarray(0, 3).toString('latin1') === 'v10') kv.delete(keyOf(role));
        return undefined;
      }
      try {
        return safeStorage.decryptString(Buffer.from(stored, 'base64'));
      } catch {
        // Encrypted under another user or key: as good as absent; the user types it again.
        return undefined;
      }
    },
    remove(role) {
      kv.delete(keyOf(role));
    },
  };
}
