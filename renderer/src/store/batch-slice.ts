import type { StateCreator } from 'zustand';
import type { AppState, BatchSlice } from './types.js';

/** How often an open mailbox's folder tree asks main for its folders while the batch runs. */
const FOLDERS_REFRESH_MS = 1_000;

export const createBatchSlice: StateCreator<AppState, [], [], BatchSlice> = (set, get) => {
  let refresh: ReturnType<typeof setInterval> | undefined;
  const loadFolders = async (id: string): Promise<void> => {
    const folders = await get().bridge.batchFolders({ id });
    if (get().openMailboxId !== id) return;
    if (folders.ok) set({ mailboxFolders: folders.value });
    else set({ notice: { tone: 'error', text: folders.error.message } });
  };
  const stopRefresh = (): void => {
    if (refresh !== undefined) clearInterval(refresh);
    refresh = undefined;
  };
  const refreshWhileRunning = (): void => {
    stopRefresh();
    const id = get().openMailboxId;
    if (id === null || get().batchState !== 'running') return;
    refresh = setInterval(() => {
      const current = get().openMailboxId;
      if (current === null || get().batchState !== 'running') return stopRefresh();
      void loadFolders(current);
    }, FOLDERS_REFRESH_MS);
  };

  return {
    batch: null,
    batchState: 'idle',
    mailboxes: {},
    batchSummaries: null,
    batchParallel: 2,
    batchAllowPlaintext: false,
    openMailboxId: null,
    mailboxFolders: null,
    async openBatch() {
      set({ batchState: 'opening', notice: null });
      const opened = await get().bridge.batchOpen({ allowPlaintext: get().batchAllowPlaintext });
      if (!opened.ok) {
        set({ batchState: get().batch === null ? 'idle' : get().batch!.problems.length > 0 ? 'invalid' : 'ready' });
        if (opened.error.kind !== 'cancelled') set({ notice: { tone: 'error', text: opened.error.message } });
        return;
      }
      const batch = opened.value;
      stopRefresh();
      set({
        batch,
        screen: 'batch',
        batchState: batch.problems.length > 0 ? 'invalid' : batch.isRunning ? 'running' : 'ready',
        mailboxes: Object.fromEntries(batch.progress.map((p) => [p.id, p])),
        batchSummaries: null,
        openMailboxId: null,
        mailboxFolders: null,
      });
    },
    async startBatch() {
      set({ batchState: 'running', batchSummaries: null, notice: null });
      const started = await get().bridge.batchStart({ parallel: get().batchParallel });
      if (!started.ok) set({ batchState: 'ready', notice: { tone: 'error', text: started.error.message } });
      else refreshWhileRunning();
    },
    async stopBatch() {
      set({ batchState: 'stopping' });
      const stopped = await get().bridge.batchStop();
      if (!stopped.ok) set({ notice: { tone: 'error', text: stopped.error.message } });
    },
    async exportBatch(format) {
      const saved = await get().bridge.batchExport({ format });
      if (saved.ok) set({ notice: { tone: 'info', text: `Report saved to ${saved.value.path}` } });
      else if (saved.error.kind !== 'cancelled') set({ notice: { tone: 'error', text: saved.error.message } });
    },
    async openMailbox(id) {
      set({ openMailboxId: id, mailboxFolders: null });
      if (id === null) return stopRefresh();
      await loadFolders(id);
      refreshWhileRunning();
    },
    setBatchParallel(parallel) {
      set({ batchParallel: Math.max(1, Math.min(16, Math.round(parallel) || 1)) });
    },
    setBatchAllowPlaintext(isAllowed) {
      set({ batchAllowPlaintext: isAllowed });
    },
    applyBatchEvent(event) {
      if (event.type === 'mailbox') {
        set({ mailboxes: { ...get().mailboxes, [event.progress.id]: event.progress } });
        return;
      }
      if (event.isRunning) {
        set({ batchState: 'running' });
        return;
      }
      stopRefresh();
      set({ batchState: 'finished', batchSummaries: event.summaries ?? null });
      // The tree of an open mailbox shows how its run ended.
      const open = get().openMailboxId;
      if (open !== null) void loadFolders(open);
    },
  };
};
