/**
 * The renderer's one store, made of typed slices. It is created with the bridge it talks to,
 * so tests get a fresh store around a fake bridge and the app gets one around `window.mailferry`.
 * Actions are plain functions on the state: IPC listeners call them outside React.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { MailferryBridge } from '../../../src/contract/ipc.js';
import type { AppState } from './types.js';
import { createAppSlice } from './app-slice.js';
import { createAccountsSlice } from './accounts-slice.js';
import { createFoldersSlice } from './folders-slice.js';
import { createJobSlice } from './job-slice.js';
import { createBatchSlice } from './batch-slice.js';

export type AppStore = StoreApi<AppState>;

export function createAppStore(bridge: MailferryBridge): AppStore {
  return createStore<AppState>()((...a) => ({
    ...createAppSlice(bridge)(...a),
    ...createAccountsSlice(...a),
    ...createFoldersSlice(...a),
    ...createJobSlice(...a),
    ...createBatchSlice(...a),
  }));
}

/** Wires the bridge's events into the store; returns the unsubscribe function. */
export function connectBridgeEvents(store: AppStore): () => void {
  const offJobs = store.getState().bridge.onJobEvent((event) => store.getState().applyJobEvent(event));
  const offBatch = store.getState().bridge.onBatchEvent((event) => store.getState().applyBatchEvent(event));
  return () => {
    offJobs();
    offBatch();
  };
}
