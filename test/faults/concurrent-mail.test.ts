/**
 * Fault family: new mail arrives in the source and in the destination while the copy runs. The
 * destination's new mail survives untouched; the source's new mail arrives at the latest on the
 * next pass; nothing is copied twice.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fillAccount, generateCorpus, messageKeyOf } from '../support/corpus.js';
import { snapshotAccount } from '../support/mail-snapshot.js';
import { assertDone, assertWorldIntact, runCopy, startWorld } from './harness.js';

describe('new mail during the copy', { concurrency: false }, () => {
  test('arrives on both sides while an APPEND is held up; the next pass brings the rest', async () => {
    const corpus = generateCorpus({ seed: 81, messagesPerFolder: 3 });
    const world = await startWorld({ corpus });
    try {
      const arrivals = generateCorpus({ seed: 'arrivals-81', folders: [{ segments: ['INBOX'] }, { segments: ['Reisen'] }, { segments: ['Privat'] }], messagesPerFolder: 2, specials: false });
      const toSource = arrivals.folders.slice(0, 2);
      const destinationArrivals = generateCorpus({ seed: 'dst-arrivals-81', folders: [{ segments: ['INBOX'] }, { segments: ['Reisen'] }, { segments: ['Privat'] }], messagesPerFolder: 2, specials: false }).folders;

      // Hold the first APPEND; while it is held, mail arrives on both sides, then let it go.
      const [stall] = world.destinationProxy.setFaults([{ kind: 'stall', direction: 'client-to-server', onCommand: /^\S+ APPEND /i, afterBytes: 0 }]);
      let arrived: Promise<void> | undefined;
      void stall?.whenFired(1, 30_000).then(() => {
        arrived = (async () => {
          await fillAccount(world.sourceAccount(), toSource);
          await fillAccount(world.destinationAccount(), destinationArrivals);
          world.destinationProxy.clearFaults();
        })();
      });
      const first = await runCopy(world, { seed: 81 });
      assert.equal(stall?.firedCount, 1, 'the APPEND was held');
      assert.ok(arrived, 'mail arrived during the job');
      await arrived;

      const sourceNow = await snapshotAccount(world.sourceAccount());
      const extraOnDestination = destinationArrivals.map((f) => ({ path: f.segments.join('/'), messages: f.messages.map(messageKeyOf) }));
      // Whatever the first pass did with the newcomers, a second pass completes the copy.
      const second = await runCopy(world, { seed: 82 });
      assertDone(second.report);
      assert.ok(first.report.status === 'done' || first.report.status === 'needs-attention', `first run ended ${first.report.status}`);
      await assertWorldIntact(world, { sourceBefore: sourceNow, extraOnDestination });
    } finally {
      await world.stop();
    }
  });

  test('arrives on the source between passes: a re-run carries only the new mail', async () => {
    const corpus = generateCorpus({ seed: 83, messagesPerFolder: 3 });
    const world = await startWorld({ corpus });
    try {
      assertDone((await runCopy(world, { seed: 83 })).report);
      const newcomers = generateCorpus({ seed: 'new-83', folders: [{ segments: ['INBOX'] }, { segments: ['Sent'] }], messagesPerFolder: 2, specials: false }).folders;
      await fillAccount(world.sourceAccount(), newcomers);
      const sourceNow = await snapshotAccount(world.sourceAccount());
      const again = await runCopy(world, { seed: 84 });
      assertDone(again.report);
      assert.equal(again.report.totals.failed, 0);
      const appends = world.destinationProxy.wire().commands().filter((c) => c.name === 'APPEND');
      await assertWorldIntact(world, { sourceBefore: sourceNow });
      // The total of messages sent by APPEND equals the number of copyable source messages:
      // nothing sent twice. A MULTIAPPEND carries several, one literal (`{N bytes}`) each.
      const copyable = sourceNow.folders.reduce((n, f) => n + f.messages.filter((m) => !m.flags.includes('\\Deleted')).length, 0);
      const messagesSent = appends.reduce((n, c) => n + (c.line.match(/\{\d+ bytes\}/g)?.length ?? 0), 0);
      assert.equal(messagesSent, copyable, 'each source message was appended exactly once over both runs');
    } finally {
      await world.stop();
    }
  });
});
