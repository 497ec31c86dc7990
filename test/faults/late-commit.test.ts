/**
 * Fault family: an APPEND that commits after the client stopped waiting for it.
 *
 * An APPEND commits when the server has all of it. Behind a slow link that buffers what the
 * client writes (a slow uplink's socket buffer, a corporate proxy, an antivirus filter), that
 * can be seconds after the client timed out, reset its socket or was killed: the middlebox read
 * the bytes already and delivers them anyway. The destination proxy here is such a link
 * (`slow-link`, delivering even after the client's RST). Every case waits until the proxy has
 * delivered everything and the server has closed every connection (`whenIdle`) before it
 * compares, so a commit that lands late is counted.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fillAccount, generateCorpus, generateFolderOfSize, messageKeyOf, Rng } from '../support/corpus.js';
import { diffMail, snapshotAccount, type MailSet, type MessageKey } from '../support/mail-snapshot.js';
import { assertDone, assertEarlierMailUntouched, assertNothingDestructive, assertWorldIntact, expectedDestination, runCopy, startWorld, type World } from './harness.js';
import { cliArgs, runCli, type CliResult } from './cli-child.js';

/** 1.5 MB/s: a 4 MB batch needs nearly 3 s on the link, longer than the CLI's `--timeout 2`. */
const LINK_BYTES_PER_SECOND = 1_500_000;
const SLOW_LINK = { kind: 'slow-link', bytesPerSecond: LINK_BYTES_PER_SECOND, deliversAfterReset: true } as const;
const APPEND = /^\S+ APPEND /i;
/** Long enough for everything the link still holds to reach the server, and the server to close. */
const IDLE_WAIT_MS = 90_000;

const bulkWorld = (seed: number, messages: number, sizeRange: [number, number]): Promise<World> => {
  const corpus = generateCorpus({ seed, folders: [{ segments: ['INBOX'] }], messagesPerFolder: 3, specials: false });
  corpus.folders.push(generateFolderOfSize({ seed, segments: ['Bulk'], messages, sizeRange }));
  return startWorld({ corpus });
};

const settledDestination = async (world: World): Promise<void> => {
  await world.destinationProxy.whenIdle(IDLE_WAIT_MS);
};

