/**
 * Where Electron's binary can be downloaded, `npm ci` fetches it and `npm start` opens the app
 * with it; right after `npm ci`, `npx mailferry` works with no build step in between (package.json's
 * `prepare`). The newcomer's machine (test/setup/newcomer.ts) gets its Electron from a mirror on
 * 127.0.0.1 serving a stand-in executable that writes down how it was started, and a display
 * variable (start.mjs only checks that one is set; the stand-in draws nothing).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeNewcomerMachine, ROOT, runCommand, startElectronMirror, type ElectronMirror, type NewcomerMachine } from './newcomer.js';

/** npm ci from an empty cache with its build (about 40 s idle), then npm start's builds. */
const COMMAND_LIMIT_MS = 180_000;
const STAND_IN = '#!/bin/sh\nprintf "%s\\n" "$PWD" "$@" > "$MAILFERRY_STAND_IN_LOG"\n';

let machine: NewcomerMachine;
let mirror: ElectronMirror;
let env: Record<string, string>;
let standInLog: string;

before(async () => {
  machine = makeNewcomerMachine('electron');
  mirror = await startElectronMirror({ serve: STAND_IN });
  standInLog = join(machine.home, 'stand-in-electron.log');
  env = { ...machine.env, ELECTRON_MIRROR: mirror.url, electron_use_remote_checksums: '1', MAILFERRY_STAND_IN_LOG: standInLog };
});

after(async () => {
  await mirror?.close();
  machine?.remove();
});

const run = async (command: string, extraEnv: Record<string, string> = {}) => {
  const result = await runCommand(command, { cwd: machine.clone, env: { ...env, ...extraEnv }, limitMs: COMMAND_LIMIT_MS });
  const shown = `\`${command}\` (${result.ms} ms) said:\n${result.output}`;
  assert.equal(result.timedOut, false, `still running after ${COMMAND_LIMIT_MS} ms: ${shown}`);
  assert.equal(result.code, 0, shown);
  return { output: result.output, shown };
};

test('npm ci fetches the Electron binary where it can be downloaded', async () => {
  const { output, shown } = await run('npm ci');
  assert.doesNotMatch(output, /could not be downloaded|EBADENGINE/, shown);
  assert.ok(mirror.attempts() >= 2, `the zip and its checksum came from the mirror: ${shown}`);
  const binary = join(machine.clone, 'node_modules', 'electron', 'dist', 'electron');
  assert.equal(readFileSync(binary, 'utf8'), STAND_IN, 'the downloaded executable is in place');
});

test('npx mailferry works right after npm ci', async () => {
  // One npx run (each costs seconds); --version also shows the compiled CLI finds package.json.
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const { output, shown } = await run('npx mailferry --version');
  // Lines, not the whole output: npm may add a notice of its own (a newer npm exists).
  assert.ok(output.split('\n').includes(version), shown);
});

test('npm start opens the app with the downloaded Electron where there is a display', async () => {
  const { output, shown } = await run('npm start', { DISPLAY: ':99' });
  assert.doesNotMatch(output, /cannot open here/, shown);
  assert.ok(existsSync(standInLog), `Electron was started: ${shown}`);
  const [cwd, ...args] = readFileSync(standInLog, 'utf8').trim().split('\n');
  assert.equal(cwd, machine.clone);
  assert.deepEqual(args, ['.'], 'Electron is given the app folder');
});
