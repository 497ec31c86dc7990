/**
 * The command line with OAuth2, run as a person runs it (a child process, no display, so the
 * device grant): `--from-oauth ISSUER --to-oauth ISSUER` prints a code for each side on stderr
 * and as a `sign-in` event, headless Chromium plays the person entering it, and the move runs
 * between two Dovecots that introspect every token. Also: a revoked sign-in mid-move exits 2
 * with "sign in again" and the next run resumes exactly; `--from-token-env` alone; `--remember`
 * with a real keychain (GNOME Keyring on a private D-Bus session under a temp HOME).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateCorpus } from '../support/corpus.js';
import { signInInBrowser, startOAuthServer, TEST_CLIENT_ID, type OAuthTestServer } from '../support/oauth-server.js';
import { signInAs, testOAuthClient } from '../support/oauth-sign-in.js';
import { assertNoTokenIn, assertNoTokenInFiles } from '../support/token-leaks.js';
import { assertDone, assertWorldIntact, DESTINATION_USER, SOURCE_USER, startWorld, type World } from '../faults/harness.js';
import { cliArgs } from '../faults/cli-child.js';
import type { JobReport } from '../../src/contract/job.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** A CLI run that takes longer than this is killed and the test fails. */
const CHILD_LIMIT_MS = 120_000;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  events: { type: string; [k: string]: unknown }[];
}

/**
 * Runs the real CLI without a display, under `home` (its own app-data and keychain). Each
 * `sign-in` event is answered by Chromium signing in as the side's user; `onEvent` sees every event.
 * With `keyring`, the CLI runs on a private D-Bus session with GNOME Keyring unlocked.
 */
