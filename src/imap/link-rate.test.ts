import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commitWindow } from './append-channel.js';
import { FIRST_BATCH_BYTES, LinkRate, SETTLE_MARGIN_MS } from './link-rate.js';

test('before anything was measured: a small first batch and a slow assumed rate', () => {
  const rate = new LinkRate();
  assert.equal(rate.slowest, undefined);
  assert.equal(rate.preferredBatchBytes(8 * 1024 * 1024), FIRST_BATCH_BYTES);
  // 256 KB/s assumed: 1 MB may take 3 × 4 s before we give up, and settles in 5 s + 3 × 4 s.
  assert.equal(Math.round(rate.allowanceMs(1024 * 1024)), 12_000);
  assert.equal(rate.settleMs(1024 * 1024), SETTLE_MARGIN_MS + 12_000);
});

test('the slowest recent batch rules deadlines; batches aim at two seconds of the latest, within bounds', () => {
  const rate = new LinkRate();
  rate.record(3_000_000, 2_000); // 1.5 MB/s
  rate.record(6_000_000, 2_000); // 3 MB/s
  assert.equal(rate.slowest, 1_500_000);
  assert.equal(rate.preferredBatchBytes(8 * 1024 * 1024), 6_000_000, 'two seconds at the latest rate');
  assert.equal(rate.allowanceMs(1_500_000), 3_000);
  rate.record(1_000, 1_000); // a tiny batch is mostly a round trip: not a measurement
  assert.equal(rate.slowest, 1_500_000);
  for (let i = 0; i < 8; i++) rate.record(100_000_000, 100); // a fast loopback pushes the slow one out
  assert.equal(rate.slowest, 1_000_000_000);
  assert.equal(rate.preferredBatchBytes(8 * 1024 * 1024), 8 * 1024 * 1024, 'never more than the maximum asked for');
  assert.equal(rate.preferredBatchBytes(256 * 1024 * 1024), 256 * 1024 * 1024, 'two seconds of a fast link, up to that maximum');
  const slow = new LinkRate();
  slow.record(70_000, 10_000); // 7 KB/s
  assert.equal(slow.preferredBatchBytes(8 * 1024 * 1024), 64 * 1024, 'never less than 64 KB');
  assert.equal(slow.settleMs(100 * 1024 * 1024 * 1024), 15 * 60_000, 'a settle window is capped');
});

test('single APPENDs fed slowly announce their window again before it would end too soon', async () => {
  let clock = 0;
  const announced: { at: number; settleMs: number }[] = [];
  const rate = { settleMs: (bytes: number) => SETTLE_MARGIN_MS + bytes }; // 1 ms a byte, for the sums
  const before = commitWindow(rate, async (settleMs) => void announced.push({ at: clock, settleMs }), () => clock);
  await before(1_000); // first message: announced, covered until 6,000
  clock = 2_000;
  await before(900); // 2,000 + 5,900 > 6,000: announced again
  clock = 2_500;
  await before(100); // 2,500 + 5,100 <= 7,900: still covered
  clock = 7_000;
  await before(100); // 7,000 + 5,100 > 7,900: again
  assert.deepEqual(announced, [
    { at: 0, settleMs: 6_000 },
    { at: 2_000, settleMs: 5_900 },
    { at: 7_000, settleMs: 5_100 },
  ]);
});
