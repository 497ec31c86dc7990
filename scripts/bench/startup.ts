/**
 * Start-up of the compiled CLI: how long from spawning `node main.js` until `--help` has
 * printed and exited, and until `copy` has its first connection on the wire (a listener on
 * 127.0.0.1 stands in for the server and records the moment it accepts; the child is then
 * killed). Several builds alternate run by run, so machine load spreads over all of them.
 *
 *   npx tsx scripts/bench/startup.ts [--dist DIR]... [--runs N]
 *
 * Without --dist, the build in .tmp/bench-dist (npm run bench compiles it).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fmt, intOption, median } from './figures.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
/** A child that has not connected by then is killed and the run counted as missing. */
const RUN_LIMIT_MS = 30_000;

const { values } = parseArgs({ options: { dist: { type: 'string', multiple: true }, runs: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  process.stdout.write('npx tsx scripts/bench/startup.ts [--dist DIR]... [--runs N (default 10)]\n');
  process.exit(0);
}
const dists = (values.dist ?? [join(ROOT, '.tmp', 'bench-dist')]).map((d) => resolve(d));
const runs = Math.max(1, intOption(values.runs, 10));

/** Wall ms from spawn to exit of `--help`. */
const helpMs = (dist: string): Promise<number> =>
  new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(dist, 'src', 'cli', 'main.js'), '--help'], { stdio: 'ignore' });
    child.once('error', fail);
    child.once('close', () => done(performance.now() - started));
  });

/** Wall ms from spawn until `copy` opens its first connection. */
const firstConnectionMs = (dist: string): Promise<number | undefined> =>
  new Promise((done, fail) => {
    const state = mkdtempSync(join(tmpdir(), 'mf-startup-'));
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      const url = `imap://u@127.0.0.1:${port}`;
      const started = performance.now();
      const child = spawn(process.execPath, [join(dist, 'src', 'cli', 'main.js'), 'copy', '--from', url, '--to', url, '--allow-plaintext', '--state', state, '--json'], {
        stdio: 'ignore',
        env: { ...process.env, MAILFERRY_FROM_PASSWORD: 'x', MAILFERRY_TO_PASSWORD: 'x', HOME: state },
      });
      let at: number | undefined;
      const limit = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
      server.on('connection', (socket) => {
        at ??= performance.now() - started;
        socket.destroy();
        child.kill('SIGKILL');
      });
      child.once('error', fail);
      child.once('close', () => {
        clearTimeout(limit);
        server.close();
        rmSync(state, { recursive: true, force: true });
        done(at);
      });
    });
  });

const main = async (): Promise<void> => {
  const results = dists.map(() => ({ help: [] as number[], connect: [] as number[] }));
  for (let r = 0; r < runs; r++) {
    for (const [i, dist] of dists.entries()) {
      const result = results[i] as (typeof results)[number];
      result.help.push(await helpMs(dist));
      const connect = await firstConnectionMs(dist);
      if (connect !== undefined) result.connect.push(connect);
    }
  }
  const range = (xs: number[]): string => `${fmt(median(xs), 0)} ms (${fmt(Math.min(...xs), 0)}–${fmt(Math.max(...xs), 0)})`;
  process.stdout.write(['| build | `--help` to exit | `copy` to first connection |', '|---|---:|---:|'].join('\n') + '\n');
  for (const [i, dist] of dists.entries()) {
    const result = results[i] as (typeof results)[number];
    process.stdout.write(`| ${dist} | ${range(result.help)} | ${range(result.connect)} (${result.connect.length}/${runs}) |\n`);
  }
};

main().catch((e: unknown) => {
  process.stderr.write(`startup bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 1;
});
