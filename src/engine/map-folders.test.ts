import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SourceFolder } from '../contract/plan.js';
import { mapFolders, sanitizeSegment } from './map-folders.js';
import type { NamespaceInfo } from './store.js';

const dovecot: NamespaceInfo = { delimiter: '/', prefix: '', capabilities: [] };
const courier: NamespaceInfo = { delimiter: '.', prefix: 'INBOX.', capabilities: [] };

const folder = (path: string, ns: NamespaceInfo, extra: Partial<SourceFolder> = {}): SourceFolder => {
  const below = ns.prefix && path.startsWith(ns.prefix) ? path.slice(ns.prefix.length) : path;
  return { path, segments: path === 'INBOX' ? ['INBOX'] : below.split(ns.delimiter), delimiter: ns.delimiter, isSelectable: true, messages: 1, sizeBytes: 100, ...extra };
};

test('a "." server\'s INBOX.Archive.2019 lands as Archive/2019 on a "/" server, and back', () => {
  const [there] = mapFolders({ sourceFolders: [folder('INBOX.Archive.2019', courier)], source: courier, destination: dovecot, destinationFolders: [] });
  assert.equal(there?.destinationPath, 'Archive/2019');
  assert.deepEqual(there?.reasons, [{ kind: 'hierarchy', from: 'INBOX.Archive.2019', to: 'Archive/2019' }]);
  const [back] = mapFolders({ sourceFolders: [folder('Archive/2019', dovecot)], source: dovecot, destination: courier, destinationFolders: [] });
  assert.equal(back?.destinationPath, 'INBOX.Archive.2019');
});

test('special-use folders go to the destination\'s own, and their children follow', () => {
  const plans = mapFolders({
    sourceFolders: [folder('Sent', dovecot, { specialUse: '\\Sent' }), folder('Sent/2019', dovecot), folder('Trash', dovecot, { specialUse: '\\Trash' })],
    source: dovecot,
    destination: courier,
    destinationFolders: [{ path: 'INBOX.Sent Items', specialUse: '\\Sent' }],
  });
  assert.deepEqual(
    plans.map((p) => p.destinationPath),
    ['INBOX.Sent Items', 'INBOX.Sent Items.2019', 'INBOX.Trash'],
  );
  assert.deepEqual(plans[0]?.reasons[0], { kind: 'special-use', use: '\\Sent', existing: true });
  assert.deepEqual(plans[2]?.reasons[0], { kind: 'special-use', use: '\\Trash', existing: false });
});

test('INBOX stays INBOX whatever its case, and INBOX children on a prefixed server become top level', () => {
  const plans = mapFolders({ sourceFolders: [folder('inbox', dovecot), folder('INBOX/Sub', dovecot)], source: dovecot, destination: courier, destinationFolders: [] });
  assert.equal(plans[0]?.destinationPath, 'INBOX');
  assert.equal(plans[1]?.destinationPath, 'INBOX.Sub');
});

test('the destination\'s separator inside a name is replaced, with the reason', () => {
  const [plan] = mapFolders({ sourceFolders: [folder('Version 1.2/Notes', dovecot)], source: dovecot, destination: courier, destinationFolders: [] });
  assert.equal(plan?.destinationPath, 'INBOX.Version 1_2.Notes');
  assert.equal(plan?.reasons[0]?.kind, 'sanitized');
  assert.deepEqual(sanitizeSegment('  a*b%c  ', '/'), { name: 'a_b_c', detail: '"  a*b%c  " → "a_b_c": wildcard or control characters are not allowed in folder names; leading or trailing spaces are dropped by many servers' });
  assert.deepEqual(sanitizeSegment('plain', '/'), { name: 'plain' });
});

test('two selected folders landing on one name collide; an unselected one does not', () => {
  const sources = [folder('a.b', dovecot), folder('a_b', dovecot), folder('c', dovecot)];
  const plans = mapFolders({ sourceFolders: sources, source: dovecot, destination: courier, destinationFolders: [] });
  assert.deepEqual(plans[0]?.collidesWith, ['a_b']);
  assert.deepEqual(plans[1]?.collidesWith, ['a.b']);
  assert.deepEqual(plans[2]?.collidesWith, []);
  const excluded = mapFolders({ sourceFolders: sources, source: dovecot, destination: courier, destinationFolders: [], options: { exclude: ['a_b'] } });
  assert.deepEqual(excluded[0]?.collidesWith, []);
});

test('renames carry children; include and exclude work on subtrees', () => {
  const sources = [folder('Old', dovecot), folder('Old/Kids', dovecot), folder('Other', dovecot)];
  const plans = mapFolders({ sourceFolders: sources, source: dovecot, destination: dovecot, destinationFolders: [], options: { renames: { Old: 'Archive/Old' }, include: ['Old'] } });
  assert.deepEqual(
    plans.map((p) => [p.destinationPath, p.isSelected]),
    [
      ['Archive/Old', true],
      ['Archive/Old/Kids', true],
      ['Other', false],
    ],
  );
  assert.deepEqual(plans[0]?.reasons[0], { kind: 'renamed-by-user' });
});

test('Gmail-style virtual folders are not selected by default, with the reason; containers never', () => {
  const plans = mapFolders({
    sourceFolders: [folder('[Gmail]', dovecot, { isSelectable: false }), folder('[Gmail]/All Mail', dovecot, { specialUse: '\\All' }), folder('[Gmail]/Starred', dovecot, { specialUse: '\\Flagged' })],
    source: dovecot,
    destination: dovecot,
    destinationFolders: [],
  });
  assert.deepEqual(plans.map((p) => p.isSelected), [false, false, false]);
  assert.match(plans[1]?.defaultUnselectedReason ?? '', /every message/);
  const chosen = mapFolders({ sourceFolders: [folder('[Gmail]/All Mail', dovecot, { specialUse: '\\All' })], source: dovecot, destination: dovecot, destinationFolders: [], options: { include: ['[Gmail]/All Mail'] } });
  assert.equal(chosen[0]?.isSelected, true, 'a person can still choose it explicitly');
});
