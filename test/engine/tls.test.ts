/** Implicit TLS and STARTTLS against a Dovecot with a self-signed certificate: verified, or pinned. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillAccount, generateCorpus } from '../support/corpus.js';
import { diffMail, snapshotAccount } from '../support/mail-snapshot.js';
import { freshStateDir, PASSWORDS, runCliCaptured } from './cli-harness.js';

describe('TLS', () => {
  let server: DovecotServer;
  before(async () => {
    server = await startDovecot({ tls: true, requireTls: true, users: [{ name: 'alice', password: PASSWORDS.MAILFERRY_FROM_PASSWORD }, { name: 'bob', password: PASSWORDS.MAILFERRY_TO_PASSWORD }] });
    await fillAccount(server.account('alice', 'tls'), generateCorpus({ seed: 'tls', messagesPerFolder: 1, specials: false, folders: [{ segments: ['INBOX'] }, { segments: ['Notes'] }] }));
  });
  after(async () => {
    await server?.stop();
  });

  test('an untrusted certificate is refused with its fingerprint, before any password is sent', async () => {
    const sessionsBefore = server.clientCommands('alice').length;
    const run = await runCliCaptured(['plan', '--from', `imaps://alice@127.0.0.1:${server.tlsPort}`, '--to', `imap://bob@127.0.0.1:${server.port}`, '--state', freshStateDir()], PASSWORDS);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /certificate is not trusted/);
    assert.ok(server.certFingerprint && run.stderr.includes(server.certFingerprint), run.stderr);
    assert.match(run.stderr, /--from-fingerprint/);
    assert.equal(server.clientCommands('alice').length, sessionsBefore, 'no session was opened for the user');
  });

  test('plain IMAP is refused by a server that requires TLS, and by us without --allow-plaintext', async () => {
    const run = await runCliCaptured(['plan', '--from', `imap://alice@127.0.0.1:${server.port}`, '--to', `imap://bob@127.0.0.1:${server.port}`, '--state', freshStateDir(), '--from-fingerprint', 'AA'], PASSWORDS);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /not the one you chose to trust/);
  });

  test('a pinned certificate over implicit TLS and over STARTTLS copies everything', async () => {
    const fingerprint = server.certFingerprint as string;
    const args = [
      'copy',
      '--from',
      `imaps://alice@127.0.0.1:${server.tlsPort}`,
      '--from-fingerprint',
      fingerprint,
      '--to',
      `imap://bob@127.0.0.1:${server.port}`,
      '--to-fingerprint',
      fingerprint.toLowerCase(),
      '--state',
      freshStateDir(),
      '--json',
    ];
    const run = await runCliCaptured(args, PASSWORDS);
    assert.equal(run.code, 0, run.stderr);
    const source = await snapshotAccount(server.account('alice', 'tls'));
    assert.deepEqual(diffMail(source, await snapshotAccount(server.account('bob', 'tls')), { allowExtraFolders: true }), []);
    const commands = server.clientCommands('bob').join('\n');
    assert.match(commands, /APPEND/);
  });
});
