/**
 * The option values `copy` and `batch` share: checked here once, a person's mistake thrown as a
 * UsageError with a sentence saying what is expected (exit status 2).
 */
import type { ParseArgsConfig } from 'node:util';
import { DEFAULT_RECENT_DAYS } from '../contract/job.js';
import type { PlanOptions } from '../contract/plan.js';
import type { ConnectTimeouts } from '../imap/connect-imap.js';

/** The options `copy` and `batch` both take, with the same meaning (parseArgs definitions). */
export const SHARED_OPTIONS = {
  'from-client-id': { type: 'string' },
  'to-client-id': { type: 'string' },
  'allow-plaintext': { type: 'boolean' },
  'from-fingerprint': { type: 'string' },
  'to-fingerprint': { type: 'string' },
  'gmail-all-mail': { type: 'string' },
  connections: { type: 'string' },
  'max-rate': { type: 'string' },
  timeout: { type: 'string' },
  'max-failures': { type: 'string' },
  'retry-delay': { type: 'string' },
  json: { type: 'boolean' },
  'report-csv': { type: 'string' },
  'report-html': { type: 'string' },
  'sync-flags': { type: 'boolean' },
  'newest-first': { type: 'boolean' },
  'recent-days': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** A mistake in the command line; the message says what is expected. */
export class UsageError extends Error {}

/** A whole number of 1 or more, or `fallback` when the option is absent. */
export const positiveInt = (raw: string | undefined, name: string, fallback: number): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} needs a whole number of 1 or more, not "${raw}".`);
  return n;
};

/** `--max-rate`: bytes per second with an optional K, M or G; 0 (no cap) when absent. */
export const byteRate = (raw: string | undefined): number => {
  if (raw === undefined) return 0;
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(raw.trim());
  if (!m) throw new UsageError(`--max-rate needs bytes per second like 500K or 5M, not "${raw}".`);
  const factor = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] as string).toLowerCase()] as number;
  return Math.round(Number(m[1]) * factor);
};

/** `--map SRC=DST` pairs. */
export const renamesOf = (pairs: string[] | undefined): Record<string, string> => {
  const renames: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new UsageError(`--map needs SRC=DST, not "${pair}".`);
    renames[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return renames;
};

/** `--gmail-all-mail`. */
export const gmailAllMailOf = (raw: string | undefined): PlanOptions['gmailAllMail'] => {
  if (raw !== undefined && raw !== 'skip' && raw !== 'archive-only') throw new UsageError(`--gmail-all-mail takes "skip" or "archive-only", not "${raw}".`);
  return raw;
};

/** `--timeout SECONDS`: a silent connection counts as dropped after this long (default 60). */
export const timeoutsOf = (raw: string | undefined): ConnectTimeouts => {
  const ms = positiveInt(raw, 'timeout', 60) * 1000;
  return { socketTimeoutMs: ms, greetingTimeoutMs: Math.min(16_000, ms), connectionTimeoutMs: Math.min(30_000, ms) };
};

/** `--retry-delay SECONDS`: the first retry delay, in ms (default 1 s). */
export const retryBaseMsOf = (raw: string | undefined): number => Math.round(Number(raw ?? '1') * 1000) || 1000;

/** How long a folder may keep failing, the connections per side and the cap: the job settings of copy and batch. */
export const jobSettingsOf = (values: {
  connections?: string;
  'max-rate'?: string;
  'max-failures'?: string;
  'sync-flags'?: boolean;
  'newest-first'?: boolean;
  'recent-days'?: string;
}) => {
  if (values['recent-days'] !== undefined && values['newest-first'] !== true) throw new UsageError('--recent-days goes with --newest-first.');
  return {
    connectionsPerSide: positiveInt(values.connections, 'connections', 2),
    maxBytesPerSecond: byteRate(values['max-rate']),
    maxConsecutiveFailures: positiveInt(values['max-failures'], 'max-failures', 5),
    ...(values['sync-flags'] === true ? { syncFlags: true } : {}),
    ...(values['newest-first'] === true ? { newestFirst: true, recentDays: positiveInt(values['recent-days'], 'recent-days', DEFAULT_RECENT_DAYS) } : {}),
  };
};
