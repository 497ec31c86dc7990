/**
 * Folder names that cannot exist as they are on the destination. Each server has its own rules
 * (pinned on the real servers in test/support/*.test.ts and re-checked here):
 * - Dovecot refuses a name starting with `~`, control characters, and `.` with its maildir++
 *   layout; a top-level `Inbox` or `inbox` *is* INBOX there.
 * - Cyrus refuses `/ % " \` and tab; accepts `~`, `*`, `&`.
 * - Courier refuses `/`, empty levels and a leading `~` ("INBOX already exists!"); accepts the rest.
 * - Every `.`-separator server takes a `.` inside a name for a new level.
 * The plan gives each such folder a safe name and says why, before anything is copied; the
 * copy then lands there. Unit tests first, then the same names on the real servers, through
 * the CLI.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CopyPlan, FolderPlan, SourceFolder } from '../../src/contract/plan.js';
import { mapFolders } from '../../src/engine/map-folders.js';
import { detectProvider } from '../../src/engine/provider-quirks.js';
import type { NamespaceInfo } from '../../src/engine/store.js';
import { generateCorpus, type CorpusMessage } from '../support/corpus.js';
import { assertSourceUnchanged, diffMail, openTestClient, snapshotAccount, type MailSet } from '../support/mail-snapshot.js';
import { freshStateDir, PASSWORDS, runCliCaptured } from '../engine/cli-harness.js';
import { startMatrixServer, stopServersAfterEachTest, type MatrixServer, type ServerKind, type StartOptions } from './matrix-servers.js';

const slash: NamespaceInfo = { delimiter: '/', prefix: '', capabilities: [] };
const dot: NamespaceInfo = { delimiter: '.', prefix: 'INBOX.', capabilities: [] };
const CYRUS = detectProvider({ host: '127.0.0.1', capabilities: [], serverName: 'Cyrus IMAPD' });
const COURIER = detectProvider({ host: '127.0.0.1', capabilities: [], greeting: 'Courier-IMAP ready. Copyright 1998-2019 Double Precision, Inc.  See COPYING for distribution information.' });
const DOVECOT = detectProvider({ host: '127.0.0.1', capabilities: [], serverName: 'Dovecot', greeting: 'Dovecot (Debian) ready.' });
const EXCHANGE = detectProvider({ host: 'outlook.office365.com', capabilities: [] });

const folderOn = (ns: NamespaceInfo, path: string): SourceFolder => {
  const below = ns.prefix && path.startsWith(ns.prefix) ? path.slice(ns.prefix.length) : path;
  return { path, segments: path === 'INBOX' ? ['INBOX'] : below.split(ns.delimiter), delimiter: ns.delimiter, isSelectable: true, messages: 1, sizeBytes: 10 };
};

const mapped = (from: NamespaceInfo, to: NamespaceInfo, paths: string[], destinationQuirks = DOVECOT) =>
  mapFolders({ sourceFolders: paths.map((p) => folderOn(from, p)), source: from, destination: to, destinationFolders: [], destinationQuirks });

const table = (plans: FolderPlan[]) => plans.map((p) => [p.source.path, p.destinationPath]);
const details = (plan: FolderPlan | undefined) => (plan?.reasons ?? []).map((r) => (r.kind === 'sanitized' ? r.detail : r.kind)).join(' | ');

describe('mapping names the destination cannot hold (unit)', () => {
  test('Cyrus and Courier are recognised (ID answer, greeting); Dovecot needs nothing special', () => {
    assert.equal(CYRUS.id, 'cyrus');
    assert.equal(COURIER.id, 'courier');
    assert.equal(DOVECOT.id, 'generic');
  });

  test("the destination's separator inside a name, a trailing dot among them, becomes _", () => {
    const plans = mapped(slash, dot, ['Version 1.2', 'trailing.', 'Reisen/v2.0'], COURIER);
    assert.deepEqual(table(plans), [
      ['Version 1.2', 'INBOX.Version 1_2'],
      ['trailing.', 'INBOX.trailing_'],
      ['Reisen/v2.0', 'INBOX.Reisen.v2_0'],
    ]);
    assert.match(details(plans[1]), /"trailing\." → "trailing_": "\." separates folders on the destination/);
  });

  test('characters only Cyrus refuses are replaced for Cyrus, kept for Dovecot and Courier; wildcards and tabs everywhere', () => {
    const names = ['INBOX.quote"d', 'INBOX.back\\slash', 'INBOX.per%cent', 'INBOX.star*', 'INBOX.tab\there', 'INBOX.amp&and'];
    assert.deepEqual(table(mapped(dot, dot, names, CYRUS)).map(([, d]) => d), ['INBOX.quote_d', 'INBOX.back_slash', 'INBOX.per_cent', 'INBOX.star_', 'INBOX.tab_here', 'INBOX.amp&and']);
    assert.deepEqual(table(mapped(dot, dot, names, COURIER)).map(([, d]) => d), ['INBOX.quote"d', 'INBOX.back\\slash', 'INBOX.per_cent', 'INBOX.star_', 'INBOX.tab_here', 'INBOX.amp&and']);
    assert.deepEqual(table(mapped(dot, slash, names, DOVECOT)).map(([, d]) => d), ['quote"d', 'back\\slash', 'per_cent', 'star_', 'tab_here', 'amp&and']);
    assert.match(details(mapped(dot, dot, names, CYRUS)[1]), /the destination refuses these characters in folder names: \\/);
  });

  test('a "/" inside a name on a "." server, and a leading "~", are replaced', () => {
    const plans = mapped(dot, dot, ['INBOX.a/b', 'INBOX.~tilde', 'INBOX.x.~y'], COURIER);
    assert.deepEqual(table(plans).map(([, d]) => d), ['INBOX.a_b', 'INBOX._tilde', 'INBOX.x._y']);
    assert.match(details(plans[1]), /"~tilde" → "_tilde": a name starting with "~" is refused by many servers/);
    assert.equal(mapped(dot, slash, ['INBOX.~tilde'])[0]?.destinationPath, '_tilde');
  });

  test('a folder named INBOX in any case below the source\'s INBOX is not poured into the inbox', () => {
    const names = ['INBOX', 'INBOX.Inbox', 'INBOX.inbox', 'INBOX.INBOX'];
    const toDovecot = mapped(dot, slash, names);
    assert.deepEqual(table(toDovecot).map(([, d]) => d), ['INBOX', 'Inbox (folder)', 'inbox (folder)', 'INBOX (folder)']);
    assert.match(details(toDovecot[1]), /"Inbox" → "Inbox \(folder\)": on the destination that name is the inbox itself/);
    assert.ok(toDovecot.every((p) => p.collidesWith.length === 0));
    // Under a namespace prefix there is room for them as they are.
    assert.deepEqual(table(mapped(dot, dot, names, CYRUS)).map(([, d]) => d), ['INBOX', 'INBOX.Inbox', 'INBOX.inbox', 'INBOX.INBOX']);
  });

  test('names that differ only by case on a case-insensitive destination: the first keeps its name, the others are numbered, subfolders follow', () => {
    const plans = mapped(slash, slash, ['Work', 'work', 'work/2019', 'WORK', 'Other'], EXCHANGE);
    assert.deepEqual(table(plans), [
      ['Work', 'Work'],
      ['work', 'work (2)'],
      ['work/2019', 'work (2)/2019'],
      ['WORK', 'WORK (3)'],
      ['Other', 'Other'],
    ]);
    assert.match(details(plans[1]), /differs from "Work" only by case, and Microsoft 365 \/ Exchange treats such names as one folder/);
    assert.match(details(plans[2]), /parent folder is renamed to "work \(2\)"/);
    assert.ok(plans.every((p) => p.collidesWith.length === 0));
    // The same names on a case-sensitive server stay as they are.
    assert.deepEqual(table(mapped(slash, slash, ['Work', 'work'])).map(([, d]) => d), ['Work', 'work']);
  });

  test('a numbered name never takes one that exists on the destination already', () => {
    const plans = mapFolders({ sourceFolders: ['Work', 'work'].map((p) => folderOn(slash, p)), source: slash, destination: slash, destinationFolders: [{ path: 'work (2)' }], destinationQuirks: EXCHANGE });
    assert.deepEqual(table(plans).map(([, d]) => d), ['Work', 'work (3)']);
  });

  test('two folders whose safe names coincide are still shown as a collision, not merged', () => {
    const plans = mapped(slash, dot, ['a.b', 'a_b'], COURIER);
    assert.deepEqual(plans.map((p) => p.collidesWith), [['a_b'], ['a.b']]);
  });
});

// ------------------------------------------------------------------------------------------
// The same on the real servers, through the CLI.

interface NameCase {
  /** Full path on the source. */
  source: string;
  /** Expected full path on each destination. */
  expect: Partial<Record<ServerKind, string>>;
  /** The plan must say why (a sanitized reason), unless the name is kept. */
}

