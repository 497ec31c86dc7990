/**
 * The e2e harness: builds the renderer once, serves dist-renderer/ from 127.0.0.1, opens it in
 * Debian's Chromium (playwright-core) with a fresh profile and a home of its own per test (so
 * nothing in the machine's home, such as a font cache or an NSS database, plays a part), and
 * installs a `window.mailferry` whose functions run in this test process. The bridge behind it is
 * whatever the test passes: the fake one for UI-only tests, the real AppService for end-to-end runs.
 * Waits are on `data-app-state` and DOM state, never on the clock.
 */
import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { INVOKE_CHANNELS, bridgeNameOf, type AccountRole, type AppJobEvent, type BatchEvent, type MailferryBridge } from '../../src/contract/ipc.js';
import { createAppService, type AppService, type StoredAccount } from '../../src/service/app-service.js';
import { handleInvoke, type InvokeEventLike } from '../../main/ipc-handlers.js';
import type { JobEvent } from '../../src/contract/job.js';
import { privateHomeEnv } from '../support/private-home.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/**
 * Autodiscovery for the AppServices of these tests: its DNS server is a port on 127.0.0.1 where
 * nothing answers, so each lookup fails at once and no test asks the machine's own resolver
 * (network only on 127.0.0.1). test/e2e/autodiscovery.test.ts points it at a real local one.
 */
export const OFFLINE_DISCOVERY = { dnsServers: ['127.0.0.1:9'] };
export const SCREENS_DIR = join(ROOT, 'test-results', 'screens');
const CHROMIUM = process.env.MAILFERRY_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let built: Promise<string> | null = null;
/**
 * Builds the renderer once per test process (Vite, a second or so) into a folder of its own, so
 * e2e files running side by side never serve a dist-renderer/ that another one is rewriting.
 */
export function buildRenderer(): Promise<string> {
  built ??= (async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'mailferry-e2e-renderer-'));
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'renderer', 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    await stat(join(outDir, 'index.html'));
    process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
    return outDir;
  })();
  return built;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

