/**
 * The engine side of every IPC channel: what main's handlers call, and what the browser tests
 * call directly. Electron-only pieces (safeStorage, electron-store, dialogs) come in as deps.
 *
 * Invariants:
 * - Passwords live only here (in memory) and in the vault (encrypted, only if remembered);
 *   no response, event, log line or file written by this service contains one.
 * - A job's truth is its journal: pause, cancel, resume, retry and "run again" all start
 *   runJob again over the same journal directory and continue from it.
 * - At most one run per job at a time.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { AccountCredentials, AccountEndpoint, ArchiveLocation, MailLocation } from '../contract/account.js';
import type { AccountRole, ConnectionCheck, InvokeMap, InvokeChannel, JobSummary, ProviderPreset, SavedAccount, StartJobRequest } from '../contract/ipc.js';
import type { JobEvent, JobReport } from '../contract/job.js';
import type { CopyPlan, PlanOptions } from '../contract/plan.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import type { BackoffPolicy } from '../engine/backoff.js';
import { jobDirectory, jobIdOf, journalDirectory, listJobRecords, loadJobRecord, saveJobRecord, writeFileAtomic, type JobRecord } from '../engine/job-state.js';
import { planCopy } from '../engine/plan-copy.js';
import { PAUSE_REASON, runJob, type JobFolder } from '../engine/run-job.js';
import type { DestinationStore, SourceStore } from '../engine/store.js';
import { connectImap, disconnectImap, type ConnectTimeouts } from '../imap/connect-imap.js';
import { openLocationAsDestination, openLocationAsSource } from '../locations/open-location.js';
import { lookupPreset } from './provider-presets.js';
import { reportToCsv, reportToHtml } from './report-export.js';

/** Where account settings (never passwords) are kept. electron-store in the app. */
export interface AccountSettingsStore {
  getAccount(role: AccountRole): { email: string; endpoint: AccountEndpoint } | undefined;
  setAccount(role: AccountRole, account: { email: string; endpoint: AccountEndpoint }): void;
}

/** Encrypted password storage. safeStorage in the app. */
export interface CredentialVault {
  save(role: AccountRole, password: string): void | Promise<void>;
  load(role: AccountRole): string | undefined | Promise<string | undefined>;
  remove(role: AccountRole): void | Promise<void>;
}