describe('an APPEND that lands after the client gave up', { concurrency: false }, () => {
  test('CLI killed while batches are in flight, restarted at once, five times: exact, and the last run ends done', async () => {
    const world = await bulkWorld(191, 750, [4_000, 30_000]);
    try {
      world.destinationProxy.setFaults([SLOW_LINK]);
      const rng = new Rng('late-commit-191');
      const runs: CliResult[] = [];
      for (let kill = 0; kill < 5; kill++) {
        // Even runs die right after the proxy read a whole APPEND (the server has not got it all
        // yet: the link holds the rest); odd runs at a seeded moment once copying began.
        const atCommand = kill % 2 === 0;
        const afterMs = rng.int(200, 2_500);
        const result = await runCli(cliArgs(world), {
          killOn: atCommand ? world.destinationProxy.whenCommandSent(APPEND) : undefined,
          killWhen: (event, _n, killIn) => {
            if (!atCommand && event.type === 'job-status') killIn(afterMs);
            return false;
          },
        });
        runs.push(result);
        assert.equal(result.killed, true, `run ${kill + 1} was killed (exit ${result.code}); it finished before the kill point:\n${result.stderr.slice(-2000)}`);
      }
      const final = await runCli(cliArgs(world));
      runs.push(final);
      assert.equal(final.code, 0, `the last run completed:\n${final.stderr.slice(-3000)}`);
      const summary = final.events.at(-1) as { type: string; report?: { status: string; totals: { failed: number } } };
      assert.equal(summary.report?.status, 'done');
      await settledDestination(world);
      await assertWorldIntact(world);
      // The kills did leave batches in doubt (whether the restart still had to wait depends on
      // how long it took to start: on a busy machine the window may have passed already).
      assert.ok(
        runs.some((r) => r.events.some((e) => e.type === 'log' && /An earlier upload of \d+ message\(s\) got no answer/.test(String((e as { message?: unknown }).message)))),
        'a restarted run found a batch in doubt and matched what arrived before sending again',
      );
    } finally {
      await world.stop();
    }
  });

  test('a `--timeout` shorter than a batch takes on the link, no kill: nothing times out, exact, done', async () => {
    // 500 messages of 6-12 KB: what was one 4.4 MB MULTIAPPEND, ~2.9 s on this link.
    const world = await bulkWorld(192, 500, [6_000, 12_000]);
    try {
      world.destinationProxy.setFaults([SLOW_LINK]);
      const result = await runCli(cliArgs(world, ['--connections', '1']));
      assert.equal(result.code, 0, result.stderr.slice(-3000));
      const retried = result.events.filter((e) => e.type === 'folder-status' && (e as { folder?: { status?: string } }).folder?.status === 'retrying');
      assert.deepEqual(retried, [], 'batches are sized to the link and their answers awaited as long as the link needs: no self-made timeout');
      await settledDestination(world);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  test('a batch held back on the link past the client\'s deadline lands late: the next pass waits for it, nothing is sent twice', async () => {
    const world = await bulkWorld(193, 300, [8_000, 30_000]);
    try {
      // The first APPEND's final CRLF is held on the link for 4 s: longer than the client waits
      // for the answer (1.5 s idle plus what the last literal needs), so it gives up and resets;
      // the link then delivers the CRLF and the server commits the batch, after the client left.
      const [, hold] = world.destinationProxy.setFaults([SLOW_LINK, { kind: 'stall', onCommand: APPEND, beforeCommandEnd: true, durationMs: 4_000 }]);
      const run = await runCopy(world, { seed: 193, settings: { connectionsPerSide: 1 } });
      assert.equal(hold?.firedCount, 1, 'the link held the end of an APPEND');
      assert.ok(
        run.events.some((e) => e.type === 'folder-status' && e.folder.status === 'settling'),
        'the next pass waited for the batch that might still land',
      );
      assertDone(run.report);
      assert.ok(run.report.totals.alreadyThere > 0, 'the late batch was found on the destination, not sent again');
      await settledDestination(world);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });
});

describe('surplus on the destination is reported, never deleted, never "done"', { concurrency: false }, () => {
  for (const withUidPlus of [true, false]) {
    test(`an extra copy of a copied message fails verification; earlier duplicates and new mail do not count (${withUidPlus ? 'UIDPLUS' : 'no UIDPLUS: by fingerprint'})`, async () => {
      const seed = withUidPlus ? 194 : 195;
      const corpus = generateCorpus({ seed, folders: [{ segments: ['INBOX'] }, { segments: ['Archiv'] }], messagesPerFolder: 4, specials: false });
      const inbox = corpus.folders.find((f) => f.segments[0] === 'INBOX');
      const first = inbox?.messages[0];
      assert.ok(first, 'the corpus has an INBOX message');
      // The person already had one source message twice on the new account: theirs, not ours.
      const world = await startWorld({
        corpus,
        preexisting: [{ segments: ['INBOX'], messages: [first, first] }],
        destination: withUidPlus ? {} : { disableCapabilities: ['UIDPLUS'] },
      });
      /**
       * The destination holds the source and its own earlier mail, except that the source
       * message it already had was not copied again; plus `extra`. Nothing of before touched.
       */
      const assertDestination = async (extra: MessageKey[]): Promise<void> => {
        const now = await snapshotAccount(world.destinationAccount());
        const sourceNow = await snapshotAccount(world.sourceAccount());
        const expected: MailSet = expectedDestination(sourceNow, world.before.destination, [{ path: 'INBOX', messages: extra }]);
        const inboxExpected = expected.folders.find((f) => f.path === 'INBOX');
        const once = inboxExpected?.messages.findIndex((m) => m.sha256 === messageKeyOf(first).sha256) ?? -1;
        assert.ok(inboxExpected && once >= 0);
        inboxExpected.messages.splice(once, 1);
        assert.deepEqual(diffMail(expected, now), []);
        assertEarlierMailUntouched(world.before.destination, now);
        assertNothingDestructive(world);
      };
      try {
        const firstRun = await runCopy(world, { seed });
        assertDone(firstRun.report);
        assert.equal(firstRun.report.totals.alreadyThere, 1, 'the message the person already had was found, not copied');
        await assertDestination([]);
        // An APPEND of ours that landed after all (one more copy of a message we copied), and
        // ordinary new mail that arrived on the new account meanwhile.
        const copied = inbox?.messages[1];
        assert.ok(copied);
        const newMail = generateCorpus({ seed: `${seed}-new`, folders: [{ segments: ['INBOX'] }], messagesPerFolder: 2, specials: false }).folders[0]?.messages ?? [];
        await fillAccount(world.destinationAccount(), [{ segments: ['INBOX'], messages: [copied, ...newMail] }]);

        const rerun = await runCopy(world, { seed: seed + 100 });
        const report = rerun.report.folders.find((f) => f.sourcePath === 'INBOX');
        assert.equal(report?.surplus, 1, 'exactly the one extra copy is counted');
        assert.equal(report?.status, 'needs-attention');
        assert.equal(report?.isComplete, false);
        assert.equal(report?.error?.kind, 'surplus');
        assert.match(report?.error?.message ?? '', /more than once.*deletes nothing/s);
        assert.notEqual(rerun.report.status, 'done');
        const archiv = rerun.report.folders.find((f) => f.sourcePath === 'Archiv');
        assert.equal(archiv?.isComplete, true, 'the other folder is verified');
        // Nothing was deleted: the extra copy and the new mail are still there.
        await assertDestination([copied, ...newMail].map(messageKeyOf));
      } finally {
        await world.stop();
      }
    });
  }
});
