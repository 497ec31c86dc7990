/**
 * OAuth2 sign-in in the app, end to end: the built renderer in Chromium, its bridge backed by the
 * real AppService (through main's request validation), a real authorization server and two
 * Dovecots that check every token with it. "Sign in" makes the service open the person's own
 * browser (a second Chromium, standing in for shell.openExternal) at the authorization page; the
 * person signs in there, the answer comes back to the service's loopback listener, and the code
 * is exchanged with PKCE. Mid-move the person revokes the app's access: the move pauses with
 * "Sign in again and resume", which signs in anew and finishes the move exactly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountRole } from '../../src/contract/ipc.js';
import type { JobEvent } from '../../src/contract/job.js';
import { createAppService, type StoredAccount } from '../../src/service/app-service.js';
import { generateCorpus, fillAccount } from '../support/corpus.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { snapshotAccount } from '../support/mail-snapshot.js';
import { signInInBrowser, startOAuthServer, TEST_CLIENT_ID, type OAuthTestServer } from '../support/oauth-server.js';
import { assertNoTokenIn, assertNoTokenInFiles } from '../support/token-leaks.js';
import { buildRenderer, OFFLINE_DISCOVERY, openApp, serveRenderer, serviceBridge } from './harness.js';

const SOURCE_USER = { name: 'olduser', password: 'old-Secret-0a1f' };
const DESTINATION_USER = { name: 'newuser', password: 'new-Secret-93bd' };

describe('OAuth2 sign-in in the app', { concurrency: false }, () => {
  let server: Awaited<ReturnType<typeof serveRenderer>>;
  let auth: OAuthTestServer;
  let source: DovecotServer;
  let destination: DovecotServer;
  let sourceProxy: FaultProxy;
  let stateDir: string;

  before(async () => {
    await buildRenderer();
    server = await serveRenderer();
    auth = await startOAuthServer({ accessTokenTtlS: 4 });
    const oauth2 = { introspectionUrl: auth.introspectionUrlWithCredentials };
    [source, destination] = await Promise.all([startDovecot({ users: [SOURCE_USER], oauth2 }), startDovecot({ users: [DESTINATION_USER], oauth2 })]);
    await fillAccount(source.account(SOURCE_USER.name), generateCorpus({ seed: 'e2e-oauth', messagesPerFolder: 8 }));
    sourceProxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: source.port });
    stateDir = await mkdtemp(join(tmpdir(), 'mailferry-e2e-oauth-'));
  });
  after(async () => {
    await sourceProxy?.stop();
    await Promise.allSettled([source?.stop(), destination?.stop()]);
    await auth?.stop();
    await server?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  test('sign in with the system browser on both sides, move, revoke mid-move, "sign in again" resumes, exact copy; no token reaches the page', async () => {
    const accounts = new Map<AccountRole, StoredAccount>();
    const kept = new Map<AccountRole, string>();
    const events: JobEvent[] = [];
    const listeners = new Set<(e: JobEvent) => void>();
    /** What the person's browser was asked to open, and as whom they sign in there. */
    const opened: string[] = [];
    const browserSignIns: Promise<string>[] = [];
    const service = createAppService({
      stateDir: join(stateDir, 'jobs'),
      settings: { getAccount: (role) => accounts.get(role), setAccount: (role, a) => void accounts.set(role, a) },
      vault: { save: () => undefined, load: () => undefined, remove: () => undefined },
      discovery: OFFLINE_DISCOVERY,
      tokenVault: { save: (role, t) => void kept.set(role, t), load: (role) => kept.get(role), remove: (role) => void kept.delete(role) },
      openExternal: async (url) => {
        opened.push(url);
        // The person signs in as the account the app asked for (its address is the login hint).
        const user = (new URL(url).searchParams.get('login_hint') ?? '').split('@')[0] ?? '';
        const done = signInInBrowser(url, user);
        done.catch(() => undefined);
        browserSignIns.push(done);
      },
      emit: (event) => {
        events.push(event);
        for (const l of listeners) l(event);
      },
      chooseSavePath: async (name) => join(stateDir, name),
      timeouts: { socketTimeoutMs: 5_000, greetingTimeoutMs: 5_000, connectionTimeoutMs: 5_000 },
      backoff: { baseMs: 200, capMs: 400 },
      signInTimeoutMs: 60_000,
    });
    const app = await openApp(server.url, serviceBridge(service, listeners));
    const { page } = app;
    try {
      await app.waitForState('accounts');
      const fill = async (role: AccountRole, email: string, user: string, port: number): Promise<void> => {
        const form = page.locator(`form[data-role="${role}"]`);
        await form.getByLabel('E-mail address').fill(email);
        await form.getByRole('button', { name: 'Server settings' }).click();
        await form.getByLabel('Server', { exact: true }).fill('127.0.0.1');
        await form.getByLabel('Security').selectOption('plain');
        await form.getByLabel('Port').fill(String(port));
        await form.getByLabel('User name').fill(user);
        await form.getByLabel(/connect without encryption/).check();
        await form.getByRole('button', { name: /organisation’s sign-in server/ }).click();
        await form.getByLabel('Address of the sign-in server (issuer)').fill(auth.issuer);
        await form.getByRole('button', { name: 'Sign-in settings' }).click();
        await form.getByLabel('Client ID of your app registration').fill(TEST_CLIENT_ID);
        await form.getByRole('button', { name: /^Sign in with 127\.0\.0\.1:\d+$/ }).click();
        await form.getByTestId('signed-in').waitFor({ timeout: 60_000 });
        await form.getByTestId('test-ok').waitFor({ timeout: 60_000 });
        assert.match(await form.getByTestId('signed-in').innerText(), new RegExp(`Signed in at 127\\.0\\.0\\.1:\\d+ as ${user}\\.`));
      };
      await fill('source', 'olduser@old.example', SOURCE_USER.name, sourceProxy.port);
      await fill('destination', 'newuser@new.example', DESTINATION_USER.name, destination.port);
      await Promise.all(browserSignIns);
      assert.equal(opened.length, 2, 'the system browser opened once per account');
      for (const url of opened) {
        const request = new URL(url);
        assert.equal(request.origin, auth.issuer);
        assert.match(request.searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/);
        assert.equal(request.searchParams.get('code_challenge_method'), 'S256');
        assert.ok((request.searchParams.get('state') ?? '').length >= 32, 'a random state');
      }
      await app.screenshot('oauth-01-accounts-signed-in');
      assert.deepEqual(await app.axe(), []);

      await page.getByRole('button', { name: 'Choose folders' }).click();
      await app.waitForState('folders');
      await page.getByRole('tree').waitFor();
      // Slow enough that the move is under way when the person revokes the app's access.
      sourceProxy.setFaults([{ kind: 'bandwidth', bytesPerSecond: 60_000, direction: 'server-to-client' }]);
      let revoked = false;
      listeners.add((event) => {
        if (revoked || event.type !== 'progress' || event.progress.messagesDone === 0) return;
        revoked = true;
        void auth.revokeAccount(SOURCE_USER.name).then(() => sourceProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', afterBytes: 0, times: 1 }]));
      });
      await page.getByRole('button', { name: 'Start moving' }).click();
      await app.waitForState('copying');
      await page.getByTestId('sign-in-again').waitFor({ timeout: 60_000 });
      assert.ok(revoked);
      assert.equal(await page.locator('[data-job-status]').getAttribute('data-job-status'), 'paused');
      assert.match(await page.locator('[data-error-kind="auth"]').innerText(), /Old account: sign in again[\s\S]*refused the sign-in.*— sign in again\./);
      await app.screenshot('oauth-02-sign-in-again');
      assert.deepEqual(await app.axe(), []);

      sourceProxy.clearFaults();
      await page.getByRole('button', { name: 'Sign in again and resume' }).click();
      await app.waitForState('done');
      await Promise.all(browserSignIns);
      assert.equal(opened.length, 3, 'signing in again opened the browser once more');
      await app.screenshot('oauth-03-done');

      const [from, to] = await Promise.all([snapshotAccount(source.account(SOURCE_USER.name)), snapshotAccount(destination.account(DESTINATION_USER.name))]);
      for (const folder of from.folders.filter((f) => f.isSelectable && f.messages.length > 0)) {
        const expected = folder.messages.filter((m) => !m.flags.includes('\\Deleted')).map((m) => m.sha256).sort();
        const landed = (to.folders.find((f) => f.path === folder.path)?.messages ?? []).map((m) => m.sha256).sort();
        if (expected.length > 0 && landed.length > 0) assert.deepEqual(landed, expected, `${folder.path}: every message exactly once`);
      }
      const report = events.filter((e) => e.type === 'report').at(-1);
      assert.ok(report?.type === 'report' && report.report.status === 'done');
      assert.ok(report.report.folders.every((f) => f.isComplete));

      const tokens = auth.issuedTokens();
      assertNoTokenIn(tokens, { page: await page.content(), 'job events': JSON.stringify(events), settings: JSON.stringify([...accounts]) });
      assertNoTokenInFiles(tokens, stateDir);
      assert.deepEqual(app.problems, []);

      // Signing out forgets the kept sign-in.
      await page.getByRole('button', { name: 'See the report' }).click();
      assert.ok(kept.has('source'));
      const signedOut = await service['accounts:signOut']({ role: 'source' });
      assert.ok(signedOut.ok && signedOut.value.signIn?.isSignedIn === false);
      assert.ok(!kept.has('source'));
    } catch (e) {
      await app.screenshot('oauth-failure').catch(() => undefined);
      throw e;
    } finally {
      await service.shutdown();
      await app.close();
    }
  });
});
