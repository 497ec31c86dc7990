#!/usr/bin/env node
// `npm start`: builds everything, then opens the desktop app. Where there is no display, or no
// Electron binary (headless servers, CI), it says so and shows the command-line version instead.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const run = (script) => {
  const result = spawnSync('npm', ['run', '--silent', script], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

run('build');
run('build:preload');
run('build:renderer');

const electronBinary = () => {
  try {
    const path = createRequire(import.meta.url)('electron');
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
};
const hasDisplay = process.platform !== 'linux' || !!(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const binary = electronBinary();

if (binary && hasDisplay) {
  const app = spawn(binary, ['.'], { stdio: 'inherit' });
  app.on('exit', (code) => process.exit(code ?? 0));
} else {
  const why = !binary ? 'the Electron binary is not installed' : 'there is no display';
  process.stdout.write(`Mailferry's desktop app cannot open here (${why}). The command-line version works the same way:\n\n`);
  const cli = spawnSync(process.execPath, ['bin/mailferry.js', '--help'], { stdio: 'inherit' });
  process.stdout.write('\nExample: MAILFERRY_FROM_PASSWORD=... MAILFERRY_TO_PASSWORD=... npx mailferry plan --from imaps://me@old.example --to imaps://me@new.example\n');
  process.exit(cli.status ?? 0);
}
