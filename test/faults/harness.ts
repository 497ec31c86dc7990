/**
 * The fault matrix's shared set-up: a source and a destination Dovecot, each behind its own
 * fault proxy, a corpus on the source, some mail of the person's own already on the destination,
 * and one check that every case ends with (`assertWorldIntact`):
 *
 * - the destination holds exactly the source's messages (bytes, flags, INTERNALDATE, counts,
 *   multisets per folder; messages flagged \Deleted on the source are not copied), plus the mail
 *   that was on the destination before, at its old UIDs and unchanged;
 * - the source is unchanged (same UIDVALIDITY, UIDNEXT, and per UID the same bytes, flags, date);
 * - no destructive command ever crossed either proxy (the destination may SELECT; nothing else);
 * - no password appears in any job event or in any file the engine wrote (journals, job records).
 *
 * Jobs run in this process through the proxies (`runCopy`) with short timeouts and a fast, seeded
 * backoff, so a fault costs milliseconds, not minutes. The CLI cases spawn the real CLI instead.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountCredentials } from '../../src/contract/account.js';
import type { JobEvent, JobReport, JobSettings } from '../../src/contract/job.js';
import type { Result } from '../../src/contract/result.js';
import type { BackoffPolicy } from '../../src/engine/backoff.js';
import { planCopy } from '../../src/engine/plan-copy.js';
import { jobFolderOf, runJob, type JobFolder } from '../../src/engine/run-job.js';
import type { DestinationStore, SourceStore } from '../../src/engine/store.js';
import type { ConnectTimeouts } from '../../src/imap/connect-imap.js';
import { openImapDestination, openImapSource } from '../../src/imap/imap-stores.js';
import { splitThresholdFromEnv } from '../../src/cli/run-cli.js';
import { expectedFromCorpus, fillAccount, generateCorpus, Rng, type Corpus, type CorpusFolder } from '../support/corpus.js';
import { startDovecot, type DovecotOptions, type DovecotServer } from '../support/dovecot.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { assertSourceUnchanged, diffMail, snapshotAccount, type AccountSnapshot, type ImapTestAccount, type MailSet } from '../support/mail-snapshot.js';

export const SOURCE_USER = { name: 'olduser', password: 'src-Secret-7f3a' };
export const DESTINATION_USER = { name: 'newuser', password: 'dst-Secret-91c2' };

/** Short, so a silent connection is noticed in a test's time. */
export const TEST_TIMEOUTS: ConnectTimeouts = { socketTimeoutMs: 1_500, greetingTimeoutMs: 1_500, connectionTimeoutMs: 1_500 };
export const TEST_BACKOFF: BackoffPolicy = { baseMs: 40, capMs: 400 };

export interface WorldOptions {
  /** What the source holds (default: a small seeded corpus). */
  corpus?: Corpus | CorpusFolder[];
  /** Mail of the person's own already on the destination (default: a few messages in INBOX and in `Privat`). */
  preexisting?: CorpusFolder[];
  source?: Partial<DovecotOptions>;
  destination?: Partial<DovecotOptions>;
}

export interface World {
  source: DovecotServer;
  destination: DovecotServer;
  sourceProxy: FaultProxy;
  destinationProxy: FaultProxy;
  corpus: Corpus | CorpusFolder[];
  /** Direct (not proxied) accounts for the test's own reads and writes. */
  sourceAccount(): ImapTestAccount;
  destinationAccount(): ImapTestAccount;
  /** Credentials through the proxies, as the engine gets them. */
  sourceCredentials(): AccountCredentials;
  destinationCredentials(): AccountCredentials;
  /** Snapshots taken after filling, before any job. */
  before: { source: AccountSnapshot; destination: AccountSnapshot };
  stateDir: string;
  journalDir: string;
  stop(): Promise<void>;
}

/** A small corpus: every awkward case of the default one, 2 ordinary messages per folder. */
export const smallCorpus = (seed: number | string): Corpus => generateCorpus({ seed, messagesPerFolder: 2 });

export const defaultPreexisting = (seed: number | string): CorpusFolder[] => {
  const own = generateCorpus({ seed: `own-${seed}`, folders: [{ segments: ['INBOX'] }, { segments: ['Privat'] }], messagesPerFolder: 2, specials: false });
  return own.folders;
};

