/**
 * The app's screen for IT staff: a users CSV opened, its mailboxes moved (src/batch/, the same
 * batch as `mailferry batch`), their progress pushed as batch events, a row's folder tree, and
 * the batch report exported.
 *
 * Invariants:
 * - One batch at a time; the CSV is read and checked whole (secrets included) before it can start,
 *   and opening another while one runs is refused.
 * - Passwords read for the rows live only in this object's memory, for the batch loaded; no
 *   response or event carries one (the renderer sees ids, locations without secrets, progress).
 * - Progress events are absolute and throttled per mailbox; a status change always goes out.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BatchInputProblem, MailboxProgress, MailboxSummary } from '../contract/batch.js';
import type { AppFolderProgress, BatchEvent, BatchFolders, BatchView } from '../contract/ipc.js';
import type { FolderReport } from '../contract/job.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import type { RefreshTokenStore } from '../auth/refresh-token-store.js';
import { readOAuthSettings } from '../auth/oauth-settings.js';
import { readBatchFile, type BatchRow } from '../batch/batch-file.js';
import { readRowLogins, type RowCredentials } from '../batch/batch-logins.js';
import { batchReportToCsv, batchReportToHtml } from '../batch/batch-report.js';
import { runBatch } from '../batch/run-batch.js';
import { mailboxStateDirectory } from '../batch/run-mailbox.js';
import type { BackoffPolicy } from '../engine/backoff.js';
import { PAUSE_REASON } from '../engine/run-job.js';
import { writeFileAtomic } from '../fs/write-file-atomic.js';
import type { ConnectTimeouts } from '../imap/connect-imap.js';
import { defaultStateDirectory, describeJobLocation, jobIdOf, jobLocationOf, loadJobReport } from '../jobs/job-records.js';
import type { ChannelHandlers } from './channel-handlers.js';

/** A mailbox's progress goes out at most this often (its status changes at once). */
export const BATCH_PROGRESS_INTERVAL_MS = 300;

/** What the batch concern needs from main: dialogs, the environment, the keychain, an event sink. */
export interface BatchServiceDeps {
  /** Where each mailbox's journals live (`<dir>/<id>`); the CLI's default is the same folder. */
  stateDir: string;
  emit(event: BatchEvent): void;
  /** Asks for a users CSV (a file dialog in the app); undefined if cancelled. */
  chooseOpenPath(): Promise<string | undefined>;
  chooseSavePath(suggestedName: string): Promise<string | undefined>;
  /** Where the CSV's *_password_env and *_token_env names are looked up. */
  env: Record<string, string | undefined>;
  /** Kept OAuth2 sign-ins (`mailferry … --remember`): the OS keychain. */
  keychain?: RefreshTokenStore;
  /** The folder holding oauth-clients.json (default: the app-data folder). */
  settingsDir?: string;
  timeouts?: ConnectTimeouts;
  backoff?: BackoffPolicy;
}

/** The channels the batch concern answers. */
export type BatchChannel = 'batch:open' | 'batch:start' | 'batch:stop' | 'batch:export' | 'batch:folders';

/** The batch concern: its channels, quitting and whether a batch runs. */
export type BatchService = ChannelHandlers<BatchChannel> & {
  shutdown(): Promise<void>;
  isBusy(): boolean;
};

interface LoadedBatch {
  file: string;
  rows: BatchRow[];
  credentials: Map<string, RowCredentials>;
  progress: Map<string, MailboxProgress>;
  /** The last folder rows each mailbox's run reported. */
  folders: Map<string, AppFolderProgress[]>;
  /** Each mailbox's source hierarchy separator, from its plan. */
  delimiters: Map<string, string>;
  summaries?: MailboxSummary[];
}

const waiting = (row: BatchRow): MailboxProgress => ({ id: row.id, row: row.row, status: 'waiting', messagesDone: 0, messagesTotal: 0, bytesDone: 0, bytesTotal: 0 });

/** A saved folder report as a folder row of the tree. */
const folderOfReport = (f: FolderReport): AppFolderProgress => ({
  sourcePath: f.sourcePath,
  destinationPath: f.destinationPath,
  status: f.status,
  messagesTotal: f.expected,
  messagesDone: f.copied + f.alreadyThere,
  bytesTotal: 0,
  bytesDone: 0,
  ...(f.error ? { lastError: f.error } : {}),
});

