/**
 * The compatibility matrix: a generated account copied through the real CLI (`runCli`) in every
 * direction between Dovecot, Cyrus IMAP and Courier IMAP, each a private instance on 127.0.0.1.
 *
 * Per direction it proves: the plan maps every folder where it should, and says why; the copy
 * exits 0 with every message on the destination exactly once (twins and byte-identical
 * duplicates counted), byte for byte, with its flags, keywords and INTERNALDATE (2004 dates
 * included); `Archive/2019` ⇄ `INBOX.Archive.2019`; non-ASCII names (`Reisen/Überfahrt`,
 * `日本語`, `Été & Co`) arrive as the same Unicode names (modified UTF-7 on Dovecot and Cyrus,
 * UTF-8 after ENABLE UTF8=ACCEPT on Courier); the source's Sent and Trash land in the
 * destination's own special-use folders, which have other names there (`Sent Items`,
 * `Deleted Items`); the source is unchanged; and a second run copies nothing and changes
 * nothing on the destination.
 *
 * Messages flagged \Deleted are not copied (the engine's rule), so they are not expected.
 *
 * Cyrus as destination runs with `munge8bit: false` for the byte-identical check. With Cyrus'
 * default (`munge8bit: yes`) Cyrus itself rewrites raw 8-bit bytes in a message's header to `X`
 * when it stores it (the size stays the same): the copy cannot be byte-identical there, so
 * that case has its own test: every message arrives exactly once, the header-8bit one exactly
 * as Cyrus' rule predicts, and a re-run adds nothing (the engine finds the rewritten message by
 * its journal and fingerprint, not by its bytes).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, afterEach, describe, test } from 'node:test';
import type { JobReport } from '../../src/contract/job.js';
import type { CopyPlan } from '../../src/contract/plan.js';
import { headerBlockEnd } from '../../src/engine/fingerprint.js';
import { encodeMailboxName } from '../../src/imap/imap-utf7.js';
import { generateCorpus, type FolderSpec } from '../support/corpus.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { findDestructive, type WireCommand } from '../support/imap-wire.js';
import { assertSourceUnchanged, diffMail, snapshotAccount, type AccountSnapshot, type MailSet } from '../support/mail-snapshot.js';
import { freshStateDir, PASSWORDS, runCliCaptured } from '../engine/cli-harness.js';
import { createSpecialFolders, fillMatrixAccount, startMatrixServer, type MatrixServer, type ServerKind, type StartOptions } from './matrix-servers.js';

const FOLDERS: FolderSpec[] = [
  { segments: ['INBOX'] },
  { segments: ['Sent'], specialUse: '\\Sent' },
  { segments: ['Drafts'], specialUse: '\\Drafts' },
  { segments: ['Trash'], specialUse: '\\Trash' },
  { segments: ['Archive'] },
  { segments: ['Archive', '2019'] },
  // Created without its parent: "Reisen" exists only as a hierarchy level on the source.
  { segments: ['Reisen', 'Überfahrt'] },
  { segments: ['日本語'] },
  { segments: ['Été & Co'] },
];
const corpus = generateCorpus({ seed: 'matrix', folders: FOLDERS, messagesPerFolder: 2, sizeRange: [800, 6 * 1024] });

/** The destination's own special-use folders, named otherwise than the source's. */
const DESTINATION_SPECIAL = { 'Sent Items': '\\Sent', 'Deleted Items': '\\Trash' } as const;
const SOURCE_TO_DESTINATION_SPECIAL: Record<string, string> = { Sent: 'Sent Items', Trash: 'Deleted Items' };

const SOURCE_USER = 'alice';
const DESTINATION_USER = 'bob';
/** Short timeouts and retries: a matrix run should fail fast, not wait minutes. */
const CLI_TUNING = ['--timeout', '30', '--retry-delay', '0.2', '--max-failures', '3'];

/** Servers and proxies of the running test; each test stops its own when it ends. */
let started: MatrixServer[] = [];
let proxies: FaultProxy[] = [];
const stopStarted = async (): Promise<void> => {
  const [p, s] = [proxies, started];
  [proxies, started] = [[], []];
  await Promise.allSettled(p.map((x) => x.stop()));
  await Promise.allSettled(s.map((x) => x.stop()));
};
afterEach(stopStarted);
after(stopStarted);

