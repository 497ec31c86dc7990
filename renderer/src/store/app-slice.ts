import type { StateCreator } from 'zustand';
import type { AppSlice, AppState } from './types.js';
import { RESUMABLE_JOB_STATUSES } from './types.js';

export const createAppSlice =
  (bridge: AppSlice['bridge']): StateCreator<AppState, [], [], AppSlice> =>
  (set, get) => ({
    bridge,
    screen: 'accounts',
    interruptedJobs: [],
    notice: null,
    async init() {
      const [accounts, jobs] = await Promise.all([bridge.accountsLoad(), bridge.jobsList()]);
      if (accounts.ok) {
        for (const role of ['source', 'destination'] as const) {
          const saved = accounts.value[role];
          if (!saved) continue;
          get().updateAccount(role, {
            email: saved.email,
            host: saved.endpoint.host,
            port: saved.endpoint.port,
            security: saved.endpoint.security,
            user: saved.endpoint.user,
            isUserEdited: saved.endpoint.user !== saved.email,
            // A server kept from last time is the person's choice: a lookup must not replace it.
            isHostEdited: true,
            allowPlaintext: saved.endpoint.allowPlaintext ?? false,
            ...(saved.endpoint.pinnedFingerprint ? { pinnedFingerprint: saved.endpoint.pinnedFingerprint } : {}),
            rememberPassword: saved.hasSavedPassword,
            hasPassword: saved.hasSavedPassword,
            hasSavedPassword: saved.hasSavedPassword,
            cannotRemember: saved.cannotRemember,
            signIn: saved.signIn ? { provider: saved.signIn.provider, clientId: saved.signIn.clientId ?? '', tenant: saved.signIn.tenant ?? '' } : null,
            isSignedIn: saved.signIn?.isSignedIn ?? false,
          });
        }
      }
      if (jobs.ok) {
        set({ interruptedJobs: jobs.value.filter((j) => RESUMABLE_JOB_STATUSES.has(j.status)).sort((a, b) => b.updatedAt - a.updatedAt) });
      }
    },
    goTo(screen) {
      set({ screen, notice: null });
    },
    dismissResume(jobId) {
      set({ interruptedJobs: get().interruptedJobs.filter((j) => j.jobId !== jobId) });
    },
    setNotice(notice) {
      set({ notice });
    },
    async openLink(url) {
      const result = await bridge.linksOpen({ url });
      if (!result.ok) set({ notice: { tone: 'error', text: result.error.message } });
    },
  });
