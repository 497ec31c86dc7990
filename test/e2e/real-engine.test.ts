/**
 * End to end with the real engine: the built renderer in Chromium, its `window.mailferry` backed
 * by the AppService in this process (through main's own request validation), copying between two
 * private Dovecot servers, each behind a fault proxy. A person's whole move: accounts (a wrong
 * password first, a self-signed certificate trusted by its fingerprint), folders, start, a
 * connection dropped mid-copy and retried, finish, report, export.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobEvent } from '../../src/contract/job.js';
import type { AccountRole } from '../../src/contract/ipc.js';
import type { AccountEndpoint } from '../../src/contract/account.js';
import { createAppService } from '../../src/service/app-service.js';
import { generateCorpus, generateFolderOfSize, fillAccount } from '../support/corpus.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { snapshotAccount } from '../support/mail-snapshot.js';
import { buildRenderer, OFFLINE_DISCOVERY, openApp, serveRenderer, serviceBridge } from './harness.js';

const SOURCE_USER = { name: 'olduser', password: 'old-Secret-4b1d' };
const DESTINATION_USER = { name: 'newuser', password: 'new-Secret-77ea' };
const BODY_FETCH = /^\S+ UID FETCH .*BODY\.PEEK\[\]/i;

/**
 * In-memory stand-ins for electron-store and safeStorage that outlive one AppService, as the files
 * outlive one run of the app (main's real ones are tested in main/).
 */
const accounts = new Map<AccountRole, { email: string; endpoint: AccountEndpoint }>();
const settings = { getAccount: (role: AccountRole) => accounts.get(role), setAccount: (role: AccountRole, a: { email: string; endpoint: AccountEndpoint }) => void accounts.set(role, a) };
const remembered = new Map<AccountRole, string>();
const vault = { save: (role: AccountRole, pw: string) => void remembered.set(role, pw), load: (role: AccountRole) => remembered.get(role), remove: (role: AccountRole) => void remembered.delete(role) };

