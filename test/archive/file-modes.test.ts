/**
 * Mail, journals and job records are for the user alone: every file Mailferry creates is 0600
 * and every directory 0700 (issue 18: they were 0644/0755). The modes are given explicitly, so
 * the test runs with umask 0, where anything created with the defaults would be 0666/0777.
 * Files and folders that existed before keep their modes: Mailferry never re-modes what is not
 * its own.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fromLine } from '../../src/archive/mboxrd.js';
import { writeFileAtomic } from '../../src/fs/write-file-atomic.js';
import { runCliCaptured } from '../engine/cli-harness.js';
import { testMessage as message, treeState } from './archive-helpers.js';


/** Paths under `dir` whose mode is not 0600 (files) or 0700 (directories); links are not expected at all. */
const notPrivate = (dir: string): string[] =>
  [...treeState(dir)].filter(([, state]) => !/^(file 600 |directory 700$)/.test(state)).map(([rel, state]) => `${rel}: ${state}`);

describe('files and folders Mailferry creates are readable by the user only', () => {
  let base: string;
  let source: string;
  let previousUmask: number;
  before(() => {
    previousUmask = process.umask(0);
    base = mkdtempSync(path.join(tmpdir(), 'mailferry-modes-'));
    source = path.join(base, 'source');
    for (const folder of ['INBOX', 'Work', 'Work/Sub']) {
      mkdirSync(path.join(source, folder), { recursive: true });
      writeFileSync(path.join(source, folder, 'a.eml'), message(`in ${folder}`));
    }
  });
  after(() => {
    process.umask(previousUmask);
    rmSync(base, { recursive: true, force: true });
  });

  for (const format of ['mbox', 'maildir', 'eml'] as const) {
    test(`${format}: the archive (created by the copy), its files and the state folder are 0600/0700 under umask 0`, async () => {
      const archive = path.join(base, `new-${format}`, 'archive');
      const state = path.join(base, `state-${format}`, 'nested');
      const run = await runCliCaptured(['copy', '--from', `eml:${source}`, '--to', `${format}:${archive}`, '--state', state, '--json'], {});
      assert.equal(run.code, 0, run.stderr + run.stdout.slice(-2000));
      assert.equal(statSync(path.dirname(archive)).mode & 0o777, 0o700, 'a missing parent is created 0700');
      assert.equal(statSync(archive).mode & 0o777, 0o700);
      assert.deepEqual(notPrivate(archive), []);
      assert.ok(treeState(archive).size >= 6, 'the archive holds files');
      assert.equal(statSync(path.dirname(state)).mode & 0o777, 0o700);
      assert.deepEqual(notPrivate(state), []);
      assert.ok([...treeState(state).keys()].some((rel) => rel.endsWith('job.json')));
      assert.ok([...treeState(state).keys()].some((rel) => rel.endsWith('.jsonl')), 'journals are there');
    });
  }

  test('an archive folder and an mbox file that existed keep their modes; what is added is 0600/0700', async () => {
    const archive = path.join(base, 'existing');
    mkdirSync(archive);
    chmodSync(archive, 0o755);
    const inbox = path.join(archive, 'Inbox');
    writeFileSync(inbox, Buffer.concat([Buffer.from(fromLine('a@example.org', new Date(0))), message('written by another program'), Buffer.from('\n')]));
    chmodSync(inbox, 0o644);
    const run = await runCliCaptured(['copy', '--from', `eml:${source}`, '--to', `mbox:${archive}`, '--state', path.join(base, 'state-existing'), '--json'], {});
    assert.equal(run.code, 0, run.stderr + run.stdout.slice(-2000));
    assert.equal(statSync(archive).mode & 0o777, 0o755, 'the existing folder keeps its mode');
    assert.equal(statSync(inbox).mode & 0o777, 0o644, 'the existing mbox file keeps its mode');
    const added = [...treeState(archive)].filter(([rel]) => rel !== 'Inbox');
    assert.ok(added.length >= 4);
    for (const [rel, state] of added) assert.match(state, /^(file 600 |directory 700$)/, rel);
  });

  test('writeFileAtomic (job records, the saved report, exported reports and messages) creates 0600 files in 0700 folders', async () => {
    const file = path.join(base, 'atomic', 'deep', 'report.csv');
    await writeFileAtomic(file, 'a,b\r\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(base, 'atomic')).mode & 0o777, 0o700);
  });
});