/** The batch concern; see the file header for its invariants. */
export const createBatchService = (deps: BatchServiceDeps): BatchService => {
  let loaded: LoadedBatch | undefined;
  let running: { controller: AbortController; done: Promise<void> } | undefined;

  const view = (batch: LoadedBatch, problems: BatchInputProblem[] = []): BatchView => ({
    file: batch.file,
    mailboxes: batch.rows.map((r) => ({ id: r.id, row: r.row, line: r.line, source: describeJobLocation(jobLocationOf(r.from)), destination: describeJobLocation(jobLocationOf(r.to)) })),
    problems,
    progress: batch.rows.map((r) => batch.progress.get(r.id) ?? waiting(r)),
    isRunning: running !== undefined,
  });

  const start = (batch: LoadedBatch, request: { parallel: number; connectionsPerSide?: number; maxBytesPerSecond?: number }): void => {
    const controller = new AbortController();
    const lastSent = new Map<string, { at: number; status: string }>();
    const send = (progress: MailboxProgress): void => {
      const last = lastSent.get(progress.id);
      const now = Date.now();
      if (last && last.status === progress.status && now - last.at < BATCH_PROGRESS_INTERVAL_MS && !progress.summary) return;
      lastSent.set(progress.id, { at: now, status: progress.status });
      deps.emit({ type: 'mailbox', progress });
    };
    for (const row of batch.rows) batch.progress.set(row.id, waiting(row));
    batch.folders.clear();
    batch.summaries = undefined;
    const done = (async () => {
      const settings = await readOAuthSettings(deps.settingsDir ?? defaultStateDirectory());
      const summaries = await runBatch(batch.rows, batch.credentials, {
        parallel: request.parallel,
        maxBytesPerSecond: request.maxBytesPerSecond ?? 0,
        stateDir: deps.stateDir,
        settings: { ...(request.connectionsPerSide ? { connectionsPerSide: request.connectionsPerSide } : {}) },
        planOptions: {},
        timeouts: deps.timeouts,
        backoff: deps.backoff,
        signIn: { env: deps.env, settings: settings.ok ? settings.value : {}, keychain: deps.keychain, stderr: () => undefined },
        signal: controller.signal,
        onEvent: (row, event) => {
          if (event.type === 'status') {
            batch.progress.set(row.id, event.progress);
            send(event.progress);
          } else if (event.type === 'plan') batch.delimiters.set(row.id, event.plan.source.delimiter);
          else if (event.type === 'job' && event.event.type === 'progress') batch.folders.set(row.id, event.event.progress.folders);
          else if (event.type === 'job' && event.event.type === 'folder-status') {
            const folders = batch.folders.get(row.id) ?? [];
            const changed = event.event.folder;
            batch.folders.set(row.id, folders.some((f) => f.sourcePath === changed.sourcePath) ? folders.map((f) => (f.sourcePath === changed.sourcePath ? changed : f)) : [...folders, changed]);
          }
        },
      });
      batch.summaries = summaries;
      running = undefined;
      deps.emit({ type: 'batch-status', isRunning: false, summaries });
    })();
    running = { controller, done };
    deps.emit({ type: 'batch-status', isRunning: true });
    void done.catch((e: unknown) => {
      running = undefined;
      deps.emit({ type: 'batch-status', isRunning: false });
      // Nothing in runBatch throws for what a server or a file does; this is a bug, kept visible.
      console.error(`The batch stopped unexpectedly: ${e instanceof Error ? e.message : String(e)}`);
    });
  };

  return {
    async 'batch:open'({ allowPlaintext }) {
      if (running) return err(migrationError('bad-input', 'A batch is running; stop it before opening another.'));
      const file = await deps.chooseOpenPath();
      if (!file) return err(migrationError('cancelled', 'No file chosen.'));
      let bytes: Buffer;
      try {
        bytes = await fs.readFile(file);
      } catch (e) {
        loaded = undefined;
        return ok({ file, mailboxes: [], problems: [{ reason: `The file cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).` }], progress: [], isRunning: false });
      }
      const rows = readBatchFile(bytes, { allowPlaintext, baseDir: path.dirname(file) });
      if (!rows.ok) {
        loaded = undefined;
        return ok({ file, mailboxes: [], problems: rows.error, progress: [], isRunning: false });
      }
      const settings = await readOAuthSettings(deps.settingsDir ?? defaultStateDirectory());
      const credentials = await readRowLogins(rows.value, { env: deps.env, settings: settings.ok ? settings.value : {}, keychain: deps.keychain });
      const batch: LoadedBatch = { file, rows: rows.value, credentials: credentials.ok ? credentials.value : new Map(), progress: new Map(), folders: new Map(), delimiters: new Map() };
      if (!credentials.ok) {
        loaded = undefined;
        return ok(view(batch, credentials.error));
      }
      loaded = batch;
      return ok(view(batch));
    },
    async 'batch:start'(request) {
      if (!loaded) return err(migrationError('bad-input', 'Open a users CSV without problems first.'));
      if (running) return err(migrationError('bad-input', 'This batch is already running.'));
      start(loaded, request);
      return ok(undefined);
    },
    async 'batch:stop'() {
      if (!running) return err(migrationError('bad-input', 'No batch is running.'));
      const { controller, done } = running;
      controller.abort(PAUSE_REASON);
      await done.catch(() => undefined);
      return ok(undefined);
    },
    async 'batch:export'({ format }) {
      if (!loaded?.summaries) return err(migrationError('not-found', 'There is no batch report yet: start the batch first.'));
      const target = await deps.chooseSavePath(`mailferry-batch-report-${new Date().toISOString().slice(0, 10)}.${format}`);
      if (!target) return err(migrationError('cancelled', 'Not saved.'));
      await writeFileAtomic(target, format === 'csv' ? batchReportToCsv(loaded.summaries) : batchReportToHtml(loaded.summaries, Date.now()));
      return ok({ path: target });
    },
    async 'batch:folders'({ id }): Promise<Result<BatchFolders>> {
      const row = loaded?.rows.find((r) => r.id === id);
      if (!loaded || !row) return err(migrationError('not-found', `No mailbox "${id}" in the open batch.`));
      const folders = loaded.folders.get(id);
      const delimiter = loaded.delimiters.get(id);
      if (folders) return ok({ id, folders, source: 'run', ...(delimiter ? { delimiter } : {}) });
      const report = await loadJobReport(mailboxStateDirectory(deps.stateDir, id), jobIdOf(jobLocationOf(row.from), jobLocationOf(row.to)));
      return ok(report ? { id, folders: report.folders.map(folderOfReport), source: 'saved-report' } : { id, folders: [], source: 'none' });
    },
    async shutdown() {
      if (!running) return;
      running.controller.abort(PAUSE_REASON);
      await running.done.catch(() => undefined);
    },
    isBusy: () => running !== undefined,
  };
};
