/**
 * Fault family: one folder copied on several connection pairs at once (copy-pending.ts's
 * lanes), with faults on the way. Each case forces the split (a low threshold), checks that the
 * folder really was copied on more than one destination connection at the same time, and ends
 * with the matrix's usual checks: the destination exactly the source, nothing twice, nothing
 * lost, earlier mail untouched, nothing destructive.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WireCommand } from '../support/imap-wire.js';
import { generateFolderOfSize, Rng } from '../support/corpus.js';
import { assertDone, assertWorldIntact, runCopy, startWorld, type World } from './harness.js';
import { cliArgs, runCli, type CliResult } from './cli-child.js';

const APPEND = /^\S+ APPEND /i;
const SPLIT = { messages: 20, bytes: Infinity };
/** Long enough for everything a killed run left on the link to reach the server. */
const IDLE_WAIT_MS = 90_000;

/** A source with one folder to split (the destination has mail of its own, as always). */
const bulkWorld = (seed: number, messages: number, sizeRange: [number, number]): Promise<World> =>
  startWorld({ corpus: [generateFolderOfSize({ seed, segments: ['Bulk'], messages, sizeRange })] });

/** APPENDs to one folder, by destination connection. */
const appendsTo = (world: World, folder: string): WireCommand[] =>
  world.destinationProxy
    .wire()
    .commands()
    .filter((c) => APPEND.test(c.line) && c.line.includes(`"${folder}"`));

/** True when APPENDs of two connections alternate at least once: the lanes ran side by side. */
const isInterleaved = (commands: WireCommand[]): boolean => {
  const order = commands.map((c) => c.connection);
  // A connection appended, then another, then the first again.
  return order.some((connection, at) => {
    const other = order.findIndex((c, i) => i > at && c !== connection);
    return other >= 0 && order.slice(other + 1).includes(connection);
  });
};

/**
 * The CLI with 3 connections and splitting forced, SIGKILLed once per kill point (when an
 * APPEND has fully crossed the proxy, or a given time after the job started), then run once
 * more: that run must end done, nothing failed. Returns every run.
 */
const killedThenDone = async (world: World, kills: ({ atAppend: true } | { afterMs: number })[]): Promise<CliResult[]> => {
  const env = { MAILFERRY_SPLIT_MIN_MESSAGES: String(SPLIT.messages) };
  const args = cliArgs(world, ['--connections', '3']);
  const runs: CliResult[] = [];
  for (const [at, kill] of kills.entries()) {
    const result = await runCli(args, {
      env,
      killOn: 'atAppend' in kill ? world.destinationProxy.whenCommandSent(APPEND) : undefined,
      killWhen: (event, _n, killIn) => {
        if ('afterMs' in kill && event.type === 'job-status') killIn(kill.afterMs);
        return false;
      },
    });
    runs.push(result);
    assert.equal(result.killed, true, `run ${at + 1} was killed (exit ${result.code}); it finished before the kill point:\n${result.stderr.slice(-2000)}`);
  }
  const final = await runCli(args, { env });
  runs.push(final);
  assert.equal(final.code, 0, `the last run completed:\n${final.stderr.slice(-3000)}`);
  const summary = final.events.at(-1) as { type: string; report?: { status: string; totals: { failed: number } } };
  assert.equal(summary.report?.status, 'done');
  assert.equal(summary.report?.totals.failed, 0);
  return runs;
};

