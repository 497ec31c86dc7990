import type { StateCreator } from 'zustand';
import type { AccountRole } from '../../../src/contract/ipc.js';
import type { AccountEndpoint, Security } from '../../../src/contract/account.js';
import type { SignInSettings } from '../../../src/contract/ipc.js';
import type { AccountForm, AccountsSlice, AppState, SignInForm } from './types.js';
import type { ProviderPreset } from '../../../src/contract/ipc.js';
import { askForFolder } from './ask-for-folder.js';

export const PORT_FOR: Record<Security, number> = { tls: 993, starttls: 143, plain: 143 };

export const emptyAccount = (): AccountForm => ({
  email: '',
  host: '',
  port: 993,
  security: 'tls',
  user: '',
  isUserEdited: false,
  allowPlaintext: false,
  rememberPassword: false,
  hasPassword: false,
  hasSavedPassword: false,
  preset: null,
  test: { state: 'idle' },
  signIn: null,
  isSignedIn: false,
  signInState: 'idle',
  isHostEdited: false,
  discovery: { state: 'idle' },
});

/** Where the form says the account lives, as main gets it. */
const endpointOf = (a: AccountForm): AccountEndpoint => ({
  host: a.host.trim(),
  port: a.port,
  security: a.security,
  user: (a.user || a.email).trim(),
  ...(a.security === 'plain' ? { allowPlaintext: a.allowPlaintext } : {}),
  ...(a.pinnedFingerprint ? { pinnedFingerprint: a.pinnedFingerprint } : {}),
});

/** The settings main gets: empty fields left out (main then uses its defaults). */
export const signInSettingsOf = (form: SignInForm): SignInSettings => ({
  provider: form.provider.trim(),
  ...(form.clientId.trim() ? { clientId: form.clientId.trim() } : {}),
  ...(form.tenant.trim() ? { tenant: form.tenant.trim() } : {}),
});

/** `Google`, `Microsoft`, or the issuer's host: the name on the sign-in button. */
export const providerLabel = (provider: string): string => {
  if (provider === 'google') return 'Google';
  if (provider === 'microsoft') return 'Microsoft';
  try {
    return new URL(provider).host;
  } catch {
    return provider;
  }
};

const domainOf = (email: string): string | undefined => email.split('@')[1]?.trim().toLowerCase() || undefined;

/** Guesses a server from the domain while nothing better is known: most hosts answer on imap.<domain>. */
const guessHost = (email: string): string => {
  const domain = domainOf(email);
  return domain ? `imap.${domain}` : '';
};

