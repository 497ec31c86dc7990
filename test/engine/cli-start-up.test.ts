/**
 * Start-up: `mailferry --help`, `--version` and a usage error load none of the engine, the
 * stores or imapflow (loading imapflow alone costs about 0.2 s of CPU), and `plan` loads
 * imapflow only once it connects. Checked by recording every module the real CLI process loads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RECORDER = fileURLToPath(new URL('../support/record-module-loads.mjs', import.meta.url));
const CHILD_LIMIT_MS = 60_000;

/** Runs the CLI with `args`; returns its exit code and every module URL it loaded. */
const loadsOf = (args: string[]): { code: number | null; loaded: string[]; stderr: string } => {
  const scratch = mkdtempSync(join(tmpdir(), 'mf-start-up-'));
  try {
    const record = join(scratch, 'loaded.txt');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--import', RECORDER, 'src/cli/main.ts', ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch, NO_COLOR: '1', MAILFERRY_RECORD_LOADS: record, MAILFERRY_FROM_PASSWORD: 'x', MAILFERRY_TO_PASSWORD: 'y' },
      encoding: 'utf8',
      timeout: CHILD_LIMIT_MS,
    });
    let loaded: string[] = [];
    try {
      loaded = readFileSync(record, 'utf8').split('\n').filter(Boolean);
    } catch {
      // nothing recorded: the assertions below say so
    }
    return { code: run.status, loaded, stderr: run.stderr };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
};

const engineModules = (loaded: string[]): string[] => loaded.filter((url) => /\/node_modules\/imapflow\/|\/src\/(engine|imap|archive|locations)\//.test(url));

describe('start-up loads only what the command needs', { concurrency: false }, () => {
  for (const args of [['--help'], ['--version'], ['copy', '--from', 'imap://a@127.0.0.1:1']]) {
    test(`mailferry ${args.join(' ')}: no engine, no stores, no imapflow`, () => {
      const { code, loaded, stderr } = loadsOf(args);
      assert.ok(loaded.some((url) => url.endsWith('/src/cli/run-cli.ts')), `the recorder saw the CLI load (exit ${code}): ${stderr}`);
      assert.deepEqual(engineModules(loaded), []);
    });
  }

  test('mailferry plan against a closed port loads the stores but not imapflow before it connects', () => {
    const { code, loaded, stderr } = loadsOf(['plan', '--from', 'imap://a@127.0.0.1:1', '--to', 'imap://b@127.0.0.1:1', '--allow-plaintext']);
    assert.equal(code, 2, `nothing listens on port 1: a connection error. ${stderr}`);
    assert.match(stderr, /Could not open the (source|destination)/);
    assert.ok(loaded.some((url) => url.includes('/src/imap/wire-session.ts')), 'the wire session was loaded to connect');
    // The destination's imapflow connection is made only after the wire session was refused
    // or alongside it; whichever comes first, imapflow is not loaded before a connection is tried.
    const firstImapflow = loaded.findIndex((url) => url.includes('/node_modules/imapflow/'));
    const wireSession = loaded.findIndex((url) => url.includes('/src/imap/wire-session.ts'));
    assert.ok(firstImapflow < 0 || firstImapflow > wireSession, 'imapflow loaded after the wire session');
  });
});
