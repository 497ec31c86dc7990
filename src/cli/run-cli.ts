/**
 * The command-line front end: `mailferry plan` and `mailferry copy` (`mailferry batch` is
 * batch-cli.ts). Exit status: 0 when every selected folder is verified complete, 1 when anything
 * failed or was refused (all of it listed), 2 for bad arguments, an unreachable server, TLS or
 * login failure.
 *
 * Start-up: the job lifecycle, the engine, the stores and (through connect-imap.ts) imapflow are
 * loaded only for `plan` and `copy`, so `--help` and a usage error load none of it.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';
import type { AccountCredentials } from '../contract/account.js';
import { FOLDER_PROBLEM_STATUSES, FOLDER_WAITING_STATUSES, type JobEvent, type JobReport } from '../contract/job.js';
import type { CopyPlan, PlanOptions } from '../contract/plan.js';
import type { MigrationError, Result } from '../contract/result.js';
import { err, migrationError } from '../contract/result.js';
import { PAUSE_REASON } from '../contract/job.js';
import type { DestinationStore, SourceStore } from '../engine/store.js';
import { defaultStateDirectory } from '../jobs/job-records.js';
import { formatPlan, formatPreflight, formatProgressLine, formatReport, jsonLine, shown, terminalSafe } from './format.js';
import { parseLocation, type Location } from './location-url.js';
import type { LocationSecrets } from '../locations/open-location.js';
import type { CliIo } from './cli-io.js';
import type { AppJobReport } from '../contract/ipc.js';
import { writeFileAtomic } from '../fs/write-file-atomic.js';
import { reportToCsv, reportToHtml } from '../service/report-export.js';
import { gmailAllMailOf, jobSettingsOf, renamesOf, retryBaseMsOf, SHARED_OPTIONS, timeoutsOf, UsageError } from './cli-options.js';

/**
 * MAILFERRY_SPLIT_MIN_MESSAGES=N splits a folder over several connections from N pending
 * messages on (whatever their size), instead of the measured default: for tests and measurements.
 */
export const splitThresholdFromEnv = (env: Record<string, string | undefined>): { messages: number; bytes: number } | undefined => {
  const raw = env.MAILFERRY_SPLIT_MIN_MESSAGES;
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return { messages: Math.max(1, Number(raw)), bytes: Infinity };
};

/** The job lifecycle for `plan` and `copy`, loaded only for them. */
const loadJobs = async () => {
  const [{ jobEndsOf }, { planJob }, { prepareJob }, { startJobParts }] = await Promise.all([
    import('../jobs/job-ends.js'),
    import('../jobs/plan-job.js'),
    import('../jobs/prepare-job.js'),
    import('../jobs/run-job-parts.js'),
  ]);
  return { jobEndsOf, planJob, prepareJob, startJobParts };
};

export const EXIT_OK = 0;
export const EXIT_INCOMPLETE = 1;
export const EXIT_USAGE = 2;

/** How often a human progress line is printed. */
const HUMAN_PROGRESS_INTERVAL_MS = 2_000;

export type { CliIo } from './cli-io.js';

