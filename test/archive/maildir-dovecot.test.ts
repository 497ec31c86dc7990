/**
 * A Maildir archive written by Mailferry, opened by Dovecot itself: a private instance whose
 * mail_location points at (a copy of) the archive must show the same folders and messages,
 * with the same bytes, flags (keywords through dovecot-keywords) and INTERNALDATEs (mtimes).
 * And the other way: Dovecot's own Maildir, read as an archive, restores into a fresh account.
 */
import assert from 'node:assert/strict';
import { cpSync, chownSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillAccount, generateCorpus } from '../support/corpus.js';
import { assertSameMail, snapshotAccount, type AccountSnapshot, type MailSet } from '../support/mail-snapshot.js';
import { PASSWORDS, runCliCaptured } from '../engine/cli-harness.js';
import { openArchiveSource } from '../../src/archive/open-archive.js';

const MAIL_UID = 65534;

const withoutDeleted = (snapshot: AccountSnapshot): MailSet => ({
  folders: snapshot.folders.filter((f) => f.isSelectable).map((f) => ({ path: f.path, messages: f.messages.filter((m) => !m.flags.includes('\\Deleted')) })),
});

const chownTree = (dir: string): void => {
  chownSync(dir, MAIL_UID, MAIL_UID);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full);
    else chownSync(full, MAIL_UID, MAIL_UID);
  }
};

describe('a Maildir archive opened by Dovecot', () => {
  let src: DovecotServer;
  let reader: DovecotServer | undefined;
  const corpus = generateCorpus({ seed: 'maildir-for-dovecot' });

  before(async () => {
    src = await startDovecot({ users: [{ name: 'alice', password: PASSWORDS.MAILFERRY_FROM_PASSWORD }] });
    await fillAccount(src.account(), corpus);
  });
  const dirs: string[] = [];
  after(async () => {
    await Promise.allSettled([src?.stop(), reader?.stop()]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('Dovecot pointed at the archive shows exactly the archived messages, flags and dates', async () => {
    const archive = mkdtempSync(path.join(tmpdir(), 'mailferry-maildir-'));
    const state = mkdtempSync(path.join(tmpdir(), 'mailferry-state-'));
    dirs.push(archive, state);
    const run = await runCliCaptured(
      ['copy', '--from', `imap://alice@127.0.0.1:${src.port}`, '--to', `maildir:${archive}`, '--allow-plaintext', '--state', state, '--json'],
      PASSWORDS,
    );
    assert.equal(run.code, 0, run.stderr);

    // Dovecot writes its own index files into a maildir it opens: give it a copy, owned by its mail user.
    const copyParent = mkdtempSync(path.join(tmpdir(), 'mailferry-maildir-copy-'));
    dirs.push(copyParent);
    const copy = path.join(copyParent, 'Maildir');
    cpSync(archive, copy, { recursive: true, preserveTimestamps: true });
    chownTree(path.dirname(copy));
    for (const f of readdirSync(path.join(copy, 'cur'))) assert.ok(statSync(path.join(copy, 'cur', f)).mtimeMs > 0);

    reader = await startDovecot({ users: [{ name: 'carol', password: 'reader-pw' }], extraConfig: `mail_location = maildir:${copy}\n` });
    const seen = await snapshotAccount(reader.account('carol'));
    const source = await snapshotAccount(src.account());
    assertSameMail(withoutDeleted(source), withoutDeleted(seen), 'Dovecot reads the Maildir archive differently');
    // Folders that exist only as hierarchy levels on the source are hierarchy levels here too.
    assert.ok(seen.folders.some((f) => f.path === 'Projekte/2004/Q1' && f.isSelectable));
  });

  test("Dovecot's own Maildir, read as an archive, restores exactly into a fresh account", async () => {
    const dst = await startDovecot({ users: [{ name: 'dave', password: PASSWORDS.MAILFERRY_TO_PASSWORD }] });
    try {
      const state = mkdtempSync(path.join(tmpdir(), 'mailferry-state-'));
      dirs.push(state);
      const run = await runCliCaptured(
        ['copy', '--from', `maildir:${src.mailRoot('alice')}`, '--to', `imap://dave@127.0.0.1:${dst.port}`, '--allow-plaintext', '--state', state, '--json'],
        PASSWORDS,
      );
      assert.equal(run.code, 0, run.stderr + run.stdout.slice(-1500));
      const source = await snapshotAccount(src.account());
      assertSameMail(withoutDeleted(source), withoutDeleted(await snapshotAccount(dst.account('dave'))), "restored from Dovecot's Maildir");
      // UIDs and UIDVALIDITY come from Dovecot's own dovecot-uidlist: the same as over IMAP.
      const archive = await openArchiveSource({ format: 'maildir', path: src.mailRoot('alice') });
      assert.ok(archive.ok);
      try {
        for (const path of ['INBOX', 'Reisen']) {
          const state = await archive.value.openFolder(path);
          const uids = await archive.value.listUids(path);
          const imap = source.folders.find((f) => f.path === path);
          assert.ok(state.ok && uids.ok && imap);
          assert.equal(state.value.uidValidity, imap.uidValidity);
          assert.deepEqual(uids.value.uids, imap.messages.map((m) => m.uid));
        }
      } finally {
        await archive.value.close();
      }
    } finally {
      await dst.stop();
    }
  });
});
