/**
 * Fault family: the connection is dropped mid-FETCH and mid-APPEND, repeatedly, at seeded random
 * byte points, including in the middle of a 20 MB message, and right after the destination
 * stored a message but before its OK arrived (the case that copies twice in naive tools).
 * Every case ends with the destination exactly equal to the source.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateCorpus } from '../support/corpus.js';
import { assertDone, assertWorldIntact, copyableCount, runCopy, startWorld, type World } from './harness.js';

const BODY_FETCH = /^\S+ UID FETCH .*BODY\.PEEK\[\]/i;
const APPEND = /^\S+ APPEND /i;

describe('connection dropped', { concurrency: false }, () => {
  for (const seed of [11, 12]) {
    test(`mid-FETCH of message bodies, 3 times at random points (seed ${seed})`, async () => {
      const world = await startWorld({ corpus: generateCorpus({ seed, messagesPerFolder: 3 }) });
      try {
        const [drop] = world.sourceProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', onCommand: BODY_FETCH, randomBetween: [200, 60_000], seed, times: 3 }]);
        const run = await runCopy(world, { seed });
        assert.equal(drop?.firedCount, 3, 'the drop fired three times');
        assertDone(run.report);
        assert.ok(run.sourceOpens.length >= 4, `reconnected after each drop (${run.sourceOpens.length} source connections)`);
        assert.equal(run.report.totals.copied + run.report.totals.alreadyThere, copyableCount(world.before.source));
        await assertWorldIntact(world);
      } finally {
        await world.stop();
      }
    });

    test(`mid-APPEND literal, 3 times at random points (seed ${seed})`, async () => {
      const world = await startWorld({ corpus: generateCorpus({ seed: seed + 100, messagesPerFolder: 3 }) });
      try {
        const [drop] = world.destinationProxy.setFaults([{ kind: 'drop', direction: 'client-to-server', onCommand: APPEND, randomBetween: [0, 3_000], seed, times: 3 }]);
        const run = await runCopy(world, { seed });
        assert.equal(drop?.firedCount, 3, 'the drop fired three times');
        assertDone(run.report);
        await assertWorldIntact(world);
      } finally {
        await world.stop();
      }
    });
  }

  for (const seed of [13, 14]) {
    test(`at seeded points anywhere in the session (login, LIST, STATUS, header FETCH, scan, APPEND), both sides, 4 times each (seed ${seed})`, async () => {
      const world = await startWorld({ corpus: generateCorpus({ seed: seed + 200, messagesPerFolder: 3 }) });
      try {
        // Armed on every connection from its start: the byte point falls wherever it falls.
        const [srcDrop] = world.sourceProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', randomBetween: [300, 30_000], seed, times: 4 }]);
        const [dstDrop] = world.destinationProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', randomBetween: [300, 8_000], seed: seed + 1, times: 4 }]);
        const run = await runCopy(world, { seed, settings: { maxConsecutiveFailures: 12 } });
        assert.equal(srcDrop?.firedCount, 4, 'source drops fired');
        assert.equal(dstDrop?.firedCount, 4, 'destination drops fired');
        assertDone(run.report);
        await assertWorldIntact(world);
      } finally {
        await world.stop();
      }
    });
  }

  test('right as STATUS is sent to the destination (imapflow then answers `false`, not an error)', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 15, messagesPerFolder: 2 }) });
    try {
      const [drop] = world.destinationProxy.setFaults([{ kind: 'drop', direction: 'client-to-server', onCommand: /^\S+ STATUS /i, afterBytes: 0, times: 2 }]);
      const run = await runCopy(world, { seed: 15 });
      assert.equal(drop?.firedCount, 2);
      assertDone(run.report);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  test('after the destination stored a message but before its OK: not copied twice', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 21, messagesPerFolder: 3 }) });
    try {
      // The server's answer to an APPEND is cut after its first bytes: the server has stored the
      // messages (it answers only then), the client never hears the OK. Four times. A batch's
      // MULTIAPPEND first gets `+ OK` (6 bytes) for its last literal, so the cut is at byte 7:
      // inside the tagged answer of a MULTIAPPEND as of a single APPEND.
      const [drop] = world.destinationProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', onCommand: APPEND, afterBytes: 7, times: 4 }]);
      const run = await runCopy(world, { seed: 21 });
      assert.equal(drop?.firedCount, 4);
      assertDone(run.report);
      assert.ok(run.report.totals.alreadyThere >= 1, `messages whose OK was lost were recognised on the destination (alreadyThere=${run.report.totals.alreadyThere})`);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  test('a folder whose connection drops on every attempt is set aside after N failures; the rest of the job goes on', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 22, messagesPerFolder: 2 }) });
    try {
      const [drop] = world.sourceProxy.setFaults([{ kind: 'drop', direction: 'client-to-server', onCommand: /^\S+ EXAMINE "?Reisen"?$/i, afterBytes: 0, times: Infinity }]);
      const run = await runCopy(world, { seed: 22, settings: { maxConsecutiveFailures: 3 } });
      assert.equal(drop?.firedCount, 3, 'three attempts, then no more');
      const reisen = run.report.folders.find((f) => f.sourcePath === 'Reisen');
      assert.equal(reisen?.status, 'needs-attention');
      assert.match(reisen?.error?.message ?? '', /3 failed attempts/);
      for (const f of run.report.folders.filter((f) => f.sourcePath !== 'Reisen')) assert.equal(f.isComplete, true, `${f.sourcePath} was copied meanwhile`);
      assert.equal(run.report.status, 'needs-attention');
      // The next run, with the server well again, finishes the folder.
      world.sourceProxy.clearFaults();
      assertDone((await runCopy(world, { seed: 23 })).report);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  describe('a 20 MB message', () => {
    let world: World;
    before(async () => {
      world = await startWorld({
        corpus: generateCorpus({ seed: 31, folders: [{ segments: ['INBOX'] }, { segments: ['Archiv'] }], messagesPerFolder: 2, specials: false, big: [20 * 1024 * 1024] }),
      });
    });
    after(async () => world?.stop());

    test('dropped in the middle of its FETCH and in the middle of its APPEND, then copied whole', async () => {
      const big = world.before.source.folders.find((f) => f.path === 'INBOX')?.messages.find((m) => m.size > 19 * 1024 * 1024);
      assert.ok(big, 'the source holds a 20 MB message');
      world.sourceProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', onCommand: BODY_FETCH, randomBetween: [4_000_000, 16_000_000], seed: 31, times: 2 }]);
      world.destinationProxy.setFaults([{ kind: 'drop', direction: 'client-to-server', onCommand: APPEND, randomBetween: [4_000_000, 16_000_000], seed: 32, times: 2 }]);
      const run = await runCopy(world, { seed: 31, timeouts: { socketTimeoutMs: 5_000, greetingTimeoutMs: 2_000, connectionTimeoutMs: 2_000 } });
      const fetchDrops = world.sourceProxy.events().filter((e) => e.kind === 'drop');
      const appendDrops = world.destinationProxy.events().filter((e) => e.kind === 'drop');
      assert.equal(fetchDrops.length, 2, 'FETCH of the big message dropped twice');
      assert.equal(appendDrops.length, 2, 'APPEND dropped twice');
      // The APPEND drops hit mid-literal: only the 20 MB message has a literal that long.
      assert.ok(appendDrops.every((e) => /\d/.test(e.detail)), 'drop events say where they fired');
      assertDone(run.report);
      const now = await assertWorldIntact(world);
      const copies = now.destination.folders.find((f) => f.path === 'INBOX')?.messages.filter((m) => m.sha256 === big.sha256) ?? [];
      assert.equal(copies.length, 1, 'the big message is on the destination exactly once');
    });
  });
});
