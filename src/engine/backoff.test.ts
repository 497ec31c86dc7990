import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelayMs } from './backoff.js';
import { createBandwidthLimiter } from './bandwidth-limiter.js';

test('backoff doubles, is capped, never zero, and honours the server', () => {
  const policy = { baseMs: 1000, capMs: 8000 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy, undefined, () => 1)), [1000, 2000, 4000, 8000, 8000, 8000]);
  assert.equal(backoffDelayMs(1, policy, undefined, () => 0), 500, 'at least half the step even with zero jitter');
  assert.equal(backoffDelayMs(1, policy, 30_000, () => 0), 30_000);
});

test('the bandwidth cap makes a sender wait for its share', async () => {
  let clock = 0;
  const limiter = createBandwidthLimiter(1000, () => clock);
  const started = Date.now();
  await limiter(1000); // the first second's burst
  await limiter(100); // 100 bytes over: 100 ms wait
  assert.ok(Date.now() - started >= 90, `waited ${Date.now() - started} ms`);
  clock += 10_000;
  const quick = Date.now();
  await limiter(500);
  assert.ok(Date.now() - quick < 50);
});
