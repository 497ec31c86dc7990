import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { MailLocation } from '../contract/account.js';
import type { CopyPlan, FolderPlan } from '../contract/plan.js';
import { err, migrationError } from '../contract/result.js';
import type { JobEnds } from './job-ends.js';
import { jobIdOf, jobLocationOf, saveJobRecord } from './job-records.js';
import { prepareJob, prepareRerun } from './prepare-job.js';

const folder = (p: string, isSelected = true, isSelectable = true): FolderPlan => ({
  source: { path: p, segments: p.split('/'), delimiter: '/', isSelectable, messages: 2, sizeBytes: 100 },
  destinationPath: `New/${p}`,
  reasons: [],
  destinationExists: false,
  collidesWith: [],
  isSelected,
});
const planOf = (folders: FolderPlan[]): CopyPlan => ({
  source: { delimiter: '/', prefix: '', capabilities: [] },
  destination: { delimiter: '/', prefix: '', capabilities: [] },
  folders,
  selectedMessages: 0,
  selectedBytes: 0,
  hasCollisions: false,
});
const never = async () => err(migrationError('internal', 'not opened in this test'));
const source: MailLocation = { kind: 'imap', endpoint: { host: 'old.example', port: 993, security: 'tls', user: 'Me' } };
const account: MailLocation = { kind: 'imap', endpoint: { host: 'new.example', port: 993, security: 'tls', user: 'me', pinnedFingerprint: 'AB' } };
const archive: MailLocation = { kind: 'archive', archive: { format: 'mbox', path: '/tmp/keep' } };
const ends = (destinations: [string, MailLocation][]): JobEnds => ({
  source,
  openSource: never,
  destinations: destinations.map(([target, location]) => ({ target: target as 'account' | 'archive', location, open: never })),
});

describe('prepareJob', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'mailferry-prepare-'));
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  test('without routes a job takes what its plan selects (the command line), under the id of its two ends', async () => {
    const job = await prepareJob(stateDir, ends([['account', account]]), { account: planOf([folder('INBOX'), folder('Junk', false), folder('Box', true, true)]) }, { options: {}, routes: {} });
    assert.ok(job.ok);
    const { record, parts } = job.value;
    assert.equal(record.jobId, jobIdOf(jobLocationOf(source), jobLocationOf(account)));
    assert.deepEqual(record.selectedPaths, ['INBOX', 'Box']);
    assert.deepEqual(parts.map((p) => [p.target, p.partId, p.folders.map((f) => f.destinationPath)]), [['account', record.jobId, ['New/INBOX', 'New/Box']]]);
    assert.equal(record.bytesTotal, 200);
    assert.deepEqual(record.destination, { host: 'new.example', port: 993, security: 'tls', user: 'me', pinnedFingerprint: 'AB' });
  });

  test('to the account and an archive: named after the account, each part with its own journals; a record keeps its first start', async () => {
    const both = ends([['account', account], ['archive', archive]]);
    const plans = { account: planOf([folder('INBOX'), folder('Old')]), archive: planOf([folder('INBOX'), folder('Old'), folder('Container', false, false)]) };
    const first = await prepareJob(stateDir, both, plans, { options: {}, routes: { account: ['INBOX'], archive: ['Old', 'Container'] } }, () => 1000);
    assert.ok(first.ok);
    const { record } = first.value;
    assert.equal(record.jobId, jobIdOf(jobLocationOf(source), jobLocationOf(account)));
    assert.deepEqual(record.archiveLocation, { format: 'mbox', path: '/tmp/keep' });
    assert.deepEqual(record.parts, [
      { target: 'account', partId: record.jobId, selectedPaths: ['INBOX'] },
      { target: 'archive', partId: jobIdOf(jobLocationOf(source), { archive: 'mbox:/tmp/keep' }), selectedPaths: ['Old'] },
    ]);
    await saveJobRecord(stateDir, record);
    const again = await prepareJob(stateDir, both, plans, { options: {}, routes: { account: ['INBOX'] } }, () => 5000);
    assert.ok(again.ok);
    assert.equal(again.value.record.createdAt, 1000, 'the same move keeps the time it was first started');

    const retry = prepareRerun(record, both, plans, { account: [], archive: ['Old'] });
    assert.deepEqual(retry.parts.map((p) => [p.target, p.folders.map((f) => f.sourcePath)]), [['account', []], ['archive', ['Old']]]);
    const whole = prepareRerun(record, both, plans);
    assert.deepEqual(whole.parts.map((p) => [p.target, p.partId, p.folders.map((f) => f.sourcePath)]), [['account', record.jobId, ['INBOX']], ['archive', record.parts?.[1]?.partId, ['Old']]]);
  });
});
