/**
 * Mailferry's main process: one window, sandboxed and isolated, showing the built renderer;
 * the engine (AppService) behind the IPC handlers; the desktop effects of a running job.
 *
 * Security, as house style asks: contextIsolation, sandbox, no nodeIntegration, no webview; the
 * page's CSP allows only its own scripts and styles; navigation, new windows and permission
 * requests are refused; IPC is answered only for our window's main frame, payloads validated.
 */
import { app, BrowserWindow, dialog, ipcMain, Notification, powerSaveBlocker, safeStorage, session, shell } from 'electron';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EventChannel } from '../src/contract/ipc.js';
import type { AppJobEvent, BatchEvent } from '../src/contract/ipc.js';
import { createOsKeychain } from '../src/cli/os-keychain.js';
import { createAppService, type AppService } from '../src/service/app-service.js';
import { createCredentialVault } from './credential-vault.js';
import { signInDefaultsFrom } from './sign-in-defaults.js';
import { accountSettingsStore, createElectronKeyValueStore } from './settings-store.js';
import { isOwnWindowSender, registerIpcHandlers, type IpcMainLike } from './ipc-handlers.js';
import { createJobEffects } from './job-effects.js';
import { lockDown, type LockableContents } from './lock-down.js';
import { gateArchivePaths } from './archive-path-gate.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PRELOAD = path.join(HERE, 'preload.cjs');
const RENDERER_INDEX = path.join(HERE, '..', '..', 'dist-renderer', 'index.html');
const PAGE_URL = pathToFileURL(RENDERER_INDEX).href;
const JOB_EVENTS: EventChannel = 'jobs:event';
const BATCH_EVENTS: EventChannel = 'batch:event';

let win: BrowserWindow | null = null;
let service: AppService | null = null;

const log = (message: string): void => {
  console.log(`[mailferry] ${message}`);
};

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1240,
    height: 900,
    minWidth: 900,
    minHeight: 640,
    title: 'Mailferry',
    backgroundColor: '#f4f6f8',
    show: false,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      spellcheck: false,
      // A middle click opens no window (window.open is refused anyway: lock-down.ts).
      disableBlinkFeatures: 'Auxclick',
    },
  });
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    win = null;
  });
  void window.loadFile(RENDERER_INDEX);
  return window;
}

async function chooseSavePath(suggestedName: string): Promise<string | undefined> {
  const options = { defaultPath: path.join(app.getPath('documents'), suggestedName) };
  const result = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
  return result.canceled ? undefined : result.filePath;
}

/** The folder picker for an archive: existing folders, or a new one made in the dialog. */
async function chooseFolder(): Promise<string | undefined> {
  const options: Electron.OpenDialogOptions = {
    title: 'Choose a folder for the archive',
    buttonLabel: 'Use this folder',
    defaultPath: app.getPath('documents'),
    properties: ['openDirectory', 'createDirectory', 'promptToCreate'],
  };
  const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return result.canceled ? undefined : result.filePaths[0];
}

/** The users CSV of a batch (IT staff moving many mailboxes). */
async function chooseUsersCsv(): Promise<string | undefined> {
  const options: Electron.OpenDialogOptions = {
    title: 'Open a users CSV',
    buttonLabel: 'Open',
    defaultPath: app.getPath('documents'),
    filters: [{ name: 'Users CSV', extensions: ['csv'] }],
    properties: ['openFile'],
  };
  const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return result.canceled ? undefined : result.filePaths[0];
}

/** Only web addresses go to the system browser: a sign-in page is https (or http on loopback). */
async function openSignInPage(url: string): Promise<void> {
  const protocol = new URL(url).protocol;
  if (protocol !== 'https:' && protocol !== 'http:') throw new Error(`not a web address: ${protocol}`);
  await shell.openExternal(url);
}

async function start(): Promise<void> {
  app.enableSandbox();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    if (win?.isMinimized()) win.restore();
    win?.focus();
  });
  app.on('web-contents-created', (_e, contents) => lockDown(contents as unknown as LockableContents));
  await app.whenReady();
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  const kv = await createElectronKeyValueStore();
  let blockerId: number | null = null;
  const effects = createJobEffects({
    keepAwake(isOn) {
      if (isOn && blockerId === null) blockerId = powerSaveBlocker.start('prevent-app-suspension');
      if (!isOn && blockerId !== null) {
        powerSaveBlocker.stop(blockerId);
        blockerId = null;
      }
    },
    setProgress(fraction, mode) {
      win?.setProgressBar(fraction, { mode });
    },
    notify(title, body) {
      if (Notification.isSupported()) new Notification({ title, body }).show();
    },
  });

  service = createAppService({
    stateDir: path.join(app.getPath('userData'), 'jobs'),
    settings: accountSettingsStore(kv),
    vault: createCredentialVault(safeStorage, kv, log),
    tokenVault: createCredentialVault(safeStorage, kv, log, 'sign-in'),
    // The sign-in page opens in the person's own browser (RFC 8252), never in a window of ours.
    openExternal: (url) => openSignInPage(url),
    signInDefaults: await signInDefaultsFrom(process.env, app.getPath('userData'), log),
    emit(event: AppJobEvent) {
      effects(event);
      if (win && !win.isDestroyed()) win.webContents.send(JOB_EVENTS, event);
    },
    chooseSavePath,
    chooseFolder,
    // Batches: the CSV names environment variables and files for passwords, and may use the
    // sign-ins the command line kept in the OS keychain; journals where the command line keeps them.
    chooseOpenPath: chooseUsersCsv,
    batchStateDir: path.join(app.getPath('userData'), 'batch'),
    env: process.env,
    keychain: createOsKeychain(),
    emitBatch(event: BatchEvent) {
      if (win && !win.isDestroyed()) win.webContents.send(BATCH_EVENTS, event);
    },
  });

  win = createWindow();
  const current = win;
  registerIpcHandlers(
    ipcMain as unknown as IpcMainLike,
    // Archive folders only as the dialog chose them in this session.
    gateArchivePaths(service),
    (event) => win !== null && isOwnWindowSender(event, { webContentsId: current.webContents.id, pageUrl: PAGE_URL }),
    log,
  );

  app.on('window-all-closed', () => app.quit());
  let isQuitting = false;
  app.on('before-quit', (e) => {
    // Pause running jobs so their journals are consistent; the next start offers to resume.
    if (isQuitting || !service?.isBusy()) return;
    e.preventDefault();
    isQuitting = true;
    void service.shutdown().finally(() => app.quit());
  });
}

void start().catch((e: unknown) => {
  log(`Could not start: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  app.exit(1);
});
