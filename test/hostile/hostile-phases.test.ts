/**
 * A hostile server cannot hold the CLI in any phase of opening a connection: connect, TLS,
 * greeting, STARTTLS and login each end at their deadline (here `--timeout 2`), over the wire
 * session (the first connection) and over imapflow (the second, which lists folders), also when
 * the server trickles a byte now and then so that no idle timer ever fires. Each run ends with
 * exit status 2 and one sentence, its peak memory under 300 MB.
 *
 * Times are measured at the server (from the moment it began to stall to the moment the client
 * went), so a slow start of the CLI under load does not count; the bounds allow the deadline
 * plus room for a busy machine, far below "for ever".
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { selfSignedCert } from '../support/dovecot.js';
import { startHostileImap, startUnacceptingListener, type HostileImapServer, type HostileRecord } from '../support/hostile-imap.js';
import { runIntoArchive, type MeasuredRun } from './measured-cli.js';

const TIMEOUT_S = 2;
/** Deadline plus room for a loaded machine. */
const SLACK_MS = 6_000;
const MAX_RSS_MB = 300;

const plan = (from: string, extra: string[] = []): Promise<MeasuredRun> => runIntoArchive('plan', from, ['--timeout', String(TIMEOUT_S), ...extra]);

const plainFrom = (server: HostileImapServer): string => `imap://me@127.0.0.1:${server.port}`;

/**
 * Exit status `code` (2: a connection could not be opened; 1: planning failed on a retryable
 * error), one sentence matching `sentence`, no stack trace, memory bounded.
 */
