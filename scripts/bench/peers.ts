/**
 * Mailferry next to its peers on the same machine and the same mailbox (GitHub issue 5: "Fast:
 * beat every peer on the same machine"): imapsync, mbsync (isync), offlineimap and Dovecot's own
 * `doveadm import`, each copying the benchmark corpus from one private Dovecot into a fresh
 * account on another, then run again with nothing new.
 *
 *   npx tsx scripts/bench/peers.ts [--messages N] [--latency-ms L] [--runs R] [--imapsync PATH]
 *   npx tsx scripts/bench/peers.ts --mailferry before=DIR --mailferry after=DIR [--corpus one-folder]
 *
 * Several Mailferry builds (`--mailferry LABEL=DIR`, each compiled elsewhere) run side by side,
 * in the same round robin: before/after figures of one session, under the same machine load.
 * What it does, in order:
 * 1. Compiles Mailferry's working tree into .tmp/peers-dist (unless --no-build or --dist DIR;
 *    to measure a commit while src/ is being edited, compile that commit elsewhere, pass --dist).
 * 2. Writes the standard corpus (scripts/bench/bench-corpus.ts) into the source's maildir and
 *    reads it once (page cache and Dovecot's index warm before the first tool, so the first
 *    tool is not charged for them).
 * 3. Per run, per tool (round robin, so machine load spreads over all tools): the tool copies
 *    the source into a destination account of its own, under GNU time (whole-process wall and
 *    peak RSS, %M), bounded by --timeout-min (the whole process group is killed at the limit
 *    and the rate reached so far is reported); then the same command again, nothing new (the
 *    re-run time); then the destination is read back and compared with the corpus (bytes,
 *    flags, keywords, INTERNALDATE), and the source's maildir is checked unchanged.
 * 4. Prints one markdown row per tool (medians over the runs, with the range), in bench.ts's
 *    columns plus the CPU seconds of the tool and of each Dovecot (process-cpu.ts), whether the
 *    result is identical, and a note per tool on what differed. For Mailferry also the copy
 *    rate over the first and the last tenth of the messages (from its --json progress).
 *
 * A tool that is not installed is skipped with a note: this is a benchmark, not a test. Peer
 * config files live in a temp folder that is removed at the end. Needs root (private Dovecots).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { corpusBytes, expectedFromCorpus, folderPath, messageKeyOf, type CorpusFolder } from '../../test/support/corpus.js';
import { startDovecot, type DovecotServer } from '../../test/support/dovecot.js';
import { diffMail, openTestClient, snapshotAccount, snapshotMaildirFiles, type AccountSnapshot, type ImapTestAccount, type MailSet } from '../../test/support/mail-snapshot.js';
import { headerBlockEnd, headerValue, parseHeaderFields } from '../../src/engine/fingerprint.js';
import { bigFolderCorpus, oneFolderCorpus, standardCorpus, writeMaildir } from './bench-corpus.js';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy.js';
import { fmt, intOption, median } from './figures.js';
import { dovecotCpuSeconds, waitForSessionsEnded } from './process-cpu.js';
import { edgeRates, runCli } from './run-copy.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DIST = join(ROOT, '.tmp', 'peers-dist');
const PASSWORD = 'bench-password';
const GNU_TIME = '/usr/bin/time';
const DEFAULT_TIMEOUT_MIN = 30;
const TOOL_NAMES = ['mailferry', 'imapsync', 'mbsync', 'offlineimap', 'doveadm-import'] as const;
type ToolName = (typeof TOOL_NAMES)[number];
const CORPORA = ['standard', 'one-folder', 'big-folder'] as const;

const { values } = parseArgs({
  options: {
    messages: { type: 'string' },
    'latency-ms': { type: 'string' },
    runs: { type: 'string' },
    tools: { type: 'string' },
    imapsync: { type: 'string' },
    'timeout-min': { type: 'string' },
    'no-build': { type: 'boolean' },
    dist: { type: 'string' },
    mailferry: { type: 'string', multiple: true },
    'mailferry-args': { type: 'string' },
    corpus: { type: 'string' },
    'keep-logs': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(`npx tsx scripts/bench/peers.ts [options]
  --messages N       messages in the standard corpus (default 2000, ~100 KB each on average)
  --latency-ms L     put both servers behind a proxy adding L ms each way (doveadm import reads
                     the source's files directly and never crosses it)
  --runs R           runs per tool, median reported (default 3)
  --tools LIST       comma-separated subset of ${TOOL_NAMES.join(',')} (default all)
  --imapsync PATH    the imapsync script (default: imapsync on PATH)
  --timeout-min M    kill a tool's run after M minutes and report the rate it reached (default ${DEFAULT_TIMEOUT_MIN})
  --no-build         use the existing .tmp/peers-dist build of Mailferry
  --dist DIR         run the Mailferry CLI compiled in DIR instead
  --mailferry L=DIR[,KEY=VALUE...]
                     a Mailferry build compiled in DIR, labelled L, run with KEY=VALUE in its
                     environment (repeatable: builds side by side)
  --mailferry-args A extra arguments for every Mailferry run, e.g. "--connections 4"
  --corpus C         ${CORPORA.join(' | ')} (default standard): the standard mailbox, its messages
                     all in one INBOX, or one folder of small messages (--messages default 100000)
  --keep-logs DIR    keep every tool's output and config files in DIR (e.g. bench-results/peers-logs)
`);
  process.exit(0);
}

const corpusKind = (values.corpus ?? 'standard') as (typeof CORPORA)[number];
if (!CORPORA.includes(corpusKind)) throw new Error(`unknown corpus ${values.corpus}; known: ${CORPORA.join(', ')}`);
const messageCount = intOption(values.messages, corpusKind === 'big-folder' ? 100_000 : 2_000);
const mailferryArgs = values['mailferry-args'] ? values['mailferry-args'].split(/\s+/).filter(Boolean) : [];
/** The Mailferry builds to run: label, compiled folder (undefined: the tree, compiled here), extra environment. */
const mailferryBuilds: { label: string; dist?: string; env?: Record<string, string> }[] = (values.mailferry ?? []).map((spec) => {
  const at = spec.indexOf('=');
  if (at <= 0) throw new Error(`--mailferry needs LABEL=DIR[,KEY=VALUE...], not ${spec}`);
  const [dir, ...settings] = spec.slice(at + 1).split(',');
  const env = Object.fromEntries(settings.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { label: spec.slice(0, at), dist: resolve(dir as string), env };
});
if (mailferryBuilds.length === 0) mailferryBuilds.push({ label: '', dist: values.dist ? resolve(values.dist) : undefined });
const runs = Math.max(1, intOption(values.runs, 3));
const latencyMs = intOption(values['latency-ms'], 0);
const timeoutMs = Math.max(1, Number(values['timeout-min'] ?? DEFAULT_TIMEOUT_MIN)) * 60_000;
const selected: ToolName[] = values.tools
  ? values.tools.split(',').map((t) => {
      const name = t.trim() as ToolName;
      if (!TOOL_NAMES.includes(name)) throw new Error(`unknown tool ${t}; known: ${TOOL_NAMES.join(', ')}`);
      return name;
    })
  : [...TOOL_NAMES];

const log = (text: string): void => {
  process.stderr.write(`[peers ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
};

/** An executable on PATH, or undefined. */
const which = (name: string): string | undefined =>
  (process.env.PATH ?? '/usr/bin:/bin')
    .split(delimiter)
    .map((dir) => join(dir, name))
    .find((p) => existsSync(p));

/** First line of a command's output, or undefined when it cannot run. */
const versionOf = (argv: string[]): string | undefined => {
  try {
    const out = execFileSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    return out.trim().split('\n').pop()?.trim();
  } catch {
    return undefined;
  }
};

interface TimedRun {
  exitCode: number;
  wallMs: number;
  peakRssKb?: number;
  /** CPU seconds of the tool's process (user + system), when known. */
  cpuSeconds?: number;
  /** Mailferry only: messages per second over the first and the last tenth. */
  first?: number;
  last?: number;
  timedOut: boolean;
  /** The last lines of the tool's stdout and stderr. */
  outputTail: string;
}

/**
 * Runs argv under GNU time (peak RSS from %M) in a process group of its own, output to a file,
 * and SIGKILLs the whole group at the deadline (killing only `time` would leave the tool running).
 */
const runTimed = async (argv: string[], opts: { cwd: string; env?: Record<string, string>; outputFile: string }): Promise<TimedRun> => {
  const timeFile = `${opts.outputFile}.time`;
  rmSync(timeFile, { force: true });
  const hasTime = existsSync(GNU_TIME);
  const full = hasTime ? [GNU_TIME, '-f', '%U %S %M', '-o', timeFile, ...argv] : argv;
  const fd = openSync(opts.outputFile, 'a');
  writeFileSync(fd, `\n$ ${argv.join(' ')}\n`);
  const started = performance.now();
  const child = spawn(full[0] as string, full.slice(1), { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  }, timeoutMs);
  const exitCode = await new Promise<number>((done) => child.once('close', (code) => done(code ?? -1)));
  clearTimeout(killer);
  const wallMs = performance.now() - started;
  let peakRssKb: number | undefined;
  let cpuSeconds: number | undefined;
  if (hasTime && existsSync(timeFile)) {
    const [user, system, kb] = (readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
    if (kb !== undefined && Number.isFinite(kb) && kb > 0) peakRssKb = kb;
    if (user !== undefined && system !== undefined && Number.isFinite(user + system)) cpuSeconds = user + system;
  }
  const outputTail = readFileSync(opts.outputFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
  return { exitCode, wallMs, peakRssKb, cpuSeconds, timedOut, outputTail };
};

/** A Mailferry run through run-copy.ts: the same figures as runTimed, plus its progress samples. */
const runMailferry = async (argv: string[], opts: { cwd: string; env?: Record<string, string>; outputFile: string }): Promise<TimedRun> => {
  const run = await runCli({ command: argv.slice(0, 2), args: argv.slice(2), env: opts.env ?? {} });
  writeFileSync(opts.outputFile, `\n$ ${argv.join(' ')}\n${run.stderr}${JSON.stringify(run.summary)?.slice(0, 4000) ?? ''}\n`, { flag: 'a' });
  const rates = edgeRates(run);
  const cpu = run.userCpuSeconds !== undefined && run.systemCpuSeconds !== undefined ? run.userCpuSeconds + run.systemCpuSeconds : undefined;
  return { exitCode: run.exitCode, wallMs: run.wallMs, peakRssKb: run.peakRssKb, cpuSeconds: cpu, first: rates.first, last: rates.last, timedOut: false, outputTail: run.stderr.slice(-2000) };
};

/** What a tool needs to know to build its commands for one run. */
interface RunContext {
  user: string;
  /** A folder of this run's own, for config and state files; removed at the end. */
  work: string;
  sourcePort: number;
  destinationPort: number;
  source: DovecotServer;
  destination: DovecotServer;
}

interface Tool {
  /** ToolName, or `mailferry LABEL` for one of several builds. */
  name: string;
  kind: ToolName;
  /** Version string, or the reason it is absent. */
  probe(): { version: string } | { absent: string };
  /** How it was set up, for the report. */
  setup: string;
  /** Commands for the copy and the re-run; no re-run when the tool is not incremental. */
  commands(ctx: RunContext): { copy: string[]; rerun?: string[]; cwd: string; env?: Record<string, string> };
  /** Why there is no re-run, when the tool has none. */
  rerunLabel?: string;
  /** Does not cross the network (the latency proxy does not apply). */
  isLocal?: boolean;
  /** Runs under run-copy.ts (progress samples for the rate over time), not just GNU time. */
  isMailferry?: boolean;
}

const imapsyncPath = values.imapsync ? resolve(values.imapsync) : which('imapsync');

/** One Mailferry build as a tool (several can run side by side). */
const mailferryTool = (label: string, dist: string | undefined, extraEnv: Record<string, string> = {}): Tool => ({
  name: label ? `mailferry ${label}` : 'mailferry',
  kind: 'mailferry',
  isMailferry: true,
  probe: () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const head = versionOf(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD']) ?? '?';
    const dirty = !dist && versionOf(['git', '-C', ROOT, 'status', '--porcelain', '--', 'src']) ? ' (src/ has uncommitted changes)' : '';
    const env = Object.entries(extraEnv).map(([k, v]) => ` ${k}=${v}`).join('');
    return { version: dist ? `mailferry, CLI compiled in ${dist}${env}` : `mailferry ${pkg.version} at ${head}${dirty}${env}` };
  },
  setup: `\`copy --from imap://src@… --to imap://dstN@… --allow-plaintext --state DIR --json${mailferryArgs.length ? ` ${mailferryArgs.join(' ')}` : ''}\`${mailferryArgs.includes('--connections') ? '' : ' (2 connections per side)'}`,
  commands: (ctx) => {
    const cli = join(dist ?? DIST, 'src', 'cli', 'main.js');
    const argv = [
      process.execPath,
      cli,
      'copy',
      '--from',
      `imap://src@127.0.0.1:${ctx.sourcePort}`,
      '--to',
      `imap://${ctx.user}@127.0.0.1:${ctx.destinationPort}`,
      '--allow-plaintext',
      '--state',
      join(ctx.work, 'state'),
      '--json',
      ...mailferryArgs,
    ];
    return { copy: argv, rerun: argv, cwd: ctx.work, env: { MAILFERRY_FROM_PASSWORD: PASSWORD, MAILFERRY_TO_PASSWORD: PASSWORD, NO_COLOR: '1', ...extraEnv } };
  },
});

const tools: Record<Exclude<ToolName, 'mailferry'>, Tool> = {
  imapsync: {
    name: 'imapsync',
    kind: 'imapsync',
    probe: () => {
      if (!imapsyncPath || !existsSync(imapsyncPath)) return { absent: 'imapsync not found (pass --imapsync PATH)' };
      const version = versionOf(['perl', imapsyncPath, '--version']);
      if (!version) return { absent: `${imapsyncPath} does not run (perl modules missing? try perl ${imapsyncPath} --testsdebug)` };
      const client = versionOf(['perl', '-MMail::IMAPClient', '-e', 'print $Mail::IMAPClient::VERSION']);
      return { version: `imapsync ${version} (Mail::IMAPClient ${client ?? '?'}, perl ${versionOf(['perl', '-e', 'print $^V']) ?? '?'})` };
    },
    setup: 'defaults: `imapsync --host1 --port1 --user1 --password1 --host2 --port2 --user2 --password2` (no TLS offered by the servers); log folder in a temp dir',
    commands: (ctx) => {
      const argv = [
        'perl',
        imapsyncPath as string,
        '--host1',
        '127.0.0.1',
        '--port1',
        String(ctx.sourcePort),
        '--user1',
        'src',
        '--password1',
        PASSWORD,
        '--host2',
        '127.0.0.1',
        '--port2',
        String(ctx.destinationPort),
        '--user2',
        ctx.user,
        '--password2',
        PASSWORD,
        '--pidfile',
        join(ctx.work, 'imapsync.pid'),
      ];
      return { copy: argv, rerun: argv, cwd: ctx.work };
    },
  },
  mbsync: {
    name: 'mbsync',
    kind: 'mbsync',
    probe: () => {
      const bin = which('mbsync');
      if (!bin) return { absent: 'mbsync not installed (Debian: apt-get install isync)' };
      return { version: versionOf([bin, '--version']) ?? 'mbsync (version unknown)' };
    },
    setup:
      'one channel, Far = source, Near = destination, both IMAP: `Patterns *`, `Create Near`, `Sync Pull`, `Expunge None`, `Remove None`, `CopyArrivalDate yes`, `SyncState DIR/`, `AuthMechs LOGIN` (plain connection), `SSLType None`; other settings default',
    commands: (ctx) => {
      const config = join(ctx.work, 'mbsyncrc');
      const account = (name: string, port: number, user: string): string =>
        `IMAPAccount ${name}\nHost 127.0.0.1\nPort ${port}\nUser ${user}\nPass ${PASSWORD}\nSSLType None\nAuthMechs LOGIN\n\nIMAPStore ${name}\nAccount ${name}\n\n`;
      mkdirSync(join(ctx.work, 'state'), { recursive: true });
      writeFileSync(
        config,
        account('far', ctx.sourcePort, 'src') +
          account('near', ctx.destinationPort, ctx.user) +
          `Channel peers\nFar :far:\nNear :near:\nPatterns *\nCreate Near\nSync Pull\nExpunge None\nRemove None\nCopyArrivalDate yes\nSyncState ${join(ctx.work, 'state')}/\n`,
      );
      const argv = ['mbsync', '-c', config, '-a'];
      return { copy: argv, rerun: argv, cwd: ctx.work };
    },
  },
  offlineimap: {
    name: 'offlineimap',
    kind: 'offlineimap',
    probe: () => {
      const bin = which('offlineimap');
      if (!bin) return { absent: 'offlineimap not installed (Debian: apt-get install offlineimap3)' };
      return { version: `offlineimap ${versionOf([bin, '--version']) ?? '(version unknown)'}` };
    },
    setup:
      'one account, remote repository = source (IMAP, `readonly = True`), local repository = destination (IMAP), `ssl = no`, `starttls = no`, `ui = basic`, metadata in a temp dir; other settings default (`maxconnections` unset: offlineimap3 then syncs 2 folders at a time; folders created)',
    commands: (ctx) => {
      const config = join(ctx.work, 'offlineimaprc');
      const repository = (name: string, port: number, user: string, extra: string): string =>
        `[Repository ${name}]\ntype = IMAP\nremotehost = 127.0.0.1\nremoteport = ${port}\nremoteuser = ${user}\nremotepass = ${PASSWORD}\nssl = no\nstarttls = no\n${extra}\n`;
      writeFileSync(
        config,
        `[general]\naccounts = peers\nmetadata = ${join(ctx.work, 'metadata')}\nui = basic\n\n[Account peers]\nremoterepository = source\nlocalrepository = destination\n\n` +
          repository('source', ctx.sourcePort, 'src', 'readonly = True\n') +
          repository('destination', ctx.destinationPort, ctx.user, ''),
      );
      const argv = ['offlineimap', '-c', config, '-o'];
      return { copy: argv, rerun: argv, cwd: ctx.work, env: { HOME: ctx.work } };
    },
  },
  'doveadm-import': {
    name: 'doveadm-import',
    kind: 'doveadm-import',
    isLocal: true,
    rerunLabel: 'not incremental: a second import copies everything again',
    probe: () => {
      if (!which('doveadm')) return { absent: 'doveadm not installed' };
      return { version: `doveadm import, Dovecot ${versionOf(['dovecot', '--version']) ?? '?'}` };
    },
    setup:
      "the destination's own config: `doveadm -c DEST.conf import -u dstN maildir:SOURCE_MAILDIR \"\" all` (reads the source's maildir files directly, writes the destination's; no IMAP)",
    commands: (ctx) => ({
      copy: ['doveadm', '-c', ctx.destination.configPath, 'import', '-u', ctx.user, `maildir:${ctx.source.mailRoot('src')}`, '', 'all'],
      cwd: ctx.work,
    }),
  },
};

interface Verdict {
  /** diffMail finds nothing: every message with its bytes, flags, keywords and INTERNALDATE, nothing else. */
  identical: boolean;
  /** Source messages not reproduced exactly (missing, or bytes, flags or date differ). */
  notIdentical: number;
  missing: number;
  /** Arrived (paired by Message-ID) with other bytes. */
  bytes: number;
  /** Arrived with other flags or keywords. */
  flags: number;
  /** Arrived with another INTERNALDATE. */
  dates: number;
  /** Messages on the destination paired with no source message (duplicates, strays). */
  extra: number;
  /** diffMail's first block, shortened. */
  sample?: string;
  /** For bytes that differ: what changed in one such message. */
  byteDifference?: string;
  /** Up to three examples of flags or dates that differ. */
  examples: string[];
}

/**
 * Pairs each source message with one on the destination, same folder: the same bytes first,
 * then the same Message-ID (so a copy with an added header still counts as arrived, and its
 * flags and date are still judged). diffMail gives the overall yes/no.
 */
const verdictOf = (folders: CorpusFolder[], expected: MailSet, actual: AccountSnapshot): Verdict => {
  const verdict: Verdict = { identical: diffMail(expected, actual).length === 0, notIdentical: 0, missing: 0, bytes: 0, flags: 0, dates: 0, extra: 0, examples: [] };
  const sample = diffMail(expected, actual)[0];
  if (sample) verdict.sample = sample.split('\n').slice(0, 3).join(' / ').slice(0, 400);
  const seen = new Set<string>();
  for (const folder of folders) {
    const path = folderPath(folder.segments, '/');
    seen.add(path);
    const pool = [...(actual.folders.find((f) => f.path === path)?.messages ?? [])];
    const take = (match: (m: (typeof pool)[number]) => boolean): (typeof pool)[number] | undefined => {
      const at = pool.findIndex(match);
      return at < 0 ? undefined : pool.splice(at, 1)[0];
    };
    const wanted = folder.messages.map((m) => ({ key: messageKeyOf(m), messageId: messageIdOf(m.raw) }));
    const unpaired: typeof wanted = [];
    const judge = (w: (typeof wanted)[number], got: (typeof pool)[number]): void => {
      const isBytes = got.sha256 !== w.key.sha256;
      const isFlags = got.flags.join(' ') !== w.key.flags.join(' ');
      const isDate = got.internalDate !== w.key.internalDate;
      if (isBytes) verdict.bytes++;
      if (isFlags) verdict.flags++;
      if (isDate) verdict.dates++;
      if ((isFlags || isDate) && verdict.examples.length < 3)
        verdict.examples.push(`${isFlags ? `flags [${w.key.flags.join(' ')}] -> [${got.flags.join(' ')}]` : ''}${isFlags && isDate ? ', ' : ''}${isDate ? `INTERNALDATE ${w.key.internalDate} -> ${got.internalDate}` : ''}`);
      if (isBytes || isFlags || isDate) verdict.notIdentical++;
    };
    for (const w of wanted) {
      const got = take((m) => m.sha256 === w.key.sha256);
      if (got) judge(w, got);
      else unpaired.push(w);
    }
    for (const w of unpaired) {
      const got = w.messageId === undefined ? undefined : take((m) => m.messageId === w.messageId);
      if (got) judge(w, got);
      else {
        verdict.missing++;
        verdict.notIdentical++;
      }
    }
    verdict.extra += pool.length;
  }
  for (const f of actual.folders) if (!seen.has(f.path)) verdict.extra += f.messages.length;
  return verdict;
};

const messageIdOf = (raw: Buffer): string | undefined => headerValue(parseHeaderFields(raw.subarray(0, headerBlockEnd(raw))), 'message-id');

/**
 * How one destination message whose bytes differ from the source's differs: the first message
 * of the destination with a Message-ID of the corpus but other bytes is read back, and its
 * header lines and body compared with the original's.
 */
const explainByteDifference = async (account: ImapTestAccount, snapshot: AccountSnapshot, folders: CorpusFolder[]): Promise<string | undefined> => {
  const byMessageId = new Map<string, Buffer>();
  const known = new Set<string>();
  for (const folder of folders)
    for (const m of folder.messages) {
      const id = messageIdOf(m.raw);
      if (id) byMessageId.set(id, m.raw);
      known.add(createHash('sha256').update(m.raw).digest('hex'));
    }
  for (const folder of snapshot.folders) {
    const changed = folder.messages.find((m) => !known.has(m.sha256) && m.messageId !== undefined && byMessageId.has(m.messageId));
    if (!changed) continue;
    const original = byMessageId.get(changed.messageId as string) as Buffer;
    const client = await openTestClient(account);
    try {
      await client.mailboxOpen(folder.path, { readOnly: true });
      const fetched = await client.fetchOne(String(changed.uid), { source: true }, { uid: true });
      const copy = fetched ? fetched.source : undefined;
      if (!copy) return undefined;
      const headerLines = (raw: Buffer): string[] => raw.subarray(0, headerBlockEnd(raw)).toString('latin1').split('\r\n').filter(Boolean);
      const a = headerLines(original);
      const b = headerLines(copy);
      const added = b.filter((line) => !a.includes(line));
      const removed = a.filter((line) => !b.includes(line));
      const sameBody = copy.subarray(headerBlockEnd(copy)).equals(original.subarray(headerBlockEnd(original)));
      const show = (lines: string[]): string => (lines.length ? lines.slice(0, 3).map((l) => `\`${l.slice(0, 80)}\``).join(', ') : 'none');
      return `bytes: ${copy.length - original.length >= 0 ? '+' : ''}${copy.length - original.length} B; header lines added ${show(added)}, removed ${show(removed)}; body ${sameBody ? 'identical' : 'differs'}`;
    } finally {
      await client.logout().catch(() => client.close());
    }
  }
  return undefined;
};

interface RunResult {
  copy: TimedRun;
  /** CPU seconds each Dovecot spent during the copy. */
  sourceCpu: number;
  destinationCpu: number;
  rerun?: TimedRun;
  /** Messages on the destination after the copy (for a run stopped at the timeout). */
  messagesDone: number;
  bytesDone: number;
  verdict?: Verdict;
  sourceChanged: boolean;
}

/** Messages and bytes (vsize) on a destination account, as Dovecot counts them. */
const accountTotals = async (server: DovecotServer, user: string): Promise<{ messages: number; bytes: number }> => {
  try {
    const out = await server.doveadm(['mailbox', 'status', '-u', user, '-t', 'messages vsize', '*']);
    return { messages: Number(/messages=(\d+)/.exec(out)?.[1] ?? 0), bytes: Number(/vsize=(\d+)/.exec(out)?.[1] ?? 0) };
  } catch {
    return { messages: 0, bytes: 0 };
  }
};

const main = async (): Promise<void> => {
  const wanted = selected.flatMap((name) => (name === 'mailferry' ? mailferryBuilds.map((b) => mailferryTool(b.label, b.dist, b.env)) : [tools[name]]));
  const present: { tool: Tool; version: string }[] = [];
  const absent: { tool: Tool; reason: string }[] = [];
  for (const tool of wanted) {
    const probe = tool.probe();
    if ('absent' in probe) {
      absent.push({ tool, reason: probe.absent });
      log(`skipping ${tool.name}: ${probe.absent}`);
    } else present.push({ tool, version: probe.version });
  }
  if (present.some((p) => p.tool.isMailferry) && mailferryBuilds.some((b) => !b.dist) && !values['no-build']) {
    log('compiling Mailferry into .tmp/peers-dist');
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.json'), '--outDir', DIST], { stdio: 'inherit', cwd: ROOT });
  }

  const folders: CorpusFolder[] =
    corpusKind === 'big-folder' ? bigFolderCorpus(messageCount) : corpusKind === 'one-folder' ? oneFolderCorpus(messageCount) : standardCorpus(messageCount);
  const totalMessages = folders.reduce((n, f) => n + f.messages.length, 0);
  const totalBytes = corpusBytes(folders);
  log(`${totalMessages} messages, ${(totalBytes / 1e6).toFixed(1)} MB in ${folders.length} folders; ${runs} run(s) of ${present.map((p) => p.tool.name).join(', ')}`);

  const servers: DovecotServer[] = [];
  const proxies: LatencyProxy[] = [];
  const workRoot = mkdtempSync(join(tmpdir(), 'mf-peers-'));
  const logRoot = values['keep-logs'] ? resolve(values['keep-logs']) : join(workRoot, 'logs');
  mkdirSync(logRoot, { recursive: true });
  const results = new Map<string, RunResult[]>();
  /** A user name for a tool's run (tool names may hold spaces). */
  const userOf = (tool: Tool, run: number): string => `${tool.name.replace(/[^A-Za-z0-9]/g, '')}${run + 1}`;
  try {
    const source = await startDovecot({ users: [{ name: 'src', password: PASSWORD }], rawlog: false });
    servers.push(source);
    const users = present.flatMap(({ tool }) => Array.from({ length: runs }, (_, r) => ({ name: userOf(tool, r), password: PASSWORD })));
    const destination = await startDovecot({ users: users.length ? users : [{ name: 'unused', password: PASSWORD }], rawlog: false });
    servers.push(destination);
    log('filling the source');
    writeMaildir(source.mailRoot('src'), folders);
    // Warm up: Dovecot builds its index, the files go into the page cache.
    await source.doveadm(['mailbox', 'status', '-u', 'src', 'messages vsize', '*']);
    const sourceFiles = snapshotMaildirFiles(source.mailRoot('src'));

    let sourcePort = source.port;
    let destinationPort = destination.port;
    if (latencyMs > 0) {
      const a = await startLatencyProxy(source.port, latencyMs);
      const b = await startLatencyProxy(destination.port, latencyMs);
      proxies.push(a, b);
      sourcePort = a.port;
      destinationPort = b.port;
    }
    const expected = expectedFromCorpus(folders, '/');

    for (let r = 0; r < runs; r++) {
      for (const { tool } of present) {
        const user = userOf(tool, r);
        const work = join(workRoot, user);
        mkdirSync(work, { recursive: true });
        const ctx: RunContext = { user, work, sourcePort, destinationPort, source, destination };
        const { copy: copyArgv, rerun: rerunArgv, cwd, env } = tool.commands(ctx);
        const outputFile = join(logRoot, `${user}.log`);
        log(`run ${r + 1}/${runs}: ${tool.name} copy`);
        const cpuBefore = [dovecotCpuSeconds(source.dir), dovecotCpuSeconds(destination.dir)] as const;
        const copy = tool.isMailferry ? await runMailferry(copyArgv, { cwd, env, outputFile }) : await runTimed(copyArgv, { cwd, env, outputFile });
        await Promise.all([waitForSessionsEnded(source.dir), waitForSessionsEnded(destination.dir)]);
        const sourceCpu = dovecotCpuSeconds(source.dir) - cpuBefore[0];
        const destinationCpu = dovecotCpuSeconds(destination.dir) - cpuBefore[1];
        const done = await accountTotals(destination, user);
        log(
          `run ${r + 1}/${runs}: ${tool.name} ${(copy.wallMs / 1000).toFixed(2)} s, exit ${copy.exitCode}${copy.timedOut ? ' (killed at the timeout)' : ''}, ${done.messages} messages on the destination`,
        );
        if (copy.exitCode !== 0) log(`${tool.name} said:\n${copy.outputTail}`);
        let rerun: TimedRun | undefined;
        if (rerunArgv && !copy.timedOut) {
          rerun = tool.isMailferry ? await runMailferry(rerunArgv, { cwd, env, outputFile }) : await runTimed(rerunArgv, { cwd, env, outputFile });
          log(`run ${r + 1}/${runs}: ${tool.name} re-run ${(rerun.wallMs / 1000).toFixed(2)} s, exit ${rerun.exitCode}${rerun.timedOut ? ' (killed at the timeout)' : ''}`);
          if (rerun.exitCode !== 0) log(`${tool.name} re-run said:\n${rerun.outputTail}`);
        }
        for (const file of ['mbsyncrc', 'offlineimaprc']) if (existsSync(join(work, file))) copyFileSync(join(work, file), join(logRoot, `${user}.${file}`));
        let verdict: Verdict | undefined;
        if (!copy.timedOut) {
          const snapshot = await snapshotAccount(destination.account(user));
          verdict = verdictOf(folders, expected, snapshot);
          if (verdict.bytes > 0) verdict.byteDifference = await explainByteDifference(destination.account(user), snapshot, folders);
          log(`run ${r + 1}/${runs}: ${tool.name} identical: ${verdict.identical ? 'yes' : `no (${verdict.notIdentical} messages differ, ${verdict.extra} extra)`}`);
        }
        const after = snapshotMaildirFiles(source.mailRoot('src'));
        const sourceChanged = after.size !== sourceFiles.size || [...sourceFiles].some(([key, f]) => after.get(key)?.info !== f.info || after.get(key)?.sha256 !== f.sha256);
        if (sourceChanged) log(`${tool.name} changed the source's maildir`);
        results.set(tool.name, [...(results.get(tool.name) ?? []), { copy, rerun, sourceCpu, destinationCpu, messagesDone: done.messages, bytesDone: done.bytes, verdict, sourceChanged }]);
        // The copies add up to gigabytes; the verdict is taken, the mail is no longer needed.
        rmSync(join(destination.mailRoot(user), '..'), { recursive: true, force: true });
        mkdirSync(join(destination.mailRoot(user), '..'));
        execFileSync('chown', ['65534:65534', join(destination.mailRoot(user), '..')]);
      }
    }

    const lines = [
      `Same machine, same corpus (${corpusKind}): ${totalMessages} messages, ${(totalBytes / 1e6).toFixed(0)} MB in ${folders.length} folder(s), ${latencyMs ? `${latencyMs} ms added each way` : 'loopback'}; median of ${runs} run(s), the range in brackets.`,
      '',
      '| tool | wall | msgs/s | MB/s | peak RSS | no-op re-run | CPU s: tool / source / destination Dovecot | msgs/s first / last 10% | identical (bytes, flags, keywords, INTERNALDATE) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ];
    const notes: string[] = [];
    for (const { tool, version } of present) {
      const rs = results.get(tool.name) ?? [];
      const finished = rs.filter((x) => !x.copy.timedOut);
      const timedOut = rs.filter((x) => x.copy.timedOut);
      const label = `${tool.name}${tool.isLocal && latencyMs ? ' (local files, no link)' : ''}`;
      if (finished.length > 0) {
        const wall = median(finished.map((x) => x.copy.wallMs / 1000)) as number;
        const rerun = median(finished.flatMap((x) => (x.rerun ? [x.rerun.wallMs / 1000] : [])));
        const verdicts = finished.map((x) => x.verdict).filter((v): v is Verdict => v !== undefined);
        const worst = verdicts.reduce<Verdict | undefined>((w, v) => (!w || v.notIdentical + v.extra > w.notIdentical + w.extra ? v : w), undefined);
        const identical = !worst
          ? '—'
          : worst.identical
            ? 'yes'
            : `no: ${worst.notIdentical} of ${totalMessages} differ (${[
                worst.missing ? `${worst.missing} missing` : '',
                worst.bytes ? `${worst.bytes} bytes` : '',
                worst.flags ? `${worst.flags} flags/keywords` : '',
                worst.dates ? `${worst.dates} dates` : '',
              ]
                .filter(Boolean)
                .join(', ')})${worst.extra ? `, ${worst.extra} extra` : ''}`;
        const exits = [...new Set(finished.map((x) => x.copy.exitCode))];
        const range = (xs: number[], digits: number): string => (xs.length > 1 ? ` (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})` : '');
        const walls = finished.map((x) => x.copy.wallMs / 1000);
        const reruns = finished.flatMap((x) => (x.rerun ? [x.rerun.wallMs / 1000] : []));
        const rerunText = rerun === undefined ? `— (${tool.rerunLabel ?? 'not run'})` : `${fmt(rerun, 2)} s${range(reruns, 2)}`;
        const rss = finished.map((x) => (x.copy.peakRssKb ?? NaN) / 1024);
        const cpu = `${fmt(median(finished.map((x) => x.copy.cpuSeconds ?? NaN)), 1)} / ${fmt(median(finished.map((x) => x.sourceCpu)), 1)} / ${fmt(median(finished.map((x) => x.destinationCpu)), 1)}`;
        const edges = tool.isMailferry ? `${fmt(median(finished.map((x) => x.copy.first ?? NaN)), 0)} / ${fmt(median(finished.map((x) => x.copy.last ?? NaN)), 0)}` : '—';
        lines.push(
          `| ${label}${exits.some((e) => e !== 0) ? ` (exit ${exits.join('/')})` : ''} | ${fmt(wall, 2)} s${range(walls, 2)} | ${fmt(totalMessages / wall, 0)} | ${fmt(totalBytes / 1e6 / wall, 1)} | ${fmt(median(rss), 0)} MB${range(rss, 0)} | ${rerunText} | ${cpu} | ${edges} | ${identical} |`,
        );
        notes.push(
          `- ${tool.name}: ${version}. Runs: ${rs
            .map((x) => `${(x.copy.wallMs / 1000).toFixed(2)} s / ${fmt((x.copy.peakRssKb ?? NaN) / 1024, 0)} MB / re-run ${x.rerun ? `${(x.rerun.wallMs / 1000).toFixed(2)} s` : '—'}${x.copy.exitCode !== 0 ? ` / exit ${x.copy.exitCode}` : ''}${x.rerun && x.rerun.exitCode !== 0 ? ` / re-run exit ${x.rerun.exitCode}` : ''}`)
            .join('; ')}.${worst?.sample ? ` First difference: ${worst.sample}` : ''}${worst?.byteDifference ? `. One message whose bytes differ: ${worst.byteDifference}` : ''}${worst?.examples.length ? `. Examples: ${worst.examples.join('; ')}` : ''}${rs.some((x) => x.sourceChanged) ? ' It CHANGED the source maildir.' : ''}`,
        );
      }
      for (const x of timedOut) {
        const seconds = x.copy.wallMs / 1000;
        lines.push(
          `| ${label}, stopped at ${fmt(seconds / 60, 0)} min with ${x.messagesDone} of ${totalMessages} msgs | (> ${fmt(seconds, 0)} s) | ${fmt(x.messagesDone / seconds, 1)} | ${fmt(x.bytesDone / 1e6 / seconds, 2)} | ${fmt((x.copy.peakRssKb ?? NaN) / 1024, 0)} MB | — | — | — | — |`,
        );
        if (finished.length === 0) notes.push(`- ${tool.name}: ${version}. Killed at the ${fmt(timeoutMs / 60_000, 0)}-minute limit; rate is what it reached by then.`);
      }
    }
    for (const { tool, reason } of absent) notes.push(`- ${tool.name}: skipped, ${reason}`);
    lines.push('', ...notes, '', 'Set-ups:', ...present.map(({ tool }) => `- ${tool.name}: ${tool.setup}`), '');
    process.stdout.write(lines.join('\n'));
  } finally {
    for (const p of proxies) await p.stop();
    for (const s of servers) await s.stop();
    rmSync(workRoot, { recursive: true, force: true });
  }
};

main().catch((e: unknown) => {
  process.stderr.write(`peers bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 1;
});