const start = async (kind: ServerKind, side: 'source' | 'destination', options: StartOptions = {}): Promise<MatrixServer> => {
  const server = await startMatrixServer(
    kind,
    side === 'source' ? SOURCE_USER : DESTINATION_USER,
    side === 'source' ? PASSWORDS.MAILFERRY_FROM_PASSWORD : PASSWORDS.MAILFERRY_TO_PASSWORD,
    // A Dovecot destination's own special-use folders are named by its config.
    side === 'destination' && kind === 'dovecot' ? { ...options, dovecotSpecialUse: { ...DESTINATION_SPECIAL, Drafts: '\\Drafts', Junk: '\\Junk' } } : options,
  );
  started.push(server);
  return server;
};

const levelsOf = (server: MatrixServer, path: string): string[] =>
  path.toUpperCase() === 'INBOX' ? ['INBOX'] : (server.prefix && path.startsWith(server.prefix) ? path.slice(server.prefix.length) : path).split(server.delimiter);

/** Where the test expects a source folder to land, worked out independently of the engine. */
const expectedDestination = (src: MatrixServer, dst: MatrixServer, sourcePath: string): string => {
  const levels = levelsOf(src, sourcePath);
  const own = SOURCE_TO_DESTINATION_SPECIAL[levels[0] as string];
  return dst.pathOf(own ? [own, ...levels.slice(1)] : levels);
};

/** The source's selectable folders and messages, without those flagged \Deleted (never copied). */
const expectedMail = (source: AccountSnapshot): MailSet => ({
  folders: source.folders.filter((f) => f.isSelectable).map((f) => ({ path: f.path, messages: f.messages.filter((m) => !m.flags.includes('\\Deleted')) })),
});

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** What Cyrus stores for a message with its default munge8bit: header bytes >= 0x80 become `X`. */
const mungedByCyrus = (raw: Buffer): Buffer => {
  const out = Buffer.from(raw);
  const end = headerBlockEnd(out);
  for (let i = 0; i < end; i++) if ((out[i] as number) >= 0x80) out[i] = 0x58;
  return out;
};

interface DirectionRun {
  src: MatrixServer;
  dst: MatrixServer;
  sourceBefore: AccountSnapshot;
  plan: CopyPlan;
  report: JobReport;
  destinationAfter: AccountSnapshot;
  seconds: number;
  /** Every command each side received, when recorded (not with Cyrus: see runDirection). */
  wire?: { source: readonly WireCommand[]; destination: readonly WireCommand[] };
}

