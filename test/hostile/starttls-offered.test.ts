/**
 * `--allow-plaintext` permits a server without TLS; it never skips the STARTTLS a server offers:
 * both the wire session and imapflow upgrade first, verify the certificate (or the pinned one),
 * and send the password only inside TLS.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { selfSignedCert } from '../support/dovecot.js';
import { startHostileImap, type HostileImapServer } from '../support/hostile-imap.js';
import { runIntoArchive, type MeasuredRun } from './measured-cli.js';

const plan = (server: HostileImapServer, extra: string[] = []): Promise<MeasuredRun> =>
  runIntoArchive('plan', `imap://me@127.0.0.1:${server.port}`, ['--allow-plaintext', '--timeout', '10', ...extra]);

const logins = (server: HostileImapServer) => server.connections.flatMap((c) => c.commands.filter((x) => x.name === 'AUTHENTICATE' || x.name === 'LOGIN'));

describe('STARTTLS when offered', { concurrency: false }, () => {
  test('a server that offers STARTTLS gets it: an untrusted certificate is refused before any password', async () => {
    const cert = await selfSignedCert();
    const server = await startHostileImap({ tls: { key: readFileSync(cert.keyPath, 'utf8'), cert: cert.certPem } });
    try {
      const run = await plan(server);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /^mailferry: Could not open the source: The server's certificate is not trusted \(self-signed or unknown issuer\) \(127\.0\.0\.1:\d+\)\./);
      assert.ok(run.stderr.includes(cert.fingerprint), 'the fingerprint is shown, to pin it');
      assert.ok(server.connections.some((c) => c.commands.some((x) => x.name === 'STARTTLS')), 'STARTTLS was asked for');
      assert.deepEqual(logins(server), [], 'no password was sent');
    } finally {
      await server.stop();
    }
  });

  test('with the certificate pinned, both connections log in only inside TLS', async () => {
    const cert = await selfSignedCert();
    const server = await startHostileImap({ tls: { key: readFileSync(cert.keyPath, 'utf8'), cert: cert.certPem } });
    try {
      const run = await plan(server, ['--from-fingerprint', cert.fingerprint]);
      assert.equal(run.code, 0, run.stderr);
      // The wire session (reading) and imapflow (listing folders) each logged in.
      assert.ok(logins(server).length >= 2, JSON.stringify(server.connections.map((c) => c.commands)));
      assert.ok(
        logins(server).every((x) => x.isTls),
        'every login inside TLS',
      );
    } finally {
      await server.stop();
    }
  });

  test('a server without STARTTLS is still allowed in plain text', async () => {
    const server = await startHostileImap();
    try {
      const run = await plan(server);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(logins(server).length >= 2 && logins(server).every((x) => !x.isTls));
    } finally {
      await server.stop();
    }
  });
});
