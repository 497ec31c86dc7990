/**
 * Electronegativity (Doyensec's checker for Electron misconfigurations) over the app's own code:
 * main/ and renderer/ (index.html and src/, tests left out), scanned together so that its global
 * checks (CSP, navigation limits, permission handler) see the whole app. Every file must parse,
 * and every HIGH or MEDIUM finding must be listed, with its reason, in the reviewed allow-list
 * (electronegativity-allowlist.json); an entry that no longer matches a finding fails too.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { makePrivateHome } from '../support/private-home.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const GATED = new Set(['HIGH', 'MEDIUM']);
const SCAN_LIMIT_MS = 120_000;

interface Finding {
  check: string;
  severity: string;
  confidence: string;
  file: string;
  line: number;
  sample: string;
  description: string;
}
interface Scan {
  globalChecks: number;
  atomicChecks: number;
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: Finding[];
}
interface Allowed {
  check: string;
  file: string;
  sample: string;
  reason: string;
}

const work = mkdtempSync(path.join(tmpdir(), 'mailferry-electronegativity-'));
const home = makePrivateHome('electronegativity');
after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home.dir, { recursive: true, force: true });
});

/** The app's code as it ships: main/ and renderer/ without tests or test support. */
const copyApp = (): string => {
  const app = path.join(work, 'app');
  const isShipped = (source: string): boolean => !/\.test\.tsx?$/.test(source) && !source.includes(`${path.sep}test${path.sep}`) && !source.endsWith(`${path.sep}test`);
  cpSync(path.join(ROOT, 'main'), path.join(app, 'main'), { recursive: true, filter: isShipped });
  cpSync(path.join(ROOT, 'renderer', 'index.html'), path.join(app, 'renderer', 'index.html'));
  cpSync(path.join(ROOT, 'renderer', 'src'), path.join(app, 'renderer', 'src'), { recursive: true, filter: isShipped });
  return app;
};

test('Electronegativity finds nothing HIGH or MEDIUM in main/ and renderer/ beyond the reviewed allow-list', async () => {
  const electronVersion = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.electron;
  assert.ok(electronVersion, 'the Electron version is pinned');
  const out = path.join(work, 'scan.json');
  await promisify(execFile)(process.execPath, [path.join(HERE, 'electronegativity-scan.cjs'), copyApp(), electronVersion, out], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...home.env },
    timeout: SCAN_LIMIT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  const scan = JSON.parse(readFileSync(out, 'utf8')) as Scan;
  assert.ok(scan.atomicChecks >= 30 && scan.globalChecks >= 4, `checks loaded: ${scan.atomicChecks} atomic, ${scan.globalChecks} global`);
  assert.deepEqual(scan.errors, [], 'every file was parsed (a file it cannot read is a file it did not check)');

  const { allowed } = JSON.parse(readFileSync(path.join(HERE, 'electronegativity-allowlist.json'), 'utf8')) as { allowed: Allowed[] };
  for (const entry of allowed) assert.ok(entry.reason.trim().length >= 40, `${entry.check} in ${entry.file} has its reason`);
  const matches = (entry: Allowed, finding: Finding): boolean => entry.check === finding.check && entry.file === finding.file && finding.sample.includes(entry.sample);

  const gated = scan.issues.filter((f) => GATED.has(f.severity));
  const unlisted = gated.filter((f) => !allowed.some((entry) => matches(entry, f)));
  assert.deepEqual(
    unlisted.map((f) => `${f.severity} ${f.check} ${f.file}:${f.line} ${f.sample.trim().slice(0, 80)} — ${f.description}`),
    [],
    'fix these, or review and list them with their reason in electronegativity-allowlist.json',
  );
  const stale = allowed.filter((entry) => !gated.some((f) => matches(entry, f)));
  assert.deepEqual(
    stale.map((e) => `${e.check} ${e.file}`),
    [],
    'these allow-list entries match no finding any more: remove them',
  );
});
