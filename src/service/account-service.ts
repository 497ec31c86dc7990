/**
 * The app's two accounts: their settings, passwords and sign-ins, the connection test, and the
 * ends (source and destinations) a job of the app reads and writes.
 *
 * Invariants:
 * - Passwords live only here (in memory) and in the vault (encrypted, only if remembered);
 *   OAuth2 tokens only in account-sign-ins.ts. No response of these handlers carries either.
 */
import type { AccountCredentials, AccountEndpoint, ArchiveLocation, MailLocation } from '../contract/account.js';
import type { AccountRole, ConnectionCheck, ProviderPreset, SavedAccount, SignInSettings } from '../contract/ipc.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import { connectImap, disconnectImap, type ConnectTimeouts } from '../imap/connect-imap.js';
import { jobEndsOf, type JobEnds } from '../jobs/job-ends.js';
import type { LocationSecrets } from '../locations/open-location.js';
import { createAccountSignIns, type RoleVault, type SignInDefaults } from './account-sign-ins.js';
import { lookupPreset, presetForMxHost } from './provider-presets.js';
import { discoverServer, type DiscoveryOptions } from '../discovery/discover-server.js';
import type { ChannelHandlers } from './channel-handlers.js';

/** An account's settings: where it lives and, for OAuth2, where it signs in. Never a secret. */
export interface StoredAccount {
  email: string;
  endpoint: AccountEndpoint;
  signIn?: SignInSettings;
}

/** Where account settings (never passwords) are kept. electron-store in the app. */
export interface AccountSettingsStore {
  getAccount(role: AccountRole): StoredAccount | undefined;
  setAccount(role: AccountRole, account: StoredAccount): void;
}

/** Encrypted password storage. safeStorage in the app. */
export type CredentialVault = RoleVault;

/** What the account concern needs from main (stores, vaults, the browser). */
export interface AccountServiceDeps {
  settings: AccountSettingsStore;
  vault: CredentialVault;
  timeouts?: ConnectTimeouts;
  /** Encrypted storage of OAuth2 refresh tokens (safeStorage in the app), apart from passwords. */
  tokenVault?: RoleVault;
  /** Opens the system browser for a sign-in or a link (Electron's shell.openExternal). */
  openExternal?(url: string): Promise<void>;
  /** Where discovery asks (tests point it at their own DNS and HTTP servers); absent: the system's resolver, ports 443/80. */
  discovery?: Pick<DiscoveryOptions, 'dnsServers' | 'httpPort' | 'httpsPort'>;
  /** Client IDs to fall back on (MAILFERRY_OAUTH_CLIENT_ID, oauth-clients.json). */
  signInDefaults?: SignInDefaults;
  signInTimeoutMs?: number;
}

/** What a job of the app wants to read from and write to. */
export interface EndsWanted {
  /** The new account receives folders. */
  account: boolean;
  /** An archive receives folders. */
  archive?: ArchiveLocation;
  /** A restore: this archive is read instead of the old account. */
  source?: ArchiveLocation;
}

/** The channels the account concern answers. */
export type AccountChannel = 'accounts:load' | 'accounts:save' | 'accounts:signIn' | 'accounts:signOut' | 'accounts:test' | 'accounts:discover' | 'links:open' | 'presets:lookup';

/** The account concern: its channels, and the ends of a job for the job and report concerns. */
export type AccountService = ChannelHandlers<AccountChannel> & {
  /** The ends of a job of the app: the accounts with their passwords or sign-ins, and any archives. */
  jobEnds(want: EndsWanted): Promise<Result<JobEnds>>;
};

const ROLE_NAME: Record<AccountRole, string> = { source: 'old', destination: 'new' };

