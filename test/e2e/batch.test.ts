/**
 * The app for IT staff, end to end: the built renderer in Chromium, its bridge the real
 * AppService in this process (through main's request validation), moving an office of mailboxes
 * between two private Dovecots. Open a users CSV (first one with problems: listed by row and line,
 * nothing can start), then a good one: a table of mailboxes with progress bars and statuses while
 * it runs, stopped mid-way and run again, one mailbox whose new server refuses the password
 * failing alone, a row opening that
 * mailbox's folder tree, and the report exported. Screenshots at 1280×800 in test-results/screens.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountRole, BatchEvent } from '../../src/contract/ipc.js';
import type { AccountEndpoint } from '../../src/contract/account.js';
import { parseCsv } from '../../src/batch/parse-csv.js';
import { createAppService } from '../../src/service/app-service.js';
import { assertOfficeExact, startOffice, type Destination, type Office } from '../batch/batch-world.js';
import { buildRenderer, openApp, serveRenderer, serviceBridge } from './harness.js';

const VIEWPORT = { width: 1280, height: 800 };
/** The whole office on a busy machine; far less than a test's limit. */
const BATCH_DONE_MS = 180_000;

describe('the app moves many mailboxes from a users CSV', { concurrency: false }, () => {
  let server: Awaited<ReturnType<typeof serveRenderer>>;
  let office: Office;
  let destination: Destination;

  before(async () => {
    await buildRenderer();
    server = await serveRenderer();
    office = await startOffice(6);
    destination = await office.addDestination();
  });
  after(async () => {
    await server?.close();
    await office?.stop();
  });

  test('open a CSV with problems, then a good one; watch the table; a refused password fails alone; a row opens its folders; export the report', async () => {
    const good = office.writeCsv('users.csv', destination, { wrongPasswordFor: 'u04' });
    const invalid = join(office.dir, 'invalid.csv');
    writeFileSync(invalid, readFileSync(good, 'utf8').replace(/\r\nu02,/, '\r\nu01,').replace('imap://u05@', 'pop3://u05@'));
    let chosen = invalid;
    const saved: string[] = [];
    const batchListeners = new Set<(e: BatchEvent) => void>();
    const accounts = new Map<AccountRole, { email: string; endpoint: AccountEndpoint }>();
    const service = createAppService({
      stateDir: join(office.dir, 'app-state'),
      settings: { getAccount: (role) => accounts.get(role), setAccount: (role, a) => void accounts.set(role, a) },
      vault: { save: () => undefined, load: () => undefined, remove: () => undefined },
      emit: () => undefined,
      emitBatch: (event) => {
        for (const l of batchListeners) l(event);
      },
      chooseOpenPath: async () => chosen,
      chooseSavePath: async (name) => {
        const path = join(office.dir, name);
        saved.push(path);
        return path;
      },
      env: office.env,
      timeouts: { socketTimeoutMs: 10_000, greetingTimeoutMs: 10_000, connectionTimeoutMs: 10_000 },
      backoff: { baseMs: 50, capMs: 200 },
    });
    const app = await openApp(server.url, serviceBridge(service, new Set(), batchListeners), VIEWPORT);
    const { page } = app;
    try {
      await app.waitForState('accounts');
      await page.getByRole('button', { name: 'Open a users CSV instead' }).click();
      await app.waitForState('batch-idle');
      await app.screenshot('batch-1-empty');

      // The test servers speak plain IMAP on 127.0.0.1.
      await page.getByLabel(/Allow unencrypted IMAP/).check();
      await page.getByRole('button', { name: 'Open a users CSV…' }).click();
      await app.waitForState('batch-invalid');
      const problems = page.locator('.problem-list li');
      assert.deepEqual(await problems.allTextContents(), [
        'Row 2 (line 3), column id: The id "u01" is already the id of row 1 (ids must differ in more than letter case).',
        'Row 5 (line 6), column from: "pop3" is not supported. Use imaps:// or imap://, or mbox:/maildir:/eml: for archives.',
      ]);
      assert.equal(await page.getByRole('button', { name: 'Start' }).count(), 0, 'nothing can start');
      await app.screenshot('batch-2-invalid');

      chosen = good;
      // Slow enough that the table is seen mid-way.
      office.sourceProxy.setFaults([{ kind: 'latency', ms: 40, direction: 'server-to-client' }]);
      await page.getByRole('button', { name: 'Open another CSV…' }).click();
      await app.waitForState('batch-ready');
      assert.deepEqual(await page.locator('tr.mailbox-row').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-id'), r.getAttribute('data-status')])), office.users.map((u) => [u.name, 'waiting']));
      await page.getByLabel('Mailboxes at once').selectOption('3');
      await page.getByRole('button', { name: 'Start' }).click();
      await page.waitForSelector('tr.mailbox-row[data-status="running"]');
      await page.waitForFunction(() => [...document.querySelectorAll('tr.mailbox-row [role="progressbar"]')].some((b) => Number(b.getAttribute('aria-valuenow')) > 0));
      await app.screenshot('batch-3-running');

      // Stop mid-way: what is done stays done, the rest says "Not run"; Run again finishes it.
      await page.getByRole('button', { name: 'Stop' }).click();
      await page.waitForSelector('[data-app-state="batch-finished"]', { timeout: BATCH_DONE_MS });
      const stopped = await page.locator('tr.mailbox-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
      assert.ok(stopped.includes('not-run'), `some mailboxes did not finish: ${stopped.join(', ')}`);
      await app.screenshot('batch-4-stopped');
      office.sourceProxy.clearFaults();
      await page.getByRole('button', { name: 'Run again' }).click();
      await page.waitForSelector('[data-app-state="batch-running"]');

      await page.waitForSelector('[data-app-state="batch-finished"]', { timeout: BATCH_DONE_MS });
      const statuses = await page.locator('tr.mailbox-row').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-id'), r.getAttribute('data-status')]));
      assert.deepEqual(statuses, office.users.map((u) => [u.name, u.name === 'u04' ? 'failed' : 'verified']));
      assert.match((await page.locator('tr[data-id="u04"] .mailbox-reason').textContent()) ?? '', /^Could not open the destination: The server refused the user name or password/);
      assert.match((await page.locator('.batch-summary .summary-main').textContent()) ?? '', /6 of 6 mailboxes done: 5 verified, 1 failed, 0 need attention/);
      assert.deepEqual(await page.locator('tr[data-status="verified"] [role="progressbar"]').evaluateAll((bars) => bars.map((b) => b.getAttribute('aria-valuenow'))), ['100', '100', '100', '100', '100']);

      // A row opens that mailbox's folder tree, with each folder verified.
      await page.getByRole('button', { name: 'u01', exact: true }).click();
      await page.waitForSelector('.mailbox-folders .mailbox-folder[data-status]');
      const folders = await page.locator('.mailbox-folder[data-status]').evaluateAll((items) => items.map((i) => [i.getAttribute('data-path'), i.getAttribute('data-status')]));
      const sourceFolders = office.sourceBefore.get('u01')?.folders.filter((f) => f.isSelectable).map((f) => f.path) ?? [];
      assert.deepEqual(folders.map(([path]) => path).sort(), [...sourceFolders].sort(), 'every folder of the mailbox');
      assert.ok(folders.every(([, status]) => status === 'verified'), JSON.stringify(folders));
      // A tree: the levels above Projekte/2004/Q1 are there (they hold no mail), INBOX first.
      const lines = await page.locator('.mailbox-folder').evaluateAll((items) => items.map((i) => i.getAttribute('data-path')));
      assert.equal(lines[0], 'INBOX');
      assert.deepEqual(lines.filter((p) => p?.startsWith('Projekte')), ['Projekte', 'Projekte/2004', 'Projekte/2004/Q1']);
      await app.screenshot('batch-5-finished-folders');

      await page.getByRole('button', { name: 'Export CSV' }).click();
      await page.waitForSelector('.notice-info');
      const report = parseCsv(readFileSync(saved.at(-1) as string, 'utf8'));
      assert.ok(report.ok);
      const [header, ...rows] = report.value.map((r) => r.fields);
      assert.deepEqual(header, ['id', 'row', 'status', 'messages', 'bytes', 'refused', 'needs_attention_folders', 'duration_s', 'reason']);
      assert.deepEqual(rows.map((r) => [r[0], r[2]]), office.users.map((u) => [u.name, u.name === 'u04' ? 'failed' : 'verified']));

      assert.deepEqual(await app.axe(), [], 'no serious accessibility problem');
      assert.deepEqual(app.problems, [], 'no console errors or CSP refusals');
      await destination.proxy.whenIdle(60_000);
      await assertOfficeExact(office, destination, office.users.map((u) => u.name).filter((n) => n !== 'u04'));
    } finally {
      await app.close();
      await service.shutdown();
    }
  });
});
