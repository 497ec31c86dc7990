/**
 * The command-line front end: `mailferry plan` and `mailferry copy`. Exit status: 0 when every
 * selected folder is verified complete, 1 when anything failed or was refused (all of it
 * listed), 2 for bad arguments, an unreachable server, TLS or login failure.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';
import type { AccountCredentials } from '../contract/account.js';
import type { JobEvent, JobReport } from '../contract/job.js';
import type { CopyPlan, PlanOptions } from '../contract/plan.js';
import type { MigrationError, Result } from '../contract/result.js';
import { err, migrationError } from '../contract/result.js';
import { planCopy } from '../engine/plan-copy.js';
import { PAUSE_REASON, runJob } from '../engine/run-job.js';
import { defaultStateDirectory, jobIdOf, journalDirectory, saveJobRecord, loadJobRecord } from '../engine/job-state.js';
import type { DestinationStore, SourceStore } from '../engine/store.js';
import { formatPlan, formatProgressLine, formatReport, jsonLine, shown, terminalSafe } from './format.js';
import { parseLocation, type Location } from './location-url.js';
import { openLocationAsDestination, openLocationAsSource, type LocationSecrets } from '../locations/open-location.js';
import type { RefreshTokenStore } from '../auth/refresh-token-store.js';
import { signInSide } from './cli-sign-in.js';
import { readOAuthSettings } from '../auth/oauth-settings.js';

export const EXIT_OK = 0;
export const EXIT_INCOMPLETE = 1;
export const EXIT_USAGE = 2;

/** How often a human progress line is printed. */
const HUMAN_PROGRESS_INTERVAL_MS = 2_000;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** Asks for a secret on the terminal; absent when there is none. */
  readSecret?(prompt: string): Promise<string>;
  /** Aborted with reason 'pause' on Ctrl-C. */
  signal?: AbortSignal;
  version?: string;
  /** Where `--remember` keeps refresh tokens (the OS keychain). */
  keychain?: RefreshTokenStore;
  /** Opens the system browser for a sign-in; absent where none can be opened. */
  openBrowser?(url: string): Promise<void>;
}

export const USAGE = `Mailferry: move your own mail from one IMAP account to another, or into a local archive.
Never deletes or changes anything on either side; resumable; verified.

Usage:
  mailferry plan --from URL --to URL [options]   show each folder, its size and where it lands; copies nothing
  mailferry copy --from URL --to URL [options]   copy (or resume, or bring over what is new)

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
  --retry-delay SECONDS     first retry delay; doubles up to 60 s (default 1)
  --json                    one JSON event per line on stdout; the last line is the summary
  -h, --help                this text
  --version                 the version

Exit status: 0 every selected folder verified complete; 1 something failed or was refused
(listed); 2 bad arguments, unreachable server, TLS or login failure, or a sign-in refused
(the move then stops with "sign in again"; run the same command again to sign in and resume).`;

const OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  'from-password-env': { type: 'string' },
  'to-password-env': { type: 'string' },
  'from-oauth': { type: 'string' },
  'to-oauth': { type: 'string' },
  'from-client-id': { type: 'string' },
  'to-client-id': { type: 'string' },
  'device-code': { type: 'boolean' },
  'from-token-env': { type: 'string' },
  'to-token-env': { type: 'string' },
  remember: { type: 'boolean' },
  'allow-plaintext': { type: 'boolean' },
  'from-fingerprint': { type: 'string' },
  'to-fingerprint': { type: 'string' },
  folder: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  map: { type: 'string', multiple: true },
  'gmail-all-mail': { type: 'string' },
  state: { type: 'string' },
  connections: { type: 'string' },
  'max-rate': { type: 'string' },
  timeout: { type: 'string' },
  'max-failures': { type: 'string' },
  'retry-delay': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

