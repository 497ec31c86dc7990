import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFolderTree, checkStateOf, countSelected, filterMatches, findCollisions, selectedTotals, toggleNode, visibleRows } from './folder-tree.js';
import { folder, MB } from '../../test/fake-bridge.js';

const folders = [
  folder('Archive/2020', 10, 2 * MB),
  folder('INBOX', 5, MB, { specialUse: '\\Inbox' }),
  folder('Archive/2019', 20, 3 * MB),
  folder('Archive/2019/Q1', 4, MB),
  folder('Sent', 7, MB, { specialUse: '\\Sent' }),
  folder('Drafts', 1, 1000, { specialUse: '\\Drafts' }),
  folder('Zeta', 1, 1),
];

describe('folder tree', () => {
  test('builds the hierarchy with a container for the unlisted parent, special folders first, subtree totals', () => {
    const tree = buildFolderTree(folders);
    assert.deepEqual(tree.roots.map((id) => tree.nodes.get(id)!.name), ['INBOX', 'Drafts', 'Sent', 'Archive', 'Zeta']);
    const archive = tree.nodes.get(tree.roots[3]!)!;
    assert.equal(archive.path, undefined, 'Archive was not listed: a container');
    assert.equal(archive.isSelectable, false);
    assert.equal(archive.subtreeMessages, 34);
    assert.equal(archive.subtreeBytes, 6 * MB);
    assert.equal(archive.selectableCount, 3);
    assert.deepEqual(archive.childIds, ['Archive/2019', 'Archive/2020']);
    assert.equal(tree.nodes.get('Archive/2019')!.subtreeMessages, 24);
  });

  test('a parent listed after its child replaces the container and keeps the child', () => {
    const tree = buildFolderTree([folder('A/B', 1, 1), folder('A', 2, 2)]);
    assert.deepEqual(tree.roots, ['A']);
    assert.deepEqual(tree.nodes.get('A')!.childIds, ['A/B']);
    assert.equal(tree.nodes.get('A/B')!.parentId, 'A');
    assert.equal(tree.nodes.get('A')!.subtreeMessages, 3);
  });

  test('tri-state: ticking a parent ticks its subtree, one child off makes it mixed, ticking mixed fills it', () => {
    const tree = buildFolderTree(folders);
    const archiveId = tree.roots[3]!;
    let selected: ReadonlySet<string> = new Set();
    const state = (id: string): string => checkStateOf(tree.nodes.get(id)!, countSelected(tree, selected).get(id) ?? 0);
    assert.equal(state(archiveId), 'unchecked');
    selected = toggleNode(tree, selected, archiveId);
    assert.deepEqual([...selected].sort(), ['Archive/2019', 'Archive/2019/Q1', 'Archive/2020']);
    assert.equal(state(archiveId), 'checked');
    selected = toggleNode(tree, selected, 'Archive/2019/Q1');
    assert.equal(state(archiveId), 'mixed');
    assert.equal(state('Archive/2019'), 'mixed');
    assert.equal(state('Archive/2020'), 'checked');
    selected = toggleNode(tree, selected, archiveId);
    assert.equal(state(archiveId), 'checked');
    selected = toggleNode(tree, selected, archiveId);
    assert.equal(selected.size, 0);
  });

  test('visible rows follow expansion; a filter shows matches with their ancestors', () => {
    const tree = buildFolderTree(folders);
    const archiveId = tree.roots[3]!;
    assert.equal(visibleRows(tree, new Set(), null).length, 5);
    const open = visibleRows(tree, new Set([archiveId]), null);
    assert.deepEqual(open.map((r) => r.id).slice(3), [archiveId, 'Archive/2019', 'Archive/2020', 'Zeta']);
    assert.deepEqual(open.find((r) => r.id === 'Archive/2020'), { id: 'Archive/2020', posInSet: 2, setSize: 2 });
    const matches = filterMatches(tree, 'q1');
    assert.deepEqual(visibleRows(tree, new Set(), matches).map((r) => r.id), [archiveId, 'Archive/2019', 'Archive/2019/Q1']);
    assert.equal(filterMatches(tree, '  '), null);
  });

  test('collisions among selected folders, with renames and INBOX compared without case', () => {
    const plan = [folder('INBOX', 1, 1), folder('Receipts', 1, 1), folder('Old', 1, 1, { destinationPath: 'Archive' }), folder('Archive', 1, 1)];
    const all = new Set(plan.map((f) => f.source.path));
    const collisions = findCollisions(plan, all, { Receipts: 'inbox' });
    assert.deepEqual(Object.fromEntries(collisions), { INBOX: ['Receipts'], Receipts: ['INBOX'], Old: ['Archive'], Archive: ['Old'] });
    assert.equal(findCollisions(plan, new Set(['INBOX', 'Old']), { Receipts: 'inbox' }).size, 0, 'unticked folders do not collide');
    assert.deepEqual(selectedTotals(plan, new Set(['INBOX', 'Old'])), { folders: 2, messages: 2, bytes: 2 });
  });
});
