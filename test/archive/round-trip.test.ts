/**
 * Archive round trips on real data through the real CLI: a Dovecot account → archive (mbox,
 * Maildir, eml) → a fresh Dovecot account, compared byte for byte with flags and INTERNALDATE.
 * Also: re-runs carry only what is new, the source account is never changed, and the Maildir
 * archive opened by a private Dovecot of its own shows the same messages.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ArchiveFormat } from '../../src/contract/account.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillAccount, generateCorpus, type CorpusMessage } from '../support/corpus.js';
import { assertSameMail, assertSourceUnchanged, snapshotAccount, type AccountSnapshot, type MailSet } from '../support/mail-snapshot.js';
import { PASSWORDS, runCliCaptured } from '../engine/cli-harness.js';
import { archiveMail, digestFiles } from './archive-helpers.js';

const withoutDeleted = (snapshot: AccountSnapshot): MailSet => ({
  folders: snapshot.folders.filter((f) => f.isSelectable).map((f) => ({ path: f.path, messages: f.messages.filter((m) => !m.flags.includes('\\Deleted')) })),
});

const newMessage = (n: number): CorpusMessage => ({
  raw: Buffer.from(
    `From: late${n}@example.org\r\nTo: alice@example.org\r\nSubject: Arrived after the first archive run ${n}\r\nDate: Sun, 22 Nov 2026 0${n}:00:00 +0100\r\nMessage-ID: <late-${n}@example.org>\r\n\r\nFrom the harbour: new mail ${n}.\r\n`,
  ),
  flags: n % 2 ? ['\\Seen', 'Work'] : [],
  internalDate: new Date(`2026-11-22T0${n}:00:05Z`),
  kind: 'plain',
});

const tempDirs: string[] = [];
const archiveDir = (format: string): string => {
  const dir = mkdtempSync(path.join(tmpdir(), `mailferry-${format}-`));
  tempDirs.push(dir);
  return dir;
};

describe('archive round trips through the CLI', () => {
  let src: DovecotServer;
  let sourceBefore: AccountSnapshot;
  const corpus = generateCorpus({ seed: 'archive-round-trip', big: [2 * 1024 * 1024] });

  before(async () => {
    src = await startDovecot({ users: [{ name: 'alice', password: PASSWORDS.MAILFERRY_FROM_PASSWORD }] });
    await fillAccount(src.account(), corpus);
    sourceBefore = await snapshotAccount(src.account());
  });
  after(async () => {
    await src?.stop();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  for (const format of ['mbox', 'maildir', 'eml'] as ArchiveFormat[]) {
    test(`${format}: Dovecot → ${format} → a fresh Dovecot is exact (bytes, flags, dates); re-runs add only what is new`, async () => {
      const sourceAtStart = await snapshotAccount(src.account());
      const archive = archiveDir(format);
      const state = archiveDir('state');
      const toArchive = ['copy', '--from', `imap://alice@127.0.0.1:${src.port}`, '--to', `${format}:${archive}`, '--allow-plaintext', '--state', state, '--json'];
      const first = await runCliCaptured(toArchive, PASSWORDS);
      assert.equal(first.code, 0, first.stderr + first.stdout.slice(-2000));
      assert.equal(first.report?.status, 'done');
      const expectedMessages = withoutDeleted(sourceAtStart).folders.reduce((n, f) => n + f.messages.length, 0);
      assert.equal(first.report?.totals.copied, expectedMessages);

      // The archive itself holds exactly the source's messages, bytes, flags and dates.
      assertSameMail(withoutDeleted(sourceAtStart), await archiveMail(format, archive), `${format} archive differs from the source`);

      // Every name in the archive is valid on Windows, macOS and Linux (Maildir's `:2,` flags aside).
      for (const file of digestFiles(archive).keys()) {
        for (const name of file.split(path.sep)) {
          const checked = format === 'maildir' ? name.replace(/:2,[A-Za-z]*$/, '') : name;
          assert.doesNotMatch(checked, /[<>:"\\|?*\u0000-\u001f]|[. ]$|^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i, `${format}: ${JSON.stringify(file)} is not portable`);
          assert.ok(Buffer.byteLength(name) <= 255);
        }
      }

      // A second run with nothing new writes nothing at all.
      const filesBefore = digestFiles(archive);
      const again = await runCliCaptured(toArchive, PASSWORDS);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(digestFiles(archive), filesBefore, 'a re-run changed the archive');

      // Restore into a fresh account.
      const dst = await startDovecot({ users: [{ name: 'bob', password: PASSWORDS.MAILFERRY_TO_PASSWORD }] });
      try {
        const restoreState = archiveDir('state');
        const restore = ['copy', '--from', `${format}:${archive}`, '--to', `imap://bob@127.0.0.1:${dst.port}`, '--allow-plaintext', '--state', restoreState, '--json'];
        const back = await runCliCaptured(restore, PASSWORDS);
        assert.equal(back.code, 0, back.stderr + back.stdout.slice(-2000));
        assert.equal(back.report?.status, 'done');
        const restored = await snapshotAccount(dst.account());
        assertSameMail(withoutDeleted(sourceAtStart), withoutDeleted(restored), `${format} round trip differs`);

        // New mail on the source: the archive gains exactly it, and so does the restored account.
        await fillAccount(src.account(), [{ segments: ['Reisen'], messages: [newMessage(1), newMessage(2)] }]);
        const third = await runCliCaptured(toArchive, PASSWORDS);
        assert.equal(third.code, 0, third.stderr);
        const sourceNow = await snapshotAccount(src.account());
        assertSameMail(withoutDeleted(sourceNow), await archiveMail(format, archive), `${format} archive after new mail`);
        const back2 = await runCliCaptured(restore, PASSWORDS);
        assert.equal(back2.code, 0, back2.stderr);
        assertSameMail(withoutDeleted(sourceNow), withoutDeleted(await snapshotAccount(dst.account())), `${format} after a re-run`);
      } finally {
        await dst.stop();
      }
    });
  }

  test('the source account was never changed by archiving (except the mail the tests added)', async () => {
    const now = await snapshotAccount(src.account());
    const reisenBefore = sourceBefore.folders.find((f) => f.path === 'Reisen');
    assert.ok(reisenBefore);
    const reisenNow = now.folders.find((f) => f.path === 'Reisen');
    assert.ok(reisenNow);
    // Take out what the tests appended, then the rest must be untouched.
    const trimmed: AccountSnapshot = {
      folders: now.folders.map((f) => (f.path === 'Reisen' ? { ...f, uidNext: reisenBefore.uidNext, messages: f.messages.filter((m) => reisenBefore.messages.some((b) => b.uid === m.uid)) } : f)),
    };
    assertSourceUnchanged(sourceBefore, trimmed);
  });
});
