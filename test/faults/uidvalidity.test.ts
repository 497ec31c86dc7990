/**
 * Fault family: UIDVALIDITY changes between runs (a server rebuilt its index, or the folder was
 * recreated with the same messages). The journal's UIDs mean nothing any more; messages must be
 * re-identified by content and nothing copied twice, also when the first run stopped half-way.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fillAccount, generateCorpus, type CorpusFolder } from '../support/corpus.js';
import { folderOf, openTestClient, snapshotAccount } from '../support/mail-snapshot.js';
import { assertDone, assertWorldIntact, runCopy, startWorld, type World } from './harness.js';

const FOLDER = 'Reisen';

/** Deletes the source folder and creates it again with the same messages (the test acts as a server admin). */
const recreateSourceFolder = async (world: World, folder: CorpusFolder, extra: CorpusFolder['messages'] = []): Promise<void> => {
  const client = await openTestClient(world.sourceAccount());
  try {
    await client.mailboxDelete(FOLDER);
  } finally {
    await client.logout().catch(() => client.close());
  }
  await fillAccount(world.sourceAccount(), [{ ...folder, messages: [...folder.messages, ...extra] }]);
};

const warnings = (events: { type: string; level?: string; message?: string }[]): string[] =>
  events.flatMap((e) => (e.type === 'log' && e.level === 'warn' && e.message ? [e.message] : []));

describe('UIDVALIDITY changes', { concurrency: false }, () => {
  test('source folder recreated with the same messages (and one new) after a complete run: nothing copied twice', async () => {
    const corpus = generateCorpus({ seed: 71, messagesPerFolder: 4 });
    const world = await startWorld({ corpus });
    try {
      assertDone((await runCopy(world, { seed: 71 })).report);
      const folder = corpus.folders.find((f) => f.segments.join('/') === FOLDER) as CorpusFolder;
      const newcomer = generateCorpus({ seed: 'uv-new', folders: [{ segments: [FOLDER] }], messagesPerFolder: 1, specials: false }).folders[0]?.messages ?? [];
      const oldValidity = folderOf(world.before.source, FOLDER).uidValidity;
      await recreateSourceFolder(world, folder, newcomer);
      const sourceNow = await snapshotAccount(world.sourceAccount());
      assert.notEqual(folderOf(sourceNow, FOLDER).uidValidity, oldValidity, 'the folder really has a new UIDVALIDITY');

      const second = await runCopy(world, { seed: 72 });
      assertDone(second.report);
      assert.ok(
        warnings(second.events).some((w) => w.includes(FOLDER) && /UIDVALIDITY/.test(w)),
        `the rebuild was noticed and logged: ${warnings(second.events).join(' | ')}`,
      );
      const report = second.report.folders.find((f) => f.sourcePath === FOLDER);
      assert.equal(report?.copied, 1, 'only the new message was sent');
      assert.equal(report?.alreadyThere, folder.messages.length, 'the others were recognised by content');
      await assertWorldIntact(world, { sourceBefore: sourceNow });
    } finally {
      await world.stop();
    }
  });

  test('source folder recreated after a run that stopped half-way through it', async () => {
    const corpus = generateCorpus({ seed: 73, folders: [{ segments: ['INBOX'] }, { segments: [FOLDER] }], messagesPerFolder: 8, specials: false, sizeRange: [1_000, 4_000] });
    const world = await startWorld({ corpus });
    try {
      const folder = corpus.folders.find((f) => f.segments.join('/') === FOLDER) as CorpusFolder;
      // Cut the source connection while it sends the 4th message body of this folder: the three
      // that arrived are copied, then the job gives up. (Counting APPENDs would not do: a batch
      // goes to the destination as one MULTIAPPEND, all or nothing.)
      const firstThree = folder.messages.slice(0, 3).reduce((n, m) => n + m.raw.length + 120, 0);
      const [drop] = world.sourceProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', onCommand: /^\S+ UID FETCH .*BODY\.PEEK\[\]/i, afterBytes: firstThree + 200 }]);
      // One failed attempt ends the folder: newest first would give its older part an attempt of its own.
      const first = await runCopy(world, { seed: 73, folders: [FOLDER], settings: { maxConsecutiveFailures: 1, newestFirst: false } });
      assert.equal(drop?.firedCount, 1, 'the drop fired');
      const partial = first.report.folders[0];
      assert.equal(partial?.isComplete, false, 'the first run stopped part-way');
      assert.ok((partial?.copied ?? 0) >= 1 && (partial?.copied ?? 0) < folder.messages.length, `some but not all were copied (${partial?.copied})`);
      world.destinationProxy.clearFaults();

      await recreateSourceFolder(world, folder);
      const sourceNow = await snapshotAccount(world.sourceAccount());
      const second = await runCopy(world, { seed: 74 });
      assertDone(second.report);
      await assertWorldIntact(world, { sourceBefore: sourceNow });
    } finally {
      await world.stop();
    }
  });

  test('destination folder gets a new UIDVALIDITY (index rebuilt) between runs: re-identified, nothing copied twice', async () => {
    const corpus = generateCorpus({ seed: 75, messagesPerFolder: 3 });
    const world = await startWorld({ corpus });
    try {
      assertDone((await runCopy(world, { seed: 75 })).report);
      const before = folderOf(await snapshotAccount(world.destinationAccount()), FOLDER).uidValidity;
      await world.destination.doveadm(['mailbox', 'update', '-u', 'newuser', '--uid-validity', String(Number(before) + 1000), FOLDER]);
      const after = folderOf(await snapshotAccount(world.destinationAccount()), FOLDER).uidValidity;
      assert.notEqual(after, before, 'the destination folder has a new UIDVALIDITY');

      const second = await runCopy(world, { seed: 76 });
      assertDone(second.report);
      assert.ok(warnings(second.events).some((w) => w.includes(FOLDER) && /destination/.test(w)), 'the rebuild on the destination was noticed');
      const report = second.report.folders.find((f) => f.sourcePath === FOLDER);
      assert.equal(report?.copied, 0, 'nothing was sent again');
      // Reisen holds none of the destination's earlier mail, so its other folders' UIDs must still hold.
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });
});
