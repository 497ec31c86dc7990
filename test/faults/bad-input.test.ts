/**
 * Fault family: bad input and unfriendly servers. Wrong password, unknown host, closed port, TLS
 * to a plaintext port and the reverse, STARTTLS asked of a server without it, a self-signed and a
 * mis-pinned certificate, a destination without UIDPLUS, a folder deleted on the source while
 * queued. Each ends in one clear sentence and the right state; nothing is half-done silently;
 * no password appears in any output or file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { runCli } from '../../src/cli/run-cli.js';
import { findFreePorts, startDovecot } from '../support/dovecot.js';
import { runCli as runCliChild } from './cli-child.js';
import { generateCorpus } from '../support/corpus.js';
import { openTestClient, snapshotAccount } from '../support/mail-snapshot.js';
import { assertDone, assertWorldIntact, DESTINATION_USER, runCopy, SOURCE_USER, startWorld, type World } from './harness.js';

const ENV = { MAILFERRY_FROM_PASSWORD: SOURCE_USER.password, MAILFERRY_TO_PASSWORD: DESTINATION_USER.password };

const filesUnder = (dir: string): string[] => {
  try {
    return readdirSync(dir).flatMap((name) => {
      const full = join(dir, name);
      return statSync(full).isDirectory() ? filesUnder(full) : [full];
    });
  } catch {
    return [];
  }
};

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
  stateDir: string;
}

/** The CLI in this process (the same code path as the binary, minus process start-up). */
const cli = async (args: string[], env: Record<string, string> = ENV): Promise<Captured> => {
  const stateDir = mkdtempSync(join(tmpdir(), 'mf-bad-input-'));
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--state', stateDir, '--timeout', '2', '--retry-delay', '0.05'], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env,
  });
  return { code, stdout, stderr, stateDir };
};

/** Exit 2, one sentence naming the side, no password anywhere, no job state written. */
const assertRefusedClearly = (run: Captured, pattern: RegExp): void => {
  try {
    assert.equal(run.code, 2, `exit status 2, got ${run.code}: ${run.stderr}`);
    const first = run.stderr.split('\n')[0] ?? '';
    assert.match(first, /^mailferry: Could not open the (source|destination): /, 'names the side');
    assert.match(first, pattern);
    assert.match(first, /[.)]$/, 'a whole sentence');
    for (const password of [SOURCE_USER.password, DESTINATION_USER.password]) {
      assert.ok(!run.stdout.includes(password) && !run.stderr.includes(password), 'no password in the output');
      for (const file of filesUnder(run.stateDir)) assert.ok(!readFileSync(file, 'latin1').includes(password), `no password in ${file}`);
    }
    assert.deepEqual(filesUnder(run.stateDir), [], 'no job was started');
  } finally {
    rmSync(run.stateDir, { recursive: true, force: true });
  }
};

