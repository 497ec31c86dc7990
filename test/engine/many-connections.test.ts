/**
 * The CLI as a person runs it (a child process of its own), with eight connections and every
 * folder split over them: an exact copy, and nothing on stderr. Eight connections each wait on
 * the run's stop signal, which made Node print "Possible EventTarget memory leak detected" on
 * stderr from the fourth pair on, although nothing leaked (src/imap/abort-fan-out.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillAccount, generateCorpus } from '../support/corpus.js';
import { assertSourceUnchanged, diffMail, snapshotAccount, type AccountSnapshot } from '../support/mail-snapshot.js';
import { freshStateDir, PASSWORDS, spawnCli } from './cli-harness.js';

describe('eight connections on one run', () => {
  let src: DovecotServer;
  let dst: DovecotServer;
  let sourceBefore: AccountSnapshot;
  // Bodies on both sides of the size from which a literal is handed on in pieces (16 KiB), and two large ones.
  const corpus = generateCorpus({ seed: 'many-connections', messagesPerFolder: 30, sizeRange: [1024, 64 * 1024], big: [3 * 1024 * 1024, 5 * 1024 * 1024 + 7] });

  before(async () => {
    [src, dst] = await Promise.all([
      startDovecot({ users: [{ name: 'alice', password: PASSWORDS.MAILFERRY_FROM_PASSWORD }] }),
      startDovecot({ users: [{ name: 'bob', password: PASSWORDS.MAILFERRY_TO_PASSWORD }] }),
    ]);
    await fillAccount(src.account(), corpus);
    sourceBefore = await snapshotAccount(src.account());
  });
  after(async () => {
    await Promise.allSettled([src?.stop(), dst?.stop()]);
  });

  test('an exact copy, each folder split over the connections, and not a word on stderr', async () => {
    const state = freshStateDir();
    const args = ['copy', '--from', `imap://alice@127.0.0.1:${src.port}`, '--to', `imap://bob@127.0.0.1:${dst.port}`, '--allow-plaintext', '--state', state, '--json', '--connections', '8'];
    const run = await spawnCli(args, { ...PASSWORDS, MAILFERRY_SPLIT_MIN_MESSAGES: '2' }).exited;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.report?.status, 'done');
    assert.ok(
      run.events.some((e) => e.type === 'log' && /on up to \d+ connections/.test(String(e.message))),
      'a folder was split over several connections',
    );
    assert.equal(run.stderr, '', 'nothing on stderr');
    const expected = { folders: sourceBefore.folders.filter((f) => f.isSelectable).map((f) => ({ path: f.path, messages: f.messages.filter((m) => !m.flags.includes('\\Deleted')) })) };
    assert.deepEqual(diffMail(expected, await snapshotAccount(dst.account()), { allowExtraFolders: true }), []);
    assertSourceUnchanged(sourceBefore, await snapshotAccount(src.account()));
  });
});
