/**
 * Settings that survive a restart (account endpoints, never passwords), behind a small key-value
 * interface: electron-store in the app, conf (the library under it) in tests, because
 * electron-store imports `electron` when loaded and plain Node cannot.
 */
import { z } from 'zod';
import type { AccountRole, SignInSettings } from '../src/contract/ipc.js';
import type { AccountEndpoint } from '../src/contract/account.js';
import type { AccountSettingsStore, StoredAccount } from '../src/service/app-service.js';

export interface KeyValueStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  /** The file the values live in (for tests and diagnostics). */
  readonly path: string;
}

/** The app's store, in Electron's userData folder. */
export async function createElectronKeyValueStore(name = 'settings'): Promise<KeyValueStore> {
  const { default: ElectronStore } = await import('electron-store');
  const store = new ElectronStore<Record<string, unknown>>({ name, clearInvalidConfig: true });
  return { get: (k) => store.get(k), set: (k, v) => store.set(k, v), delete: (k) => store.delete(k), path: store.path };
}

/** The same store without Electron, for tests: a folder of one's choosing. */
export async function createConfKeyValueStore(cwd: string, name = 'settings'): Promise<KeyValueStore> {
  const { default: Conf } = await import('conf');
  const store = new Conf<Record<string, unknown>>({ cwd, configName: name, projectName: 'mailferry', clearInvalidConfig: true });
  return { get: (k) => store.get(k), set: (k, v) => store.set(k, v), delete: (k) => store.delete(k), path: store.path };
}

const endpointSchema = z.object({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  security: z.enum(['tls', 'starttls', 'plain']),
  user: z.string().max(320),
  allowPlaintext: z.boolean().optional(),
  pinnedFingerprint: z.string().max(200).optional(),
});
const signInSchema = z.object({
  provider: z.string().min(1).max(2000),
  clientId: z.string().max(500).optional(),
  tenant: z.string().max(100).optional(),
});
const storedAccountSchema = z.object({ email: z.string().max(320), endpoint: endpointSchema, signIn: signInSchema.optional() });

/** Only the fields of a sign-in setting, never anything else that came along. */
const signInOf = ({ provider, clientId, tenant }: SignInSettings): SignInSettings => ({ provider, ...(clientId ? { clientId } : {}), ...(tenant ? { tenant } : {}) });

/** Account endpoints in the key-value store; what does not validate on reading is treated as absent. */
export function accountSettingsStore(kv: KeyValueStore): AccountSettingsStore {
  return {
    getAccount(role: AccountRole) {
      const parsed = storedAccountSchema.safeParse(kv.get(`accounts.${role}`));
      if (!parsed.success) return undefined;
      const { email, endpoint, signIn } = parsed.data;
      const clean: AccountEndpoint = {
        host: endpoint.host,
        port: endpoint.port,
        security: endpoint.security,
        user: endpoint.user,
        ...(endpoint.allowPlaintext ? { allowPlaintext: true } : {}),
        ...(endpoint.pinnedFingerprint ? { pinnedFingerprint: endpoint.pinnedFingerprint } : {}),
      };
      return { email, endpoint: clean, ...(signIn ? { signIn: signInOf(signIn) } : {}) };
    },
    setAccount(role: AccountRole, account: StoredAccount) {
      // Only the fields we know: a password that slipped into an endpoint never reaches the file.
      const { host, port, security, user, allowPlaintext, pinnedFingerprint } = account.endpoint;
      kv.set(`accounts.${role}`, {
        email: account.email,
        endpoint: { host, port, security, user, ...(allowPlaintext ? { allowPlaintext } : {}), ...(pinnedFingerprint ? { pinnedFingerprint } : {}) },
        ...(account.signIn ? { signIn: signInOf(account.signIn) } : {}),
      });
    },
  };
}