export const USAGE = `Mailferry: move your own mail from one IMAP account to another, or into a local archive.
Never deletes or changes anything on either side; resumable; verified.

Usage:
  mailferry plan --from URL --to URL [options]   show each folder, its size and where it lands; copies nothing
  mailferry copy --from URL --to URL [options]   copy (or resume, or bring over what is new)
  mailferry batch FILE.csv [options]             many mailboxes, one row of a users CSV each
                                                 ("mailferry batch --help" lists its columns and options)

  URL: imaps://USER@HOST[:PORT]   implicit TLS (default port 993)
       imap://USER@HOST[:PORT]    STARTTLS required (default port 143)
       mbox:/path, maildir:/path, eml:/path   a local archive
       USER may be percent-encoded, e.g. imaps://me%40example.org@imap.example.org

Options:
  --from-password-env VAR   read the source password from environment variable VAR
                            (default MAILFERRY_FROM_PASSWORD; asked for on a terminal otherwise)
  --to-password-env VAR     same for the destination (default MAILFERRY_TO_PASSWORD)
  --from-oauth PROVIDER     sign in to the source with OAuth2: google, microsoft, or an issuer URL
  --to-oauth PROVIDER       the same for the destination
  --from-client-id ID       the app's client ID at the source's provider
  --to-client-id ID         the same for the destination (default for both: MAILFERRY_OAUTH_CLIENT_ID,
                            then oauth-clients.json in the app-data folder; the README says how to
                            register one; a secret, where the provider wants one: MAILFERRY_OAUTH_CLIENT_SECRET)
  --device-code             sign in with a code on another device (RFC 8628) even with a display
                            (used anyway where no browser can open: no DISPLAY/WAYLAND_DISPLAY)
  --from-token-env VAR      a ready OAuth2 access token for the source from VAR (for scripts; not refreshed)
  --to-token-env VAR        the same for the destination
  --remember                keep the sign-in (refresh token) in the OS keychain for the next run
  --allow-plaintext         permit unencrypted IMAP for imap:// locations whose server offers
                            no STARTTLS (otherwise refused; STARTTLS is used whenever offered)
  --from-fingerprint SHA256 trust exactly this certificate on the source (self-signed servers)
  --to-fingerprint SHA256   same for the destination
  --folder PATH             copy only this source folder and its subfolders (repeatable)
  --exclude PATH            leave out this source folder and its subfolders (repeatable)
  --map SRC=DST             put source folder SRC into destination folder DST (repeatable)
  --gmail-all-mail MODE     Gmail's All Mail: skip (default), or archive-only: copy just the
                            archived messages (no other label) into the Archive folder
  --state DIR               where the journal lives (default: your app-data folder)
  --connections N           connections per side; folders copied in parallel (default 2)
  --max-rate BYTES          cap the copy at BYTES per second (suffix K, M allowed)
  --timeout SECONDS         a silent connection counts as dropped after this long (default 60)
  --max-failures N          failed attempts in a row before a folder is set aside (default 5)
  --refused-to LOCATION     keep messages too large for the new account in this local archive
                            (mbox:/path, maildir:/path or eml:/path) instead of leaving them out
  --sync-flags              on a re-run, add to the copies Mailferry made the flags and keywords
                            their old messages gained since (read, answered, flagged...); never
                            removes one, never touches mail Mailferry did not copy
  --newest-first            in every folder, copy the mail of the last days first, and every
                            folder's recent mail before any older mail (the rest follows)
  --recent-days N           with --newest-first: what counts as recent (default 30)
  --retry-delay SECONDS     first retry delay; doubles up to 60 s (default 1)
  --json                    one JSON event per line on stdout; the last line is the summary
  --report-csv FILE         also write the report as CSV (one row per folder and per message not moved)
  --report-html FILE        also write the report as a web page
  -h, --help                this text
  --version                 the version

Exit status: 0 every selected folder verified complete; 1 something failed or was refused
(listed); 2 bad arguments, unreachable server, TLS or login failure, or a sign-in refused
(the move then stops with "sign in again"; run the same command again to sign in and resume).`;