export const createAccountsSlice: StateCreator<AppState, [], [], AccountsSlice> = (set, get) => {
  const patch = (role: AccountRole, p: Partial<AccountForm>): void => {
    set((s) => ({ accounts: { ...s.accounts, [role]: { ...s.accounts[role], ...p } } }));
  };
  return {
    accounts: { source: emptyAccount(), destination: emptyAccount() },
    sourceKind: 'account',
    sourceArchivePath: null,
    sourceArchiveFormat: 'mbox',
    setSourceKind(kind) {
      // The plan depends on where the mail is read from: a new source means a fresh plan.
      if (kind !== get().sourceKind) set({ sourceKind: kind, plan: null, planState: 'idle' });
    },
    async chooseSourceArchive() {
      const path = await askForFolder(get, set);
      if (path !== undefined) set({ sourceArchivePath: path, plan: null, planState: 'idle' });
    },
    setSourceArchiveFormat(format) {
      set({ sourceArchiveFormat: format, plan: null, planState: 'idle' });
    },
    destinationKind: 'account',
    destinationArchivePath: null,
    destinationArchiveFormat: 'mbox',
    setDestinationKind(kind) {
      // The plan is made for where the mail goes: another destination means a fresh plan.
      if (kind !== get().destinationKind) set({ destinationKind: kind, plan: null, planState: 'idle' });
    },
    async chooseDestinationArchive() {
      const path = await askForFolder(get, set);
      if (path !== undefined) set({ destinationArchivePath: path, plan: null, planState: 'idle' });
    },
    setDestinationArchiveFormat(format) {
      if (format !== get().destinationArchiveFormat) set({ destinationArchiveFormat: format, plan: null, planState: 'idle' });
    },
    updateAccount(role, p) {
      // Any change to where or how we connect makes an earlier test result stale.
      const isConnectionChange = ['host', 'port', 'security', 'user', 'allowPlaintext', 'email'].some((k) => k in p);
      patch(role, isConnectionChange && !('test' in p) ? { ...p, test: { state: 'idle' } } : p);
    },
    setEmail(role, email) {
      const current = get().accounts[role];
      get().updateAccount(role, { email, ...(current.isUserEdited ? {} : { user: email.trim() }) });
    },
    async lookupPreset(role) {
      const { email } = get().accounts[role];
      if (!email.includes('@')) return;
      const domain = domainOf(email);
      const current = get().accounts[role].discovery;
      // Leaving the field again with the same address asks nothing new.
      if (current.domain === domain && current.state !== 'idle') return;
      const result = await get().bridge.presetsLookup({ email: email.trim() });
      const latest = get().accounts[role];
      if (latest.email !== email) return; // the user typed on meanwhile
      const applyPreset = (preset: ProviderPreset, extra: Partial<AccountForm> = {}): void => {
        // Providers that sign in with OAuth2 get that by default; a password stays one click away.
        const now = get().accounts[role];
        const signIn = preset.oauthProvider && !now.signIn && !now.hasPassword ? { signIn: { provider: preset.oauthProvider, clientId: '', tenant: '' } } : {};
        const server = now.isHostEdited ? {} : { host: preset.host, port: preset.port, security: preset.security };
        get().updateAccount(role, { preset, ...server, ...signIn, ...extra });
      };
      if (result.ok && result.value) {
        applyPreset(result.value, { discovery: { state: 'idle', ...(domain ? { domain } : {}) } });
        return;
      }
      // No preset: guess at once (most servers are imap.<domain>), then look the server up.
      patch(role, { preset: null, discovery: { state: 'looking', ...(domain ? { domain } : {}) } });
      if (!latest.isHostEdited && latest.host !== guessHost(email)) get().updateAccount(role, { host: guessHost(email), port: PORT_FOR.tls, security: 'tls' });
      const discovered = await get().bridge.accountsDiscover({ email: email.trim() });
      const after = get().accounts[role];
      if (after.email !== email) return;
      const found = discovered.ok ? discovered.value.found : null;
      const discovery = { state: found ? 'found' : 'none', ...(domain ? { domain } : {}), ...(discovered.ok ? { outcome: discovered.value } : {}) } as const;
      if (found?.preset) {
        applyPreset(found.preset, { discovery });
        return;
      }
      if (!found) {
        patch(role, { discovery });
        return;
      }
      const server = after.isHostEdited ? {} : { host: found.host, port: found.port, security: found.security };
      const user = found.user && !after.isUserEdited ? { user: found.user } : {};
      get().updateAccount(role, { ...server, ...user, discovery });
    },
    async saveAndTest(role, password) {
      const a = get().accounts[role];
      patch(role, { test: { state: 'testing' } });
      const endpoint = endpointOf(a);
      const saved = await get().bridge.accountsSave({
        role,
        email: a.email.trim(),
        endpoint,
        ...(password && !a.signIn ? { password } : {}),
        rememberPassword: a.rememberPassword && !a.signIn,
        ...(a.signIn ? { signIn: signInSettingsOf(a.signIn) } : {}),
      });
      if (!saved.ok) {
        patch(role, { test: { state: 'failed', error: saved.error } });
        return false;
      }
      patch(role, {
        hasPassword: a.hasPassword || Boolean(password),
        hasSavedPassword: saved.value.hasSavedPassword,
        cannotRemember: saved.value.cannotRemember,
        isSignedIn: saved.value.signIn?.isSignedIn ?? false,
      });
      const checked = await get().bridge.accountsTest({ role });
      patch(role, { test: checked.ok ? { state: 'ok', check: checked.value } : { state: 'failed', error: checked.error } });
      return checked.ok;
    },
    async trustCertificate(role, fingerprint) {
      patch(role, { pinnedFingerprint: fingerprint });
      await get().saveAndTest(role);
    },
    setSignIn(role, signIn) {
      // Another way of signing in: whatever main holds for the old one no longer applies.
      patch(role, { signIn, isSignedIn: false, signInState: 'idle', signInError: undefined, test: { state: 'idle' } });
    },
    async signIn(role) {
      const a = get().accounts[role];
      if (!a.signIn) return false;
      patch(role, { signInState: 'waiting', signInError: undefined });
      // Saved first: main signs in the account as it is stored.
      const saved = await get().bridge.accountsSave({
        role,
        email: a.email.trim(),
        endpoint: endpointOf(a),
        rememberPassword: false,
        signIn: signInSettingsOf(a.signIn),
      });
      const signedIn = saved.ok ? await get().bridge.accountsSignIn({ role }) : saved;
      if (!signedIn.ok) {
        patch(role, { signInState: 'failed', signInError: signedIn.error, isSignedIn: false });
        return false;
      }
      patch(role, { signInState: 'idle', isSignedIn: signedIn.value.signIn?.isSignedIn ?? false, cannotRemember: signedIn.value.cannotRemember, test: { state: 'testing' } });
      const checked = await get().bridge.accountsTest({ role });
      patch(role, { test: checked.ok ? { state: 'ok', check: checked.value } : { state: 'failed', error: checked.error } });
      return checked.ok;
    },
    async signOut(role) {
      const result = await get().bridge.accountsSignOut({ role });
      if (!result.ok) {
        set({ notice: { tone: 'error', text: result.error.message } });
        return;
      }
      patch(role, { isSignedIn: false, signInState: 'idle', test: { state: 'idle' } });
    },
  };
};
