import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupFolders, retryAdvice, shownStatus } from './move-groups.js';
import { fingerprintGroups } from './fingerprint.js';
import { plannedProgress } from './planned-progress.js';
import { folderProgress, MB, samplePlan, withArchive } from '../../test/fake-bridge.js';
import type { FolderStatus } from '../../../src/contract/job.js';

test('rows by attention: problems, then running, then waiting, then finished; extra copies need a look even when verified', () => {
  const rows = (['verified', 'waiting', 'copying', 'needs-attention', 'settling', 'incomplete', 'paused', 'retrying', 'cancelled', 'scanning', 'verifying'] as FolderStatus[]).map((status, i) =>
    folderProgress(`F${i}`, { status }),
  );
  rows.push(folderProgress('Surplus', { status: 'verified', lastError: { kind: 'surplus', message: '2 extra copies', retryable: false } }));
  const groups = groupFolders(rows);
  const paths = (g: keyof typeof groups): string[] => groups[g].map((r) => r.sourcePath);
  assert.deepEqual(paths('attention'), ['F3', 'F5', 'Surplus']);
  assert.deepEqual(paths('running'), ['F2', 'F4', 'F7', 'F9', 'F10']);
  assert.deepEqual(paths('waiting'), ['F1', 'F6']);
  assert.deepEqual(paths('finished'), ['F0', 'F8']);
});

test('while the job is paused, whatever was under way shows as paused; problems and finished rows keep their state', () => {
  for (const status of ['copying', 'retrying', 'settling', 'scanning', 'verifying', 'waiting'] as FolderStatus[]) assert.equal(shownStatus(status, 'paused'), 'paused', status);
  for (const status of ['verified', 'needs-attention', 'incomplete', 'cancelled'] as FolderStatus[]) assert.equal(shownStatus(status, 'paused'), status, status);
  assert.equal(shownStatus('retrying', 'copying'), 'retrying');
});

test('a retry is offered where it can help, and where it cannot, the reason is said', () => {
  assert.equal(retryAdvice({ kind: 'timeout', message: 'x', retryable: true }).canRetry, true);
  const tooLarge = retryAdvice({ kind: 'rejected', message: 'too large', retryable: false, serverCode: 'TOOBIG' });
  assert.equal(tooLarge.canRetry, false);
  assert.match(!tooLarge.canRetry ? tooLarge.reason : '', /cannot help/);
  assert.equal(retryAdvice({ kind: 'rejected', message: 'not now', retryable: true, serverCode: 'LIMIT' }).canRetry, true, 'an ambiguous refusal may pass later');
  assert.equal(retryAdvice({ kind: 'surplus', message: 'extra', retryable: false }).canRetry, false);
  assert.equal(retryAdvice({ kind: 'auth', message: 'refused', retryable: false, needsSignIn: 'source' }).canRetry, false);
  const full = retryAdvice({ kind: 'quota', message: 'full', retryable: false });
  assert.ok(full.canRetry && /Make room/.test(full.hint ?? ''));
});

test('fingerprints in groups of four bytes that read back as the whole', () => {
  const fp = '3A:9F:1C:44:E0:7B:12:8D:5E:61:AF:09:C2:3D:77:B4:10:2E:9A:CC:51:F8:06:DE:43:7A:95:B1:0C:62:E8:1F';
  const groups = fingerprintGroups(fp);
  assert.equal(groups.length, 8);
  assert.equal(groups[0], '3A:9F:1C:44:');
  assert.equal(groups.at(-1), '0C:62:E8:1F');
  assert.equal(groups.join(''), fp);
});

test('the Move screen starts from the plan: its totals and a waiting row per folder and destination', () => {
  const plan = withArchive(samplePlan(), { format: 'mbox', path: '/archive' });
  const progress = plannedProgress(plan, { options: {}, selectedPaths: ['INBOX', 'Sent'], archivePaths: ['Sent'], archive: { format: 'mbox', path: '/archive' }, settings: {} }, 1000);
  assert.deepEqual(
    progress.folders.map((f) => `${f.target}:${f.sourcePath}→${f.destinationPath}:${f.status}`),
    ['account:INBOX→INBOX:waiting', 'account:Sent→Sent Items:waiting', 'archive:Sent→Sent:waiting'],
  );
  assert.equal(progress.bytesTotal, (912 + 388 + 388) * MB);
  assert.equal(progress.messagesTotal, 4812 + 2210 + 2210);
  assert.equal(progress.bytesDone, 0);
  const plain = plannedProgress(samplePlan(), { options: {}, selectedPaths: ['INBOX', 'Archive'], settings: {} }, 1000);
  assert.deepEqual(plain.folders.map((f) => f.sourcePath), ['INBOX'], 'a container holds nothing to move');
  assert.equal(plain.folders[0]!.target, undefined);
});