export const startWorld = async (options: WorldOptions = {}): Promise<World> => {
  const [source, destination] = await Promise.all([
    startDovecot({ users: [SOURCE_USER], ...options.source }),
    startDovecot({ users: [DESTINATION_USER], ...options.destination }),
  ]);
  const corpus = options.corpus ?? smallCorpus(1);
  const preexisting = options.preexisting ?? defaultPreexisting(1);
  await Promise.all([fillAccount(source.account(SOURCE_USER.name), corpus), preexisting.length ? fillAccount(destination.account(DESTINATION_USER.name), preexisting) : Promise.resolve([])]);
  const [sourceProxy, destinationProxy] = await Promise.all([
    startFaultProxy({ targetHost: '127.0.0.1', targetPort: source.port }),
    startFaultProxy({ targetHost: '127.0.0.1', targetPort: destination.port }),
  ]);
  const stateDir = mkdtempSync(join(tmpdir(), 'mf-faults-state-'));
  const world: World = {
    source,
    destination,
    sourceProxy,
    destinationProxy,
    corpus,
    sourceAccount: () => source.account(SOURCE_USER.name),
    destinationAccount: () => destination.account(DESTINATION_USER.name),
    sourceCredentials: () => ({ ...source.credentials(SOURCE_USER.name), port: sourceProxy.port }),
    destinationCredentials: () => ({ ...destination.credentials(DESTINATION_USER.name), port: destinationProxy.port }),
    before: { source: { folders: [] }, destination: { folders: [] } },
    stateDir,
    journalDir: join(stateDir, 'journals'),
    async stop() {
      await Promise.allSettled([sourceProxy.stop(), destinationProxy.stop()]);
      await Promise.allSettled([source.stop(), destination.stop()]);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  world.before = await snapshotBoth(world);
  return world;
};

export const snapshotBoth = async (world: World): Promise<{ source: AccountSnapshot; destination: AccountSnapshot }> => {
  const [source, destination] = await Promise.all([snapshotAccount(world.sourceAccount()), snapshotAccount(world.destinationAccount())]);
  return { source, destination };
};

export interface CopyRun {
  report: JobReport;
  events: JobEvent[];
  /** Epoch ms of every attempt to open a source / destination connection. */
  sourceOpens: number[];
  destinationOpens: number[];
  durationMs: number;
}

export interface RunCopyOptions {
  settings?: Partial<JobSettings>;
  backoff?: BackoffPolicy;
  timeouts?: ConnectTimeouts;
  signal?: AbortSignal;
  onEvent?: (event: JobEvent) => void;
  seed?: number;
  jobId?: string;
  /** Only these source folders (default: all the plan selects). */
  folders?: string[];
  /** Wraps each opened store, e.g. to corrupt what the source returns. */
  wrapSource?: (store: SourceStore) => SourceStore;
  /** Runs after the plan was made and before the job starts (e.g. a folder vanishes while queued). */
  afterPlan?: () => Promise<void>;
  /**
   * When a folder is split over several connections. Default: MAILFERRY_SPLIT_MIN_MESSAGES from
   * the environment (the whole matrix runs with splitting forced on that way), else the engine's.
   */
  splitThreshold?: { messages: number; bytes: number };
}

/**
 * MAILFERRY_NEWEST_FIRST_DAYS=N runs every job of the matrix newest first with N recent days
 * (the corpus's dates reach back to 2001: about 5000 makes half of it recent).
 */
export const newestFirstFromEnv = (env: Record<string, string | undefined>): { newestFirst: true; recentDays: number } | Record<string, never> => {
  const days = Number(env.MAILFERRY_NEWEST_FIRST_DAYS);
  return Number.isInteger(days) && days > 0 ? { newestFirst: true, recentDays: days } : {};
};

/** The folders a job gets, from a plan made over direct (unproxied) connections. */
export const planFolders = async (world: World, timeouts: ConnectTimeouts = TEST_TIMEOUTS): Promise<JobFolder[]> => {
  const direct = (creds: AccountCredentials) => ({ ...creds });
  const source = await openImapSource(direct(world.source.credentials(SOURCE_USER.name)), timeouts);
  const destination = await openImapDestination(direct(world.destination.credentials(DESTINATION_USER.name)), timeouts);
  if (!source.ok) throw new Error(`plan: source: ${source.error.message}`);
  if (!destination.ok) throw new Error(`plan: destination: ${destination.error.message}`);
  try {
    const plan = await planCopy(source.value, destination.value, {});
    if (!plan.ok) throw new Error(`plan: ${plan.error.message}`);
    assert.equal(plan.value.hasCollisions, false, 'the test plan has no collisions');
    return plan.value.folders.filter((f) => f.isSelected).map((f) => jobFolderOf(f));
  } finally {
    await Promise.allSettled([source.value.close(), destination.value.close()]);
  }
};

/** Runs one job in this process, through the proxies. */
export const runCopy = async (world: World, options: RunCopyOptions = {}): Promise<CopyRun> => {
  let folders = await planFolders(world);
  if (options.folders) folders = folders.filter((f) => options.folders?.includes(f.sourcePath));
  await options.afterPlan?.();
  const events: JobEvent[] = [];
  const sourceOpens: number[] = [];
  const destinationOpens: number[] = [];
  const timeouts = options.timeouts ?? TEST_TIMEOUTS;
  const rng = new Rng(`backoff-${options.seed ?? 1}`);
  const started = Date.now();
  const report = await runJob(
    folders,
    {
      openSource: async (): Promise<Result<SourceStore>> => {
        sourceOpens.push(Date.now());
        const opened = await openImapSource(world.sourceCredentials(), timeouts);
        return opened.ok && options.wrapSource ? { ok: true, value: options.wrapSource(opened.value) } : opened;
      },
      openDestination: () => {
        destinationOpens.push(Date.now());
        return openImapDestination(world.destinationCredentials(), timeouts);
      },
      journalDirectory: world.journalDir,
      random: () => rng.next(),
    },
    {
      jobId: options.jobId ?? 'fault-job',
      signal: options.signal,
      settings: { maxConsecutiveFailures: 8, ...newestFirstFromEnv(process.env), ...options.settings },
      backoff: options.backoff ?? TEST_BACKOFF,
      progressIntervalMs: 0,
      splitThreshold: options.splitThreshold ?? splitThresholdFromEnv(process.env),
      onEvent: (event) => {
        events.push(event);
        options.onEvent?.(event);
      },
    },
  );
  const said = JSON.stringify(events);
  for (const password of [SOURCE_USER.password, DESTINATION_USER.password]) assert.ok(!said.includes(password), 'a password appeared in a job event');
  return { report, events, sourceOpens, destinationOpens, durationMs: Date.now() - started };
};

const filesUnder = (dir: string): string[] => {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
};

/** No password in any file the engine wrote (journals, job records). */
export const assertNoPasswordOnDisk = (world: World): void => {
  for (const file of filesUnder(world.stateDir)) {
    const text = readFileSync(file, 'latin1');
    for (const password of [SOURCE_USER.password, DESTINATION_USER.password]) assert.ok(!text.includes(password), `a password is in ${file}`);
  }
};

const isDeleted = (m: { flags: string[] }): boolean => m.flags.some((f) => f.toLowerCase() === '\\deleted');

/** What the destination must hold: the source's messages (not \Deleted) plus its own earlier mail. */
export const expectedDestination = (sourceNow: AccountSnapshot, destinationBefore: AccountSnapshot, extra: { path: string; messages: MailSet['folders'][number]['messages'] }[] = []): MailSet => {
  const folders = new Map<string, MailSet['folders'][number]['messages']>();
  const add = (path: string, messages: MailSet['folders'][number]['messages']): void => {
    folders.set(path, [...(folders.get(path) ?? []), ...messages]);
  };
  for (const f of sourceNow.folders) if (f.isSelectable) add(f.path, f.messages.filter((m) => !isDeleted(m)));
  for (const f of destinationBefore.folders) add(f.path, f.messages);
  for (const f of extra) add(f.path, f.messages);
  return { folders: [...folders].map(([path, messages]) => ({ path, messages })) };
};

/** Every message the destination held before is still there, at the same UID, unchanged. */
export const assertEarlierMailUntouched = (before: AccountSnapshot, after: AccountSnapshot): void => {
  const afterByPath = new Map(after.folders.map((f) => [f.path, f]));
  const problems: string[] = [];
  for (const b of before.folders) {
    const a = afterByPath.get(b.path);
    if (!a) {
      problems.push(`folder ${b.path} is gone`);
      continue;
    }
    if (b.uidValidity !== a.uidValidity) problems.push(`folder ${b.path}: UIDVALIDITY ${b.uidValidity} -> ${a.uidValidity}`);
    const byUid = new Map(a.messages.map((m) => [m.uid, m]));
    for (const m of b.messages) {
      const n = byUid.get(m.uid);
      if (!n) problems.push(`${b.path}: UID ${m.uid} is gone`);
      else if (n.sha256 !== m.sha256 || n.flags.join(' ') !== m.flags.join(' ') || n.internalDate !== m.internalDate) problems.push(`${b.path}: UID ${m.uid} changed`);
    }
  }
  assert.deepEqual(problems, [], `mail that was on the destination before was touched:\n${problems.join('\n')}`);
};

/** No destructive command crossed a proxy (the destination is SELECTed to append; nothing else). */
export const assertNothingDestructive = (world: World): void => {
  const src = world.sourceProxy.wire().destructive();
  assert.deepEqual(src.destructive.map((d) => `${d.command.line}: ${d.reason}`), [], 'destructive commands to the source');
  assert.deepEqual(src.flagChanges.map((d) => d.command.line), [], 'flag changes on the source');
  const dst = world.destinationProxy.wire().destructive();
  assert.deepEqual(dst.destructive.filter((d) => d.command.name !== 'SELECT').map((d) => `${d.command.line}: ${d.reason}`), [], 'destructive commands to the destination');
  assert.deepEqual(dst.flagChanges.map((d) => d.command.line), [], 'flag changes on the destination');
};

export interface IntactOptions {
  /** Source snapshot the destination is compared with (default: the source now). */
  sourceNow?: AccountSnapshot;
  /** The source is expected to have changed (test added mail); compare it against this instead. */
  sourceBefore?: AccountSnapshot;
  /** Messages the destination holds besides source + earlier mail (e.g. mail that arrived during the job). */
  extraOnDestination?: { path: string; messages: MailSet['folders'][number]['messages'] }[];
  /** Source messages (by sha256) that are known not to be copyable and must be reported instead. */
  notCopied?: string[];
  /**
   * The source holds a message its server cannot serve (it drops the connection), so it cannot be
   * snapshotted over IMAP: the caller checks it unchanged from outside (maildir files) instead.
   */
  sourceCheckedByCaller?: boolean;
}

/** The end of every case: destination exactly = source (+ its own mail), source unchanged, nothing destructive. */
export const assertWorldIntact = async (world: World, options: IntactOptions = {}): Promise<{ source: AccountSnapshot; destination: AccountSnapshot }> => {
  const now = options.sourceCheckedByCaller
    ? { source: options.sourceNow ?? world.before.source, destination: await snapshotAccount(world.destinationAccount()) }
    : await snapshotBoth(world);
  if (!options.sourceCheckedByCaller) assertSourceUnchanged(options.sourceBefore ?? world.before.source, now.source);
  let sourceForCompare = options.sourceNow ?? now.source;
  if (options.notCopied?.length) {
    const skip = new Set(options.notCopied);
    sourceForCompare = { folders: sourceForCompare.folders.map((f) => ({ ...f, messages: f.messages.filter((m) => !skip.has(m.sha256)) })) };
  }
  const problems = diffMail(expectedDestination(sourceForCompare, world.before.destination, options.extraOnDestination), now.destination);
  assert.deepEqual(problems, [], `destination differs from source:\n${problems.join('\n')}`);
  assertEarlierMailUntouched(world.before.destination, now.destination);
  assertNothingDestructive(world);
  assertNoPasswordOnDisk(world);
  return now;
};

/** The report of a completed job: done, every folder verified, nothing failed. */
export const assertDone = (report: JobReport): void => {
  const notDone = report.folders.filter((f) => !f.isComplete).map((f) => `${f.sourcePath}: ${f.status} ${f.error?.message ?? ''}`);
  assert.deepEqual(notDone, [], 'every folder verified');
  assert.equal(report.status, 'done');
  assert.equal(report.totals.failed, 0);
};

/** Counts of source messages that must be copied (not \Deleted), for report checks. */
export const copyableCount = (snapshot: AccountSnapshot): number =>
  snapshot.folders.reduce((n, f) => n + f.messages.filter((m) => !isDeleted(m)).length, 0);

export const expectedOf = (corpus: Corpus | CorpusFolder[]): MailSet => expectedFromCorpus(corpus, '/');