const assertRefused = (run: MeasuredRun, sentence: RegExp, code = 2): void => {
  assert.equal(run.isKilled, false, 'the CLI ended by itself');
  assert.equal(run.code, code, run.stderr);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${run.stderr}`);
  assert.match(lines[0] as string, sentence);
  assert.ok(run.peakRssMb < MAX_RSS_MB, `peak RSS ${run.peakRssMb.toFixed(0)} MB`);
};

/** How long the client stayed after `from` (ms since epoch) on this connection. */
const stayedMs = (record: HostileRecord | undefined, from: number | undefined): number => {
  assert.ok(record?.closedAt !== undefined && from !== undefined, 'the connection was closed by the client');
  return record.closedAt - from;
};

const assertDeadline = (ms: number, deadlineMs: number): void => {
  // Timed in the test process, which a busy machine may schedule late: half the deadline proves it was waited for.
  assert.ok(ms >= deadlineMs / 2, `ended by its deadline, not before (${ms} ms)`);
  assert.ok(ms < deadlineMs + SLACK_MS, `ended at its deadline (${ms} ms)`);
};

describe('every phase of opening a connection has a deadline', { concurrency: false }, () => {
  test('connect: a port that never accepts', async () => {
    const listener = await startUnacceptingListener();
    try {
      const started = Date.now();
      const run = await plan(`imap://me@127.0.0.1:${listener.port}`, ['--allow-plaintext']);
      assertRefused(run, /^mailferry: Could not open the source: The server stopped answering \(127\.0\.0\.1:\d+\)\.$/);
      assert.ok(Date.now() - started < TIMEOUT_S * 1000 + 20_000, 'bounded by the connect timeout');
    } finally {
      await listener.stop();
    }
  });

  test('greeting: the server accepts and says nothing', async () => {
    const server = await startHostileImap({ script: (event, conn) => (event.kind === 'greeting' ? conn.stall() : 'default') });
    try {
      const run = await plan(plainFrom(server), ['--allow-plaintext']);
      assertRefused(run, /^mailferry: Could not open the source: The server did not greet us \(127\.0\.0\.1:\d+\)\. If this port expects TLS, choose TLS security\.$/);
      assertDeadline(stayedMs(server.connections[0], server.connections[0]?.openedAt), TIMEOUT_S * 1000);
    } finally {
      await server.stop();
    }
  });

  test('TLS: an imaps:// port that never answers the handshake', async () => {
    const server = await startHostileImap({ script: (event, conn) => (event.kind === 'greeting' ? conn.stall() : 'default') });
    try {
      const run = await plan(`imaps://me@127.0.0.1:${server.port}`);
      assertRefused(run, /^mailferry: Could not open the source: The server stopped answering \(127\.0\.0\.1:\d+\)\.$/);
      assertDeadline(stayedMs(server.connections[0], server.connections[0]?.openedAt), TIMEOUT_S * 1000);
    } finally {
      await server.stop();
    }
  });

  // With a pinned certificate each connection is preceded by a probe of it (no credentials):
  // 0 probes for the wire session, 1 is the wire session, 2 probes for imapflow, 3 is imapflow.
  for (const [label, connection] of [
    ['certificate probe', 0],
    ['wire session', 1],
    ['imapflow', 3],
  ] as const) {
    test(`STARTTLS (${label}): the server says OK and never begins the handshake`, async () => {
      const cert = await selfSignedCert();
      let okAt: number | undefined;
      const server = await startHostileImap({
        tls: { key: readFileSync(cert.keyPath, 'utf8'), cert: cert.certPem },
        script: (event, conn) => {
          if (event.kind !== 'handshake' || conn.index !== connection) return 'default';
          okAt = Date.now();
          return conn.stall();
        },
      });
      try {
        const run = await plan(plainFrom(server), ['--from-fingerprint', cert.fingerprint]);
        assertRefused(run, connection === 3 ? /^mailferry: The server stopped answering \(127\.0\.0\.1:\d+\)\.$/ : /^mailferry: Could not open the source: The server stopped answering \(127\.0\.0\.1:\d+\)\.$/, connection === 3 ? 1 : 2);
        // imapflow's own STARTTLS timer is a fixed 10 s; the deadline of its whole opening
        // (connect, greeting and twice the idle timeout: connect-imap.ts) ends it first.
        assertDeadline(stayedMs(server.connections[connection], okAt), connection === 3 ? 4 * TIMEOUT_S * 1000 : TIMEOUT_S * 1000);
        for (const c of server.connections) for (const command of c.commands) if (command.name === 'AUTHENTICATE' || command.name === 'LOGIN') assert.ok(command.isTls, 'a login only over TLS');
      } finally {
        await server.stop();
      }
    });
  }

  // The first connection is the wire session (reading), the second imapflow's (listing folders).
  for (const [label, connection] of [
    ['wire session', 0],
    ['imapflow', 1],
  ] as const) {
    test(`login (${label}): the server never answers AUTHENTICATE`, async () => {
      let stalledAt: number | undefined;
      const server = await startHostileImap({
        script: (event, conn) => {
          if (event.kind !== 'command' || event.name !== 'AUTHENTICATE' || conn.index !== connection) return 'default';
          stalledAt = Date.now();
          return conn.stall();
        },
      });
      try {
        const run = await plan(plainFrom(server), ['--allow-plaintext']);
        // Listing folders (imapflow) comes after the source opened: a plan that failed, not an open.
        assertRefused(run, connection === 0 ? /^mailferry: Could not open the source: The server stopped answering \(127\.0\.0\.1:\d+\)\.$/ : /^mailferry: The server stopped answering \(127\.0\.0\.1:\d+\)\.$/, connection === 0 ? 2 : 1);
        assertDeadline(stayedMs(server.connections[connection], stalledAt), TIMEOUT_S * 1000);
      } finally {
        await server.stop();
      }
    });

    test(`login (${label}): the server trickles a byte every 300 ms and never finishes`, async () => {
      let trickleAt: number | undefined;
      const server = await startHostileImap({
        script: (event, conn) => {
          if (event.kind !== 'command' || event.name !== 'AUTHENTICATE' || conn.index !== connection) return 'default';
          trickleAt = Date.now();
          return conn.trickle(300);
        },
      });
      try {
        const run = await plan(plainFrom(server), ['--allow-plaintext']);
        // Listing folders (imapflow) comes after the source opened: a plan that failed, not an open.
        assertRefused(run, connection === 0 ? /^mailferry: Could not open the source: The server stopped answering \(127\.0\.0\.1:\d+\)\.$/ : /^mailferry: The server stopped answering \(127\.0\.0\.1:\d+\)\.$/, connection === 0 ? 2 : 1);
        const stayed = stayedMs(server.connections[connection], trickleAt);
        if (connection === 0) {
          // The wire session gives a login its own deadline, the idle timeout itself. Its clock
          // starts when the command leaves, a little before the server times its arrival, so the
          // two may be equal to the millisecond: "not before its deadline" is all there is to show.
          assertDeadline(stayed, TIMEOUT_S * 1000);
        } else {
          // imapflow's whole opening has one deadline (connect, greeting and twice the idle
          // timeout), and the trickle keeps its idle timer from ending the login sooner.
          assert.ok(stayed < 4 * TIMEOUT_S * 1000 + SLACK_MS, `ended by the deadline (${stayed} ms)`);
          assert.ok(stayed > TIMEOUT_S * 1000, `the trickle outlived the idle timeout (${stayed} ms)`);
        }
      } finally {
        await server.stop();
      }
    });
  }
});