const OPTIONS = {
  ...SHARED_OPTIONS,
  from: { type: 'string' },
  to: { type: 'string' },
  'from-password-env': { type: 'string' },
  'to-password-env': { type: 'string' },
  'from-oauth': { type: 'string' },
  'to-oauth': { type: 'string' },
  'device-code': { type: 'boolean' },
  'from-token-env': { type: 'string' },
  'to-token-env': { type: 'string' },
  remember: { type: 'boolean' },
  folder: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  map: { type: 'string', multiple: true },
  state: { type: 'string' },
  'refused-to': { type: 'string' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Runs the CLI; returns the exit status. Never throws for a person's mistake. */
export const runCli = async (argv: string[], io: CliIo): Promise<number> => {
  // Every human line goes through terminalSafe: text from a server or an archive that reached it
  // unescaped still cannot act on the terminal (each field is escaped with `shown` as well).
  const out = (text: string): void => io.stdout(terminalSafe(text));
  const say = (text: string): void => io.stderr(terminalSafe(text));
  if (argv[0] === 'batch') {
    // Loaded only for a batch: copy and plan start without it.
    const { runBatchCli } = await import('./batch-cli.js');
    return runBatchCli(argv.slice(1), io);
  }
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (e) {
    say(`mailferry: ${(e as Error).message.split('\n')[0]}\nRun "mailferry --help" for usage.\n`);
    return EXIT_USAGE;
  }
  if (values.help || positionals[0] === 'help') {
    out(USAGE + '\n');
    return EXIT_OK;
  }
  if (values.version) {
    out(`${io.version ?? 'unknown'}\n`);
    return EXIT_OK;
  }
  const command = positionals[0];
  if (command !== 'plan' && command !== 'copy') {
    say(`mailferry: ${command ? `unknown command "${shown(command)}"` : 'no command given'}; use "plan", "copy" or "batch".\nRun "mailferry --help" for usage.\n`);
    return EXIT_USAGE;
  }
  const json = values.json === true;
  const emitJson = (value: unknown): void => io.stdout(jsonLine(value));
  const fail = (error: MigrationError, exitCode: number, side?: 'from' | 'to'): number => {
    if (json) emitJson({ type: 'summary', exitCode, error });
    const trustHint = error.certificateFingerprint
      ? `\n  The server's certificate has SHA-256 fingerprint ${error.certificateFingerprint}.\n  If you know it is the right one, run again with --${side ?? 'from'}-fingerprint ${error.certificateFingerprint}`
      : '';
    say(`mailferry: ${shown(error.message)}${error.serverText ? ` (server said: ${shown(error.serverText)})` : ''}${trustHint}\n`);
    return exitCode;
  };

  let setup: Awaited<ReturnType<typeof prepare>>;
  try {
    setup = await prepare(values, io, json ? emitJson : undefined);
  } catch (e) {
    if (e instanceof UsageError) {
      say(`mailferry: ${e.message}\nRun "mailferry --help" for usage.\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  if (!setup.ok) return fail(setup.error, EXIT_USAGE);
  const { from, to, secrets, planOptions, stateDir, settings, timeouts } = setup.value;

  const stoppedEarly = (): number => {
    if (json) emitJson({ type: 'summary', exitCode: EXIT_INCOMPLETE, error: migrationError('cancelled', 'Stopped before anything was copied.') });
    say('mailferry: stopped before anything was copied.\n');
    return EXIT_INCOMPLETE;
  };
  const { jobEndsOf, planJob, prepareJob, startJobParts } = await loadJobs();
  const ends = jobEndsOf({ location: from, secrets: secrets.from }, [{ target: 'account', location: to, secrets: secrets.to }], timeouts);
  const plans = await planJob(ends, planOptions, { stateDir });
  // Ctrl-C while connecting or planning: whatever the open or the plan met, it is a stop.
  if (io.signal?.aborted) return stoppedEarly();
  if (!plans.ok) {
    const { failedAt, ...error } = plans.error;
    if (failedAt === 'plan') return fail(error, error.retryable ? EXIT_INCOMPLETE : EXIT_USAGE);
    const side = failedAt === 'source' ? 'source' : 'destination';
    return fail({ ...error, message: `Could not open the ${side}: ${error.message}` }, EXIT_USAGE, side === 'source' ? 'from' : 'to');
  }
  const plan = plans.value.account as CopyPlan;
  // The pre-flight rides beside the plan in the plan event (plan --json's `preflight`).
  const { preflight, ...planOnly } = plan;
  if (json) emitJson({ type: 'plan', plan: planOnly, preflight });
  else out(formatPlan(plan) + '\n' + (preflight ? formatPreflight(preflight, setup.value.refusedTo !== undefined) : ''));

  const unknownFolders = [...(planOptions.include ?? []), ...(planOptions.exclude ?? [])].filter((p) => !plan.folders.some((f) => f.source.path === p));
  if (unknownFolders.length > 0) {
    return fail(migrationError('bad-input', `No such source folder: ${unknownFolders.join(', ')}.`), EXIT_USAGE);
  }
  if (command === 'plan') {
    if (json) emitJson({ type: 'summary', exitCode: plan.hasCollisions ? EXIT_INCOMPLETE : EXIT_OK });
    return plan.hasCollisions ? EXIT_INCOMPLETE : EXIT_OK;
  }
  if (plan.hasCollisions) {
    const lines = plan.folders.filter((f) => f.isSelected && f.collidesWith.length).map((f) => `  ${shown(f.source.path)} → ${shown(f.destinationPath)}`);
    say(`mailferry: these folders would land in the same destination folder; nothing was copied:\n${lines.join('\n')}\nUse --map SRC=DST or --exclude PATH.\n`);
    if (json) emitJson({ type: 'summary', exitCode: EXIT_INCOMPLETE, error: migrationError('bad-input', 'Folder collisions') });
    return EXIT_INCOMPLETE;
  }

  let lastHumanLine = 0;
  let signInError: MigrationError | undefined;
  const onEvent = (event: JobEvent): void => {
    if (event.type === 'job-status' && event.error?.needsSignIn) signInError = event.error;
    if (json) {
      emitJson(event);
      return;
    }
    if (event.type === 'progress' && Date.now() - lastHumanLine >= HUMAN_PROGRESS_INTERVAL_MS) {
      lastHumanLine = Date.now();
      say(formatProgressLine(event.progress) + '\n');
    } else if (event.type === 'folder-status' && event.folder.isOlderMailNext) {
      say(`${shown(event.folder.sourcePath)}: recent mail copied; its older mail follows once every folder's recent mail is in\n`);
    } else if (event.type === 'folder-status' && (event.folder.status === 'verified' || FOLDER_PROBLEM_STATUSES.has(event.folder.status) || FOLDER_WAITING_STATUSES.has(event.folder.status))) {
      const f = event.folder;
      const detail =
        f.status === 'settling' && f.settleUntil !== undefined
          ? `: an earlier upload may still be arriving at the new server; nothing is sent again for ${Math.max(1, Math.ceil((f.settleUntil - Date.now()) / 1000))} s`
          : (f.status === 'retrying' || FOLDER_PROBLEM_STATUSES.has(f.status)) && f.lastError
            ? `: ${shown(f.lastError.message)}`
            : '';
      say(`${shown(f.sourcePath)}: ${f.status}${detail}\n`);
    } else if (event.type === 'log' && event.level !== 'info') {
      say(`${shown(event.message)}\n`);
    }
  };
  const job = await prepareJob(stateDir, ends, plans.value, { options: planOptions, routes: {}, settings, refusedTo: setup.value.refusedTo });
  if (!job.ok) return fail(job.error, EXIT_USAGE);
  const run = await startJobParts(stateDir, job.value, { signal: io.signal, onPartEvent: (_target, event) => onEvent(event), backoff: { baseMs: setup.value.retryBaseMs, capMs: 60_000 }, splitThreshold: splitThresholdFromEnv(io.env) });
  const outcome = await run.finished;
  const report: JobReport = (outcome.partReports[0] as (typeof outcome.partReports)[number]).report;
  await writeReports(values, report, to);
  if (signInError) {
    // The journal keeps everything done so far: the same command signs in again and resumes.
    if (json) emitJson({ type: 'summary', exitCode: EXIT_USAGE, report, error: signInError });
    io.stderr(`mailferry: ${signInError.message} Run the same command again to sign in and continue where the move stopped.\n`);
    return EXIT_USAGE;
  }
  const exitCode = report.status === 'done' ? EXIT_OK : EXIT_INCOMPLETE;
  if (json) emitJson({ type: 'summary', exitCode, report });
  else {
    out(formatReport(report) + '\n');
    if (report.status === 'paused' && io.signal?.reason === PAUSE_REASON) out('Stopped. Run the same command again to continue where it left off.\n');
  }
  return exitCode;
};

/** `--report-csv` / `--report-html`: the report as the app exports it (rows of an archive copy say so). */
const writeReports = async (values: Values, report: JobReport, to: Location): Promise<void> => {
  if (!values['report-csv'] && !values['report-html']) return;
  const exported: AppJobReport = to.kind === 'archive' ? { ...report, folders: report.folders.map((f) => ({ ...f, target: 'archive' })), archive: to.archive } : report;
  if (values['report-csv']) await writeFileAtomic(path.resolve(values['report-csv']), reportToCsv(exported));
  if (values['report-html']) await writeFileAtomic(path.resolve(values['report-html']), reportToHtml(exported));
};

const readPassword = async (location: Location, envName: string | undefined, defaultEnv: string, side: string, io: CliIo): Promise<string | undefined> => {
  if (location.kind !== 'imap') return undefined;
  const name = envName ?? defaultEnv;
  const fromEnv = io.env[name];
  if (fromEnv !== undefined) return fromEnv;
  if (envName) throw new UsageError(`The environment variable ${envName} (for the ${side} password) is not set.`);
  if (io.readSecret) return io.readSecret(`Password for ${location.endpoint.user}@${location.endpoint.host} (${side}): `);
  throw new UsageError(`No password for the ${side}: set ${defaultEnv} or pass --${side === 'source' ? 'from' : 'to'}-password-env VAR.`);
};

/** How one side logs in: a password, or an OAuth2 sign-in (or ready token). */
const secretsFor = async (location: Location, values: Values, side: 'from' | 'to', io: CliIo, emitJson: ((event: Record<string, unknown>) => void) | undefined): Promise<Result<LocationSecrets>> => {
  const provider = values[`${side}-oauth`];
  const tokenEnv = values[`${side}-token-env`];
  const sideName = side === 'from' ? 'source' : 'destination';
  if (location.kind !== 'imap') {
    if (provider !== undefined || tokenEnv !== undefined) throw new UsageError(`--${side}-oauth and --${side}-token-env need an imap:// or imaps:// location.`);
    return { ok: true, value: {} };
  }
  if (provider === undefined && tokenEnv === undefined) {
    const password = await readPassword(location, values[`${side}-password-env`], side === 'from' ? 'MAILFERRY_FROM_PASSWORD' : 'MAILFERRY_TO_PASSWORD', sideName, io);
    return { ok: true, value: { password } };
  }
  let readyToken: string | undefined;
  if (tokenEnv !== undefined) {
    readyToken = io.env[tokenEnv];
    if (!readyToken) throw new UsageError(`The environment variable ${tokenEnv} (for the ${sideName} access token) is not set.`);
  }
  // The OAuth2 libraries load only for an account that signs in with them.
  const [{ readOAuthSettings }, { signInSide }] = await Promise.all([import('../auth/oauth-settings.js'), import('./cli-sign-in.js')]);
  const settings = await readOAuthSettings(defaultStateDirectory());
  if (!settings.ok) return settings;
  const tokens = await signInSide(
    { side: sideName, endpoint: location.endpoint, provider, clientId: values[`${side}-client-id`], readyToken },
    {
      env: io.env,
      settings: settings.value,
      isDeviceCode: values['device-code'] === true,
      isRemember: values.remember === true,
      keychain: io.keychain,
      openBrowser: io.openBrowser,
      stderr: io.stderr,
      emitEvent: emitJson,
      signal: io.signal,
    },
  );
  return tokens.ok ? { ok: true, value: { oauth: tokens.value } } : tokens;
};

/** Validates arguments and gathers secrets; usage mistakes throw UsageError. */
const prepare = async (values: Values, io: CliIo, emitJson?: (event: Record<string, unknown>) => void) => {
  if (!values.from) throw new UsageError('--from is required.');
  if (!values.to) throw new UsageError('--to is required.');
  const allowPlaintext = values['allow-plaintext'] === true;
  const from = parseLocation(values.from, allowPlaintext);
  if (!from.ok) return from;
  const to = parseLocation(values.to, allowPlaintext);
  if (!to.ok) return to;
  if (from.value.kind === 'imap' && values['from-fingerprint']) from.value.endpoint.pinnedFingerprint = values['from-fingerprint'];
  if (to.value.kind === 'imap' && values['to-fingerprint']) to.value.endpoint.pinnedFingerprint = values['to-fingerprint'];
  for (const side of ['from', 'to'] as const) {
    if (values[`${side}-client-id`] !== undefined && values[`${side}-oauth`] === undefined) throw new UsageError(`--${side}-client-id needs --${side}-oauth.`);
  }
  const signInFailed = (error: MigrationError, side: string) => err({ ...error, message: `Could not sign in to the ${side}: ${error.message}` });
  const fromSecrets = await secretsFor(from.value, values, 'from', io, emitJson);
  if (!fromSecrets.ok) return signInFailed(fromSecrets.error, 'source');
  const toSecrets = await secretsFor(to.value, values, 'to', io, emitJson);
  if (!toSecrets.ok) return signInFailed(toSecrets.error, 'destination');
  const secrets: { from: LocationSecrets; to: LocationSecrets } = { from: fromSecrets.value, to: toSecrets.value };
  const planOptions: PlanOptions = { include: values.folder ?? [], exclude: values.exclude ?? [], renames: renamesOf(values.map), gmailAllMail: gmailAllMailOf(values['gmail-all-mail']) };
  let refusedTo: Location | undefined;
  if (values['refused-to'] !== undefined) {
    const parsed = parseLocation(values['refused-to'], false);
    if (!parsed.ok || parsed.value.kind !== 'archive') throw new UsageError(`--refused-to takes a local archive (mbox:/path, maildir:/path or eml:/path), not "${values['refused-to']}".`);
    refusedTo = parsed.value;
  }
  return {
    ok: true as const,
    value: {
      from: from.value,
      to: to.value,
      secrets,
      planOptions,
      refusedTo,
      stateDir: values.state ? path.resolve(values.state) : defaultStateDirectory(),
      settings: jobSettingsOf(values),
      // The signal (Ctrl-C) ends connecting and planning at once, and every connection with it.
      timeouts: { ...timeoutsOf(values.timeout), signal: io.signal },
      retryBaseMs: retryBaseMsOf(values['retry-delay']),
    },
  };
};

export type { AccountCredentials, SourceStore, DestinationStore };
