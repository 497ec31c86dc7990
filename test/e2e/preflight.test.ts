/**
 * Issue 14 in the app, end to end with the real engine: the built renderer in Chromium drives the
 * AppService in this process through main's request validation, against two private Dovecots.
 * The new account has a quota and a 1 MB size limit it enforces (`quota_max_mail_size`) and
 * advertises (APPENDLIMIT), as test/faults/preflight.test.ts sets it up for the command line.
 *
 * - Before Start, Choose folders lists exactly the source's messages over the limit (folder,
 *   subject; "and N more") and says whether the move fits (at 1280×800 and 1024×700).
 * - "Save them to a local archive instead": the job ends done, the archive holds exactly those
 *   messages, the new account the rest; none of them ever crossed the wire to it.
 * - "Skip them": the job ends needing attention with exactly those listed as refused, never sent.
 * - "Save chosen folders to this computer": no new account at all; the chosen folders (and only
 *   they) end up in the archive byte for byte, through a pause and a resume.
 * Screenshots go to test-results/screens/ (preflight-*, archive-only-*); axe runs on each screen.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { AppJobEvent, AppJobReport, StartJobRequest } from '../../src/contract/ipc.js';
import { fillAccount, generateCorpus, generateFolderOfSize } from '../support/corpus.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { snapshotAccount, type AccountSnapshot, type MessageSnapshot } from '../support/mail-snapshot.js';
import { archiveMail } from '../archive/archive-helpers.js';
import { decodeMimeWords } from '../../renderer/src/lib/mime-words.js';
import { buildRenderer, fillFakeAccountsAndChooseFolders, fillLocalAccount, openApp, serveRenderer, startAppService, type AppPage } from './harness.js';
import { createFakeBridge, preflightPlan } from '../../renderer/test/fake-bridge.js';

const LIMIT = 1024 * 1024;
const SOURCE_USER = { name: 'olduser', password: 'old-Preflight-7d21' };
/** One new account per test that copies into one, so each starts empty. */
const ARCHIVE_USER = { name: 'keepuser', password: 'new-Keep-3a90' };
const SKIP_USER = { name: 'skipuser', password: 'new-Skip-51bf' };

/** Live messages (not flagged \Deleted, which are never copied) of a folder of a snapshot. */
const live = (snapshot: AccountSnapshot, path: string): MessageSnapshot[] => snapshot.folders.find((f) => f.path === path)?.messages.filter((m) => !m.flags.includes('\\Deleted')) ?? [];
const sorted = (values: string[]): string[] => [...values].sort();

/** Every literal the client announced in an APPEND to `user` (the message sizes that crossed the wire). */
const appendedSizes = (server: DovecotServer, user: string): number[] =>
  server
    .clientCommands(user)
    .filter((line) => /^\S+ (UID )?APPEND /i.test(line))
    .flatMap((line) => [...line.matchAll(/\{(\d+)\+?\}/g)].map((m) => Number(m[1])));

/** The element is inside the window and nothing covers its middle. */
async function assertInView(page: Page, locator: Locator, what: string): Promise<void> {
  const box = await locator.boundingBox();
  const viewport = page.viewportSize()!;
  assert.ok(box && box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height, `${what} is outside the window: ${JSON.stringify(box)}`);
  const isOnTop = await locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return hit !== null && (hit === el || el.contains(hit));
  });
  assert.ok(isOnTop, `${what} is covered`);
}

const lastReport = (events: AppJobEvent[]): AppJobReport => {
  const event = events.filter((e): e is Extract<AppJobEvent, { type: 'report' }> => e.type === 'report').at(-1);
  assert.ok(event, 'a report event');
  return event.report;
};

