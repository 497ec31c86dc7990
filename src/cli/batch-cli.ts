/**
 * `mailferry batch FILE.csv`: many mailboxes in one run, one row of a users CSV each (see
 * src/batch/). Exit status: 0 when every mailbox of the run (or of the shard) is verified
 * complete, 1 when any is not (each one listed with the reason), 2 for invalid input, which is
 * found before anything starts (every problem named with its data row and file line; nothing is
 * copied then).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { BatchInputProblem, BatchMailbox, MailboxSummary } from '../contract/batch.js';
import { MAILBOX_SUCCESS } from '../contract/batch.js';
import type { MailLocation } from '../contract/account.js';
import { readOAuthSettings } from '../auth/oauth-settings.js';
import { readBatchFile, type BatchRow } from '../batch/batch-file.js';
import { readRowLogins } from '../batch/batch-logins.js';
import { batchReportToCsv, batchReportToHtml } from '../batch/batch-report.js';
import { parseShard, rowsOfShard, runBatch, type Shard } from '../batch/run-batch.js';
import { PAUSE_REASON } from '../engine/run-job.js';
import { writeFileAtomic } from '../fs/write-file-atomic.js';
import { defaultStateDirectory, describeJobLocation, jobLocationOf } from '../jobs/job-records.js';
import { byteRate, gmailAllMailOf, jobSettingsOf, positiveInt, retryBaseMsOf, SHARED_OPTIONS, timeoutsOf, UsageError } from './cli-options.js';
import { formatBytes, jsonLine, shown, terminalSafe } from './format.js';
import type { CliIo } from './cli-io.js';

const EXIT_OK = 0;
const EXIT_INCOMPLETE = 1;
const EXIT_USAGE = 2;

/** How often the human progress line is printed. */
const HUMAN_PROGRESS_INTERVAL_MS = 5_000;

/** `mailferry batch --help`. */
export const BATCH_USAGE = `Usage: mailferry batch FILE.csv [options]

Moves many mailboxes, one row of FILE.csv each (RFC 4180, UTF-8, a header row, columns in any
order). Columns: id (required: letters, digits, . _ -), from, to (required: locations as for
copy), from_password_env / to_password_env (the name of an environment variable holding the
password), from_password_file / to_password_file (a file holding only the password), from_oauth /
to_oauth (google, microsoft or an issuer URL: uses the sign-in kept by "mailferry copy ... --remember"),
from_token_env / to_token_env (a ready OAuth2 access token), folder and exclude (source folders,
separated by ";"). A password never goes in the file.

Options:
  --parallel N              mailboxes at once (default 2)
  --state-dir DIR           where the journals live, DIR/<id> per mailbox (default: your app-data folder)
  --shard I/N               run only the rows whose position modulo N is I-1 (1-based I), so a
                            scheduler can split the batch; shards may share one --state-dir
  --report-csv FILE         one line per mailbox: id,row,status,messages,bytes,refused,
                            needs_attention_folders,duration_s,reason
  --report-html FILE        the same as a web page
  --json                    one JSON event per line, each tagged with the mailbox's "id" and "row";
                            the last line is the summary
  --allow-plaintext         permit unencrypted IMAP for imap:// locations
  --connections N           connections per side of each mailbox (default 2)
  --max-rate BYTES          cap the whole batch at BYTES per second (suffix K, M allowed)
  --timeout SECONDS         a silent connection counts as dropped after this long (default 60)
  --max-failures N          failed attempts in a row before a folder is set aside (default 5)
  --retry-delay SECONDS     first retry delay; doubles up to 60 s (default 1)
  --gmail-all-mail MODE     skip (default) or archive-only, as for copy
  --from-fingerprint SHA256 trust exactly this certificate on every source server
  --to-fingerprint SHA256   the same for every destination server
  --from-client-id ID       the app's client ID for OAuth2 sources (as for copy)
  --to-client-id ID         the same for destinations

Exit status: 0 every mailbox verified complete; 1 some mailbox failed, needs attention or did not
run (listed, with the reason); 2 invalid input (each problem with its row and line; nothing copied).
Run the same command again to resume: finished mailboxes are passed over quickly.`;

