#!/usr/bin/env node
/**
 * `npm test`: the one command CI and developers run.
 *
 *   1. type-checks every tsconfig in TSCONFIGS that exists,
 *   2. runs `npm run build:renderer` first when package.json has that script (e2e tests load the build),
 *   3. finds the test files (src/ main/ test/ *.test.ts, renderer/ *.test.ts(x)) and runs them all in
 *      one `node --import tsx --test` with the spec reporter on stdout and TAP into
 *      test-results/tap.txt, with HOME and the XDG folders in a fresh temp folder (removed
 *      afterwards): what the machine's user did before (a ~/Mail, an app-data folder, caches)
 *      plays no part, and no test writes into the real home,
 *   4. ends with the TAP summary lines (`# pass N`, `# fail N`, ...) and `N passed, N failed`,
 *      which CI reads; a timed-out (cancelled) test file and a failed type-check or build count
 *      as failures. The exit code is non-zero on any failure.
 *
 * Usage: node scripts/run-tests.mjs [path ...] [--no-typecheck] [--no-build] [-- <node --test args>]
 *   A path limits the run to test files under it (`node scripts/run-tests.mjs test/e2e`); a path
 *   naming a test file runs it even inside a skipped folder such as fixtures/.
 *   Environment: TEST_TIMEOUT_MS (per test and per test file, default 300000),
 *   TEST_CONCURRENCY (test files at once, default 2).
 *
 * Plain Node, no dependencies: Node 20's `--test` has no glob support, so files are found here.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePrivateHome } from './private-home.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Type-checked when present. Add new tsconfigs here. */
const TSCONFIGS = ['tsconfig.json', 'renderer/tsconfig.json', 'main/tsconfig.json', 'test/e2e/tsconfig.json', 'test/tsconfig.json', 'tsconfig.test.json'];

/** Where test files live, and which names count as tests there. */
const TEST_ROOTS = [
  { dir: 'src', pattern: /\.test\.ts$/ },
  { dir: 'main', pattern: /\.test\.ts$/ },
  { dir: 'renderer', pattern: /\.test\.tsx?$/ },
  { dir: 'test', pattern: /\.test\.ts$/ },
];
const SKIP_DIRS = new Set(['node_modules', 'dist', 'dist-renderer', 'release', 'out', 'test-results', 'bench-results', 'fixtures']);
const MAX_DEPTH = 12;

/** What the real-server and browser tests run; scripts/setup-test-machine.sh installs all of it. */
const TEST_SERVERS_ROOT = process.env.MAILFERRY_TEST_SERVERS ?? '/opt/mailferry-test-servers';
const TEST_MACHINE_NEEDS = [
  { name: 'Dovecot', path: '/usr/sbin/dovecot' },
  { name: 'Chromium', path: '/usr/bin/chromium' },
  { name: 'mutt', path: '/usr/bin/mutt' },
  { name: 'tmux', path: '/usr/bin/tmux' },
  { name: 'GNOME Keyring', path: '/usr/bin/gnome-keyring-daemon' },
  { name: 'D-Bus', path: '/usr/bin/dbus-run-session' },
  { name: 'GNU parallel', path: '/usr/bin/parallel' },
  { name: 'Cyrus (unpacked)', path: join(TEST_SERVERS_ROOT, 'cyrus', '.mailferry-installed') },
  { name: 'Courier (unpacked)', path: join(TEST_SERVERS_ROOT, 'courier', '.mailferry-installed') },
];

const TEST_TIMEOUT_MS = Number(process.env.TEST_TIMEOUT_MS ?? 300_000);
const TEST_CONCURRENCY = Number(process.env.TEST_CONCURRENCY ?? 2);
/** The whole test run is killed after this; CI itself allows 90 minutes for everything. */
const RUN_TIMEOUT_MS = Number(process.env.TEST_RUN_TIMEOUT_MS ?? 60 * 60_000);
const TYPECHECK_TIMEOUT_MS = 10 * 60_000;
const BUILD_TIMEOUT_MS = 10 * 60_000;

