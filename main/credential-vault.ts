/**
 * Passwords the user asked us to remember, encrypted with the operating system's key store
 * (Electron `safeStorage`) and kept in the settings file as base64 ciphertext. Without
 * encryption available nothing is written: a password is never stored in clear.
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

const keyOf = (role: AccountRole): string => `vault.${role}`;

export function createCredentialVault(safeStorage: SafeStorageLike, kv: KeyValueStore, warn: (message: string) => void = () => undefined): CredentialVault {
  return {
    save(role, password) {
      if (!safeStorage.isEncryptionAvailable()) {
        warn('This computer offers no encrypted storage; the password is kept only until Mailferry closes.');
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
