/**
 * "The app a person cannot get lost in" (issue 20), checked as a person would, in Chromium with
 * the fake bridge: on every screen, at 1280×800 and at 1024×700, the screen's primary action is
 * inside the window and nothing covers it; problems come first on the Move screen, with their
 * reason and what can be done; pause shows everywhere; the totals are there before the first
 * event; the report draws what happened by size and says what each category means; accounts
 * find their settings, keep a mistyped password, show links as links and fingerprints in groups.
 * Screenshots go to test-results/screens/ (next-*), axe runs on each screen.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { buildRenderer, fillFakeAccountsAndChooseFolders, openApp, serveRenderer, type AppPage } from './harness.js';
import { createFakeBridge, folderProgress, jobProgress, largePlan, MB, samplePlan, sampleReport, tlsError, authError, type FakeBridge } from '../../renderer/test/fake-bridge.js';
import type { FolderProgress, JobReport } from '../../src/contract/job.js';
import type { DiscoveredServer } from '../../src/contract/ipc.js';

let server: Awaited<ReturnType<typeof serveRenderer>>;

before(async () => {
  await buildRenderer();
  server = await serveRenderer();
});
after(async () => {
  await server?.close();
});

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 700 },
] as const;

/** The element is inside the window, and the point at its middle is the element itself (nothing covers it). */
async function assertInView(page: Page, locator: Locator, what: string): Promise<void> {
  await locator.waitFor();
  const box = await locator.boundingBox();
  const viewport = page.viewportSize()!;
  assert.ok(box, `${what}: no box`);
  assert.ok(
    box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width && box.y + box.height <= viewport.height,
    `${what} is outside the ${viewport.width}×${viewport.height} window: ${JSON.stringify(box)}`,
  );
  const isOnTop = await locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return hit !== null && (hit === el || el.contains(hit));
  });
  assert.ok(isOnTop, `${what} is covered by something else`);
}

async function assertAccessible(app: AppPage, screen: string): Promise<void> {
  const violations = await app.axe();
  assert.deepEqual(violations, [], `axe on ${screen}: ${JSON.stringify(violations, null, 2)}`);
}

const primary = (page: Page): Locator => page.getByTestId('action-bar').locator('.button.primary');

/** Fills both accounts through the form (the source's certificate trusted, the destination's password mistyped first). */
async function fillAccounts(app: AppPage, fake: FakeBridge, size: string): Promise<void> {
  const { page } = app;
  const source = page.locator('form[data-role="source"]');
  await source.getByLabel('E-mail address').fill('maria@old-isp.example');
  await source.getByLabel('Password', { exact: true }).fill('correct horse');
  await source.getByRole('button', { name: 'Server settings' }).click();
  await source.getByLabel('Server', { exact: true }).fill('mail.old-isp.example');
  assert.deepEqual(
    await source.getByLabel('Security').locator('option').allTextContents(),
    ['Encrypted (TLS)', 'Encrypted after connecting (STARTTLS)', 'Not encrypted (unsafe)'],
    'security is named in words',
  );
  await source.getByRole('button', { name: 'Test connection' }).click();
  const trust = source.getByRole('button', { name: 'Trust this certificate' });
  await assertInView(page, trust, `Trust this certificate at ${size}`);
  assert.match(await source.locator('.error-title').innerText(), /^Old account: certificate not trusted$/, 'the message says which account it is about');
  // Every group of the fingerprint sits on one line: a line never breaks inside a byte.
  const groups = source.getByTestId('fingerprint').locator('.fingerprint-group');
  assert.equal(await groups.count(), 8);
  for (const lines of await groups.evaluateAll((els) => els.map((el) => el.getClientRects().length))) assert.equal(lines, 1);
  assert.equal((await source.getByTestId('fingerprint').textContent())!.trim(), tlsError.certificateFingerprint, 'the groups read as the whole fingerprint');
  await app.screenshot(`next-02-accounts-certificate-${size}`);
  await trust.click();
  await assertInView(page, source.getByTestId('test-ok'), `the success message at ${size}`);
  assert.match(await source.getByTestId('test-ok').innerText(), /encrypted \(TLS\)/);

  const destination = page.locator('form[data-role="destination"]');
  await destination.getByLabel('E-mail address').fill('maria.new@gmail.com');
  await destination.getByLabel('E-mail address').blur();
  await destination.getByTestId('preset').waitFor();
  await destination.getByLabel('Password', { exact: true }).fill('wrong password');
  await destination.getByRole('button', { name: 'Test connection' }).click();
  await destination.locator('[data-error-kind="auth"]').waitFor();
  assert.match(await destination.locator('.error-title').innerText(), /^New account: sign-in refused$/);
  assert.equal(await destination.getByLabel('Password', { exact: true }).inputValue(), 'wrong password', 'a rejected password stays in the field to be corrected');
  await destination.getByLabel('Password', { exact: true }).fill('abcd efgh ijkl mnop');
  await destination.getByRole('button', { name: 'Test connection' }).click();
  await destination.getByTestId('test-ok').waitFor();
  assert.equal(await destination.getByLabel('Password', { exact: true }).inputValue(), '', 'a password that worked leaves the field');
  assert.deepEqual(
    (fake.callsTo('accounts:save') as { password?: string }[]).map((s) => s.password).filter(Boolean),
    ['correct horse', 'wrong password', 'abcd efgh ijkl mnop'],
  );
}

