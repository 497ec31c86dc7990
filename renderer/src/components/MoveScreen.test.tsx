/** @jsxRuntime automatic */
/** @jsxImportSource react */
import '../../test/setup-dom.js';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { renderApp } from '../../test/render-app.js';
import { rowKey } from '../store/types.js';
import { folderProgress, jobProgress, MB } from '../../test/fake-bridge.js';
import type { JobEvent } from '../../../src/contract/job.js';

afterEach(cleanup);

async function startedJob() {
  const app = renderApp();
  await act(async () => {
    await app.store.getState().loadPlan();
    await app.store.getState().startJob();
  });
  const push = (event: JobEvent): void => {
    act(() => app.fake.emit(event));
  };
  const row = (path: string): HTMLElement => document.querySelector(`.folder-progress[data-path="${path}"]`) as HTMLElement;
  return { ...app, push, row };
}

describe('Move screen', () => {
  test('renders per-folder bars by bytes, counts and states from progress events', async () => {
    const { push, row, view } = await startedJob();
    assert.equal(view.container.querySelector('[data-app-state]')!.getAttribute('data-app-state'), 'copying');
    const folders = [
      folderProgress('INBOX', { status: 'verified', messagesTotal: 40, messagesDone: 40, bytesTotal: 4 * MB, bytesDone: 4 * MB }),
      folderProgress('Sent', { status: 'copying', messagesTotal: 100, messagesDone: 25, bytesTotal: 10 * MB, bytesDone: 5 * MB }),
      folderProgress('Drafts', { status: 'waiting', messagesTotal: 2, bytesTotal: 1000 }),
    ];
    push({ type: 'progress', jobId: 'job-1', progress: jobProgress(folders, { bytesPerSecond: 2 * MB, etaSeconds: 150 }) });
    // Finished folders fold into one line; it opens.
    assert.equal(document.querySelector('.folder-progress[data-path="INBOX"]'), null);
    act(() => {
      fireEvent.click(screen.getByTestId('finished-line'));
    });
    const sentBar = within(row('Sent')).getByRole('progressbar');
    assert.equal(sentBar.getAttribute('aria-valuenow'), '50', 'by bytes, not by messages (25%)');
    assert.match(row('Sent').textContent!, /25 of 100 messages · 5\.0 MB of 10 MB/);
    assert.match(row('INBOX').textContent!, /Done · verified/);
    assert.match(row('Drafts').textContent!, /Waiting/);
    assert.equal(screen.getByRole('progressbar', { name: 'Overall progress' }).getAttribute('aria-valuenow'), '64');
    assert.equal(screen.getByTestId('eta').textContent, 'about 3 min');
    assert.match(document.body.textContent!, /2\.0 MB\/s/);
  });

  test('newest first: a folder whose recent mail is in says that its older mail is next', async () => {
    const { push, row } = await startedJob();
    const recentIn = folderProgress('Sent', { status: 'waiting', isOlderMailNext: true, messagesTotal: 100, messagesDone: 12, bytesTotal: 10 * MB, bytesDone: MB });
    push({ type: 'progress', jobId: 'job-1', progress: jobProgress([recentIn, folderProgress('Drafts', { status: 'copying', messagesTotal: 2, bytesTotal: 1000 })]) });
    assert.match(row('Sent').textContent!, /Recent mail in · older mail next/);
    assert.match(row('Sent').textContent!, /12 of 100 messages/);
  });

  test('a repeated or older event changes nothing: numbers are absolute', async () => {
    const { push, row } = await startedJob();
    const f = folderProgress('Sent', { status: 'copying', bytesDone: 7 * MB });
    push({ type: 'progress', jobId: 'job-1', progress: jobProgress([f]) });
    push({ type: 'progress', jobId: 'job-1', progress: jobProgress([f]) });
    push({ type: 'folder-status', jobId: 'other-job', folder: { ...f, status: 'needs-attention' } });
    assert.equal(within(row('Sent')).getByRole('progressbar').getAttribute('aria-valuenow'), '70');
    assert.equal(row('Sent').getAttribute('data-status'), 'copying');
  });

  test('retrying counts down; needs attention shows the reason and a retry button that calls the engine', async () => {
    const { push, row, fake } = await startedJob();
    push({ type: 'folder-status', jobId: 'job-1', folder: folderProgress('Archive', { status: 'retrying', retryAt: Date.now() + 9_500, attempt: 3, lastError: { kind: 'network', message: 'dropped', retryable: true } }) });
    assert.match(within(row('Archive')).getByTestId('folder-state').textContent!, /^Retrying in (9|10) s$/);
    assert.match(row('Archive').textContent!, /attempt 3/);
    push({ type: 'folder-status', jobId: 'job-1', folder: folderProgress('Archive', { status: 'needs-attention', lastError: { kind: 'timeout', message: 'The old server stopped answering.', retryable: true } }) });
    assert.match(row('Archive').textContent!, /Needs attention/);
    assert.match(row('Archive').textContent!, /The old server stopped answering\./);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Retry Archive' }));
    });
    assert.deepEqual(fake.callsTo('jobs:retryFolder'), [{ jobId: 'job-1', sourcePath: 'Archive' }]);
  });

  test('pause, resume, and the end of the job: done state, report loaded', async () => {
    const { push, fake, view } = await startedJob();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    });
    assert.equal(fake.callsTo('jobs:pause').length, 1);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    });
    assert.deepEqual(fake.callsTo('jobs:resume'), [{ jobId: 'job-1' }]);
    await act(async () => {
      push({ type: 'job-status', jobId: 'job-1', status: 'done' });
    });
    assert.equal(view.container.querySelector('[data-app-state]')!.getAttribute('data-app-state'), 'done');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'See the report' }));
    });
    assert.equal(view.container.querySelector('[data-app-state]')!.getAttribute('data-app-state'), 'report');
    assert.ok(screen.getByRole('row', { name: /Scanned contract/ }));
  });

  test('events that arrive before jobs:start answers are kept and applied', async () => {
    let release!: () => void;
    const app = renderApp({
      'jobs:start': () =>
        new Promise((resolve) => {
          release = () => resolve({ ok: true, value: { jobId: 'job-9' } });
        }),
    });
    await act(async () => {
      await app.store.getState().loadPlan();
    });
    let started!: Promise<void>;
    act(() => {
      started = app.store.getState().startJob();
    });
    app.fake.emit({ type: 'folder-status', jobId: 'job-9', folder: folderProgress('INBOX', { status: 'copying' }) });
    await act(async () => {
      release();
      await started;
    });
    assert.equal(app.store.getState().folders[rowKey({ sourcePath: 'INBOX' })]?.status, 'copying');
  });
});

describe('Run again', () => {
  test('a job resumed from an earlier session runs again through its own record', async () => {
    const app = renderApp();
    await act(async () => {
      await app.store.getState().resumeJob('job-old');
    });
    await act(async () => {
      app.fake.emit({ type: 'job-status', jobId: 'job-old', status: 'done' });
    });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Run again for new mail' }));
    });
    assert.deepEqual(app.fake.callsTo('jobs:resume'), [{ jobId: 'job-old' }, { jobId: 'job-old' }]);
    assert.equal(app.fake.callsTo('jobs:start').length, 0);
    assert.equal(app.store.getState().screen, 'copying');
  });
});
