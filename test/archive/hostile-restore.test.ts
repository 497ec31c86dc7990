/**
 * Restoring from an archive that holds links out of it (issue 18): before, a linked message
 * file and a linked `cur/` were followed, so an outside file was uploaded as mail, and the plan
 * (which counted one message) and the copy (which copied two) disagreed. Each case builds the
 * archive in a temp folder next to an `outside/` folder holding a message with a secret
 * subject, restores it into a fresh account on a private Dovecot with the real CLI, and checks:
 * - the secret is nowhere on the account, and the outside folder is unchanged;
 * - the plan's count for each folder is what the copy accounts for (copied + failed);
 * - what is refused is reported with the reason (a message as failed, a folder as not complete),
 *   and everything else is restored.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ArchiveFormat } from '../../src/contract/account.js';
import type { FolderReport } from '../../src/contract/job.js';
import type { CopyPlan } from '../../src/contract/plan.js';
import { quoteMboxrd, fromLine } from '../../src/archive/mboxrd.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { snapshotAccount } from '../support/mail-snapshot.js';
import { freshStateDir, PASSWORDS, runCliCaptured } from '../engine/cli-harness.js';
import { testMessage as message, treeState } from './archive-helpers.js';

const SECRET = 'SECRET outside the archive';


const mboxOf = (...subjects: string[]): Buffer =>
  Buffer.concat(subjects.map((s) => Buffer.concat([Buffer.from(fromLine('sender@example.org', new Date(Date.UTC(2026, 2, 2)))), quoteMboxrd(message(s)), Buffer.from('\n')])));

interface Case {
  name: string;
  format: ArchiveFormat;
  /** Builds the archive in `archive`, with links into `outside`. */
  plant(archive: string, outside: string): void;
  /** Per source folder: messages the plan counts, how many are restored, how many refused. */
  expect: Record<string, { planned: number; copied: number; refusedMessages: number; isFolderRefused?: boolean }>;
}

const maildir = (dir: string, files: Record<string, Buffer>): void => {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(dir, sub), { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, 'cur', name), bytes);
};

/** A linked message in INBOX, a linked folder Work, and a folder Other without links. */
const LINKED_MESSAGE_AND_FOLDER: Case['expect'] = {
  INBOX: { planned: 2, copied: 1, refusedMessages: 1 },
  Work: { planned: 0, copied: 0, refusedMessages: 0, isFolderRefused: true },
  Other: { planned: 1, copied: 1, refusedMessages: 0 },
};

const CASES: Case[] = [
  {
    name: 'Maildir: a message file linked outside, and a folder whose cur/ is linked outside',
    format: 'maildir',
    plant: (archive, outside) => {
      maildir(archive, { '1000.M1P1.host:2,S': message('kept in INBOX') });
      symlinkSync(path.join(outside, 'secret.eml'), path.join(archive, 'cur', '1001.M1P1.host:2,S'));
      maildir(path.join(archive, '.Work'), {});
      rmSync(path.join(archive, '.Work', 'cur'), { recursive: true });
      symlinkSync(path.join(outside, 'maildir', 'cur'), path.join(archive, '.Work', 'cur'));
      maildir(path.join(archive, '.Other'), { '1002.M1P1.host:2,': message('kept in Other') });
    },
    expect: LINKED_MESSAGE_AND_FOLDER,
  },
  {
    name: 'eml: a message file linked outside, and a folder linked outside',
    format: 'eml',
    plant: (archive, outside) => {
      mkdirSync(path.join(archive, 'INBOX'), { recursive: true });
      writeFileSync(path.join(archive, 'INBOX', 'kept.eml'), message('kept in INBOX'));
      symlinkSync(path.join(outside, 'secret.eml'), path.join(archive, 'INBOX', 'secret.eml'));
      symlinkSync(path.join(outside, 'eml'), path.join(archive, 'Work'));
      mkdirSync(path.join(archive, 'Other'));
      writeFileSync(path.join(archive, 'Other', 'kept.eml'), message('kept in Other'));
    },
    expect: LINKED_MESSAGE_AND_FOLDER,
  },
  {
    name: 'mbox: a folder file linked to an outside mbox, and an index linked outside',
    format: 'mbox',
    plant: (archive, outside) => {
      mkdirSync(archive, { recursive: true });
      writeFileSync(path.join(archive, 'Inbox'), mboxOf('kept in INBOX'));
      symlinkSync(path.join(outside, 'secret.mbox'), path.join(archive, 'Work'));
      writeFileSync(path.join(archive, 'Other'), mboxOf('kept in Other'));
      symlinkSync(path.join(outside, 'secret.mbox'), path.join(archive, '.Other.mailferry-index.jsonl'));
      writeFileSync(path.join(archive, 'Third'), mboxOf('kept in Third'));
    },
    expect: {
      INBOX: { planned: 1, copied: 1, refusedMessages: 0 },
      Work: { planned: 0, copied: 0, refusedMessages: 0, isFolderRefused: true },
      Other: { planned: 0, copied: 0, refusedMessages: 0, isFolderRefused: true },
      Third: { planned: 1, copied: 1, refusedMessages: 0 },
    },
  },
];