function fakeForTheWholeMove(): FakeBridge {
  let pinned: string | undefined;
  let destinationTests = 0;
  return createFakeBridge({
    'accounts:save': (r) => {
      if (r.role === 'source') pinned = r.endpoint.pinnedFingerprint;
      return { ok: true, value: { email: r.email, endpoint: r.endpoint, hasSavedPassword: false } };
    },
    'accounts:test': ({ role }) => {
      if (role === 'source') return pinned ? { ok: true, value: { capabilities: [], serverName: 'Dovecot', certificateFingerprint: pinned } } : { ok: false, error: { ...tlsError, side: 'source' } };
      return destinationTests++ === 0 ? { ok: false, error: authError } : { ok: true, value: { capabilities: [], serverName: 'Gmail' } };
    },
  });
}

/** Eight folders in the plan's order; the one that needs attention is the seventh, a long way down. */
function movingFolders(): FolderProgress[] {
  return [
    folderProgress('INBOX', { status: 'verified', messagesTotal: 4812, messagesDone: 4812, bytesTotal: 912 * MB, bytesDone: 912 * MB }),
    folderProgress('Sent', { destinationPath: 'Sent Items', status: 'copying', messagesTotal: 2210, messagesDone: 1300, bytesTotal: 388 * MB, bytesDone: 231 * MB }),
    folderProgress('Drafts', { status: 'verified', messagesTotal: 14, messagesDone: 14, bytesTotal: 2 * MB, bytesDone: 2 * MB }),
    folderProgress('Archive/2019', {
      status: 'retrying', retryAt: Date.now() + 12_000, attempt: 2, messagesTotal: 1530, messagesDone: 610, bytesTotal: 210 * MB, bytesDone: 80 * MB,
      lastError: { kind: 'network', message: 'The connection was lost (maria@mail.old-isp.example:993).', retryable: true, side: 'source' },
    }),
    folderProgress('Archive/2020', { status: 'settling', settleUntil: Date.now() + 40_000, messagesTotal: 1804, messagesDone: 900, bytesTotal: 260 * MB, bytesDone: 120 * MB }),
    folderProgress('Archive/2021', { status: 'waiting', messagesTotal: 2011, bytesTotal: 301 * MB }),
    folderProgress('Projects/Beta/Specs', {
      status: 'needs-attention', messagesTotal: 41, messagesDone: 12, bytesTotal: 96 * MB, bytesDone: 20 * MB,
      lastError: { kind: 'timeout', message: 'Gave up after 5 failed attempts in a row: The server stopped answering (maria@mail.old-isp.example:993).', retryable: true, side: 'source' },
    }),
    folderProgress('Receipts', { status: 'verified', messagesTotal: 610, messagesDone: 610, bytesTotal: 44 * MB, bytesDone: 44 * MB }),
  ];
}

