/**
 * A folder is copied in windows of source metadata (copy-folder.ts), so a huge folder's
 * metadata is never held at once. With windows of 7 messages and batches of 3, against two real
 * Dovecots: a pass stopped half-way and the next pass together put every message on the
 * destination exactly once, including those that were there before (matched across windows),
 * skip the one flagged \Deleted, and never ask the source for more than a window's metadata; the
 * second pass reads no destination headers, because the journal accounts for all it finds there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FolderCounters } from '../../src/engine/copy-folder.js';
import { copyFolder } from '../../src/engine/copy-folder.js';
import { FolderJournal } from '../../src/engine/folder-journal.js';
import type { DestinationStore, SourceStore } from '../../src/engine/store.js';
import { openImapDestination, openImapSource } from '../../src/imap/imap-stores.js';
import { fillAccount, generateFolderOfSize, messageKeyOf, type CorpusMessage } from '../support/corpus.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { diffMail, openTestClient, snapshotAccount } from '../support/mail-snapshot.js';
import { freshStateDir } from './cli-harness.js';

const WINDOW = 7;
const BATCH = 3;
const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

describe('copying a folder in windows of metadata', () => {
  let src: DovecotServer;
  let dst: DovecotServer;
  const folder = generateFolderOfSize({ seed: 'windows', segments: ['Big'], messages: 40, sizeRange: [800, 3000] });
  const alreadyThere = [3, 9, 16, 22, 35];
  const deletedIndex = 12;
  const state = freshStateDir();

  before(async () => {
    [src, dst] = await Promise.all([startDovecot({ users: [{ name: 'alice', password: 'pw' }] }), startDovecot({ users: [{ name: 'bob', password: 'pw' }] })]);
    const [filled] = await fillAccount(src.account('alice'), [folder]);
    const client = await openTestClient(src.account('alice'));
    try {
      await client.mailboxOpen('Big');
      await client.messageFlagsAdd(String(filled?.uids[deletedIndex]), ['\\Deleted'], { uid: true });
    } finally {
      await client.logout();
    }
    await fillAccount(dst.account('bob'), [{ segments: ['Big'], messages: alreadyThere.map((i) => folder.messages[i] as CorpusMessage) }]);
  });
  after(async () => {
    await Promise.allSettled([src?.stop(), dst?.stop()]);
  });

  /** One pass with fresh connections and the journal as it is on disk. */
  const pass = async (options: { stopAfterBatches?: number }) => {
    const source = unwrap(await openImapSource(src.credentials('alice')));
    const destination = unwrap(await openImapDestination(dst.credentials('bob')));
    const windows: number[] = [];
    const counted: SourceStore = {
      ...source,
      listMessages: (path, uids) => {
        windows.push(uids === 'all' ? Infinity : uids.length);
        return source.listMessages(path, uids);
      },
    };
    // Destination messages whose metadata the pass reads (scans and fingerprint verification).
    let destinationReads = 0;
    const countedDestination: DestinationStore = {
      ...destination,
      listMessages: async (path, fromUid, toUid) => {
        const listed = await destination.listMessages(path, fromUid, toUid);
        if (listed.ok) destinationReads += listed.value.length;
        return listed;
      },
      listMessagesByUid: async (path, uids) => {
        const listed = await (destination.listMessagesByUid as NonNullable<DestinationStore['listMessagesByUid']>)(path, uids);
        if (listed.ok) destinationReads += listed.value.length;
        return listed;
      },
    };
    const journal = await FolderJournal.open(state, 'Big', 'Big');
    const controller = new AbortController();
    const progress: FolderCounters[] = [];
    let batches = 0;
    try {
      const result = await copyFolder(
        { source: counted, destination: countedDestination, journal },
        { sourcePath: 'Big', destinationPath: 'Big' },
        {
          signal: controller.signal,
          windowMessages: WINDOW,
          batchMaxMessages: BATCH,
          onProgress: (counters) => {
            const previous = progress[progress.length - 1];
            progress.push(counters);
            if (previous && counters.bytesSent > previous.bytesSent && ++batches === options.stopAfterBatches) controller.abort();
          },
        },
      );
      return { result, windows, progress, destinationReads };
    } finally {
      await Promise.allSettled([source.close(), destination.close()]);
    }
  };

  test('a pass stopped after two batches, then a full pass: each message once, none held beyond a window', async () => {
    const first = await pass({ stopAfterBatches: 2 });
    assert.equal(first.result.ok, false, 'the first pass was stopped');
    if (!first.result.ok) assert.equal(first.result.error.kind, 'cancelled');

    const second = await pass({});
    assert.ok(second.result.ok, second.result.ok ? '' : second.result.error.message);
    const report = second.result.value;
    assert.equal(report.status, 'verified');
    assert.equal(report.expected, folder.messages.length - 1, 'the \\Deleted message is not expected');
    assert.equal(report.copied + report.alreadyThere, folder.messages.length - 1);
    assert.ok(report.alreadyThere >= alreadyThere.length, `the messages that were there are matched, not copied (${report.alreadyThere})`);

    for (const run of [first, second]) {
      assert.ok(run.windows.length > 0 && run.windows.every((n) => n <= WINDOW), `metadata read in windows of at most ${WINDOW}: ${run.windows.join(',')}`);
    }
    assert.ok(second.windows.length >= Math.ceil((folder.messages.length - 1 - 6) / WINDOW) - 1, 'the second pass walked several windows');
    assert.equal(first.destinationReads, alreadyThere.length, 'the first pass reads the headers of the messages that were there');
    assert.equal(second.destinationReads, 0, 'the second pass reads no destination headers: what it finds there, the journal claims by UID');
    const last = second.progress[second.progress.length - 1];
    assert.ok(last && last.messagesDone === last.messagesTotal && last.bytesDone === last.bytesTotal, `progress ends complete: ${JSON.stringify(last)}`);
    assert.equal(last?.messagesTotal, folder.messages.length - 1);

    const expected = { folders: [{ path: 'Big', messages: folder.messages.filter((_, i) => i !== deletedIndex).map(messageKeyOf) }] };
    assert.deepEqual(diffMail(expected, await snapshotAccount(dst.account('bob')), { folders: ['Big'] }), []);
  });
});
