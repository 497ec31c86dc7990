/**
 * A newcomer's machine, for the set-up tests: a copy of the working tree (the files git would
 * commit, as they are now), a home nobody has used (no npm cache, no Electron cache, no
 * ~/.npmrc), an environment without what CI or a developer sets (ELECTRON_*, npm_config_*, CI,
 * DISPLAY, XDG_*), and in GitHub's place a local Electron mirror on 127.0.0.1 that either refuses
 * every download, as an unreachable GitHub does, or serves a stand-in Electron.
 *
 * The npm registry is the real one (CI reaches it): installing from an empty cache is what a
 * newcomer does, and it takes about half a minute.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { privateHomeEnv } from '../support/private-home.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** What package.json's devDependencies pin; the mirror serves this version. */
const ELECTRON_VERSION = '41.7.1';

export interface NewcomerMachine {
  /** The copy of the working tree. */
  clone: string;
  /** The fresh home (HOME, XDG folders); npm's and Electron's caches end up in it. */
  home: string;
  /** The environment a newcomer's shell has; add to it per command. */
  env: Record<string, string>;
  remove(): void;
}

/** The files of the working tree that git would commit (tracked and new, minus what .gitignore says). */
const workingTreeFiles = (): string[] =>
  execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\0')
    .filter((file) => file.length > 0 && existsSync(join(ROOT, file)));

/**
 * PATH without node_modules/.bin folders: under `npm test`, npm puts this checkout's tools first,
 * and a newcomer has none of them.
 */
const newcomerPath = (): string =>
  (process.env.PATH ?? '/usr/bin:/bin')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules/.bin'))
    .join(delimiter);

export function makeNewcomerMachine(label: string): NewcomerMachine {
  const dir = mkdtempSync(join(tmpdir(), `mailferry-newcomer-${label}-`));
  const clone = join(dir, 'mailferry');
  for (const file of workingTreeFiles()) {
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(ROOT, file), join(clone, file), { verbatimSymlinks: true });
  }
  const home = join(dir, 'home');
  const env = { PATH: newcomerPath(), LANG: 'C.UTF-8', ...privateHomeEnv(home) };
  return { clone, home, env, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CommandRun {
  code: number | null;
  /** stdout and stderr as they interleaved. */
  output: string;
  timedOut: boolean;
  ms: number;
}

/** Runs `command` in sh, as typed at a prompt; after `limitMs` its whole process group is killed. */
export function runCommand(command: string, options: { cwd: string; env: Record<string, string>; limitMs: number }): Promise<CommandRun> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn('sh', ['-c', command], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, options.limitMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output, timedOut, ms: Date.now() - started });
    });
  });
}

/** The first ```sh block of the README's "Set up" section, as a newcomer would copy it. */
export function readmeFirstCommand(readme: string): string {
  const setUp = readme.split(/^## /m).find((section) => section.startsWith('Set up'));
  const block = setUp === undefined ? null : /```sh\n([\s\S]*?)\n```/.exec(setUp);
  if (!block?.[1]) throw new Error('README.md has no ```sh block under "## Set up"');
  return block[1].trim();
}

/**
 * A zip holding one executable file (stored, not compressed): enough for extract-zip, which
 * Electron's installer uses. The mode travels in the upper half of the external attributes,
 * with "made by" Unix.
 */
export function zipOneExecutable(name: string, content: Buffer): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const checksum = crc32(content);
  const MADE_BY_UNIX = (3 << 8) | 20;
  const VERSION_NEEDED = 20;
  const EXECUTABLE_FILE_MODE = 0o100755;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(VERSION_NEEDED, 4);
  local.writeUInt32LE(checksum, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(MADE_BY_UNIX, 4);
  central.writeUInt16LE(VERSION_NEEDED, 6);
  central.writeUInt32LE(checksum, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE((EXECUTABLE_FILE_MODE << 16) >>> 0, 38);
  // Offset of the local header: 0, the only entry.
  const centralDirectory = Buffer.concat([central, nameBytes]);
  const centralOffset = local.length + nameBytes.length + content.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, nameBytes, content, centralDirectory, end]);
}

export interface ElectronMirror {
  /** For ELECTRON_MIRROR. */
  url: string;
  /** Requests (or, when refusing, connections) seen so far. */
  attempts(): number;
  close(): Promise<void>;
}

/**
 * An Electron mirror on 127.0.0.1. `refuse`: every connection is cut at once, which Electron's
 * installer meets as an unreachable GitHub. `serve`: the Linux x64 zip of ELECTRON_VERSION holds
 * `standIn` as the `electron` executable, and SHASUMS256.txt its checksum (for
 * electron_use_remote_checksums, since the checksums Electron ships are the real binary's).
 */
export async function startElectronMirror(mode: { refuse: true } | { serve: string }): Promise<ElectronMirror> {
  let attempts = 0;
  const sockets = new Set<Socket>();
  const zipName = `electron-v${ELECTRON_VERSION}-linux-x64.zip`;
  const zip = 'serve' in mode ? zipOneExecutable('electron', Buffer.from(mode.serve, 'utf8')) : Buffer.alloc(0);
  const shasums = `${createHash('sha256').update(zip).digest('hex')} *${zipName}\n`;
  const server = createServer((request, response) => {
    attempts++;
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === `/v${ELECTRON_VERSION}/${zipName}`) response.writeHead(200, { 'content-type': 'application/zip' }).end(zip);
    else if (path === `/v${ELECTRON_VERSION}/SHASUMS256.txt`) response.writeHead(200, { 'content-type': 'text/plain' }).end(shasums);
    else response.writeHead(404).end();
  });
  server.on('connection', (socket: Socket) => {
    if ('refuse' in mode) {
      attempts++;
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the mirror has no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    attempts: () => attempts,
    close: () =>
      new Promise<void>((ok) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => ok());
      }),
  };
}
