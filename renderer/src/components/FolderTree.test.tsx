/** @jsxRuntime automatic */
/** @jsxImportSource react */
import '../../test/setup-dom.js';
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { renderApp } from '../../test/render-app.js';
import { folder, MB, planOf } from '../../test/fake-bridge.js';

afterEach(cleanup);

async function openFolders(plan = planOf([folder('INBOX', 10, MB, { specialUse: '\\Inbox' }), folder('Work', 3, MB), folder('Work/Alpha', 2, MB), folder('Work/Beta', 1, MB), folder('Trash', 5, MB, { specialUse: '\\Trash', isSelected: false })])) {
  const app = renderApp({ 'plan:load': () => ({ ok: true, value: plan }) });
  await act(async () => {
    app.store.getState().goTo('folders');
    await app.store.getState().loadPlan();
  });
  const tree = screen.getByRole('tree');
  const item = (path: string): HTMLElement => tree.querySelector(`[role="treeitem"][data-path="${path}"]`) as HTMLElement;
  const activePath = (): string | null => document.getElementById(tree.getAttribute('aria-activedescendant')!)?.getAttribute('data-path') ?? null;
  const key = (k: string): void => {
    act(() => {
      fireEvent.keyDown(tree, { key: k });
    });
  };
  return { ...app, tree, item, activePath, key };
}

describe('folder tree component', () => {
  test('renders the ARIA tree with levels, set positions, expansion and check states from the plan defaults', async () => {
    const { item } = await openFolders();
    assert.equal(item('INBOX').getAttribute('aria-level'), '1');
    assert.equal(item('Work').getAttribute('aria-expanded'), 'true');
    assert.equal(item('Work/Beta').getAttribute('aria-level'), '2');
    assert.equal(item('Work/Beta').getAttribute('aria-posinset'), '2');
    assert.equal(item('Work/Beta').getAttribute('aria-setsize'), '2');
    assert.equal(item('INBOX').getAttribute('aria-checked'), 'true');
    assert.equal(item('Trash').getAttribute('aria-checked'), 'false', 'Trash is left out by default');
  });

  test('keyboard alone: arrows move and fold, Space ticks with tri-state parents', async () => {
    const { key, activePath, item, store } = await openFolders();
    assert.equal(activePath(), 'INBOX');
    key('ArrowDown');
    assert.equal(activePath(), 'Trash', 'special-use folders come first');
    key('ArrowDown');
    assert.equal(activePath(), 'Work');
    key('ArrowRight'); // open already: moves to the first child
    assert.equal(activePath(), 'Work/Alpha');
    key(' ');
    assert.equal(item('Work/Alpha').getAttribute('aria-checked'), 'false');
    assert.equal(item('Work').getAttribute('aria-checked'), 'mixed');
    key('ArrowLeft'); // a leaf: to its parent
    assert.equal(activePath(), 'Work');
    key(' '); // mixed → all ticked
    assert.equal(item('Work').getAttribute('aria-checked'), 'true');
    assert.ok(store.getState().selected.has('Work/Alpha'));
    key(' '); // all → none
    assert.equal(item('Work').getAttribute('aria-checked'), 'false');
    assert.equal(item('Work/Beta').getAttribute('aria-checked'), 'false');
    key('ArrowLeft'); // open parent: folds it
    assert.equal(item('Work').getAttribute('aria-expanded'), 'false');
    assert.equal(item('Work/Alpha'), null);
    key('ArrowRight');
    assert.equal(item('Work').getAttribute('aria-expanded'), 'true');
    key('End');
    assert.equal(activePath(), 'Work/Beta');
    key('Home');
    assert.equal(activePath(), 'INBOX');
  });

  test('the filter box narrows the tree to matches and their parents; select matches ticks only those', async () => {
    const { tree, item, store } = await openFolders();
    act(() => {
      fireEvent.change(screen.getByLabelText('Filter folders'), { target: { value: 'beta' } });
    });
    assert.deepEqual([...tree.querySelectorAll('[role="treeitem"]')].map((e) => e.getAttribute('data-path')), ['Work', 'Work/Beta']);
    act(() => {
      fireEvent.click(screen.getByRole('button', { name: 'Clear matches' }));
    });
    assert.equal(store.getState().selected.has('Work/Beta'), false);
    assert.equal(store.getState().selected.has('Work/Alpha'), true);
    assert.equal(item('Work').getAttribute('aria-checked'), 'mixed');
  });

  test('Enter renames a folder; a clash with another selected folder is flagged and Start is refused', async () => {
    const { key, store, fake } = await openFolders();
    key('ArrowDown');
    key('ArrowDown');
    key('ArrowDown'); // Work/Alpha
    key('Enter');
    const input = screen.getByLabelText('New name for Work/Alpha') as HTMLInputElement;
    await act(async () => {
      fireEvent.change(input, { target: { value: 'INBOX' } });
      fireEvent.keyDown(input, { key: 'Enter' });
    });
    assert.deepEqual(store.getState().renames, { 'Work/Alpha': 'INBOX' });
    assert.equal(fake.callsTo('plan:load').length, 2, 'the plan is reloaded with the rename');
    assert.ok(document.querySelector('[data-path="Work/Alpha"].collides'));
    assert.ok(document.querySelector('[data-path="INBOX"].collides'));
    assert.match(screen.getAllByRole('alert').map((a) => a.textContent).join(' '), /would land in the same place/);
    assert.equal((screen.getByRole('button', { name: 'Start moving' }) as HTMLButtonElement).disabled, true);
  });

  test('thousands of folders: only a window of rows is in the DOM', async () => {
    const many = planOf(Array.from({ length: 3000 }, (_, i) => folder(`Box ${String(i).padStart(4, '0')}`, 1, 1)));
    const { tree, key, activePath } = await openFolders(many);
    assert.equal(tree.getAttribute('data-row-count'), '3000');
    assert.ok(tree.querySelectorAll('[role="treeitem"]').length < 60);
    key('End');
    assert.equal(activePath(), 'Box 2999');
  });

  test('the quota warning appears when the selection will not fit', async () => {
    await openFolders(planOf([folder('INBOX', 10, 900 * MB)], { usedBytes: 500 * MB, limitBytes: 1024 * MB }));
    assert.match(screen.getByRole('alert').textContent ?? '', /more than the new account has free/);
  });
});
