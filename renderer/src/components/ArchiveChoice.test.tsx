/** @jsxRuntime automatic */
/** @jsxImportSource react */
import '../../test/setup-dom.js';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { renderApp } from '../../test/render-app.js';
import { ARCHIVE_DIR, folder, folderProgress, jobProgress, MB, planOf, sampleReport, withArchive } from '../../test/fake-bridge.js';
import type { AppJobEvent, StartJobRequest } from '../../../src/contract/ipc.js';

afterEach(cleanup);

const PLAN = planOf([
  folder('INBOX', 10, 4 * MB, { specialUse: '\\Inbox' }),
  folder('Sent', 6, 2 * MB, { specialUse: '\\Sent', destinationPath: 'Sent Items' }),
  folder('Work', 3, 1 * MB),
  folder('Work/Alpha', 2, 1 * MB),
  folder('Work/Beta', 1, 1 * MB),
]);

async function openFolders() {
  const app = renderApp({ 'plan:load': ({ archive }) => ({ ok: true, value: withArchive(PLAN, archive) }) });
  await act(async () => {
    app.store.getState().goTo('folders');
    await app.store.getState().loadPlan();
  });
  const tree = (): HTMLElement => screen.getByRole('tree');
  const item = (path: string): HTMLElement => tree().querySelector(`[role="treeitem"][data-path="${path}"]`) as HTMLElement;
  const key = (k: string): void => {
    act(() => {
      fireEvent.keyDown(tree(), { key: k });
    });
  };
  const click = async (element: HTMLElement): Promise<void> => {
    await act(async () => {
      fireEvent.click(element);
    });
  };
  const chooseArchive = async (): Promise<void> => click(screen.getByRole('button', { name: 'Choose a folder…' }));
  const start = async (): Promise<StartJobRequest> => {
    await click(screen.getByRole('button', { name: 'Start moving' }));
    return app.fake.callsTo('jobs:start').at(-1) as StartJobRequest;
  };
  return { ...app, tree, item, key, click, chooseArchive, start };
}