/** Pixels of the speed chart's canvas in the line's colour (#1d6b8f): how much of the speed is drawn. */
const strokePixelsOf = (chart: Locator): Promise<number> =>
  chart.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - 0x1d) + Math.abs(data[i + 1]! - 0x6b) + Math.abs(data[i + 2]! - 0x8f) < 60 && data[i + 3]! > 200) count += 1;
    return count;
  });

describe('next step in view, problems on top, pictures (fake bridge)', () => {
  for (const size of SIZES) {
    const name = `${size.width}x${size.height}`;
    test(`every screen's primary action is in the window at ${name}`, async () => {
      const fake = fakeForTheWholeMove();
      const app = await openApp(server.url, fake.bridge, size);
      const { page } = app;
      try {
        await app.waitForState('accounts');
        await assertInView(page, primary(page), `Choose folders (empty form) at ${name}`);
        await app.screenshot(`next-01-accounts-${name}`);
        await fillAccounts(app, fake, name);
        await assertInView(page, page.getByRole('button', { name: 'Choose folders' }), `Choose folders (both tested) at ${name}`);
        assert.equal(await page.getByRole('button', { name: 'Choose folders' }).isEnabled(), true);
        await app.screenshot(`next-03-accounts-ready-${name}`);
        await assertAccessible(app, `accounts at ${name}`);

        await page.getByRole('button', { name: 'Choose folders' }).click();
        await app.waitForState('folders');
        await page.getByRole('tree').waitFor();
        await assertInView(page, page.getByRole('button', { name: 'Start moving' }), `Start moving at ${name}`);
        // The tree takes the page's height, not a box of six rows.
        const treeBox = (await page.getByRole('tree').boundingBox())!;
        assert.ok(treeBox.height >= size.height * 0.35, `the tree is ${treeBox.height}px high in a ${size.height}px window`);
        await app.screenshot(`next-04-folders-${name}`);
        await page.getByRole('button', { name: 'More options' }).click();
        await page.getByLabel('Connections to each server').waitFor();
        await assertInView(page, page.getByRole('button', { name: 'Start moving' }), `Start moving with More options open at ${name}`);
        await assertInView(page, page.getByLabel('Speed limit'), `Speed limit at ${name}`);
        await app.screenshot(`next-05-folders-more-options-${name}`);
        await assertAccessible(app, `folders at ${name}`);
        await page.getByRole('button', { name: 'More options' }).click();

        await page.getByRole('button', { name: 'Start moving' }).click();
        await app.waitForState('copying');
        // Before the engine says anything, the plan's totals are there.
        const figures = page.getByTestId('overall-figures');
        assert.doesNotMatch(await figures.innerText(), /0 bytes of 0 bytes/);
        assert.match(await figures.innerText(), /^0 bytes of 2\.2 GB · 0 of 13,492 messages$/);
        assert.ok((await page.locator('.folder-progress').count()) >= 10, 'a waiting row per chosen folder');
        await assertInView(page, page.getByRole('button', { name: 'Pause' }), `Pause at ${name}`);
        await app.push({ type: 'progress', jobId: 'job-1', progress: jobProgress(movingFolders()) });
        await page.locator('[data-path="Archive/2019"] [data-testid="folder-state"]', { hasText: /Retrying in \d+ s/ }).waitFor();
        await assertInView(page, page.locator('.group-attention .folder-progress').first(), `the folder that needs attention at ${name}`);
        await assertInView(page, page.getByRole('button', { name: 'Retry Projects/Beta/Specs' }), `its Retry button at ${name}`);
        await assertInView(page, page.getByRole('button', { name: 'Pause' }), `Pause with folders at ${name}`);
        await app.screenshot(`next-06-move-${name}`);
        await assertAccessible(app, `move at ${name}`);

        // Every chosen folder verified, as the engine's last progress event says.
        const chosen = samplePlan().folders.filter((f) => f.isSelected && f.source.isSelectable);
        const verified = chosen.map((f) => folderProgress(f.source.path, { destinationPath: f.destinationPath, status: 'verified', messagesTotal: f.source.messages, messagesDone: f.source.messages, bytesTotal: f.source.sizeBytes, bytesDone: f.source.sizeBytes }));
        await app.push({ type: 'progress', jobId: 'job-1', progress: jobProgress(verified, { bytesPerSecond: 0, etaSeconds: 0 }) });
        await app.push({ type: 'job-status', jobId: 'job-1', status: 'done' });
        await app.waitForState('done');
        await assertInView(page, page.getByRole('button', { name: 'See the report' }), `See the report at ${name}`);
        await app.screenshot(`next-07-move-done-${name}`);
        await page.getByRole('button', { name: 'See the report' }).click();
        await app.waitForState('report');
        await page.getByTestId('report-summary').waitFor();
        await assertInView(page, primary(page), `the report's primary action at ${name}`);
        await app.screenshot(`next-08-report-${name}`);
        await assertAccessible(app, `report at ${name}`);
        assert.deepEqual(app.problems, []);
      } catch (e) {
        await app.screenshot(`next-failure-${name}`).catch(() => undefined);
        throw e;
      } finally {
        await app.close();
      }
    });
  }

  test('the Move screen by attention: the failing folder first with its reason and action, counts that lead to their group, pause everywhere', async () => {
    const fake = createFakeBridge();
    const app = await openApp(server.url, fake.bridge, SIZES[0]);
    const { page } = app;
    try {
      await startWithFakeAccounts(app);
      await app.push({ type: 'progress', jobId: 'job-1', progress: jobProgress(movingFolders()) });
      const rows = page.locator('.folder-progress');
      await rows.first().waitFor();
      assert.equal(await rows.first().getAttribute('data-path'), 'Projects/Beta/Specs', 'the seventh folder of the plan comes first');
      const reason = rows.first().getByTestId('attention-reason');
      assert.match(await reason.innerText(), /Old account: no answer in time\./);
      assert.match(await reason.innerText(), /Gave up after 5 failed attempts/);
      // Then the running ones (retrying and settling among them), then the waiting ones.
      const order = await rows.evaluateAll((els) => els.map((el) => `${el.closest('[data-group]')?.getAttribute('data-group') ?? 'finished'}:${el.getAttribute('data-path')}`));
      assert.deepEqual(order.slice(0, 1), ['attention:Projects/Beta/Specs']);
      assert.ok(order.indexOf('running:Sent') > 0 && order.indexOf('running:Archive/2019') > 0 && order.indexOf('running:Archive/2020') > 0);
      assert.ok(order.findIndex((o) => o.startsWith('waiting:')) > order.findLastIndex((o) => o.startsWith('running:')), order.join('\n'));
      assert.match(await page.locator('[data-path="Archive/2020"] [data-testid="folder-state"]').innerText(), /^Waiting \d+ s for the new server to finish an earlier upload$/);
      assert.match(await page.locator('[data-path="Archive/2019"] .fp-error').innerText(), /^Old account: connection failed \(attempt 2\)$/);
      // Finished folders fold into one line that opens.
      assert.equal(await page.locator('[data-path="INBOX"]').count(), 0);
      assert.match(await page.getByTestId('finished-line').innerText(), /3 folders finished/);
      // The header's counts lead to their groups (by keyboard too).
      await page.getByTestId('count-attention').focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement?.id === 'move-group-attention');
      await page.getByTestId('count-finished').click();
      await page.locator('[data-path="INBOX"]').waitFor();
      await page.waitForFunction(() => document.activeElement?.id === 'move-group-finished');
      await app.screenshot('next-10-move-attention-finished-open');
      await assertAccessible(app, 'move with the finished folders open');

      // Pause: every row that was under way says so, and no countdown goes on.
      await page.getByRole('button', { name: 'Pause' }).click();
      await page.locator('[data-job-status="paused"]').waitFor();
      for (const path of ['Sent', 'Archive/2019', 'Archive/2020', 'Archive/2021']) {
        assert.equal(await page.locator(`[data-path="${path}"] [data-testid="folder-state"]`).innerText(), 'Paused', path);
      }
      assert.equal(await page.locator('[data-testid="folder-state"]', { hasText: /Retrying in|Waiting \d+ s/ }).count(), 0);
      assert.equal(await page.getByTestId('eta').innerText(), 'paused');
      await app.screenshot('next-11-move-paused');
      await page.getByRole('button', { name: 'Resume' }).click();
      await page.locator('[data-job-status="copying"]').waitFor();

      // Where a retry cannot help, it is not offered, and the reason is given.
      const refused = folderProgress('Receipts', {
        status: 'incomplete', messagesTotal: 610, messagesDone: 609, bytesTotal: 44 * MB, bytesDone: 43 * MB,
      });
      await app.push({
        type: 'message-failed', jobId: 'job-1',
        failure: { sourcePath: 'Receipts', uid: 77, uidValidity: '1', subject: 'Scan', sizeBytes: 48 * MB, error: { kind: 'rejected', message: 'The server refused this message: too large.', retryable: false, side: 'destination' } },
      });
      const surplus = folderProgress('Drafts', {
        status: 'incomplete', messagesTotal: 14, messagesDone: 14, bytesTotal: 2 * MB, bytesDone: 2 * MB,
        lastError: { kind: 'surplus', message: '2 message(s) of this folder are on the new account more than once: an upload whose answer never came was stored after all.', retryable: false, side: 'destination' },
      });
      await app.push({ type: 'folder-status', jobId: 'job-1', folder: refused });
      await app.push({ type: 'folder-status', jobId: 'job-1', folder: surplus });
      const receipts = page.locator('.group-attention [data-path="Receipts"]');
      await receipts.waitFor();
      assert.equal(await receipts.getByRole('button', { name: /Retry/ }).count(), 0);
      assert.match(await receipts.getByTestId('no-retry').innerText(), /A retry cannot help/);
      assert.match(await receipts.getByTestId('attention-reason').innerText(), /New account: message refused/);
      const drafts = page.locator('.group-attention [data-path="Drafts"]');
      assert.match(await drafts.getByTestId('attention-reason').innerText(), /New account: extra copies on the new account/);
      assert.match(await drafts.getByTestId('no-retry').innerText(), /never deletes/);
      assert.equal(await page.getByTestId('count-attention').innerText(), '3 need attention');
      await page.getByRole('button', { name: 'Retry Projects/Beta/Specs' }).click();
      assert.deepEqual(fake.callsTo('jobs:retryFolder'), [{ jobId: 'job-1', sourcePath: 'Projects/Beta/Specs' }]);
      await app.screenshot('next-12-move-no-retry');
      await assertAccessible(app, 'move with folders that a retry cannot help');
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('next-failure-attention').catch(() => undefined);
      throw e;
    } finally {
      await app.close();
    }
  });

  test('the speed chart draws the transfer speed over time, with a gap for a pause', async () => {
    const fake = createFakeBridge();
    const app = await openApp(server.url, fake.bridge, SIZES[0]);
    const { page } = app;
    try {
      await startWithFakeAccounts(app);
      // The page's clock steps a second per event (the chart keeps one sample a second), instead of the test waiting.
      const start = Date.now();
      const speeds = Array.from({ length: 40 }, (_, i) => (2.4 + Math.sin(i / 4) * 0.9 + (i % 7) * 0.05) * MB);
      for (const [i, bytesPerSecond] of speeds.entries()) {
        await page.clock.setFixedTime(start + i * 1000);
        if (i === 25) {
          await page.getByRole('button', { name: 'Pause' }).click();
          await page.locator('[data-job-status="paused"]').waitFor();
        }
        if (i === 30) {
          await page.getByRole('button', { name: 'Resume' }).click();
          await page.locator('[data-job-status="copying"]').waitFor();
        }
        const folders = movingFolders().map((f) => (f.status === 'copying' ? { ...f, bytesDone: Math.min(f.bytesTotal, f.bytesDone + i * MB) } : f));
        await app.push({ type: 'progress', jobId: 'job-1', progress: jobProgress(folders, { bytesPerSecond, status: i >= 25 && i < 30 ? 'paused' : 'copying' }) });
      }
      const chart = page.getByTestId('speed-chart');
      assert.equal(await chart.getAttribute('data-points'), String(speeds.length - 5), 'a point a second, none while paused');
      const strokePixels = await strokePixelsOf(chart);
      assert.ok(strokePixels > 200, `the line is drawn (${strokePixels} pixels)`);
      assert.match(await chart.innerText(), /average [\d.]+ MB\/s · fastest 3\.[\d] MB\/s/);
      await app.screenshot('next-15-move-chart');
      await assertAccessible(app, 'move with the chart');
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('next-failure-chart').catch(() => undefined);
      throw e;
    } finally {
      await app.close();
    }
  });

  test('a speed measured alone between two pauses is drawn as a point, not lost between the gaps', async () => {
    const fake = createFakeBridge();
    const app = await openApp(server.url, fake.bridge, SIZES[0]);
    const { page } = app;
    try {
      await startWithFakeAccounts(app);
      const start = Date.now();
      const at = (second: number) => page.clock.setFixedTime(start + second * 1000);
      const moving = async (bytesPerSecond: number) => app.push({ type: 'progress', jobId: 'job-1', progress: jobProgress(movingFolders(), { bytesPerSecond, status: 'copying' }) });
      const pauseThenResume = async (second: number) => {
        await at(second);
        await page.getByRole('button', { name: 'Pause' }).click();
        await page.locator('[data-job-status="paused"]').waitFor();
        await at(second + 1);
        await page.getByRole('button', { name: 'Resume' }).click();
        await page.locator('[data-job-status="copying"]').waitFor();
      };
      // Speed, pause, speed, pause, speed: three samples, none next to another.
      for (const [i, bytesPerSecond] of [2 * MB, 3 * MB, 2.5 * MB].entries()) {
        await at(i * 3);
        await moving(bytesPerSecond);
        if (i < 2) await pauseThenResume(i * 3 + 1);
      }
      const chart = page.getByTestId('speed-chart');
      assert.equal(await chart.getAttribute('data-points'), '3');
      const strokePixels = await strokePixelsOf(chart);
      // A point of 7 px covers about 38 pixels (more on a high-density screen); no line joins them.
      assert.ok(strokePixels >= 3 * 25, `three points are drawn (${strokePixels} pixels)`);
      await app.screenshot('next-16-move-chart-points');
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('next-failure-chart-points').catch(() => undefined);
      throw e;
    } finally {
      await app.close();
    }
  });

  test('the report draws what happened by size, explains each category, and offers a retry only where it can help', async () => {
    const report = (jobId: string): JobReport => {
      const base = sampleReport(jobId);
      return {
        ...base,
        folders: base.folders.map((f, i) => ({ ...f, copiedBytes: [900 * MB, 380 * MB, 259 * MB][i], alreadyThereBytes: [4 * MB, 0, 0][i], ...(i === 1 ? { surplus: 2 } : {}) })),
      };
    };
    const fake = createFakeBridge({ 'jobs:report': ({ jobId }) => ({ ok: true, value: report(jobId) }) });
    const app = await openApp(server.url, fake.bridge, SIZES[0]);
    const { page } = app;
    try {
      await startWithFakeAccounts(app);
      await app.push({ type: 'job-status', jobId: 'job-1', status: 'needs-attention' });
      await app.waitForState('done');
      await page.getByRole('button', { name: 'See the report' }).click();
      await app.waitForState('report');
      const summary = page.getByTestId('report-summary');
      await summary.waitFor();
      const parts = await summary.locator('.stack-part').evaluateAll((els) => els.map((el) => ({ category: el.getAttribute('data-category'), width: el.getBoundingClientRect().width })));
      assert.deepEqual(parts.map((p) => p.category), ['copied', 'alreadyThere', 'failed'], 'skipped messages have no size, so no part of the bar');
      assert.ok(parts[0]!.width > parts[1]!.width && parts[0]!.width > parts[2]!.width, JSON.stringify(parts));
      for (const [category, sentence] of [
        ['copied', /Sent to the new place by this move/],
        ['alreadyThere', /Found on the new account already/],
        ['skipped', /marked as deleted on the old account/],
        ['failed', /each one is listed below with the reason/],
        ['surplus', /never deletes anything/],
      ] as const) {
        assert.match(await summary.locator(`.category[data-category="${category}"]`).innerText(), sentence, category);
      }
      assert.match(await summary.locator('.category[data-category="copied"]').innerText(), /8,803 messages\s+1\.5 GB/);
      // The one failure is a message too large for the new server: a retry cannot help, and the screen says why.
      assert.equal(await page.getByRole('button', { name: 'Retry failed only' }).count(), 0);
      assert.match(await page.getByTestId('action-bar').innerText(), /A retry cannot help here/);
      assert.match(await page.locator('tr[data-uid="1412"]').innerText(), /A retry cannot help with this one/);
      await page.getByRole('button', { name: /Save “Scanned contract.*as a file/ }).click();
      assert.deepEqual(fake.callsTo('messages:saveEml'), [{ jobId: 'job-1', sourcePath: 'Archive/2020', uid: 1412 }]);
      await app.screenshot('next-13-report-summary');
      await assertAccessible(app, 'report with its summary');

      // A failure that may pass next time: now the retry is offered, as the primary action.
      fake.handlers['jobs:report'] = ({ jobId }) => {
        const r = report(jobId);
        r.folders[2]!.failed = r.folders[2]!.failed.map((m) => ({ ...m, error: { kind: 'timeout', message: 'The new server stopped answering.', retryable: true } }));
        return { ok: true, value: r };
      };
      await page.getByRole('button', { name: 'Run again for new mail' }).click();
      await app.waitForState('copying');
      await app.push({ type: 'job-status', jobId: 'job-1', status: 'needs-attention' });
      await app.waitForState('done');
      await page.getByRole('button', { name: 'See the report' }).click();
      await app.waitForState('report');
      await assertInView(page, page.getByRole('button', { name: 'Retry failed only' }), 'Retry failed only');
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('next-failure-report').catch(() => undefined);
      throw e;
    } finally {
      await app.close();
    }
  });

  test('a large tree opens with its first level only; a parent stays in view while its subfolders scroll; size bars', async () => {
    const fake = createFakeBridge({ 'plan:load': () => ({ ok: true, value: largePlan(5000) }) });
    const app = await openApp(server.url, fake.bridge, SIZES[1]);
    const { page } = app;
    try {
      await startWithFakeAccounts(app, { stopAtFolders: true });
      const tree = page.getByRole('tree');
      assert.equal(await tree.getAttribute('data-row-count'), '20', 'only the twenty top-level folders');
      await page.getByRole('button', { name: 'Expand all' }).waitFor();
      await assertInView(page, page.getByRole('button', { name: 'Start moving' }), 'Start moving beside a large tree');
      // Open one team and walk down into it by keyboard: its row stays at the top.
      await tree.focus();
      for (let i = 0; i < 3; i += 1) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowRight');
      for (let i = 0; i < 40; i += 1) await page.keyboard.press('ArrowDown');
      const sticky = page.getByTestId('sticky-parents');
      await sticky.locator('.sticky-row').first().waitFor();
      assert.deepEqual(await sticky.locator('.sticky-row').evaluateAll((els) => els.map((el) => el.getAttribute('data-path'))), ['Team 03']);
      // The active row is not hidden under it.
      const active = page.locator(`#${await tree.getAttribute('aria-activedescendant')}`);
      assert.equal(await active.getAttribute('data-path'), 'Team 03/Topic 0039');
      const [stickyBox, activeBox] = [(await sticky.locator('.tree-sticky-rows').boundingBox())!, (await active.boundingBox())!];
      assert.ok(activeBox.y >= stickyBox.y + stickyBox.height - 1 || activeBox.y + activeBox.height <= stickyBox.y, 'the parent row does not cover the active row');
      // Size bars: the open team's bar is the widest among the top-level rows.
      const bars = await page.locator('[role="treeitem"][aria-level="2"] .size-fill').evaluateAll((els) => els.map((el) => el.getBoundingClientRect().width));
      assert.ok(bars.length > 0 && bars.some((w) => w > 0));
      await app.screenshot('next-09-folders-large-sticky-1024x700');
      await assertAccessible(app, 'a large tree');
      // A click on the parent row jumps back to it.
      await sticky.locator('.sticky-row').click();
      assert.equal(await page.locator(`#${await tree.getAttribute('aria-activedescendant')}`).getAttribute('data-path'), 'Team 03');
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('next-failure-large').catch(() => undefined);
      throw e;
    } finally {
      await app.close();
    }
  });

  test('accounts find their own settings, say where from, and links open in the browser', async () => {
    const autoconfig: DiscoveredServer = { host: 'mail.uni.example', port: 143, security: 'starttls', user: 'ada@uni.example', method: 'autoconfig', foundAt: 'https://autoconfig.uni.example/mail/config-v1.1.xml', providerName: 'University Mail' };
    const workspace: DiscoveredServer = {
      host: 'imap.gmail.com', port: 993, security: 'tls', user: 'boss@company.example', method: 'mx', foundAt: 'MX company.example', mxHost: 'aspmx.l.google.com', providerName: 'Gmail',
      preset: { id: 'gmail', name: 'Gmail', host: 'imap.gmail.com', port: 993, security: 'tls', note: 'Gmail needs an app password when 2-Step Verification is on.', appPasswordUrl: 'https://myaccount.google.com/apppasswords', oauthProvider: 'google' },
    };
    const fake = createFakeBridge({
      'accounts:discover': ({ email }) => ({
        ok: true,
        value: email.endsWith('@uni.example') ? { found: autoconfig, asked: [autoconfig.foundAt] } : email.endsWith('@company.example') ? { found: workspace, asked: [] } : { found: null, asked: ['MX nowhere.example'] },
      }),
    });
    const app = await openApp(server.url, fake.bridge, SIZES[0]);
    const { page } = app;
    try {
      const source = page.locator('form[data-role="source"]');
      await source.getByLabel('E-mail address').fill('ada@uni.example');
      await source.getByLabel('E-mail address').blur();
      const found = source.getByTestId('discovery');
      await found.and(page.locator('[data-state="found"]')).waitFor();
      assert.match(await found.innerText(), /Settings for University Mail found in uni\.example’s own settings file \(autoconfig\.uni\.example\)/);
      assert.match(await source.locator('.disclosure').innerText(), /mail\.uni\.example:143, encrypted \(STARTTLS\)/);

      const destination = page.locator('form[data-role="destination"]');
      await destination.getByLabel('E-mail address').fill('boss@company.example');
      await destination.getByLabel('E-mail address').blur();
      await destination.getByTestId('discovery').and(page.locator('[data-state="found"]')).waitFor();
      assert.match(await destination.getByTestId('discovery').innerText(), /company\.example’s mail is handled by Gmail \(its mail server is aspmx\.l\.google\.com\)/);
      await destination.getByRole('button', { name: 'Sign in with Google' }).waitFor();
      await destination.getByRole('button', { name: 'Use a password instead' }).click();
      const link = destination.getByRole('link', { name: /myaccount\.google\.com\/apppasswords/ });
      await link.focus();
      await page.keyboard.press('Enter');
      assert.deepEqual(fake.callsTo('links:open'), [{ url: 'https://myaccount.google.com/apppasswords' }]);
      await app.screenshot('next-14-accounts-discovered');
      await assertAccessible(app, 'accounts with discovered settings');

      await source.getByLabel('E-mail address').fill('someone@nowhere.example');
      await source.getByLabel('E-mail address').blur();
      await source.getByTestId('discovery').and(page.locator('[data-state="none"]')).waitFor();
      assert.match(await source.getByTestId('discovery').innerText(), /No published settings for nowhere\.example.*Mailferry guessed imap\.nowhere\.example/);
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('next-failure-discovery').catch(() => undefined);
      throw e;
    } finally {
      await app.close();
    }
  });
});

/** Both accounts tested (the fake accepts anything), then Choose folders, then (unless told) Start moving. */
async function startWithFakeAccounts(app: AppPage, options: { stopAtFolders?: boolean } = {}): Promise<void> {
  await fillFakeAccountsAndChooseFolders(app);
  if (options.stopAtFolders) return;
  await app.page.getByRole('button', { name: 'Start moving' }).click();
  await app.waitForState('copying');
}