/** The account concern over its stores; passwords kept in memory for the session. */
export const createAccountService = (deps: AccountServiceDeps): AccountService => {
  const passwords = new Map<AccountRole, string>();
  const signIns = createAccountSignIns({ vault: deps.tokenVault ?? memoryVault(), openExternal: deps.openExternal, defaults: deps.signInDefaults, signInTimeoutMs: deps.signInTimeoutMs });

  /** Why the vault this account would use keeps nothing on this computer (see main/credential-vault.ts). */
  const cannotRemember = (account: { signIn?: unknown }): { cannotRemember?: string } => {
    const why = (account.signIn ? deps.tokenVault : deps.vault)?.refusal?.();
    return why ? { cannotRemember: why } : {};
  };
  const savedAccount = async (role: AccountRole, account: StoredAccount): Promise<SavedAccount> => ({
    email: account.email,
    endpoint: account.endpoint,
    hasSavedPassword: (await deps.vault.load(role)) !== undefined,
    ...cannotRemember(account),
    ...(account.signIn ? { signIn: await signIns.describe(role, account.signIn) } : {}),
  });

  const credentialsOf = async (role: AccountRole): Promise<Result<AccountCredentials>> => {
    const account = deps.settings.getAccount(role);
    if (!account) return err(migrationError('bad-input', `The ${ROLE_NAME[role]} account is not set up yet.`));
    if (account.signIn) {
      const tokens = await signIns.tokenSource(role, account.signIn, account.endpoint.user);
      return tokens.ok ? ok({ ...account.endpoint, oauth: tokens.value }) : tokens;
    }
    const password = passwords.get(role) ?? (await deps.vault.load(role));
    if (password === undefined) return err(migrationError('bad-input', `Enter the password of the ${ROLE_NAME[role]} account.`));
    return ok({ ...account.endpoint, password });
  };

  const accountSide = async (role: AccountRole): Promise<Result<{ location: MailLocation; secrets: LocationSecrets }>> => {
    const credentials = await credentialsOf(role);
    if (!credentials.ok) return credentials;
    return ok({ location: { kind: 'imap', endpoint: stripSecret(credentials.value) }, secrets: secretsOf(credentials.value) });
  };

  return {
    async jobEnds(want) {
      let source: { location: MailLocation; secrets?: LocationSecrets };
      if (want.source) source = { location: { kind: 'archive', archive: want.source } };
      else {
        const side = await accountSide('source');
        if (!side.ok) return side;
        source = side.value;
      }
      const destinations: Parameters<typeof jobEndsOf>[1] = [];
      if (want.account) {
        const side = await accountSide('destination');
        if (!side.ok) return side;
        destinations.push({ target: 'account', ...side.value });
      }
      if (want.archive) destinations.push({ target: 'archive', location: { kind: 'archive', archive: want.archive } });
      return ok(jobEndsOf(source, destinations, deps.timeouts));
    },
    async 'accounts:load'() {
      const toSaved = async (role: AccountRole): Promise<SavedAccount | undefined> => {
        const account = deps.settings.getAccount(role);
        return account ? savedAccount(role, account) : undefined;
      };
      return ok({ source: await toSaved('source'), destination: await toSaved('destination') });
    },
    async 'accounts:save'({ role, email, endpoint, password, rememberPassword, signIn }) {
      const clean = stripSecret(endpoint);
      const previous = deps.settings.getAccount(role);
      // A sign-in belongs to its provider, registration and mailbox: any change makes it void.
      if (previous?.signIn && (!signIn || JSON.stringify(previous.signIn) !== JSON.stringify(signIn) || previous.endpoint.user !== clean.user || previous.endpoint.host !== clean.host)) {
        await signIns.signOut(role, previous.signIn);
      }
      deps.settings.setAccount(role, { email, endpoint: clean, ...(signIn ? { signIn } : {}) });
      if (signIn) {
        // OAuth2 instead of a password: no password of this account is kept.
        passwords.delete(role);
        await deps.vault.remove(role);
        return ok(await savedAccount(role, { email, endpoint: clean, signIn }));
      }
      if (password !== undefined) passwords.set(role, password);
      const known = password ?? passwords.get(role);
      if (rememberPassword && known !== undefined) await deps.vault.save(role, known);
      if (!rememberPassword) await deps.vault.remove(role);
      const refused = cannotRemember({});
      return ok({ email, endpoint: clean, hasSavedPassword: rememberPassword && known !== undefined && refused.cannotRemember === undefined, ...refused });
    },
    async 'accounts:signIn'({ role }) {
      const account = deps.settings.getAccount(role);
      if (!account?.signIn) return err(migrationError('bad-input', `The ${ROLE_NAME[role]} account does not sign in with a provider.`));
      const signedIn = await signIns.signIn(role, account.signIn, account.email);
      return signedIn.ok ? ok(await savedAccount(role, account)) : signedIn;
    },
    async 'accounts:signOut'({ role }) {
      const account = deps.settings.getAccount(role);
      if (!account) return err(migrationError('bad-input', `The ${ROLE_NAME[role]} account is not set up yet.`));
      await signIns.signOut(role, account.signIn);
      return ok(await savedAccount(role, account));
    },
    async 'accounts:test'({ role }): Promise<Result<ConnectionCheck>> {
      const credentials = await credentialsOf(role);
      if (!credentials.ok) return credentials;
      const connection = await connectImap(credentials.value, deps.timeouts);
      if (!connection.ok) return connection;
      try {
        const socket = (connection.value.client as unknown as { socket?: { getPeerCertificate?: () => { fingerprint256?: string } } }).socket;
        const fingerprint = socket?.getPeerCertificate?.()?.fingerprint256;
        const serverInfo = connection.value.client.serverInfo as { name?: string; version?: string } | null | undefined;
        return ok({
          capabilities: [...connection.value.client.capabilities.keys()].sort(),
          serverName: serverInfo?.name ? `${serverInfo.name}${serverInfo.version ? ` ${serverInfo.version}` : ''}` : undefined,
          certificateFingerprint: fingerprint || undefined,
        });
      } finally {
        await disconnectImap(connection.value);
      }
    },
    async 'presets:lookup'({ email }): Promise<Result<ProviderPreset | null>> {
      return ok(lookupPreset(email));
    },
    async 'accounts:discover'({ email }) {
      return discoverServer(email, { ...deps.discovery, presetForMxHost });
    },
    async 'links:open'({ url }) {
      const protocol = URL.canParse(url) ? new URL(url).protocol : '';
      if (protocol !== 'https:' && protocol !== 'http:') return err(migrationError('bad-input', 'Only web addresses (http or https) open in the browser.'));
      if (!deps.openExternal) return err(migrationError('bad-input', 'Opening a web page is not available here.'));
      await deps.openExternal(url);
      return ok(undefined);
    },
  };
};

/** What an IMAP location logs in with, from its credentials. */
const secretsOf = (credentials: AccountCredentials): LocationSecrets => (credentials.oauth ? { oauth: credentials.oauth } : { password: credentials.password });

/** Keeps secrets for the session only (when no encrypted vault is given). */
const memoryVault = (): RoleVault => {
  const kept = new Map<AccountRole, string>();
  return { save: (role, secret) => void kept.set(role, secret), load: (role) => kept.get(role), remove: (role) => void kept.delete(role) };
};

const stripSecret = (endpoint: AccountEndpoint): AccountEndpoint => {
  const { host, port, security, user, allowPlaintext, pinnedFingerprint } = endpoint as AccountEndpoint & { password?: string };
  return { host, port, security, user, ...(allowPlaintext ? { allowPlaintext } : {}), ...(pinnedFingerprint ? { pinnedFingerprint } : {}) };
};
