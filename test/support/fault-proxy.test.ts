import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { findDestructive, WireLog } from './imap-wire.js';

/** Longest a test waits for something that should happen promptly. */
const WAIT_MS = 5000;

/**
 * A tiny IMAP-ish server: greets, answers every command `TAG OK NAME done`, asks for
 * synchronizing literals with "+", and answers `TAG BIG n` with an n-byte FETCH literal.
 * It keeps every byte it received so tests can see what the proxy let through.
 */
class FakeServer {
  readonly received: Buffer[] = [];
  readonly log = new WireLog();
  private server = net.createServer((socket) => this.accept(socket));
  private sockets = new Set<net.Socket>();
  private count = 0;
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    assert.ok(address && typeof address === 'object');
    this.port = address.port;
  }

  receivedText(): string {
    return Buffer.concat(this.received).toString('latin1');
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const recorder = this.log.connection(++this.count);
    socket.write('* OK [CAPABILITY IMAP4rev1 LITERAL+] fake ready\r\n');
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      for (const segment of recorder.client(chunk)) {
        if (segment.literal?.synchronizing && segment.literal.size > 0) {
          socket.write('+ go ahead\r\n');
        }
        if (segment.endsCommand && segment.command) {
          const { tag, name, line } = segment.command;
          const big = /^\S+ BIG (\d+)/i.exec(line);
          if (big) {
            const size = Number(big[1]);
            socket.write(`* 1 FETCH (BODY[] {${size}}\r\n${'x'.repeat(size)})\r\n`);
          }
          socket.write(`${tag} OK ${name} done\r\n`);
        }
      }
    });
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A raw client socket that collects what it receives. */
class RawClient {
  readonly socket: net.Socket;
  data = '';
  closed = false;
  error: NodeJS.ErrnoException | undefined;
  private listeners: (() => void)[] = [];

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.data += chunk.toString('latin1');
      this.notify();
    });
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error = error;
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Resolves when `check()` holds (checked on every event), rejects after WAIT_MS. */
  until(what: string, check: () => boolean): Promise<void> {
    if (check()) {
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.data.slice(-300))}`));
      }, WAIT_MS);
      const listener = (): void => {
        if (check()) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((l) => l !== listener);
          resolve();
        }
      };
      this.listeners.push(listener);
    });
  }

  waitFor(pattern: RegExp): Promise<void> {
    return this.until(String(pattern), () => pattern.test(this.data));
  }

  waitClosed(): Promise<void> {
    return this.until('close', () => this.closed);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) {
      listener();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Polls `check` every 10 ms until it holds, for at most WAIT_MS. */
async function eventually(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited >= WAIT_MS) {
      assert.fail('condition not met in time');
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }
}

const GREETING = '* OK [CAPABILITY IMAP4rev1 LITERAL+] fake ready\r\n';

describe('fault proxy against a fake server', () => {
  let server: FakeServer;
  let proxy: FaultProxy;
  const clients: RawClient[] = [];
  const connect = async (): Promise<RawClient> => {
    const client = new RawClient(proxy.port);
    clients.push(client);
    return client;
  };

  before(async () => {
    server = new FakeServer();
    await server.start();
  });
  after(async () => {
    await server.stop();
  });

  /** A fresh proxy per test. */
  const withProxy = (name: string, body: () => Promise<void>): void => {
    it(name, async () => {
      proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: server.port });
      try {
        await body();
      } finally {
        for (const client of clients.splice(0)) {
          client.destroy();
        }
        await proxy.stop();
      }
    });
  };

  withProxy('forwards both ways and records commands and replies', async () => {
    const client = await connect();
    await client.waitFor(/fake ready\r\n/);
    client.send('a1 APPEND INBOX {23+}\r\nz9 EXPUNGE\r\nmore text\r\n\r\na2 NOOP\r\n');
    await client.waitFor(/a2 OK NOOP done\r\n/);
    assert.equal(client.data, `${GREETING}a1 OK APPEND done\r\na2 OK NOOP done\r\n`);
    assert.deepEqual(proxy.wire().commands().map((c) => c.line), ['a1 APPEND INBOX {23 bytes}', 'a2 NOOP']);
    assert.deepEqual(proxy.wire().responses().map((r) => `${r.tag} ${r.status}`), ['* OK', 'a1 OK', 'a2 OK']);
    assert.equal(proxy.connections(), 1);
    assert.equal(proxy.openConnections(), 1);
  });

  withProxy('drop: closes both sides after exactly N server bytes, on one connection only', async () => {
    const [drop] = proxy.setFaults([{ kind: 'drop', direction: 'server-to-client', afterBytes: 10 }]);
    const first = await connect();
    await first.waitClosed();
    assert.equal(first.data, GREETING.slice(0, 10));
    assert.equal(drop?.firedCount, 1);
    const second = await connect();
    await second.waitFor(/fake ready\r\n/);
    assert.equal(second.closed, false);
    assert.deepEqual(proxy.events().map((e) => [e.kind, e.connection]), [['drop', 1]]);
  });

  withProxy('drop: every connection with times: Infinity', async () => {
    const [drop] = proxy.setFaults([{ kind: 'drop', direction: 'server-to-client', afterBytes: 4, times: Infinity }]);
    for (let i = 0; i < 3; i++) {
      const client = await connect();
      await client.waitClosed();
      assert.equal(client.data, '* OK');
    }
    assert.equal(drop?.firedCount, 3);
  });

  withProxy('drop: only on the connection named', async () => {
    const [drop] = proxy.setFaults([{ kind: 'drop', direction: 'server-to-client', afterBytes: 0, times: Infinity, connection: 2 }]);
    const first = await connect();
    await first.waitFor(/fake ready\r\n/);
    const second = await connect();
    await second.waitClosed();
    assert.equal(second.data, '');
    const third = await connect();
    await third.waitFor(/fake ready\r\n/);
    assert.deepEqual(drop?.events.map((e) => e.connection), [2]);
  });

  withProxy('drop: mid-APPEND, K bytes into the literal, the server gets exactly that much', async () => {
    const [drop] = proxy.setFaults([{ kind: 'drop', direction: 'client-to-server', onCommand: /^\S+ APPEND /i, afterBytes: 7 }]);
    const client = await connect();
    await client.waitFor(/fake ready/);
    const before = server.received.length;
    client.send('b1 NOOP\r\nb2 APPEND INBOX {20+}\r\n0123456789abcdefghij\r\nb3 NOOP\r\n');
    await client.waitClosed();
    assert.equal(drop?.firedCount, 1);
    // The client may see the close before the fake server has read the last bytes.
    const got = (): string => Buffer.concat(server.received.slice(before)).toString('latin1');
    await eventually(() => got().endsWith('0123456'));
    assert.equal(got(), 'b1 NOOP\r\nb2 APPEND INBOX {20+}\r\n0123456');
    // The wire log records what the client sent, b3 included, though the server never got it.
    assert.deepEqual(proxy.wire().commands().map((c) => c.tag), ['b1', 'b2', 'b3']);
  });

  withProxy('drop: random points are seeded, within range, and the same for the same seed', async () => {
    const points = async (seed: number): Promise<number[]> => {
      proxy.setFaults([{ kind: 'drop', direction: 'server-to-client', onCommand: /BIG/, randomBetween: [100, 5000], seed, times: Infinity }]);
      const received: number[] = [];
      for (let i = 0; i < 4; i++) {
        const client = await connect();
        await client.waitFor(/fake ready\r\n/);
        client.send('c1 BIG 10000\r\n');
        await client.waitClosed();
        received.push(client.data.length - GREETING.length);
      }
      return received;
    };
    const first = await points(42);
    const again = await points(42);
    const other = await points(7);
    assert.deepEqual(again, first);
    assert.notDeepEqual(other, first);
    for (const point of [...first, ...other]) {
      assert.ok(point >= 100 && point <= 5000, `drop point ${point} in range`);
    }
    assert.ok(new Set(first).size > 1, 'points differ between connections');
  });

  withProxy('drop: a plan set mid-connection counts from when it is set', async () => {
    const client = await connect();
    client.send('d1 NOOP\r\n');
    await client.waitFor(/d1 OK/);
    const [drop] = proxy.setFaults([{ kind: 'drop', direction: 'server-to-client', afterBytes: 3 }]);
    client.send('d2 NOOP\r\n');
    await client.waitClosed();
    assert.ok(client.data.endsWith('d1 OK NOOP done\r\nd2 '), JSON.stringify(client.data));
    assert.equal(drop?.firedCount, 1);
  });

  withProxy('stall: holds both directions for durationMs, keeping the sockets open', async () => {
    const [stall] = proxy.setFaults([{ kind: 'stall', onCommand: /^\S+ NOOP/i, durationMs: 400 }]);
    const client = await connect();
    await client.waitFor(/fake ready\r\n/);
    const started = Date.now();
    client.send('e1 NOOP\r\n');
    await stall?.whenFired(1, WAIT_MS);
    client.send('e2 CHECK\r\n');
    await client.waitFor(/e2 OK CHECK done\r\n/);
    const waited = Date.now() - started;
    assert.ok(waited >= 390, `stalled ${waited} ms`);
    assert.equal(client.closed, false);
    assert.equal(stall?.firedCount, 1);
  });

  withProxy('stall: until cleared', async () => {
    const [stall] = proxy.setFaults([{ kind: 'stall', direction: 'client-to-server', afterBytes: 0 }]);
    const client = await connect();
    client.send('f1 NOOP\r\n');
    await stall?.whenFired(1, WAIT_MS);
    // Nothing may pass while stalled: give it time to, then lift the stall.
    await new Promise<void>((resolve) => setTimeout(resolve, 300));
    assert.equal(client.data, '');
    proxy.clearFaults();
    await client.waitFor(/f1 OK NOOP done\r\n/);
    assert.equal(client.data, `${GREETING}f1 OK NOOP done\r\n`);
  });

  withProxy('slow-link: reads ahead of the server, delivers at its rate, and still delivers after the client\'s FIN', async () => {
    const [link] = proxy.setFaults([{ kind: 'slow-link', bytesPerSecond: 200_000 }]);
    const client = await connect();
    await client.waitFor(/fake ready\r\n/);
    const literal = 'y'.repeat(300_000);
    const before = server.received.length;
    const started = Date.now();
    client.send(`s1 APPEND INBOX {${literal.length}+}\r\n${literal}\r\n`);
    const sent = await proxy.whenCommandSent(/^\S+ APPEND /);
    assert.equal(sent.tag, 's1');
    // The proxy has read the whole command at once; the server gets it at 200 KB/s.
    const deliveredSoFar = Buffer.concat(server.received.slice(before)).length;
    assert.ok(deliveredSoFar < literal.length, `the server had ${deliveredSoFar} bytes when the proxy had read the whole command`);
    client.socket.end();
    await proxy.whenIdle(WAIT_MS);
    const took = Date.now() - started;
    assert.equal(Buffer.concat(server.received.slice(before)).toString('latin1'), `s1 APPEND INBOX {${literal.length}+}\r\n${literal}\r\n`);
    assert.ok(took >= 1_300, `delivered at the link's rate (${took} ms for 300 KB at 200 KB/s)`);
    assert.ok((link?.firedCount ?? 0) > 0);
  });

  withProxy('slow-link: after the client\'s RST, what was read is delivered with deliversAfterReset, and dropped without', async () => {
    for (const deliversAfterReset of [true, false]) {
      proxy.setFaults([{ kind: 'slow-link', bytesPerSecond: 300_000, deliversAfterReset }]);
      const client = await connect();
      await client.waitFor(/fake ready\r\n/);
      const literal = 'z'.repeat(200_000);
      const before = server.received.length;
      const command = `r1 APPEND INBOX {${literal.length}+}\r\n${literal}\r\n`;
      client.send(command);
      await proxy.whenCommandSent(/^\S+ APPEND /);
      client.socket.resetAndDestroy();
      await proxy.whenIdle(WAIT_MS);
      const got = Buffer.concat(server.received.slice(before)).length;
      if (deliversAfterReset) assert.equal(got, command.length, 'a middlebox delivers what it read');
      else assert.ok(got < literal.length, `the reset dropped what was queued (${got} bytes arrived)`);
    }
  });

  withProxy('stall beforeCommandEnd: the server gets all of the command but its final CRLF until the stall ends', async () => {
    const [hold] = proxy.setFaults([{ kind: 'stall', onCommand: /^\S+ APPEND /i, beforeCommandEnd: true, durationMs: 300 }]);
    const client = await connect();
    await client.waitFor(/fake ready\r\n/);
    const before = server.received.length;
    client.send('h1 APPEND INBOX {5+}\r\nhello\r\n');
    await hold?.whenFired(1, WAIT_MS);
    await eventually(() => Buffer.concat(server.received.slice(before)).toString('latin1').endsWith('hello'));
    assert.equal(client.data.includes('h1 OK'), false, 'no answer while the end is held');
    await client.waitFor(/h1 OK APPEND done\r\n/);
    assert.equal(Buffer.concat(server.received.slice(before)).toString('latin1'), 'h1 APPEND INBOX {5+}\r\nhello\r\n');
  });

  withProxy('latency: delays each way and keeps order when changed mid-stream', async () => {
    const [latency] = proxy.setFaults([{ kind: 'latency', ms: 150 }]);
    const client = await connect();
    await client.waitFor(/fake ready\r\n/);
    const started = Date.now();
    client.send('g0 NOOP\r\n');
    await client.waitFor(/g0 OK/);
    const roundTrip = Date.now() - started;
    assert.ok(roundTrip >= 290, `round trip ${roundTrip} ms`);
    assert.ok((latency?.firedCount ?? 0) >= 2);

    const before = server.received.length;
    for (let i = 1; i <= 100; i++) {
      client.send(`g${i} NOOP\r\n`);
      if (i === 50) {
        proxy.setFaults([{ kind: 'latency', ms: 0, direction: 'client-to-server' }]);
      }
    }
    await client.waitFor(/g100 OK/);
    const tags = Buffer.concat(server.received.slice(before)).toString('latin1').split('\r\n').filter(Boolean).map((l) => l.split(' ')[0]);
    assert.deepEqual(tags, Array.from({ length: 100 }, (_, i) => `g${i + 1}`));
  });

  withProxy('bandwidth: caps bytes per second', async () => {
    const [cap] = proxy.setFaults([{ kind: 'bandwidth', bytesPerSecond: 40_000, direction: 'server-to-client' }]);
    const client = await connect();
    await client.waitFor(/fake ready\r\n/);
    const started = Date.now();
    client.send('h1 BIG 20000\r\n');
    await client.waitFor(/h1 OK/);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 450 && elapsed < 4000, `20 kB at 40 kB/s took ${elapsed} ms`);
    assert.ok((cap?.firedCount ?? 0) > 5);
  });

  withProxy('refuse: the next K connections get a BYE greeting, then service resumes', async () => {
    const [refuse] = proxy.setFaults([{ kind: 'refuse', connections: 2, greeting: '* BYE [UNAVAILABLE] Too many connections\r\n' }]);
    for (let i = 0; i < 2; i++) {
      const client = await connect();
      await client.waitClosed();
      assert.equal(client.data, '* BYE [UNAVAILABLE] Too many connections\r\n');
    }
    const third = await connect();
    await third.waitFor(/fake ready/);
    assert.equal(refuse?.firedCount, 2);
    assert.equal(proxy.connections(), 3);
  });

  withProxy('refuse: with a reset, for a time window', async () => {
    proxy.setFaults([{ kind: 'refuse', reset: true, forMs: 60_000 }]);
    const client = await connect();
    await client.waitClosed();
    assert.equal(client.error?.code, 'ECONNRESET');
    proxy.setFaults([{ kind: 'refuse', forMs: 0 }]);
    const next = await connect();
    await next.waitFor(/fake ready/);
  });

  withProxy('inject: answers APPEND with {N+} itself, swallowing the literal, K times', async () => {
    const [inject] = proxy.setFaults([{ kind: 'inject', onCommand: /^\S+ APPEND /i, response: '{tag} NO [LIMIT] Too many commands', times: 2 }]);
    const client = await connect();
    await client.waitFor(/fake ready\r\n/);
    const before = server.received.length;
    client.send('i1 APPEND INBOX {12+}\r\ni9 EXPUNGE\r\n\r\n');
    await client.waitFor(/i1 NO/);
    client.send('i2 APPEND INBOX (\\Seen) {3+}\r\nabc\r\ni3 NOOP\r\ni4 APPEND INBOX {3+}\r\nxyz\r\n');
    await client.waitFor(/i4 OK/);
    assert.equal(
      client.data,
      `${GREETING}i1 NO [LIMIT] Too many commands\r\ni2 NO [LIMIT] Too many commands\r\ni3 OK NOOP done\r\ni4 OK APPEND done\r\n`,
    );
    assert.equal(Buffer.concat(server.received.slice(before)).toString('latin1'), 'i3 NOOP\r\ni4 APPEND INBOX {3+}\r\nxyz\r\n');
    assert.equal(inject?.firedCount, 2);
    assert.deepEqual(proxy.wire().commands().map((c) => [c.tag, c.answeredByProxy]), [['i1', true], ['i2', true], ['i3', false], ['i4', false]]);
    assert.deepEqual(proxy.wire().responses().filter((r) => r.injected).map((r) => r.tag), ['i1', 'i2']);
    // The literal's "i9 EXPUNGE" is data, not a command.
    assert.deepEqual(proxy.wire().destructive().destructive, []);
  });

  withProxy('inject: refuses a synchronizing literal with NO instead of "+"', async () => {
    proxy.setFaults([{ kind: 'inject', onCommand: /^\S+ APPEND /i, response: '{tag} NO [OVERQUOTA] Quota exceeded' }]);
    const client = await connect();
    await client.waitFor(/fake ready\r\n/);
    client.send('j1 APPEND INBOX {5}\r\n');
    await client.waitFor(/j1 NO \[OVERQUOTA\] Quota exceeded\r\n/);
    assert.doesNotMatch(client.data, /\+ go/);
    client.send('j2 EXPUNGE\r\n');
    await client.waitFor(/j2 OK EXPUNGE done/);
    assert.deepEqual(proxy.wire().destructive().destructive.map((f) => f.command.tag), ['j2']);
  });

  withProxy('inject: a global regex matches every time; a later synchronizing literal is answered at once', async () => {
    const [inject] = proxy.setFaults([{ kind: 'inject', onCommand: /APPEND/gi, response: '{tag} NO [UNAVAILABLE] Try later', times: 3 }]);
    const client = await connect();
    await client.waitFor(/fake ready\r\n/);
    client.send('m1 APPEND A {1+}\r\nx\r\nm2 APPEND A {1+}\r\nx\r\n');
    await client.waitFor(/m2 NO/);
    // MULTIAPPEND: a non-synchronizing literal, then a synchronizing one the client waits on.
    client.send('m3 APPEND A {1+}\r\nx {1}\r\n');
    await client.waitFor(/m3 NO/);
    client.send('m4 NOOP\r\n');
    await client.waitFor(/m4 OK/);
    assert.equal(inject?.firedCount, 3);
    assert.doesNotMatch(client.data, /\+ go/);
  });

  withProxy('inject: * BYE then close', async () => {
    const [inject] = proxy.setFaults([{ kind: 'inject', onCommand: /FETCH/i, response: '* BYE [UNAVAILABLE] Try later' }]);
    const client = await connect();
    await client.waitFor(/fake ready\r\n/);
    client.send('k1 UID FETCH 1:* (UID)\r\n');
    await client.waitClosed();
    assert.equal(client.data, `${GREETING}* BYE [UNAVAILABLE] Try later\r\n`);
    assert.equal(inject?.firedCount, 1);
    assert.equal(inject?.events[0]?.connection, 1);
  });

  withProxy('inject: waits for the server to finish a response before answering', async () => {
    proxy.setFaults([{ kind: 'inject', onCommand: /^\S+ NOOP/i, response: '{tag} NO [UNAVAILABLE] Try later' }]);
    const client = await connect();
    await client.waitFor(/fake ready\r\n/);
    // Pipelined: the BIG response is still streaming when NOOP is seen.
    client.send('l1 BIG 300000\r\nl2 NOOP\r\n');
    await client.waitFor(/l2 NO/);
    assert.match(client.data, /x\)\r\nl1 OK BIG done\r\nl2 NO \[UNAVAILABLE\] Try later\r\n$/);
  });

  withProxy('whenFired rejects after its timeout, and stop() ends every connection', async () => {
    const [drop] = proxy.setFaults([{ kind: 'drop', direction: 'server-to-client', onCommand: /NEVER/ }]);
    await assert.rejects(drop?.whenFired(1, 50) ?? Promise.resolve(), /fired 0 of 1 times within 50 ms/);
    const client = await connect();
    await client.waitFor(/fake ready/);
    const pending = drop?.whenFired();
    await proxy.stop();
    await assert.rejects(pending ?? Promise.resolve(), /proxy stopped/);
    await client.waitClosed();
  });
});

