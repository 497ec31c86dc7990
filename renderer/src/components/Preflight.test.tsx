/** @jsxRuntime automatic */
/** @jsxImportSource react */
/**
 * Issue 14 in the renderer, each test with a fresh store around the fake bridge: the pre-flight
 * before Start (narrowed to the ticked folders as they change, the choice for messages too large),
 * the newest-first and read-state switches, the archive-only job, archived messages in the report.
 */
import '../../test/setup-dom.js';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { renderApp } from '../../test/render-app.js';
import { ARCHIVE_DIR, MB, preflightPlan, REFUSED_SUBJECTS, sampleReport, withArchive } from '../../test/fake-bridge.js';
import type { AppPlan, InvokeRequest, StartJobRequest } from '../../../src/contract/ipc.js';
import type { JobReport } from '../../../src/contract/job.js';
import { preflightOf } from '../lib/preflight-view.js';

afterEach(cleanup);

const click = async (element: Element): Promise<void> => {
  await act(async () => {
    fireEvent.click(element);
  });
};

/** The app on Choose folders with preflightPlan; `plan:load` answers with it (its selection follows `include`). */
async function openFolders() {
  const app = renderApp({
    'plan:load': ({ options, archive }) => {
      const plan = preflightPlan();
      // As the engine does: with `include`, exactly those folders are the plan's selection.
      const folders = options.include ? plan.folders.map((f) => ({ ...f, isSelected: f.source.isSelectable && options.include!.includes(f.source.path) })) : plan.folders;
      return { ok: true, value: withArchive({ ...plan, folders }, archive) };
    },
  });
  await act(async () => {
    app.store.getState().goTo('folders');
    await app.store.getState().loadPlan();
  });
  const tree = (): HTMLElement => screen.getByRole('tree');
  const toggle = async (path: string): Promise<void> => click(tree().querySelector(`[role="treeitem"][data-path="${path}"] [data-testid="check"]`)!);
  const start = async (): Promise<StartJobRequest> => {
    await click(screen.getByRole('button', { name: /^Start/ }));
    return app.fake.callsTo('jobs:start').at(-1) as StartJobRequest;
  };
  const listed = (): string[] => [...screen.getByTestId('preflight-refused').querySelectorAll('tbody tr')].map((r) => r.querySelector('.refused-subject')!.textContent!);
  return { ...app, tree, toggle, start, listed };
}

