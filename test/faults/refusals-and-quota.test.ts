/**
 * Fault family: the destination says no. A message over the server's size limit (Dovecot:
 * NO [LIMIT]) and a message it calls malformed (NO [PARSE]) are listed with the server's reason
 * while the rest of the folder is copied. The quota runs out mid-folder: the job pauses with a
 * clear sentence instead of retrying, and resumes once there is room.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { corpusBytes, generateCorpus } from '../support/corpus.js';
import { assertWorldIntact, defaultPreexisting, runCopy, startWorld } from './harness.js';

describe('the destination refuses', { concurrency: false }, () => {
  test('a message over its size limit and one it calls malformed: listed with the reason, the rest copied', async () => {
    const corpus = generateCorpus({ seed: 111, messagesPerFolder: 3, big: [400_000] });
    const world = await startWorld({ corpus, destination: { maxMessageBytes: 250_000 } });
    try {
      const inbox = world.before.source.folders.find((f) => f.path === 'INBOX');
      const tooBig = inbox?.messages.find((m) => m.size > 250_000);
      assert.ok(tooBig, 'the source has a message over the limit');
      // "Malformed": Dovecot takes nearly anything, so the proxy answers for it, for one message
      // picked by its literal size in the APPEND line.
      const reisen = world.before.source.folders.find((f) => f.path === 'Reisen');
      const malformed = reisen?.messages[0];
      assert.ok(malformed);
      const [parse] = world.destinationProxy.setFaults([
        { kind: 'inject', onCommand: new RegExp(`^\\S+ APPEND "?Reisen"? .*\\{${malformed.size}\\+?\\}$`, 'i'), response: '{tag} NO [PARSE] Invalid header in message', times: Infinity },
      ]);

      const run = await runCopy(world, { seed: 111 });
      assert.ok((parse?.firedCount ?? 0) >= 1, 'the PARSE refusal fired');
      const failures = run.report.folders.flatMap((f) => f.failed);
      assert.equal(failures.length, 2, `two refusals listed: ${JSON.stringify(failures)}`);
      const big = failures.find((f) => f.sizeBytes === tooBig.size);
      assert.ok(big, 'the big message is listed');
      assert.equal(big.error.kind, 'rejected');
      assert.equal(big.error.serverCode, 'LIMIT');
      assert.match(big.error.serverText ?? '', /larger than the maximum size/, 'with the server’s words');
      const bad = failures.find((f) => f.sizeBytes === malformed.size);
      assert.ok(bad, 'the malformed message is listed');
      assert.equal(bad.error.serverCode, 'PARSE');
      assert.match(bad.error.serverText ?? '', /Invalid header/);
      assert.ok(run.events.some((e) => e.type === 'message-failed'), 'failures were announced as they happened');
      for (const f of run.report.folders) {
        if (f.sourcePath === 'INBOX' || f.sourcePath === 'Reisen') assert.equal(f.copied + f.alreadyThere, f.expected - 1, `${f.sourcePath}: all but the refused one`);
        else assert.equal(f.isComplete, true, `${f.sourcePath} complete`);
      }
      assert.equal(run.report.status, 'needs-attention');
      await assertWorldIntact(world, { notCopied: [tooBig.sha256, malformed.sha256] });
    } finally {
      await world.stop();
    }
  });

  test('the quota runs out mid-folder: paused with a clear sentence, no retry loop; resumes after space is freed', async () => {
    const corpus = generateCorpus({ seed: 112, messagesPerFolder: 4 });
    const own = defaultPreexisting(1);
    // Room for the destination's own mail and about half the source.
    const quota = corpusBytes(own) + Math.floor(corpusBytes(corpus) / 2);
    const world = await startWorld({ corpus, preexisting: own, destination: { quotaBytes: quota } });
    try {
      const run = await runCopy(world, { seed: 112 });
      assert.equal(run.report.status, 'paused', 'the job paused');
      const stopped = run.events.find((e) => e.type === 'job-status' && e.status === 'paused');
      assert.ok(stopped && stopped.type === 'job-status' && stopped.error, 'the pause carries its reason');
      assert.equal(stopped.error?.kind, 'quota');
      assert.match(stopped.error?.message ?? '', /full/i);
      assert.equal(stopped.error?.serverCode, 'OVERQUOTA');
      const overquota = world.destinationProxy.wire().responses().filter((r) => /OVERQUOTA/.test(r.line));
      assert.ok(overquota.length >= 1, 'the server did say OVERQUOTA');
      // APPENDs are pipelined, so one batch may meet several refusals; what must not happen is
      // trying again on another connection.
      const refusingConnections = new Set(overquota.map((r) => r.connection));
      assert.ok(refusingConnections.size <= 2, `no retrying against a full mailbox (refusals on ${refusingConnections.size} connections, at most one per worker)`);
      assert.equal(run.destinationOpens.length <= 2, true, `no reconnects after the quota ran out (${run.destinationOpens.length} connections)`);
      assert.ok(run.report.totals.copied > 0, 'part was copied before the quota ran out');

      // A person frees space (here: the admin raises the quota) and resumes.
      const config = readFileSync(world.destination.configPath, 'utf8');
      assert.match(config, /storage=\d+B/);
      writeFileSync(world.destination.configPath, config.replace(/storage=\d+B/, `storage=${quota * 4}B`));
      await world.destination.restart();
      const resumed = await runCopy(world, { seed: 113 });
      assert.equal(resumed.report.status, 'done', `resumed to done: ${JSON.stringify(resumed.report.folders.filter((f) => !f.isComplete))}`);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });
});
