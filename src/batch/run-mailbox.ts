/**
 * One mailbox of a batch, start to end, through the one job lifecycle (src/jobs/): lock its state
 * folder, sign in, plan, check, run (or resume), and say how it ended in one report line.
 *
 * Invariants:
 * - Each mailbox has its own state folder (`<state dir>/<id>`) and journals; nothing is shared
 *   between mailboxes but the batch's bandwidth cap, so one mailbox's failure (a refused
 *   password, an unreachable server) never stops another.
 * - Nothing here asks a person anything: an OAuth2 side uses a kept sign-in or a ready token.
 * - The report line is made from the engine's report (what verification found), never from
 *   counting events.
 */
import path from 'node:path';
import type { MailLocation } from '../contract/account.js';
import type { MailboxProgress, MailboxStatus, MailboxSummary } from '../contract/batch.js';
import type { JobEvent, JobReport, JobSettings } from '../contract/job.js';
import type { CopyPlan, PlanOptions } from '../contract/plan.js';
import { err, migrationError, ok, type MigrationError, type Result } from '../contract/result.js';
import type { BackoffPolicy } from '../engine/backoff.js';
import type { ConnectTimeouts } from '../imap/connect-imap.js';
import { jobEndsOf } from '../jobs/job-ends.js';
import { planJob } from '../jobs/plan-job.js';
import { prepareJob } from '../jobs/prepare-job.js';
import { startJobParts } from '../jobs/run-job-parts.js';
import type { LocationSecrets } from '../locations/open-location.js';
import { signInSide, type SignInEnvironment } from '../cli/cli-sign-in.js';
import type { BatchRow } from './batch-file.js';
import type { RowCredentials, SideCredential } from './batch-logins.js';
import { lockRow, type RowLockOptions } from './row-lock.js';

/** What a mailbox tells the batch as it goes. */
export type MailboxEvent = { type: 'status'; progress: MailboxProgress } | { type: 'plan'; plan: CopyPlan } | { type: 'job'; event: JobEvent };

/** Everything a mailbox of a batch runs with, shared by the batch's mailboxes. */
export interface MailboxContext {
  /** The batch's state folder; this mailbox's is `<stateDir>/<id>`. */
  stateDir: string;
  settings: Partial<JobSettings>;
  planOptions: Pick<PlanOptions, 'gmailAllMail' | 'renames'>;
  /** Certificates to trust on every source / destination server (--from-fingerprint, --to-fingerprint). */
  fingerprints?: { from?: string; to?: string };
  timeouts?: ConnectTimeouts;
  backoff?: BackoffPolicy;
  /** The batch's bandwidth cap, shared by every mailbox. */
  throttle?: (bytes: number, signal?: AbortSignal) => Promise<void>;
  /** For OAuth2 sides: where kept sign-ins and client IDs are found. */
  signIn: Pick<SignInEnvironment, 'env' | 'settings' | 'keychain' | 'stderr'> & { clientIds?: { from?: string; to?: string } };
  signal?: AbortSignal;
  onEvent?(event: MailboxEvent): void;
  now?: () => number;
  lock?: RowLockOptions;
}

/** The folder a mailbox of the batch keeps its journals in. */
export const mailboxStateDirectory = (stateDir: string, id: string): string => path.join(stateDir, id);

const withFingerprint = (location: MailLocation, fingerprint: string | undefined): MailLocation =>
  location.kind === 'imap' && fingerprint ? { kind: 'imap', endpoint: { ...location.endpoint, pinnedFingerprint: fingerprint } } : location;

const secretsOf = async (rowId: string, credential: SideCredential, side: 'from' | 'to', location: MailLocation, context: MailboxContext): Promise<Result<LocationSecrets>> => {
  if (credential.kind === 'none') return ok({});
  if (credential.kind === 'password') return ok({ password: credential.password });
  if (location.kind !== 'imap') return err(migrationError('bad-input', 'An archive needs no sign-in.'));
  const tokens = await signInSide(
    { side: side === 'from' ? 'source' : 'destination', endpoint: location.endpoint, provider: credential.provider, clientId: context.signIn.clientIds?.[side], readyToken: credential.readyToken },
    // What the sign-in has to say is about this mailbox among many: it names the row.
    { ...context.signIn, stderr: (text) => context.signIn.stderr(`${rowId}: ${text}`), isDeviceCode: false, isRemember: true, isInteractive: false, signal: context.signal },
  );
  return tokens.ok ? ok({ oauth: tokens.value }) : tokens;
};

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** One sentence for a mailbox that ran but is not verified. */
const reasonOf = (report: JobReport): string => {
  const unverified = report.folders.filter((f) => !f.isComplete);
  const refused = report.folders.flatMap((f) => f.failed);
  const parts: string[] = [];
  if (refused.length > 0) {
    const first = refused[0] as (typeof refused)[number];
    parts.push(`${plural(refused.length, 'message was', 'messages were')} not moved (${first.sourcePath}${first.subject ? `, "${first.subject}"` : ''}: ${first.error.message})`);
  }
  const others = unverified.filter((f) => f.failed.length === 0);
  if (others.length > 0) {
    const first = others[0] as (typeof others)[number];
    parts.push(`${plural(others.length, 'folder')} not verified (${first.sourcePath}: ${first.error?.message ?? first.status})`);
  }
  return parts.length > 0 ? `${parts.join('; ')}.` : 'The move did not finish.';
};