describe('pre-flight before Start', () => {
  test('the narrowed view: only ticked folders, the quota moved by what the ticks changed, folders ticked since named', () => {
    const plan: AppPlan = preflightPlan();
    const planned = new Set(plan.folders.filter((f) => f.isSelected).map((f) => f.source.path));
    const all = preflightOf(plan, planned)!;
    assert.equal(all.refused.length, 5);
    assert.equal(all.neededBytes, plan.preflight!.quota!.neededBytes, 'the planned selection: the engine’s own figure');
    assert.equal(all.dailyLimit?.days, plan.preflight!.dailyLimit!.days);
    assert.deepEqual(all.uncheckedPaths, []);

    const withoutArchive2020 = new Set([...planned].filter((p) => p !== 'Archive/2020'));
    const narrowed = preflightOf(plan, withoutArchive2020)!;
    assert.deepEqual(narrowed.refused.map((m) => m.subject), ['Holiday photos', 'Scans of the contract', 'CAD export']);
    // Archive/2020 is 260 MB, of which 66 MB would not have been sent anyway.
    assert.equal(narrowed.neededBytes, all.neededBytes - (260 - 66) * MB);
    assert.equal(narrowed.renamedFolders.length, 1);

    const withTrash = new Set([...planned, 'Trash']);
    assert.deepEqual(preflightOf(plan, withTrash)!.uncheckedPaths, ['Trash'], 'Trash was not looked at: not in the planned selection');
    assert.equal(preflightOf({ ...plan, preflight: undefined }, planned), null);
  });

  test('the list of messages too large: three, "and 2 more", narrowed as folders are unticked; the quota and the days by the Start button', async () => {
    const { listed, toggle } = await openFolders();
    const panel = screen.getByTestId('preflight');
    assert.match(panel.textContent!, /5 messages are too large for the new account \(it takes at most 25 MB for one message\)/);
    assert.deepEqual(listed(), REFUSED_SUBJECTS.slice(0, 3));
    const first = screen.getByTestId('preflight-refused').querySelector('tbody tr')!;
    assert.deepEqual([...first.querySelectorAll('td')].map((td) => td.textContent), ['INBOX', '2 Jul 2023', 'Holiday photos', '31 MB']);
    const more = screen.getByRole('button', { name: 'and 2 more' });
    assert.equal(more.getAttribute('aria-expanded'), 'false');
    await click(more);
    assert.deepEqual(listed(), REFUSED_SUBJECTS);
    assert.equal(screen.getByRole('button', { name: 'Show fewer' }).getAttribute('aria-expanded'), 'true');

    assert.match(within(panel).getByTestId('preflight-renamed').textContent!, /1 folder lands under another name.*Notes: 2024.*Notes_ 2024/);
    assert.match(within(panel).getByTestId('preflight-days').textContent!, /At Gmail’s limit of 500 MB a day, this move needs about 5 days/);
    const bar = screen.getByTestId('action-bar');
    assert.match(bar.textContent!, /It fits: the new account has 14 GB free, the move adds about 2\.0 GB\./);
    assert.match(within(bar).getByTestId('refused-fate').textContent!, /5 messages too large for the new account will be skipped and listed in the report/);

    // Unticking a folder takes its messages off the list at once (no new plan).
    await toggle('Archive/2020');
    assert.deepEqual(listed(), ['Holiday photos', 'Scans of the contract', 'CAD export']);
    assert.match(within(screen.getByTestId('action-bar')).getByTestId('refused-fate').textContent!, /^3 messages/);
    await toggle('INBOX');
    await toggle('Projects');
    assert.equal(screen.queryByTestId('preflight-refused'), null, 'nothing too large in what is ticked');
    assert.equal(screen.queryByTestId('refused-fate'), null);
  });

  test('a folder ticked after the plan: the figures say so, and "Check again" plans for what is ticked now (and later plans keep to it)', async () => {
    const { toggle, fake, store } = await openFolders();
    assert.equal(screen.queryByTestId('preflight-unchecked'), null);
    await toggle('Trash');
    assert.match(screen.getByTestId('preflight-unchecked').textContent!, /These figures are for the folders as first planned: Trash was ticked since\./);
    const before = fake.callsTo('plan:load').length;
    await click(screen.getByRole('button', { name: 'Check again' }));
    const asked = fake.callsTo('plan:load').slice(before) as InvokeRequest<'plan:load'>[];
    assert.equal(asked.length, 1);
    assert.ok(asked[0]!.options.include?.includes('Trash') && asked[0]!.options.include.includes('INBOX'), JSON.stringify(asked[0]));
    assert.equal(screen.queryByTestId('preflight-unchecked'), null, 'now every ticked folder was looked at');
    assert.equal(store.getState().selected.has('Trash'), true, 'the ticks stay as they were');
    await act(async () => {
      await store.getState().renameFolder('Receipts', 'Old receipts');
    });
    const last = fake.callsTo('plan:load').at(-1) as InvokeRequest<'plan:load'>;
    assert.deepEqual(last.options.include, asked[0]!.options.include, 'a rename plans again for the same folders');
    assert.deepEqual(last.options.renames, { Receipts: 'Old receipts' });
  });

  test('"Skip them" (the default) sends no archive; "Save them to a local archive instead" needs a folder from the dialog, then sends it with its format', async () => {
    const { start, fake } = await openFolders();
    const skip = screen.getByRole('radio', { name: /Skip them/ }) as HTMLInputElement;
    assert.equal(skip.checked, true, 'skipping is the default');
    assert.equal((await start()).refusedTo, undefined);
    assert.equal(fake.callsTo('archive:chooseFolder').length, 0);
  });

  test('saving them to an archive: Start waits for the folder, the format is the person’s, the request carries it (and Run again too)', async () => {
    const { start, fake, store } = await openFolders();
    await click(screen.getByRole('radio', { name: /Save them to a local archive instead/ }));
    const startButton = screen.getByRole('button', { name: 'Start moving' }) as HTMLButtonElement;
    assert.equal(startButton.disabled, true, 'no folder chosen for them yet');
    assert.match(screen.getByTestId('refused-fate').textContent!, /choose a folder for them above, or skip them/);
    await click(within(screen.getByTestId('preflight')).getByRole('button', { name: 'Choose a folder…' }));
    assert.equal(fake.callsTo('archive:chooseFolder').length, 1, 'the folder comes from main’s dialog');
    assert.equal(screen.getByTestId('refused-archive-path').textContent, ARCHIVE_DIR);
    const formats = within(screen.getByTestId('preflight')).getAllByRole('radio').filter((r) => ['mbox', 'maildir', 'eml'].includes((r as HTMLInputElement).value)) as HTMLInputElement[];
    assert.deepEqual(formats.map((r) => r.value), ['mbox', 'maildir', 'eml']);
    await click(formats[2]!);
    assert.match(screen.getByTestId('refused-fate').textContent!, /will be saved to the \.eml files archive chosen for them/);
    const request = await start();
    assert.deepEqual(request.refusedTo, { format: 'eml', path: ARCHIVE_DIR });
    assert.equal(request.archive, undefined, 'the archive for messages too large is not an archive for folders');

    // Run again (from the report) sends the same choice.
    act(() => fake.emit({ type: 'job-status', jobId: 'job-1', status: 'done' }));
    await act(async () => {
      await store.getState().runAgain();
    });
    assert.deepEqual((fake.callsTo('jobs:start').at(-1) as StartJobRequest).refusedTo, { format: 'eml', path: ARCHIVE_DIR });
  });
});

