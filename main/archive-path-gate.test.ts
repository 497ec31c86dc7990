import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { INVOKE_CHANNELS, type InvokeChannel } from '../src/contract/ipc.js';
import { gateArchivePaths } from './archive-path-gate.js';
import { handleInvoke, type InvokeEventLike, type InvokeHandlers } from './ipc-handlers.js';

const own: InvokeEventLike = { sender: { id: 7 }, senderFrame: { url: 'file:///app/index.html', parent: null } };
const trusted = (): boolean => true;
const CHOSEN = '/home/maria/Mail archive';

/** Handlers that record what reached them; the folder dialog answers CHOSEN. */
function recordingHandlers(): { handlers: InvokeHandlers; reached: InvokeChannel[] } {
  const reached: InvokeChannel[] = [];
  const handlers = Object.fromEntries(
    INVOKE_CHANNELS.map((channel) => [
      channel,
      async () => {
        reached.push(channel);
        return channel === 'archive:chooseFolder' ? { ok: true, value: { path: CHOSEN } } : { ok: true, value: null };
      },
    ]),
  ) as unknown as InvokeHandlers;
  return { handlers, reached };
}

const plan = (archivePath: string, as: 'archive' | 'source' = 'archive') => ({ options: {}, [as]: { format: 'mbox', path: archivePath } });
const start = (archivePath: string) => ({ options: {}, selectedPaths: ['INBOX'], settings: {}, archive: { format: 'maildir', path: archivePath } });

describe('archive folders over IPC', () => {
  test('only a folder the dialog returned in this session reaches the engine, to write or to restore from', async () => {
    const { handlers, reached } = recordingHandlers();
    const gated = gateArchivePaths(handlers);
    const invoke = (channel: InvokeChannel, payload: unknown) => handleInvoke(channel, own, payload, gated, trusted);
    for (const [channel, payload] of [
      ['plan:load', plan(CHOSEN)],
      ['plan:load', plan(CHOSEN, 'source')],
      ['jobs:start', start(CHOSEN)],
      ['plan:load', plan('/home/maria/.ssh')],
    ] as const) {
      const answer = await invoke(channel, payload);
      assert.equal(answer.ok, false, `${channel} ${JSON.stringify(payload)} before the dialog`);
      assert.match(answer.ok ? '' : answer.error.message, /Choose the archive folder again/);
    }
    assert.deepEqual(reached, [], 'nothing reached the engine');

    assert.equal((await invoke('archive:chooseFolder', undefined)).ok, true);
    assert.equal((await invoke('plan:load', plan(CHOSEN))).ok, true);
    assert.equal((await invoke('plan:load', plan(CHOSEN, 'source'))).ok, true);
    assert.equal((await invoke('jobs:start', start(`${CHOSEN}/./`))).ok, true, 'the same folder, written another way');
    for (const other of ['/home/maria/.ssh', `${CHOSEN}/..`, `${CHOSEN}/../.ssh`, `${CHOSEN} 2`]) {
      assert.equal((await invoke('plan:load', plan(other))).ok, false, other);
    }
    assert.equal((await invoke('plan:load', { options: {} })).ok, true, 'no archive at all is fine');
    assert.deepEqual(reached, ['archive:chooseFolder', 'plan:load', 'plan:load', 'jobs:start', 'plan:load']);
  });

  test('a folder main saved itself is allowed without the dialog', async () => {
    const { handlers } = recordingHandlers();
    const gated = gateArchivePaths(handlers, () => ['/srv/archives/maria']);
    assert.equal((await handleInvoke('plan:load', own, plan('/srv/archives/maria'), gated, trusted)).ok, true);
    assert.equal((await handleInvoke('plan:load', own, plan('/srv/archives/other'), gated, trusted)).ok, false);
  });
});