const runCli = (args: string[], options: { home: string; env?: Record<string, string>; keyring?: boolean; onEvent?: (event: CliRun['events'][number]) => void }): Promise<CliRun & { signIns: Promise<string>[] }> =>
  new Promise((resolve, reject) => {
    const node = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args];
    // The keyring's login password only unlocks the test's own keyring file under the temp HOME.
    const command = options.keyring ? ['dbus-run-session', '--', 'sh', '-c', 'printf test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"', 'keyring-session', ...node] : node;
    const child = spawn(command[0] as string, command.slice(1), {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: options.home, XDG_CONFIG_HOME: join(options.home, '.config'), XDG_RUNTIME_DIR: options.home, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const events: CliRun['events'] = [];
    const signIns: Promise<string>[] = [];
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not finish within ${CHILD_LIMIT_MS} ms:\n${stderr.slice(-2000)}`));
    }, CHILD_LIMIT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      pending += chunk.toString('utf8');
      for (let eol = pending.indexOf('\n'); eol >= 0; eol = pending.indexOf('\n')) {
        const line = pending.slice(0, eol);
        pending = pending.slice(eol + 1);
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line) as CliRun['events'][number];
        events.push(event);
        if (event.type === 'sign-in') {
          const user = event.account === 'source' ? SOURCE_USER.name : DESTINATION_USER.name;
          const done = signInInBrowser(String(event.verificationUri), user, String(event.userCode));
          done.catch(() => undefined);
          signIns.push(done);
        }
        options.onEvent?.(event);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr, events, signIns });
    });
  });

describe('mailferry copy with OAuth2 sign-in', { concurrency: false }, () => {
  let auth: OAuthTestServer;
  const homes: string[] = [];
  const freshHome = (): string => {
    const home = mkdtempSync(join(tmpdir(), 'mf-cli-oauth-home-'));
    homes.push(home);
    return home;
  };

  before(async () => {
    auth = await startOAuthServer({ accessTokenTtlS: 3, devicePollIntervalS: 1 });
  });
  after(async () => {
    await auth?.stop();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  const oauthWorld = (seed: number, messagesPerFolder = 3, server = auth): Promise<World> => {
    const oauth2 = { introspectionUrl: server.introspectionUrlWithCredentials };
    return startWorld({ corpus: generateCorpus({ seed, messagesPerFolder }), source: { oauth2 }, destination: { oauth2 } });
  };
  const copyArgs = cliArgs;
  const oauthArgs = ['--from-oauth', '', '--to-oauth', '', '--from-client-id', TEST_CLIENT_ID, '--to-client-id', TEST_CLIENT_ID];
  const withIssuer = (): string[] => oauthArgs.map((a) => (a === '' ? auth.issuer : a));
  const reportOf = (run: CliRun): JobReport | undefined => run.events.at(-1)?.report as JobReport | undefined;

  test('without a display: a code per account on stderr and as a sign-in event; the copy runs with tokens on both sides; no token in any output or file', async () => {
    const world = await oauthWorld(51);
    try {
      const run = await runCli(copyArgs(world, withIssuer()), { home: freshHome() });
      await Promise.all(run.signIns);
      assert.equal(run.code, 0, run.stderr);
      const signIns = run.events.filter((e) => e.type === 'sign-in');
      assert.deepEqual(signIns.map((e) => e.account), ['source', 'destination']);
      for (const e of signIns) {
        assert.deepEqual(Object.keys(e).sort(), ['account', 'type', 'userCode', 'verificationUri']);
        assert.equal(e.verificationUri, `${auth.issuer}/device`);
      }
      assert.match(run.stderr, new RegExp(`sign in to the old account \\(source\\), ${SOURCE_USER.name} at 127\\.0\\.0\\.1:\\d+, open ${auth.issuer}/device on any device and enter the code ${String(signIns[0]?.userCode)}`));
      assert.match(run.stderr, /sign in to the new account \(destination\), newuser at /);
      assertDone(reportOf(run) as JobReport);
      await assertWorldIntact(world);
      assertNoTokenIn(auth.issuedTokens(), { stdout: run.stdout, stderr: run.stderr });
      assertNoTokenInFiles(auth.issuedTokens(), world.stateDir);
    } finally {
      await world.stop();
    }
  });

  test('a sign-in revoked during the move: exit 2 with one line saying "sign in again", the journal kept; the same command then signs in and finishes exactly', async () => {
    const world = await oauthWorld(52, 6);
    try {
      world.sourceProxy.setFaults([{ kind: 'latency', ms: 20, direction: 'server-to-client' }]);
      let revoked = false;
      const first = await runCli(copyArgs(world, [...withIssuer(), '--connections', '1']), {
        home: freshHome(),
        onEvent: (event) => {
          const progress = event.progress as { messagesDone?: number } | undefined;
          if (revoked || event.type !== 'progress' || !progress?.messagesDone) return;
          revoked = true;
          void auth.revokeAccount(SOURCE_USER.name).then(() => world.sourceProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', afterBytes: 0, times: 1 }]));
        },
      });
      await Promise.all(first.signIns);
      assert.ok(revoked, 'revoked during the move');
      assert.equal(first.code, 2, first.stderr);
      const lines = first.stderr.split('\n').filter((l) => l.includes('sign in again'));
      assert.equal(lines.length, 1, `one line says "sign in again":\n${first.stderr}`);
      assert.match(lines[0] as string, /^mailferry: 127\.0\.0\.1:\d+ refused the sign-in.* — sign in again\. Run the same command again/);
      assert.equal(reportOf(first)?.status, 'paused');
      const copiedFirst = reportOf(first)?.totals.copied ?? 0;
      assert.ok(copiedFirst > 0, 'some mail had arrived before the stop');

      world.sourceProxy.clearFaults();
      const second = await runCli(copyArgs(world, withIssuer()), { home: freshHome() });
      await Promise.all(second.signIns);
      assert.equal(second.code, 0, second.stderr);
      assertDone(reportOf(second) as JobReport);
      await assertWorldIntact(world);
      assertNoTokenIn(auth.issuedTokens(), { stdout: first.stdout + second.stdout, stderr: first.stderr + second.stderr });
      assertNoTokenInFiles(auth.issuedTokens(), world.stateDir);
    } finally {
      await world.stop();
    }
  });

  test('--from-token-env / --to-token-env work alone; a revoked ready token exits 2 with "sign in again"', async () => {
    // Ready tokens are never refreshed: these live long enough for the test.
    const longLived = await startOAuthServer();
    const world = await oauthWorld(53, 1, longLived);
    try {
      const oauth = await testOAuthClient(longLived);
      const env = { SRC_TOKEN: (await signInAs(oauth, SOURCE_USER.name)).accessToken, DST_TOKEN: (await signInAs(oauth, DESTINATION_USER.name)).accessToken };
      const args = ['plan', ...copyArgs(world).slice(1), '--from-token-env', 'SRC_TOKEN', '--to-token-env', 'DST_TOKEN'];
      const planned = await runCli(args, { home: freshHome(), env });
      assert.equal(planned.code, 0, planned.stderr);
      assert.equal(planned.events.filter((e) => e.type === 'sign-in').length, 0, 'no sign-in asked for');
      assert.ok(planned.events.some((e) => e.type === 'plan'));
      await longLived.revokeAccount(DESTINATION_USER.name);
      const refused = await runCli(args, { home: freshHome(), env });
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /^mailferry: Could not open the destination: The mail server refused the sign-in \(127\.0\.0\.1:\d+\): the token has expired or was revoked — sign in again\./m);
      assertNoTokenIn(Object.values(env), { stdout: planned.stdout + refused.stdout, stderr: planned.stderr + refused.stderr });
    } finally {
      await world.stop();
      await longLived.stop();
    }
  });

  test('--remember keeps the sign-in in the keychain (GNOME Keyring, encrypted): the next run asks for no sign-in', async () => {
    assert.ok(existsSync('/usr/bin/gnome-keyring-daemon'), 'gnome-keyring is installed (scripts/setup-test-machine.sh)');
    const world = await oauthWorld(54, 1);
    try {
      const home = freshHome();
      const args = copyArgs(world, [...withIssuer(), '--remember']);
      const first = await runCli(args, { home, keyring: true });
      await Promise.all(first.signIns);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.events.filter((e) => e.type === 'sign-in').length, 2);
      const second = await runCli(args, { home, keyring: true });
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.events.filter((e) => e.type === 'sign-in').length, 0, 'the kept sign-ins were used');
      await assertWorldIntact(world);
      const keyrings = join(home, '.local', 'share', 'keyrings');
      assert.ok(existsSync(keyrings), 'the keychain holds the sign-in');
      assertNoTokenInFiles(auth.issuedTokens(), keyrings);
      assertNoTokenInFiles(auth.issuedTokens(), world.stateDir);
      assert.ok(!readFileSync(join(keyrings, 'login.keyring')).includes(Buffer.from('oauth2')), 'the keyring file is encrypted');
    } finally {
      await world.stop();
    }
  });
});