describe('switches under More options', () => {
  test('newest mail first (30 days unless changed) and read state that follows: off by default, each with its line, sent when on and kept for Run again', async () => {
    const { start, fake, store } = await openFolders();
    assert.equal(screen.queryByLabelText('Newest mail first'), null, 'an expert setting: under More options');
    await click(screen.getByRole('button', { name: 'More options' }));
    const newest = screen.getByLabelText('Newest mail first') as HTMLInputElement;
    const flags = screen.getByLabelText('Keep read state up to date on later runs') as HTMLInputElement;
    assert.equal(newest.checked, false);
    assert.equal(flags.checked, false);
    assert.match(document.getElementById(newest.getAttribute('aria-describedby')!)!.textContent!, /last 30 days moves before anything older/);
    assert.match(document.getElementById(flags.getAttribute('aria-describedby')!)!.textContent!, /read, answered or flagged.*never removes a mark/);
    const off = await start();
    assert.deepEqual(off.settings, { connectionsPerSide: 2, maxBytesPerSecond: 0 }, 'nothing extra while off');

    await act(async () => {
      store.getState().goTo('folders');
    });
    await click(screen.getByRole('button', { name: 'More options' }));
    await click(screen.getByLabelText('Newest mail first'));
    const days = screen.getByLabelText(/Recent means the last/) as HTMLSelectElement;
    assert.equal(days.value, '30');
    await act(async () => {
      fireEvent.change(days, { target: { value: '90' } });
    });
    await click(screen.getByLabelText('Keep read state up to date on later runs'));
    assert.match(screen.getByTestId('action-bar').textContent!, /newest mail first, read state kept up to date\./);
    const on = await start();
    assert.deepEqual(on.settings, { connectionsPerSide: 2, maxBytesPerSecond: 0, newestFirst: true, recentDays: 90, syncFlags: true });
    act(() => fake.emit({ type: 'job-status', jobId: 'job-1', status: 'done' }));
    await act(async () => {
      await store.getState().runAgain();
    });
    assert.deepEqual((fake.callsTo('jobs:start').at(-1) as StartJobRequest).settings, on.settings, 'Run again keeps them');
  });
});