export interface AppServiceDeps {
  stateDir: string;
  settings: AccountSettingsStore;
  vault: CredentialVault;
  emit(event: JobEvent): void;
  /** Asks where to save a file (a dialog in the app); returns the chosen path or undefined if cancelled. */
  chooseSavePath(suggestedName: string): Promise<string | undefined>;
  timeouts?: ConnectTimeouts;
  backoff?: BackoffPolicy;
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

interface RunningJob {
  controller: AbortController;
  done: Promise<JobReport>;
}

const toMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export const createAppService = (deps: AppServiceDeps): AppService => {
  const passwords = new Map<AccountRole, string>();
  const running = new Map<string, RunningJob>();
  const reports = new Map<string, JobReport>();

  const credentialsOf = async (role: AccountRole): Promise<Result<AccountCredentials>> => {
    const account = deps.settings.getAccount(role);
    if (!account) return err(migrationError('bad-input', `The ${role === 'source' ? 'old' : 'new'} account is not set up yet.`));
    const password = passwords.get(role) ?? (await deps.vault.load(role));
    if (password === undefined) return err(migrationError('bad-input', `Enter the password of the ${role === 'source' ? 'old' : 'new'} account.`));
    return ok({ ...account.endpoint, password });
  };

  const openers = async (archive?: ArchiveLocation) => {
    const source = await credentialsOf('source');
    if (!source.ok) return source;
    const sourceLocation: MailLocation = { kind: 'imap', endpoint: source.value };
    let destinationLocation: MailLocation;
    let destinationPassword: string | undefined;
    if (archive) destinationLocation = { kind: 'archive', archive };
    else {
      const destination = await credentialsOf('destination');
      if (!destination.ok) return destination;
      destinationLocation = { kind: 'imap', endpoint: destination.value };
      destinationPassword = destination.value.password;
    }
    return ok({
      sourceLocation,
      destinationLocation,
      openSource: (): Promise<Result<SourceStore>> => openLocationAsSource(sourceLocation, { password: source.value.password }, deps.timeouts),
      openDestination: (): Promise<Result<DestinationStore>> => openLocationAsDestination(destinationLocation, { password: destinationPassword }, deps.timeouts),
    });
  };

  const loadPlan = async (options: PlanOptions, archive?: ArchiveLocation): Promise<Result<CopyPlan>> => {
    const open = await openers(archive);
    if (!open.ok) return open;
    const [source, destination] = await Promise.all([open.value.openSource(), open.value.openDestination()]);
    try {
      if (!source.ok) return source;
      if (!destination.ok) return destination;
      return await planCopy(source.value, destination.value, options);
    } finally {
      if (source.ok) await source.value.close();
      if (destination.ok) await destination.value.close();
    }
  };

  const endpointOrArchive = (location: MailLocation) => (location.kind === 'imap' ? stripSecret(location.endpoint) : { archive: `${location.archive.format}:${path.resolve(location.archive.path)}` });

  /** Starts (or restarts) a run over the given folders; resolves once it is under way. */
  const startRun = async (record: JobRecord, folders: JobFolder[], archive: ArchiveLocation | undefined): Promise<Result<{ jobId: string }>> => {
    if (running.has(record.jobId)) return err(migrationError('bad-input', 'This move is already running.'));
    const open = await openers(archive);
    if (!open.ok) return open;
    const controller = new AbortController();
    await saveJobRecord(deps.stateDir, { ...record, status: 'copying', updatedAt: Date.now() });
    const done = runJob(
      folders,
      { openSource: open.value.openSource, openDestination: open.value.openDestination, journalDirectory: journalDirectory(deps.stateDir, record.jobId) },
      {
        jobId: record.jobId,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'progress') {
            record.bytesDone = event.progress.bytesDone;
            record.bytesTotal = event.progress.bytesTotal;
          }
          deps.emit(event);
        },
        settings: record.settings,
        backoff: deps.backoff,
      },
    );
    running.set(record.jobId, { controller, done });
    void done
      .then(async (report) => {
        reports.set(record.jobId, report);
        await writeFileAtomic(path.join(jobDirectory(deps.stateDir, record.jobId), 'report.json'), JSON.stringify(report));
        await saveJobRecord(deps.stateDir, { ...record, status: report.status, updatedAt: Date.now() });
      })
      .catch((e: unknown) => {
        deps.emit({ type: 'log', jobId: record.jobId, level: 'error', message: `The move stopped unexpectedly: ${toMessage(e)}`, at: Date.now() });
        deps.emit({ type: 'job-status', jobId: record.jobId, status: 'needs-attention', error: migrationError('internal', toMessage(e)) });
      })
      .finally(() => running.delete(record.jobId));
    return ok({ jobId: record.jobId });
  };

  const foldersFromPlan = (plan: CopyPlan, selectedPaths: string[]): JobFolder[] => {
    const wanted = new Set(selectedPaths);
    return plan.folders
      .filter((f) => wanted.has(f.source.path) && f.source.isSelectable)
      .map((f) => ({ sourcePath: f.source.path, destinationPath: f.destinationPath, messages: f.source.messages, sizeBytes: f.source.sizeBytes, messageFilter: f.messageFilter }));
  };

  /** Re-plans a recorded job (folder sizes change between runs) and runs the given folders of it. */
  const rerun = async (jobId: string, onlyPaths?: (report: JobReport | undefined) => string[]): Promise<Result<void>> => {
    const record = await loadJobRecord(deps.stateDir, jobId);
    if (!record) return err(migrationError('not-found', 'This move is not known any more.'));
    const archive = record.archiveLocation;
    const plan = await loadPlan(record.options, archive);
    if (!plan.ok) return plan;
    const report = reports.get(jobId) ?? (await readReport(jobId));
    const paths = onlyPaths ? onlyPaths(report) : record.selectedPaths;
    const started = await startRun(record, foldersFromPlan(plan.value, paths), archive);
    return started.ok ? ok(undefined) : started;
  };

  const readReport = async (jobId: string): Promise<JobReport | undefined> => {
    try {
      return JSON.parse(await fs.readFile(path.join(jobDirectory(deps.stateDir, jobId), 'report.json'), 'utf8')) as JobReport;
    } catch {
      return undefined;
    }
  };

  const service: AppService = {
    async 'accounts:load'() {
      const toSaved = async (role: AccountRole): Promise<SavedAccount | undefined> => {
        const account = deps.settings.getAccount(role);
        if (!account) return undefined;
        return { ...account, hasSavedPassword: (await deps.vault.load(role)) !== undefined };
      };
      return ok({ source: await toSaved('source'), destination: await toSaved('destination') });
    },
    async 'accounts:save'({ role, email, endpoint, password, rememberPassword }) {
      const clean = stripSecret(endpoint);
      deps.settings.setAccount(role, { email, endpoint: clean });
      if (password !== undefined) passwords.set(role, password);
      const known = password ?? passwords.get(role);
      if (rememberPassword && known !== undefined) await deps.vault.save(role, known);
      if (!rememberPassword) await deps.vault.remove(role);
      return ok({ email, endpoint: clean, hasSavedPassword: rememberPassword && known !== undefined });
    },
    async 'accounts:test'({ role }): Promise<Result<ConnectionCheck>> {
      const credentials = await credentialsOf(role);
      if (!credentials.ok) return credentials;
      const connection = await connectImap(credentials.value, deps.timeouts);
      if (!connection.ok) return connection;
      try {
        const socket = (connection.value.client as unknown as { socket?: { getPeerCertificate?: () => { fingerprint256?: string } } }).socket;
        const fingerprint = socket?.getPeerCertificate?.()?.fingerprint256;
        const serverInfo = connection.value.client.serverInfo as { name?: string; version?: string } | null | undefined;
        return ok({
          capabilities: [...connection.value.client.capabilities.keys()].sort(),
          serverName: serverInfo?.name ? `${serverInfo.name}${serverInfo.version ? ` ${serverInfo.version}` : ''}` : undefined,
          certificateFingerprint: fingerprint || undefined,
        });
      } finally {
        await disconnectImap(connection.value);
      }
    },
    async 'presets:lookup'({ email }): Promise<Result<ProviderPreset | null>> {
      return ok(lookupPreset(email));
    },
    async 'plan:load'({ options }) {
      return loadPlan(options);
    },
    async 'jobs:start'(request: StartJobRequest) {
      const plan = await loadPlan(request.options, request.archive);
      if (!plan.ok) return plan;
      const folders = foldersFromPlan(plan.value, request.selectedPaths);
      if (folders.length === 0) return err(migrationError('bad-input', 'Choose at least one folder to move.'));
      const chosen = new Set(request.selectedPaths);
      const collisions = plan.value.folders.filter((f) => chosen.has(f.source.path) && f.collidesWith.some((other) => chosen.has(other)));
      if (collisions.length > 0) {
        return err(migrationError('bad-input', `Some folders would land in the same place: ${collisions.map((f) => `${f.source.path} → ${f.destinationPath}`).join(', ')}. Rename one of them.`));
      }
      const open = await openers(request.archive);
      if (!open.ok) return open;
      const source = endpointOrArchive(open.value.sourceLocation);
      const destination = endpointOrArchive(open.value.destinationLocation);
      const jobId = jobIdOf(source, destination);
      const previous = await loadJobRecord(deps.stateDir, jobId);
      const record: JobRecord = {
        jobId,
        source,
        destination,
        options: request.options,
        selectedPaths: folders.map((f) => f.sourcePath),
        createdAt: previous?.createdAt ?? Date.now(),
        updatedAt: Date.now(),
        status: 'queued',
        bytesDone: 0,
        bytesTotal: folders.reduce((n, f) => n + f.sizeBytes, 0),
        settings: request.settings,
        archiveLocation: request.archive,
      };
      return startRun(record, folders, request.archive);
    },
    async 'jobs:pause'({ jobId }) {
      const job = running.get(jobId);
      if (!job) return err(migrationError('bad-input', 'This move is not running.'));
      job.controller.abort(PAUSE_REASON);
      await job.done.catch(() => undefined);
      return ok(undefined);
    },
    async 'jobs:cancel'({ jobId }) {
      const job = running.get(jobId);
      if (!job) return err(migrationError('bad-input', 'This move is not running.'));
      job.controller.abort('cancel');
      await job.done.catch(() => undefined);
      return ok(undefined);
    },
    async 'jobs:resume'({ jobId }) {
      return rerun(jobId);
    },
    async 'jobs:retryFolder'({ jobId, sourcePath }) {
      return rerun(jobId, () => [sourcePath]);
    },
    async 'jobs:retryFailed'({ jobId }) {
      return rerun(jobId, (report) => (report ? report.folders.filter((f) => !f.isComplete).map((f) => f.sourcePath) : []));
    },
    async 'jobs:list'(): Promise<Result<JobSummary[]>> {
      const records = await listJobRecords(deps.stateDir);
      return ok(
        records.map((r) => ({
          jobId: r.jobId,
          source: describeLocation(r.source),
          destination: describeLocation(r.destination),
          startedAt: r.createdAt,
          updatedAt: r.updatedAt,
          // A record still saying "copying" with no run in this process was interrupted (crash, quit).
          status: r.status === 'copying' && !running.has(r.jobId) ? 'paused' : r.status,
          bytesDone: r.bytesDone,
          bytesTotal: r.bytesTotal,
        })),
      );
    },
    async 'jobs:report'({ jobId }) {
      const report = reports.get(jobId) ?? (await readReport(jobId));
      return report ? ok(report) : err(migrationError('not-found', 'There is no report for this move yet.'));
    },
    async 'reports:export'({ jobId, format }) {
      const report = reports.get(jobId) ?? (await readReport(jobId));
      if (!report) return err(migrationError('not-found', 'There is no report for this move yet.'));
      const target = await deps.chooseSavePath(`mailferry-report-${new Date(report.finishedAt).toISOString().slice(0, 10)}.${format}`);
      if (!target) return err(migrationError('cancelled', 'Not saved.'));
      await writeFileAtomic(target, format === 'csv' ? reportToCsv(report) : reportToHtml(report));
      return ok({ path: target });
    },
    async 'messages:saveEml'({ sourcePath, uid }) {
      const credentials = await credentialsOf('source');
      if (!credentials.ok) return credentials;
      const source = await openLocationAsSource({ kind: 'imap', endpoint: credentials.value }, { password: credentials.value.password }, deps.timeouts);
      if (!source.ok) return source;
      try {
        const opened = await source.value.openFolder(sourcePath);
        if (!opened.ok) return opened;
        let body: Buffer | undefined;
        for await (const read of source.value.readBodies(sourcePath, [uid])) {
          if (!read.ok) return err(read.error);
          body = read.body;
        }
        if (!body) return err(migrationError('not-found', 'The message is no longer on the source.'));
        const target = await deps.chooseSavePath(`message-${uid}.eml`);
        if (!target) return err(migrationError('cancelled', 'Not saved.'));
        await writeFileAtomic(target, body);
        return ok({ path: target });
      } finally {
        await source.value.close();
      }
    },
    async shutdown() {
      for (const job of running.values()) job.controller.abort(PAUSE_REASON);
      await Promise.allSettled([...running.values()].map((j) => j.done));
    },
    isBusy: () => running.size > 0,
  };
  return service;
};

const stripSecret = (endpoint: AccountEndpoint): AccountEndpoint => {
  const { host, port, security, user, allowPlaintext, pinnedFingerprint } = endpoint as AccountEndpoint & { password?: string };
  return { host, port, security, user, ...(allowPlaintext ? { allowPlaintext } : {}), ...(pinnedFingerprint ? { pinnedFingerprint } : {}) };
};

const describeLocation = (location: JobRecord['source']): string => ('archive' in location ? location.archive : `${location.user}@${location.host}`);