const OPTIONS = {
  ...SHARED_OPTIONS,
  parallel: { type: 'string' },
  'state-dir': { type: 'string' },
  shard: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** `row 3 (line 4), column from: …` */
export const describeProblem = (file: string, p: BatchInputProblem): string => {
  const where = [p.row !== undefined ? `row ${p.row}` : undefined, p.line !== undefined ? (p.row !== undefined ? `(line ${p.line})` : `line ${p.line}`) : undefined].filter(Boolean).join(' ');
  return `${file}${where ? `: ${where}` : ''}${p.column ? `, column ${p.column}` : ''}: ${p.reason}`;
};

const describeLocation = (location: MailLocation): string => describeJobLocation(jobLocationOf(location));

const mailboxOf = (row: BatchRow): BatchMailbox => ({ id: row.id, row: row.row, line: row.line, source: describeLocation(row.from), destination: describeLocation(row.to) });

/** Runs `mailferry batch` (argv without the word `batch`); returns the exit status. */
export const runBatchCli = async (argv: string[], io: CliIo): Promise<number> => {
  const say = (text: string): void => io.stderr(terminalSafe(text));
  const out = (text: string): void => io.stdout(terminalSafe(text));
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (e) {
    say(`mailferry batch: ${(e as Error).message.split('\n')[0]}\nRun "mailferry batch --help" for usage.\n`);
    return EXIT_USAGE;
  }
  if (values.help) {
    out(BATCH_USAGE + '\n');
    return EXIT_OK;
  }
  const json = values.json === true;
  const emit = (value: unknown): void => io.stdout(jsonLine(value));
  const invalid = (problems: BatchInputProblem[], file: string): number => {
    for (const p of problems) say(`mailferry batch: ${describeProblem(file, p)}\n`);
    say(`Nothing was copied.\n`);
    if (json) emit({ type: 'summary', exitCode: EXIT_USAGE, problems });
    return EXIT_USAGE;
  };

  let file: string;
  let shard: Shard | undefined;
  let settings;
  try {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'Name the users CSV: mailferry batch FILE.csv.' : `One users CSV at a time, not ${positionals.length}.`);
    file = positionals[0] as string;
    if (values.shard !== undefined) {
      shard = parseShard(values.shard);
      if (!shard) throw new UsageError(`--shard needs I/N with 1 <= I <= N, like 2/3, not "${values.shard}".`);
    }
    settings = {
      parallel: positiveInt(values.parallel, 'parallel', 2),
      job: { ...jobSettingsOf(values), maxBytesPerSecond: 0 },
      maxBytesPerSecond: byteRate(values['max-rate']),
      timeouts: timeoutsOf(values.timeout),
      retryBaseMs: retryBaseMsOf(values['retry-delay']),
      gmailAllMail: gmailAllMailOf(values['gmail-all-mail']),
    };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    say(`mailferry batch: ${e.message}\nRun "mailferry batch --help" for usage.\n`);
    return EXIT_USAGE;
  }

  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    return invalid([{ reason: `The file cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).` }], file);
  }
  const rows = readBatchFile(bytes, { allowPlaintext: values['allow-plaintext'] === true, baseDir: path.dirname(path.resolve(file)) });
  if (!rows.ok) return invalid(rows.error, file);
  const chosen = rowsOfShard(rows.value, shard);
  // The sign-in settings file matters only to OAuth2 rows: a broken one stops only a batch that has them.
  const oauthSettings = await readOAuthSettings(defaultStateDirectory());
  const hasOAuth = chosen.some((r) => r.fromLogin.kind === 'oauth' || r.toLogin.kind === 'oauth');
  if (!oauthSettings.ok && hasOAuth) return invalid([{ reason: oauthSettings.error.message }], file);
  const signIn = { env: io.env, settings: oauthSettings.ok ? oauthSettings.value : {}, keychain: io.keychain, clientIds: { from: values['from-client-id'], to: values['to-client-id'] } };
  // Only this shard's secrets: another machine may hold the others.
  const credentials = await readRowLogins(chosen, signIn);
  if (!credentials.ok) return invalid(credentials.error, file);

  const stateDir = values['state-dir'] ? path.resolve(values['state-dir']) : path.join(defaultStateDirectory(), 'batch');
  const shardText = shard ? ` (shard ${shard.index}/${shard.count} of ${rows.value.length})` : '';
  if (json) emit({ type: 'batch', mailboxes: chosen.map(mailboxOf), ...(shard ? { shard } : {}), parallel: settings.parallel, stateDir });
  else say(`Moving ${chosen.length} mailbox${chosen.length === 1 ? '' : 'es'}${shardText}, ${settings.parallel} at a time; journals in ${stateDir}.\n`);

  const totals = new Map<string, { done: number; total: number; isFinished: boolean }>();
  let lastLine = Date.now();
  const summaries = await runBatch(chosen, credentials.value, {
    parallel: settings.parallel,
    maxBytesPerSecond: settings.maxBytesPerSecond,
    stateDir,
    settings: settings.job,
    planOptions: { gmailAllMail: settings.gmailAllMail },
    fingerprints: { from: values['from-fingerprint'], to: values['to-fingerprint'] },
    timeouts: settings.timeouts,
    backoff: { baseMs: settings.retryBaseMs, capMs: 60_000 },
    signIn: { ...signIn, stderr: (text) => say(text) },
    signal: io.signal,
    onEvent: (row, event) => {
      const tag = { id: row.id, row: row.row };
      if (json) {
        if (event.type === 'job') emit({ ...event.event, ...tag });
        else if (event.type === 'plan') emit({ type: 'plan', ...tag, plan: event.plan });
        else if (event.progress.summary) emit({ type: 'mailbox', ...event.progress.summary });
        return;
      }
      if (event.type !== 'status') return;
      const p = event.progress;
      totals.set(row.id, { done: p.bytesDone, total: p.bytesTotal, isFinished: p.summary !== undefined });
      if (p.summary) say(`${shown(row.id)}: ${formatSummary(p.summary)}\n`);
      else if (Date.now() - lastLine >= HUMAN_PROGRESS_INTERVAL_MS) {
        lastLine = Date.now();
        const all = [...totals.values()];
        const done = all.reduce((n, t) => n + t.done, 0);
        const running = all.filter((t) => !t.isFinished).length;
        say(`${all.filter((t) => t.isFinished).length} of ${chosen.length} mailboxes finished, ${running} running; ${formatBytes(done)} of ${formatBytes(all.reduce((n, t) => n + t.total, 0))} so far\n`);
      }
    },
  });

  const finishedAt = Date.now();
  if (values['report-csv']) await writeFileAtomic(path.resolve(values['report-csv']), batchReportToCsv(summaries));
  if (values['report-html']) await writeFileAtomic(path.resolve(values['report-html']), batchReportToHtml(summaries, finishedAt));
  const exitCode = summaries.every((s) => MAILBOX_SUCCESS.has(s.status)) ? EXIT_OK : EXIT_INCOMPLETE;
  if (json) emit({ type: 'summary', exitCode, mailboxes: summaries });
  else {
    const count = (status: MailboxSummary['status']): number => summaries.filter((s) => s.status === status).length;
    out(`${summaries.length} mailbox${summaries.length === 1 ? '' : 'es'}${shardText}: ${count('verified')} verified, ${count('needs-attention')} need attention, ${count('failed')} failed, ${count('not-run')} not run.\n`);
    for (const s of summaries.filter((m) => m.status !== 'verified')) out(`  ${shown(s.id)} (row ${s.row}): ${formatSummary(s)}\n`);
    if (io.signal?.aborted && io.signal.reason === PAUSE_REASON) out('Stopped. Run the same command again to continue where it left off.\n');
  }
  return exitCode;
};

const formatSummary = (s: MailboxSummary): string =>
  s.status === 'verified'
    ? `verified, ${s.messages} messages (${formatBytes(s.bytes)}) in ${s.durationS} s`
    : `${s.status === 'needs-attention' ? 'needs attention' : s.status === 'not-run' ? 'not run' : 'failed'}: ${shown(s.reason ?? '')}`;
