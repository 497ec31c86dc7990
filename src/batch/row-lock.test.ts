import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { sleep } from '../engine/backoff.js';
import { lockRow, ROW_LOCK_FILE } from './row-lock.js';

describe('the lock of a mailbox of a batch', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'mailferry-row-lock-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  let n = 0;
  const fresh = (): string => path.join(base, `row-${n++}`);

  test('one holder at a time; released, it can be taken again', async () => {
    const dir = fresh();
    const first = await lockRow(dir, { renewMs: 100 });
    assert.ok(first.ok);
    const started = Date.now();
    const second = await lockRow(dir, { leaseMs: 400 });
    assert.ok(!second.ok, 'a held and renewed lock is not taken');
    assert.ok(Date.now() - started >= 350, 'the second waited for the lease before giving up');
    assert.match(second.error.message, new RegExp(`being moved by another Mailferry \\(process ${process.pid} on `));
    await first.value.release();
    assert.equal(existsSync(path.join(dir, ROW_LOCK_FILE)), false);
    const third = await lockRow(dir);
    assert.ok(third.ok);
    await third.value.release();
  });

  test('a lock released while it is being renewed stays released', async () => {
    // Renewed every millisecond, released at varying moments: a renewal under way at the release
    // once put the file back after it was removed.
    for (let i = 0; i < 60; i++) {
      const dir = fresh();
      const lock = await lockRow(dir, { renewMs: 1 });
      assert.ok(lock.ok);
      await sleep(i % 7);
      await lock.value.release();
      await sleep(5);
      assert.equal(existsSync(path.join(dir, ROW_LOCK_FILE)), false, `released lock ${i} is gone, and stays gone`);
    }
  });

  test('a lock whose process is gone (same host) is taken over at once', async () => {
    const dir = fresh();
    const child = spawn(process.execPath, ['-e', '']);
    const pid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid as number)));
    const file = path.join(dir, ROW_LOCK_FILE);
    await lockRow(dir).then(async (l) => l.ok && (await l.value.release()));
    writeFileSync(file, JSON.stringify({ pid, host: os.hostname(), since: 1, token: 'dead' }));
    const started = Date.now();
    const taken = await lockRow(dir, { leaseMs: 10_000 });
    assert.ok(taken.ok);
    assert.ok(Date.now() - started < 5_000, 'no waiting for a lease');
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid, process.pid);
    await taken.value.release();
  });

  test('a lock from another machine is taken over once it has not been renewed for the lease', async () => {
    const dir = fresh();
    const file = path.join(dir, ROW_LOCK_FILE);
    await lockRow(dir).then(async (l) => l.ok && (await l.value.release()));
    writeFileSync(file, JSON.stringify({ pid: 1, host: 'pod-that-was-killed', since: 1, token: 'other' }));
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    const taken = await lockRow(dir, { leaseMs: 30_000 });
    assert.ok(taken.ok, 'an expired lease is taken over');
    await taken.value.release();
    writeFileSync(file, JSON.stringify({ pid: 1, host: 'pod-still-running', since: 1, token: 'other' }));
    // The other machine renews its lease.
    const renewing = setInterval(() => utimesSync(file, new Date(), new Date()), 50);
    const refused = await lockRow(dir, { leaseMs: 300 }).finally(() => clearInterval(renewing));
    assert.ok(!refused.ok, 'a renewed lock from another machine is respected');
    assert.match(refused.error.message, /process 1 on pod-still-running/);
  });
});
