/**
 * End to end with the real engine: some folders to the new account, one only into an mbox archive
 * in a temp folder, one (with its subfolder) to both. The built renderer in Chromium drives the
 * AppService in this process through main's request validation; two private Dovecots.
 * Afterwards the account holds exactly what was chosen (mail-snapshot) and the archive, read back
 * through the engine's own archive source, holds the chosen folders byte for byte.
 * A second test restores that archive into the new account through the app (a restore: the
 * archive as the source). A third drives the service alone: a job to both places paused in its
 * account part, resumed, and a folder's archive row retried.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppJobEvent, AppJobReport } from '../../src/contract/ipc.js';
import type { AccountEndpoint } from '../../src/contract/account.js';
import { openLocationAsSource } from '../../src/locations/open-location.js';
import { fingerprintOfMessage } from '../../src/engine/fingerprint.js';
import { joinedBytes } from '../../src/engine/message-bytes.js';
import { fillAccount, generateCorpus, generateFolderOfSize } from '../support/corpus.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { snapshotAccount, type AccountSnapshot } from '../support/mail-snapshot.js';
import { buildRenderer, fillLocalAccount, openApp, serveRenderer, startAppService, type AppPage } from './harness.js';
import { createHash } from 'node:crypto';

const SOURCE_USER = { name: 'olduser', password: 'old-Archive-51c2' };
const DESTINATION_USER = { name: 'newuser', password: 'new-Archive-9e07' };
const SECRETS = [SOURCE_USER.password, DESTINATION_USER.password];

/** What the source holds per folder, without messages flagged \Deleted (which are never copied). */
const liveMessages = (snapshot: AccountSnapshot, path: string) => snapshot.folders.find((f) => f.path === path)?.messages.filter((m) => !m.flags.includes('\\Deleted')) ?? [];

/** Every message of an archive folder, read through the engine's archive source: sha256 and fingerprint. */
async function readArchive(format: 'mbox', path: string): Promise<Map<string, { sha256: string; fingerprint: string }[]>> {
  const opened = await openLocationAsSource({ kind: 'archive', archive: { format, path } }, {});
  assert.ok(opened.ok, 'the archive opens as a source');
  const store = opened.value;
  const out = new Map<string, { sha256: string; fingerprint: string }[]>();
  try {
    const folders = await store.listFolders();
    assert.ok(folders.ok);
    for (const folder of folders.value) {
      if (!folder.isSelectable) continue;
      const state = await store.openFolder(folder.path);
      assert.ok(state.ok);
      const uids = await store.listUids(folder.path);
      assert.ok(uids.ok);
      const messages: { sha256: string; fingerprint: string }[] = [];
      for await (const read of store.readBodies(folder.path, uids.value.uids)) {
        assert.ok(read.ok);
        messages.push({ sha256: createHash('sha256').update(joinedBytes(read.body)).digest('hex'), fingerprint: fingerprintOfMessage(joinedBytes(read.body)) });
      }
      out.set(folder.path, messages);
    }
  } finally {
    await store.close();
  }
  return out;
}

