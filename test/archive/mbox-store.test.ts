/** Archive sources on their own (no server): scanning mbox files of other tools in pieces, single files, refusals, INBOX's name. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { MboxArchive } from '../../src/archive/mbox-store.js';
import { openArchiveDestination, openArchiveSource } from '../../src/archive/open-archive.js';
import { Rng } from '../support/corpus.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailferry-mbox-unit-'));
  dirs.push(dir);
  return dir;
};

/** An mboxo file as other tools write it: LF endings, quoted From lines, messages of very different sizes. */
const foreignMbox = (count: number): string => {
  const rng = new Rng('foreign-mbox');
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const lines = Array.from({ length: rng.int(0, 40) }, (_, j) => (j % 7 === 3 ? `>From line ${j}` : `line ${j} ${'x'.repeat(rng.int(0, 90))}`));
    parts.push(`From sender${i}@example.org Mon Jan  5 10:${String(i % 60).padStart(2, '0')}:00 2004\nSubject: message ${i}\nStatus: ${i % 2 ? 'RO' : 'O'}\n\n${lines.join('\n')}\n`);
  }
  return parts.join('\n');
};

describe('MboxArchive', () => {
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('a foreign mbox reads the same whatever the scan piece size (From lines split across pieces)', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'archive');
    writeFileSync(file, foreignMbox(60));
    const whole = await new MboxArchive(file, false, true).view('archive');
    assert.equal(whole.messages.length, 60);
    for (const chunk of [5, 6, 7, 64, 1000, 4096]) {
      const backend = new MboxArchive(file, false, true, chunk);
      const pieces = await backend.view('archive');
      assert.deepEqual(pieces, whole, `piece size ${chunk}`);
      const body = await backend.readBody('archive', 60);
      assert.match(body.toString('latin1'), /^Subject: message 59\r\nStatus: RO\r\n\r\n/);
    }
  });

  test('a single mbox file is a source of one folder, never written to; it cannot be a destination', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'Sent Mail');
    writeFileSync(file, foreignMbox(3));
    const source = await openArchiveSource({ format: 'mbox', path: file });
    assert.ok(source.ok);
    const folders = await source.value.listFolders();
    assert.ok(folders.ok);
    assert.deepEqual(
      folders.value.map((f) => [f.path, f.messages]),
      [['Sent Mail', 3]],
    );
    const listed = await source.value.listMessages('Sent Mail', 'all');
    assert.ok(listed.ok && listed.value.length === 3);
    for await (const body of source.value.readBodies('Sent Mail', [1, 2, 3])) assert.ok(body.ok);
    await source.value.close();
    assert.deepEqual(readdirSync(dir), ['Sent Mail'], 'reading wrote nothing next to the file');
    const destination = await openArchiveDestination({ format: 'mbox', path: file });
    assert.ok(!destination.ok);
    assert.equal(destination.error.kind, 'bad-input');
    const missing = await openArchiveSource({ format: 'maildir', path: path.join(dir, 'nothing-here') });
    assert.ok(!missing.ok);
    assert.equal(missing.error.kind, 'bad-input');
  });

  test('INBOX is found whatever its case in a tree another tool wrote (mbox file, eml directory)', async () => {
    const mboxRoot = tempDir();
    writeFileSync(path.join(mboxRoot, 'INBOX'), foreignMbox(2));
    const emlRoot = tempDir();
    mkdirSync(path.join(emlRoot, 'inbox'));
    writeFileSync(path.join(emlRoot, 'inbox', 'hello.eml'), 'Subject: hello\n\nhi\n');
    for (const [format, root] of [['mbox', mboxRoot], ['eml', emlRoot]] as const) {
      const source = await openArchiveSource({ format, path: root });
      assert.ok(source.ok);
      const folders = await source.value.listFolders();
      assert.ok(folders.ok);
      assert.deepEqual(folders.value.map((f) => f.path), ['INBOX'], format);
      assert.ok((await source.value.openFolder('INBOX')).ok, format);
      const uids = await source.value.listUids('INBOX');
      assert.ok(uids.ok && uids.value.uids.length === (format === 'mbox' ? 2 : 1), format);
      await source.value.close();
    }
  });
});
