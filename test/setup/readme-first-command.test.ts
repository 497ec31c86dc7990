/**
 * The README's first command, run exactly as written on a newcomer's machine (test/setup/newcomer.ts)
 * where Electron's binary cannot be downloaded: it installs everything, builds, and ends in the
 * plain fallback (why there is no window, what to do, the command-line help) with exit status 0.
 * npm ci prints no EBADENGINE on this Node, Electron's download was tried (so where it works, it
 * is fetched), and the electron package stays installed (the build needs its types).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeNewcomerMachine, readmeFirstCommand, ROOT, runCommand, startElectronMirror, type ElectronMirror, type NewcomerMachine } from './newcomer.js';

/**
 * npm ci from an empty cache (about 30 s on an idle machine), the build it runs, and npm start's
 * three builds (about 30 s more): this leaves room for a machine busy with other tests.
 */
const FIRST_COMMAND_LIMIT_MS = 240_000;

let machine: NewcomerMachine;
let mirror: ElectronMirror;

before(async () => {
  machine = makeNewcomerMachine('readme');
  mirror = await startElectronMirror({ refuse: true });
});

after(async () => {
  await mirror?.close();
  machine?.remove();
});

test("the README's first command ends in the command-line fallback with exit status 0 where Electron cannot be downloaded", async () => {
  const command = readmeFirstCommand(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  const run = await runCommand(command, { cwd: machine.clone, env: { ...machine.env, ELECTRON_MIRROR: mirror.url }, limitMs: FIRST_COMMAND_LIMIT_MS });
  const shown = `\`${command}\` (${run.ms} ms) said:\n${run.output}`;
  assert.equal(run.timedOut, false, `still running after ${FIRST_COMMAND_LIMIT_MS} ms: ${shown}`);
  assert.equal(run.code, 0, shown);

  assert.doesNotMatch(run.output, /EBADENGINE/, `npm ci warned about engines: ${shown}`);
  assert.doesNotMatch(run.output, /npm error/i, shown);
  assert.ok(mirror.attempts() > 0, `Electron's download was never tried: ${shown}`);
  assert.match(run.output, /Electron's binary could not be downloaded \(.+\)/, `npm ci said why there is no Electron binary: ${shown}`);
  assert.ok(existsSync(join(machine.clone, 'node_modules', 'electron', 'package.json')), 'the electron package (its types) stays installed');
  assert.ok(!existsSync(join(machine.clone, 'node_modules', 'electron', 'path.txt')), 'no Electron binary was installed');

  // One paragraph: why, and what to do; then the command-line version's help.
  const paragraph = run.output.split('\n').find((line) => line.startsWith("Mailferry's desktop app cannot open here:"));
  assert.ok(paragraph, `npm start explained the missing window: ${shown}`);
  assert.match(paragraph, /Electron's binary is not installed/);
  assert.match(paragraph, /there is no display/);
  assert.match(paragraph, /npm run get-electron/);
  const help = run.output.slice(run.output.indexOf(paragraph));
  assert.match(help, /Usage:\n\s+mailferry plan --from URL --to URL/, `the command-line help followed: ${shown}`);
  assert.match(help, /npx mailferry plan --from imaps:/);
});
