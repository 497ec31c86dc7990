/**
 * The test runner's contract with CI: the closing `# pass N` / `# fail N` lines and `N passed, N failed`,
 * a non-zero exit on any failure, and a timed-out test file counted as failed (node reports it as
 * "cancelled", which a CI reading only `# fail` would otherwise miss).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = 'test/support/fixtures/runner';

const runTests = (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> =>
  new Promise((resolve) => {
    // Its own TAP file, or it would overwrite the one of the run this test is part of.
    const tapFile = `test-results/runner-self-test-${process.pid}-${Date.now()}.txt`;
    const child = spawn(process.execPath, ['scripts/run-tests.mjs', '--no-typecheck', '--no-build', ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', TEST_CONCURRENCY: '2', ...env, MAILFERRY_TAP_FILE: tapFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      rmSync(`${ROOT}/${tapFile}`, { force: true });
      resolve({ code, out });
    });
  });

const lastLines = (out: string, n: number): string[] => out.trimEnd().split('\n').slice(-n);

describe('scripts/run-tests.mjs', () => {
  test('all passing: exit 0 and the summary lines CI reads, last', async () => {
    const { code, out } = await runTests([`${FIXTURES}/passes.test.ts`]);
    assert.equal(code, 0, out);
    assert.equal(lastLines(out, 1)[0], '1 passed, 0 failed');
    assert.match(out, /^# pass 1$/m);
    assert.match(out, /^# fail 0$/m);
    assert.doesNotMatch(out, /\x1b\[/, 'no colour codes under CI');
  });

  test('a failing test: non-zero exit, # fail 1', async () => {
    const { code, out } = await runTests([`${FIXTURES}/passes.test.ts`, `${FIXTURES}/fails.test.ts`]);
    assert.equal(code, 1, out);
    assert.match(out, /^# fail 1$/m);
    assert.equal(lastLines(out, 1)[0], '1 passed, 1 failed');
  });

  test('a test file that never finishes is stopped at the timeout and counted as failed', async () => {
    // The per-file timeout includes starting node and tsx, which can take seconds on a loaded machine.
    const { code, out } = await runTests([`${FIXTURES}/hangs.test.ts`, `${FIXTURES}/passes.test.ts`], { TEST_TIMEOUT_MS: '8000' });
    assert.equal(code, 1, out);
    assert.match(out, /^# cancelled 1$/m);
    assert.match(out, /^# fail 1$/m);
    assert.equal(lastLines(out, 1)[0], '1 passed, 1 failed');
  });

  test('a path filter with no test files under it fails rather than passing vacuously', async () => {
    const { code, out } = await runTests(['test/support/no-such-folder']);
    assert.equal(code, 1, out);
    assert.equal(lastLines(out, 1)[0], '0 passed, 1 failed');
  });
});