/** Serves a renderer build (default: the one buildRenderer made) on 127.0.0.1 with a random port. */
export async function serveRenderer(root?: string): Promise<{ url: string; close(): Promise<void> }> {
  const base = root ?? (await buildRenderer());
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(base, path === '/' ? 'index.html' : path));
    if (!file.startsWith(base)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}/`, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/**
 * A bridge over the real AppService shaped as the preload's: each request validated as main's
 * handlers validate it; job and batch events from the listener sets the service's emit feeds.
 */
export function serviceBridge(service: AppService, listeners: Set<(e: AppJobEvent) => void>, batchListeners: Set<(e: BatchEvent) => void> = new Set()): MailferryBridge {
  const own: InvokeEventLike = { sender: { id: 1 }, senderFrame: { url: 'app', parent: null } };
  const bridge: Record<string, unknown> = {};
  for (const channel of INVOKE_CHANNELS) {
    bridge[bridgeNameOf(channel)] = (request?: unknown) => handleInvoke(channel, own, request, service, () => true, (m) => console.log(`[main] ${m}`));
  }
  const subscribe =
    <E>(set: Set<(e: E) => void>) =>
    (listener: (e: E) => void) => {
      set.add(listener);
      return () => set.delete(listener);
    };
  bridge.onJobEvent = subscribe(listeners);
  bridge.onBatchEvent = subscribe(batchListeners);
  return bridge as unknown as MailferryBridge;
}

export interface AppPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and CSP refusals seen in the page. */
  problems: string[];
  push(event: JobEvent): Promise<void>;
  waitForState(state: string): Promise<void>;
  screenshot(name: string): Promise<string>;
  /** Runs axe on the page as it is; returns serious and critical violations. */
  axe(): Promise<{ id: string; impact: string | null | undefined; help: string; targets: string[] }[]>;
  close(): Promise<void>;
}

/**
 * Opens the renderer with `window.mailferry` backed by `bridge` in this process. Events the bridge
 * emits (onJobEvent) are forwarded into the page.
 */
export async function openApp(url: string, bridge: MailferryBridge, viewport = { width: 1280, height: 860 }): Promise<AppPage> {
  const browserDir = await mkdtemp(join(tmpdir(), 'mailferry-e2e-browser-'));
  const env = { ...process.env, ...privateHomeEnv(join(browserDir, 'home')) };
  const context = await chromium.launchPersistentContext(join(browserDir, 'profile'), { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport, deviceScaleFactor: 1, env });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));

  const names = INVOKE_CHANNELS.map((c) => bridgeNameOf(c) as string);
  for (const name of names) {
    const fn = (bridge as unknown as Record<string, (r?: unknown) => Promise<unknown>>)[name]!;
    await page.exposeFunction(`__mailferry_${name}`, (request?: unknown) => fn(request));
  }
  await page.addInitScript((bridgeNames: string[]) => {
    const w = window as unknown as Record<string, unknown>;
    const listeners = new Set<(e: unknown) => void>();
    const batchListeners = new Set<(e: unknown) => void>();
    const api: Record<string, unknown> = {};
    for (const name of bridgeNames) api[name] = (request?: unknown) => (w[`__mailferry_${name}`] as (r?: unknown) => Promise<unknown>)(request);
    api.onJobEvent = (listener: (e: unknown) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    };
    api.onBatchEvent = (listener: (e: unknown) => void) => {
      batchListeners.add(listener);
      return () => batchListeners.delete(listener);
    };
    w.__mailferryEmit = (event: unknown) => {
      for (const l of listeners) l(event);
    };
    w.__mailferryEmitBatch = (event: unknown) => {
      for (const l of batchListeners) l(event);
    };
    w.mailferry = Object.freeze(api);
  }, names);

  const push = async (event: JobEvent): Promise<void> => {
    await page.evaluate((e) => (window as unknown as { __mailferryEmit(e: unknown): void }).__mailferryEmit(e), event);
  };
  const pushBatch = async (event: BatchEvent): Promise<void> => {
    await page.evaluate((e) => (window as unknown as { __mailferryEmitBatch(e: unknown): void }).__mailferryEmitBatch(e), event);
  };
  const unsubscribeJobs = bridge.onJobEvent((event) => {
    push(event).catch(() => undefined); // the page may be closing
  });
  const unsubscribeBatch = bridge.onBatchEvent((event) => {
    pushBatch(event).catch(() => undefined);
  });
  const unsubscribe = (): void => {
    unsubscribeJobs();
    unsubscribeBatch();
  };

  try {
    await page.goto(url);
    await page.waitForSelector('[data-app-state]');
  } catch (e) {
    unsubscribe();
    await context.close();
    await rm(browserDir, { recursive: true, force: true });
    throw e;
  }

  return {
    page,
    context,
    problems,
    push,
    waitForState: async (state) => {
      await page.waitForSelector(`[data-app-state="${state}"]`, { timeout: 30_000 });
    },
    screenshot: async (name) => {
      await mkdir(SCREENS_DIR, { recursive: true });
      const path = join(SCREENS_DIR, `${name}.png`);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' });
      return path;
    },
    axe: async () => {
      const result = await new AxeBuilder({ page }).analyze();
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
    },
    close: async () => {
      unsubscribe();
      await context.close();
      await rm(browserDir, { recursive: true, force: true });
    },
  };
}

/**
 * With a fake bridge that accepts every account: fills in and tests both accounts, then goes to
 * Choose folders and waits for the tree.
 */
export async function fillFakeAccountsAndChooseFolders(app: AppPage): Promise<void> {
  const { page } = app;
  await app.waitForState('accounts');
  for (const role of ['source', 'destination']) {
    const form = page.locator(`form[data-role="${role}"]`);
    await form.getByLabel('E-mail address').fill(`${role}@example.org`);
    await form.getByLabel('Password', { exact: true }).fill('pw');
    await form.getByLabel('E-mail address').blur();
    await form.getByRole('button', { name: 'Server settings' }).click();
    await form.getByLabel('Server', { exact: true }).fill('imap.example.org');
    await form.getByRole('button', { name: 'Test connection' }).click();
    await form.getByTestId('test-ok').waitFor();
  }
  await page.getByRole('button', { name: 'Choose folders' }).click();
  await app.waitForState('folders');
  await page.getByRole('tree').waitFor();
}

/**
 * The real AppService for a test, over `stateDir`: accounts in memory (nothing remembered),
 * discovery offline, files saved under `saveDir`, the folder dialog answered by `chooseFolder`.
 * Its events are recorded in `events` and go to the page through `bridge`.
 */
export function startAppService(options: { stateDir: string; saveDir: string; chooseFolder(): Promise<string | undefined>; backoff?: { baseMs: number; capMs: number } }) {
  const accounts = new Map<AccountRole, StoredAccount>();
  const listeners = new Set<(e: AppJobEvent) => void>();
  const events: AppJobEvent[] = [];
  const service = createAppService({
    stateDir: options.stateDir,
    settings: { getAccount: (role) => accounts.get(role), setAccount: (role, a) => void accounts.set(role, a) },
    vault: { save: () => undefined, load: () => undefined, remove: () => undefined },
    emit: (event) => {
      events.push(event);
      for (const l of listeners) l(event);
    },
    discovery: OFFLINE_DISCOVERY,
    chooseSavePath: async (name) => join(options.saveDir, name),
    chooseFolder: options.chooseFolder,
    backoff: options.backoff ?? { baseMs: 200, capMs: 500 },
  });
  return { service, bridge: serviceBridge(service, listeners), events, accounts };
}

/** Fills an account form for a test server on 127.0.0.1 without TLS (allowed explicitly) and tests it. */
export async function fillLocalAccount(page: Page, role: AccountRole, user: { name: string; password: string }, port: number): Promise<void> {
  const form = page.locator(`form[data-role="${role}"]`);
  await form.getByLabel('E-mail address').fill(`${user.name}@example.test`);
  await form.getByLabel('Password', { exact: true }).fill(user.password);
  await form.getByRole('button', { name: 'Server settings' }).click();
  await form.getByLabel('Server', { exact: true }).fill('127.0.0.1');
  await form.getByLabel('Security').selectOption('plain');
  await form.getByLabel('Port').fill(String(port));
  await form.getByLabel('User name').fill(user.name);
  await form.getByLabel(/connect without encryption/).check();
  await form.getByRole('button', { name: 'Test connection' }).click();
  await form.getByTestId('test-ok').waitFor();
}
