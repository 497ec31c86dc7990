/**
 * Pre-flight (issue 14): before anything is copied, `plan` says what will not fit (quota) and
 * lists every message over the new account's size limit; `copy` never sends those, reports them
 * as refused with the reason (exit 1), or keeps them in the archive named with `--refused-to`
 * (then exit 0). Against a Dovecot with a quota and a message size limit it enforces
 * (`quota_max_mail_size`) and advertises (APPENDLIMIT).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Preflight } from '../../src/contract/plan.js';
import { openArchiveSource } from '../../src/archive/open-archive.js';
import { corpusBytes, generateCorpus, messageKeyOf } from '../support/corpus.js';
import { assertWorldIntact, defaultPreexisting, startWorld } from './harness.js';
import { cliArgs, runCli } from './cli-child.js';

const LIMIT = 300 * 1024;

const planEvent = (events: { type: string; [k: string]: unknown }[]): { preflight?: Preflight } => {
  const event = events.find((e) => e.type === 'plan');
  assert.ok(event, 'a plan event');
  return event as { preflight?: Preflight };
};

describe('pre-flight', { concurrency: false }, () => {
  test('plan lists the quota and every message over the size limit; copy never sends them; --refused-to keeps them in an archive', async () => {
    // Two messages over 300 KB in INBOX (about 400 KB and 1 MB); everything else far below.
    const corpus = generateCorpus({ seed: 171, messagesPerFolder: 3, big: [400 * 1024, 1024 * 1024] });
    const own = defaultPreexisting(171);
    const world = await startWorld({
      corpus,
      preexisting: own,
      destination: { quotaBytes: corpusBytes(own) + corpusBytes(corpus) * 2, maxMessageBytes: LIMIT, addCapabilities: [`APPENDLIMIT=${LIMIT}`] },
    });
    const archiveDir = mkdtempSync(join(tmpdir(), 'mf-refused-'));
    try {
      const big = corpus.folders.flatMap((f) => f.messages.filter((m) => m.raw.length > LIMIT).map((m) => ({ folder: f.segments.join('/'), m })));
      assert.equal(big.length, 2, 'the corpus has the two big messages');

      // plan: the pre-flight in --json, and in words.
      const planned = await runCli(['plan', ...cliArgs(world).slice(1)]);
      assert.equal(planned.code, 0, planned.stderr);
      const preflight = planEvent(planned.events).preflight;
      assert.ok(preflight, 'the plan event carries a preflight object');
      assert.equal(preflight.maxMessageBytes, LIMIT);
      assert.deepEqual(
        preflight.refused.map((r) => [r.folder, r.size, r.subject !== undefined, /^\d{4}-\d\d-\d\dT/.test(r.date ?? ''), /accepts for one message/.test(r.reason)]).sort(),
        big.map(({ folder, m }) => [folder, m.raw.length, true, true, true]).sort(),
      );
      assert.ok(preflight.quota, 'the quota is known');
      assert.equal(preflight.quota.fits, true);
      // What the selection adds: its size (as the server counts it) less what will not be sent.
      const selectedBytes = (planned.events.find((e) => e.type === 'plan') as { plan?: { selectedBytes: number } }).plan?.selectedBytes ?? 0;
      assert.equal(preflight.quota.neededBytes, selectedBytes - big.reduce((n, b) => n + b.m.raw.length, 0));
      const human = await runCli(['plan', ...cliArgs(world).slice(1).filter((a) => a !== '--json')]);
      assert.match(human.stdout, /Too large: 2 message\(s\)/);
      assert.match(human.stdout, /Space: the new account has .* free; the move adds about .*\. It fits\./);

      // copy: the big ones are never sent, and are reported with the reason; exit 1.
      const copied = await runCli(cliArgs(world));
      assert.equal(copied.code, 1, 'a refused message means exit status 1');
      const summary = copied.events.at(-1) as { report?: { folders: { sourcePath: string; failed: { sizeBytes?: number; error: { message: string; retryable: boolean } }[] }[] } };
      const failed = summary.report?.folders.flatMap((f) => f.failed) ?? [];
      assert.deepEqual(failed.map((f) => f.sizeBytes).sort(), big.map((b) => b.m.raw.length).sort());
      for (const f of failed) {
        assert.match(f.error.message, /accepts for one message/);
        assert.equal(f.error.retryable, false, 'a retry cannot make it fit');
      }
      const appendedSizes = world.destinationProxy
        .wire()
        .commands()
        .filter((c) => c.name === 'APPEND')
        .flatMap((c) => [...c.line.matchAll(/\{(\d+) bytes\}/g)].map((m) => Number(m[1])));
      assert.ok(appendedSizes.length > 0 && appendedSizes.every((n) => n <= LIMIT), `nothing over the limit was sent (largest ${Math.max(...appendedSizes)})`);
      await assertWorldIntact(world, { notCopied: big.map((b) => messageKeyOf(b.m).sha256) });

      // copy --refused-to: the same command again keeps them in a local archive; exit 0.
      const kept = await runCli(cliArgs(world, ['--refused-to', `mbox:${archiveDir}`]));
      assert.equal(kept.code, 0, kept.stderr.slice(-2000));
      const keptSummary = kept.events.at(-1) as { report?: { status: string; folders: { archived?: number }[] } };
      assert.equal(keptSummary.report?.status, 'done');
      assert.equal(keptSummary.report?.folders.reduce((n, f) => n + (f.archived ?? 0), 0), 2);
      const archive = await openArchiveSource({ format: 'mbox', path: archiveDir });
      assert.ok(archive.ok, archive.ok ? '' : archive.error.message);
      try {
        const inArchive = await archive.value.listMessages('INBOX', 'all');
        assert.ok(inArchive.ok);
        assert.deepEqual(inArchive.value.map((m) => m.sizeBytes).sort(), big.map((b) => b.m.raw.length).sort(), 'both big messages are in the archive');
      } finally {
        await archive.value.close();
      }
      await assertWorldIntact(world, { notCopied: big.map((b) => messageKeyOf(b.m).sha256) });

      // Planned again after the move: what this job copied is not counted as needed again.
      const replanned = planEvent((await runCli(['plan', ...cliArgs(world).slice(1)])).events).preflight;
      assert.ok(replanned?.quota && preflight.quota);
      assert.ok(replanned.quota.neededBytes < preflight.quota.neededBytes / 10, `needed ${replanned.quota.neededBytes} after the move`);
    } finally {
      rmSync(archiveDir, { recursive: true, force: true });
      await world.stop();
    }
  });

  test('a selection larger than the free space: plan says it does not fit', async () => {
    const corpus = generateCorpus({ seed: 172, messagesPerFolder: 3 });
    const own = defaultPreexisting(172);
    const world = await startWorld({ corpus, preexisting: own, destination: { quotaBytes: corpusBytes(own) + Math.floor(corpusBytes(corpus) / 3) } });
    try {
      const planned = await runCli(['plan', ...cliArgs(world).slice(1)]);
      const quota = planEvent(planned.events).preflight?.quota;
      assert.ok(quota);
      assert.equal(quota.fits, false);
      assert.ok(quota.usedBytes + quota.neededBytes > quota.limitBytes);
      const human = await runCli(['plan', ...cliArgs(world).slice(1).filter((a) => a !== '--json')]);
      assert.match(human.stdout, /It does not fit/);
    } finally {
      await world.stop();
    }
  });
});
