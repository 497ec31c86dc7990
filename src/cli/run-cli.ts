/**
 * The command-line front end: `mailferry plan` and `mailferry copy`. Exit status: 0 when every
 * selected folder is verified complete, 1 when anything failed or was refused (all of it
 * listed), 2 for bad arguments, an unreachable server, TLS or login failure.
 *
 * Start-up: the engine, the stores and (through connect-imap.ts) imapflow are loaded only for
 * `plan` and `copy`, so `--help` and a usage error load none of it. A copy keeps the two
 * connections it planned with for its first folder instead of logging in again.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import path from 'node:path';
import type { AccountCredentials } from '../contract/account.js';
import type { JobEvent, JobReport } from '../contract/job.js';
import type { CopyPlan, PlanOptions } from '../contract/plan.js';
import type { MigrationError, Result } from '../contract/result.js';
import { PAUSE_REASON } from '../contract/job.js';
import { migrationError, ok } from '../contract/result.js';
import type { DestinationStore, SourceStore } from '../engine/store.js';
import { formatPlan, formatProgressLine, formatReport, jsonLine, shown, terminalSafe } from './format.js';
import { parseLocation, type Location } from './location-url.js';
import type { LocationSecrets } from '../locations/open-location.js';

/**
 * MAILFERRY_SPLIT_MIN_MESSAGES=N splits a folder over several connections from N pending
 * messages on (whatever their size), instead of the measured default: for tests and measurements.
 */
export const splitThresholdFromEnv = (env: Record<string, string | undefined>): { messages: number; bytes: number } | undefined => {
  const raw = env.MAILFERRY_SPLIT_MIN_MESSAGES;
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return { messages: Math.max(1, Number(raw)), bytes: Infinity };
};

/** What `plan` and `copy` need beyond their arguments, loaded only for them (the rest of the engine loads while the first connections open). */
const loadEngine = async () => {
  const [{ planCopy }, { runJob }, jobState] = await Promise.all([import('../engine/plan-copy.js'), import('../engine/run-job.js'), import('../engine/job-state.js')]);
  return { planCopy, runJob, ...jobState };
};

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
  --allow-plaintext         permit unencrypted IMAP for imap:// locations (otherwise refused)
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
(listed); 2 bad arguments, unreachable server, TLS or login failure.`;

const OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  'from-password-env': { type: 'string' },
  'to-password-env': { type: 'string' },
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
    setup = await prepare(values, io);
  } catch (e) {
    if (e instanceof UsageError) {
      say(`mailferry: ${e.message}\nRun "mailferry --help" for usage.\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  if (!setup.ok) return fail(setup.error, EXIT_USAGE);
  const { from, to, secrets, planOptions, settings, timeouts } = setup.value;
  const { openLocationAsSource, openLocationAsDestination } = await import('../locations/open-location.js');
  const openSource = () => openLocationAsSource(from, secrets.from, timeouts);
  const openDestination = () => openLocationAsDestination(to, secrets.to, timeouts);
  // Connecting first: the rest of the engine loads while the servers answer.
  const opening = Promise.all([openSource(), openDestination()]);
  const { planCopy, runJob, defaultStateDirectory, jobIdOf, journalDirectory, loadJobRecord, saveJobRecord } = await loadEngine();
  const stateDir = setup.value.stateDir ?? defaultStateDirectory();
  const [source, destination] = await opening;
  if (!source.ok || !destination.ok) {
    if (source.ok) await source.value.close();
    if (destination.ok) await destination.value.close();
    const error = !source.ok ? source.error : (destination as { ok: false; error: MigrationError }).error;
    const side = !source.ok ? 'source' : 'destination';
    return fail({ ...error, message: `Could not open the ${side}: ${error.message}` }, EXIT_USAGE, side === 'source' ? 'from' : 'to');
  }
  // The planning connections serve the job's first folder; what the job does not take is closed at the end.
  const spare: { source?: SourceStore; destination?: DestinationStore } = { source: source.value, destination: destination.value };
  const takeSpare = <K extends 'source' | 'destination'>(side: K): (typeof spare)[K] => {
    const kept = spare[side];
    spare[side] = undefined;
    return kept;
  };
  try {
    const plan: Result<CopyPlan> = await planCopy(source.value, destination.value, planOptions);
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
    const onEvent = (event: JobEvent): void => {
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
      {
        openSource: async () => {
          const kept = takeSpare('source');
          return kept ? ok(kept) : openSource();
        },
        openDestination: async () => {
          const kept = takeSpare('destination');
          return kept ? ok(kept) : openDestination();
        },
        journalDirectory: journalDirectory(stateDir, jobId),
      },
      { jobId, signal: io.signal, onEvent, settings, backoff: { baseMs: setup.value.retryBaseMs, capMs: 60_000 }, splitThreshold: splitThresholdFromEnv(io.env) },
    );
    await saveJobRecord(stateDir, { ...record, updatedAt: Date.now(), status: report.status, bytesDone: report.totals.bytesCopied });
    const exitCode = report.status === 'done' ? EXIT_OK : EXIT_INCOMPLETE;
    if (json) emitJson({ type: 'summary', exitCode, report });
    else {
      out(formatReport(report) + '\n');
      if (report.status === 'paused' && io.signal?.reason === PAUSE_REASON) out('Stopped. Run the same command again to continue where it left off.\n');
    }
    return exitCode;
  } finally {
    await Promise.allSettled([takeSpare('source')?.close(), takeSpare('destination')?.close()]);
  }
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

/** Validates arguments and gathers secrets; usage mistakes throw UsageError. */
const prepare = async (values: Values, io: CliIo) => {
  if (!values.from) throw new UsageError('--from is required.');
  if (!values.to) throw new UsageError('--to is required.');
  const allowPlaintext = values['allow-plaintext'] === true;
  const from = parseLocation(values.from, allowPlaintext);
  if (!from.ok) return from;
  const to = parseLocation(values.to, allowPlaintext);
  if (!to.ok) return to;
  if (from.value.kind === 'imap' && values['from-fingerprint']) from.value.endpoint.pinnedFingerprint = values['from-fingerprint'];
  if (to.value.kind === 'imap' && values['to-fingerprint']) to.value.endpoint.pinnedFingerprint = values['to-fingerprint'];
  const secrets: { from: LocationSecrets; to: LocationSecrets } = {
    from: { password: await readPassword(from.value, values['from-password-env'], 'MAILFERRY_FROM_PASSWORD', 'source', io) },
    to: { password: await readPassword(to.value, values['to-password-env'], 'MAILFERRY_TO_PASSWORD', 'destination', io) },
  };
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
      /** Undefined: the default, the app-data folder (job-state.ts, loaded with the engine). */
      stateDir: values.state ? path.resolve(values.state) : undefined,
      settings: {
        connectionsPerSide: positiveInt(values.connections, 'connections', 2),
        maxBytesPerSecond: byteRate(values['max-rate']),
        maxConsecutiveFailures: positiveInt(values['max-failures'], 'max-failures', 5),
      },
      timeouts: { socketTimeoutMs: timeoutSeconds * 1000, greetingTimeoutMs: Math.min(16_000, timeoutSeconds * 1000), connectionTimeoutMs: Math.min(30_000, timeoutSeconds * 1000) },
      retryBaseMs: Math.round(Number(values['retry-delay'] ?? '1') * 1000) || 1000,
    },
  };
};

export type { AccountCredentials, SourceStore, DestinationStore };
