/**
 * A folder that holds messages *and* subfolders, copied to a destination where its name exists
 * only as a hierarchy level: another client created the subfolder first, so Courier (and
 * Dovecot with the `fs` layout) list the parent as `\Noselect`, a name that cannot be selected or
 * appended to until the folder itself is created. The copy must create it and fill it, not take
 * the listed name for a folder. Cyrus is not in this test: it always creates a parent as a real
 * folder along with its child.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateCorpus } from '../support/corpus.js';
import { assertSourceUnchanged, diffMail, openTestClient, snapshotAccount } from '../support/mail-snapshot.js';
import { freshStateDir, PASSWORDS, runCliCaptured } from '../engine/cli-harness.js';
import { fillMatrixAccount, startMatrixServer, stopServersAfterEachTest, type ServerKind, type StartOptions } from './matrix-servers.js';

const corpus = generateCorpus({
  seed: 'hierarchy',
  folders: [{ segments: ['INBOX'] }, { segments: ['Reisen'] }, { segments: ['Reisen', 'Fähre'] }, { segments: ['Reisen', 'Fähre', '2019'] }],
  messagesPerFolder: 2,
  specials: false,
  sizeRange: [600, 3000],
});

/** Servers of the running test; each test stops its own when it ends. */
const servers = stopServersAfterEachTest();

const CASES: [ServerKind, ServerKind, StartOptions][] = [
  ['dovecot', 'courier', {}],
  ['courier', 'dovecot', { dovecotLayout: 'fs' }],
];

describe('a folder with messages and subfolders, onto a name that is only a \\Noselect level on the destination', () => {
  for (const [from, to, destinationOptions] of CASES) {
    test(`${from} → ${to}${destinationOptions.dovecotLayout ? ` (${destinationOptions.dovecotLayout} layout)` : ''}`, async () => {
      const [src, dst] = await Promise.all([
        startMatrixServer(from, 'alice', PASSWORDS.MAILFERRY_FROM_PASSWORD),
        startMatrixServer(to, 'bob', PASSWORDS.MAILFERRY_TO_PASSWORD, destinationOptions),
      ]);
      servers.track(src, dst);
      await fillMatrixAccount(src, corpus);
      // Another client made the deepest folder first: its parents are mere levels.
      const client = await openTestClient(dst.account());
      try {
        await client.mailboxCreate(dst.pathOf(['Reisen', 'Fähre', '2019']));
        const listed = await client.list();
        for (const level of [['Reisen'], ['Reisen', 'Fähre']]) {
          assert.ok(listed.find((m) => m.path === dst.pathOf(level))?.flags.has('\\Noselect'), `${dst.pathOf(level)} is a \\Noselect level on ${to}`);
        }
      } finally {
        await client.logout().catch(() => client.close());
      }

      const source = await snapshotAccount(src.account());
      const args = ['copy', '--from', src.url(), '--to', dst.url(), '--allow-plaintext', '--state', freshStateDir(), '--timeout', '30', '--retry-delay', '0.2', '--max-failures', '3', '--json'];
      const run = await runCliCaptured(args, PASSWORDS);
      assert.equal(run.code, 0, `${run.stderr}\n${JSON.stringify(run.report?.folders.filter((f) => !f.isComplete), null, 1)}`);
      const destination = await snapshotAccount(dst.account());
      const levels = (path: string) => (path === 'INBOX' ? ['INBOX'] : (src.prefix && path.startsWith(src.prefix) ? path.slice(src.prefix.length) : path).split(src.delimiter));
      const expected = { folders: source.folders.filter((f) => f.isSelectable).map((f) => ({ path: f.path, messages: f.messages })) };
      assert.deepEqual(diffMail(expected, destination, { mapPath: (p) => dst.pathOf(levels(p)) }), []);
      for (const level of [['Reisen'], ['Reisen', 'Fähre']]) assert.equal(destination.folders.find((f) => f.path === dst.pathOf(level))?.isSelectable, true, `${dst.pathOf(level)} is a folder now`);

      const again = await runCliCaptured(args, PASSWORDS);
      assert.equal(again.code, 0, again.stderr);
      assertSourceUnchanged(destination, await snapshotAccount(dst.account()), 'a re-run changed the destination');
    });
  }
});