/** Runs one mailbox to its end; never throws for what a server or a file does. */
export const runMailbox = async (row: BatchRow, credentials: RowCredentials, context: MailboxContext): Promise<MailboxSummary> => {
  const now = context.now ?? Date.now;
  const started = now();
  const progress: MailboxProgress = { id: row.id, row: row.row, status: 'waiting', messagesDone: 0, messagesTotal: 0, bytesDone: 0, bytesTotal: 0 };
  const tell = (status: MailboxStatus, patch: Partial<MailboxProgress> = {}): void => {
    Object.assign(progress, patch, { status });
    context.onEvent?.({ type: 'status', progress: { ...progress } });
  };
  const summary = (status: MailboxSummary['status'], reason: string | undefined, report?: JobReport): MailboxSummary => {
    const result: MailboxSummary = {
      id: row.id,
      row: row.row,
      status,
      messages: report ? report.totals.copied + report.totals.alreadyThere : 0,
      bytes: report?.totals.bytesCopied ?? 0,
      refused: report?.totals.failed ?? 0,
      needsAttentionFolders: report ? report.folders.filter((f) => !f.isComplete).map((f) => f.sourcePath) : [],
      durationS: Math.round((now() - started) / 100) / 10,
      ...(reason ? { reason } : {}),
    };
    tell(status, { summary: result });
    return result;
  };
  const failed = (error: MigrationError, prefix = ''): MailboxSummary => summary('failed', `${prefix}${error.message}${error.serverText ? ` (the server said: ${error.serverText})` : ''}`);
  const notRun = (): MailboxSummary => summary('not-run', 'The batch was stopped before this mailbox finished; run it again to continue.');

  if (context.signal?.aborted) return notRun();
  const stateDir = mailboxStateDirectory(context.stateDir, row.id);
  const lock = await lockRow(stateDir, { ...context.lock, signal: context.signal });
  if (!lock.ok) return context.signal?.aborted ? notRun() : failed(lock.error);
  try {
    tell('running');
    const from = withFingerprint(row.from, context.fingerprints?.from);
    const to = withFingerprint(row.to, context.fingerprints?.to);
    const fromSecrets = await secretsOf(row.id, credentials.from, 'from', from, context);
    if (!fromSecrets.ok) return failed(fromSecrets.error, 'Could not sign in to the source: ');
    const toSecrets = await secretsOf(row.id, credentials.to, 'to', to, context);
    if (!toSecrets.ok) return failed(toSecrets.error, 'Could not sign in to the destination: ');

    const ends = jobEndsOf({ location: from, secrets: fromSecrets.value }, [{ target: 'account', location: to, secrets: toSecrets.value }], context.timeouts);
    const options: PlanOptions = { include: row.include, exclude: row.exclude, ...context.planOptions };
    const plans = await planJob(ends, options);
    if (!plans.ok) {
      const { failedAt, ...error } = plans.error;
      return failed(error, failedAt === 'source' ? 'Could not open the source: ' : failedAt === 'plan' ? '' : 'Could not open the destination: ');
    }
    const plan = plans.value.account as CopyPlan;
    context.onEvent?.({ type: 'plan', plan });
    const unknown = [...row.include, ...row.exclude].filter((p) => !plan.folders.some((f) => f.source.path === p));
    if (unknown.length > 0) return failed(migrationError('bad-input', `No such source folder: ${unknown.join(', ')}. Nothing was copied.`));
    if (plan.hasCollisions) {
      const colliding = plan.folders.filter((f) => f.isSelected && f.collidesWith.length > 0).map((f) => `${f.source.path} → ${f.destinationPath}`);
      return failed(migrationError('bad-input', `Some folders would land in the same destination folder (${colliding.join(', ')}); nothing was copied. Leave one out with the exclude column.`));
    }

    const job = await prepareJob(stateDir, ends, plans.value, { options, routes: {}, settings: context.settings });
    if (!job.ok) return failed(job.error);
    tell('running', { jobId: job.value.record.jobId, messagesTotal: plan.selectedMessages, bytesTotal: plan.selectedBytes });
    let jobError: MigrationError | undefined;
    const run = await startJobParts(stateDir, job.value, {
      signal: context.signal,
      backoff: context.backoff,
      ...(context.throttle ? { throttle: context.throttle } : {}),
      onPartEvent: (_target, event) => {
        if (event.type === 'job-status' && event.error) jobError = event.error;
        if (event.type === 'progress') {
          const p = event.progress;
          tell('running', { messagesDone: p.messagesDone, messagesTotal: p.messagesTotal, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal });
        }
        context.onEvent?.({ type: 'job', event });
      },
    });
    const { partReports } = await run.finished;
    const report = partReports[0]?.report;
    if (!report) return notRun();
    if (context.signal?.aborted && report.status !== 'done') return summary('not-run', 'The batch was stopped before this mailbox finished; run it again to continue.', report);
    if (report.status === 'done') return summary('verified', undefined, report);
    // A whole-mailbox stop (a refused login when reconnecting, a full destination, a sign-in to repeat).
    if (jobError) return summary('failed', `${jobError.message}${jobError.serverText ? ` (the server said: ${jobError.serverText})` : ''}`, report);
    return summary('needs-attention', reasonOf(report), report);
  } catch (e) {
    return failed(migrationError('internal', `The move stopped unexpectedly: ${e instanceof Error ? e.message : String(e)}`));
  } finally {
    await lock.value.release();
  }
};