describe('bad input', { concurrency: false }, () => {
  let world: World;
  before(async () => {
    world = await startWorld({ corpus: generateCorpus({ seed: 121, messagesPerFolder: 2 }), source: { tls: true } });
  });
  after(async () => world?.stop());

  const src = (): string => `imap://${SOURCE_USER.name}@127.0.0.1:${world.source.port}`;
  const dst = (): string => `imap://${DESTINATION_USER.name}@127.0.0.1:${world.destination.port}`;
  const plain = ['--allow-plaintext'];

  test('unknown host', async () => {
    assertRefusedClearly(await cli(['copy', '--from', `imap://someone@no-such-host.invalid:143`, '--to', dst(), ...plain]), /server name could not be found/);
  });

  test('port closed', async () => {
    const [port] = await findFreePorts(1);
    // The source offers STARTTLS, which a plain account uses too: its certificate is pinned.
    assertRefusedClearly(await cli(['copy', '--from', src(), '--from-fingerprint', world.source.certFingerprint as string, '--to', `imap://x@127.0.0.1:${port}`, ...plain]), /Nothing answered on that port/);
  });

  test('TLS to a plaintext port', async () => {
    assertRefusedClearly(await cli(['copy', '--from', `imaps://${SOURCE_USER.name}@127.0.0.1:${world.source.port}`, '--to', dst(), ...plain]), /did not speak TLS/);
  });

  test('plaintext to a TLS port', async () => {
    const started = Date.now();
    const run = await cli(['copy', '--from', `imap://${SOURCE_USER.name}@127.0.0.1:${world.source.tlsPort}`, '--to', dst(), ...plain]);
    assertRefusedClearly(run, /did not greet us.*choose TLS/);
    assert.ok(Date.now() - started < 10_000, 'bounded by the timeout');
  });

  test('STARTTLS required but the server offers none', async () => {
    // imap:// without --allow-plaintext means STARTTLS or nothing; the destination has no TLS.
    assertRefusedClearly(await cli(['copy', '--from', src(), '--from-fingerprint', world.source.certFingerprint as string, '--to', dst()]), /does not offer STARTTLS/);
  });

  test('self-signed certificate: refused, with its fingerprint to pin', async () => {
    const run = await cli(['copy', '--from', `imaps://${SOURCE_USER.name}@127.0.0.1:${world.source.tlsPort}`, '--to', dst(), ...plain]);
    assert.ok(run.stderr.includes(world.source.certFingerprint as string), 'the fingerprint is shown');
    assertRefusedClearly(run, /certificate is not trusted/);
  });

  test('a certificate other than the pinned one', async () => {
    const wrongPin = (world.source.certFingerprint as string).replace(/^[0-9A-F]{2}/, (h) => (h === '00' ? '11' : '00'));
    assertRefusedClearly(
      await cli(['copy', '--from', `imaps://${SOURCE_USER.name}@127.0.0.1:${world.source.tlsPort}`, '--from-fingerprint', wrongPin, '--to', dst(), ...plain]),
      /not the one you chose to trust/,
    );
  });

  // Dovecot delays logins from an address after a failed one (auth penalty, 2 s and up): the
  // wrong-password cases come last, the engine one (which plans over the source) first.
  test('wrong password on the destination (engine): the job stops as needs-attention, every folder says why, nothing written', async () => {
    const real = world.destinationCredentials;
    world.destinationCredentials = () => ({ ...real(), oauth: undefined, password: 'wrong-Secret-1111' });
    try {
      const run = await runCopy(world, { seed: 121 });
      assert.equal(run.report.status, 'needs-attention');
      assert.equal(run.report.totals.copied, 0);
      for (const f of run.report.folders) {
        assert.equal(f.status, 'needs-attention', f.sourcePath);
        assert.equal(f.error?.kind, 'auth', f.sourcePath);
      }
      assert.ok(run.destinationOpens.length <= 2, `a refused login is not retried (${run.destinationOpens.length} attempts)`);
      const text = JSON.stringify(run.events);
      for (const password of ['wrong-Secret-1111', SOURCE_USER.password, DESTINATION_USER.password]) assert.ok(!text.includes(password), 'no password in any event');
      await assertWorldIntact(world, { sourceNow: { folders: [] } });
    } finally {
      world.destinationCredentials = real;
    }
  });

  test('wrong password on the source (CLI): refused in one sentence, nothing copied', async () => {
    const run = await cli(['copy', '--from', src(), '--from-fingerprint', world.source.certFingerprint as string, '--to', dst(), ...plain], { ...ENV, MAILFERRY_FROM_PASSWORD: 'wrong-Secret-0000' });
    assertRefusedClearly(run, /refused the user name or password/);
    assert.ok(!run.stderr.includes('wrong-Secret-0000'), 'not even the wrong password is echoed');
  });

  test('after all of the above the destination is exactly as it was', async () => {
    const destination = await snapshotAccount(world.destinationAccount());
    assert.deepEqual(
      destination.folders.map((f) => [f.path, f.messages.length]),
      world.before.destination.folders.map((f) => [f.path, f.messages.length]),
    );
  });
});

