/**
 * Fault family: the source holds messages that are damaged. They are put into the source's
 * maildir directly, as a broken server or a bad restore leaves them:
 * - a truncated file (the maildir name says S=<bigger>: Dovecot promises more bytes than there
 *   are and drops the connection when asked for the body);
 * - a zero-byte message (the destination refuses it: "Can't save a zero byte message");
 * - messages no parser likes (binary junk, NULs, no header/body separator, bare LF, a 100 KB
 *   header line): the engine does not need to parse them and copies them byte for byte.
 * The damaged ones are recorded with the reason and skipped, every other message of the folder
 * and of the job is copied, and each failed message can be saved to a .eml file from the report.
 */
import assert from 'node:assert/strict';
import { chownSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { openImapSource } from '../../src/imap/imap-stores.js';
import { saveFailedMessage } from '../../src/engine/save-message.js';
import { generateCorpus } from '../support/corpus.js';
import { assertMaildirUnchanged, snapshotAccount, snapshotMaildirFiles } from '../support/mail-snapshot.js';
import { assertWorldIntact, runCopy, SOURCE_USER, startWorld, TEST_TIMEOUTS } from './harness.js';

const FOLDER = 'Reisen';
const INTERNAL_DATE = new Date('2021-03-04T05:06:07Z');
const MAIL_UID = 65534;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Puts a file into a maildir folder's cur/ with the given name tail; returns its bytes. */
const plant = (curDir: string, name: string, body: Buffer): Buffer => {
  const file = join(curDir, name);
  writeFileSync(file, body);
  chownSync(file, MAIL_UID, MAIL_UID);
  // Maildir's INTERNALDATE is the file's mtime.
  utimesSync(file, INTERNAL_DATE, INTERNAL_DATE);
  return body;
};


describe('damaged messages on the source', { concurrency: false }, () => {
  test('truncated and empty messages are recorded and skipped, odd ones copied byte for byte, the folder goes on', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 101, messagesPerFolder: 4 }) });
    const saveDir = mkdtempSync(join(tmpdir(), 'mf-saved-'));
    try {
      const cur = join(world.source.mailRoot(SOURCE_USER.name), `.${FOLDER}`, 'cur');
      const stamp = Math.floor(INTERNAL_DATE.getTime() / 1000);
      const empty = plant(cur, `${stamp + 1}.M2P1.damaged:2,`, Buffer.alloc(0));
      const odd = [
        plant(cur, `${stamp + 2}.M3P1.damaged:2,`, Buffer.concat([Buffer.from('\x00\x01\x02binary junk without any header\xff\xfe'), Buffer.from([0, 0, 13, 10, 0xc3, 0x28])])),
        plant(cur, `${stamp + 3}.M4P1.damaged:2,F`, Buffer.from('Subject: bare LF only\nFrom: someone\n\nbody with\nbare line feeds\n')),
        plant(cur, `${stamp + 4}.M5P1.damaged:2,`, Buffer.from(`X-Long: ${'a'.repeat(100_000)}\r\nSubject: header, no body and no separator`)),
        plant(cur, `${stamp + 5}.M6P1.damaged:2,S`, Buffer.from('Content-Type: multipart/mixed; boundary="never-closed"\r\nSubject: broken MIME\r\n\r\n--never-closed\r\nContent-Type: text/plain\r\n\r\nno end boundary, \x00 a NUL\r\n')),
      ];
      // What the source serves for these (Dovecot turns bare LF into CRLF): the destination must get exactly that.
      const sourceNow = await snapshotAccount(world.sourceAccount());
      // The truncated one comes last: once it is there, the folder cannot be read whole over IMAP.
      const truncated = Buffer.from(`Subject: Truncated on disk\r\nMessage-ID: <truncated@mailferry.test>\r\nDate: Thu, 4 Mar 2021 05:06:07 +0000\r\n\r\n${'lost half of me '.repeat(60)}\r\n`);
      plant(cur, `${stamp + 9}.M1P1.damaged,S=${truncated.length + 700},W=${truncated.length + 760}:2,S`, truncated);
      const maildirBefore = snapshotMaildirFiles(world.source.mailRoot(SOURCE_USER.name));

      const run = await runCopy(world, { seed: 101, settings: { maxConsecutiveFailures: 4 } });
      const reisen = run.report.folders.find((f) => f.sourcePath === FOLDER);
      assert.ok(reisen, 'Reisen is in the report');
      const failedBySize = new Map(reisen.failed.map((f) => [f.sizeBytes, f]));
      // The empty message: refused by the destination, with the server's own words.
      const emptyFailure = failedBySize.get(0);
      assert.ok(emptyFailure, `the empty message is listed as failed: ${JSON.stringify(reisen.failed)}`);
      assert.equal(emptyFailure.error.kind, 'rejected');
      assert.match(emptyFailure.error.serverText ?? '', /zero byte/i, 'the server’s reason is kept');
      // The truncated one: the source cannot serve it; recorded, not copied.
      const truncatedFailure = reisen.failed.find((f) => f.messageId === '<truncated@mailferry.test>' || (f.sizeBytes ?? 0) > truncated.length);
      assert.ok(truncatedFailure, `the truncated message is listed as failed: ${JSON.stringify(reisen.failed)}`);
      assert.equal(reisen.failed.length, 2, 'only the two damaged messages failed');
      const servable = sourceNow.folders.find((f) => f.path === FOLDER)?.messages.length ?? 0;
      assert.equal(reisen.copied + reisen.alreadyThere, servable - 1, `every other message of the folder was copied, the ${odd.length} odd ones included`);
      // Every other folder is complete; the job says it needs attention because of the two.
      for (const f of run.report.folders.filter((f) => f.sourcePath !== FOLDER)) assert.equal(f.isComplete, true, `${f.sourcePath} complete`);
      assert.equal(run.report.status, 'needs-attention');

      // Destination = the source as served (odd messages included) without the two damaged ones.
      await assertWorldIntact(world, { sourceNow, sourceCheckedByCaller: true, notCopied: [sha256(empty)] });
      assertMaildirUnchanged(maildirBefore, snapshotMaildirFiles(world.source.mailRoot(SOURCE_USER.name)), 'the source maildir changed');

      // "Save it from the report": the empty one saves as an empty .eml; the truncated one
      // cannot be read from this server at all, and saying so is the honest answer.
      const opened = await openImapSource(world.source.credentials(SOURCE_USER.name), TEST_TIMEOUTS);
      assert.ok(opened.ok);
      try {
        const saved = await saveFailedMessage(opened.value, emptyFailure, saveDir);
        assert.ok(saved.ok, `saved: ${JSON.stringify(saved)}`);
        assert.deepEqual(readFileSync(saved.value), empty);
        assert.match(saved.value, /\.eml$/);
        const unreadable = await saveFailedMessage(opened.value, truncatedFailure, saveDir);
        assert.equal(unreadable.ok, false, 'the truncated message cannot be saved from a server that will not send it');
      } finally {
        await opened.value.close();
      }
    } finally {
      rmSync(saveDir, { recursive: true, force: true });
      await world.stop();
    }
  });
});