const runDirection = async (from: ServerKind, to: ServerKind, destinationOptions: StartOptions = {}): Promise<DirectionRun> => {
  const t0 = Date.now();
  const [src, dst] = await Promise.all([start(from, 'source'), start(to, 'destination', destinationOptions)]);
  await Promise.all([fillMatrixAccount(src, corpus), createSpecialFolders(dst, DESTINATION_SPECIAL)]);
  const sourceBefore = await snapshotAccount(src.account());
  // A recording proxy in front of each side shows every command sent. Not with Cyrus: imapflow
  // negotiates COMPRESS=DEFLATE there, after which the stream cannot be read in the middle.
  const isRecorded = from !== 'cyrus' && to !== 'cyrus';
  const [srcProxy, dstProxy] = isRecorded ? await Promise.all([src, dst].map((s) => startFaultProxy({ targetHost: '127.0.0.1', targetPort: s.port }))) : [];
  if (srcProxy && dstProxy) proxies.push(srcProxy, dstProxy);
  const via = (server: MatrixServer, proxy: FaultProxy | undefined) => (proxy ? `imap://${server.user}@127.0.0.1:${proxy.port}` : server.url());
  const args = ['--from', via(src, srcProxy), '--to', via(dst, dstProxy), '--allow-plaintext', '--state', freshStateDir(), ...CLI_TUNING, '--json'];

  const planned = await runCliCaptured(['plan', ...args], PASSWORDS);
  assert.equal(planned.code, 0, `plan ${from} → ${to} exited ${planned.code}:\n${planned.stderr}`);
  const plan = (planned.events.find((e) => e.type === 'plan') as { plan: CopyPlan }).plan;
  // The plan as a person reads it says, per folder, why it lands where it does.
  const human = await runCliCaptured(['plan', ...args.filter((a) => a !== '--json')], PASSWORDS);
  assert.equal(human.code, 0, human.stderr);
  const sentRow = human.stdout.split('\n').find((l) => l.includes(dst.pathOf(['Sent Items'])));
  assert.match(sentRow ?? '', /Sent folder \(the destination's own\)/, human.stdout);
  const archiveRow = human.stdout.split('\n').find((l) => l.includes(dst.pathOf(['Archive', '2019'])));
  assert.match(archiveRow ?? '', /separator\/prefix translated|Archive folder/, human.stdout);

  const copied = await runCliCaptured(['copy', ...args], PASSWORDS);
  assert.equal(copied.code, 0, `copy ${from} → ${to} exited ${copied.code}:\n${copied.stderr}\n${JSON.stringify(copied.report?.folders.filter((f) => !f.isComplete), null, 1)}`);
  assert.ok(copied.report, 'a report');
  const destinationAfter = await snapshotAccount(dst.account());
  assertSourceUnchanged(sourceBefore, await snapshotAccount(src.account()), `the ${from} source changed`);

  // Run again: nothing new on the source, so nothing may be sent or changed.
  const again = await runCliCaptured(['copy', ...args], PASSWORDS);
  assert.equal(again.code, 0, `re-run ${from} → ${to} exited ${again.code}:\n${again.stderr}`);
  // The report's counts are the job's (journal) totals; that nothing was added shows on the
  // destination itself: every folder keeps its UIDNEXT, no message or folder appears.
  assert.equal(again.report?.status, 'done');
  assertSourceUnchanged(destinationAfter, await snapshotAccount(dst.account()), `the ${to} destination changed on a re-run`);
  const wire = srcProxy && dstProxy ? { source: srcProxy.wire().commands(), destination: dstProxy.wire().commands() } : undefined;
  return { src, dst, sourceBefore, plan, report: copied.report, destinationAfter, seconds: (Date.now() - t0) / 1000, ...(wire ? { wire } : {}) };
};

/** Plan checks shared by every direction: names, special-use reasons, no collisions. */
const assertPlan = (run: DirectionRun): void => {
  const { src, dst, plan } = run;
  assert.equal(plan.hasCollisions, false);
  // Cyrus is recognised by its ID answer, Courier (no ID) by its greeting; their name rules apply.
  const provider: Record<ServerKind, string> = { dovecot: 'IMAP server', cyrus: 'Cyrus IMAP', courier: 'Courier IMAP' };
  assert.equal(plan.destination.provider, provider[dst.kind]);
  for (const folder of plan.folders.filter((f) => f.source.isSelectable)) {
    assert.equal(folder.destinationPath, expectedDestination(src, dst, folder.source.path), `plan for ${folder.source.path}`);
    assert.ok(folder.isSelected, `${folder.source.path} is selected`);
  }
  const bySource = new Map(plan.folders.map((f) => [levelsOf(src, f.source.path).join('/'), f]));
  assert.deepEqual(bySource.get('Sent')?.reasons[0], { kind: 'special-use', use: '\\Sent', existing: true }, "Sent goes to the destination's own Sent folder");
  assert.deepEqual(bySource.get('Trash')?.reasons[0], { kind: 'special-use', use: '\\Trash', existing: true }, "Trash goes to the destination's own Trash folder");
  assert.equal(bySource.get('Archive/2019')?.destinationPath, dst.pathOf(['Archive', '2019']));
  // "Reisen" was never created: Dovecot and Courier list it as a \Noselect level (not copied);
  // Cyrus creates it as a real, empty folder along with its child (copied, as it is).
  const reisen = bySource.get('Reisen');
  assert.equal(reisen?.isSelected ?? false, reisen?.source.isSelectable ?? false, 'a hierarchy-only level is not copied as a folder');
};

/** Nothing destructive on either side; folder names on the wire as the destination takes them. */
const assertWire = (run: DirectionRun): void => {
  const { source, destination } = run.wire as NonNullable<DirectionRun['wire']>;
  assert.deepEqual(findDestructive(source).destructive, [], 'the source is only examined and peeked');
  assert.deepEqual(findDestructive(source).flagChanges, []);
  // The destination folder is SELECTed before APPEND; nothing else destructive is allowed.
  assert.deepEqual(findDestructive(destination).destructive.filter((f) => f.command.name !== 'SELECT'), []);
  assert.deepEqual(findDestructive(destination).flagChanges, []);
  const creates = destination.filter((c) => c.name === 'CREATE').map((c) => c.line);
  // Courier offers UTF8=ACCEPT, which imapflow enables: names travel as UTF-8. Dovecot 2.3 does
  // not: modified UTF-7.
  const wanted = run.dst.kind === 'courier' ? run.dst.pathOf(['日本語']) : encodeMailboxName(run.dst.pathOf(['日本語']));
  assert.ok(creates.some((l) => l.includes(`"${wanted}"`) || l.endsWith(` ${wanted}`)), `CREATE ${wanted} among:\n${creates.join('\n')}`);
};

const assertLanded = (run: DirectionRun, transform: (m: MailSet) => MailSet = (m) => m): void => {
  const { src, dst, sourceBefore, destinationAfter, report } = run;
  assert.equal(report.status, 'done');
  assert.equal(report.totals.failed, 0);
  const expected = transform(expectedMail(sourceBefore));
  const problems = diffMail(expected, destinationAfter, { mapPath: (p) => expectedDestination(src, dst, p) });
  assert.deepEqual(problems, [], `mail on the ${dst.kind} destination differs:\n${problems.join('\n')}`);
  const names = destinationAfter.folders.map((f) => f.path);
  for (const name of [dst.pathOf(['日本語']), dst.pathOf(['Été & Co']), dst.pathOf(['Reisen', 'Überfahrt']), dst.pathOf(['Archive', '2019'])]) {
    assert.ok(names.includes(name), `${JSON.stringify(name)} among ${names.map((n) => JSON.stringify(n)).join(', ')}`);
  }
  assert.equal(report.totals.copied, expected.folders.reduce((n, f) => n + f.messages.length, 0), 'each message copied once');
};

const DIRECTIONS: [ServerKind, ServerKind, StartOptions][] = [
  ['cyrus', 'dovecot', {}],
  ['dovecot', 'cyrus', { munge8bit: false }],
  ['courier', 'dovecot', {}],
  ['dovecot', 'courier', {}],
  ['cyrus', 'courier', {}],
  ['courier', 'cyrus', { munge8bit: false }],
];

describe('compatibility matrix: Dovecot, Cyrus and Courier in every direction', () => {
  for (const [from, to, options] of DIRECTIONS) {
    test(`${from} → ${to}: tree, special-use, non-ASCII names, bytes, flags, keywords, dates; a re-run adds nothing`, async (t) => {
      const run = await runDirection(from, to, options);
      assertPlan(run);
      assertLanded(run);
      if (run.wire) assertWire(run);
      const nameOnWire = run.wire?.destination.find((c) => c.name === 'CREATE' && /日本語|&ZeVnLIqe-/.test(c.line))?.line;
      t.diagnostic(`${from} → ${to}: ${run.report.totals.copied} messages in ${run.destinationAfter.folders.length} destination folders, ${run.seconds.toFixed(1)} s with servers${nameOnWire ? `; on the wire: ${nameOnWire}` : ''}`);
    });
  }

  test("dovecot → cyrus with Cyrus' default munge8bit: every message exactly once, the 8-bit header rewritten as Cyrus documents; a re-run adds nothing", async (t) => {
    const run = await runDirection('dovecot', 'cyrus');
    assertPlan(run);
    const eightBit = corpus.folders.flatMap((f) => f.messages).filter((m) => m.kind === 'header-8bit');
    assert.ok(eightBit.length > 0, 'the corpus has a message with raw 8-bit header bytes');
    const rewritten = new Map(eightBit.map((m) => [sha256(m.raw), sha256(mungedByCyrus(m.raw))]));
    assert.ok([...rewritten].every(([a, b]) => a !== b), 'Cyrus would change these bytes');
    // The expectation: the same messages, except that Cyrus' rule turned header bytes into X.
    assertLanded(run, (mail) => ({ folders: mail.folders.map((f) => ({ path: f.path, messages: f.messages.map((m) => ({ ...m, sha256: rewritten.get(m.sha256) ?? m.sha256 })) })) }));
    t.diagnostic(`${rewritten.size} message(s) stored with X for raw 8-bit header bytes; ${run.report.totals.copied} copied once, none on the re-run`);
  });
});