/**
 * Where the TAP ends up (MAILFERRY_TAP_FILE lets the runner's own test keep its nested runs apart).
 * Each run writes its own file first and renames it here at the end: two runs in one checkout
 * (say `npm test` and `npm run e2e`) must not read each other's summary.
 */
const TAP_FILE = resolve(ROOT, process.env.MAILFERRY_TAP_FILE ?? join('test-results', 'tap.txt'));
const RUN_TAP_FILE = `${TAP_FILE}.${process.pid}.partial`;

const parseArgs = (argv) => {
  const dashdash = argv.indexOf('--');
  const own = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
  const passthrough = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  const flags = new Set(own.filter((a) => a.startsWith('--')));
  for (const flag of flags) {
    if (flag !== '--no-typecheck' && flag !== '--no-build') {
      console.error(`unknown option ${flag}; put node --test options after --`);
      process.exit(2);
    }
  }
  const filters = own.filter((a) => !a.startsWith('--')).map((a) => relative(ROOT, resolve(a)).split(sep).join('/'));
  return { filters, passthrough, typecheck: !flags.has('--no-typecheck'), build: !flags.has('--no-build') };
};

/** Runs a command with inherited output; resolves to its exit code (a kill after timeoutMs counts as failure). */
const run = (command, args, { timeoutMs, env } = {}) =>
  new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', env: env ?? process.env, detached: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\n${command} ${args.slice(0, 3).join(' ')} ... took longer than ${timeoutMs} ms; killing it`);
      try {
        process.kill(-child.pid, 'SIGTERM');
        setTimeout(() => {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }, 5000).unref();
      } catch {
        // gone
      }
    }, timeoutMs);
    // Ctrl-C on the runner stops the whole child group too.
    const forward = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // gone
      }
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (error) => {
      console.error(`could not run ${command}: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolveRun(timedOut ? 124 : code ?? (signal ? 128 : 1));
    });
  });

const findTestFiles = () => {
  const files = [];
  const walk = (dir, pattern, depth) => {
    if (depth > MAX_DEPTH) return;
    let entries;
    try {
      entries = readdirSync(join(ROOT, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(rel, pattern, depth + 1);
      } else if (entry.isFile() && pattern.test(entry.name)) files.push(rel);
    }
  };
  for (const { dir, pattern } of TEST_ROOTS) walk(dir, pattern, 0);
  return [...new Set(files)].sort();
};

const matchesFilter = (file, filters) => filters.length === 0 || filters.some((f) => f === '' || file === f || file.startsWith(`${f.replace(/\/$/, '')}/`));

/** The top-level `# name N` lines at the end of a TAP stream. */
const tapSummary = (text) => {
  const summary = {};
  for (const line of text.split('\n')) {
    const m = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\d+(?:\.\d+)?)$/.exec(line);
    if (m) summary[m[1]] = Number(m[2]);
  }
  return summary;
};

const main = async () => {
  const { filters, passthrough, typecheck, build } = parseArgs(process.argv.slice(2));
  const env = { ...process.env };
  // Set by node --test in the processes it runs; left in, a nested `node --test` (the runner's own
  // test) refuses to run files.
  delete env.NODE_TEST_CONTEXT;
  if (env.CI) {
    env.NO_COLOR = '1';
    delete env.FORCE_COLOR;
  }
  const setupFailures = [];
  const started = Date.now();

  // The real servers and the browser the tests use. Missing ones are installed when we may
  // (root, with apt); otherwise the run says what to do. Never skipped.
  const missing = TEST_MACHINE_NEEDS.filter((need) => !existsSync(need.path)).map((need) => need.name);
  if (missing.length > 0) {
    const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
    console.log(`\n> missing for the tests: ${missing.join(', ')}${canInstall ? '; installing (scripts/setup-test-machine.sh)' : ''}`);
    const code = canInstall ? await run('bash', [join(ROOT, 'scripts', 'setup-test-machine.sh')], { timeoutMs: BUILD_TIMEOUT_MS, env }) : 1;
    if (code !== 0) {
      console.error(`The tests need ${missing.join(', ')}. Install them once with: sudo bash scripts/setup-test-machine.sh`);
      setupFailures.push(`test machine setup (${missing.join(', ')})`);
    }
  }

  if (typecheck) {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const config of TSCONFIGS.filter((c) => existsSync(join(ROOT, c)))) {
      console.log(`\n> tsc -p ${config} --noEmit`);
      const code = await run(process.execPath, [tsc, '-p', config, '--noEmit'], { timeoutMs: TYPECHECK_TIMEOUT_MS, env });
      if (code !== 0) setupFailures.push(`type-check of ${config}`);
    }
  }

  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  if (build && pkg.scripts?.['build:renderer']) {
    console.log('\n> npm run build:renderer');
    const code = await run('npm', ['run', 'build:renderer'], { timeoutMs: BUILD_TIMEOUT_MS, env });
    if (code !== 0) setupFailures.push('npm run build:renderer');
  }

  // A filter naming a file runs it even where discovery does not look (e.g. fixtures/).
  const namedFiles = filters.filter((f) => /\.test\.tsx?$/.test(f) && existsSync(join(ROOT, f)));
  const files = [...new Set([...findTestFiles().filter((f) => matchesFilter(f, filters)), ...namedFiles])].sort();
  let summary = { tests: 0, suites: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  if (files.length === 0) {
    console.error(filters.length ? `no test files under ${filters.join(', ')}` : 'no test files found');
    setupFailures.push('no test files');
  } else {
    console.log(`\n> node --test (${files.length} files, concurrency ${TEST_CONCURRENCY}, timeout ${TEST_TIMEOUT_MS} ms per test and per file)`);
    mkdirSync(dirname(TAP_FILE), { recursive: true });
    rmSync(RUN_TAP_FILE, { force: true });
    const args = [
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${TEST_CONCURRENCY}`,
      `--test-timeout=${TEST_TIMEOUT_MS}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${RUN_TAP_FILE}`,
      ...passthrough,
      ...files,
    ];
    const home = makePrivateHome('test-run');
    const code = await run(process.execPath, args, { timeoutMs: RUN_TIMEOUT_MS, env: { ...env, ...home.env } });
    rmSync(home.dir, { recursive: true, force: true });
    const tap = existsSync(RUN_TAP_FILE) ? readFileSync(RUN_TAP_FILE, 'utf8') : '';
    if (existsSync(RUN_TAP_FILE)) renameSync(RUN_TAP_FILE, TAP_FILE);
    const parsed = tapSummary(tap);
    summary = { ...summary, ...parsed };
    // No summary means the run died before reporting: never a pass.
    if (parsed.tests === undefined) setupFailures.push(`node --test gave no TAP summary (exit code ${code})`);
    else if (code !== 0 && summary.fail === 0 && summary.cancelled === 0) setupFailures.push(`node --test exited with code ${code}`);
  }

  // A cancelled test (a timed-out file) is a failure; so is a failed type-check or build.
  const failed = summary.fail + summary.cancelled + setupFailures.length;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log('');
  for (const problem of setupFailures) console.log(`FAILED: ${problem}`);
  console.log(`# tests ${summary.tests}`);
  console.log(`# suites ${summary.suites}`);
  console.log(`# pass ${summary.pass}`);
  console.log(`# fail ${failed}`);
  console.log(`# cancelled ${summary.cancelled}`);
  console.log(`# skipped ${summary.skipped}`);
  console.log(`# todo ${summary.todo}`);
  console.log(`# duration_ms ${Date.now() - started}`);
  console.log(`(${seconds} s in all; TAP in ${relative(ROOT, TAP_FILE)})`);
  console.log(`${summary.pass} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
};

await main();
