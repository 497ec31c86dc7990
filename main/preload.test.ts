import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { INVOKE_CHANNELS, bridgeNameOf } from '../src/contract/ipc.js';

const PRELOAD = fileURLToPath(new URL('../dist/main/preload.cjs', import.meta.url));
let source = '';

before(async () => {
  // The preload is what ships: build the bundle, then run it with `electron` mocked.
  const { build } = await import('vite');
  await build({ configFile: fileURLToPath(new URL('./vite.preload.config.mts', import.meta.url)), logLevel: 'warn' });
  source = await readFile(PRELOAD, 'utf8');
});

function runPreload() {
  const exposed: Record<string, Record<string, (...a: unknown[]) => unknown>> = {};
  const invoked: { channel: string; args: unknown[] }[] = [];
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: Record<string, (...a: unknown[]) => unknown>) => void (exposed[key] = api) },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => {
        invoked.push({ channel, args });
        return { ok: true, value: channel };
      },
      on: (channel: string, l: (...a: unknown[]) => void) => void (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel)!).add(l),
      removeListener: (channel: string, l: (...a: unknown[]) => void) => void listeners.get(channel)?.delete(l),
    },
  };
  const required: string[] = [];
  const sandboxRequire = (id: string): unknown => {
    required.push(id);
    if (id === 'electron') return electron;
    throw new Error(`a sandboxed preload cannot require ${id}`);
  };
  vm.runInNewContext(source, { require: sandboxRequire, module: { exports: {} }, exports: {} }, { filename: 'preload.cjs' });
  return { exposed, invoked, listeners, required };
}

test('the preload exposes one named function per channel and nothing generic', async () => {
  const { exposed, invoked, required } = runPreload();
  assert.deepEqual(required, ['electron'], 'a single self-contained CommonJS file');
  const api = exposed.mailferry!;
  const expected = [...INVOKE_CHANNELS.map((c) => bridgeNameOf(c) as string), 'onJobEvent', 'onBatchEvent'].sort();
  assert.deepEqual(Object.keys(api).sort(), expected);
  assert.ok(!('invoke' in api) && !('send' in api));
  for (const channel of INVOKE_CHANNELS) {
    const result = await api[bridgeNameOf(channel)]!({ probe: channel });
    assert.deepEqual(result, { ok: true, value: channel });
  }
  assert.deepEqual(invoked.map((i) => i.channel), [...INVOKE_CHANNELS], 'each function calls its own channel only');
});

for (const [subscribe, channelName, payload] of [
  ['onJobEvent', 'jobs:event', { type: 'log', jobId: 'j' }],
  ['onBatchEvent', 'batch:event', { type: 'batch-status', isRunning: true }],
] as const) {
  test(`${channelName} events are forwarded without the IPC event object, and can be unsubscribed`, () => {
    const { exposed, listeners } = runPreload();
    const seen: unknown[] = [];
    const unsubscribe = exposed.mailferry![subscribe]!((e: unknown) => seen.push(e)) as () => void;
    const channel = listeners.get(channelName)!;
    for (const l of channel) l({ sender: 'ipc internals' }, payload);
    assert.deepEqual(seen, [payload]);
    unsubscribe();
    assert.equal(channel.size, 0);
  });
}