/**
 * A tiny private Dovecot (own config, own temp folder, free port on 127.0.0.1), so these tests
 * do not depend on the shared harness. `dovecot -F` runs under an `sh` that kills its process
 * group when its stdin (a pipe from this process) closes: the server cannot outlive the test.
 */
async function startTinyDovecot(): Promise<{ port: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'fault-proxy-dovecot-'));
  chmodSync(dir, 0o755);
  for (const sub of ['run', 'state', 'mail']) {
    mkdirSync(join(dir, sub));
  }
  // Dovecot drops to the unprivileged mail user (65534) to write mail.
  chmodSync(join(dir, 'mail'), 0o777);
  const port = await freePort();
  writeFileSync(join(dir, 'users'), `${USER}:{PLAIN}${PASSWORD}:65534:65534::${join(dir, 'mail', USER)}::\n`);
  writeFileSync(
    join(dir, 'dovecot.conf'),
    [
      `base_dir = ${join(dir, 'run')}`,
      `state_dir = ${join(dir, 'state')}`,
      `log_path = ${join(dir, 'dovecot.log')}`,
      'protocols = imap',
      'listen = 127.0.0.1',
      'ssl = no',
      'disable_plaintext_auth = no',
      'first_valid_uid = 100',
      'mail_location = maildir:~/Maildir',
      'default_internal_user = nobody',
      'default_login_user = nobody',
      'passdb {',
      '  driver = passwd-file',
      `  args = scheme=PLAIN ${join(dir, 'users')}`,
      '}',
      'userdb {',
      '  driver = passwd-file',
      `  args = ${join(dir, 'users')}`,
      '}',
      'service imap-login {',
      '  chroot =',
      '  inet_listener imap {',
      '    address = 127.0.0.1',
      `    port = ${port}`,
      '  }',
      '  inet_listener imaps {',
      '    port = 0',
      '  }',
      '}',
      'service anvil {',
      '  chroot =',
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn('sh', ['-c', `/usr/sbin/dovecot -F -c ${join(dir, 'dovecot.conf')} & read _; kill -9 0`], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    child.stdin?.end();
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready once the greeting is Dovecot's own (before its auth process is up it says "Waiting").
  for (let waited = 0; ; waited += 50) {
    const greeting = await readGreeting(port);
    if (/Dovecot .*ready/.test(greeting)) {
      return { port, stop };
    }
    if (waited > WAIT_MS) {
      const log = readFileSync(join(dir, 'dovecot.log'), { encoding: 'utf8', flag: 'a+' });
      await stop();
      throw new Error(`dovecot did not come up on port ${port}: ${log}`);
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 50));
  }
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/** The first line the server sends ('' if none within a second). */
function readGreeting(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    const timer = setTimeout(finish, 1000);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\n')) {
        finish();
      }
    });
    socket.on('error', finish);
    socket.on('close', finish);
  });
}

