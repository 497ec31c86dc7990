/**
 * Planning across a separator/prefix difference, refused messages, and the CLI's exit status
 * with one readable sentence for each way a start can fail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillAccount, generateCorpus, type CorpusMessage } from '../support/corpus.js';
import { diffMail, snapshotAccount, type MailSet } from '../support/mail-snapshot.js';
import { freshStateDir, PASSWORDS, runCliCaptured } from './cli-harness.js';
import type { CopyPlan } from '../../src/contract/plan.js';

const noStackTrace = (text: string) => assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');

describe('folders land under the destination\'s separator, prefix and special-use folders', () => {
  let src: DovecotServer;
  let dst: DovecotServer;
  const corpus = generateCorpus({ seed: 'mapping', messagesPerFolder: 2 });
  const state = freshStateDir();
  const urls = () => ['--from', `imap://alice@127.0.0.1:${src.port}`, '--to', `imap://bob@127.0.0.1:${dst.port}`, '--allow-plaintext', '--state', state];

  before(async () => {
    [src, dst] = await Promise.all([
      startDovecot({ users: [{ name: 'alice', password: PASSWORDS.MAILFERRY_FROM_PASSWORD }] }),
      // Courier-like: "." separator, everything under "INBOX.", Sent called "Sent Items".
      startDovecot({ users: [{ name: 'bob', password: PASSWORDS.MAILFERRY_TO_PASSWORD }], separator: '.', prefix: 'INBOX.', specialUse: { 'Sent Items': '\\Sent', Drafts: '\\Drafts' } }),
    ]);
    await fillAccount(src.account(), corpus);
    await fillAccount(dst.account(), [{ segments: ['Sent Items'], messages: [] }], { delimiter: '.', prefix: 'INBOX.' } as never);
  });
  after(async () => {
    await Promise.allSettled([src?.stop(), dst?.stop()]);
  });

  test('plan shows where each folder lands and why, and copies nothing', async () => {
    const before = await snapshotAccount(dst.account());
    const run = await runCliCaptured(['plan', ...urls(), '--json'], PASSWORDS);
    assert.equal(run.code, 0, run.stderr);
    const plan = (run.events.find((e) => e.type === 'plan') as { plan: CopyPlan }).plan;
    const target = (path: string) => plan.folders.find((f) => f.source.path === path);
    assert.equal(target('Reisen/Überfahrt')?.destinationPath, 'INBOX.Reisen.Überfahrt');
    assert.equal(target('Projekte/2004/Q1')?.destinationPath, 'INBOX.Projekte.2004.Q1');
    assert.equal(target('INBOX')?.destinationPath, 'INBOX');
    assert.equal(target('Sent')?.destinationPath, 'INBOX.Sent Items', "Sent goes into the destination's own Sent folder");
    assert.deepEqual(target('Sent')?.reasons[0], { kind: 'special-use', use: '\\Sent', existing: true });
    assert.equal(target('Été & Co')?.destinationPath, 'INBOX.Été & Co');
    assert.equal(plan.hasCollisions, false);
    assert.deepEqual(diffMail(before, await snapshotAccount(dst.account())), [], 'plan changed nothing');
    const human = await runCliCaptured(['plan', ...urls()], PASSWORDS);
    assert.match(human.stdout, /Reisen\/Überfahrt .* INBOX\.Reisen\.Überfahrt/);
  });

  test('copy puts every message into the mapped folder, byte-identical', async () => {
    const run = await runCliCaptured(['copy', ...urls(), '--json'], PASSWORDS);
    assert.equal(run.code, 0, run.stderr);
    const source = await snapshotAccount(src.account());
    const expected: MailSet = {
      folders: source.folders.filter((f) => f.isSelectable).map((f) => ({ path: f.path, messages: f.messages.filter((m) => !m.flags.includes('\\Deleted')) })),
    };
    const mapPath = (p: string) => (p === 'INBOX' ? 'INBOX' : p === 'Sent' ? 'INBOX.Sent Items' : `INBOX.${p.split('/').join('.')}`);
    assert.deepEqual(diffMail(expected, await snapshotAccount(dst.account()), { mapPath, allowExtraFolders: true }), []);
  });

  test('two folders that would land on one name are refused before anything is copied', async () => {
    const run = await runCliCaptured(['copy', ...urls(), '--map', 'Reisen=INBOX.Leer', '--json'], PASSWORDS);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /same destination folder/);
    const plan = (run.events.find((e) => e.type === 'plan') as { plan: CopyPlan }).plan;
    assert.deepEqual(plan.folders.find((f) => f.source.path === 'Reisen')?.collidesWith, ['Leer']);
  });
});

describe('a message the destination refuses', () => {
  let src: DovecotServer;
  let dst: DovecotServer;
  const big: CorpusMessage = {
    raw: Buffer.concat([Buffer.from('From: a@old.example\r\nSubject: Too big for the new server\r\nMessage-ID: <big@old.example>\r\nDate: Mon, 1 Mar 2010 10:00:00 +0100\r\n\r\n'), Buffer.alloc(2 * 1024 * 1024, 'x\r\n')]),
    flags: ['\\Seen'],
    internalDate: new Date('2010-03-01T09:00:00Z'),
    kind: 'big',
  };
  const small = generateCorpus({ seed: 'refusal', messagesPerFolder: 4, specials: false, folders: [{ segments: ['INBOX'] }] });

  before(async () => {
    [src, dst] = await Promise.all([
      startDovecot({ users: [{ name: 'alice', password: PASSWORDS.MAILFERRY_FROM_PASSWORD }] }),
      startDovecot({ users: [{ name: 'bob', password: PASSWORDS.MAILFERRY_TO_PASSWORD }], maxMessageBytes: 1024 * 1024 }),
    ]);
    const inbox = small.folders[0];
    assert.ok(inbox);
    await fillAccount(src.account(), [{ segments: ['INBOX'], messages: [inbox.messages[0] as CorpusMessage, big, ...inbox.messages.slice(1)] }]);
  });
  after(async () => {
    await Promise.allSettled([src?.stop(), dst?.stop()]);
  });

  test('is reported with the server\'s words while the rest of the folder arrives; exit 1', async () => {
    const args = ['copy', '--from', `imap://alice@127.0.0.1:${src.port}`, '--to', `imap://bob@127.0.0.1:${dst.port}`, '--allow-plaintext', '--state', freshStateDir(), '--json', '--retry-delay', '0.05'];
    const run = await runCliCaptured(args, PASSWORDS);
    assert.equal(run.code, 1);
    const inbox = run.report?.folders.find((f) => f.sourcePath === 'INBOX');
    assert.equal(inbox?.failed.length, 1);
    assert.equal(inbox?.failed[0]?.subject, 'Too big for the new server');
    assert.equal(inbox?.failed[0]?.error.kind, 'rejected');
    assert.ok(inbox?.failed[0]?.error.serverText, 'the server\'s own words are kept');
    assert.equal(inbox?.copied, small.folders[0]?.messages.length);
    assert.equal(inbox?.isComplete, false);
    const destination = await snapshotAccount(dst.account());
    assert.equal(destination.folders.find((f) => f.path === 'INBOX')?.messages.length, small.folders[0]?.messages.length);
    const human = await runCliCaptured(args.filter((a) => a !== '--json'), PASSWORDS);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /"Too big for the new server"/);
  });
});

describe('starting fails with exit status 2 and one sentence', () => {
  let server: DovecotServer;
  before(async () => {
    server = await startDovecot({ users: [{ name: 'alice', password: PASSWORDS.MAILFERRY_FROM_PASSWORD }, { name: 'bob', password: PASSWORDS.MAILFERRY_TO_PASSWORD }] });
  });
  after(async () => {
    await server?.stop();
  });
  const base = () => ['copy', '--from', `imap://alice@127.0.0.1:${server.port}`, '--to', `imap://bob@127.0.0.1:${server.port}`, '--state', freshStateDir()];

  test('wrong password', async () => {
    const run = await runCliCaptured([...base(), '--allow-plaintext'], { ...PASSWORDS, MAILFERRY_TO_PASSWORD: 'wrong' });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /destination.*refused the user name or password/);
    assert.doesNotMatch(run.stderr, /wrong|dest-secret|source-secret/, 'no password in the output');
    noStackTrace(run.stderr);
  });

  test('plain IMAP without --allow-plaintext', async () => {
    const run = await runCliCaptured(base(), PASSWORDS);
    assert.equal(run.code, 2);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    noStackTrace(run.stderr);
  });

  test('nothing listening on the port', async () => {
    const run = await runCliCaptured(['copy', '--from', 'imap://alice@127.0.0.1:1', '--to', `imap://bob@127.0.0.1:${server.port}`, '--allow-plaintext', '--state', freshStateDir()], PASSWORDS);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /source.*Nothing answered on that port/);
  });

  test('bad arguments', async () => {
    assert.equal((await runCliCaptured(['copy', '--to', 'imaps://a@b'], PASSWORDS)).code, 2);
    assert.equal((await runCliCaptured(['copy', '--from', 'ftp://a@b', '--to', 'imaps://a@b'], PASSWORDS)).code, 2);
    assert.equal((await runCliCaptured(['frobnicate'], PASSWORDS)).code, 2);
    assert.equal((await runCliCaptured(['copy', '--bogus'], PASSWORDS)).code, 2);
    const help = await runCliCaptured(['--help'], PASSWORDS);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /mailferry copy --from URL --to URL/);
  });

  test('a folder that does not exist', async () => {
    const run = await runCliCaptured([...base(), '--allow-plaintext', '--folder', 'Nope'], PASSWORDS);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /No such source folder: Nope/);
  });
});
