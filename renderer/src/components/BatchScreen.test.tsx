/** @jsxRuntime automatic */
/** @jsxImportSource react */
import '../../test/setup-dom.js';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { renderApp } from '../../test/render-app.js';
import { folderProgress, MB, sampleBatch } from '../../test/fake-bridge.js';
import type { MailboxProgress } from '../../../src/contract/batch.js';

afterEach(cleanup);

const progress = (id: string, row: number, patch: Partial<MailboxProgress>): MailboxProgress => ({ id, row, status: 'running', messagesDone: 0, messagesTotal: 0, bytesDone: 0, bytesTotal: 0, ...patch });

async function openedBatch(overrides: Parameters<typeof renderApp>[0] = {}) {
  const app = renderApp(overrides);
  act(() => app.store.getState().goTo('batch'));
  await act(async () => {
    await app.store.getState().openBatch();
  });
  const state = (): string | null => app.view.container.querySelector('[data-app-state]')!.getAttribute('data-app-state');
  const row = (id: string): HTMLElement => document.querySelector(`tr.mailbox-row[data-id="${id}"]`) as HTMLElement;
  return { ...app, state, row };
}

describe('Many mailboxes screen', () => {
  test('a CSV with problems lists each with row, line and column, and offers no Start', async () => {
    const { state, fake } = await openedBatch({
      'batch:open': () => ({
        ok: true,
        value: { ...sampleBatch(), mailboxes: [], progress: [], problems: [{ row: 3, line: 4, column: 'from', reason: '"pop3" is not supported.' }, { line: 1, column: 'password', reason: 'The column "password" would hold a password.' }] },
      }),
    });
    assert.equal(state(), 'batch-invalid');
    const items = screen.getAllByRole('listitem').map((li) => li.textContent);
    assert.deepEqual(items, ['Row 3 (line 4), column from: "pop3" is not supported.', 'Line 1, column password: The column "password" would hold a password.']);
    assert.equal(screen.queryByRole('button', { name: /Start/ }), null);
    assert.deepEqual(fake.callsTo('batch:open'), [{ allowPlaintext: false }]);
  });

  test('Start sends the chosen parallelism; mailbox events move the bars and statuses; the end shows reasons and counts', async () => {
    const { state, row, fake, store } = await openedBatch();
    assert.equal(state(), 'batch-ready');
    fireEvent.change(screen.getByLabelText('Mailboxes at once'), { target: { value: '4' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: /Start/ }));
    });
    assert.deepEqual(fake.callsTo('batch:start'), [{ parallel: 4 }]);
    act(() => fake.emitBatch({ type: 'batch-status', isRunning: true }));
    act(() => fake.emitBatch({ type: 'mailbox', progress: progress('alice', 1, { messagesDone: 10, messagesTotal: 40, bytesDone: 3 * MB, bytesTotal: 12 * MB }) }));
    assert.equal(state(), 'batch-running');
    assert.equal(within(row('alice')).getByRole('progressbar').getAttribute('aria-valuenow'), '25', 'by bytes');
    assert.match(row('alice').textContent!, /Moving.*10 of 40/);
    assert.match(row('bob').textContent!, /Waiting/);

    const summary = (id: string, r: number, status: 'verified' | 'failed', reason?: string) => ({ id, row: r, status, messages: status === 'verified' ? 40 : 0, bytes: status === 'verified' ? 12 * MB : 0, refused: 0, needsAttentionFolders: [], durationS: 3, ...(reason ? { reason } : {}) });
    const alice = summary('alice', 1, 'verified');
    const bob = summary('bob', 2, 'failed', 'Could not open the destination: The server refused the user name or password.');
    const carol = summary('carol', 3, 'verified');
    act(() => {
      fake.emitBatch({ type: 'mailbox', progress: progress('alice', 1, { status: 'verified', bytesDone: 12 * MB, bytesTotal: 12 * MB, summary: alice }) });
      fake.emitBatch({ type: 'mailbox', progress: progress('bob', 2, { status: 'failed', summary: bob }) });
      fake.emitBatch({ type: 'mailbox', progress: progress('carol', 3, { status: 'verified', summary: carol }) });
      fake.emitBatch({ type: 'batch-status', isRunning: false, summaries: [alice, bob, carol] });
    });
    assert.equal(state(), 'batch-finished');
    assert.equal(row('bob').getAttribute('data-status'), 'failed');
    assert.match(row('bob').textContent!, /refused the user name or password/);
    assert.equal(within(row('alice')).getByRole('progressbar').getAttribute('aria-valuenow'), '100');
    assert.match(document.querySelector('.batch-summary')!.textContent!, /3 of 3 mailboxes done: 2 verified, 1 failed, 0 need attention/);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Export HTML' }));
    });
    assert.deepEqual(fake.callsTo('batch:export'), [{ format: 'html' }]);
    assert.match(store.getState().notice?.text ?? '', /Report saved to .*mailferry-batch-report\.html/);
  });

  test("a row opens that mailbox's folder tree (levels above a folder included), and closes it again", async () => {
    const { row, fake } = await openedBatch({
      'batch:folders': ({ id }) => ({
        ok: true,
        value: {
          id,
          delimiter: '.',
          source: 'run',
          folders: [folderProgress('INBOX.Work.2024', { status: 'copying', bytesDone: 5 * MB }), folderProgress('INBOX', { status: 'verified', bytesDone: 10 * MB })],
        },
      }),
    });
    const toggle = within(row('carol')).getByRole('button', { name: /carol/ });
    await act(async () => {
      fireEvent.click(toggle);
    });
    assert.equal(toggle.getAttribute('aria-expanded'), 'true');
    assert.deepEqual(fake.callsTo('batch:folders'), [{ id: 'carol' }]);
    const lines = [...document.querySelectorAll('.mailbox-folder')].map((li) => [li.getAttribute('data-path'), li.getAttribute('data-status')]);
    assert.deepEqual(lines, [
      ['INBOX', 'verified'],
      ['INBOX.Work', null],
      ['INBOX.Work.2024', 'copying'],
    ]);
    assert.equal(within(document.querySelector('.mailbox-folder[data-path="INBOX.Work.2024"]') as HTMLElement).getByRole('progressbar').getAttribute('aria-valuenow'), '50');
    await act(async () => {
      fireEvent.click(toggle);
    });
    assert.equal(document.querySelector('.mailbox-folders'), null);
  });
});
