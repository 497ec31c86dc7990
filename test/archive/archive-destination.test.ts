/** Archive destinations on their own (no server): the exact bytes of an mbox record, name clashes, append results, the write lock. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { ArchiveFormat } from '../../src/contract/account.js';
import { openArchiveDestination, openArchiveSource } from '../../src/archive/open-archive.js';
import { LOCK_FILE } from '../../src/archive/archive-lock.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailferry-archive-unit-'));
  dirs.push(dir);
  return dir;
};

const withFromLines = Buffer.from(
  'Return-Path: <bob@example.com>\r\nFrom: Bob <bob@example.com>\r\nSubject: From lines\r\n\r\nFrom here on.\r\n>From the archive.\r\n>>From twice.\r\nEnd.\r\n',
);

describe('archive destinations', () => {
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('mbox: one record is the From line, our envelope, the mboxrd-quoted message and an empty line', async () => {
    const dir = tempDir();
    const opened = await openArchiveDestination({ format: 'mbox', path: dir });
    assert.ok(opened.ok);
    const store = opened.value;
    assert.deepEqual(await store.ensureFolder('Reisen'), { ok: true, value: { created: true } });
    const outcome = await store.append('Reisen', [{ body: withFromLines, flags: ['\\Seen', '\\Flagged', 'Work'], internalDate: new Date('2004-01-05T10:00:00Z') }]);
    assert.equal(outcome.stopped, undefined);
    assert.ok(outcome.results[0]?.ok);
    assert.equal(outcome.results[0].value.uid, 1);
    await store.close();
    assert.equal(
      readFileSync(path.join(dir, 'Reisen'), 'latin1'),
      'From bob@example.com Mon Jan  5 10:00:00 2004\nStatus: RO\nX-Status: F\nX-Keywords: Work\n' +
        'Return-Path: <bob@example.com>\r\nFrom: Bob <bob@example.com>\r\nSubject: From lines\r\n\r\n>From here on.\r\n>>From the archive.\r\n>>>From twice.\r\nEnd.\r\n' +
        '\n',
    );
    // Read back: exactly the original bytes.
    const source = await openArchiveSource({ format: 'mbox', path: dir });
    assert.ok(source.ok);
    await source.value.openFolder('Reisen');
    for await (const body of source.value.readBodies('Reisen', [1])) assert.deepEqual(body.ok && body.body, withFromLines);
    await source.value.close();
  });

  for (const format of ['mbox', 'maildir', 'eml'] as ArchiveFormat[]) {
    test(`${format}: "Work" and "work" would be one file on Windows and macOS: the second is refused, nothing mixed`, async () => {
      const dir = tempDir();
      const opened = await openArchiveDestination({ format, path: dir });
      assert.ok(opened.ok);
      const store = opened.value;
      assert.ok((await store.ensureFolder('Work')).ok);
      const second = await store.ensureFolder('work');
      assert.ok(!second.ok);
      assert.equal(second.error.kind, 'bad-input');
      assert.match(second.error.message, /cannot tell apart/);
      assert.ok((await store.ensureFolder('Work')).ok, 'the first one is still fine');
      const uids = await store.append('Work', [{ body: withFromLines, flags: [], internalDate: new Date('2020-02-02T02:02:02Z') }]);
      assert.ok(uids.results[0]?.ok);
      const state = await store.folderState('Work');
      assert.ok(state.ok);
      assert.equal(state.value.messages, 1);
      assert.equal(state.value.uidNext, 2);
      await store.close();
    });
  }

  test('one writing process per archive: shared within this process, refused for a live other, taken over from a dead one', async () => {
    const dir = tempDir();
    const first = await openArchiveDestination({ format: 'mbox', path: dir });
    const second = await openArchiveDestination({ format: 'mbox', path: dir });
    assert.ok(first.ok && second.ok, 'two workers of one job share the lock');
    await first.value.close();
    assert.ok(existsSync(path.join(dir, LOCK_FILE)), 'still held by the second');
    await second.value.close();
    assert.ok(!existsSync(path.join(dir, LOCK_FILE)), 'released when the last one closes');

    // A live process on this host holds it (pid 1 always exists).
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), since: Date.now() }));
    const refused = await openArchiveDestination({ format: 'mbox', path: dir });
    assert.ok(!refused.ok);
    assert.match(refused.error.message, /Another Mailferry is writing to this archive/);

    // A killed one: its PID is gone, the lock is taken over.
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: Number(child.stdout.toString()), host: hostname(), since: Date.now() }));
    const taken = await openArchiveDestination({ format: 'mbox', path: dir });
    assert.ok(taken.ok, !taken.ok ? taken.error.message : '');
    await taken.value.close();
    // Reading never takes the lock.
    writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), since: Date.now() }));
    assert.ok((await openArchiveSource({ format: 'mbox', path: dir })).ok);
  });

  test('special use is guessed from top-level names for a restore only, and never when two folders claim it', async () => {
    const dir = tempDir();
    const opened = await openArchiveDestination({ format: 'eml', path: dir });
    assert.ok(opened.ok);
    for (const folder of ['Sent', 'Drafts', 'Archive', 'Archives', 'Reisen/Trash']) assert.ok((await opened.value.ensureFolder(folder)).ok);
    const asDestination = await opened.value.listFolders();
    await opened.value.close();
    assert.ok(asDestination.ok);
    assert.ok(asDestination.value.every((f) => f.specialUse === undefined), 'a destination maps by name alone');
    const source = await openArchiveSource({ format: 'eml', path: dir });
    assert.ok(source.ok);
    const asSource = await source.value.listFolders();
    assert.ok(asSource.ok);
    const uses = Object.fromEntries(asSource.value.map((f) => [f.path, f.specialUse ?? null]));
    assert.deepEqual(uses, { Sent: '\\Sent', Drafts: '\\Drafts', Archive: null, Archives: null, Reisen: null, 'Reisen/Trash': null });
  });
});
