/**
 * Fault family: a server restarted mid-job, and the CLI process SIGKILLed at seeded random points
 * and started again, until it finishes. Nothing is lost, nothing copied twice, and neither the
 * output nor any file the CLI wrote holds a password.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { generateCorpus, generateFolderOfSize, Rng } from '../support/corpus.js';
import { assertDone, assertWorldIntact, DESTINATION_USER, runCopy, SOURCE_USER, startWorld } from './harness.js';
import { cliArgs, runCli, type CliResult } from './cli-child.js';

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });

const assertNoPasswords = (texts: { name: string; text: string }[]): void => {
  for (const { name, text } of texts) {
    for (const password of [SOURCE_USER.password, DESTINATION_USER.password]) {
      assert.ok(!text.includes(password), `${name} contains a password`);
    }
  }
};

describe('server restarted mid-job', { concurrency: false }, () => {
  for (const side of ['source', 'destination'] as const) {
    test(`the ${side} server restarts (BYE to open connections) after the first folder is verified`, async () => {
      const world = await startWorld({ corpus: generateCorpus({ seed: side === 'source' ? 51 : 52, messagesPerFolder: 3 }) });
      try {
        const server = side === 'source' ? world.source : world.destination;
        let restart: Promise<void> | undefined;
        let restartedAt = 0;
        const run = await runCopy(world, {
          seed: 51,
          settings: { connectionsPerSide: 1 },
          onEvent: (event) => {
            if (!restart && event.type === 'folder-status' && event.folder.status === 'verified') {
              restartedAt = Date.now();
              restart = server.restart({ graceful: true });
            }
          },
        });
        assert.ok(restart, 'the restart was triggered');
        await restart;
        const opens = side === 'source' ? run.sourceOpens : run.destinationOpens;
        assert.ok(
          opens.some((t) => t > restartedAt),
          `reconnected to the ${side} after the restart (${opens.length} connections)`,
        );
        assert.ok(
          run.events.some((e) => e.type === 'folder-status' && e.folder.status === 'retrying'),
          'a folder was retried because of the restart',
        );
        assertDone(run.report);
        await assertWorldIntact(world);
      } finally {
        await world.stop();
      }
    });
  }
});

describe('server restarted while commands are in flight', { concurrency: false }, () => {
  for (const side of ['source', 'destination'] as const) {
    test(`the ${side} restarts while a ${side === 'source' ? 'body FETCH' : 'pipelined APPEND batch'} is on the wire`, async () => {
      const world = await startWorld({ corpus: generateCorpus({ seed: side === 'source' ? 53 : 54, messagesPerFolder: 4 }) });
      try {
        const server = side === 'source' ? world.source : world.destination;
        const proxy = side === 'source' ? world.sourceProxy : world.destinationProxy;
        // Hold the traffic right after the command, restart the server under it, then let go.
        const [hold] = proxy.setFaults([
          side === 'source'
            ? { kind: 'stall', direction: 'server-to-client', onCommand: /^\S+ UID FETCH .*BODY\.PEEK\[\]/i, afterBytes: 500 }
            : { kind: 'stall', direction: 'server-to-client', onCommand: /^\S+ APPEND /i, afterBytes: 0 },
        ]);
        let restarted: Promise<void> | undefined;
        void hold?.whenFired(1, 30_000).then(() => {
          // Graceful (BYE, clean exit). After a SIGKILL mid-APPEND, Dovecot once kept timing out
          // every APPEND to that folder for longer than this test waits (a stale lock, most
          // likely; not confirmed): the engine then rightly set the folder aside.
          restarted = server.restart({ graceful: true }).then(() => proxy.clearFaults());
        });
        const run = await runCopy(world, { seed: 53, timeouts: { socketTimeoutMs: 4_000, greetingTimeoutMs: 1_500, connectionTimeoutMs: 1_500 } });
        assert.equal(hold?.firedCount, 1, 'the traffic was held');
        assert.ok(restarted, 'the server was restarted under it');
        await restarted;
        assert.ok(run.events.some((e) => e.type === 'folder-status' && e.folder.status === 'retrying'), 'a folder was retried');
        assertDone(run.report);
        await assertWorldIntact(world);
      } finally {
        await world.stop();
      }
    });
  }
});

describe('CLI killed with SIGKILL at random points', { concurrency: false }, () => {
  test('killed 4 times (after seeded numbers of progress events and at seeded times), then runs to completion', async () => {
    const corpus = generateCorpus({ seed: 61, messagesPerFolder: 4 });
    // A bulk folder of many small messages gives many batches and journal writes to die in.
    // Sized against the --max-rate below so a whole run lasts several seconds however fast the
    // engine gets (with 120 messages a faster engine finished before the fourth kill point).
    corpus.folders.push(generateFolderOfSize({ seed: 61, segments: ['Bulk'], messages: 400, sizeRange: [2_000, 30_000] }));
    const world = await startWorld({ corpus });
    try {
      // Slow the destination a little so there is a job to interrupt.
      world.destinationProxy.setFaults([{ kind: 'bandwidth', bytesPerSecond: 1_500_000, direction: 'client-to-server' }]);
      const rng = new Rng('sigkill-61');
      const runs: CliResult[] = [];
      for (let kill = 0; kill < 4; kill++) {
        const byEvents = kill % 2 === 0;
        const afterProgress = rng.int(1, 6);
        const afterMs = rng.int(0, 600);
        let progressSeen = 0;
        let copyingSince = 0;
        const result = await runCli(cliArgs(world, ['--max-rate', '1M']), {
          killWhen: (event, _n, killIn) => {
            const done = (event as { progress?: { messagesDone: number } }).progress?.messagesDone ?? 0;
            if (event.type === 'progress' && done > 0) progressSeen++;
            if (!byEvents && event.type === 'job-status' && !copyingSince) {
              copyingSince = Date.now();
              killIn(afterMs);
            }
            return byEvents && progressSeen >= afterProgress;
          },
        });
        runs.push(result);
        process.stderr.write(`run ${kill + 1}: killed=${result.killed} events=${result.events.length} progress=${progressSeen}\n`);
        assert.equal(result.killed, true, `run ${kill + 1} was killed (exit ${result.code}); it finished before the kill point, the job is too small`);
        assert.equal(result.signal, 'SIGKILL');
      }
      const final = await runCli(cliArgs(world));
      runs.push(final);
      assert.equal(final.code, 0, `the last run completed:\n${final.stderr.slice(-3000)}`);
      const summary = final.events.at(-1) as { type: string; report?: { status: string; totals: { failed: number; copied: number; alreadyThere: number } } };
      assert.equal(summary.type, 'summary');
      assert.equal(summary.report?.status, 'done');
      assert.equal(summary.report?.totals.failed, 0);
      // Whatever the killed runs left on the link must have reached the server before comparing:
      // a commit that lands late is what this test exists to catch.
      await world.destinationProxy.whenIdle(90_000);
      await assertWorldIntact(world);

      // Progress was actually made before kills (the journal carried it), not all redone at the end.
      const copiedBeforeLastRun = runs.slice(0, -1).some((r) => r.events.some((e) => e.type === 'progress' && ((e as { progress?: { messagesDone: number } }).progress?.messagesDone ?? 0) > 0));
      assert.ok(copiedBeforeLastRun, 'the killed runs copied something');

      assertNoPasswords([
        ...runs.flatMap((r, i) => [
          { name: `stdout of run ${i + 1}`, text: r.stdout },
          { name: `stderr of run ${i + 1}`, text: r.stderr },
        ]),
        ...filesUnder(world.stateDir).map((file) => ({ name: file, text: readFileSync(file, 'latin1') })),
      ]);
    } finally {
      await world.stop();
    }
  });
});
