/**
 * Escape codes in folder names and subjects from an archive (or a server) reach the terminal
 * escaped (issue 18: a folder name's ESC sequences were printed raw). The real CLI reads an eml
 * archive whose folder names hold an OSC title sequence, a C1 CSI and a bidi override, and whose
 * index gives a refused message a subject that would clear the screen; `plan` and `copy` print
 * them as `\x1b...`, and `--json` still carries the exact names, as valid JSON on one line each.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { CopyPlan } from '../../src/contract/plan.js';
import { freshStateDir, runCliCaptured } from '../engine/cli-harness.js';

const TITLE = '\x1b]0;pwned\x07';
const FOLDER = `${TITLE}Work\u009b31m\u202eevil`;
const SUBJECT = '\x1b[2J\x1b[1;1HYou have been logged out';
/** What a terminal would act on (newlines are ours, between lines). */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

describe('text from an archive reaches the terminal escaped', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'mailferry-escapes-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  const source = path.join(base, 'source');
  mkdirSync(path.join(source, FOLDER), { recursive: true });
  writeFileSync(path.join(source, FOLDER, 'a.eml'), `From: a@example.org\r\nSubject: ${SUBJECT}\r\nMessage-ID: <a@example.org>\r\n\r\nbody\r\n`);
  mkdirSync(path.join(source, 'INBOX'));
  // An entry of ours whose file was replaced by a link: refused when read, reported with its indexed subject.
  writeFileSync(
    path.join(source, 'INBOX', '.mailferry-index.jsonl'),
    [
      { t: 'folder', v: 1, format: 'eml', path: 'INBOX', uidValidity: '77', created: 0 },
      { t: 'msg', uid: 1, key: 'evil.eml', file: 'evil.eml', fp: 'evil', size: 10, flags: [], date: 0, subject: SUBJECT },
    ]
      .map((l) => JSON.stringify(l) + '\n')
      .join(''),
  );
  symlinkSync('/etc/hostname', path.join(source, 'INBOX', 'evil.eml'));

  test('plan and copy print the names and subject escaped, and nothing a terminal acts on', async () => {
    const args = ['--from', `eml:${source}`, '--to', `mbox:${path.join(base, 'archive')}`, '--state', freshStateDir()];
    const plan = await runCliCaptured(['plan', ...args], {});
    assert.equal(plan.code, 0, plan.stderr);
    const copy = await runCliCaptured(['copy', ...args], {});
    assert.equal(copy.code, 1, copy.stderr);
    for (const [name, text] of Object.entries({ 'plan stdout': plan.stdout, 'plan stderr': plan.stderr, 'copy stdout': copy.stdout, 'copy stderr': copy.stderr })) {
      assert.doesNotMatch(text, UNSAFE, `${name} holds a raw control character:\n${JSON.stringify(text)}`);
    }
    assert.ok(plan.stdout.includes('\\x1b]0;pwned\\x07Work\\x9b31m\\u202eevil'), plan.stdout);
    assert.ok(copy.stdout.includes('\\x1b]0;pwned\\x07Work\\x9b31m\\u202eevil'), copy.stdout);
    assert.ok(copy.stdout.includes('"\\x1b[2J\\x1b[1;1HYou have been logged out"'), `the refused message's subject, escaped:\n${copy.stdout}`);
    assert.match(copy.stdout, /symbolic link/);
  });

  test('--json carries the exact names, each line one valid JSON value without raw DEL or C1', async () => {
    const run = await runCliCaptured(['plan', '--from', `eml:${source}`, '--to', `mbox:${path.join(base, 'archive-json')}`, '--state', freshStateDir(), '--json'], {});
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.split('\n').filter((l) => l !== '');
    for (const line of lines) {
      assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      JSON.parse(line);
    }
    const plan = run.events.find((e) => e.type === 'plan')?.plan as CopyPlan | undefined;
    assert.ok(plan?.folders.some((f) => f.source.path === FOLDER), JSON.stringify(plan?.folders.map((f) => f.source.path)));
  });
});
