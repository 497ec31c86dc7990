/**
 * Removes test-server folders left behind by test processes that were killed (their servers died
 * with them; only the folder remains). Only folders untouched for a while and named on no running
 * process's command line (each launcher names its folder there).
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A leftover instance folder is swept once this old. */
export const STALE_DIR_AGE_MS = 10 * 60_000;

export const sweepStaleDirs = (prefix: string): void => {
  let candidates: string[];
  try {
    candidates = readdirSync(tmpdir())
      .filter((name) => name.startsWith(prefix))
      .map((name) => join(tmpdir(), name))
      .filter((dir) => Date.now() - statSync(dir).mtimeMs > STALE_DIR_AGE_MS);
  } catch {
    return;
  }
  if (candidates.length === 0) return;
  const inUse = new Set<string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      for (const dir of candidates) if (cmdline.includes(dir)) inUse.add(dir);
    } catch {
      // process ended meanwhile
    }
  }
  for (const dir of candidates) if (!inUse.has(dir)) rmSync(dir, { recursive: true, force: true });
};
