/**
 * The engine side of every IPC channel: what main's handlers call, and what the browser tests
 * call directly. Electron-only pieces (safeStorage, electron-store, dialogs) come in as deps.
 *
 * Invariants:
 * - Passwords live only here (in memory) and in the vault (encrypted, only if remembered);
 *   OAuth2 tokens only in account-sign-ins.ts (access tokens in memory, refresh tokens also in
 *   the token vault, encrypted); no response, event, log line or file written by this service
 *   contains either.
 * - A job's truth is its journal: pause, cancel, resume, retry and "run again" all start
 *   runJob again over the same journal directory and continue from it.
 * - At most one run per job at a time.
 * - A job that goes to the account and an archive runs two engine jobs one after the other, each
 *   over its own journals (their ids depend on source and destination), under the one job id the
 *   app knows; job-parts.ts folds their events and reports into that job's.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { AccountCredentials, AccountEndpoint, ArchiveLocation, MailLocation } from '../contract/account.js';
import type { AccountRole, AppJobEvent, AppJobReport, AppPlan, ConnectionCheck, FolderTarget, InvokeMap, InvokeChannel, JobSummary, ProviderPreset, SavedAccount, SignInSettings, StartJobRequest } from '../contract/ipc.js';
import type { JobReport } from '../contract/job.js';
import type { CopyPlan, PlanOptions } from '../contract/plan.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import type { BackoffPolicy } from '../engine/backoff.js';
import { jobDirectory, jobIdOf, journalDirectory, listJobRecords, loadJobRecord, saveJobRecord, writeFileAtomic, type JobRecord } from '../engine/job-state.js';
import { planCopy } from '../engine/plan-copy.js';
import { PAUSE_REASON, runJob, type JobFolder } from '../engine/run-job.js';
import type { DestinationStore, SourceStore } from '../engine/store.js';
import { connectImap, disconnectImap, type ConnectTimeouts } from '../imap/connect-imap.js';
import { openLocationAsDestination, openLocationAsSource, type LocationSecrets } from '../locations/open-location.js';
import { createAccountSignIns, type RoleVault, type SignInDefaults } from './account-sign-ins.js';
import { lookupPreset } from './provider-presets.js';
import { reportToCsv, reportToHtml } from './report-export.js';
import { createPartMerger, mergeReports, updateReport } from './job-parts.js';

/** An account's settings: where it lives and, for OAuth2, where it signs in. Never a secret. */
export interface StoredAccount {
  email: string;
  endpoint: AccountEndpoint;
  signIn?: SignInSettings;
}

/** Where account settings (never passwords) are kept. electron-store in the app. */
export interface AccountSettingsStore {
  getAccount(role: AccountRole): StoredAccount | undefined;
  setAccount(role: AccountRole, account: StoredAccount): void;
}

/** Encrypted password storage. safeStorage in the app. */
export type CredentialVault = RoleVault;

export interface AppServiceDeps {
  stateDir: string;
  settings: AccountSettingsStore;
  vault: CredentialVault;
  emit(event: AppJobEvent): void;
  /** Asks where to save a file (a dialog in the app); returns the chosen path or undefined if cancelled. */
  chooseSavePath(suggestedName: string): Promise<string | undefined>;
  /** Asks for a folder on disk (a dialog in the app, new folders allowed); undefined if cancelled. */
  chooseFolder?(): Promise<string | undefined>;
  timeouts?: ConnectTimeouts;
  backoff?: BackoffPolicy;
  /** Encrypted storage of OAuth2 refresh tokens (safeStorage in the app), apart from passwords. */
  tokenVault?: RoleVault;
  /** Opens the system browser for a sign-in (Electron's shell.openExternal). */
  openExternal?(url: string): Promise<void>;
  /** Client IDs to fall back on (MAILFERRY_OAUTH_CLIENT_ID, oauth-clients.json). */
  signInDefaults?: SignInDefaults;
  signInTimeoutMs?: number;
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
  done: Promise<AppJobReport>;
}

/** One destination of a job, with the engine job id its journals live under. */
interface JobPartRecord {
  target: FolderTarget;
  partId: string;
  selectedPaths: string[];
}