describe('archive choices on the folders screen', () => {
  test('without an archive nothing changes: no route control, D does nothing, every ticked folder goes to the account', async () => {
    const { key, item, start } = await openFolders();
    assert.equal(screen.queryByTestId('route-chooser'), null);
    assert.equal(screen.queryByRole('radiogroup'), null);
    key('d');
    assert.equal(item('INBOX').getAttribute('data-route'), null);
    const request = await start();
    assert.deepEqual(request.selectedPaths.sort(), ['INBOX', 'Sent', 'Work', 'Work/Alpha', 'Work/Beta']);
    assert.equal(request.archive, undefined);
    assert.equal(request.archivePaths, undefined);
  });

  test('choosing a folder asks main for it, re-plans with the archive, and offers the three formats with a line each', async () => {
    const { chooseArchive, fake, click } = await openFolders();
    await chooseArchive();
    assert.equal(fake.callsTo('archive:chooseFolder').length, 1);
    assert.equal(screen.getByTestId('archive-path').textContent, ARCHIVE_DIR);
    assert.deepEqual(fake.callsTo('plan:load').at(-1), { options: { renames: {} }, archive: { format: 'mbox', path: ARCHIVE_DIR } });
    // The format is an expert setting: under More options, each with its line.
    assert.equal(screen.queryByRole('group', { name: 'Archive format' }), null);
    await click(screen.getByRole('button', { name: 'More options' }));
    const formats = within(screen.getByRole('group', { name: 'Archive format' })).getAllByRole('radio') as HTMLInputElement[];
    assert.deepEqual(formats.map((r) => r.value), ['mbox', 'maildir', 'eml']);
    assert.equal(formats[0]!.checked, true);
    const panel = screen.getByTestId('more-options').textContent!;
    assert.match(panel, /Thunderbird and mutt/);
    assert.match(panel, /Dovecot and mutt/);
    assert.match(panel, /One file per message, named by date and subject/);
    await click(formats[1]!);
    assert.deepEqual((fake.callsTo('plan:load').at(-1) as { archive: unknown }).archive, { format: 'maildir', path: ARCHIVE_DIR });
    // A cancelled dialog is no error and keeps what was there.
    fake.handlers['archive:chooseFolder'] = () => ({ ok: false, error: { kind: 'cancelled', message: 'No folder chosen.', retryable: false } });
    await click(screen.getByRole('button', { name: 'Change…' }));
    assert.equal(screen.getByTestId('archive-path').textContent, ARCHIVE_DIR);
    assert.equal(screen.queryByRole('alert'), null);
  });

  test('per folder and per subtree: D cycles account → archive → both, the radio group does the same, totals per destination, and the start request splits the paths', async () => {
    const { chooseArchive, key, item, click, start, store } = await openFolders();
    await chooseArchive();
    assert.equal(item('INBOX').getAttribute('data-route'), 'account', 'the new account by default');
    // INBOX (the first row) to both.
    key('d');
    key('d');
    assert.equal(item('INBOX').getAttribute('data-route'), 'both');
    assert.equal(within(item('INBOX')).getAllByText(/To the (new account|archive):/).length, 2, 'a row going to both shows both names');
    // Down to Work: the whole subtree to the archive, by the radio group outside the tree.
    key('ArrowDown');
    key('ArrowDown');
    const chooser = screen.getByTestId('route-chooser');
    assert.match(chooser.textContent!, /Work and 2 subfolders go to/);
    await click(within(chooser).getByLabelText('Archive'));
    for (const p of ['Work', 'Work/Alpha', 'Work/Beta']) assert.equal(item(p).getAttribute('data-route'), 'archive', p);
    assert.equal(within(item('Work/Alpha')).getByTestId('archive-destination').textContent, 'To the archive: Work/Alphaarchive');
    // One child to both: the parent's subtree is mixed now.
    key('ArrowDown');
    key('d');
    assert.equal(item('Work/Alpha').getAttribute('data-route'), 'both');
    key('ArrowLeft');
    assert.match(screen.getByTestId('route-chooser').textContent!, /go to different places/);
    assert.equal(within(screen.getByTestId('route-chooser')).getAllByRole('radio').some((r) => (r as HTMLInputElement).checked), false);

    assert.match(screen.getByTestId('total-account').textContent!, /New account: 7\.0 MB in 3 folders · 18 messages/);
    assert.match(screen.getByTestId('total-archive').textContent!, /Archive \(mbox\): 7\.0 MB in 4 folders · 16 messages/);

    const request = await start();
    assert.deepEqual([...request.selectedPaths].sort(), ['INBOX', 'Sent', 'Work/Alpha']);
    assert.deepEqual([...request.archivePaths!].sort(), ['INBOX', 'Work', 'Work/Alpha', 'Work/Beta']);
    assert.deepEqual(request.archive, { format: 'mbox', path: ARCHIVE_DIR });
    assert.equal(store.getState().screen, 'copying');
  });

  test('"No archive" sends everything ticked to the account again; unticked folders go nowhere', async () => {
    const { chooseArchive, key, click, start } = await openFolders();
    await chooseArchive();
    key('d'); // INBOX → archive
    key('ArrowDown');
    key(' '); // untick Sent
    await click(screen.getByRole('button', { name: 'No archive' }));
    assert.equal(screen.queryByTestId('archive-path'), null);
    const request = await start();
    assert.deepEqual([...request.selectedPaths].sort(), ['INBOX', 'Work', 'Work/Alpha', 'Work/Beta']);
    assert.equal(request.archivePaths, undefined);
  });

  test('only to the archive: the account list is empty and Enter does not open a rename with nothing to rename', async () => {
    const { chooseArchive, key, start, click } = await openFolders();
    await chooseArchive();
    await click(screen.getByRole('button', { name: 'Select none' }));
    key(' '); // tick INBOX
    key('d'); // → archive
    key('Enter');
    assert.equal(screen.queryByLabelText('New name for INBOX'), null);
    assert.equal(screen.getByRole('tree').getAttribute('tabindex'), '0', 'the tree keeps the keyboard');
    const request = await start();
    assert.deepEqual(request.selectedPaths, []);
    assert.deepEqual(request.archivePaths, ['INBOX']);
  });
});

