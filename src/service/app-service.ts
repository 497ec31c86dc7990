/**
 * The engine side of every IPC channel: what main's handlers call, and what the browser tests
 * call directly. Electron-only pieces (safeStorage, electron-store, dialogs) come in as deps.
 * Each concern answers its own channels: accounts (account-service.ts), jobs (job-service.ts,
 * over the job lifecycle of src/jobs/), reports (report-service.ts) and batches of many mailboxes
 * (batch-service.ts, over src/batch/); this file puts them behind the one channel table.
 *
 * Invariants:
 * - Passwords live only in the account service (in memory) and in the vault (encrypted, only if
 *   remembered); OAuth2 tokens only in account-sign-ins.ts (access tokens in memory, refresh
 *   tokens also in the token vault, encrypted); no response, event, log line or file written by
 *   this service contains either.
 * - A job's truth is its journal (see job-service.ts and src/jobs/).
 */
import type { AppJobEvent, BatchEvent, InvokeChannel, InvokeMap } from '../contract/ipc.js';
import type { RefreshTokenStore } from '../auth/refresh-token-store.js';
import type { BackoffPolicy } from '../engine/backoff.js';
import path from 'node:path';
import type { ConnectTimeouts } from '../imap/connect-imap.js';
import { createAccountService, type AccountServiceDeps } from './account-service.js';
import { createBatchService } from './batch-service.js';
import { createJobService } from './job-service.js';
import { createReportService } from './report-service.js';

export type { AccountSettingsStore, CredentialVault, StoredAccount } from './account-service.js';

/** What the engine side of the app needs from main. */
export interface AppServiceDeps extends AccountServiceDeps {
  stateDir: string;
  emit(event: AppJobEvent): void;
  /** Asks where to save a file (a dialog in the app); returns the chosen path or undefined if cancelled. */
  chooseSavePath(suggestedName: string): Promise<string | undefined>;
  /** Asks for a folder on disk (a dialog in the app, new folders allowed); undefined if cancelled. */
  chooseFolder?(): Promise<string | undefined>;
  timeouts?: ConnectTimeouts;
  backoff?: BackoffPolicy;
  /** Batches (IT staff): where each mailbox's journals live, default `<stateDir>/batch`. */
  batchStateDir?: string;
  emitBatch?(event: BatchEvent): void;
  /** Asks for a users CSV (a file dialog in the app); undefined if cancelled. */
  chooseOpenPath?(): Promise<string | undefined>;
  /** Where a batch's *_password_env and *_token_env names are looked up (main: its environment). */
  env?: Record<string, string | undefined>;
  /** Kept OAuth2 sign-ins of the command line (`--remember`), for batch rows. */
  keychain?: RefreshTokenStore;
}

/** One handler per invoke channel: main and the tests derive their tables from this type. */
export type AppService = {
  [C in InvokeChannel]: (request: InvokeMap[C][0]) => Promise<InvokeMap[C][1]>;
} & {
  /** Stops every running job (pause) and waits for them; for app quit. */
  shutdown(): Promise<void>;
  /** True while any job is copying: main keeps the computer awake then. */
  isBusy(): boolean;
};

/** The engine side of every channel, from its concerns. */
export const createAppService = (deps: AppServiceDeps): AppService => {
  const { jobEnds, ...accountHandlers } = createAccountService(deps);
  const accounts = { jobEnds };
  const { reportOf, shutdown, isBusy, ...jobHandlers } = createJobService({ stateDir: deps.stateDir, accounts, emit: deps.emit, chooseFolder: deps.chooseFolder, backoff: deps.backoff });
  const reportHandlers = createReportService({ stateDir: deps.stateDir, accounts, reportOf, chooseSavePath: deps.chooseSavePath });
  const batch = createBatchService({
    stateDir: deps.batchStateDir ?? path.join(deps.stateDir, 'batch'),
    emit: (event) => deps.emitBatch?.(event),
    chooseOpenPath: async () => deps.chooseOpenPath?.(),
    chooseSavePath: deps.chooseSavePath,
    env: deps.env ?? {},
    keychain: deps.keychain,
    timeouts: deps.timeouts,
    backoff: deps.backoff,
  });
  const { shutdown: shutdownBatch, isBusy: isBatchBusy, ...batchHandlers } = batch;
  return {
    ...accountHandlers,
    ...jobHandlers,
    ...reportHandlers,
    ...batchHandlers,
    async shutdown() {
      await Promise.all([shutdown(), shutdownBatch()]);
    },
    isBusy: () => isBusy() || isBatchBusy(),
  };
};