describe('unfriendly servers', { concurrency: false }, () => {
  test('a destination without UIDPLUS: copied exactly once, even when APPEND answers are lost', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 122, messagesPerFolder: 3 }), destination: { disableCapabilities: ['UIDPLUS'] } });
    try {
      const [drop] = world.destinationProxy.setFaults([{ kind: 'drop', direction: 'server-to-client', onCommand: /^\S+ APPEND /i, afterBytes: 1, times: 3 }]);
      const run = await runCopy(world, { seed: 122 });
      assert.equal(drop?.firedCount, 3);
      assertDone(run.report);
      await assertWorldIntact(world);
      // A re-run finds everything in place.
      const again = await runCopy(world, { seed: 123 });
      assertDone(again.report);
      await assertWorldIntact(world);
    } finally {
      await world.stop();
    }
  });

  test('a folder deleted on the source while queued: that folder says so, the rest is copied, nothing made for it', async () => {
    const world = await startWorld({ corpus: generateCorpus({ seed: 124, messagesPerFolder: 2 }) });
    try {
      const gone = 'Reisen/Überfahrt';
      const run = await runCopy(world, {
        seed: 124,
        afterPlan: async () => {
          const client = await openTestClient(world.sourceAccount());
          try {
            await client.mailboxDelete(gone);
          } finally {
            await client.logout().catch(() => client.close());
          }
        },
      });
      const report = run.report.folders.find((f) => f.sourcePath === gone);
      assert.equal(report?.status, 'needs-attention');
      assert.equal(report?.error?.kind, 'not-found');
      assert.match(report?.error?.message ?? '', /does not exist/);
      for (const f of run.report.folders.filter((f) => f.sourcePath !== gone)) assert.equal(f.isComplete, true, `${f.sourcePath} complete`);
      assert.equal(run.report.status, 'needs-attention');
      const sourceNow = await snapshotAccount(world.sourceAccount());
      const destination = await assertWorldIntact(world, { sourceBefore: sourceNow });
      assert.ok(!destination.destination.folders.some((f) => f.path === gone), 'no destination folder was made for it');
    } finally {
      await world.stop();
    }
  });
});

describe('a certificate for another name', () => {
  test('issued by a trusted CA but not for this host: refused before login, in one sentence', async () => {
    // A private CA the CLI process is told to trust (NODE_EXTRA_CA_CERTS), and a leaf for
    // wrong.example served on 127.0.0.1: the chain verifies, the name does not.
    const dir = mkdtempSync(join(tmpdir(), 'mf-wrong-name-'));
    const openssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore', timeout: 30_000 });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(['req', '-x509', ...ec, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-days', '3650', '-subj', '/CN=Mailferry Test CA']);
    openssl(['req', ...ec, '-keyout', join(dir, 'leaf.key'), '-out', join(dir, 'leaf.csr'), '-subj', '/CN=wrong.example']);
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:wrong.example\n');
    openssl(['x509', '-req', '-in', join(dir, 'leaf.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', join(dir, 'leaf.pem'), '-days', '3650', '-extfile', join(dir, 'ext.cnf')]);
    chmodSync(dir, 0o755);
    for (const f of ['leaf.pem', 'leaf.key']) chmodSync(join(dir, f), 0o644);
    const server = await startDovecot({
      users: [SOURCE_USER, DESTINATION_USER],
      tls: true,
      extraConfig: `ssl_cert = <${join(dir, 'leaf.pem')}\nssl_key = <${join(dir, 'leaf.key')}\n`,
    });
    const stateDir = mkdtempSync(join(tmpdir(), 'mf-wrong-name-state-'));
    try {
      const run = await runCliChild(
        ['copy', '--from', `imaps://${SOURCE_USER.name}@127.0.0.1:${server.tlsPort}`, '--to', `imap://${DESTINATION_USER.name}@127.0.0.1:${server.port}`, '--allow-plaintext', '--state', stateDir, '--timeout', '2'],
        { env: { NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') } },
      );
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr.split('\n')[0] ?? '', /^mailferry: Could not open the source: The server's certificate is for a different name \(127\.0\.0\.1:\d+\)\.$/);
      for (const password of [SOURCE_USER.password, DESTINATION_USER.password]) assert.ok(!run.stdout.includes(password) && !run.stderr.includes(password));
      assert.deepEqual(server.clientCommands(SOURCE_USER.name), [], 'no session was opened: the password never left');
      assert.deepEqual(filesUnder(stateDir), [], 'no job was started');
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
