/** Process entry of the `mailferry` command: wires runCli to the real terminal and signals. */
import './memory-policy.js';
import { readFileSync } from 'node:fs';
import { PAUSE_REASON } from '../contract/job.js';
import { shown } from './format.js';
import { runCli } from './run-cli.js';
import { readSecretFromTerminal } from './read-secret.js';
import type { RefreshTokenStore } from '../auth/refresh-token-store.js';
import { openInBrowser } from './open-browser.js';

const version = (): string => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
};

/**
 * After the first Ctrl-C every connection is ended at once and the run winds down; if it has not
 * ended after this long (whatever a server does), the process quits anyway. Quitting at any
 * point is safe: the journal is written before progress is reported (see run-job.ts).
 */
const FORCE_QUIT_AFTER_MS = 1500;

const controller = new AbortController();
let interrupts = 0;
const onInterrupt = (): void => {
  interrupts++;
  if (interrupts === 1) {
    process.stderr.write('\nStopping (the journal keeps everything done so far). Press Ctrl-C again to quit at once.\n');
    controller.abort(PAUSE_REASON);
    setTimeout(() => {
      process.stderr.write('Stopped. Run the same command again to continue where it left off.\n');
      process.exit(130);
    }, FORCE_QUIT_AFTER_MS).unref();
  } else process.exit(130);
};
/** The OS keychain, its native library loaded only when a sign-in is kept or looked up. */
function keychainWhenUsed(): RefreshTokenStore {
  let keychain: Promise<RefreshTokenStore> | undefined;
  const opened = (): Promise<RefreshTokenStore> => (keychain ??= import('./os-keychain.js').then((m) => m.createOsKeychain()));
  return {
    load: async (key) => (await opened()).load(key),
    save: async (key, token) => (await opened()).save(key, token),
    remove: async (key) => (await opened()).remove(key),
  };
}

process.on('SIGINT', onInterrupt);
process.on('SIGTERM', onInterrupt);

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  readSecret: process.stdin.isTTY ? readSecretFromTerminal : undefined,
  signal: controller.signal,
  version: version(),
  keychain: keychainWhenUsed(),
  openBrowser: openInBrowser,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mailferry: unexpected failure: ${shown((e as Error)?.message ?? String(e))}\n`);
    process.exitCode = 1;
  },
);