describe('one folder on several connections', { concurrency: false }, () => {
  test('split over 3 lanes, an APPEND dropped on the wire 3 times: retried, exact, done', async () => {
    const world = await bulkWorld(301, 400, [2_000, 30_000]);
    try {
      // Slow enough that the lanes overlap; the drops land in whichever lane sends next.
      const [, drop] = world.destinationProxy.setFaults([
        { kind: 'bandwidth', bytesPerSecond: 2_000_000, direction: 'client-to-server' },
        { kind: 'drop', direction: 'client-to-server', onCommand: APPEND, randomBetween: [0, 40_000], seed: 301, times: 3 },
      ]);
      const run = await runCopy(world, { seed: 301, settings: { connectionsPerSide: 3, maxConsecutiveFailures: 10 }, splitThreshold: SPLIT });
      assert.equal(drop?.firedCount, 3, 'the drops fired');
      assertDone(run.report);
      const appends = appendsTo(world, 'Bulk');
      assert.ok(new Set(appends.map((c) => c.connection)).size >= 3, `the folder was appended to on several connections (${new Set(appends.map((c) => c.connection)).size})`);
      assert.ok(isInterleaved(appends), 'the lanes appended side by side');
      assert.ok(
        run.events.some((e) => e.type === 'log' && /on up to 3 connections/.test(e.message)),
        'the split was announced',
      );
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  test('split, the CLI killed with SIGKILL 4 times at seeded points mid-copy, then run to completion: exact, done', async () => {
    const world = await bulkWorld(302, 500, [2_000, 30_000]);
    try {
      world.destinationProxy.setFaults([{ kind: 'bandwidth', bytesPerSecond: 1_500_000, direction: 'client-to-server' }]);
      const rng = new Rng('split-sigkill-302');
      // Even runs die right as a lane's APPEND has fully crossed the proxy (its commit may be on
      // its way), odd runs at a seeded moment after copying began.
      const runs = await killedThenDone(
        world,
        Array.from({ length: 4 }, (_, kill) => (kill % 2 === 0 ? { atAppend: true } : { afterMs: rng.int(300, 2_500) })),
      );
      assert.ok(
        runs.some((r) => r.events.some((e) => e.type === 'log' && /on up to 3 connections/.test(String((e as { message?: string }).message)))),
        'some run split the folder',
      );
      const appends = appendsTo(world, 'Bulk');
      assert.ok(new Set(appends.map((c) => c.connection)).size >= 3, 'the folder was appended to on several connections');
      assert.ok(isInterleaved(appends), 'lanes appended side by side');
      await world.destinationProxy.whenIdle(IDLE_WAIT_MS);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  test('split on a slow link that delivers after the client is gone: killed mid-batch twice, no message twice', async () => {
    const world = await bulkWorld(303, 400, [4_000, 30_000]);
    try {
      world.destinationProxy.setFaults([{ kind: 'slow-link', bytesPerSecond: 1_500_000, deliversAfterReset: true }]);
      await killedThenDone(world, [{ atAppend: true }, { atAppend: true }]);
      // Whatever the killed runs left on the link must reach the server before comparing.
      await world.destinationProxy.whenIdle(IDLE_WAIT_MS);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  test('split, the pair a folder would borrow cannot connect: the folder goes on without it', async () => {
    const world = await bulkWorld(304, 200, [2_000, 20_000]);
    try {
      let refusal: ReturnType<World['destinationProxy']['setFaults']>[number] | undefined;
      // Only Bulk (the source's INBOX is empty), so the second worker has no folder of its own.
      const run = await runCopy(world, {
        seed: 304,
        folders: ['Bulk'],
        settings: { connectionsPerSide: 2 },
        splitThreshold: SPLIT,
        onEvent: (event) => {
          // The folder's own connections are open by now (the scan used them); the next one to
          // the destination is the second pair's, which the folder asks for as it starts copying.
          if (!refusal && event.type === 'folder-status' && event.folder.status === 'copying') [refusal] = world.destinationProxy.setFaults([{ kind: 'refuse', connections: 1 }]);
        },
      });
      assert.equal(refusal?.firedCount, 1, 'the second pair was refused');
      assert.ok(
        run.events.some((e) => e.type === 'log' && /could not be opened to help/.test(e.message)),
        'the refused helper was logged',
      );
      assertDone(run.report);
      assert.equal(new Set(appendsTo(world, 'Bulk').map((c) => c.connection)).size, 1, 'copied on the folder\'s own connection alone');
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });
});
