import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lockDown, type LockableContents, type PreventableEvent } from './lock-down.js';

test('navigation, redirects, webviews and new windows are all refused', () => {
  const listeners = new Map<string, (e: PreventableEvent) => void>();
  let openHandler: ((d: { url: string }) => { action: string }) | undefined;
  const contents: LockableContents = {
    on: (event, listener) => listeners.set(event, listener),
    setWindowOpenHandler: (handler) => {
      openHandler = handler;
    },
  };
  lockDown(contents);
  for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
    let isPrevented = false;
    listeners.get(event)!({ preventDefault: () => void (isPrevented = true) });
    assert.ok(isPrevented, `${event} is prevented`);
  }
  assert.deepEqual(openHandler!({ url: 'https://example.org/' }), { action: 'deny' });
});