describe('folders to the new account, to an archive, or both', { concurrency: false }, () => {
  let server: Awaited<ReturnType<typeof serveRenderer>>;
  let source: DovecotServer;
  let destination: DovecotServer;
  let work: string;

  before(async () => {
    await buildRenderer();
    server = await serveRenderer();
    [source, destination] = await Promise.all([startDovecot({ users: [SOURCE_USER] }), startDovecot({ users: [DESTINATION_USER] })]);
    const corpus = generateCorpus({
      seed: 'archive-e2e',
      folders: [{ segments: ['INBOX'] }, { segments: ['Sent'], specialUse: '\\Sent' }, { segments: ['Old'] }, { segments: ['Reisen'] }, { segments: ['Reisen', 'Überfahrt'] }],
      messagesPerFolder: 4,
    });
    await fillAccount(source.account(SOURCE_USER.name), corpus);
    work = await mkdtemp(join(tmpdir(), 'mailferry-e2e-archive-'));
  });

  after(async () => {
    await Promise.allSettled([source?.stop(), destination?.stop()]);
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  function startService(stateDir: string, archiveDir: string) {
    let folderDialogs = 0;
    const started = startAppService({
      stateDir,
      saveDir: work,
      chooseFolder: async () => {
        folderDialogs += 1;
        return archiveDir;
      },
    });
    return { ...started, dialogs: () => folderDialogs };
  }

  test('the app: choose an mbox archive, send folders to the account, the archive or both; both hold exactly what was chosen', async () => {
    const archiveDir = join(work, 'Mail archive');
    const { service, bridge, events, dialogs } = startService(join(work, 'state-ui'), archiveDir);
    const app: AppPage = await openApp(server.url, bridge, { width: 1280, height: 1000 });
    const { page } = app;
    try {
      await app.waitForState('accounts');
      await fillLocalAccount(page, 'source', SOURCE_USER, source.port);
      await fillLocalAccount(page, 'destination', DESTINATION_USER, destination.port);
      await page.getByRole('button', { name: 'Choose folders' }).click();
      await app.waitForState('folders');
      const tree = page.getByRole('tree');
      await tree.waitFor();
      await app.screenshot('archive-01-folders-no-archive');

      // The archive: a folder from main's dialog, mbox (the default).
      await page.getByRole('button', { name: 'Choose a folder…' }).click();
      await page.getByTestId('archive-path').filter({ hasText: archiveDir }).waitFor();
      assert.equal(dialogs(), 1);
      await page.getByRole('button', { name: 'More options' }).click();
      assert.equal(await page.getByRole('radio', { name: /mbox/ }).isChecked(), true);
      await page.getByRole('button', { name: 'More options' }).click();
      await page.getByTestId('route-chooser').waitFor();

      const row = (path: string) => page.locator(`[role="treeitem"][data-path="${path}"]`);
      const activePath = async () => page.locator(`#${await tree.getAttribute('aria-activedescendant')}`).getAttribute('data-path');
      const goTo = async (path: string) => {
        await tree.focus();
        await page.keyboard.press('Home');
        for (let i = 0; i < 30 && (await activePath()) !== path; i += 1) await page.keyboard.press('ArrowDown');
        assert.equal(await activePath(), path);
      };
      // Old: only to the archive, by keyboard (D once).
      await goTo('Old');
      await page.keyboard.press('d');
      assert.equal(await row('Old').getAttribute('data-route'), 'archive');
      // Reisen and its subfolder: to both, with the mouse on the radio group for the subtree.
      await goTo('Reisen');
      await page.getByTestId('route-chooser').getByText('Both', { exact: true }).click();
      assert.equal(await row('Reisen').getAttribute('data-route'), 'both');
      assert.equal(await row('Reisen/Überfahrt').getAttribute('data-route'), 'both');
      // INBOX and Sent stay with the new account (the default).
      assert.equal(await row('INBOX').getAttribute('data-route'), 'account');
      await goTo('Reisen');
      await app.screenshot('archive-02-folders-routes');
      assert.deepEqual(await app.axe(), []);
      assert.match(await page.getByTestId('total-account').innerText(), /New account: .* in 4 folders/);
      assert.match(await page.getByTestId('total-archive').innerText(), /Archive \(mbox\): .* in 3 folders/);

      await page.getByRole('button', { name: 'Start moving' }).click();
      await app.waitForState('copying');
      await app.waitForState('done');
      // Finished folders fold into one line; open it to see each row with its destination.
      await page.getByTestId('finished-line').click();
      await app.screenshot('archive-03-move-done');
      assert.deepEqual(await app.axe(), []);
      assert.equal(await page.locator('.folder-progress[data-target="archive"]').count(), 3);
      assert.equal(await page.locator('.folder-progress[data-target="account"]').count(), 4);
      assert.equal(await page.locator('.folder-progress[data-status="verified"]').count(), 7);

      await page.getByRole('button', { name: 'See the report' }).click();
      await app.waitForState('report');
      await page.getByRole('heading', { name: 'Everything arrived' }).waitFor();
      await app.screenshot('archive-04-report');
      assert.deepEqual(await app.axe(), []);

      // One job for the app: every event under one id, one report with each folder's destination.
      assert.equal(new Set(events.map((e) => e.jobId)).size, 1);
      const reports = events.filter((e): e is Extract<AppJobEvent, { type: 'report' }> => e.type === 'report');
      assert.equal(reports.length, 1, 'one merged report, not one per part');
      const report: AppJobReport = reports[0]!.report;
      assert.equal(report.status, 'done');
      assert.deepEqual(
        report.folders.map((f) => `${f.target}:${f.sourcePath}`).sort(),
        ['account:INBOX', 'account:Reisen', 'account:Reisen/Überfahrt', 'account:Sent', 'archive:Old', 'archive:Reisen', 'archive:Reisen/Überfahrt'],
      );
      assert.ok(report.folders.every((f) => f.isComplete && f.failed.length === 0));
      assert.deepEqual(report.archive, { format: 'mbox', path: archiveDir });

      // The account holds exactly what was chosen: INBOX, Sent, Reisen, Reisen/Überfahrt, and no Old.
      const [from, to] = await Promise.all([snapshotAccount(source.account(SOURCE_USER.name)), snapshotAccount(destination.account(DESTINATION_USER.name))]);
      for (const path of ['INBOX', 'Sent', 'Reisen', 'Reisen/Überfahrt']) {
        assert.deepEqual(
          liveMessages(to, path).map((m) => m.sha256).sort(),
          liveMessages(from, path).map((m) => m.sha256).sort(),
          `${path} on the new account: every message once, byte for byte`,
        );
      }
      assert.equal(to.folders.find((f) => f.path === 'Old'), undefined, 'Old went only to the archive');

      // The archive holds Old, Reisen and Reisen/Überfahrt, byte for byte, and nothing else.
      const archived = await readArchive('mbox', archiveDir);
      assert.deepEqual([...archived.keys()].filter((p) => (archived.get(p) ?? []).length > 0).sort(), ['Old', 'Reisen', 'Reisen/Überfahrt']);
      for (const path of ['Old', 'Reisen', 'Reisen/Überfahrt']) {
        assert.deepEqual(
          archived.get(path)!.map((m) => m.sha256).sort(),
          liveMessages(from, path).map((m) => m.sha256).sort(),
          `${path} in the archive`,
        );
      }
      // Thunderbird's layout: Old is a file, Reisen a file with Reisen.sbd/ beside it.
      const entries = (await readdir(archiveDir)).filter((n) => !n.startsWith('.'));
      assert.ok(entries.includes('Old') && entries.includes('Reisen') && entries.includes('Reisen.sbd'), entries.join(', '));

      // No password in any event, nor in any file the service wrote.
      const everything = JSON.stringify(events) + (await readAll(join(work, 'state-ui')));
      for (const secret of SECRETS) assert.equal(everything.includes(secret), false);
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('archive-failure').catch(() => undefined);
      throw e;
    } finally {
      await service.shutdown();
      await app.close();
    }
  });

  test('restore in the app: the mbox archive of the first test back into the new account; what is there already is not copied again', async () => {
    const archiveDir = join(work, 'Mail archive'); // written by the first test
    const { service, bridge, events } = startService(join(work, 'state-restore'), archiveDir);
    const app: AppPage = await openApp(server.url, bridge, { width: 1280, height: 1000 });
    const { page } = app;
    try {
      await app.waitForState('accounts');
      await page.getByText('In an archive on this computer').click();
      await page.getByRole('button', { name: 'Choose the archive folder…' }).click();
      await page.getByTestId('source-archive-path').filter({ hasText: archiveDir }).waitFor();
      await fillLocalAccount(page, 'destination', DESTINATION_USER, destination.port);
      await app.screenshot('archive-05-restore-accounts');
      assert.deepEqual(await app.axe(), []);

      await page.getByRole('button', { name: 'Choose folders' }).click();
      await app.waitForState('folders');
      await page.getByRole('tree', { name: 'Folders in the archive' }).waitFor();
      for (const path of ['Old', 'Reisen', 'Reisen/Überfahrt']) await page.locator(`[role="treeitem"][data-path="${path}"]`).waitFor();
      await app.screenshot('archive-06-restore-folders');
      assert.deepEqual(await app.axe(), []);
      await page.getByRole('button', { name: 'Start moving' }).click();
      await app.waitForState('copying');
      await app.waitForState('done');
      await page.getByRole('button', { name: 'See the report' }).click();
      await app.waitForState('report');
      await page.getByRole('heading', { name: 'Everything arrived' }).waitFor();
      await app.screenshot('archive-07-restore-report');

      const report = (events.filter((e) => e.type === 'report').at(-1) as Extract<AppJobEvent, { type: 'report' }>).report;
      const byPath = new Map(report.folders.map((f) => [f.sourcePath, f]));
      // Reisen and its subfolder went to the account in the first test: found there, not sent again.
      assert.equal(byPath.get('Reisen')?.copied, 0);
      assert.ok((byPath.get('Reisen')?.alreadyThere ?? 0) > 0);
      assert.ok((byPath.get('Old')?.copied ?? 0) > 0);
      const [from, to] = await Promise.all([snapshotAccount(source.account(SOURCE_USER.name)), snapshotAccount(destination.account(DESTINATION_USER.name))]);
      for (const path of ['Old', 'Reisen', 'Reisen/Überfahrt']) {
        assert.deepEqual(liveMessages(to, path).map((m) => m.sha256).sort(), liveMessages(from, path).map((m) => m.sha256).sort(), `${path} once on the new account, byte for byte`);
      }
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('archive-failure-restore').catch(() => undefined);
      throw e;
    } finally {
      await service.shutdown();
      await app.close();
    }
  });

  test('the service: a job to both places pauses in its account part, resumes, finishes both; a folder retried only in the archive', async () => {
    await fillAccount(source.account(SOURCE_USER.name), [generateFolderOfSize({ seed: 'bulk', segments: ['Bulk'], messages: 400, totalBytes: 6_000_000 })]);
    const archiveDir = join(work, 'Both archive');
    const { service, events } = startService(join(work, 'state-service'), archiveDir);
    const accountEndpoint = (server: DovecotServer, user: string): AccountEndpoint => ({ host: '127.0.0.1', port: server.port, security: 'plain', user, allowPlaintext: true });
    try {
      assert.ok((await service['accounts:save']({ role: 'source', email: 'old@example.test', endpoint: accountEndpoint(source, SOURCE_USER.name), password: SOURCE_USER.password, rememberPassword: false })).ok);
      assert.ok((await service['accounts:save']({ role: 'destination', email: 'new@example.test', endpoint: accountEndpoint(destination, DESTINATION_USER.name), password: DESTINATION_USER.password, rememberPassword: false })).ok);
      const archive = { format: 'mbox' as const, path: archiveDir };
      const plan = await service['plan:load']({ options: {}, archive });
      assert.ok(plan.ok);
      assert.equal(plan.value.archive?.folders.find((f) => f.sourcePath === 'Bulk')?.destinationPath, 'Bulk');

      const started = await service['jobs:start']({ options: {}, selectedPaths: ['Bulk', 'INBOX'], archive, archivePaths: ['Bulk', 'Old'], settings: { connectionsPerSide: 1, maxBytesPerSecond: 1_500_000 } });
      assert.ok(started.ok);
      const { jobId } = started.value;
      // Pause while the account part is copying Bulk.
      await waitFor(() => events.some((e) => e.type === 'progress' && e.progress.folders.some((f) => f.target === 'account' && f.sourcePath === 'Bulk' && f.bytesDone > 0)));
      assert.ok((await service['jobs:pause']({ jobId })).ok);
      const paused = events.filter((e) => e.type === 'job-status').at(-1);
      assert.equal(paused?.type === 'job-status' && paused.status, 'paused');
      assert.equal(events.filter((e) => e.type === 'job-status' && ['done', 'needs-attention'].includes(e.status)).length, 0, 'no part ended the job early');
      const list = await service['jobs:list']();
      assert.ok(list.ok);
      assert.match(list.value.find((j) => j.jobId === jobId)!.destination, /and an archive at .*Both archive/);

      const before = events.length;
      assert.ok((await service['jobs:resume']({ jobId })).ok);
      await waitFor(() => events.slice(before).some((e) => e.type === 'report'));
      const report = (events.slice(before).find((e) => e.type === 'report') as Extract<AppJobEvent, { type: 'report' }>).report;
      assert.equal(report.status, 'done');
      assert.deepEqual(report.folders.map((f) => `${f.target}:${f.sourcePath}`).sort(), ['account:Bulk', 'account:INBOX', 'archive:Bulk', 'archive:Old']);
      const from = await snapshotAccount(source.account(SOURCE_USER.name), { folders: ['Bulk'] });
      const to = await snapshotAccount(destination.account(DESTINATION_USER.name), { folders: ['Bulk'] });
      assert.equal(liveMessages(to, 'Bulk').length, liveMessages(from, 'Bulk').length, 'Bulk once on the account after pause and resume');
      assert.equal((await readArchive('mbox', archiveDir)).get('Bulk')?.length, liveMessages(from, 'Bulk').length, 'Bulk once in the archive');

      // Retry one folder's archive row: only the archive part runs, and nothing is copied twice.
      const mark = events.length;
      assert.ok((await service['jobs:retryFolder']({ jobId, sourcePath: 'Old', target: 'archive' })).ok);
      await waitFor(() => events.slice(mark).some((e) => e.type === 'report'));
      const rows = new Set(events.slice(mark).flatMap((e) => (e.type === 'progress' ? e.progress.folders.map((f) => `${f.target}:${f.sourcePath}`) : [])));
      assert.deepEqual([...rows], ['archive:Old'], 'only the archive row of Old ran again');
      const old = await snapshotAccount(source.account(SOURCE_USER.name), { folders: ['Old'] });
      assert.equal((await readArchive('mbox', archiveDir)).get('Old')?.length, liveMessages(old, 'Old').length, 'Old once in the archive');
      // The job's report still covers every row; the retried one is replaced.
      const stored = await service['jobs:report']({ jobId });
      assert.ok(stored.ok);
      assert.deepEqual(stored.value.folders.map((f) => `${f.target}:${f.sourcePath}`).sort(), ['account:Bulk', 'account:INBOX', 'archive:Bulk', 'archive:Old']);
      assert.equal(stored.value.status, 'done');
      const everything = JSON.stringify(events) + (await readAll(join(work, 'state-service')));
      for (const secret of SECRETS) assert.equal(everything.includes(secret), false);
    } finally {
      await service.shutdown();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every file under a folder, as text, for the no-password check. */
async function readAll(dir: string): Promise<string> {
  let out = '';
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out += await readFile(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name), 'utf8');
  }
  return out;
}
