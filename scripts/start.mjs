#!/usr/bin/env node
// `npm start`: builds everything, then opens the desktop app. Where it cannot (no Electron binary,
// no display: headless servers, CI, a machine that could not download Electron), it says why in
// one paragraph and what to do, shows the command-line version's help, and exits 0: the command
// line does the same job.
// No syntax newer than Node 12 before the version check has run (see check-node-version.mjs).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ensureSupportedNode } from './check-node-version.mjs';

ensureSupportedNode();

const run = (script) => {
  const result = spawnSync('npm', ['run', '--silent', script], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) process.exit(result.status === null ? 1 : result.status);
};

run('build');
run('build:preload');
run('build:renderer');

/** The Electron executable, if its binary was downloaded (the electron package alone is not enough). */
const electronBinary = () => {
  try {
    const path = createRequire(import.meta.url)('electron');
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    // electron's index.js throws when its binary was never downloaded.
    return undefined;
  }
};
const hasDisplay = process.platform !== 'linux' || !!(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const binary = electronBinary();

if (binary && hasDisplay) {
  const app = spawn(binary, ['.'], { stdio: 'inherit' });
  app.on('exit', (code) => process.exit(code === null ? 1 : code));
} else {
  const reasons = [];
  const remedies = [];
  if (!binary) {
    reasons.push("Electron's binary is not installed (npm ci could not download it)");
    remedies.push('run `npm run get-electron` where github.com is reachable (or with ELECTRON_MIRROR set to a mirror you can reach)');
  }
  if (!hasDisplay) reasons.push('there is no display (DISPLAY and WAYLAND_DISPLAY are unset, as on a server or over SSH)');
  remedies.push(hasDisplay ? 'run `npm start` again' : 'run `npm start` in a desktop session');
  process.stdout.write(
    `\nMailferry's desktop app cannot open here: ${reasons.join(' and ')}. To get the window, ${remedies.join(', then ')}. ` +
      'Until then, the command-line version does the same job:\n\n',
  );
  const cli = spawnSync(process.execPath, ['bin/mailferry.js', '--help'], { stdio: 'inherit' });
  process.stdout.write('\nExample: MAILFERRY_FROM_PASSWORD=... MAILFERRY_TO_PASSWORD=... npx mailferry plan --from imaps://me@old.example --to imaps://me@new.example\n');
  process.exit(cli.status === null ? 1 : cli.status);
}