describe('restoring an archive with links out of it', () => {
  let server: DovecotServer;
  const dirs: string[] = [];
  const users = CASES.map((_, i) => `restore${i}`);
  before(async () => {
    server = await startDovecot({ users: users.map((name) => ({ name, password: PASSWORDS.MAILFERRY_TO_PASSWORD })) });
  });
  after(async () => {
    await server?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  CASES.forEach((c, i) => {
    test(`${c.name}: refused with the reason, never uploaded; plan and copy agree; the rest is restored`, async () => {
      const base = mkdtempSync(path.join(tmpdir(), 'mailferry-hostile-restore-'));
      dirs.push(base);
      const outside = path.join(base, 'outside');
      for (const sub of ['maildir/cur', 'maildir/new', 'maildir/tmp', 'eml']) mkdirSync(path.join(outside, sub), { recursive: true });
      writeFileSync(path.join(outside, 'secret.eml'), message(SECRET));
      writeFileSync(path.join(outside, 'maildir', 'cur', '2000.M1P1.host:2,S'), message(SECRET));
      writeFileSync(path.join(outside, 'eml', 'secret.eml'), message(SECRET));
      writeFileSync(path.join(outside, 'secret.mbox'), mboxOf(SECRET, SECRET));
      const archive = path.join(base, 'archive');
      c.plant(archive, outside);
      const outsideBefore = treeState(outside);
      const to = `imap://${users[i]}@127.0.0.1:${server.port}`;
      const args = ['--from', `${c.format}:${archive}`, '--to', to, '--allow-plaintext', '--state', freshStateDir(), '--json'];

      const planned = await runCliCaptured(['plan', ...args], PASSWORDS);
      assert.equal(planned.code, 0, planned.stderr + planned.stdout.slice(-2000));
      const plan = planned.events.find((e) => e.type === 'plan')?.plan as CopyPlan | undefined;
      assert.ok(plan, planned.stdout);
      const plannedCounts = Object.fromEntries(plan.folders.map((f) => [f.source.path, f.source.messages]));
      assert.deepEqual(plannedCounts, Object.fromEntries(Object.entries(c.expect).map(([p, e]) => [p, e.planned])), 'the plan counts');

      const copied = await runCliCaptured(['copy', ...args], PASSWORDS);
      assert.equal(copied.code, 1, `something was refused, so the copy is incomplete:\n${copied.stderr}`);
      const report = copied.report;
      assert.ok(report, copied.stdout.slice(-2000));
      for (const [folderPath, e] of Object.entries(c.expect)) {
        const f: FolderReport | undefined = report.folders.find((r) => r.sourcePath === folderPath);
        assert.ok(f, `${folderPath} is in the report`);
        assert.equal(f.copied, e.copied, `${folderPath}: copied`);
        assert.equal(f.failed.length, e.refusedMessages, `${folderPath}: refused messages`);
        assert.equal(f.copied + f.failed.length, e.planned, `${folderPath}: the copy accounts for what the plan counted`);
        for (const m of f.failed) assert.match(m.error.message, /symbolic link/, `${folderPath}: a refused message says why`);
        if (e.isFolderRefused) assert.match(f.error?.message ?? '', /symbolic link/, `${folderPath}: a refused folder says why`);
        else assert.equal(f.isComplete, e.refusedMessages === 0, `${folderPath}: complete unless something was refused`);
      }

      const account = await snapshotAccount(server.account(users[i]));
      const subjects = account.folders.flatMap((f) => f.messages.map((m) => m.subject ?? ''));
      assert.equal(subjects.filter((s) => s.includes('SECRET')).length, 0, `an outside file was uploaded: ${subjects.join(' | ')}`);
      assert.deepEqual(subjects.filter((s) => s.startsWith('kept')).sort(), Object.entries(c.expect).filter(([, e]) => e.copied > 0).map(([p]) => `kept in ${p}`).sort());
      assert.deepEqual(treeState(outside), outsideBefore, 'the outside folder changed');
    });
  });
});