describe('real engine between two Dovecots', { concurrency: false }, () => {
  let server: Awaited<ReturnType<typeof serveRenderer>>;
  let source: DovecotServer;
  let destination: DovecotServer;
  let sourceProxy: FaultProxy;
  let destinationProxy: FaultProxy;
  let stateDir: string;

  before(async () => {
    await buildRenderer();
    server = await serveRenderer();
    [source, destination] = await Promise.all([startDovecot({ users: [SOURCE_USER] }), startDovecot({ users: [DESTINATION_USER], tls: true })]);
    // Enough mail that the move takes a moment, with one big message for the drop to land in.
    const corpus = generateCorpus({ seed: 'e2e', messagesPerFolder: 6, big: [2_500_000] });
    await fillAccount(source.account(SOURCE_USER.name), corpus);
    [sourceProxy, destinationProxy] = await Promise.all([
      startFaultProxy({ targetHost: '127.0.0.1', targetPort: source.port }),
      startFaultProxy({ targetHost: '127.0.0.1', targetPort: destination.tlsPort! }),
    ]);
    stateDir = await mkdtemp(join(tmpdir(), 'mailferry-e2e-state-'));
  });

  after(async () => {
    await Promise.allSettled([sourceProxy?.stop(), destinationProxy?.stop()]);
    await Promise.allSettled([source?.stop(), destination?.stop()]);
    await server?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  /** One run of the app's engine side; a new one over the same state is the app reopened. */
  function startService() {
    const listeners = new Set<(e: JobEvent) => void>();
    const events: JobEvent[] = [];
    const savedFiles: string[] = [];
    const service = createAppService({
      stateDir: join(stateDir, 'jobs'),
      settings,
      vault,
      emit: (event) => {
        events.push(event);
        for (const l of listeners) l(event);
      },
      discovery: OFFLINE_DISCOVERY,
      chooseSavePath: async (name) => {
        const path = join(stateDir, name);
        savedFiles.push(path);
        return path;
      },
      // Generous: Dovecot delays the next login from an address after a wrong password (auth penalty).
      timeouts: { socketTimeoutMs: 20_000, greetingTimeoutMs: 20_000, connectionTimeoutMs: 20_000 },
      // Long enough that the "retrying in N s" state is on screen for a moment.
      backoff: { baseMs: 2_500, capMs: 4_000 },
    });
    return { service, bridge: serviceBridge(service, listeners), events, savedFiles };
  }

  const destinationMatchesSource = async (path: string): Promise<void> => {
    const [from, to] = await Promise.all([snapshotAccount(source.account(SOURCE_USER.name)), snapshotAccount(destination.account(DESTINATION_USER.name))]);
    const expected = from.folders.find((f) => f.path === path)?.messages.filter((m) => !m.flags.includes('\\Deleted')).length;
    assert.equal(to.folders.find((f) => f.path === path)?.messages.length, expected, `${path}: every message once`);
  };

  test('fill accounts, test (wrong password, certificate), pick folders, copy through a dropped connection, report, run again', async () => {
    const { service, bridge, events, savedFiles } = startService();
    const app = await openApp(server.url, bridge);
    const { page } = app;
    try {
      await app.waitForState('accounts');

      // Old account: plain IMAP on a local server, which the user must allow explicitly.
      const from = page.locator('form[data-role="source"]');
      await from.getByLabel('E-mail address').fill('olduser@old.example');
      await from.getByLabel('Password', { exact: true }).fill(SOURCE_USER.password);
      await from.getByRole('button', { name: 'Server settings' }).click();
      await from.getByLabel('Server', { exact: true }).fill('127.0.0.1');
      await from.getByLabel('Security').selectOption('plain');
      await from.getByLabel('Port').fill(String(sourceProxy.port));
      await from.getByLabel('User name').fill(SOURCE_USER.name);
      await from.getByLabel(/connect without encryption/).check();
      await from.getByLabel(/Remember the password/).check();
      await from.getByRole('button', { name: 'Test connection' }).click();
      await from.getByTestId('test-ok').waitFor();

      // New account: TLS with a self-signed certificate, and a wrong password first.
      const to = page.locator('form[data-role="destination"]');
      await to.getByLabel('E-mail address').fill('newuser@new.example');
      await to.getByLabel('Password', { exact: true }).fill('not-the-password');
      await to.getByRole('button', { name: 'Server settings' }).click();
      await to.getByLabel('Server', { exact: true }).fill('127.0.0.1');
      await to.getByLabel('Port').fill(String(destinationProxy.port));
      await to.getByLabel('User name').fill(DESTINATION_USER.name);
      await to.getByRole('button', { name: 'Test connection' }).click();
      await to.locator('[data-error-kind="tls"]').waitFor();
      assert.match(await to.locator('[data-error-kind="tls"]').innerText(), new RegExp(destination.certFingerprint!.slice(0, 20)));
      await app.screenshot('real-01-accounts-certificate');
      await to.getByRole('button', { name: 'Trust this certificate' }).click();
      await to.locator('[data-error-kind="auth"]').waitFor();
      await app.screenshot('real-02-accounts-wrong-password');
      await to.getByLabel('Password', { exact: true }).fill(DESTINATION_USER.password);
      await to.getByLabel(/Remember the password/).check();
      await to.getByRole('button', { name: 'Test connection' }).click();
      await to.getByTestId('test-ok').waitFor();
      await app.screenshot('real-03-accounts-ready');

      await page.getByRole('button', { name: 'Choose folders' }).click();
      await app.waitForState('folders');
      await page.getByRole('tree').waitFor();
      // Leave Drafts behind, by keyboard.
      const drafts = page.locator('[role="treeitem"][data-path="Drafts"]');
      assert.equal(await drafts.getAttribute('aria-checked'), 'true');
      await page.getByRole('tree').focus();
      while ((await page.locator(`#${await page.getByRole('tree').getAttribute('aria-activedescendant')}`).getAttribute('data-path')) !== 'Drafts') {
        await page.keyboard.press('ArrowDown');
      }
      await page.keyboard.press('Space');
      assert.equal(await drafts.getAttribute('aria-checked'), 'false');
      assert.ok(await page.locator('[role="treeitem"][data-path="Reisen/Überfahrt"]').count(), 'decoded non-ASCII names');
      await app.screenshot('real-04-folders');

      // Drop the source connection in the middle of a body fetch, once.
      const [drop] = sourceProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', onCommand: BODY_FETCH, afterBytes: 200_000, times: 1 }]);
      await page.getByRole('button', { name: 'Start moving' }).click();
      await app.waitForState('copying');
      await page.locator('.folder-progress[data-status="retrying"]').waitFor({ timeout: 60_000 });
      await app.screenshot('real-05-move-retrying');
      assert.equal(drop!.firedCount, 1);
      await app.waitForState('done');
      await app.screenshot('real-06-move-done');
      assert.deepEqual((await app.axe()), []);

      await page.getByRole('button', { name: 'See the report' }).click();
      await app.waitForState('report');
      await page.getByRole('heading', { name: 'Everything arrived' }).waitFor();
      await page.getByText(/Log \(/).click();
      await app.screenshot('real-07-report');
      assert.deepEqual((await app.axe()), []);

      const report = events.filter((e) => e.type === 'report').at(-1);
      assert.ok(report && report.type === 'report');
      assert.equal(report.report.status, 'done');
      assert.ok(report.report.folders.every((f) => f.isComplete && f.failed.length === 0));
      assert.ok(!report.report.folders.some((f) => f.sourcePath === 'Drafts'), 'Drafts was left out');
      assert.ok(events.some((e) => e.type === 'folder-status' && e.folder.status === 'retrying'), 'the drop was retried');
      // The destination holds what was chosen: every message of INBOX once, nothing in Drafts.
      await destinationMatchesSource('INBOX');
      const afterFirst = await snapshotAccount(destination.account(DESTINATION_USER.name));
      assert.equal(afterFirst.folders.find((f) => f.path === 'Drafts')?.messages.length ?? 0, 0);

      await page.getByRole('button', { name: 'Export CSV' }).click();
      await page.getByText(/Report saved to .*\.csv/).waitFor();
      assert.match(await readFile(savedFiles[0]!, 'utf8'), /INBOX/);

      // New mail arrives on the old account; "run again" brings over only that.
      await fillAccount(source.account(SOURCE_USER.name), generateCorpus({ seed: 'later', folders: [{ segments: ['INBOX'] }], messagesPerFolder: 1, specials: false }));
      await page.getByRole('button', { name: 'Run again for new mail' }).click();
      await app.waitForState('done');
      await destinationMatchesSource('INBOX'); // the new one is there, nothing twice
      assert.deepEqual(sourceProxy.wire().destructive().destructive, [], 'nothing destructive was ever sent to the old account');
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('real-failure').catch(() => undefined);
      throw e;
    } finally {
      await service.shutdown();
      await app.close();
    }
  });


  test('the app closed mid-move offers to resume on the next start, and finishes the move', async () => {
    // More mail on the old account, on a slow link, so the move is still under way when the app closes.
    await fillAccount(source.account(SOURCE_USER.name), [generateFolderOfSize({ seed: 'bulk', segments: ['Bulk'], messages: 24, totalBytes: 2_400_000 })]);
    const first = startService();
    let app = await openApp(server.url, first.bridge);
    try {
      // The accounts come back from the settings, passwords from the vault: no typing.
      await app.page.locator('form[data-role="source"]').getByLabel('E-mail address').and(app.page.locator('[value="olduser@old.example"]')).waitFor();
      for (const role of ['source', 'destination']) {
        const form = app.page.locator(`form[data-role="${role}"]`);
        await form.getByRole('button', { name: 'Test connection' }).click();
        await form.getByTestId('test-ok').waitFor();
      }
      await app.page.getByRole('button', { name: 'Choose folders' }).click();
      await app.waitForState('folders');
      await app.page.locator('[role="treeitem"][data-path="Bulk"]').waitFor();
      sourceProxy.setFaults([{ kind: 'bandwidth', bytesPerSecond: 150_000, direction: 'server-to-client' }]);
      await app.page.getByRole('button', { name: 'Start moving' }).click();
      await app.page.locator('.folder-progress[data-path="Bulk"][data-status="copying"]').waitFor({ timeout: 60_000 });
      // The speed chart draws the real copy as it goes: a point a second, and a line on the canvas.
      const chart = app.page.getByTestId('speed-chart');
      await app.page.waitForFunction(() => Number(document.querySelector('[data-testid="speed-chart"]')?.getAttribute('data-points')) >= 3, undefined, { timeout: 60_000 });
      const strokePixels = await chart.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        let count = 0;
        // The line's colour (#1d6b8f), give or take its anti-aliased edges.
        for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - 0x1d) + Math.abs(data[i + 1]! - 0x6b) + Math.abs(data[i + 2]! - 0x8f) < 60 && data[i + 3]! > 200) count += 1;
        return count;
      });
      assert.ok(strokePixels > 20, `the chart drew its line (${strokePixels} pixels of it)`);
      assert.match(await chart.innerText(), /Now [\d.]+ (bytes|KB|MB)\/s · average/);
      await app.screenshot('real-08-move-before-quit');
      // Quitting: main pauses running jobs (service.shutdown) and the window goes away.
      await first.service.shutdown();
    } finally {
      await app.close();
    }
    sourceProxy.clearFaults();

    const second = startService();
    app = await openApp(server.url, second.bridge);
    try {
      await app.page.getByTestId('resume-offer').waitFor();
      await app.screenshot('real-09-resume-offer');
      assert.deepEqual(await app.axe(), []);
      await app.page.getByRole('button', { name: 'Resume the move' }).click();
      await app.waitForState('done');
      await app.page.getByRole('button', { name: 'See the report' }).click();
      await app.waitForState('report');
      await app.page.getByRole('heading', { name: 'Everything arrived' }).waitFor();
      await destinationMatchesSource('Bulk');
      await destinationMatchesSource('INBOX');
      assert.deepEqual(sourceProxy.wire().destructive().destructive, []);
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('real-failure-resume').catch(() => undefined);
      throw e;
    } finally {
      await second.service.shutdown();
      await app.close();
    }
  });
});
