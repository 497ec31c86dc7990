#!/usr/bin/env node
/**
 * Fetches Electron's binary for the desktop app: npm's `postinstall`, and `npm run get-electron`.
 *
 * Why not electron's own postinstall: where the binary cannot be downloaded (no route to GitHub,
 * a proxy in the way) it exits 1, and npm then fails the whole `npm ci` and removes node_modules,
 * so nothing works, not even the command line. package.json's `allowScripts` denies that script,
 * and this one runs the same download (electron's install.js, so ELECTRON_MIRROR,
 * electron_config_cache and ELECTRON_SKIP_BINARY_DOWNLOAD mean what Electron's docs say) and
 * takes a failure as what it is: no window on this machine yet. The electron package itself (its
 * types, its version for electron-builder) stays installed either way.
 *
 * Exit status 0 unless this script itself is broken (a failed download must not fail `npm ci`);
 * `npm start` checks for the binary.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

/** A download of ~100 MB; past this the attempt counts as failed (a firewall that drops packets never answers). */
const DOWNLOAD_TIMEOUT_MS = 15 * 60_000;
const REASON_MAX_CHARS = 200;

let installScript;
try {
  installScript = createRequire(import.meta.url).resolve('electron/install.js');
} catch {
  // `npm ci --omit=dev`: no electron package, nothing to fetch (the desktop app needs the dev tools anyway).
  process.exit(0);
}

const result = spawnSync(process.execPath, [installScript], {
  stdio: ['ignore', 'inherit', 'pipe'],
  encoding: 'utf8',
  timeout: DOWNLOAD_TIMEOUT_MS,
});

if (result.status !== 0) {
  const firstLine = (result.stderr ?? '').split('\n').map((line) => line.trim()).find((line) => line.length > 0);
  const reason = result.error?.code === 'ETIMEDOUT' ? `no answer within ${DOWNLOAD_TIMEOUT_MS / 60_000} minutes` : (firstLine ?? `exit status ${result.status ?? result.signal}`).slice(0, REASON_MAX_CHARS);
  process.stdout.write(
    `Electron's binary could not be downloaded (${reason}), so the desktop app cannot open on this machine yet; ` +
      'everything else is installed, and `npm start` shows the command-line version instead. ' +
      'To get the window later, run `npm run get-electron` where github.com is reachable, or with ELECTRON_MIRROR set to a mirror you can reach.\n\n',
  );
}
