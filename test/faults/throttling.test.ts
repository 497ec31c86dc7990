/**
 * Fault family: the server says "not now": NO [UNAVAILABLE] to an APPEND, NO [LIMIT] to a FETCH,
 * BYE in the middle of the session, refused connections for a while (closed at once, or with a
 * BYE greeting), and a server-suggested back-off time. The engine backs off as asked, never
 * reconnects in a loop without delay, and finishes the copy.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateCorpus } from '../support/corpus.js';
import { assertDone, assertWorldIntact, runCopy, startWorld, type CopyRun } from './harness.js';

const retryErrors = (run: CopyRun): { kind: string; serverCode?: string; retryable: boolean }[] =>
  run.events.flatMap((e) => (e.type === 'folder-status' && e.folder.status === 'retrying' && e.folder.lastError ? [e.folder.lastError] : []));

describe('throttling answers', { concurrency: false }, () => {
  test('NO [UNAVAILABLE] to APPEND, three times: backed off, resumed', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 91, messagesPerFolder: 2 }) });
    try {
      const [inject] = world.destinationProxy.setFaults([{ kind: 'inject', onCommand: /^\S+ APPEND /i, response: '{tag} NO [UNAVAILABLE] Server is busy, try later', times: 3 }]);
      const run = await runCopy(world, { seed: 91 });
      assert.equal(inject?.firedCount, 3);
      const errors = retryErrors(run);
      // APPENDs are pipelined: one batch can meet several of the injected answers, and a
      // throttled batch is one retry.
      assert.ok(errors.filter((e) => e.kind === 'throttled' && e.serverCode === 'UNAVAILABLE').length >= 1, `retried as throttled: ${JSON.stringify(errors)}`);
      assertDone(run.report);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  test('NO [LIMIT] to the body FETCH, twice, and a BYE [UNAVAILABLE] instead of an EXAMINE answer', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 92, messagesPerFolder: 2 }) });
    try {
      const faults = world.sourceProxy.setFaults([
        { kind: 'inject', onCommand: /^\S+ UID FETCH .*BODY\.PEEK\[\]/i, response: '{tag} NO [LIMIT] Too many concurrent FETCHes', times: 2 },
        { kind: 'inject', onCommand: /^\S+ EXAMINE /i, response: '* BYE [UNAVAILABLE] Server overloaded, come back later', times: 1 },
      ]);
      const run = await runCopy(world, { seed: 92 });
      assert.deepEqual(
        faults.map((f) => f.firedCount),
        [2, 1],
      );
      assert.ok(retryErrors(run).some((e) => e.kind === 'throttled' && e.serverCode === 'LIMIT'), `LIMIT understood as throttling: ${JSON.stringify(retryErrors(run))}`);
      assertDone(run.report);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  for (const mode of ['closed at once', 'BYE greeting'] as const) {
    test(`connections refused for 1.5 s (${mode}): few attempts, each after a growing delay`, async () => {
      const world = await startWorld({ corpus: generateCorpus({ seed: 93, messagesPerFolder: 2 }) });
      try {
        const windowMs = 1_500;
        const [refuse] = world.sourceProxy.setFaults([{ kind: 'refuse', forMs: windowMs, ...(mode === 'BYE greeting' ? { greeting: '* BYE [UNAVAILABLE] Too many connections from your IP\r\n' } : {}) }]);
        const run = await runCopy(world, { seed: 93, settings: { connectionsPerSide: 1, maxConsecutiveFailures: 12 }, backoff: { baseMs: 100, capMs: 800 } });
        const refusedAt = (refuse?.events ?? []).map((e) => e.atMs);
        assert.ok(refusedAt.length >= 2, `the refusal fired (${refusedAt.length} times)`);
        // Backoff bound: delays are at least 50, 100, 200, 400, 400, ... ms (half of 100·2^k, capped).
        assert.ok(refusedAt.length <= 7, `at most 7 attempts in a 1.5 s window, not a reconnect loop (${refusedAt.length})`);
        const gaps = refusedAt.slice(1).map((t, i) => t - (refusedAt[i] as number));
        gaps.forEach((gap, i) => assert.ok(gap >= Math.min(800, 100 * 2 ** i) / 2 - 15, `attempt ${i + 2} came ${gap} ms after the previous one`));
        assertDone(run.report);
        await assertWorldIntact(world);
      } finally {
        await world.stop();
      }
    });
  }

  test('a server-suggested back-off time is honoured', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 94, messagesPerFolder: 2 }) });
    try {
      const suggestedMs = 1_200;
      // The form Microsoft 365 uses; imapflow turns it into ETHROTTLE with the suggested delay.
      const [inject] = world.destinationProxy.setFaults([
        { kind: 'inject', onCommand: /^\S+ APPEND /i, response: `{tag} BAD Request is throttled. Suggested Backoff Time: ${suggestedMs} milliseconds`, times: 1 },
      ]);
      let firedAt = 0;
      void inject?.whenFired(1, 30_000).then(() => (firedAt = Date.now()));
      const run = await runCopy(world, { seed: 94, settings: { connectionsPerSide: 1 }, timeouts: { socketTimeoutMs: 4_000, greetingTimeoutMs: 1_500, connectionTimeoutMs: 1_500 } });
      assert.equal(inject?.firedCount, 1);
      const retry = retryErrors(run).find((e) => e.kind === 'throttled');
      assert.ok(retry, `retried as throttled: ${JSON.stringify(retryErrors(run))}`);
      assert.equal((retry as { retryAfterMs?: number }).retryAfterMs, suggestedMs, 'the suggested time was read');
      const reopened = run.destinationOpens.filter((t) => t > firedAt);
      assert.ok(reopened.length >= 1, 'reconnected after the throttle');
      assert.ok((reopened[0] as number) - firedAt >= suggestedMs - 50, `waited ${(reopened[0] as number) - firedAt} ms (asked: ${suggestedMs})`);
      assertDone(run.report);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  for (const provider of ['Gmail', 'Microsoft 365'] as const) {
    test(`${provider}'s account limit after the first batch: every folder waits until it passes, goes on by itself, and it never counts as a failure`, async () => {
      // Several folders and several batches, so the limit meets a move under way.
      const world = await startWorld({ corpus: generateCorpus({ seed: provider === 'Gmail' ? 95 : 96, messagesPerFolder: 6 }) });
      try {
        const answer =
          provider === 'Gmail'
            ? '{tag} NO [OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)'
            : '{tag} BAD Request is throttled. Suggested Backoff Time: 2500 milliseconds';
        let limitAt = 0;
        const run = await runCopy(world, {
          seed: 95,
          // One failed attempt would set a folder aside: the limit must not count as one.
          settings: { maxConsecutiveFailures: 1, providerLimitRetryMs: 2_500 },
          onEvent: (event) => {
            if (!limitAt && event.type === 'progress' && event.progress.messagesDone > 0) {
              limitAt = Date.now();
              world.destinationProxy.setFaults([{ kind: 'inject', onCommand: /^\S+ APPEND /i, response: answer, times: 1 }]);
            }
          },
        });
        assert.ok(limitAt > 0, 'the limit was set once copying had begun');
        const waits = run.events.flatMap((e) => (e.type === 'folder-status' && e.folder.status === 'retrying' && e.folder.lastError?.isProviderLimit ? [e.folder] : []));
        assert.ok(waits.length >= 1, 'the folder showed when it goes on');
        assert.ok(waits.every((f) => (f.retryAt ?? 0) - limitAt >= 2_000 && (f.retryAt ?? 0) - limitAt <= 60_000), `waited about the limit's time: ${waits.map((f) => (f.retryAt ?? 0) - limitAt).join(', ')} ms`);
        assert.ok(
          run.events.some((e) => e.type === 'log' && /limit for this account was reached|asked us to wait/.test(e.message) && /Going on at/.test(e.message)),
          'the log says when the move goes on',
        );
        const reopened = run.destinationOpens.filter((t) => t > limitAt);
        assert.ok(reopened.length >= 1 && (reopened[0] as number) - limitAt >= 2_000, 'nothing was sent again before the limit passed');
        assertDone(run.report);
        await assertWorldIntact(world);
      } finally {
        await world.stop();
      }
    });
  }
});
