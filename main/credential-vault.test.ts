import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCredentialVault, storageRefusal, type SafeStorageLike } from './credential-vault.js';
import { accountSettingsStore, createConfKeyValueStore, type KeyValueStore } from './settings-store.js';

/**
 * Stands in for Electron's safeStorage: real encryption (AES-GCM) with a key that never touches
 * disk, behind a keyring (`gnome_libsecret`) unless another Linux backend is named; like
 * Chromium, the ciphertext starts with `v10` for `basic_text` and `v11` otherwise.
 */
function fakeSafeStorage(isAvailable = true, backend = 'gnome_libsecret'): SafeStorageLike {
  const key = randomBytes(32);
  return {
    isEncryptionAvailable: () => isAvailable,
    getSelectedStorageBackend: () => backend,
    encryptString(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from(backend === 'basic_text' ? 'v10' : 'v11'), iv, cipher.getAuthTag(), body]);
    },
    decryptString(prefixed) {
      const data = prefixed.subarray(3);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      return Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

const PASSWORD = 'Tr0ub4dor&3-correct-horse';

async function allFileBytes(dir: string): Promise<Buffer> {
  const names = await readdir(dir, { recursive: true });
  const parts: Buffer[] = [];
  for (const name of names) parts.push(await readFile(join(dir, name)).catch(() => Buffer.alloc(0)));
  return Buffer.concat(parts);
}

function containsPassword(bytes: Buffer): boolean {
  return [PASSWORD, Buffer.from(PASSWORD).toString('base64'), Buffer.from(PASSWORD).toString('hex'), Buffer.from(PASSWORD, 'utf16le').toString('latin1')].some((needle) =>
    bytes.includes(Buffer.from(needle, 'latin1')),
  );
}

/** Runs `work` with a settings store in a fresh folder, removed afterwards. */
async function inTempStore(work: (kv: KeyValueStore, dir: string) => Promise<void>, label = 'vault'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `mailferry-${label}-`));
  try {
    await work(await createConfKeyValueStore(dir), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('credential vault', () => {
  test('a remembered password is stored only encrypted, and comes back', async () => {
    await inTempStore(async (kv, dir) => {
      const safe = fakeSafeStorage();
      const vault = createCredentialVault(safe, kv);
      accountSettingsStore(kv).setAccount('source', { email: 'me@example.org', endpoint: { host: 'imap.example.org', port: 993, security: 'tls', user: 'me' } });
      vault.save('source', PASSWORD);
      const bytes = await allFileBytes(dir);
      assert.ok(bytes.length > 0, 'something was written');
      assert.ok(bytes.includes(Buffer.from('imap.example.org')), 'the settings file is the one we inspect');
      assert.equal(containsPassword(bytes), false, 'the password is not in the file in any plain encoding');
      assert.equal(vault.load('source'), PASSWORD);
      // A fresh store over the same file (the next start of the app) still decrypts it.
      assert.equal(createCredentialVault(safe, await createConfKeyValueStore(dir)).load('source'), PASSWORD);
      vault.remove('source');
      assert.equal(vault.load('source'), undefined);
      assert.equal(containsPassword(await allFileBytes(dir)), false);
    });
  });

  test('refresh tokens have a vault of their own beside the passwords; the sign-in settings keep no token', async () => {
    await inTempStore(async (kv, dir) => {
      const safe = fakeSafeStorage();
      const passwords = createCredentialVault(safe, kv);
      const signIns = createCredentialVault(safe, kv, () => undefined, 'sign-in');
      const settings = accountSettingsStore(kv);
      settings.setAccount('source', { email: 'me@gmail.com', endpoint: { host: 'imap.gmail.com', port: 993, security: 'tls', user: 'me@gmail.com' }, signIn: { provider: 'google', clientId: 'id.apps' } });
      signIns.save('source', PASSWORD);
      assert.equal(passwords.load('source'), undefined, 'a sign-in is not a password');
      assert.equal(signIns.load('source'), PASSWORD);
      assert.equal(containsPassword(await allFileBytes(dir)), false, 'the refresh token is stored only encrypted');
      assert.deepEqual(settings.getAccount('source')?.signIn, { provider: 'google', clientId: 'id.apps' });
      passwords.remove('source');
      assert.equal(signIns.load('source'), PASSWORD, 'forgetting a password leaves the sign-in');
    });
  });

  test('without encryption available nothing is written, and it says so', async () => {
    await inTempStore(async (kv, dir) => {
      const warnings: string[] = [];
      const vault = createCredentialVault(fakeSafeStorage(false), kv, (m) => warnings.push(m));
      vault.save('destination', PASSWORD);
      assert.equal(vault.load('destination'), undefined);
      assert.equal(containsPassword(await allFileBytes(dir)), false);
      assert.equal(warnings.length, 1);
    });
  });

  test('on Linux without a keyring (basic_text, or a backend that cannot be told) nothing is remembered, and it says why', async () => {
    for (const backend of ['basic_text', 'unknown']) {
      await inTempStore(async (kv, dir) => {
        const warnings: string[] = [];
        const safe = fakeSafeStorage(true, backend);
        for (const kind of ['password', 'sign-in'] as const) {
          const vault = createCredentialVault(safe, kv, (m) => warnings.push(m), kind, 'linux');
          assert.match(vault.refusal?.() ?? '', /^No keyring \(GNOME Keyring or KWallet\) is running on this computer: .* kept only until Mailferry closes\.$/);
          vault.save('source', PASSWORD);
          assert.equal(vault.load('source'), undefined);
        }
        assert.equal(containsPassword(await allFileBytes(dir)), false);
        assert.equal(kv.get('vault.source'), undefined, 'nothing written, not even obfuscated');
        assert.equal(warnings.length, 2);
      });
    }
  });

  test('a secret stored with the fixed key before this check is deleted, one from a keyring is kept', async () => {
    await inTempStore(async (kv, dir) => {
      const weak = fakeSafeStorage(true, 'basic_text');
      kv.set('vault.source', weak.encryptString(PASSWORD).toString('base64'));
      kv.set('vault.destination', fakeSafeStorage(true, 'gnome_libsecret').encryptString(PASSWORD).toString('base64'));
      const vault = createCredentialVault(weak, kv, () => undefined, 'password', 'linux');
      assert.equal(vault.load('source'), undefined);
      assert.equal(kv.get('vault.source'), undefined, 'the v10 blob is gone');
      assert.equal(vault.load('destination'), undefined);
      assert.equal(typeof kv.get('vault.destination'), 'string', 'a keyring-encrypted blob stays for when the keyring is back');
    });
  });

  test('other systems and a keyring on Linux are trusted; no encryption at all is refused everywhere', () => {
    assert.equal(storageRefusal(fakeSafeStorage(true, 'gnome_libsecret'), 'linux'), undefined);
    assert.equal(storageRefusal(fakeSafeStorage(true, 'kwallet6'), 'linux'), undefined);
    assert.equal(storageRefusal({ ...fakeSafeStorage(true), getSelectedStorageBackend: undefined }, 'darwin'), undefined);
    assert.match(storageRefusal({ ...fakeSafeStorage(true), getSelectedStorageBackend: undefined }, 'linux') ?? '', /^No keyring/);
    assert.match(storageRefusal(fakeSafeStorage(false), 'win32') ?? '', /^This computer offers no encrypted storage/);
  });

  test('ciphertext from another key reads as absent rather than failing', async () => {
    await inTempStore(async (kv, dir) => {
      createCredentialVault(fakeSafeStorage(), kv).save('source', PASSWORD);
      assert.equal(createCredentialVault(fakeSafeStorage(), kv).load('source'), undefined);
    });
  });

  test('account settings never keep a password that slipped into an endpoint', async () => {
    await inTempStore(async (kv, dir) => {
      const settings = accountSettingsStore(kv);
      const endpoint = { host: 'imap.example.org', port: 143, security: 'starttls' as const, user: 'me', password: PASSWORD };
      settings.setAccount('destination', { email: 'me@example.org', endpoint });
      assert.deepEqual(settings.getAccount('destination'), { email: 'me@example.org', endpoint: { host: 'imap.example.org', port: 143, security: 'starttls', user: 'me' } });
      assert.equal(containsPassword(await allFileBytes(dir)), false);
      kv.set('accounts.source', { email: 'x', endpoint: { host: '', port: 'nope' } });
      assert.equal(settings.getAccount('source'), undefined, 'a damaged entry reads as absent');
    }, 'settings');
  });
});