/**
 * The saved record of a job as the app knows it: the engine's JobRecord (whose jobId is the id
 * the app shows), plus its parts when it goes to the account and an archive. Records without
 * `parts` (older ones) have one part: the archive if `archiveLocation` is set, else the account.
 */
interface AppJobRecord extends JobRecord {
  parts?: JobPartRecord[];
  /** A restore: the archive read instead of the old account. */
  sourceArchive?: ArchiveLocation;
}

const partsOf = (record: AppJobRecord): JobPartRecord[] =>
  record.parts ?? [{ target: record.archiveLocation ? 'archive' : 'account', partId: record.jobId, selectedPaths: record.selectedPaths }];

/** Which paths a start request sends where (a request with an archive but no archivePaths is archive-only). */
const routesOf = (request: StartJobRequest): Record<FolderTarget, string[]> => {
  if (!request.archive) return { account: request.selectedPaths, archive: [] };
  if (request.archivePaths === undefined) return { account: [], archive: request.selectedPaths };
  return { account: request.selectedPaths, archive: request.archivePaths };
};

const TARGET_NAME: Record<FolderTarget, string> = { account: 'new account', archive: 'archive' };

const toMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export const createAppService = (deps: AppServiceDeps): AppService => {
  const passwords = new Map<AccountRole, string>();
  const running = new Map<string, RunningJob>();
  const reports = new Map<string, AppJobReport>();
  const signIns = createAccountSignIns({ vault: deps.tokenVault ?? memoryVault(), openExternal: deps.openExternal, defaults: deps.signInDefaults, signInTimeoutMs: deps.signInTimeoutMs });

  /** Why the vault this account would use keeps nothing on this computer (see main/credential-vault.ts). */
  const cannotRemember = (account: { signIn?: unknown }): { cannotRemember?: string } => {
    const why = (account.signIn ? deps.tokenVault : deps.vault)?.refusal?.();
    return why ? { cannotRemember: why } : {};
  };
  const savedAccount = async (role: AccountRole, account: StoredAccount): Promise<SavedAccount> => ({
    email: account.email,
    endpoint: account.endpoint,
    hasSavedPassword: (await deps.vault.load(role)) !== undefined,
    ...cannotRemember(account),
    ...(account.signIn ? { signIn: await signIns.describe(role, account.signIn) } : {}),
  });

  const credentialsOf = async (role: AccountRole): Promise<Result<AccountCredentials>> => {
    const account = deps.settings.getAccount(role);
    if (!account) return err(migrationError('bad-input', `The ${role === 'source' ? 'old' : 'new'} account is not set up yet.`));
    if (account.signIn) {
      const tokens = await signIns.tokenSource(role, account.signIn, account.endpoint.user);
      return tokens.ok ? ok({ ...account.endpoint, oauth: tokens.value }) : tokens;
    }
    const password = passwords.get(role) ?? (await deps.vault.load(role));
    if (password === undefined) return err(migrationError('bad-input', `Enter the password of the ${role === 'source' ? 'old' : 'new'} account.`));
    return ok({ ...account.endpoint, password });
  };

  interface Openers {
    sourceLocation: MailLocation;
    openSource(): Promise<Result<SourceStore>>;
    /** Present when the account side was asked for. */
    account?: { location: MailLocation; open(): Promise<Result<DestinationStore>> };
    archive?: { location: MailLocation; open(): Promise<Result<DestinationStore>> };
  }

  const openers = async (want: { account: boolean; archive?: ArchiveLocation; source?: ArchiveLocation }): Promise<Result<Openers>> => {
    let sourceLocation: MailLocation;
    let sourceSecrets: LocationSecrets = {};
    if (want.source) sourceLocation = { kind: 'archive', archive: want.source };
    else {
      const source = await credentialsOf('source');
      if (!source.ok) return source;
      sourceLocation = { kind: 'imap', endpoint: stripSecret(source.value) };
      sourceSecrets = secretsOf(source.value);
    }
    const result: Openers = {
      sourceLocation,
      openSource: () => openLocationAsSource(sourceLocation, sourceSecrets, deps.timeouts),
    };
    if (want.account) {
      const destination = await credentialsOf('destination');
      if (!destination.ok) return destination;
      const location: MailLocation = { kind: 'imap', endpoint: stripSecret(destination.value) };
      result.account = { location, open: () => openLocationAsDestination(location, secretsOf(destination.value), deps.timeouts) };
    }
    if (want.archive) {
      const location: MailLocation = { kind: 'archive', archive: want.archive };
      result.archive = { location, open: () => openLocationAsDestination(location, {}, deps.timeouts) };
    }
    return ok(result);
  };

  /** Plans the account side and/or the archive side over one source connection. */
  const loadPlans = async (options: PlanOptions, want: { account: boolean; archive?: ArchiveLocation; source?: ArchiveLocation }): Promise<Result<{ account?: CopyPlan; archive?: CopyPlan; open: Openers }>> => {
    const open = await openers(want);
    if (!open.ok) return open;
    const source = await open.value.openSource();
    if (!source.ok) return source;
    try {
      const planAgainst = async (side: Openers['account']): Promise<Result<CopyPlan | undefined>> => {
        if (!side) return ok(undefined);
        const destination = await side.open();
        if (!destination.ok) return destination;
        try {
          return await planCopy(source.value, destination.value, options);
        } finally {
          await destination.value.close();
        }
      };
      const account = await planAgainst(open.value.account);
      if (!account.ok) return account;
      const archive = await planAgainst(open.value.archive);
      if (!archive.ok) return archive;
      return ok({ account: account.value, archive: archive.value, open: open.value });
    } finally {
      await source.value.close();
    }
  };

  const endpointOrArchive = (location: MailLocation) => (location.kind === 'imap' ? stripSecret(location.endpoint) : { archive: `${location.archive.format}:${path.resolve(location.archive.path)}` });

  interface RunPart {
    target: FolderTarget;
    partId: string;
    folders: JobFolder[];
    openDestination(): Promise<Result<DestinationStore>>;
  }

  /**
   * Starts (or restarts) a run over the given parts, one after the other, as one job for the app;
   * resolves once it is under way. A part that ends paused or cancelled ends the job there.
   */
  const startRun = async (record: AppJobRecord, openSource: Openers['openSource'], parts: RunPart[], previousReport?: AppJobReport): Promise<Result<{ jobId: string }>> => {
    if (running.has(record.jobId)) return err(migrationError('bad-input', 'This move is already running.'));
    const controller = new AbortController();
    const toRun = parts.filter((p) => p.folders.length > 0);
    const merger = createPartMerger(record.jobId, toRun, (event) => deps.emit(event));
    await saveJobRecord(deps.stateDir, { ...record, status: 'copying', updatedAt: Date.now() });
    const done = (async (): Promise<AppJobReport> => {
      const finished: { target: FolderTarget; report: JobReport }[] = [];
      for (const part of toRun) {
        if (controller.signal.aborted) break;
        const report = await runJob(
          part.folders,
          { openSource, openDestination: part.openDestination, journalDirectory: journalDirectory(deps.stateDir, part.partId) },
          { jobId: record.jobId, signal: controller.signal, onEvent: (event) => merger.onEvent(part.target, event), settings: record.settings, backoff: deps.backoff },
        );
        finished.push({ target: part.target, report });
        if (report.status === 'paused' || report.status === 'cancelled') break;
      }
      const report = updateReport(previousReport, mergeReports(record.jobId, finished, record.archiveLocation, Date.now()));
      reports.set(record.jobId, report);
      await writeFileAtomic(path.join(jobDirectory(deps.stateDir, record.jobId), 'report.json'), JSON.stringify(report));
      await saveJobRecord(deps.stateDir, { ...record, ...merger.counters(), status: report.status, updatedAt: Date.now() });
      merger.finish(report);
      return report;
    })();
    running.set(record.jobId, { controller, done });
    void done
      .catch((e: unknown) => {
        deps.emit({ type: 'log', jobId: record.jobId, level: 'error', message: `The move stopped unexpectedly: ${toMessage(e)}`, at: Date.now() });
        deps.emit({ type: 'job-status', jobId: record.jobId, status: 'needs-attention', error: migrationError('internal', toMessage(e)) });
      })
      .finally(() => running.delete(record.jobId));
    return ok({ jobId: record.jobId });
  };

  const foldersFromPlan = (plan: CopyPlan | undefined, selectedPaths: string[]): JobFolder[] => {
    if (!plan) return [];
    const wanted = new Set(selectedPaths);
    return plan.folders
      .filter((f) => wanted.has(f.source.path) && f.source.isSelectable)
      .map((f) => ({ sourcePath: f.source.path, destinationPath: f.destinationPath, messages: f.source.messages, sizeBytes: f.source.sizeBytes, messageFilter: f.messageFilter }));
  };

  const runParts = (plans: { account?: CopyPlan; archive?: CopyPlan; open: Openers }, routes: Record<FolderTarget, string[]>, partIds: Record<FolderTarget, string>): RunPart[] => {
    const parts: RunPart[] = [];
    if (plans.open.account) parts.push({ target: 'account', partId: partIds.account, folders: foldersFromPlan(plans.account, routes.account), openDestination: plans.open.account.open });
    if (plans.open.archive) parts.push({ target: 'archive', partId: partIds.archive, folders: foldersFromPlan(plans.archive, routes.archive), openDestination: plans.open.archive.open });
    return parts;
  };

  /** Re-plans a recorded job (folder sizes change between runs) and runs the given folders of it. */
  const rerun = async (jobId: string, only?: (report: AppJobReport | undefined) => Record<FolderTarget, string[]>): Promise<Result<void>> => {
    const record = (await loadJobRecord(deps.stateDir, jobId)) as AppJobRecord | undefined;
    if (!record) return err(migrationError('not-found', 'This move is not known any more.'));
    const parts = partsOf(record);
    const partFor = (target: FolderTarget) => parts.find((p) => p.target === target);
    const archive = partFor('archive') ? record.archiveLocation : undefined;
    const plans = await loadPlans(record.options, { account: partFor('account') !== undefined, archive, source: record.sourceArchive });
    if (!plans.ok) return plans;
    const report = reports.get(jobId) ?? (await readReport(jobId));
    const routes = only ? only(report) : { account: partFor('account')?.selectedPaths ?? [], archive: partFor('archive')?.selectedPaths ?? [] };
    const run = runParts(plans.value, routes, { account: partFor('account')?.partId ?? jobId, archive: partFor('archive')?.partId ?? jobId });
    if (run.every((p) => p.folders.length === 0)) return err(migrationError('bad-input', 'There is nothing to run again here.'));
    // A retry of some folders keeps the other rows of the report; a whole run replaces it.
    const started = await startRun(record, plans.value.open.openSource, run, only ? report : undefined);
    return started.ok ? ok(undefined) : started;
  };

  const readReport = async (jobId: string): Promise<AppJobReport | undefined> => {
    try {
      return JSON.parse(await fs.readFile(path.join(jobDirectory(deps.stateDir, jobId), 'report.json'), 'utf8')) as AppJobReport;
    } catch {
      return undefined;
    }
  };

  /** Selected folders that land on one destination folder: a sentence, or undefined. */
  const collisionText = (plan: CopyPlan | undefined, paths: string[], target: FolderTarget): string | undefined => {
    if (!plan) return undefined;
    const chosen = new Set(paths);
    const collisions = plan.folders.filter((f) => chosen.has(f.source.path) && f.collidesWith.some((other) => chosen.has(other)));
    if (collisions.length === 0) return undefined;
    return `Some folders would land in the same place in the ${TARGET_NAME[target]}: ${collisions.map((f) => `${f.source.path} → ${f.destinationPath}`).join(', ')}. Rename one of them.`;
  };

  const service: AppService = {
    async 'accounts:load'() {
      const toSaved = async (role: AccountRole): Promise<SavedAccount | undefined> => {
        const account = deps.settings.getAccount(role);
        return account ? savedAccount(role, account) : undefined;
      };
      return ok({ source: await toSaved('source'), destination: await toSaved('destination') });
    },
    async 'accounts:save'({ role, email, endpoint, password, rememberPassword, signIn }) {
      const clean = stripSecret(endpoint);
      const previous = deps.settings.getAccount(role);
      // A sign-in belongs to its provider, registration and mailbox: any change makes it void.
      if (previous?.signIn && (!signIn || JSON.stringify(previous.signIn) !== JSON.stringify(signIn) || previous.endpoint.user !== clean.user || previous.endpoint.host !== clean.host)) {
        await signIns.signOut(role, previous.signIn);
      }
      deps.settings.setAccount(role, { email, endpoint: clean, ...(signIn ? { signIn } : {}) });
      if (signIn) {
        // OAuth2 instead of a password: no password of this account is kept.
        passwords.delete(role);
        await deps.vault.remove(role);
        return ok(await savedAccount(role, { email, endpoint: clean, signIn }));
      }
      if (password !== undefined) passwords.set(role, password);
      const known = password ?? passwords.get(role);
      if (rememberPassword && known !== undefined) await deps.vault.save(role, known);
      if (!rememberPassword) await deps.vault.remove(role);
      const refused = cannotRemember({});
      return ok({ email, endpoint: clean, hasSavedPassword: rememberPassword && known !== undefined && refused.cannotRemember === undefined, ...refused });
    },
    async 'accounts:signIn'({ role }) {
      const account = deps.settings.getAccount(role);
      if (!account?.signIn) return err(migrationError('bad-input', `The ${role === 'source' ? 'old' : 'new'} account does not sign in with a provider.`));
      const signedIn = await signIns.signIn(role, account.signIn, account.email);
      return signedIn.ok ? ok(await savedAccount(role, account)) : signedIn;
    },
    async 'accounts:signOut'({ role }) {
      const account = deps.settings.getAccount(role);
      if (!account) return err(migrationError('bad-input', `The ${role === 'source' ? 'old' : 'new'} account is not set up yet.`));
      await signIns.signOut(role, account.signIn);
      return ok(await savedAccount(role, account));
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
    async 'plan:load'({ options, archive, source }): Promise<Result<AppPlan>> {
      if (source && archive) return err(migrationError('bad-input', 'A restore from an archive goes to the new account only.'));
      const plans = await loadPlans(options, { account: true, archive, source });
      if (!plans.ok) return plans;
      const plan = plans.value.account!;
      if (!archive || !plans.value.archive) return ok(plan);
      const folders = plans.value.archive.folders.map((f) => ({ sourcePath: f.source.path, destinationPath: f.destinationPath, destinationExists: f.destinationExists, collidesWith: f.collidesWith }));
      return ok({ ...plan, archive: { location: archive, folders } });
    },
    async 'jobs:start'(request: StartJobRequest) {
      if (request.source && request.archive) return err(migrationError('bad-input', 'A restore from an archive goes to the new account only.'));
      const routes = routesOf(request);
      const plans = await loadPlans(request.options, { account: routes.account.length > 0, archive: routes.archive.length > 0 ? request.archive : undefined, source: request.source });
      if (!plans.ok) return plans;
      const { open } = plans.value;
      for (const target of ['account', 'archive'] as const) {
        const text = collisionText(plans.value[target], routes[target], target);
        if (text) return err(migrationError('bad-input', text));
      }
      const source = endpointOrArchive(open.sourceLocation);
      const sides = { account: open.account && endpointOrArchive(open.account.location), archive: open.archive && endpointOrArchive(open.archive.location) };
      // The job the app shows is named after the account side when there is one, so a move that
      // later also keeps an archive is still the same move; each part has its own journals.
      const partIds = { account: sides.account ? jobIdOf(source, sides.account) : '', archive: sides.archive ? jobIdOf(source, sides.archive) : '' };
      const destination = sides.account ?? sides.archive;
      if (!destination) return err(migrationError('bad-input', 'Choose at least one folder to move.'));
      const jobId = sides.account ? partIds.account : partIds.archive;
      const run = runParts(plans.value, routes, partIds);
      if (run.every((p) => p.folders.length === 0)) return err(migrationError('bad-input', 'Choose at least one folder to move.'));
      const previous = await loadJobRecord(deps.stateDir, jobId);
      const record: AppJobRecord = {
        jobId,
        source,
        destination,
        options: request.options,
        selectedPaths: run.flatMap((p) => p.folders.map((f) => f.sourcePath)).filter((p, i, all) => all.indexOf(p) === i),
        createdAt: previous?.createdAt ?? Date.now(),
        updatedAt: Date.now(),
        status: 'queued',
        bytesDone: 0,
        bytesTotal: run.reduce((n, p) => n + p.folders.reduce((m, f) => m + f.sizeBytes, 0), 0),
        settings: request.settings,
        ...(open.archive ? { archiveLocation: request.archive } : {}),
        ...(request.source ? { sourceArchive: request.source } : {}),
        parts: run.map((p) => ({ target: p.target, partId: p.partId, selectedPaths: p.folders.map((f) => f.sourcePath) })),
      };
      return startRun(record, open.openSource, run);
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
    async 'jobs:retryFolder'({ jobId, sourcePath, target }) {
      const record = (await loadJobRecord(deps.stateDir, jobId)) as AppJobRecord | undefined;
      // Without a target: the account row if the folder has one, else its archive row.
      const chosen = target ?? (record && partsOf(record).some((p) => p.target === 'account' && p.selectedPaths.includes(sourcePath)) ? 'account' : record && partsOf(record).some((p) => p.target === 'archive') ? 'archive' : 'account');
      return rerun(jobId, () => ({ account: chosen === 'account' ? [sourcePath] : [], archive: chosen === 'archive' ? [sourcePath] : [] }));
    },
    async 'jobs:retryFailed'({ jobId }) {
      return rerun(jobId, (report) => {
        const incomplete = report ? report.folders.filter((f) => !f.isComplete) : [];
        return {
          account: incomplete.filter((f) => (f.target ?? 'account') === 'account').map((f) => f.sourcePath),
          archive: incomplete.filter((f) => f.target === 'archive').map((f) => f.sourcePath),
        };
      });
    },
    async 'jobs:list'(): Promise<Result<JobSummary[]>> {
      const records = await listJobRecords(deps.stateDir);
      return ok(
        records.map((r: AppJobRecord) => ({
          jobId: r.jobId,
          source: describeLocation(r.source),
          destination: r.parts && r.parts.length > 1 && r.archiveLocation ? `${describeLocation(r.destination)} and an archive at ${r.archiveLocation.path}` : describeLocation(r.destination),
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
    async 'messages:saveEml'({ jobId, sourcePath, uid }) {
      // A restore's messages are read from its archive; otherwise from the old account.
      const record = (await loadJobRecord(deps.stateDir, jobId)) as AppJobRecord | undefined;
      const open = await openers({ account: false, source: record?.sourceArchive });
      if (!open.ok) return open;
      const source = await open.value.openSource();
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
    async 'archive:chooseFolder'() {
      if (!deps.chooseFolder) return err(migrationError('bad-input', 'Choosing a folder is not available here.'));
      const chosen = await deps.chooseFolder();
      return chosen ? ok({ path: chosen }) : err(migrationError('cancelled', 'No folder chosen.'));
    },
    async shutdown() {
      for (const job of running.values()) job.controller.abort(PAUSE_REASON);
      await Promise.allSettled([...running.values()].map((j) => j.done));
    },
    isBusy: () => running.size > 0,
  };
  return service;
};

/** What an IMAP location logs in with, from its credentials. */
const secretsOf = (credentials: AccountCredentials): LocationSecrets => (credentials.oauth ? { oauth: credentials.oauth } : { password: credentials.password });

/** Keeps secrets for the session only (when no encrypted vault is given). */
const memoryVault = (): RoleVault => {
  const kept = new Map<AccountRole, string>();
  return { save: (role, secret) => void kept.set(role, secret), load: (role) => kept.get(role), remove: (role) => void kept.delete(role) };
};

const stripSecret = (endpoint: AccountEndpoint): AccountEndpoint => {
  const { host, port, security, user, allowPlaintext, pinnedFingerprint } = endpoint as AccountEndpoint & { password?: string };
  return { host, port, security, user, ...(allowPlaintext ? { allowPlaintext } : {}), ...(pinnedFingerprint ? { pinnedFingerprint } : {}) };
};

const describeLocation = (location: JobRecord['source']): string => ('archive' in location ? location.archive : `${location.user}@${location.host}`);