const USER = 'alice';
const PASSWORD = 'secret-pw';

describe('fault proxy with imapflow and a real Dovecot', () => {
  let dovecot: { port: number; stop: () => Promise<void> };
  let proxy: FaultProxy;
  /** Every client a test makes, closed after it. */
  const open: ImapFlow[] = [];
  const BIG_MESSAGE = `From: a@example.org\r\nSubject: big\r\nMessage-ID: <big@example.org>\r\n\r\n${'0123456789abcdef\r\n'.repeat(12_000)}`;

  /** An imapflow client with its events noted, through the proxy unless `port` is given. */
  const client = (options: { port?: number; socketTimeout?: number } = {}) => {
    const events: { close: number; errors: (string | undefined)[] } = { close: 0, errors: [] };
    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: options.port ?? proxy.port,
      secure: false,
      auth: { user: USER, pass: PASSWORD },
      logger: false,
      ...(options.socketTimeout ? { socketTimeout: options.socketTimeout } : {}),
    });
    imap.on('error', (error: { code?: string }) => events.errors.push(error.code));
    imap.on('close', () => {
      events.close++;
    });
    open.push(imap);
    return { imap, events };
  };

  const messageCount = async (): Promise<number> => {
    const { imap } = client({ port: dovecot.port });
    await imap.connect();
    const status = await imap.status('INBOX', { messages: true });
    await imap.logout();
    assert.ok(status, 'STATUS INBOX answered');
    return status.messages ?? -1;
  };

  // One server for the file; tests that read use message 1, appended here, and each test makes
  // its own folders, so the order of tests does not matter.
  before(async () => {
    dovecot = await startTinyDovecot();
    const { imap } = client({ port: dovecot.port });
    await imap.connect();
    await imap.append('INBOX', BIG_MESSAGE);
    await imap.logout();
  });
  after(async () => {
    await dovecot.stop();
  });

  const withProxy = (name: string, body: () => Promise<void>): void => {
    it(name, async () => {
      proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: dovecot.port });
      try {
        await body();
      } finally {
        for (const imap of open.splice(0)) {
          imap.close();
        }
        await proxy.stop();
      }
    });
  };

  withProxy('a drop in the middle of a FETCH ends the fetch with a connection error', async () => {
    const [drop] = proxy.setFaults([{ kind: 'drop', direction: 'server-to-client', onCommand: /^\S+ (UID )?FETCH /i, afterBytes: 5000 }]);
    const { imap, events } = client();
    await imap.connect();
    await imap.mailboxOpen('INBOX', { readOnly: true });
    await assert.rejects(imap.fetchOne('1', { source: true }), (error: { code?: string }) => {
      assert.equal(error.code, 'NoConnection');
      return true;
    });
    assert.equal(drop?.firedCount, 1);
    assert.equal(events.close, 1);
    assert.deepEqual(events.errors, [], 'a clean close is not an error event');
    assert.equal(imap.usable, false);
  });

  withProxy('a stall longer than socketTimeout gives ETIMEOUT', async () => {
    const [stall] = proxy.setFaults([{ kind: 'stall', onCommand: /^\S+ (UID )?FETCH /i }]);
    const { imap, events } = client({ socketTimeout: 1000 });
    await imap.connect();
    await imap.mailboxOpen('INBOX', { readOnly: true });
    const started = Date.now();
    await assert.rejects(imap.fetchOne('1', { source: true }), (error: { code?: string }) => {
      // The 'error' event carries ETIMEOUT; the pending command is then rejected as NoConnection.
      assert.equal(error.code, 'NoConnection');
      return true;
    });
    const waited = Date.now() - started;
    assert.ok(waited >= 950 && waited < 4000, `timed out after ${waited} ms`);
    assert.deepEqual(events.errors, ['ETIMEOUT']);
    assert.equal(stall?.firedCount, 1);
  });

  withProxy('an injected NO [LIMIT] on APPEND is an error with serverResponseCode LIMIT, and nothing is stored', async () => {
    const [inject] = proxy.setFaults([{ kind: 'inject', onCommand: /^\S+ APPEND /i, response: '{tag} NO [LIMIT] Too many commands' }]);
    const before = await messageCount();
    const { imap } = client();
    await imap.connect();
    await assert.rejects(imap.append('INBOX', 'Subject: refused\r\n\r\nnot stored\r\n'), (error: { serverResponseCode?: string; code?: string }) => {
      assert.equal(error.serverResponseCode, 'LIMIT');
      assert.equal(error.code, undefined);
      return true;
    });
    assert.equal(inject?.firedCount, 1);
    assert.equal(await messageCount(), before);
    // The connection is still usable and the next APPEND goes through (times: 1).
    const appended = await imap.append('INBOX', 'Subject: second\r\n\r\nstored\r\n');
    assert.ok(appended && appended.uid);
    assert.equal(await messageCount(), before + 1);
    const appends = proxy.wire().commands().filter((c) => c.name === 'APPEND');
    assert.deepEqual(appends.map((c) => c.answeredByProxy), [true, false]);
  });

  withProxy('a refused connection with a BYE greeting fails connect() with the reason', async () => {
    const [refuse] = proxy.setFaults([{ kind: 'refuse', connections: 1, greeting: '* BYE [UNAVAILABLE] Too many connections\r\n' }]);
    const { imap } = client();
    await assert.rejects(imap.connect(), (error: { code?: string; reason?: string }) => {
      assert.equal(error.code, 'ClosedAfterConnectText');
      assert.equal(error.reason, 'Too many connections');
      return true;
    });
    assert.equal(refuse?.firedCount, 1);
    const second = client();
    await second.imap.connect();
    await second.imap.logout();
  });

  withProxy('the wire log of a read-only session has no false positives; a deleting one is caught', async () => {
    const { imap } = client();
    await imap.connect();
    await imap.list();
    await imap.mailboxOpen('INBOX', { readOnly: true });
    const message = await imap.fetchOne('1', { source: true, flags: true });
    assert.ok(message && message.source && message.source.length > 100_000);
    const tricky = 'Subject: tricky\r\n\r\na1 EXPUNGE\r\n2 UID STORE 1:* +FLAGS (\\Deleted)\r\nb DELETE INBOX\r\n';
    await imap.mailboxCreate('Archive');
    await imap.append('Archive', tricky);
    await imap.logout();

    const quiet = proxy.wire().commands();
    const names = quiet.map((c) => c.name);
    for (const expected of ['LIST', 'EXAMINE', 'FETCH', 'CREATE', 'APPEND', 'LOGOUT']) {
      assert.ok(names.includes(expected), `${expected} recorded in ${names.join(', ')}`);
    }
    assert.match(quiet.find((c) => c.name === 'FETCH')?.line ?? '', /BODY\.PEEK\[\]/);
    assert.match(quiet.find((c) => c.name === 'APPEND')?.line ?? '', /\{\d+ bytes\}$/);
    assert.ok(!JSON.stringify(quiet).includes(PASSWORD), 'credentials are not recorded');
    assert.deepEqual(findDestructive(quiet), { destructive: [], flagChanges: [] });

    proxy.wire().clear();
    const deleter = client();
    await deleter.imap.connect();
    await deleter.imap.mailboxOpen('Archive');
    await deleter.imap.messageDelete('1:*');
    await deleter.imap.logout();
    const report = proxy.wire().destructive();
    const caught = report.destructive.map((f) => f.command.name);
    assert.ok(caught.includes('SELECT'), caught.join(', '));
    assert.ok(caught.some((name) => name === 'STORE' || name === 'UID STORE'), caught.join(', '));
    assert.ok(caught.some((name) => name === 'EXPUNGE' || name === 'UID EXPUNGE'), caught.join(', '));
    assert.equal(report.flagChanges.length, 1);
  });
});
