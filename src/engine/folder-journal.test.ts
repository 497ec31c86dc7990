import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { FolderJournal, foldJournal, parseJsonLines } from './folder-journal.js';

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

test('a send stays open until settled; a later send line with its id replaces its window; ids survive a reset', () => {
  const state = foldJournal([
    { t: 'pass', srcUidValidity: '1', dstUidValidity: '1', dstScanFrom: 7, at: 1 },
    { t: 'send', id: 1, src: [1, 2], at: 10, settleMs: 5_000 },
    { t: 'copied', src: 1, dst: 7, fp: 'a', size: 1 },
    { t: 'copied', src: 2, dst: 8, fp: 'b', size: 1 },
    { t: 'settled', ids: [1], at: 11 },
    { t: 'send', id: 2, src: [3], at: 20, settleMs: 9_000 },
    { t: 'send', id: 2, src: [3], at: 25, settleMs: 5_000 },
  ]);
  assert.deepEqual([...state.openSends.keys()], [2]);
  assert.equal(state.openSends.get(2)?.at, 25);
  assert.equal(state.openSends.get(2)?.settleMs, 5_000);
  assert.equal(state.lastSendId, 2);
  assert.equal(state.lastVerified, undefined, 'an open send means not verified');
  const after = foldJournal([{ t: 'reset', reason: 'UIDVALIDITY', at: 30 }], state);
  assert.equal(after.openSends.size, 0);
  assert.equal(after.lastSendId, 2, 'a new send after a reset gets a new id');
});

test('the first pass line after a reset says where the job first saw the destination folder', () => {
  const state = foldJournal([
    { t: 'pass', srcUidValidity: '1', dstUidValidity: '1', dstScanFrom: 40, at: 1 },
    { t: 'pass', srcUidValidity: '1', dstUidValidity: '1', dstScanFrom: 90, at: 2 },
  ]);
  assert.equal(state.firstSeenDstUid, 40);
  foldJournal([{ t: 'reset', reason: 'UIDVALIDITY', at: 3 }, { t: 'pass', srcUidValidity: '1', dstUidValidity: '2', dstScanFrom: 5, at: 4 }], state);
  assert.equal(state.firstSeenDstUid, 5);
});

test('send and settled lines written to disk come back on reopening; a malformed one is dropped', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'journal-'));
  const journal = await FolderJournal.open(dir, 'Bulk', 'Bulk');
  journal.record({ t: 'send', id: 1, src: [4, 5], at: 100, settleMs: 6_000 });
  await journal.flush();
  const [file] = readdirSync(dir);
  appendFileSync(path.join(dir, file as string), '{"t":"send","id":2,"src":"everything","at":1,"settleMs":1}\n');
  const reopened = await FolderJournal.open(dir, 'Bulk', 'Bulk');
  assert.deepEqual([...reopened.current.openSends.keys()], [1]);
  assert.deepEqual(reopened.current.openSends.get(1)?.src, [4, 5]);
});

test('journal lines are read in one parse, and line by line when one of them is torn', () => {
  const lines = [{ t: 'pass', dstScanFrom: 1 }, { t: 'copied', src: 1, fp: 'a', size: 1 }, { t: 'send', id: 1, src: [1, 2], at: 1, settleMs: 5 }];
  const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
  assert.deepEqual(parseJsonLines(text), lines);
  assert.deepEqual(parseJsonLines(''), []);
  // A send line torn inside its UID list would swallow the next lines into that list if the
  // lines were simply joined; the whole parse fails and each line is read alone instead.
  const torn = `${JSON.stringify(lines[0])}\n{"t":"send","id":2,"src":[3,4\n${JSON.stringify(lines[1])}\n`;
  assert.deepEqual(parseJsonLines(torn), [lines[0], lines[1]]);
  // Two values on one line (not something we write) are not taken for two lines.
  assert.deepEqual(parseJsonLines('1,2\n3\n'), [3]);
});
