/**
 * The renderer's only door to main: one named function per channel of the contract (never a
 * generic invoke), plus subscriptions to job and batch events. Bundled to CommonJS (preload.cjs),
 * because a sandboxed preload can neither be ESM nor require files of its own.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { INVOKE_CHANNELS, bridgeNameOf, type EventChannel } from '../src/contract/ipc.js';
import type { AppJobEvent as JobEvent, BatchEvent } from '../src/contract/ipc.js';

const JOB_EVENTS: EventChannel = 'jobs:event';
const BATCH_EVENTS: EventChannel = 'batch:event';
const api: Record<string, unknown> = {};
for (const channel of INVOKE_CHANNELS) {
  api[bridgeNameOf(channel)] = (request?: unknown) => ipcRenderer.invoke(channel, request);
}
api.onJobEvent = (listener: (event: JobEvent) => void) => {
  const forward = (_event: IpcRendererEvent, payload: JobEvent): void => listener(payload);
  ipcRenderer.on(JOB_EVENTS, forward);
  return () => {
    ipcRenderer.removeListener(JOB_EVENTS, forward);
  };
};
api.onBatchEvent = (listener: (event: BatchEvent) => void) => {
  const forward = (_event: IpcRendererEvent, payload: BatchEvent): void => listener(payload);
  ipcRenderer.on(BATCH_EVENTS, forward);
  return () => {
    ipcRenderer.removeListener(BATCH_EVENTS, forward);
  };
};
contextBridge.exposeInMainWorld('mailferry', Object.freeze(api));
