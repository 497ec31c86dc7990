/**
 * What the tests of the namespaced test servers (Courier, Cyrus) check when an instance ends: no
 * process of it is left, its port is closed, its folder is gone. The instance's PID namespace is
 * held open while they look (pinPidNamespace): its number would otherwise name the next
 * namespace created on the machine, another test's server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { pinPidNamespace, processesInPidNamespace } from './server-namespace.js';

/** How long a killed test process's instance may take to end. */
const ORPHAN_WAIT_MS = 10_000;

export const portAccepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

interface NamespacedServer {
  readonly pidNamespace: string | undefined;
  readonly port: number;
  readonly dir: string;
  readonly isRunning: boolean;
  stop(): Promise<void>;
}

/** stop() returns within 5 s with nothing of the instance left; `closeClient` ends the test's own client. */
export const assertStopLeavesNothing = async (server: NamespacedServer, closeClient: () => unknown): Promise<void> => {
  const namespace = server.pidNamespace;
  assert.ok(namespace);
  const pin = pinPidNamespace(namespace);
  try {
    const t0 = Date.now();
    await server.stop();
    await closeClient();
    assert.deepEqual(processesInPidNamespace(namespace), []);
    assert.equal(await portAccepts(server.port), false);
    assert.equal(existsSync(server.dir), false);
    assert.equal(server.isRunning, false);
    assert.ok(Date.now() - t0 < 5_000);
  } finally {
    pin.close();
  }
};

/**
 * A test process that started an instance (`start` of the module at `moduleUrl`) and is then
 * SIGKILLed leaves no process of it behind, and its port closed.
 */
export const assertKilledTestLeavesNothing = async (moduleUrl: string, start: string): Promise<void> => {
  const script = `import { ${start} } from ${JSON.stringify(moduleUrl)};
const s = await ${start}({ users: [{ name: 'alice', password: 'pw' }] });
console.log(JSON.stringify({ ns: s.pidNamespace, port: s.port, dir: s.dir }));
setInterval(() => undefined, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise<{ ns: string; port: number; dir: string }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { ns: string; port: number; dir: string });
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${String(code)}): ${out}`)));
  });
  assert.ok(processesInPidNamespace(info.ns).length > 0);
  const pin = pinPidNamespace(info.ns);
  try {
    child.kill('SIGKILL');
    const deadline = Date.now() + ORPHAN_WAIT_MS;
    while (processesInPidNamespace(info.ns).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(processesInPidNamespace(info.ns), []);
  } finally {
    pin.close();
  }
  assert.equal(await portAccepts(info.port), false);
  // Only the folder is left (a later run sweeps such folders once they are 10 minutes old).
  rmSync(info.dir, { recursive: true, force: true });
};
