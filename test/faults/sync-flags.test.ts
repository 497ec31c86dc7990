/**
 * Read state that follows (`--sync-flags`): flags the source gained after the copy arrive on
 * Mailferry's own copies; nothing is ever removed; mail that was on the destination before is
 * never touched; on the wire the destination sees only `UID STORE … +FLAGS.SILENT`, never with
 * `\Deleted`, never for a UID Mailferry did not put there.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateCorpus, messageKeyOf } from '../support/corpus.js';
import { openTestClient, snapshotAccount, type AccountSnapshot } from '../support/mail-snapshot.js';
import { openImapDestination } from '../../src/imap/imap-stores.js';
import { assertDone, runCopy, startWorld, TEST_TIMEOUTS } from './harness.js';
import { cliArgs, runCli } from './cli-child.js';

const flagsOf = (snapshot: AccountSnapshot, path: string, sha256: string): string[][] =>
  snapshot.folders.find((f) => f.path === path)?.messages.filter((m) => m.sha256 === sha256).map((m) => m.flags) ?? [];

describe('--sync-flags', { concurrency: false }, () => {
  test('flags gained on the source reach our copies; removals and \\Deleted do not; the person\'s own mail is left alone', async () => {
    const corpus = generateCorpus({ seed: 141, folders: [{ segments: ['INBOX'] }, { segments: ['Archiv'] }], messagesPerFolder: 5, specials: false });
    const inbox = corpus.folders.find((f) => f.segments[0] === 'INBOX');
    assert.ok(inbox);
    const [own, a, b, c] = inbox.messages;
    assert.ok(own && a && b && c);
    // The person already had `own` on the new account: matched, never copied, never ours.
    const world = await startWorld({ corpus, preexisting: [{ segments: ['INBOX'], messages: [own] }] });
    try {
      assertDone((await runCopy(world, { seed: 141 })).report);
      const before = await snapshotAccount(world.destinationAccount());

      // Days later, on the old account: a read and flagged, a keyword on b, c marked \Deleted
      // and answered, a flag removed from b, and `own` read there too.
      const source = await openTestClient(world.sourceAccount());
      try {
        await source.mailboxOpen('INBOX');
        const uidOf = async (sha: string): Promise<number> => {
          const found = (await snapshotAccount(world.sourceAccount())).folders.find((f) => f.path === 'INBOX')?.messages.find((m) => m.sha256 === sha);
          assert.ok(found, 'source message found');
          return found.uid;
        };
        await source.messageFlagsAdd(String(await uidOf(messageKeyOf(a).sha256)), ['\\Seen', '\\Flagged'], { uid: true });
        await source.messageFlagsAdd(String(await uidOf(messageKeyOf(b).sha256)), ['$Project-X'], { uid: true });
        await source.messageFlagsRemove(String(await uidOf(messageKeyOf(b).sha256)), b.flags.length ? b.flags : ['\\Seen'], { uid: true });
        await source.messageFlagsAdd(String(await uidOf(messageKeyOf(c).sha256)), ['\\Deleted', '\\Answered'], { uid: true });
        await source.messageFlagsAdd(String(await uidOf(messageKeyOf(own).sha256)), ['\\Flagged', 'Mine'], { uid: true });
      } finally {
        await source.logout();
      }

      const storesBefore = world.destinationProxy.wire().commands().filter((cmd) => /STORE/.test(cmd.name)).length;
      const run = await runCopy(world, { seed: 142, settings: { syncFlags: true } });
      const folder = run.report.folders.find((f) => f.sourcePath === 'INBOX');
      assert.equal(folder?.flagsUpdated, 3, 'a, b and c gained something');
      const after = await snapshotAccount(world.destinationAccount());

      const sorted = (flags: string[]) => [...new Set(flags)].sort();
      assert.deepEqual(flagsOf(after, 'INBOX', messageKeyOf(a).sha256), [sorted([...a.flags, '\\Seen', '\\Flagged'])]);
      assert.deepEqual(flagsOf(after, 'INBOX', messageKeyOf(b).sha256), [sorted([...b.flags, '$Project-X'])], 'a flag removed on the source stays on the copy');
      const cNow = flagsOf(after, 'INBOX', messageKeyOf(c).sha256);
      assert.deepEqual(cNow, [sorted([...c.flags, '\\Answered'])], '\\Deleted never travels');
      assert.deepEqual(flagsOf(after, 'INBOX', messageKeyOf(own).sha256), flagsOf(before, 'INBOX', messageKeyOf(own).sha256), 'mail that was there before is untouched');
      // Nothing else changed: every other message has the same flags, nothing came or went.
      const others = (s: AccountSnapshot) =>
        s.folders.map((f) => ({ path: f.path, messages: f.messages.filter((m) => ![a, b, c].some((x) => messageKeyOf(x).sha256 === m.sha256)).map((m) => `${m.uid} ${m.sha256} ${m.flags.join(' ')}`) }));
      assert.deepEqual(others(after), others(before));

      // On the wire: only additions, only to our copies, never \Deleted, nothing destructive.
      const ourUids = new Set(
        before.folders.find((f) => f.path === 'INBOX')?.messages.filter((m) => m.sha256 !== messageKeyOf(own).sha256).map((m) => m.uid),
      );
      const stores = world.destinationProxy.wire().commands().filter((cmd) => /STORE/.test(cmd.name)).slice(storesBefore);
      assert.ok(stores.length > 0, 'flags were sent');
      for (const store of stores) {
        const m = /^\S+ UID STORE (\S+) \+FLAGS\.SILENT \(([^)]*)\)$/.exec(store.line);
        assert.ok(m, `only UID STORE … +FLAGS.SILENT: ${store.line}`);
        assert.doesNotMatch(m[2] ?? '', /\\Deleted/i);
        for (const part of (m[1] ?? '').split(',')) {
          const [low, high] = part.split(':').map(Number) as [number, number | undefined];
          for (let uid = low; uid <= (high ?? low); uid++) assert.ok(ourUids.has(uid), `UID ${uid} is one of our copies`);
        }
      }
      const dstReport = world.destinationProxy.wire().destructive();
      assert.deepEqual(dstReport.destructive.filter((d) => d.command.name !== 'SELECT').map((d) => d.command.line), [], 'nothing destructive on the destination');
      assert.deepEqual(world.sourceProxy.wire().destructive().destructive.map((d) => d.command.line), [], 'the source is only read');

      // A re-run with nothing new on either side: no flags read, nothing sent.
      const storeCount = (): number => world.destinationProxy.wire().commands().filter((cmd) => /STORE/.test(cmd.name)).length;
      const flagReads = (): number => world.sourceProxy.wire().commands().filter((cmd) => /\(UID FLAGS\)/i.test(cmd.line)).length;
      const [storesThen, readsThen] = [storeCount(), flagReads()];
      const again = await runCopy(world, { seed: 143, settings: { syncFlags: true } });
      assert.equal(again.report.folders.find((f) => f.sourcePath === 'INBOX')?.flagsUpdated ?? 0, 0);
      assert.equal(storeCount(), storesThen, 'nothing to add, nothing sent');
      assert.equal(flagReads(), readsThen, 'an unchanged folder (same HIGHESTMODSEQ) reads no flags');

      // One more change on the source: only what changed since the last sync is read (CONDSTORE).
      const more = await openTestClient(world.sourceAccount());
      try {
        await more.mailboxOpen('INBOX');
        const target = (await snapshotAccount(world.sourceAccount())).folders.find((f) => f.path === 'INBOX')?.messages.find((m) => m.sha256 === messageKeyOf(a).sha256);
        assert.ok(target);
        await more.messageFlagsAdd(String(target.uid), ['$Done'], { uid: true });
      } finally {
        await more.logout();
      }
      const third = await runCopy(world, { seed: 144, settings: { syncFlags: true } });
      assert.equal(third.report.folders.find((f) => f.sourcePath === 'INBOX')?.flagsUpdated, 1);
      assert.ok(world.sourceProxy.wire().commands().some((cmd) => /\(UID FLAGS\) \(CHANGEDSINCE \d+\)/i.test(cmd.line)), 'only changes are read from the source');
      assert.deepEqual(flagsOf(await snapshotAccount(world.destinationAccount()), 'INBOX', messageKeyOf(a).sha256), [sorted([...a.flags, '\\Seen', '\\Flagged', '$Done'])]);

      // The store itself refuses \Deleted, whatever a caller asks.
      const opened = await openImapDestination(world.destinationCredentials(), TEST_TIMEOUTS);
      assert.ok(opened.ok);
      try {
        const uid = [...ourUids][0] as number;
        const storesNow = storeCount();
        assert.deepEqual(await opened.value.addFlags?.('INBOX', [{ uid, flags: ['\\Deleted', '\\Recent'] }]), { ok: true, value: 0 });
        assert.equal(storeCount(), storesNow, 'nothing addable, nothing sent');
        assert.deepEqual(await opened.value.addFlags?.('INBOX', [{ uid, flags: ['\\Deleted', 'Kept'] }]), { ok: true, value: 1 });
        const last = world.destinationProxy.wire().commands().filter((cmd) => /STORE/.test(cmd.name)).at(-1);
        assert.match(last?.line ?? '', new RegExp(`UID STORE ${uid} \\+FLAGS\\.SILENT \\(Kept\\)$`));
      } finally {
        await opened.value.close();
      }
    } finally {
      await world.stop();
    }
  });

  test('through the command line: copy, flag a message on the old account, copy --sync-flags: it is flagged on the new one', async () => {
    const corpus = generateCorpus({ seed: 145, folders: [{ segments: ['INBOX'] }], messagesPerFolder: 3, specials: false });
    const world = await startWorld({ corpus, preexisting: [] });
    try {
      const first = await runCli(cliArgs(world));
      assert.equal(first.code, 0, first.stderr.slice(-2000));
      const unread = corpus.folders[0]?.messages.find((m) => !m.flags.includes('\\Flagged') && !m.flags.includes('\\Deleted'));
      assert.ok(unread, 'the corpus has an unflagged message');
      const source = await openTestClient(world.sourceAccount());
      try {
        await source.mailboxOpen('INBOX');
        const found = (await snapshotAccount(world.sourceAccount())).folders[0]?.messages.find((m) => m.sha256 === messageKeyOf(unread).sha256);
        assert.ok(found);
        await source.messageFlagsAdd(String(found.uid), ['\\Flagged'], { uid: true });
      } finally {
        await source.logout();
      }
      const again = await runCli(cliArgs(world, ['--sync-flags']));
      assert.equal(again.code, 0, again.stderr.slice(-2000));
      const summary = again.events.at(-1) as { report?: { folders: { flagsUpdated?: number }[] } };
      assert.equal(summary.report?.folders[0]?.flagsUpdated, 1);
      const flags = flagsOf(await snapshotAccount(world.destinationAccount()), 'INBOX', messageKeyOf(unread).sha256);
      assert.deepEqual(flags, [[...new Set([...unread.flags, '\\Flagged'])].sort()]);
    } finally {
      await world.stop();
    }
  });
});
