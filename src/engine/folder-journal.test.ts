import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { FolderJournal, foldJournal } from './folder-journal.js';

test('a journal survives reopening, and a torn last line is ignored', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'journal-'));
  const journal = await FolderJournal.open(dir, 'INBOX', 'INBOX');
  journal.record({ t: 'pass', srcUidValidity: '7', dstUidValidity: '9', dstScanFrom: 1, at: 1 });
  journal.record({ t: 'copied', src: 1, dst: 10, fp: 'a', size: 5 });
  await journal.flush();
  const [file] = readdirSync(dir);
  // A crash in the middle of writing the next line.
  appendFileSync(path.join(dir, file as string), '{"t":"copied","src":2,"ds');
  const reopened = await FolderJournal.open(dir, 'INBOX', 'INBOX');
  assert.deepEqual([...reopened.current.done.keys()], [1]);
  reopened.record({ t: 'copied', src: 2, dst: 11, fp: 'b', size: 5 });
  await reopened.flush();
  const again = await FolderJournal.open(dir, 'INBOX', 'INBOX');
  assert.deepEqual([...again.current.done.keys()], [1, 2], 'the line after the torn one is read');
  assert.match(readFileSync(path.join(dir, file as string), 'utf8'), /"ds\n\{"t":"copied","src":2/);
});

test('reset voids what came before; a later copy clears an earlier failure', () => {
  const error = { kind: 'rejected' as const, message: 'no', retryable: false };
  const state = foldJournal([
    { t: 'copied', src: 1, fp: 'a', size: 1 },
    { t: 'failed', src: 2, error },
    { t: 'reset', reason: 'UIDVALIDITY', at: 1 },
    { t: 'failed', src: 3, error },
    { t: 'copied', src: 3, fp: 'c', size: 1 },
  ]);
  assert.deepEqual([...state.done.keys()], [3]);
  assert.equal(state.failed.size, 0);
});

test('doneSinceLastPass holds only entries after the newest pass line', () => {
  const state = foldJournal([
    { t: 'pass', srcUidValidity: '1', dstUidValidity: '1', dstScanFrom: 1, at: 1 },
    { t: 'copied', src: 1, fp: 'a', size: 1 },
    { t: 'pass', srcUidValidity: '1', dstUidValidity: '1', dstScanFrom: 5, at: 2 },
    { t: 'present', src: 2, fp: 'b', size: 1 },
  ]);
  assert.deepEqual(state.doneSinceLastPass.map((e) => e.src), [2]);
  assert.equal(state.lastPass?.dstScanFrom, 5);
});