/** Per source server: folders it can hold, and where each must land on the other two. */
const CASES: Record<ServerKind, { options?: StartOptions; folders: NameCase[] }> = {
  courier: {
    folders: [
      { source: 'INBOX.per%cent', expect: { cyrus: 'INBOX.per_cent', dovecot: 'per_cent' } },
      { source: 'INBOX.quote"d', expect: { cyrus: 'INBOX.quote_d', dovecot: 'quote"d' } },
      { source: 'INBOX.back\\slash', expect: { cyrus: 'INBOX.back_slash', dovecot: 'back\\slash' } },
      { source: 'INBOX.tab\there', expect: { cyrus: 'INBOX.tab_here', dovecot: 'tab_here' } },
      { source: 'INBOX.Inbox', expect: { cyrus: 'INBOX.Inbox', dovecot: 'Inbox (folder)' } },
    ],
  },
  cyrus: {
    folders: [
      { source: 'INBOX.~tilde', expect: { courier: 'INBOX._tilde', dovecot: '_tilde' } },
      { source: 'INBOX.inbox', expect: { courier: 'INBOX.inbox', dovecot: 'inbox (folder)' } },
      { source: 'INBOX.INBOX', expect: { courier: 'INBOX.INBOX', dovecot: 'INBOX (folder)' } },
      { source: 'INBOX.star*', expect: { courier: 'INBOX.star_', dovecot: 'star_' } },
    ],
  },
  // Dovecot's `fs` layout allows "." in a name with the "/" separator (maildir++ would refuse it).
  dovecot: {
    options: { dovecotLayout: 'fs' },
    folders: [
      { source: 'Version 1.2', expect: { cyrus: 'INBOX.Version 1_2', courier: 'INBOX.Version 1_2' } },
      { source: 'trailing.', expect: { cyrus: 'INBOX.trailing_', courier: 'INBOX.trailing_' } },
      { source: 'quote"d', expect: { cyrus: 'INBOX.quote_d', courier: 'INBOX.quote"d' } },
      { source: 'back\\slash', expect: { cyrus: 'INBOX.back_slash', courier: 'INBOX.back\\slash' } },
      { source: 'Reisen/v2.0', expect: { cyrus: 'INBOX.Reisen.v2_0', courier: 'INBOX.Reisen.v2_0' } },
    ],
  },
};