describe('the app before Start: pre-flight, and saving to this computer only', { concurrency: false }, () => {
  let server: Awaited<ReturnType<typeof serveRenderer>>;
  let source: DovecotServer;
  let destination: DovecotServer;
  let work: string;
  /** The source's messages over the limit, per folder, as the server has them. */
  let tooLarge: { folder: string; message: MessageSnapshot }[];

  before(async () => {
    await buildRenderer();
    server = await serveRenderer();
    [source, destination] = await Promise.all([
      startDovecot({ users: [SOURCE_USER] }),
      startDovecot({ users: [ARCHIVE_USER, SKIP_USER], quotaBytes: 40 * 1024 * 1024, maxMessageBytes: LIMIT, addCapabilities: [`APPENDLIMIT=${LIMIT}`] }),
    ]);
    // Two messages over 1 MB in INBOX, two more in Scans; everything else far below.
    const corpus = generateCorpus({
      seed: 'preflight-e2e',
      folders: [{ segments: ['INBOX'] }, { segments: ['Sent'], specialUse: '\\Sent' }, { segments: ['Old'] }],
      messagesPerFolder: 4,
      big: [1.5 * LIMIT, 2.5 * LIMIT],
    });
    await fillAccount(source.account(SOURCE_USER.name), [...corpus.folders, generateFolderOfSize({ seed: 'scans', segments: ['Scans'], messages: 2, sizeRange: [1.2 * LIMIT, 1.4 * LIMIT] })]);
    const snapshot = await snapshotAccount(source.account(SOURCE_USER.name));
    tooLarge = snapshot.folders.flatMap((f) => live(snapshot, f.path).filter((m) => m.size > LIMIT).map((message) => ({ folder: f.path, message })));
    assert.deepEqual(sorted(tooLarge.map((t) => t.folder)), ['INBOX', 'INBOX', 'Scans', 'Scans'], 'the source has four messages over the limit');
    work = await mkdtemp(join(tmpdir(), 'mailferry-e2e-preflight-'));
  });

  after(async () => {
    await Promise.allSettled([source?.stop(), destination?.stop()]);
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The accounts filled and tested, then Choose folders with its pre-flight. */
  async function toChooseFolders(app: AppPage, destinationUser: { name: string; password: string }): Promise<Locator> {
    const { page } = app;
    await app.waitForState('accounts');
    await fillLocalAccount(page, 'source', SOURCE_USER, source.port);
    await fillLocalAccount(page, 'destination', destinationUser, destination.port);
    await page.getByRole('button', { name: 'Choose folders' }).click();
    await app.waitForState('folders');
    await page.getByRole('tree').waitFor();
    const panel = page.getByTestId('preflight');
    await panel.waitFor();
    return panel;
  }

  /** What the new account holds against the source: every live message but the ones too large, once, byte for byte; those never sent. */
  async function assertAccountHoldsTheRest(user: string): Promise<void> {
    const [from, to] = await Promise.all([snapshotAccount(source.account(SOURCE_USER.name)), snapshotAccount(destination.account(user))]);
    const big = new Set(tooLarge.map((t) => t.message.sha256));
    for (const path of ['INBOX', 'Sent', 'Old', 'Scans']) {
      assert.deepEqual(
        sorted(live(to, path).map((m) => m.sha256)),
        sorted(live(from, path).filter((m) => !big.has(m.sha256)).map((m) => m.sha256)),
        `${path} on the new account: every message that fits, once`,
      );
    }
    const sizes = appendedSizes(destination, user);
    assert.ok(sizes.length > 0, 'messages were appended');
    assert.ok(sizes.every((n) => n <= LIMIT), `nothing over the limit crossed the wire (largest ${Math.max(...sizes)})`);
  }

  /**
   * Opens the app at 1280×800 over a service started by startAppService and runs `body`; no
   * console error may show. A failure leaves a screenshot; the service and page close either way.
   */
  async function withApp(started: ReturnType<typeof startAppService>, failureShot: string, body: (app: AppPage) => Promise<void>): Promise<void> {
    const app = await openApp(server.url, started.bridge, { width: 1280, height: 800 });
    try {
      await body(app);
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot(failureShot).catch(() => undefined);
      throw e;
    } finally {
      await started.service.shutdown();
      await app.close();
    }
  }

  test('the list before Start is exactly the messages over the limit; "Save them to a local archive instead": done, the archive holds them, the account the rest', async () => {
    const refusedDir = join(work, 'Too large');
    const started = startAppService({ stateDir: join(work, 'state-archive'), saveDir: work, chooseFolder: async () => refusedDir });
    const { events } = started;
    await withApp(started, 'preflight-failure-archive', async (app) => {
      const { page } = app;
      const panel = await toChooseFolders(app, ARCHIVE_USER);
      // Three listed, the fourth behind "and 1 more"; the list is the source's messages over 1 MB.
      assert.equal(await panel.locator('tbody tr').count(), 3);
      assert.match(await panel.innerText(), /4 messages are too large for the new account \(it takes at most 1\.0 MB for one message\)/);
      await app.screenshot('preflight-01-folders');
      assert.deepEqual(await app.axe(), []);
      await panel.getByRole('button', { name: 'and 1 more' }).click();
      const listed = await panel.locator('tbody tr').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-folder')}:${r.getAttribute('data-uid')}:${r.querySelector('.refused-subject')?.textContent}`));
      // Subjects as people read them (the server has them as RFC 2047 encoded words).
      assert.deepEqual(sorted(listed), sorted(tooLarge.map((t) => `${t.folder}:${t.message.uid}:${decodeMimeWords(t.message.subject ?? '')}`)));
      assert.ok(listed.every((l) => !l.includes('=?')) && listed.filter((l) => l.startsWith('INBOX:')).every((l) => l.includes('Große Datei')), listed.join('\n'));
      const bar = page.getByTestId('action-bar');
      assert.match(await bar.innerText(), /It fits: the new account has .* free, the move adds about .*\./);
      assert.match(await bar.getByTestId('refused-fate').innerText(), /4 messages too large for the new account will be skipped/);
      await panel.getByRole('button', { name: 'Show fewer' }).click();

      // A smaller window: the list is there and Start stays in view.
      await page.setViewportSize({ width: 1024, height: 700 });
      await assertInView(page, page.getByRole('button', { name: 'Start moving' }), 'Start moving at 1024×700');
      await app.screenshot('preflight-02-folders-1024x700');
      await page.setViewportSize({ width: 1280, height: 800 });

      // Keep them in a Maildir archive instead, by keyboard: Start waits for the folder.
      await panel.getByRole('radio', { name: /Skip them/ }).focus();
      await page.keyboard.press('ArrowRight');
      assert.equal(await panel.getByRole('radio', { name: /Save them to a local archive instead/ }).isChecked(), true);
      assert.equal(await page.getByRole('button', { name: 'Start moving' }).isDisabled(), true);
      await page.keyboard.press('Tab');
      assert.equal(await panel.getByRole('button', { name: 'Choose a folder…' }).evaluate((el) => el === document.activeElement), true, 'the folder button comes next');
      await page.keyboard.press('Enter');
      await page.getByTestId('refused-archive-path').filter({ hasText: refusedDir }).waitFor();
      await panel.getByRole('radio', { name: /^Maildir/ }).check();
      assert.match(await bar.getByTestId('refused-fate').innerText(), /will be saved to the Maildir archive chosen for them/);
      await app.screenshot('preflight-03-save-to-archive');
      assert.deepEqual(await app.axe(), []);

      await page.getByRole('button', { name: 'Start moving' }).click();
      await app.waitForState('copying');
      await app.waitForState('done');
      assert.equal(await page.locator('[data-job-status]').getAttribute('data-job-status'), 'done');
      await page.getByRole('button', { name: 'See the report' }).click();
      await app.waitForState('report');
      await page.getByRole('heading', { name: 'Everything arrived' }).waitFor();
      assert.match(await page.locator('[data-category="archived"]').innerText(), /Saved to the archive instead\s+4 messages\s+Too large for the new account/);
      await app.screenshot('preflight-04-report-archived');
      assert.deepEqual(await app.axe(), []);

      const report = lastReport(events);
      assert.equal(report.status, 'done');
      assert.equal(report.folders.reduce((n, f) => n + (f.archived ?? 0), 0), 4);
      assert.equal(report.totals.failed, 0);
      // The archive holds exactly the four, under their folders' names.
      const archive = await archiveMail('maildir', refusedDir);
      const kept = archive.folders.flatMap((f) => f.messages.map((m) => `${f.path}:${m.sha256}`));
      assert.deepEqual(sorted(kept), sorted(tooLarge.map((t) => `${t.folder}:${t.message.sha256}`)));
      await assertAccountHoldsTheRest(ARCHIVE_USER.name);
    });
  });

  test('"Skip them": the job ends needing attention, those four listed as refused with the reason, never sent', async () => {
    const started = startAppService({ stateDir: join(work, 'state-skip'), saveDir: work, chooseFolder: async () => undefined });
    const { events } = started;
    await withApp(started, 'preflight-failure-skip', async (app) => {
      const { page } = app;
      const panel = await toChooseFolders(app, SKIP_USER);
      assert.equal(await panel.getByRole('radio', { name: /Skip them/ }).isChecked(), true, 'skipping is the default');
      await page.getByRole('button', { name: 'Start moving' }).click();
      await app.waitForState('copying');
      await app.waitForState('done');
      assert.equal(await page.locator('[data-job-status]').getAttribute('data-job-status'), 'needs-attention');
      await page.getByRole('button', { name: 'See the report' }).click();
      await app.waitForState('report');
      await page.getByRole('heading', { name: 'Report: some mail did not arrive' }).waitFor();
      const rows = page.locator('.report-table.failures tbody tr');
      assert.deepEqual(sorted(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-uid') ?? ''))), sorted(tooLarge.map((t) => String(t.message.uid))));
      for (const text of await rows.allInnerTexts()) assert.match(text, /accepts for one message.*\n?.*A retry cannot help with this one/s);
      assert.equal(await page.getByRole('button', { name: /Retry failed only/ }).count(), 0, 'a retry cannot make them fit');
      await app.screenshot('preflight-05-report-skipped');
      assert.deepEqual(await app.axe(), []);

      const report = lastReport(events);
      assert.equal(report.status, 'needs-attention');
      const failed = report.folders.flatMap((f) => f.failed.map((m) => ({ ...m, folder: f.sourcePath })));
      assert.deepEqual(sorted(failed.map((m) => `${m.folder}:${m.uid}`)), sorted(tooLarge.map((t) => `${t.folder}:${t.message.uid}`)));
      for (const m of failed) {
        assert.equal(m.error.kind, 'rejected');
        assert.equal(m.error.retryable, false);
      }
      assert.equal(report.folders.reduce((n, f) => n + (f.archived ?? 0), 0), 0);
      await assertAccountHoldsTheRest(SKIP_USER.name);
    });
  });

  test('save chosen folders to this computer: the old account alone, the same tree, pause and resume, exactly the chosen folders in the archive', async () => {
    // A folder big enough to pause in (at 1 MB/s, a few seconds).
    await fillAccount(source.account(SOURCE_USER.name), [generateFolderOfSize({ seed: 'bulk', segments: ['Bulk'], messages: 150, totalBytes: 4_000_000, sizeRange: [2 * 1024, 80 * 1024] })]);
    const archiveDir = join(work, 'Saved mail');
    const started = startAppService({ stateDir: join(work, 'state-only'), saveDir: work, chooseFolder: async () => archiveDir });
    const { events, accounts } = started;
    await withApp(started, 'archive-only-failure', async (app) => {
      const { page } = app;
      await app.waitForState('accounts');
      await page.getByText('To this computer only').click();
      assert.equal(await page.locator('form[data-role="destination"]').count(), 0, 'no new account to fill in');
      await fillLocalAccount(page, 'source', SOURCE_USER, source.port);
      const card = page.locator('[data-role="destination-archive"]');
      await card.getByRole('radio', { name: /\.eml files/ }).check();
      await card.getByRole('button', { name: 'Choose the archive folder…' }).click();
      await page.getByTestId('destination-archive-path').filter({ hasText: archiveDir }).waitFor();
      // From the top, where the choice of where the mail goes is.
      await page.locator('.app-main').evaluate((el) => el.scrollTo(0, 0));
      await app.screenshot('archive-only-01-accounts');
      assert.deepEqual(await app.axe(), []);

      await page.getByRole('button', { name: 'Choose folders' }).click();
      await app.waitForState('folders');
      const tree = page.getByRole('tree');
      await tree.waitFor();
      // Leave Old behind.
      await tree.locator('[role="treeitem"][data-path="Old"] [data-testid="check"]').click();
      assert.equal(await tree.locator('[role="treeitem"][data-path="Old"]').getAttribute('aria-checked'), 'false');
      assert.equal(await page.getByTestId('preflight').count(), 0, 'an archive has no quota or size limit to check');
      assert.match(await page.getByTestId('total-archive').innerText(), /To this computer \(\.eml files\): .* in 4 folders/);
      await page.getByRole('button', { name: 'More options' }).click();
      await page.getByLabel('Speed limit').selectOption('1');
      await page.getByRole('button', { name: 'More options' }).click();
      await app.screenshot('archive-only-02-folders');
      assert.deepEqual(await app.axe(), []);

      await page.getByRole('button', { name: 'Start saving' }).click();
      await app.waitForState('copying');
      // Pause once Bulk is under way; nothing is lost and nothing doubled by the resume.
      await page.locator('.folder-progress[data-path="Bulk"][data-status="copying"]').waitFor({ timeout: 60_000 });
      await page.getByRole('button', { name: 'Pause' }).click();
      await page.locator('[data-job-status="paused"]').waitFor();
      await app.screenshot('archive-only-03-paused');
      await page.getByRole('button', { name: 'Resume' }).click();
      await app.waitForState('done');
      assert.equal(await page.locator('[data-job-status]').getAttribute('data-job-status'), 'done');
      await page.getByRole('button', { name: 'See the report' }).click();
      await app.waitForState('report');
      await page.getByRole('heading', { name: 'Everything arrived' }).waitFor();
      await app.screenshot('archive-only-04-report');
      assert.deepEqual(await app.axe(), []);

      assert.equal(accounts.has('destination'), false, 'no new account was ever set up');
      assert.equal(new Set(events.map((e) => e.jobId)).size, 1, 'one job through pause and resume');
      assert.ok(events.some((e) => e.type === 'job-status' && e.status === 'paused'), 'the job was paused');
      const report = lastReport(events);
      assert.equal(report.status, 'done');
      assert.deepEqual(sorted(report.folders.map((f) => `${f.target}:${f.sourcePath}`)), ['archive:Bulk', 'archive:INBOX', 'archive:Scans', 'archive:Sent']);
      // The archive holds exactly the chosen folders, byte for byte, each message once.
      const from = await snapshotAccount(source.account(SOURCE_USER.name));
      const saved = await archiveMail('eml', archiveDir);
      const withMail = saved.folders.filter((f) => f.messages.length > 0);
      assert.deepEqual(sorted(withMail.map((f) => f.path)), ['Bulk', 'INBOX', 'Scans', 'Sent']);
      for (const folder of withMail) {
        assert.deepEqual(sorted(folder.messages.map((m) => m.sha256)), sorted(live(from, folder.path).map((m) => m.sha256)), `${folder.path} in the archive`);
      }
    });
  });
});

describe('the pre-flight with everything to say (a move into Gmail, fake bridge)', () => {
  let server: Awaited<ReturnType<typeof serveRenderer>>;
  before(async () => {
    server = await serveRenderer();
  });
  after(async () => {
    await server?.close();
  });

  for (const size of [{ width: 1280, height: 800 }, { width: 1024, height: 700 }]) {
    test(`at ${size.width}×${size.height}: messages too large, a renamed folder, the days at Gmail's daily limit, a folder ticked since; Start in view`, async () => {
      const fake = createFakeBridge({ 'plan:load': () => ({ ok: true, value: preflightPlan() }) });
      const app = await openApp(server.url, fake.bridge, size);
      const { page } = app;
      try {
        await fillFakeAccountsAndChooseFolders(app);
        await page.locator('[role="treeitem"][data-path="Trash"] [data-testid="check"]').click();
        const panel = page.getByTestId('preflight');
        assert.match(await panel.innerText(), /5 messages are too large for the new account \(it takes at most 25 MB for one message\)/);
        assert.match(await panel.getByTestId('preflight-unchecked').innerText(), /Trash was ticked since/);
        assert.match(await panel.getByTestId('preflight-renamed').innerText(), /Notes: 2024\s*Notes_ 2024/);
        assert.match(await panel.getByTestId('preflight-days').innerText(), /this move needs about \d+ days/);
        await page.locator('.app-main').evaluate((el) => el.scrollTo(0, el.scrollHeight));
        await assertInView(page, page.getByRole('button', { name: 'Start moving' }), `Start moving at ${size.width}×${size.height}`);
        await assertInView(page, panel.getByRole('radio', { name: /Save them to a local archive instead/ }), `the choice at ${size.width}×${size.height}`);
        await app.screenshot(`preflight-06-gmail-${size.width}x${size.height}`);
        assert.deepEqual(await app.axe(), []);
        // The two switches under More options, by keyboard.
        await page.getByRole('button', { name: 'More options' }).click();
        await page.getByLabel('Newest mail first').focus();
        await page.keyboard.press('Space');
        await page.getByLabel('Keep read state up to date on later runs').focus();
        await page.keyboard.press('Space');
        assert.equal(await page.getByLabel(/Recent means the last/).inputValue(), '30');
        await assertInView(page, page.getByRole('button', { name: 'Start moving' }), `Start moving with More options open at ${size.width}×${size.height}`);
        await app.screenshot(`preflight-07-more-options-${size.width}x${size.height}`);
        assert.deepEqual(await app.axe(), []);
        await page.getByRole('button', { name: 'Start moving' }).click();
        assert.deepEqual((fake.callsTo('jobs:start').at(-1) as StartJobRequest).settings, { connectionsPerSide: 2, maxBytesPerSecond: 0, newestFirst: true, recentDays: 30, syncFlags: true });
        assert.deepEqual(app.problems, []);
      } finally {
        await app.close();
      }
    });
  }
});
