/**
 * Passwords the user asked us to remember, and OAuth2 refresh tokens, encrypted with the
 * operating system's key store (Electron `safeStorage`) and kept in the settings file as base64
 * ciphertext. Without encryption available nothing is written: a secret is never stored in clear.
 */
import type { AccountRole } from '../src/contract/ipc.js';
import type { CredentialVault } from '../src/service/app-service.js';
import type { KeyValueStore } from './settings-store.js';

/** The part of Electron's `safeStorage` the vault uses. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

/** What a vault keeps: passwords (`vault.ROLE`) or OAuth2 refresh tokens (`vault-oauth.ROLE`). */
export type VaultKind = 'password' | 'sign-in';

const PREFIX: Record<VaultKind, string> = { password: 'vault', 'sign-in': 'vault-oauth' };

/**
 * An encrypted vault of one secret per role. Refresh tokens get a vault of their own (`kind:
 * 'sign-in'`), so forgetting a password never touches a sign-in and the other way round.
 */
export function createCredentialVault(safeStorage: SafeStorageLike, kv: KeyValueStore, warn: (message: string) => void = () => undefined, kind: VaultKind = 'password'): CredentialVault {
  const keyOf = (role: AccountRole): string => `${PREFIX[kind]}.${role}`;
  return {
    save(role, password) {
      if (!safeStorage.isEncryptionAvailable()) {
        warn(`This computer offers no encrypted storage; the ${kind === 'password' ? 'password' : 'sign-in'} is kept only until Mailferry closes.`);
        kv.delete(keyOf(role));
        return;
      }
      kv.set(keyOf(role), safeStorage.encryptString(password).toString('base64'));
    },
    load(role) {
      const stored = kv.get(keyOf(role));
      if (typeof stored !== 'string' || stored === '' || !safeStorage.isEncryptionAvailable()) return undefined;
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