describe('archive rows on the Move and Report screens', () => {
  test('a folder going to both has two rows, each naming its destination; retry names the target', async () => {
    const app = renderApp({ 'jobs:report': ({ jobId }) => ({ ok: true, value: { ...sampleReport(jobId, false), folders: [...sampleReport(jobId, false).folders.map((f) => ({ ...f, target: 'account' as const })), { ...sampleReport(jobId, false).folders[0]!, target: 'archive' as const }], archive: { format: 'mbox', path: ARCHIVE_DIR } } }) });
    await act(async () => {
      await app.store.getState().loadPlan();
      await app.store.getState().startJob();
    });
    const push = (event: AppJobEvent): void => {
      act(() => app.fake.emit(event));
    };
    const folders = [
      { ...folderProgress('INBOX', { status: 'verified', bytesDone: 10 * MB, messagesDone: 100 }), target: 'account' as const },
      { ...folderProgress('Sent', { status: 'verified', destinationPath: 'Sent Items', bytesDone: 10 * MB, messagesDone: 100 }), target: 'account' as const },
      {
        ...folderProgress('INBOX', { status: 'needs-attention', lastError: { kind: 'internal', message: 'The disk is full.', retryable: true } }),
        target: 'archive' as const,
      },
    ];
    push({ type: 'progress', jobId: 'job-1', progress: jobProgress(folders) });
    // The archive row that needs attention comes first; the finished ones fold into a line that opens.
    const first = document.querySelector('.folder-progress') as HTMLElement;
    assert.equal(`${first.getAttribute('data-path')}:${first.getAttribute('data-target')}`, 'INBOX:archive');
    assert.match(first.textContent!, /Archive/);
    act(() => {
      fireEvent.click(screen.getByTestId('finished-line'));
    });
    const row = (path: string, target: string): HTMLElement => document.querySelector(`.folder-progress[data-path="${path}"][data-target="${target}"]`) as HTMLElement;
    assert.match(row('INBOX', 'account').textContent!, /New account/);
    assert.match(row('Sent', 'account').textContent!, /New account\s*Sent Items/);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Retry INBOX (archive)' }));
    });
    assert.deepEqual(app.fake.callsTo('jobs:retryFolder'), [{ jobId: 'job-1', sourcePath: 'INBOX', target: 'archive' }]);

    // A full disk pauses the job: the headline speaks of the archive's disk, not the account.
    push({ type: 'job-status', jobId: 'job-1', status: 'paused', error: { kind: 'quota', message: 'The disk holding the archive is full; free some space and run again.', retryable: false }, target: 'archive' });
    assert.match(screen.getByRole('alert').textContent!, /^Archive: disk full/);
    push({ type: 'job-status', jobId: 'job-1', status: 'done' });
    await act(async () => {
      await app.store.getState().showReport();
    });
    const reportRows = [...document.querySelectorAll('.report-table tbody tr[data-path]')] as HTMLElement[];
    assert.deepEqual(reportRows.map((r) => `${r.getAttribute('data-path')}:${r.getAttribute('data-target')}`), ['INBOX:account', 'Sent:account', 'Archive/2020:account', 'INBOX:archive']);
    assert.match(reportRows[3]!.textContent!, /Archive/);
    assert.match(screen.getByRole('heading', { level: 1 }).textContent!, /Everything arrived/);
    assert.match(document.querySelector('.lead')!.textContent!, /the new account and the mbox archive in \/home\/maria\/Mail archive/);
  });
});

describe('restore: an archive as the source', () => {
  test('the old account gives way to an archive; the plan and the job read from it and write to the new account only', async () => {
    const app = renderApp({ 'plan:load': ({ archive }) => ({ ok: true, value: withArchive(PLAN, archive) }) });
    const { store, fake } = app;
    const click = async (element: HTMLElement): Promise<void> => {
      await act(async () => {
        fireEvent.click(element);
      });
    };
    await click(screen.getByLabelText('In an archive on this computer'));
    assert.equal(document.querySelector('form[data-role="source"]'), null, 'no old-account form');
    const choose = screen.getByRole('button', { name: 'Choose the archive folder…' });
    assert.equal((screen.getByRole('button', { name: 'Choose folders' }) as HTMLButtonElement).disabled, true);
    await click(choose);
    assert.equal(screen.getByTestId('source-archive-path').textContent?.trim(), ARCHIVE_DIR);
    await click(screen.getAllByLabelText(/Maildir/)[0]!);
    // The new account still has to answer.
    await act(async () => {
      store.getState().updateAccount('destination', { email: 'me@new.example', host: 'imap.new.example', user: 'me@new.example' });
      await store.getState().saveAndTest('destination', 'pw');
    });
    await click(screen.getByRole('button', { name: 'Choose folders' }));
    assert.deepEqual(fake.callsTo('plan:load').at(-1), { options: { renames: {} }, source: { format: 'maildir', path: ARCHIVE_DIR } });
    assert.equal(screen.queryByTestId('archive-panel'), null, 'no archive destination in a restore');
    assert.equal(screen.getByRole('tree').getAttribute('aria-label'), 'Folders in the archive');
    assert.match(document.querySelector('.lead')!.textContent!, /in the Maildir archive \/home\/maria\/Mail archive/);
    await click(screen.getByRole('button', { name: 'Start moving' }));
    const request = fake.callsTo('jobs:start').at(-1) as StartJobRequest;
    assert.deepEqual(request.source, { format: 'maildir', path: ARCHIVE_DIR });
    assert.equal(request.archive, undefined);
    assert.deepEqual([...request.selectedPaths].sort(), ['INBOX', 'Sent', 'Work', 'Work/Alpha', 'Work/Beta']);
  });
});