/** Servers of the running test; each test stops its own when it ends. */
const servers = stopServersAfterEachTest();

/** One message per folder, each different; INBOX gets one too. */
const messagesFor = (count: number): CorpusMessage[] =>
  generateCorpus({ seed: 'names', folders: Array.from({ length: count }, (_, i) => ({ segments: [`f${i}`] })), messagesPerFolder: 1, specials: false, sizeRange: [600, 2000] }).folders.map((f) => f.messages[0] as CorpusMessage);

/** Creates folders by their exact full paths (fillAccount cannot make "INBOX.INBOX") and puts one message in each. */
const fillPaths = async (server: MatrixServer, paths: string[]): Promise<void> => {
  const messages = messagesFor(paths.length + 1);
  const client = await openTestClient(server.account());
  try {
    for (const [i, path] of ['INBOX', ...paths].entries()) {
      if (path !== 'INBOX') await client.mailboxCreate(path);
      const m = messages[i] as CorpusMessage;
      await client.append(path, m.raw, m.flags, m.internalDate);
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
};

const DIRECTIONS: [ServerKind, ServerKind][] = [
  ['courier', 'cyrus'],
  ['courier', 'dovecot'],
  ['cyrus', 'courier'],
  ['cyrus', 'dovecot'],
  ['dovecot', 'cyrus'],
  ['dovecot', 'courier'],
];

describe('names the destination cannot hold, on the real servers', () => {
  for (const [from, to] of DIRECTIONS) {
    const { options, folders } = CASES[from];
    test(`${from} → ${to}: ${folders.map((f) => JSON.stringify(f.source)).join(', ')}`, async (t) => {
      const [src, dst] = await Promise.all([
        startMatrixServer(from, 'alice', PASSWORDS.MAILFERRY_FROM_PASSWORD, options),
        startMatrixServer(to, 'bob', PASSWORDS.MAILFERRY_TO_PASSWORD, to === 'cyrus' ? { munge8bit: false } : {}),
      ]);
      servers.track(src, dst);
      await fillPaths(src, folders.map((f) => f.source));
      const source = await snapshotAccount(src.account());
      const args = ['--from', src.url(), '--to', dst.url(), '--allow-plaintext', '--state', freshStateDir(), '--timeout', '30', '--retry-delay', '0.2', '--max-failures', '3'];

      // The plan, before anything is copied: the safe name, and why.
      const planned = await runCliCaptured(['plan', ...args, '--json'], PASSWORDS);
      assert.equal(planned.code, 0, planned.stderr);
      const plan = (planned.events.find((e) => e.type === 'plan') as { plan: CopyPlan }).plan;
      const lines: string[] = [];
      for (const f of folders) {
        const entry = plan.folders.find((p) => p.source.path === f.source);
        const want = f.expect[to] as string;
        assert.equal(entry?.destinationPath, want, `${f.source} → ${want}; plan: ${JSON.stringify(entry)}`);
        const isRenamed = want.slice(dst.prefix.length).split(dst.delimiter).join('/') !== f.source.slice(src.prefix.length).split(src.delimiter).join('/');
        if (isRenamed) assert.ok(entry?.reasons.some((r) => r.kind === 'sanitized'), `${f.source}: the plan says why (${JSON.stringify(entry?.reasons)})`);
        lines.push(`${JSON.stringify(f.source)} → ${JSON.stringify(want)}${isRenamed ? `: ${details(entry)}` : ''}`);
      }
      assert.equal(plan.hasCollisions, false);
      assert.deepEqual(diffMail({ folders: [] }, await snapshotAccount(dst.account())), [], 'plan copied nothing');
      const human = await runCliCaptured(['plan', ...args], PASSWORDS);
      for (const f of folders) assert.ok(human.stdout.includes(f.expect[to] as string), `human plan names ${f.expect[to]}:\n${human.stdout}`);

      // The copy lands there, and a re-run adds nothing.
      const copied = await runCliCaptured(['copy', ...args, '--json'], PASSWORDS);
      assert.equal(copied.code, 0, `${copied.stderr}\n${JSON.stringify(copied.report?.folders.filter((f) => !f.isComplete), null, 1)}`);
      const destination = await snapshotAccount(dst.account());
      const mapPath = (p: string) => (p === 'INBOX' ? 'INBOX' : (folders.find((f) => f.source === p)?.expect[to] ?? `unexpected:${p}`));
      const expected: MailSet = { folders: source.folders.filter((f) => f.isSelectable).map((f) => ({ path: f.path, messages: f.messages })) };
      assert.deepEqual(diffMail(expected, destination, { mapPath }), []);
      const again = await runCliCaptured(['copy', ...args, '--json'], PASSWORDS);
      assert.equal(again.code, 0, again.stderr);
      assertSourceUnchanged(destination, await snapshotAccount(dst.account()), 'a re-run changed the destination');
      t.diagnostic(lines.join('\n'));
    });
  }
});
