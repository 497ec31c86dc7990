import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { writeFileAtomic } from './write-file-atomic.js';

describe('writeFileAtomic', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'mailferry-atomic-'));
  after(() => rmSync(base, { recursive: true, force: true }));

  test('replaces the content whole and leaves no temporary file behind', async () => {
    const file = path.join(base, 'record.json');
    await writeFileAtomic(file, 'first');
    await writeFileAtomic(file, Buffer.from('second'));
    assert.equal(readFileSync(file, 'utf8'), 'second');
    assert.deepEqual(readdirSync(base).filter((n) => n.includes('record.json')), ['record.json']);
  });

  test('a link at the target is replaced by the file, and what it pointed to is untouched', async () => {
    const outside = path.join(base, 'outside.txt');
    writeFileSync(outside, 'keep me');
    const file = path.join(base, 'linked.json');
    symlinkSync(outside, file);
    await writeFileAtomic(file, 'new');
    assert.equal(lstatSync(file).isSymbolicLink(), false);
    assert.equal(readFileSync(file, 'utf8'), 'new');
    assert.equal(readFileSync(outside, 'utf8'), 'keep me');
  });

  test('a failed rename leaves the old file as it was and removes the temporary file', async () => {
    const dir = path.join(base, 'busy');
    const file = path.join(dir, 'target');
    // A non-empty directory cannot be renamed over: the rename fails after the temp file was written.
    await writeFileAtomic(path.join(file, 'inside'), 'x');
    await assert.rejects(writeFileAtomic(file, 'replacement'));
    assert.deepEqual(readdirSync(dir), ['target']);
    assert.equal(readFileSync(path.join(file, 'inside'), 'utf8'), 'x');
  });
});
