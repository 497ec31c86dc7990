/**
 * Fault family: the connection goes silent (no bytes either way, socket left open) for longer
 * than the socket timeout: before the greeting, mid-FETCH, mid-APPEND. The engine must notice,
 * drop the connection, reconnect after a backoff and finish; never hang.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateCorpus } from '../support/corpus.js';
import { assertDone, assertWorldIntact, runCopy, startWorld, TEST_TIMEOUTS } from './harness.js';

/** Stalls last until cleared: far longer than the 1.5 s socket timeout the tests use. */
const HANG_LIMIT_MS = 20_000;

const folderErrors = (events: { type: string; folder?: { status: string; lastError?: { kind: string } } }[]): string[] =>
  events.flatMap((e) => (e.type === 'folder-status' && e.folder?.status === 'retrying' && e.folder.lastError ? [e.folder.lastError.kind] : []));

describe('silent connection (stall longer than the socket timeout)', { concurrency: false }, () => {
  test('mid-FETCH of bodies on the source: noticed as a timeout, resumed', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 41, messagesPerFolder: 3 }) });
    try {
      const [stall] = world.sourceProxy.setFaults([{ kind: 'stall', onCommand: /^\S+ UID FETCH .*BODY\.PEEK\[\]/i, randomBetween: [100, 20_000], seed: 41 }]);
      const run = await runCopy(world, { seed: 41 });
      assert.equal(stall?.firedCount, 1, 'the stall happened');
      assert.ok(run.durationMs < HANG_LIMIT_MS, `finished in ${run.durationMs} ms, not hung`);
      assert.ok(run.durationMs >= (TEST_TIMEOUTS.socketTimeoutMs ?? 0), 'the stall cost at least one socket timeout');
      // imapflow rejects the stuck command as a lost connection after its socket timeout fires.
      assert.ok(folderErrors(run.events).some((k) => k === 'timeout' || k === 'network'), `a folder was retried after the silence (${folderErrors(run.events).join(', ')})`);
      assertDone(run.report);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  test('mid-APPEND on the destination: noticed, resumed, not copied twice', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 42, messagesPerFolder: 3 }) });
    try {
      const [stall] = world.destinationProxy.setFaults([
        { kind: 'stall', direction: 'client-to-server', onCommand: /^\S+ APPEND /i, randomBetween: [0, 1_000], seed: 42, times: 2 },
      ]);
      const run = await runCopy(world, { seed: 42 });
      assert.equal(stall?.firedCount, 2, 'the stall happened twice');
      assert.ok(run.durationMs < HANG_LIMIT_MS, `finished in ${run.durationMs} ms, not hung`);
      assertDone(run.report);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  test('a stall mid-APPEND that ends after the timeout: the held batch is not stored twice', async () => {
    // The engine gives up on the connection after 1.5 s; the held bytes are released at 3 s. An
    // abandoned connection closed with FIN would still deliver them (the pipelined batch landing
    // after the retry had sent it again); it must be reset so they are dropped.
    const world = await startWorld({ corpus: generateCorpus({ seed: 44, messagesPerFolder: 3 }) });
    try {
      const [stall] = world.destinationProxy.setFaults([{ kind: 'stall', direction: 'client-to-server', onCommand: /^\S+ APPEND /i, afterBytes: 0, durationMs: 3_000, times: 1 }]);
      const run = await runCopy(world, { seed: 44, settings: { connectionsPerSide: 1 } });
      assert.equal(stall?.firedCount, 1, 'the stall happened');
      assert.ok(run.durationMs < HANG_LIMIT_MS, `finished in ${run.durationMs} ms, not hung`);
      // Let anything still held arrive before looking.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assertDone(run.report);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  test('a server that accepts but never greets: noticed, reconnected', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 43, messagesPerFolder: 2 }) });
    try {
      // Connections 1 and 2 to the source hang before the greeting.
      const faults = world.sourceProxy.setFaults([
        { kind: 'stall', connection: 1, afterBytes: 0 },
        { kind: 'stall', connection: 2, afterBytes: 0 },
      ]);
      const run = await runCopy(world, { seed: 43 });
      assert.deepEqual(
        faults.map((f) => f.firedCount),
        [1, 1],
        'both stalls fired',
      );
      assert.ok(run.durationMs < HANG_LIMIT_MS, `finished in ${run.durationMs} ms, not hung`);
      assertDone(run.report);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });
});
