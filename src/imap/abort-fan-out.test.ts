import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { onAbortOf } from './abort-fan-out.js';

test('forty connections waiting on one stop signal put one listener on it, and each hears the stop once', () => {
  const controller = new AbortController();
  const heard: number[] = [];
  const stops = Array.from({ length: 40 }, (_, i) => onAbortOf(controller.signal, () => heard.push(i)));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  stops[3]?.();
  controller.abort();
  controller.abort();
  onAbortOf(controller.signal, () => heard.push(-1))();
  assert.deepEqual(heard, [...Array(40).keys()].filter((i) => i !== 3), 'every waiter but the one that stopped waiting, once, in order');
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'the one listener was taken off by the stop');
});
