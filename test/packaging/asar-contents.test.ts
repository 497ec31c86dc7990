/**
 * The packaging config is valid and the packed app holds what it needs and nothing it should not.
 * Electron cannot be downloaded here, so electron-builder gets a folder with a stand-in `electron`
 * file (`electronDist`); `--linux dir` then produces linux-unpacked/resources/app.asar, which we
 * list with @electron/asar. Builds the app first if its outputs are missing. npm and
 * electron-builder run with a home of their own (electron-builder keeps a cache there).
 *
 * The stand-in carries a fuse wire as Electron's binary does (its sentinel, version 1, and the
 * fuses with Electron 41's defaults), so the afterPack hook (scripts/flip-fuses.cjs) flips it
 * as it would the real one, and the packed binary is read back with @electron/fuses.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { privateHomeEnv, type PrivateHomeEnv } from '../support/private-home.js';

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const exists = (p: string): Promise<boolean> => access(join(ROOT, p)).then(() => true, () => false);

let work = '';
let entries: string[] = [];
let packedBinary = '';

/** Where Electron's binary keeps its fuses: this sentinel, the wire's version, its length, then one byte a fuse. */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/**
 * Electron 41's defaults, in the V1 order (RunAsNode, cookie encryption, NODE_OPTIONS, --inspect,
 * asar integrity, only app.asar, V8 snapshot, file:// privileges), and one fuse @electron/fuses
 * 1.8 does not know.
 */
const ELECTRON_DEFAULT_WIRE = '101100011';

async function npmRun(script: string, home: PrivateHomeEnv): Promise<void> {
  try {
    await run('npm', ['run', '--silent', script], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...home } });
  } catch (e) {
    // tsc still writes its output when another part of the tree has a type error; what counts is the output.
    if (script !== 'build') throw e;
  }
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'mailferry-pack-'));
  const home = privateHomeEnv(join(work, 'home'));
  if (!(await exists('dist/main/main.js'))) await npmRun('build', home);
  if (!(await exists('dist/main/preload.cjs'))) await npmRun('build:preload', home);
  if (!(await exists('dist-renderer/index.html'))) await npmRun('build:renderer', home);
  for (const p of ['dist/main/main.js', 'dist/main/preload.cjs', 'dist-renderer/index.html']) assert.ok(await exists(p), `${p} was built`);

  const electronDist = join(work, 'electron-dist');
  await run('mkdir', ['-p', electronDist]);
  await writeFile(
    join(electronDist, 'electron'),
    Buffer.concat([Buffer.from('#!/bin/sh\necho "stand-in for the Electron binary"\nexit 0\n'), Buffer.from(FUSE_SENTINEL), Buffer.from([1, ELECTRON_DEFAULT_WIRE.length]), Buffer.from(ELECTRON_DEFAULT_WIRE)]),
  );
  await chmod(join(electronDist, 'electron'), 0o755);
  const out = join(work, 'out');
  await run(
    join(ROOT, 'node_modules', '.bin', 'electron-builder'),
    ['--linux', 'dir', '--publish', 'never', `-c.electronDist=${electronDist}`, `-c.directories.output=${out}`],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...home, CSC_IDENTITY_AUTO_DISCOVERY: 'false' } },
  );
  const asar = await import('@electron/asar');
  entries = asar.listPackage(join(out, 'linux-unpacked', 'resources', 'app.asar'), { isPack: false }).map((e: string) => e.replace(/\\/g, '/'));
  packedBinary = join(out, 'linux-unpacked', 'mailferry');
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('app.asar holds the main process, the bundled preload, the built renderer, package.json and the runtime libraries', () => {
  const runtime = ['imapflow', 'zod', 'electron-store', 'conf'].map((name) => `/node_modules/${name}/package.json`);
  for (const wanted of ['/package.json', '/dist/main/main.js', '/dist/main/ipc-handlers.js', '/dist/main/preload.cjs', '/dist/src/service/app-service.js', '/dist-renderer/index.html', ...runtime]) {
    assert.ok(entries.includes(wanted), `${wanted} is packed`);
  }
  assert.ok(entries.some((e) => /^\/dist-renderer\/assets\/index-[\w-]+\.js$/.test(e)), 'the renderer bundle is packed');
});

test('app.asar holds no tests, no TypeScript sources, no source maps and no build-time libraries', () => {
  const offending = entries.filter(
    (e) =>
      e.startsWith('/test/') ||
      e.startsWith('/renderer/') ||
      e.startsWith('/main/') ||
      e.startsWith('/src/') ||
      e.startsWith('/dist/test/') ||
      /\.test\.js$/.test(e) ||
      // Our own TypeScript; some dependencies ship their .ts next to the .js, which is theirs to decide.
      (!e.startsWith('/node_modules/') && /\.(ts|tsx|mts|cts)$/.test(e)) ||
      (e.startsWith('/dist') && e.endsWith('.map')),
  );
  assert.deepEqual(offending, []);
  for (const devOnly of ['react', 'vite', 'electron-builder', 'playwright-core', 'typescript', 'electron']) {
    assert.ok(!entries.includes(`/node_modules/${devOnly}`), `${devOnly} is not packed`);
  }
  assert.ok(!entries.includes('/dist/main/preload.js'), 'only the CommonJS preload is shipped');
});

test('the packed binary has its fuses flipped: no RunAsNode, NODE_OPTIONS or --inspect; cookies encrypted; only app.asar, integrity checked', async () => {
  const binary = await readFile(packedBinary);
  const at = binary.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length;
  assert.ok(at > FUSE_SENTINEL.length, 'the fuse wire is there');
  const wire = binary.subarray(at + 2, at + 2 + (binary[at + 1] ?? 0)).toString('latin1');
  // RunAsNode off, cookie encryption on, NODE_OPTIONS off, --inspect off, asar integrity on,
  // only app.asar on; the V8 snapshot and file:// privileges at Electron's defaults on purpose
  // (scripts/flip-fuses.cjs says why), and the fuse @electron/fuses does not know untouched.
  assert.equal(wire, '010011011');
});
