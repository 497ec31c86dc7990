/**
 * Our mbox files read by another established reader, and mbox files written by other tools read
 * by us:
 * - Dovecot's own mbox driver opens (a copy of) a top-level folder of our archive and serves the
 *   same message bytes, system flags and INTERNALDATEs: it takes our `Status:`/`X-Status:` lines
 *   as the envelope they are and strips them. Two documented differences: Dovecot does not undo
 *   mboxrd quoting (it never quotes, relying on Content-Length), and it shows keywords only if
 *   they are registered in its own `X-IMAPbase` header, so keywords are not compared here.
 * - An mbox as mutt and Thunderbird write it (mboxo, LF line endings, Status / X-Mozilla-Status,
 *   `From ` lines quoted) is restored into a Dovecot account with its flags and dates.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chownSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { quoteMboxrd } from '../../src/archive/mboxrd.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillAccount, generateCorpus } from '../support/corpus.js';
import { assertSameMail, snapshotAccount, type MailSet } from '../support/mail-snapshot.js';
import { PASSWORDS, runCliCaptured } from '../engine/cli-harness.js';

const MAIL_UID = 65534;
const chownTree = (dir: string): void => {
  chownSync(dir, MAIL_UID, MAIL_UID);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full);
    else chownSync(full, MAIL_UID, MAIL_UID);
  }
};
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('mbox files and other mbox readers and writers', () => {
  let src: DovecotServer;
  const servers: DovecotServer[] = [];
  const dirs: string[] = [];
  const tempDir = (label: string): string => {
    const dir = mkdtempSync(path.join(tmpdir(), `mailferry-${label}-`));
    dirs.push(dir);
    return dir;
  };
  const corpus = generateCorpus({ seed: 'mbox-readers' });

  before(async () => {
    src = await startDovecot({ users: [{ name: 'alice', password: PASSWORDS.MAILFERRY_FROM_PASSWORD }] });
    await fillAccount(src.account(), corpus);
  });
  after(async () => {
    await Promise.allSettled([src?.stop(), ...servers.map((s) => s.stop())]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test("Dovecot's mbox driver reads our mbox: same bytes (mboxrd-quoted lines aside), flags and dates", async () => {
    const archive = tempDir('mbox');
    const run = await runCliCaptured(
      ['copy', '--from', `imap://alice@127.0.0.1:${src.port}`, '--to', `mbox:${archive}`, '--allow-plaintext', '--state', tempDir('state'), '--folder', 'INBOX', '--folder', 'Reisen', '--json'],
      PASSWORDS,
    );
    assert.equal(run.code, 0, run.stderr);
    const copy = path.join(tempDir('mbox-copy'), 'mail');
    mkdirSync(copy);
    // Dovecot's mbox layout is not Thunderbird's: give it the two top-level mbox files only.
    cpSync(path.join(archive, 'Inbox'), path.join(copy, 'Inbox'));
    cpSync(path.join(archive, 'Reisen'), path.join(copy, 'Reisen'));
    chownTree(path.dirname(copy));
    const reader = await startDovecot({ users: [{ name: 'carol', password: 'reader-pw' }], extraConfig: `mail_location = mbox:${copy}:INBOX=${copy}/Inbox\n` });
    servers.push(reader);
    const seen = await snapshotAccount(reader.account('carol'), { folders: ['INBOX', 'Reisen'] });

    const expected: MailSet = {
      folders: corpus.folders
        .filter((f) => ['INBOX', 'Reisen'].includes(f.segments.join('/')))
        .map((f) => ({
          path: f.segments.join('/'),
          messages: f.messages
            .filter((m) => !m.flags.includes('\\Deleted'))
            .map((m) => {
              const asDovecotSees = quoteMboxrd(m.raw);
              return { sha256: sha256(asDovecotSees), size: asDovecotSees.length, flags: m.flags.filter((x) => x.startsWith('\\')).sort(), internalDate: m.internalDate.toISOString() };
            }),
        })),
    };
    const withoutKeywords: MailSet = { folders: seen.folders.map((f) => ({ path: f.path, messages: f.messages.map((m) => ({ ...m, flags: m.flags.filter((x) => x.startsWith('\\')) })) })) };
    assertSameMail(expected, withoutKeywords, 'Dovecot reads our mbox differently');
  });

  test('an mbox written by mutt / Thunderbird (mboxo, LF, Status and X-Mozilla-Status) restores with flags and dates', async () => {
    const dir = tempDir('foreign-mbox');
    const file = path.join(dir, 'saved-mail');
    writeFileSync(
      file,
      [
        'From alice@example.org Mon Jan  5 10:00:00 2004',
        'Return-Path: <alice@example.org>',
        'From: Alice <alice@example.org>',
        'Subject: saved by mutt',
        'Message-ID: <mutt-1@example.org>',
        'Status: RO',
        'X-Status: A',
        '',
        '>From the harbour, with love.',
        '',
        'From - Tue Jan  6 11:30:00 2004',
        'X-Mozilla-Status: 0005',
        'X-Mozilla-Status2: 00000000',
        'X-Mozilla-Keys: $label1',
        'From: Bob <bob@example.org>',
        'Subject: saved by Thunderbird',
        'Message-ID: <tb-1@example.org>',
        '',
        'Plain body.',
        '',
        'From carol@example.org Wed Jan  7 12:00:00 2004',
        'Subject: unread, no status',
        '',
        'Nothing read yet.',
        '',
      ].join('\n'),
    );
    const dst = await startDovecot({ users: [{ name: 'dave', password: PASSWORDS.MAILFERRY_TO_PASSWORD }] });
    servers.push(dst);
    const run = await runCliCaptured(['copy', '--from', `mbox:${file}`, '--to', `imap://dave@127.0.0.1:${dst.port}`, '--allow-plaintext', '--state', tempDir('state'), '--json'], PASSWORDS);
    assert.equal(run.code, 0, run.stderr + run.stdout.slice(-1500));
    const restored = await snapshotAccount(dst.account('dave'), { folders: ['saved-mail'] });
    const folder = restored.folders[0];
    assert.ok(folder, 'a folder named after the mbox file');
    const bySubject = new Map(folder.messages.map((m) => [m.subject, m]));
    assert.deepEqual(bySubject.get('saved by mutt')?.flags, ['\\Answered', '\\Seen']);
    assert.equal(bySubject.get('saved by mutt')?.internalDate, '2004-01-05T10:00:00.000Z');
    assert.deepEqual(bySubject.get('saved by Thunderbird')?.flags, ['$label1', '\\Flagged', '\\Seen']);
    assert.deepEqual(bySubject.get('unread, no status')?.flags, []);
    // The quoted From line came back unquoted, the separator line is not part of the message,
    // and line endings are CRLF, as IMAP has them (the server would convert them anyway).
    const expectedBody = Buffer.from(
      'Return-Path: <alice@example.org>\r\nFrom: Alice <alice@example.org>\r\nSubject: saved by mutt\r\nMessage-ID: <mutt-1@example.org>\r\nStatus: RO\r\nX-Status: A\r\n\r\nFrom the harbour, with love.\r\n',
    );
    assert.equal(bySubject.get('saved by mutt')?.sha256, sha256(expectedBody));
    // A re-run finds everything there and copies nothing new.
    const again = await runCliCaptured(['copy', '--from', `mbox:${file}`, '--to', `imap://dave@127.0.0.1:${dst.port}`, '--allow-plaintext', '--state', tempDir('state'), '--json'], PASSWORDS);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.report?.totals.alreadyThere, 3, 'a fresh journal re-identifies all three by fingerprint');
    assert.equal((await snapshotAccount(dst.account('dave'), { folders: ['saved-mail'] })).folders[0]?.messages.length, 3);
  });
});
