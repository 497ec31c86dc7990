/**
 * Newest mail first (`--newest-first`, `--recent-days N`): in every folder the mail of the last N
 * days (INTERNALDATE) lands before any older message of that folder (destination UID order), and
 * every folder's recent mail is sent before any folder's older mail (the journals' send lines).
 * Exactness as always: the copy is exact, also when the run is dropped mid-way and resumed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { generateCorpus, type Corpus } from '../support/corpus.js';
import type { AccountSnapshot } from '../support/mail-snapshot.js';
import { journalKey } from '../../src/engine/folder-journal.js';
import type { JobReport } from '../../src/contract/job.js';
import { assertDone, assertWorldIntact, runCopy, startWorld, type World } from './harness.js';
import { cliArgs, runCli } from './cli-child.js';

const DAY_MS = 24 * 60 * 60_000;
const RECENT_DAYS = 30;

/** A corpus whose every folder has some mail of the last weeks, in no particular order of UIDs. */
const corpusWithRecentMail = (seed: number): Corpus => {
  const corpus = generateCorpus({ seed, messagesPerFolder: 6, specials: false });
  const now = Date.now();
  for (const folder of corpus.folders) {
    folder.messages.forEach((m, i) => {
      // Every third message is recent (1..29 days old): before, between and after older ones.
      if (i % 3 === 1) m.internalDate = new Date(Math.floor((now - ((i % 28) + 1) * DAY_MS) / 1000) * 1000);
    });
  }
  return corpus;
};

const isRecent = (iso: string): boolean => Date.parse(iso) >= Date.now() - RECENT_DAYS * DAY_MS + DAY_MS;

/** In every folder, the messages this job copied: recent ones first in UID order. */
const assertRecentFirstInEachFolder = (world: World, after: AccountSnapshot): void => {
  let checked = 0;
  for (const folder of after.folders) {
    const before = new Set(world.before.destination.folders.find((f) => f.path === folder.path)?.messages.map((m) => m.sha256) ?? []);
    const copied = folder.messages.filter((m) => !before.has(m.sha256));
    const firstOlder = copied.findIndex((m) => !isRecent(m.internalDate));
    const recentAfterOlder = firstOlder < 0 ? [] : copied.slice(firstOlder).filter((m) => isRecent(m.internalDate));
    assert.deepEqual(recentAfterOlder.map((m) => m.subject), [], `${folder.path}: no recent message after an older one`);
    if (firstOlder > 0) checked++;
  }
  assert.ok(checked >= 3, `folders with both recent and older mail checked: ${checked}`);
};

/** The first send line of every batch, over all folders: when, and whether it carried recent mail. */
const sendsOf = (world: World, report: JobReport): { at: number; hasRecent: boolean; folder: string }[] => {
  const sends: { at: number; hasRecent: boolean; folder: string }[] = [];
  for (const f of report.folders) {
    const dates = new Map(world.before.source.folders.find((s) => s.path === f.sourcePath)?.messages.map((m) => [m.uid, m.internalDate]) ?? []);
    let text = '';
    try {
      text = readFileSync(path.join(world.journalDir, `${journalKey(f.sourcePath, f.destinationPath)}.jsonl`), 'utf8');
    } catch {
      continue; // nothing sent for this folder
    }
    const seen = new Set<number>();
    for (const line of text.split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as { t: string; id?: number; at?: number; src?: number[] };
      if (entry.t !== 'send' || entry.id === undefined || seen.has(entry.id)) continue;
      seen.add(entry.id);
      sends.push({ at: entry.at ?? 0, hasRecent: (entry.src ?? []).some((uid) => isRecent(dates.get(uid) ?? '1970-01-01T00:00:00Z')), folder: f.sourcePath });
    }
  }
  return sends;
};

describe('newest mail first', { concurrency: false }, () => {
  test('every folder’s recent mail lands first, and all of it before any older mail; exact', async () => {
    const world = await startWorld({ corpus: corpusWithRecentMail(151) });
    try {
      const run = await runCopy(world, { seed: 151, settings: { newestFirst: true, recentDays: RECENT_DAYS, connectionsPerSide: 2 } });
      assertDone(run.report);
      const { destination } = await assertWorldIntact(world);
      assertRecentFirstInEachFolder(world, destination);
      const sends = sendsOf(world, run.report);
      const lastRecent = Math.max(...sends.filter((s) => s.hasRecent).map((s) => s.at));
      const firstOlder = Math.min(...sends.filter((s) => !s.hasRecent).map((s) => s.at));
      assert.ok(sends.filter((s) => s.hasRecent).length >= 3 && sends.some((s) => !s.hasRecent), `both kinds of batch sent: ${JSON.stringify(sends)}`);
      assert.ok(lastRecent <= firstOlder, `every recent batch before every older one: ${JSON.stringify(sends.sort((a, b) => a.at - b.at))}`);
      // Between the two parts a folder waits for the others' recent mail, and says so.
      const waiting = run.events.filter((e) => e.type === 'folder-status' && e.folder.status === 'waiting' && e.folder.isOlderMailNext === true);
      assert.ok(waiting.length >= 1, 'a folder showed it waits for its older mail');
    } finally {
      await world.stop();
    }
  });

  test('dropped while copying recent mail, then resumed: exact, nothing twice, still newest first', async () => {
    const world = await startWorld({ corpus: corpusWithRecentMail(152) });
    try {
      // Three APPENDs' connections go down a seeded number of bytes into the upload.
      const [drops] = world.destinationProxy.setFaults([{ kind: 'drop', direction: 'client-to-server', onCommand: /^\S+ APPEND /i, randomBetween: [0, 3_000], seed: 152, times: 3 }]);
      const run = await runCopy(world, { seed: 152, settings: { newestFirst: true, recentDays: RECENT_DAYS } });
      assert.ok((drops?.firedCount ?? 0) >= 1, 'a connection was dropped mid-APPEND');
      assertDone(run.report);
      const { destination } = await assertWorldIntact(world);
      assertRecentFirstInEachFolder(world, destination);
    } finally {
      await world.stop();
    }
  });

  test('from the command line: --newest-first --recent-days', async () => {
    const world = await startWorld({ corpus: corpusWithRecentMail(153) });
    try {
      const bad = await runCli(cliArgs(world, ['--recent-days', '7']));
      assert.equal(bad.code, 2, '--recent-days alone is a usage error');
      assert.match(bad.stderr, /--recent-days goes with --newest-first/);
      const run = await runCli(cliArgs(world, ['--newest-first', '--recent-days', String(RECENT_DAYS)]));
      assert.equal(run.code, 0, run.stderr.slice(-2000));
      const { destination } = await assertWorldIntact(world);
      assertRecentFirstInEachFolder(world, destination);
    } finally {
      await world.stop();
    }
  });
});
