import type { StateCreator } from 'zustand';
import type { AccountRole } from '../../../src/contract/ipc.js';
import type { Security } from '../../../src/contract/account.js';
import type { AccountForm, AccountsSlice, AppState } from './types.js';

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
});

/** Guesses a server from the domain when no preset knows it: most hosts answer on imap.<domain>. */
const guessHost = (email: string): string => {
  const domain = email.split('@')[1]?.trim().toLowerCase();
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
      const result = await get().bridge.archiveChooseFolder();
      if (!result.ok) {
        if (result.error.kind !== 'cancelled') set({ notice: { tone: 'error', text: result.error.message } });
        return;
      }
      set({ sourceArchivePath: result.value.path, plan: null, planState: 'idle' });
    },
    setSourceArchiveFormat(format) {
      set({ sourceArchiveFormat: format, plan: null, planState: 'idle' });
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
      const { email, host } = get().accounts[role];
      if (!email.includes('@')) return;
      const result = await get().bridge.presetsLookup({ email: email.trim() });
      const latest = get().accounts[role];
      if (latest.email !== email) return; // the user typed on meanwhile
      if (result.ok && result.value) {
        const preset = result.value;
        get().updateAccount(role, { preset, host: preset.host, port: preset.port, security: preset.security });
      } else {
        patch(role, { preset: null });
        if (host === '') get().updateAccount(role, { host: guessHost(email) });
      }
    },
    async saveAndTest(role, password) {
      const a = get().accounts[role];
      patch(role, { test: { state: 'testing' } });
      const endpoint = {
        host: a.host.trim(),
        port: a.port,
        security: a.security,
        user: (a.user || a.email).trim(),
        ...(a.security === 'plain' ? { allowPlaintext: a.allowPlaintext } : {}),
        ...(a.pinnedFingerprint ? { pinnedFingerprint: a.pinnedFingerprint } : {}),
      };
      const saved = await get().bridge.accountsSave({
        role,
        email: a.email.trim(),
        endpoint,
        ...(password ? { password } : {}),
        rememberPassword: a.rememberPassword,
      });
      if (!saved.ok) {
        patch(role, { test: { state: 'failed', error: saved.error } });
        return;
      }
      patch(role, {
        hasPassword: a.hasPassword || Boolean(password),
        hasSavedPassword: saved.value.hasSavedPassword,
      });
      const checked = await get().bridge.accountsTest({ role });
      patch(role, { test: checked.ok ? { state: 'ok', check: checked.value } : { state: 'failed', error: checked.error } });
    },
    async trustCertificate(role, fingerprint) {
      patch(role, { pinnedFingerprint: fingerprint });
      await get().saveAndTest(role);
    },
  };
};
