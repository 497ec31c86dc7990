/**
 * UI-only e2e: the built renderer in Chromium, its bridge a fake in this process (no engine, no
 * servers). It walks every screen, takes a screenshot of each into test-results/screens/, and runs
 * axe on each. The engine-backed run is in real-engine.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRenderer, fillFakeAccountsAndChooseFolders, openApp, serveRenderer, type AppPage } from './harness.js';
import { ARCHIVE_DIR, authError, createFakeBridge, folderProgress, jobProgress, largePlan, MB, sampleReport, tlsError } from '../../renderer/test/fake-bridge.js';
import type { JobSummary } from '../../src/contract/ipc.js';
import type { FolderProgress } from '../../src/contract/job.js';

let server: Awaited<ReturnType<typeof serveRenderer>>;

before(async () => {
  await buildRenderer();
  server = await serveRenderer();
});
after(async () => {
  await server?.close();
});

async function assertAccessible(app: AppPage, screen: string): Promise<void> {
  const violations = await app.axe();
  assert.deepEqual(violations, [], `axe on ${screen}: ${JSON.stringify(violations, null, 2)}`);
}

describe('UI only (fake bridge)', () => {
  test('the whole move: accounts, folders, progress with a retry, done, report', async () => {
    let destinationTests = 0;
    const fake = createFakeBridge({
      'accounts:test': ({ role }) => {
        if (role === 'destination' && destinationTests++ === 0) return { ok: false, error: authError };
        return { ok: true, value: { capabilities: ['IMAP4rev1'], serverName: role === 'source' ? 'mail.old-isp.example' : 'Gmail' } };
      },
    });
    const app = await openApp(server.url, fake.bridge);
    const { page } = app;
    try {
      await app.waitForState('accounts');
      await app.screenshot('01-accounts-empty');
      await assertAccessible(app, 'accounts');

      const source = page.locator('form[data-role="source"]');
      await source.getByLabel('E-mail address').fill('maria@old-isp.example');
      await source.getByLabel('Password', { exact: true }).fill('correct horse');
      await source.getByRole('button', { name: 'Server settings' }).click();
      await source.getByLabel('Server', { exact: true }).fill('mail.old-isp.example');
      await source.getByRole('button', { name: 'Test connection' }).click();
      await source.getByTestId('test-ok').waitFor();
      assert.equal(await source.getByLabel('Password', { exact: true }).inputValue(), '', 'the password field is emptied once handed over');

      const destination = page.locator('form[data-role="destination"]');
      await destination.getByLabel('E-mail address').fill('maria.new@gmail.com');
      await destination.getByLabel('Password', { exact: true }).fill('wrong');
      await destination.getByLabel('E-mail address').blur();
      await destination.getByTestId('preset').waitFor();
      await destination.getByRole('button', { name: 'Test connection' }).click();
      await destination.locator('[data-error-kind="auth"]').waitFor();
      assert.match(await destination.locator('[data-error-kind="auth"]').innerText(), /app password/);
      await app.screenshot('02-accounts-wrong-password');
      await assertAccessible(app, 'accounts with an error');

      await destination.getByLabel('Password', { exact: true }).fill('abcd efgh ijkl mnop');
      await destination.getByRole('button', { name: 'Test connection' }).click();
      await destination.getByTestId('test-ok').waitFor();
      const saves = fake.callsTo('accounts:save') as { password?: string }[];
      assert.deepEqual(saves.map((s) => s.password), ['correct horse', 'wrong', 'abcd efgh ijkl mnop']);
      await app.screenshot('03-accounts-ready');

      await page.getByRole('button', { name: 'Choose folders' }).click();
      await app.waitForState('folders');
      const tree = page.getByRole('tree');
      await tree.waitFor();
      // Keyboard: into the tree, down past Drafts to Sent, untick it with Space, tick it again.
      await tree.focus();
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      const activeId = await tree.getAttribute('aria-activedescendant');
      assert.equal(await page.locator(`#${activeId}`).getAttribute('data-path'), 'Sent');
      await page.keyboard.press('Space');
      assert.equal(await page.locator('[role="treeitem"][data-path="Sent"]').getAttribute('aria-checked'), 'false');
      await page.keyboard.press('Space');
      // Rename Receipts onto INBOX: a collision is flagged and Start is refused.
      await page.locator('[role="treeitem"][data-path="Receipts"] .destination-name').dblclick();
      await page.getByLabel('New name for Receipts').fill('INBOX');
      await page.keyboard.press('Enter');
      await page.locator('[role="treeitem"][data-path="Receipts"].collides').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Start moving' }).isDisabled(), true);
      await app.screenshot('04-folders-collision');
      await page.locator('[role="treeitem"][data-path="Receipts"] .destination-name').dblclick();
      await page.getByLabel('New name for Receipts').fill('Receipts/Old');
      await page.keyboard.press('Enter');
      await page.locator('[role="treeitem"][data-path="Receipts"]:not(.collides)').waitFor();
      await app.screenshot('05-folders');
      await assertAccessible(app, 'folders');

      await page.getByRole('button', { name: 'Start moving' }).click();
      await app.waitForState('copying');
      const start = fake.callsTo('jobs:start')[0] as { selectedPaths: string[]; options: { renames: Record<string, string> } };
      assert.ok(start.selectedPaths.includes('Sent') && !start.selectedPaths.includes('Trash'));
      assert.deepEqual(start.options.renames, { Receipts: 'Receipts/Old' });

      const folders = [
        folderProgress('INBOX', { status: 'verified', messagesTotal: 4812, messagesDone: 4812, bytesTotal: 912 * MB, bytesDone: 912 * MB }),
        folderProgress('Sent', { destinationPath: 'Sent Items', status: 'copying', messagesTotal: 2210, messagesDone: 1300, bytesTotal: 388 * MB, bytesDone: 231 * MB }),
        folderProgress('Archive/2019', {
          status: 'retrying', retryAt: Date.now() + 12_000, attempt: 2, messagesTotal: 1530, messagesDone: 610, bytesTotal: 210 * MB, bytesDone: 80 * MB,
          lastError: { kind: 'network', message: 'The connection to the old server dropped.', retryable: true },
        }),
        folderProgress('Projects/Beta/Specs', {
          status: 'needs-attention', messagesTotal: 41, messagesDone: 12, bytesTotal: 96 * MB, bytesDone: 20 * MB,
          lastError: { kind: 'timeout', message: 'The old server stopped answering five times in a row. The rest of the job went on.', retryable: true },
        }),
        folderProgress('Archive/2020', { status: 'waiting', messagesTotal: 1804, bytesTotal: 260 * MB }),
      ];
      await app.push({ type: 'progress', jobId: 'job-1', progress: jobProgress(folders) });
      await app.push({ type: 'log', jobId: 'job-1', level: 'warn', message: 'Archive/2019: connection dropped, retrying in 12 s', at: Date.now() });
      await page.locator('[data-path="Archive/2019"] [data-testid="folder-state"]', { hasText: /Retrying in \d+ s/ }).waitFor();
      await app.screenshot('06-move-progress');
      await assertAccessible(app, 'move');

      await page.getByRole('button', { name: 'Retry Projects/Beta/Specs' }).click();
      assert.deepEqual(fake.callsTo('jobs:retryFolder'), [{ jobId: 'job-1', sourcePath: 'Projects/Beta/Specs' }]);
      await page.getByRole('button', { name: 'Pause' }).click();
      await page.locator('[data-job-status="paused"]').waitFor();
      await page.getByRole('button', { name: 'Resume' }).click();
      await page.locator('[data-job-status="copying"]').waitFor();

      const finished: FolderProgress[] = folders.map((f) => ({ ...f, status: 'verified', messagesDone: f.messagesTotal, bytesDone: f.bytesTotal }));
      finished[4] = { ...finished[4]!, status: 'incomplete', lastError: { kind: 'rejected', message: 'One message was refused by the new server.', retryable: false } };
      await app.push({ type: 'progress', jobId: 'job-1', progress: jobProgress(finished, { status: 'copying', etaSeconds: 0 }) });
      await app.push({ type: 'job-status', jobId: 'job-1', status: 'needs-attention' });
      await app.waitForState('done');
      await app.screenshot('07-move-done');
      await assertAccessible(app, 'done');

      await page.getByRole('button', { name: 'See the report' }).click();
      await app.waitForState('report');
      await page.getByRole('row', { name: /Scanned contract/ }).waitFor();
      await page.getByText(/Log \(/).click();
      await app.screenshot('08-report');
      await assertAccessible(app, 'report');

      await page.getByRole('button', { name: 'Export CSV' }).click();
      await page.getByText('Report saved to /home/user/Documents/mailferry-report.csv').waitFor();
      await page.getByRole('button', { name: /Save “Scanned contract/ }).click();
      assert.deepEqual(fake.callsTo('messages:saveEml'), [{ jobId: 'job-1', sourcePath: 'Archive/2020', uid: 1412 }]);
      // The one failure is a message too large for the new server: a retry cannot help, so none is offered, and the screen says why.
      assert.equal(await page.getByRole('button', { name: 'Retry failed only' }).count(), 0);
      assert.match(await page.getByTestId('action-bar').innerText(), /A retry cannot help here/);
      assert.deepEqual(app.problems, []);
    } finally {
      await app.close();
    }
  });

  test('a certificate problem shows the fingerprint and can be trusted', async () => {
    let pinned: string | undefined;
    const fake = createFakeBridge({
      'accounts:save': (r) => {
        pinned = r.endpoint.pinnedFingerprint;
        return { ok: true, value: { email: r.email, endpoint: r.endpoint, hasSavedPassword: false } };
      },
      'accounts:test': () => (pinned ? { ok: true, value: { capabilities: [], certificateFingerprint: pinned } } : { ok: false, error: tlsError }),
    });
    const app = await openApp(server.url, fake.bridge);
    try {
      const source = app.page.locator('form[data-role="source"]');
      await source.getByLabel('E-mail address').fill('me@selfhosted.example');
      await source.getByLabel('Password', { exact: true }).fill('pw');
      await source.getByRole('button', { name: 'Server settings' }).click();
      await source.getByLabel('Server', { exact: true }).fill('mail.selfhosted.example');
      await source.getByRole('button', { name: 'Test connection' }).click();
      await source.getByText(tlsError.certificateFingerprint!).waitFor();
      await app.screenshot('09-accounts-certificate');
      await assertAccessible(app, 'certificate');
      await source.getByRole('button', { name: 'Trust this certificate' }).click();
      await source.getByTestId('test-ok').waitFor();
      assert.equal(pinned, tlsError.certificateFingerprint);
    } finally {
      await app.close();
    }
  });

  test('an interrupted job is offered for resuming on start', async () => {
    const interrupted: JobSummary = {
      jobId: 'job-7', source: 'maria@mail.old-isp.example', destination: 'maria.new@gmail.com', startedAt: Date.now() - 7_200_000,
      updatedAt: Date.now() - 3_600_000, status: 'copying', bytesDone: 700 * MB, bytesTotal: 2100 * MB,
    };
    const fake = createFakeBridge({ 'jobs:list': () => ({ ok: true, value: [interrupted] }) });
    const app = await openApp(server.url, fake.bridge);
    try {
      await app.page.getByTestId('resume-offer').waitFor();
      await app.screenshot('00-resume-offer');
      await assertAccessible(app, 'resume offer');
      await app.page.getByRole('button', { name: 'Resume the move' }).click();
      await app.waitForState('copying');
      assert.deepEqual(fake.callsTo('jobs:resume'), [{ jobId: 'job-7' }]);
    } finally {
      await app.close();
    }
  });

  test('five thousand folders: only the visible rows are in the page, End and Home work', async () => {
    const fake = createFakeBridge({ 'plan:load': () => ({ ok: true, value: largePlan(5000) }) });
    const app = await openApp(server.url, fake.bridge);
    const { page } = app;
    try {
      await fillFakeAccountsAndChooseFolders(app);
      // A tree this large opens with its first level only; Expand all puts all 5000 rows in the list.
      const tree = page.getByRole('tree');
      assert.equal(await tree.getAttribute('data-row-count'), '20');
      await page.getByRole('button', { name: 'Expand all' }).click();
      await page.getByRole('button', { name: 'Collapse all' }).waitFor();
      assert.equal(await tree.getAttribute('data-row-count'), '5000');
      const rendered = await page.locator('[role="treeitem"]').count();
      assert.ok(rendered < 60, `rendered ${rendered} rows of 5000`);
      await tree.focus();
      await page.keyboard.press('End');
      await page.locator('[role="treeitem"][data-path="Team 19/Topic 0248"]').waitFor();
      await page.keyboard.press('Home');
      await page.locator('[role="treeitem"][data-path="Team 00"]').waitFor();
      await page.getByLabel('Filter folders').fill('Topic 0042');
      await page.locator('[role="treeitem"][data-path="Team 07/Topic 0042"]').waitFor();
      await app.screenshot('10-folders-filtered-large');
    } finally {
      await app.close();
    }
  });

  test('keyboard alone: the whole move without touching the mouse', async () => {
    const fake = createFakeBridge();
    const app = await openApp(server.url, fake.bridge);
    const { page } = app;
    /** Presses Tab until the focused element's description matches; fails after 60 presses. */
    const tabTo = async (wanted: RegExp): Promise<void> => {
      for (let i = 0; i < 60; i += 1) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          if (!el) return '';
          const label = el.getAttribute('aria-label') ?? (el as HTMLInputElement).labels?.[0]?.textContent ?? el.textContent ?? '';
          return `${el.closest('form')?.getAttribute('data-role') ?? ''} ${el.tagName.toLowerCase()} ${el.getAttribute('role') ?? ''} ${label.trim()}`;
        });
        if (wanted.test(focused)) return;
      }
      assert.fail(`Tab never reached ${wanted}`);
    };
    try {
      await app.waitForState('accounts');
      for (const [role, email] of [['source', 'me@old.example'], ['destination', 'me@new.example']] as const) {
        await tabTo(new RegExp(`^${role} input\\s+E-mail address`));
        await page.keyboard.type(email);
        await page.keyboard.press('Tab'); // to the password; leaving the address fills in the server
        await page.keyboard.type('pw');
        await page.locator(`form[data-role="${role}"] .disclosure .muted`).waitFor(); // server guessed
        await page.keyboard.press('Enter'); // submits the form: Test connection
        await page.locator(`form[data-role="${role}"]`).getByTestId('test-ok').waitFor();
      }
      await tabTo(/button\s+Choose folders/);
      await page.keyboard.press('Enter');
      await app.waitForState('folders');
      await tabTo(/input\s+Filter folders/);
      await page.keyboard.type('all mail');
      await tabTo(/div tree/);
      await page.keyboard.press('Home'); // the [Gmail] container, shown as the match's parent
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press(' ');
      assert.equal(await page.locator('[role="treeitem"][data-path="[Gmail]/All Mail"]').getAttribute('aria-checked'), 'true');
      await tabTo(/button\s+Start moving/);
      await page.keyboard.press('Enter');
      await app.waitForState('copying');
      const start = fake.callsTo('jobs:start')[0] as { selectedPaths: string[] };
      assert.ok(start.selectedPaths.includes('[Gmail]/All Mail'));
      await app.push({ type: 'progress', jobId: 'job-1', progress: jobProgress([folderProgress('INBOX', { status: 'copying', bytesDone: 5 * MB })]) });
      await tabTo(/button\s+Pause/);
      await page.keyboard.press('Enter');
      await page.locator('[data-job-status="paused"]').waitFor();
      await page.keyboard.press('Enter'); // focus stays on the same place, now Resume
      await page.locator('[data-job-status="copying"]').waitFor();
      await app.push({ type: 'job-status', jobId: 'job-1', status: 'done' });
      await app.waitForState('done');
      await tabTo(/button\s+See the report/);
      await page.keyboard.press('Enter');
      await app.waitForState('report');
      await tabTo(/button\s+Export HTML/);
      await page.keyboard.press('Enter');
      await page.getByText(/Report saved to .*\.html/).waitFor();
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('ui-failure-keyboard').catch(() => undefined);
      throw e;
    } finally {
      await app.close();
    }
  });

  test('an archive by keyboard alone: choose the folder and format, route a subtree, start; archive rows on Move and Report', async () => {
    const fake = createFakeBridge({
      'jobs:report': ({ jobId }) => {
        const base = sampleReport(jobId);
        return {
          ok: true,
          value: {
            ...base,
            folders: [...base.folders.map((f) => ({ ...f, target: 'account' as const })), { ...base.folders[0]!, sourcePath: 'Archive/2019', destinationPath: 'Archive/2019', target: 'archive' as const }],
            archive: { format: 'maildir', path: ARCHIVE_DIR },
          },
        };
      },
    });
    const app = await openApp(server.url, fake.bridge);
    const { page } = app;
    const press = async (...keys: string[]): Promise<void> => {
      for (const k of keys) await page.keyboard.press(k);
    };
    const focusedName = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLInputElement | null;
        return (el?.getAttribute('aria-label') ?? el?.labels?.[0]?.textContent ?? el?.textContent ?? '').trim();
      });
    try {
      await fillFakeAccountsAndChooseFolders(app);
      // Keyboard from here on: the folder button, then Maildir with the arrow keys.
      await page.getByRole('button', { name: 'Choose a folder…' }).focus();
      await press('Enter');
      await page.getByTestId('archive-path').filter({ hasText: ARCHIVE_DIR }).waitFor();
      // The format is under More options.
      await page.getByRole('button', { name: 'More options' }).focus();
      await press('Enter');
      await page.getByRole('radio', { name: /mbox/ }).focus();
      await press('ArrowRight');
      await page.locator('.format-option.chosen', { hasText: 'Maildir' }).waitFor();
      assert.equal((fake.callsTo('plan:load').at(-1) as { archive?: { format: string } }).archive?.format, 'maildir');
      // In the tree: the Archive container's subtree to the archive only (D), Projects to both (radio group by keyboard).
      await page.getByRole('tree').focus();
      const activePath = async () => page.locator(`#${await page.getByRole('tree').getAttribute('aria-activedescendant')}`).getAttribute('data-path');
      for (let i = 0; i < 20 && (await activePath()) !== 'Archive'; i += 1) await press('ArrowDown'); // a container: D routes its subfolders
      await press('d');
      for (const p of ['Archive/2019', 'Archive/2020', 'Archive/2021']) assert.equal(await page.locator(`[role="treeitem"][data-path="${p}"]`).getAttribute('data-route'), 'archive');
      for (let i = 0; i < 20 && (await activePath()) !== 'Projects'; i += 1) await press('ArrowDown');
      await press('Shift+Tab'); // from the tree back to the radio group above it
      assert.match(await focusedName(), /New account|Archive|Both/);
      await press('ArrowRight', 'ArrowRight');
      for (const p of ['Projects', 'Projects/Alpha', 'Projects/Beta']) assert.equal(await page.locator(`[role="treeitem"][data-path="${p}"]`).getAttribute('data-route'), 'both');
      await app.screenshot('11-folders-archive');
      await assertAccessible(app, 'folders with an archive');

      await page.getByRole('button', { name: 'Start moving' }).focus();
      await press('Enter');
      await app.waitForState('copying');
      const start = fake.callsTo('jobs:start')[0] as { selectedPaths: string[]; archivePaths: string[]; archive: unknown };
      assert.deepEqual(start.archive, { format: 'maildir', path: ARCHIVE_DIR });
      assert.deepEqual([...start.archivePaths].sort(), ['Archive/2019', 'Archive/2020', 'Archive/2021', 'Projects', 'Projects/Alpha', 'Projects/Beta', 'Projects/Beta/Specs']);
      assert.ok(!start.selectedPaths.includes('Archive/2019') && start.selectedPaths.includes('Projects/Alpha') && start.selectedPaths.includes('INBOX'));

      const rows = [
        { ...folderProgress('INBOX', { status: 'verified', messagesTotal: 4812, messagesDone: 4812, bytesTotal: 912 * MB, bytesDone: 912 * MB }), target: 'account' as const },
        { ...folderProgress('Projects/Alpha', { status: 'verified', messagesTotal: 250, messagesDone: 250, bytesTotal: 35 * MB, bytesDone: 35 * MB }), target: 'account' as const },
        { ...folderProgress('Archive/2019', { status: 'copying', messagesTotal: 1530, messagesDone: 610, bytesTotal: 210 * MB, bytesDone: 80 * MB }), target: 'archive' as const },
        {
          ...folderProgress('Archive/2020', {
            status: 'needs-attention', messagesTotal: 1804, messagesDone: 12, bytesTotal: 260 * MB, bytesDone: 2 * MB,
            lastError: { kind: 'bad-input', message: 'Could not write the folder: no permission to write or read the archive (/home/maria/Mail archive/Archive/2020).', retryable: false },
          }),
          target: 'archive' as const,
        },
        { ...folderProgress('Projects/Alpha', { status: 'waiting', messagesTotal: 250, bytesTotal: 35 * MB }), target: 'archive' as const },
      ];
      await app.push({ type: 'progress', jobId: 'job-1', progress: jobProgress(rows) });
      await page.locator('.folder-progress[data-path="Archive/2020"][data-target="archive"][data-status="needs-attention"]').waitFor();
      await app.screenshot('12-move-archive');
      await assertAccessible(app, 'move with archive rows');
      await page.getByRole('button', { name: 'Retry Archive/2020 (archive)' }).click();
      assert.deepEqual(fake.callsTo('jobs:retryFolder'), [{ jobId: 'job-1', sourcePath: 'Archive/2020', target: 'archive' }]);

      await app.push({ type: 'job-status', jobId: 'job-1', status: 'needs-attention' });
      await app.waitForState('done');
      await page.getByRole('button', { name: 'See the report' }).click();
      await app.waitForState('report');
      await page.locator('tr[data-path="Archive/2019"][data-target="archive"]').waitFor();
      await app.screenshot('13-report-archive');
      await assertAccessible(app, 'report with archive rows');
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('ui-failure-archive').catch(() => undefined);
      throw e;
    } finally {
      await app.close();
    }
  });
});