describe('saving to this computer only (archive-only job)', () => {
  test('no new account: the old account and a folder from the dialog are enough; the plan and the job go to the archive alone', async () => {
    const app = renderApp({ 'plan:load': ({ archive }) => ({ ok: true, value: withArchive(preflightPlan(), archive) }) });
    const { store, fake } = app;
    await click(screen.getByLabelText('To this computer only'));
    assert.equal(document.querySelector('form[data-role="destination"]'), null, 'no new-account form');
    const next = screen.getByRole('button', { name: 'Choose folders' }) as HTMLButtonElement;
    assert.equal(next.disabled, true);
    assert.match(screen.getByTestId('action-bar').textContent!, /Next: test the old account \(“Test connection”\) and choose the folder to save to\./);
    await act(async () => {
      store.getState().updateAccount('source', { email: 'me@old.example', host: 'imap.old.example', user: 'me@old.example' });
      await store.getState().saveAndTest('source', 'pw');
    });
    await click(screen.getByRole('button', { name: 'Choose the archive folder…' }));
    assert.equal(screen.getByTestId('destination-archive-path').textContent?.trim(), ARCHIVE_DIR);
    await click(screen.getAllByLabelText(/Maildir/)[0]!);
    assert.equal(next.disabled, false);
    await click(next);
    assert.deepEqual(fake.callsTo('accounts:test'), [{ role: 'source' }], 'the new account is never tested');
    assert.deepEqual(fake.callsTo('plan:load').at(-1), { options: { renames: {} }, archive: { format: 'maildir', path: ARCHIVE_DIR }, archiveOnly: true });
    // No choice of places, no pre-flight (an archive has no quota or size limit), no switches for an account.
    assert.equal(screen.queryByTestId('archive-panel'), null);
    assert.equal(screen.queryByTestId('route-chooser'), null);
    assert.equal(screen.queryByTestId('preflight'), null);
    assert.equal(screen.queryAllByTestId('route-switch').length, 0);
    assert.ok(screen.getAllByTestId('archive-destination').length > 0, 'every folder shows its place in the archive');
    assert.match(screen.getByTestId('total-archive').textContent!, /To this computer \(Maildir\): .* in 14 folders/);
    await click(screen.getByRole('button', { name: 'More options' }));
    assert.equal(screen.queryByLabelText('Newest mail first'), null);
    assert.equal(screen.queryByLabelText('Keep read state up to date on later runs'), null);
    await click(screen.getByRole('button', { name: 'Start saving' }));
    const request = fake.callsTo('jobs:start').at(-1) as StartJobRequest;
    assert.deepEqual(request.archive, { format: 'maildir', path: ARCHIVE_DIR });
    assert.equal(request.archivePaths, undefined, 'every selected folder goes to the archive alone');
    assert.equal(request.refusedTo, undefined);
    assert.equal(request.selectedPaths.length, 14);
    assert.equal(store.getState().screen, 'copying');
    // The Move screen shows the planned folders at once, each going to the archive.
    assert.equal(document.querySelectorAll('.folder-progress[data-target="account"]').length, 0);
  });
});

describe('the report', () => {
  test('messages saved to the archive instead are their own category, with one sentence, and their own column', async () => {
    const report: JobReport = sampleReport('job-1', false);
    report.folders[0] = { ...report.folders[0]!, archived: 2 };
    const app = renderApp({ 'jobs:report': () => ({ ok: true, value: report }) });
    await act(async () => {
      await app.store.getState().loadPlan();
      await app.store.getState().startJob();
    });
    act(() => app.fake.emit({ type: 'job-status', jobId: 'job-1', status: 'done' }));
    await act(async () => {
      await app.store.getState().showReport();
    });
    const category = document.querySelector('[data-category="archived"]')!;
    assert.match(category.textContent!, /Saved to the archive instead/);
    assert.match(category.textContent!, /2 messages/);
    assert.match(category.textContent!, /Too large for the new account, so never sent there: kept in the local archive you chose instead/);
    assert.match(document.querySelector('.lead')!.textContent!, /2 messages too large for the new account were saved to your local archive instead/);
    assert.ok(screen.getByRole('columnheader', { name: 'Saved to archive' }));
    const inbox = document.querySelector('.report-table tbody tr[data-path="INBOX"]')!;
    assert.equal(inbox.querySelectorAll('td')[5]!.textContent, '2');
  });
});