const positiveInt = (raw: string | undefined, name: string, fallback: number): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} needs a whole number of 1 or more, not "${raw}".`);
  return n;
};

const byteRate = (raw: string | undefined): number => {
  if (raw === undefined) return 0;
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(raw.trim());
  if (!m) throw new UsageError(`--max-rate needs bytes per second like 500K or 5M, not "${raw}".`);
  const factor = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] as string).toLowerCase()] as number;
  return Math.round(Number(m[1]) * factor);
};

const renamesOf = (pairs: string[] | undefined): Record<string, string> => {
  const renames: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new UsageError(`--map needs SRC=DST, not "${pair}".`);
    renames[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return renames;
};

/** Runs the CLI; returns the exit status. Never throws for a person's mistake. */
export const runCli = async (argv: string[], io: CliIo): Promise<number> => {
  // Every human line goes through terminalSafe: text from a server or an archive that reached it
  // unescaped still cannot act on the terminal (each field is escaped with `shown` as well).
  const out = (text: string): void => io.stdout(terminalSafe(text));
  const say = (text: string): void => io.stderr(terminalSafe(text));
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
    say(`mailferry: ${command ? `unknown command "${shown(command)}"` : 'no command given'}; use "plan" or "copy".\nRun "mailferry --help" for usage.\n`);
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

  const openSource = () => openLocationAsSource(from, secrets.from, timeouts);
  const openDestination = () => openLocationAsDestination(to, secrets.to, timeouts);
  const stoppedEarly = (): number => {
    if (json) emitJson({ type: 'summary', exitCode: EXIT_INCOMPLETE, error: migrationError('cancelled', 'Stopped before anything was copied.') });
    say('mailferry: stopped before anything was copied.\n');
    return EXIT_INCOMPLETE;
  };
  const [source, destination] = await Promise.all([openSource(), openDestination()]);
  if (io.signal?.aborted) {
    await Promise.allSettled([source.ok && source.value.close(), destination.ok && destination.value.close()]);
    return stoppedEarly();
  }
  if (!source.ok || !destination.ok) {
    if (source.ok) await source.value.close();
    if (destination.ok) await destination.value.close();
    const error = !source.ok ? source.error : (destination as { ok: false; error: MigrationError }).error;
    const side = !source.ok ? 'source' : 'destination';
    return fail({ ...error, message: `Could not open the ${side}: ${error.message}` }, EXIT_USAGE, side === 'source' ? 'from' : 'to');
  }
  let plan: Result<CopyPlan>;
  try {
    plan = await planCopy(source.value, destination.value, planOptions);
  } finally {
    await Promise.allSettled([source.value.close(), destination.value.close()]);
  }
  if (io.signal?.aborted) return stoppedEarly();
  if (!plan.ok) return fail(plan.error, plan.error.retryable ? EXIT_INCOMPLETE : EXIT_USAGE);
  if (json) emitJson({ type: 'plan', plan: plan.value });
  else out(formatPlan(plan.value) + '\n');

  const unknownFolders = [...(planOptions.include ?? []), ...(planOptions.exclude ?? [])].filter((p) => !plan.value.folders.some((f) => f.source.path === p));
  if (unknownFolders.length > 0) {
    return fail(migrationError('bad-input', `No such source folder: ${unknownFolders.join(', ')}.`), EXIT_USAGE);
  }
  if (command === 'plan') {
    if (json) emitJson({ type: 'summary', exitCode: plan.value.hasCollisions ? EXIT_INCOMPLETE : EXIT_OK });
    return plan.value.hasCollisions ? EXIT_INCOMPLETE : EXIT_OK;
  }
  if (plan.value.hasCollisions) {
    const lines = plan.value.folders.filter((f) => f.isSelected && f.collidesWith.length).map((f) => `  ${shown(f.source.path)} → ${shown(f.destinationPath)}`);
    say(`mailferry: these folders would land in the same destination folder; nothing was copied:\n${lines.join('\n')}\nUse --map SRC=DST or --exclude PATH.\n`);
    if (json) emitJson({ type: 'summary', exitCode: EXIT_INCOMPLETE, error: migrationError('bad-input', 'Folder collisions') });
    return EXIT_INCOMPLETE;
  }

  const selected = plan.value.folders.filter((f) => f.isSelected);
  const jobId = jobIdOf(locationForJob(from), locationForJob(to));
  const previous = await loadJobRecord(stateDir, jobId);
  const record = {
    jobId,
    source: locationForJob(from),
    destination: locationForJob(to),
    options: planOptions,
    selectedPaths: selected.map((f) => f.source.path),
    createdAt: previous?.createdAt ?? Date.now(),
    updatedAt: Date.now(),
    status: 'copying' as const,
    bytesDone: 0,
    bytesTotal: plan.value.selectedBytes,
  };
  await saveJobRecord(stateDir, record);

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
    } else if (event.type === 'folder-status' && ['verified', 'incomplete', 'needs-attention', 'retrying', 'settling'].includes(event.folder.status)) {
      const f = event.folder;
      const detail =
        f.status === 'settling' && f.settleUntil !== undefined
          ? `: an earlier upload may still be arriving at the new server; nothing is sent again for ${Math.max(1, Math.ceil((f.settleUntil - Date.now()) / 1000))} s`
          : (f.status === 'retrying' || f.status === 'needs-attention' || f.status === 'incomplete') && f.lastError
            ? `: ${shown(f.lastError.message)}`
            : '';
      say(`${shown(f.sourcePath)}: ${f.status}${detail}\n`);
    } else if (event.type === 'log' && event.level !== 'info') {
      say(`${shown(event.message)}\n`);
    }
  };
  const report: JobReport = await runJob(
    selected.map((f) => ({ sourcePath: f.source.path, destinationPath: f.destinationPath, messages: f.source.messages, sizeBytes: f.source.sizeBytes, messageFilter: f.messageFilter })),
    { openSource, openDestination, journalDirectory: journalDirectory(stateDir, jobId) },
    { jobId, signal: io.signal, onEvent, settings, backoff: { baseMs: setup.value.retryBaseMs, capMs: 60_000 } },
  );
  await saveJobRecord(stateDir, { ...record, updatedAt: Date.now(), status: report.status, bytesDone: report.totals.bytesCopied });
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

const locationForJob = (location: Location) => (location.kind === 'imap' ? location.endpoint : { archive: `${location.archive.format}:${path.resolve(location.archive.path)}` });

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
  const gmailAllMail = values['gmail-all-mail'];
  if (gmailAllMail !== undefined && gmailAllMail !== 'skip' && gmailAllMail !== 'archive-only') throw new UsageError(`--gmail-all-mail takes "skip" or "archive-only", not "${gmailAllMail}".`);
  const planOptions: PlanOptions = { include: values.folder ?? [], exclude: values.exclude ?? [], renames: renamesOf(values.map), gmailAllMail };
  const timeoutSeconds = positiveInt(values.timeout, 'timeout', 60);
  return {
    ok: true as const,
    value: {
      from: from.value,
      to: to.value,
      secrets,
      planOptions,
      stateDir: values.state ? path.resolve(values.state) : defaultStateDirectory(),
      settings: {
        connectionsPerSide: positiveInt(values.connections, 'connections', 2),
        maxBytesPerSecond: byteRate(values['max-rate']),
        maxConsecutiveFailures: positiveInt(values['max-failures'], 'max-failures', 5),
      },
      // The signal (Ctrl-C) ends connecting and planning at once, and every connection with it.
      timeouts: { socketTimeoutMs: timeoutSeconds * 1000, greetingTimeoutMs: Math.min(16_000, timeoutSeconds * 1000), connectionTimeoutMs: Math.min(30_000, timeoutSeconds * 1000), signal: io.signal },
      retryBaseMs: Math.round(Number(values['retry-delay'] ?? '1') * 1000) || 1000,
    },
  };
};

export type { AccountCredentials, SourceStore, DestinationStore };
