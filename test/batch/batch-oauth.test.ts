/**
 * A batch with OAuth2 rows, where nobody is there to sign in. What works, tested against a
 * Dovecot that introspects every token at a test authorization server:
 * - a sign-in kept once with `mailferry plan/copy … --from-oauth ISSUER --remember` (the keychain
 *   here is an in-memory stand-in for the OS keychain, which test/auth/cli-oauth.test.ts covers),
 * - a ready access token named in from_token_env.
 * A row whose provider has no kept sign-in is invalid input (exit 2, before anything starts),
 * never a prompt that waits; a kept sign-in revoked since fails its row alone, saying to sign in
 * again. No token is in any output or state file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RefreshTokenStore } from '../../src/auth/refresh-token-store.js';
import { runCli } from '../../src/cli/run-cli.js';
import type { MailboxSummary } from '../../src/contract/batch.js';
import { fillAccount, generateCorpus } from '../support/corpus.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { snapshotAccount } from '../support/mail-snapshot.js';
import { signInInBrowser, startOAuthServer, TEST_CLIENT_ID, type OAuthTestServer } from '../support/oauth-server.js';
import { signInAs, testOAuthClient } from '../support/oauth-sign-in.js';
import { assertNoTokenIn, assertNoTokenInFiles } from '../support/token-leaks.js';

const USERS = ['alice', 'bob', 'carol'];
const passwordOf = (user: string, side: 'src' | 'dst'): string => `${side}-${user}-Pw3`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  events: Record<string, unknown>[];
}

describe('a batch with OAuth2 rows signs nobody in', { concurrency: false }, () => {
  let auth: OAuthTestServer;
  let source: DovecotServer;
  let destination: DovecotServer;
  let dir: string;
  const kept = new Map<string, string>();
  const keychain: RefreshTokenStore = {
    load: async (key) => ({ ok: true, value: kept.get(key) }),
    save: async (key, token) => ({ ok: true, value: void kept.set(key, token) }),
    remove: async (key) => ({ ok: true, value: void kept.delete(key) }),
  };
  const env: Record<string, string> = {};
  let outputs = '';

  /** The CLI in this process with the stand-in keychain; a device-code prompt is answered in Chromium as `user`. */
  const cli = async (args: string[], user?: string): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    const signIns: Promise<string>[] = [];
    const code = await runCli(args, {
      stdout: (text) => {
        stdout += text;
        for (const line of text.split('\n').filter((l) => l.startsWith('{"type":"sign-in"'))) {
          const event = JSON.parse(line) as { verificationUri: string; userCode: string };
          assert.ok(user, 'a sign-in was asked for where none may be');
          signIns.push(signInInBrowser(event.verificationUri, user, event.userCode));
        }
      },
      stderr: (text) => (stderr += text),
      env,
      keychain,
    });
    await Promise.all(signIns);
    outputs += stdout + stderr;
    return { code, stdout, stderr, events: stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>) };
  };

  const csvFile = (name: string, rows: string[]): string => {
    const file = join(dir, name);
    writeFileSync(file, ['id,from,to,from_oauth,from_token_env,to_password_env', ...rows].join('\n') + '\n');
    return file;
  };
  const row = (user: string, tokenEnv = ''): string =>
    [user, `imap://${user}@127.0.0.1:${source.port}`, `imap://${user}@127.0.0.1:${destination.port}`, auth.issuer, tokenEnv, `DST_${user.toUpperCase()}`].join(',');
  const batch = (csv: string, state: string): string[] => ['batch', csv, '--state-dir', state, '--allow-plaintext', '--from-client-id', TEST_CLIENT_ID, '--json', '--timeout', '10'];

  before(async () => {
    auth = await startOAuthServer();
    [source, destination] = await Promise.all([
      startDovecot({ users: USERS.map((name) => ({ name, password: passwordOf(name, 'src') })), oauth2: { introspectionUrl: auth.introspectionUrlWithCredentials } }),
      startDovecot({ users: USERS.map((name) => ({ name, password: passwordOf(name, 'dst') })) }),
    ]);
    for (const [i, user] of USERS.entries()) {
      await fillAccount(source.account(user), generateCorpus({ seed: `oauth-batch-${i}`, folders: [{ segments: ['INBOX'] }, { segments: ['Work'] }], messagesPerFolder: 3, specials: false }));
      env[`DST_${user.toUpperCase()}`] = passwordOf(user, 'dst');
    }
    dir = mkdtempSync(join(tmpdir(), 'mf-batch-oauth-'));
  });
  after(async () => {
    await Promise.allSettled([source?.stop(), destination?.stop()]);
    await auth?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a sign-in kept once with --remember, and a ready token: both rows verified, no sign-in asked for, no token anywhere', async () => {
    // Once, where a person is: `plan` copies nothing, and with --remember keeps the sign-in.
    const once = await cli(['plan', '--from', `imap://alice@127.0.0.1:${source.port}`, '--from-oauth', auth.issuer, '--from-client-id', TEST_CLIENT_ID, '--remember', '--to', `imap://alice@127.0.0.1:${destination.port}`, '--to-password-env', 'DST_ALICE', '--allow-plaintext', '--json'], 'alice');
    assert.equal(once.code, 0, once.stderr);
    assert.equal(kept.size, 1, 'the sign-in is kept');
    env.BOB_TOKEN = (await signInAs(await testOAuthClient(auth), 'bob')).accessToken;

    const state = join(dir, 'state');
    const run = await cli(batch(csvFile('users.csv', [row('alice'), row('bob', 'BOB_TOKEN')]), state));
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.events.filter((e) => e.type === 'sign-in'), [], 'nobody was asked to sign in');
    const summary = run.events.at(-1) as { mailboxes: MailboxSummary[] };
    assert.deepEqual(summary.mailboxes.map((m) => [m.id, m.status, m.messages]), [
      ['alice', 'verified', 6],
      ['bob', 'verified', 6],
    ]);
    for (const user of ['alice', 'bob']) {
      const [from, to] = await Promise.all([snapshotAccount(source.account(user)), snapshotAccount(destination.account(user))]);
      assert.deepEqual(to.folders.map((f) => [f.path, f.messages.map((m) => m.sha256).sort()]), from.folders.map((f) => [f.path, f.messages.map((m) => m.sha256).sort()]), `${user}: the destination holds the source`);
    }
    assertNoTokenIn(auth.issuedTokens(), { output: outputs });
    assertNoTokenInFiles(auth.issuedTokens(), state);
  });

  test('a provider without a kept sign-in is invalid input: exit 2 at once, the row named, nothing copied', async () => {
    const state = join(dir, 'state-carol');
    const run = await cli(batch(csvFile('with-carol.csv', [row('alice'), row('bob', 'BOB_TOKEN'), row('carol')]), state));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /with-carol\.csv: row 3 \(line 4\), column from_oauth: No sign-in is kept on this computer for carol \(the source\), and a batch cannot ask anyone to sign in: sign in once with "mailferry copy … --from-oauth http:\/\/127\.0\.0\.1:\d+ --remember", or name a ready access token in from_token_env\./);
    assert.equal(existsSync(state), false, 'nothing started');
    assert.deepEqual((await snapshotAccount(destination.account('carol'))).folders.flatMap((f) => f.messages), []);
  });

  test('a kept sign-in revoked since fails its row alone ("sign in again"); the other row is verified; exit 1', async () => {
    await auth.revokeAccount('alice');
    const run = await cli(batch(join(dir, 'users.csv'), join(dir, 'state')));
    assert.equal(run.code, 1, run.stderr);
    const summary = run.events.at(-1) as { mailboxes: MailboxSummary[] };
    const [alice, bob] = summary.mailboxes;
    assert.equal(alice?.status, 'failed');
    assert.match(alice?.reason ?? '', /^Could not sign in to the source: .*sign in/);
    assert.equal(bob?.status, 'verified');
    assert.equal(kept.size, 0, 'the refused sign-in is forgotten');
    assertNoTokenIn(auth.issuedTokens(), { output: outputs });
  });
});
