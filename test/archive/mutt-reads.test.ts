/**
 * mutt opens what Mailferry writes: an mbox file (`mutt -f`) and a Maildir folder, driven in a
 * real terminal (tmux), its message index read off the screen. mutt shows one line per message,
 * with its flags (r replied, ! flagged, O old/seen-not-new), sorted by date here.
 *
 * mutt and tmux run with a home of their own: on an account that never ran mutt, its default
 * `folder` (~/Mail) is missing and mutt stops to ask whether to create it, so the test would pass
 * only where some earlier run had left ~/Mail behind.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fillAccount, generateCorpus } from '../support/corpus.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { freshStateDir, PASSWORDS, runCliCaptured } from '../engine/cli-harness.js';
import { privateHomeEnv } from '../support/private-home.js';

/** How long mutt may take to draw its index. */
const SCREEN_TIMEOUT_MS = 15_000;
const POLL_MS = 100;

const requireTool = (name: string): void => {
  if (spawnSync('which', [name]).status !== 0) throw new Error(`${name} is not installed: run sudo bash scripts/setup-test-machine.sh`);
};

/** Opens a mailbox in mutt inside a private tmux server and returns the index screen's lines. */
const muttIndex = async (mailbox: string, expectedLines: number): Promise<string[]> => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailferry-mutt-'));
  const rc = path.join(dir, 'muttrc');
  // `folder` points at a folder that exists, so mutt has nothing to ask before showing the index.
  writeFileSync(rc, `set folder="${dir}"\nset sort=date\nset index_format="%4C %Z %-20.20F %s"\nset mbox_type=mbox\nset folder_format="%f"\n`);
  const socket = path.join(dir, 'tmux.sock');
  // The tmux server passes this environment on to the shell that starts mutt: sh, whatever the
  // user's login shell, keeping no history (a shell writing its history file as it dies would
  // race the removal of the folder below).
  const env = { ...process.env, ...privateHomeEnv(path.join(dir, 'home')), HISTFILE: '' };
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env });
  tmux('new-session', '-d', '-x', '160', '-y', '60', 'sh');
  try {
    tmux('send-keys', `TERM=xterm mutt -n -F ${rc} -R -f '${mailbox}'`, 'Enter');
    const deadline = Date.now() + SCREEN_TIMEOUT_MS;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      lines = tmux('capture-pane', '-p').split('\n');
      const rows = lines.filter((l) => /^\s+\d+\s/.test(l));
      if (rows.length >= expectedLines) return rows;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new Error(`mutt did not show ${expectedLines} messages; the screen was:\n${lines.join('\n')}`);
  } finally {
    spawnSync('tmux', ['-S', socket, 'kill-server'], { env });
    rmSync(dir, { recursive: true, force: true });
  }
};

describe('mutt reads the archives', () => {
  let server: DovecotServer;
  const corpus = generateCorpus({ seed: 'mutt', folders: [{ segments: ['INBOX'] }], messagesPerFolder: 4 });
  const inbox = corpus.folders[0]?.messages.filter((m) => !m.flags.includes('\\Deleted')) ?? [];
  before(async () => {
    requireTool('mutt');
    requireTool('tmux');
    server = await startDovecot({ users: [{ name: 'alice', password: PASSWORDS.MAILFERRY_FROM_PASSWORD }] });
    await fillAccount(server.account(), corpus);
  });
  after(async () => {
    await server?.stop();
  });

  for (const format of ['mbox', 'maildir'] as const) {
    test(`${format}: every message listed, with its subject and flags`, async () => {
      const archive = mkdtempSync(path.join(tmpdir(), `mailferry-${format}-`));
      const run = await runCliCaptured(['copy', '--from', `imap://alice@127.0.0.1:${server.port}`, '--to', `${format}:${archive}`, '--allow-plaintext', '--state', freshStateDir()], PASSWORDS);
      assert.equal(run.code, 0, run.stderr);
      const mailbox = format === 'mbox' ? path.join(archive, 'Inbox') : archive;
      const rows = await muttIndex(mailbox, inbox.length);
      assert.equal(rows.length, inbox.length, rows.join('\n'));
      const flagged = inbox.filter((m) => m.flags.includes('\\Flagged')).length;
      const answered = inbox.filter((m) => m.flags.includes('\\Answered')).length;
      // %Z is mutt's three-character status column right after the number.
      const status = (row: string) => /^\s*\d+ (.{3})/.exec(row)?.[1] ?? '';
      assert.equal(rows.filter((r) => status(r).includes('!')).length, flagged, `flagged messages show "!":\n${rows.join('\n')}`);
      assert.equal(rows.filter((r) => status(r).includes('r')).length, answered, `replied messages show "r":\n${rows.join('\n')}`);
      for (const subject of ['No Message-ID here', 'Überfahrt nach Île-de-Ré 10', 'From lines in the body']) {
        assert.ok(rows.some((r) => r.includes(subject)), `"${subject}" is listed:\n${rows.join('\n')}`);
      }
    });
  }
});
