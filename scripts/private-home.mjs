/**
 * A home folder of its own for a program: HOME and the XDG folders point into a fresh folder, so
 * what the machine's own home holds (a ~/Mail, a ~/.muttrc, a browser profile, the CLI's default
 * state folder, an npm cache) never changes a result, and nothing the program does is written
 * there. A fresh machine, a second run and a machine where these programs were used before all
 * look the same.
 *
 * scripts/run-tests.mjs gives the whole test run one; tests give each program that keeps state
 * its own on top (test/support/private-home.ts), so two tests running at once never share one.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Creates `home` (if needed) with its XDG folders and returns the variables pointing into it.
 * @param {string} home
 * @returns {{ HOME: string, XDG_CONFIG_HOME: string, XDG_DATA_HOME: string, XDG_CACHE_HOME: string, XDG_STATE_HOME: string }}
 */
export function privateHomeEnv(home) {
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
  };
  for (const dir of Object.values(env)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return env;
}

/**
 * A new home under the temp folder, named `mailferry-home-<label>-…`; the caller removes `dir`.
 * @param {string} label
 */
export function makePrivateHome(label) {
  const dir = mkdtempSync(join(tmpdir(), `mailferry-home-${label}-`));
  return { dir, env: privateHomeEnv(dir) };
}
