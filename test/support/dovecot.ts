/**
 * A private Dovecot 2.3 for tests: one per test (or per file), started from its own config file in
 * a fresh temp folder, listening on free high ports of 127.0.0.1 only. No systemd, nothing shared
 * with a system Dovecot.
 *
 * How it runs and how it is stopped (the part that must never leave processes behind):
 * - `dovecot -F` runs in the foreground under a tiny `sh` watchdog, spawned `detached` so the
 *   watchdog, the master and every Dovecot child share one process group of their own.
 * - The watchdog blocks reading its stdin, a pipe from this process. When this process ends for
 *   any reason (normal exit, a test runner's SIGTERM, even SIGKILL) the pipe closes, `read`
 *   returns, and the watchdog SIGKILLs the whole group.
 * - `stop()` SIGKILLs the group at once and waits until no member is left. A graceful SIGTERM
 *   costs over a second (the master sleeps 1 s for its log process on shutdown), too slow for a
 *   fresh server per test; `stop({ graceful: true })` first SIGTERMs the imap processes, for
 *   tests that want the server's own `* BYE Server shutting down.` on open connections. SIGKILL loses no mail: Dovecot writes a maildir message to
 *   tmp/ and renames it into place, and it repairs its index files on the next start.
 * - `startDovecot` waits (bounded) until the IMAP port greets with `* OK`.
 */
import { sweepStaleDirs } from './stale-dirs.js';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, chownSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PasswordCredentials, Security } from '../../src/contract/account.js';
import type { SpecialUse } from '../../src/contract/plan.js';
import type { ImapTestAccount } from './mail-snapshot.js';

const execFileAsync = promisify(execFile);

/** How long `startDovecot` waits for the port to greet before giving up. */
const STARTUP_TIMEOUT_MS = 10_000;
/** How long `stop` waits for every process of the instance to be gone. */
const STOP_TIMEOUT_MS = 10_000;
/** Graceful stop: how long imap processes get after SIGTERM to say BYE before the group is killed. */
const GRACEFUL_STOP_TIMEOUT_MS = 3_000;
const DOVEADM_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 10;
/** Attempts with fresh ports when another process took a port between probing and binding. */
const PORT_ATTEMPTS = 3;

/** The unprivileged user the mail files belong to (Debian's `nobody`). */
const MAIL_UID = 65534;
const MAIL_GID = 65534;

/** Overridable with MAILFERRY_DOVECOT_BIN (the harness's own test uses it to check the missing-binary error). */
const DOVECOT_BIN = '/usr/sbin/dovecot';
const DOVECOT_IMAP_BIN = '/usr/lib/dovecot/imap';

export interface DovecotUser {
  name: string;
  password: string;
}

export interface DovecotOptions {
  users: DovecotUser[];
  /** Self-signed certificate (CN=localhost, SAN DNS:localhost + IP:127.0.0.1): an implicit-TLS port and STARTTLS on the plain one. */
  tls?: boolean;
  /** With `tls`: refuse LOGIN before STARTTLS on the plain port (`disable_plaintext_auth = yes`). */
  requireTls?: boolean;
  /** Per-user storage limit in bytes (quota plugin, `count` backend, GETQUOTA/GETQUOTAROOT via imap_quota). */
  quotaBytes?: number;
  /**
   * Largest message APPEND accepts (`quota_max_mail_size`). A bigger one gets
   * `NO [LIMIT] Mail size is larger than the maximum size allowed by server configuration`.
   * Dovecot 2.3 does not advertise APPENDLIMIT for it, so a client learns the limit only by refusal.
   */
  maxMessageBytes?: number;
  /** Hierarchy separator of the mail namespace. Default `/`. */
  separator?: '/' | '.';
  /**
   * Maildir layout. `maildir++` (the default, as most Dovecots run) keeps folders as `.Name`
   * directories and so refuses `.` in names when the separator is `/`; `fs` allows it.
   */
  layout?: 'maildir++' | 'fs';
  /** Namespace prefix, e.g. `INBOX.` (with separator `.`) to look like Courier. Default none. */
  prefix?: string;
  /**
   * Folder names (relative to the namespace) and the special-use attribute LIST reports for
   * them. They are not created automatically. Default: Drafts, Sent, Trash, Junk, Archive.
   * Pass `{}` for a server without special-use folders.
   */
  specialUse?: Record<string, SpecialUse>;
  /**
   * `mail_max_userip_connections`. Default 100 (Dovecot's own default of 10 is too tight for
   * parallel tests). One login too many is refused with `NO [LIMIT] Maximum number of connections
   * from user+IP exceeded`; note that imapflow then sets `authenticationFailed: true` as well, so
   * classify by `serverResponseCode` first or a busy server looks like a wrong password.
   */
  maxConnectionsPerUser?: number;
  /**
   * Capabilities to hide after login (e.g. `UIDPLUS`, `CONDSTORE`, `STATUS=SIZE`, `SPECIAL-USE`).
   * Done with `imap_capability`, which replaces the advertised list only: Dovecot still honours
   * the commands and still sends [APPENDUID] if asked to APPEND. A client that reads the list
   * (imapflow does) behaves as against a server without them.
   */
  disableCapabilities?: string[];
  /**
   * Capabilities to advertise on top of Dovecot's own (`imap_capability = +…`), for what 2.3
   * enforces but does not say (`APPENDLIMIT=N` with `maxMessageBytes`) or accepts but ignores
   * (`CREATE-SPECIAL-USE`).
   */
  addCapabilities?: string[];
  /** Record every IMAP session's client side (`rawlog_dir`) for `clientCommands()`. Default true. */
  rawlog?: boolean;
  /**
   * Also accept OAuth2 tokens (AUTHENTICATE XOAUTH2 and OAUTHBEARER, both with SASL-IR): a second
   * passdb (`driver = oauth2`) checks every token by introspection at `introspectionUrl` (which
   * may carry the introspecting client's credentials) and takes the user name from `sub`.
   * Passwords keep working (PLAIN, LOGIN) for the tests' own loaders.
   */
  oauth2?: { introspectionUrl: string; mechanisms?: ('xoauth2' | 'oauthbearer')[] };
  /** Appended verbatim to the generated dovecot.conf. */
  extraConfig?: string;
}

export interface StopOptions {
  /** First SIGTERM the imap processes, so each client gets `* BYE Server shutting down.`. Default false: SIGKILL at once. */
  graceful?: boolean;
}

export interface DovecotServer {
  readonly host: '127.0.0.1';
  /** Plain IMAP port (offers STARTTLS when `tls` was asked for). */
  readonly port: number;
  /** Implicit-TLS (imaps) port, when `tls` was asked for. */
  readonly tlsPort?: number;
  /** The server certificate (PEM), to give a client as its CA. */
  readonly certPem?: string;
  /** SHA-256 of the certificate, uppercase hex, colon-separated, as Node's `cert.fingerprint256`. */
  readonly certFingerprint?: string;
  /** The instance's temp folder (config, log, mail). Removed by `stop()`. */
  readonly dir: string;
  readonly configPath: string;
  readonly users: readonly DovecotUser[];
  /** Whether the server is running now. */
  readonly isRunning: boolean;
  /** Connection settings for the test helpers (corpus, snapshot). Default user: the first one; default security: `plain`. */
  account(user?: string, security?: Security): ImapTestAccount;
  /**
   * Credentials in the app's contract shape. `allowPlaintext` is set for `plain`. With `tls`, the
   * self-signed certificate is pinned unless `pin: false` (to test refusal), for `plain` too
   * (a plain account uses the STARTTLS such a server offers).
   */
  credentials(user?: string, security?: Security, opts?: { pin?: boolean }): PasswordCredentials;
  /** Runs `doveadm -c <config> ...args` and returns its stdout. */
  doveadm(args: string[]): Promise<string>;
  /**
   * The user's maildir root (INBOX's cur/new/tmp live here with the maildir++ layout). Dovecot
   * stores messages with LF line endings (filename `S=` is that size, `W=` the CRLF size IMAP
   * reports) and puts appended messages without flags in new/.
   */
  mailRoot(user: string): string;
  /**
   * Client lines of every post-login session of `user` so far (from rawlog), in session order.
   * Literal payloads (message bodies) are left out; each entry is one command line as sent.
   */
  clientCommands(user?: string): string[];
  /** The last lines of the instance's log, for failure messages. */
  logTail(lines?: number): string;
  stop(opts?: StopOptions): Promise<void>;
  /** Stops and starts again with the same config, data and ports (mail and UIDVALIDITY survive). */
  restart(opts?: StopOptions): Promise<void>;
}

const DEFAULT_SPECIAL_USE: Record<string, SpecialUse> = {
  Drafts: '\\Drafts',
  Sent: '\\Sent',
  Trash: '\\Trash',
  Junk: '\\Junk',
  Archive: '\\Archive',
};

/** Every live instance's process group, so process exit can kill what a test forgot. */
const liveGroups = new Set<number>();
/** Every instance folder this process made and has not removed yet. */
const ownDirs = new Set<string>();
let exitHookInstalled = false;

const DIR_PREFIX = 'mf-dovecot-';

const installExitHook = (): void => {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    liveGroups.clear();
    if (!process.env.MAILFERRY_KEEP_DOVECOT) for (const dir of ownDirs) rmSync(dir, { recursive: true, force: true });
  });
  // Their watchdog already killed Dovecot for killed test processes; only folders remain.
  if (!process.env.MAILFERRY_KEEP_DOVECOT) sweepStaleDirs(DIR_PREFIX);
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Free TCP ports on 127.0.0.1, found by binding port 0 (all held at once so they differ). */
export const findFreePorts = async (count: number): Promise<number[]> => {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<import('node:net').Server>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
};

/** Resolves true once `port` accepts a connection and sends a line starting `* OK`. */
const greets = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) done(data.startsWith('* OK'));
    });
  });

/** PIDs of the live (non-zombie) processes in a process group, from /proc. */
const groupMembers = (pgid: number): number[] => {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue;
    }
    // Fields after the command name, which is in parentheses and may contain spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const pgrp = Number(rest[2]);
    if (pgrp === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
  }
  return members;
};

/** A process's title (Dovecot renames its children, e.g. `dovecot-mailferry-test-143/imap`). */
const processTitle = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0] ?? '';
  } catch {
    return '';
  }
};

const waitForGroupGone = async (pgid: number, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (groupMembers(pgid).length === 0) return true;
    await sleep(POLL_INTERVAL_MS);
  }
  return groupMembers(pgid).length === 0;
};

let certPromise: Promise<{ certPath: string; keyPath: string; certPem: string; fingerprint: string }> | undefined;

/**
 * One self-signed EC certificate per test process (generation is quick, but there is no need to
 * repeat it); CN=localhost, SAN DNS:localhost + IP:127.0.0.1. Also for hostile-imap.ts's STARTTLS.
 */
export const selfSignedCert = (): Promise<{ certPath: string; keyPath: string; certPem: string; fingerprint: string }> => {
  certPromise ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mf-cert-'));
    const certPath = join(dir, 'cert.pem');
    const keyPath = join(dir, 'key.pem');
    await execFileAsync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '3650', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      { timeout: DOVEADM_TIMEOUT_MS },
    );
    chmodSync(dir, 0o755);
    chmodSync(certPath, 0o644);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const certPem = readFileSync(certPath, 'utf8');
    return { certPath, keyPath, certPem, fingerprint: new X509Certificate(certPem).fingerprint256 };
  })();
  return certPromise;
};

const quoteConf = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

const USER_NAME_RE = /^[A-Za-z0-9._@+-]+$/;

interface ConfigInput {
  dir: string;
  options: DovecotOptions;
  port: number;
  tlsPort?: number;
  cert?: { certPath: string; keyPath: string };
  imapCapability?: string;
}

const buildConfig = ({ dir, options, port, tlsPort, cert, imapCapability }: ConfigInput): string => {
  const separator = options.separator ?? '/';
  const layout = options.layout === 'fs' ? ':LAYOUT=fs' : '';
  const specialUse = options.specialUse ?? DEFAULT_SPECIAL_USE;
  const mailboxes = Object.entries(specialUse)
    .map(([name, use]) => `  mailbox ${quoteConf(name)} {\n    special_use = ${use}\n  }`)
    .join('\n');
  const quota = options.quotaBytes !== undefined || options.maxMessageBytes !== undefined;
  const quotaPlugin = [
    '  quota = count:User quota',
    '  quota_vsizes = yes',
    options.quotaBytes !== undefined ? `  quota_rule = *:storage=${Math.floor(options.quotaBytes)}B` : '',
    options.maxMessageBytes !== undefined ? `  quota_max_mail_size = ${Math.floor(options.maxMessageBytes)}B` : '',
  ]
    .filter(Boolean)
    .join('\n');
  const rawlog = options.rawlog ?? true;
  const oauthMechanisms = (options.oauth2?.mechanisms ?? ['xoauth2', 'oauthbearer']).join(' ');
  return `# Generated by test/support/dovecot.ts for one test instance.
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
debug_log_path = ${dir}/dovecot.log
instance_name = mailferry-test-${port}
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 100
mail_uid = ${MAIL_UID}
mail_gid = ${MAIL_GID}
mail_location = maildir:~/Maildir${layout}
# Tests need no crash durability from the server, only speed.
mail_fsync = never
auth_mechanisms = plain login${options.oauth2 ? ` ${oauthMechanisms}` : ''}
# Dovecot delays every failed login by 2 s by default; tests of a wrong password need no delay.
auth_failure_delay = 0
disable_plaintext_auth = ${options.requireTls ? 'yes' : 'no'}
${cert ? `ssl = ${options.requireTls ? 'required' : 'yes'}\nssl_cert = <${cert.certPath}\nssl_key = <${cert.keyPath}` : 'ssl = no'}
passdb {
  driver = passwd-file
${options.oauth2 ? '  mechanisms = plain login\n' : ''}  args = scheme=PLAIN ${dir}/passwd
}
${
  options.oauth2
    ? `passdb {
  driver = oauth2
  mechanisms = ${oauthMechanisms}
  args = ${dir}/dovecot-oauth2.conf.ext
}
# OAuth tests refuse tokens on purpose: without the auth penalty (a growing per-IP delay after
# a refusal, which auth_failure_delay does not cover) later logins are not slowed down.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`
    : ''
}userdb {
  driver = passwd-file
  args = ${dir}/passwd
}
namespace inbox {
  inbox = yes
  separator = ${separator}
  prefix = ${options.prefix ?? ''}
${mailboxes}
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${tlsPort ?? 0}
  }
}
${quota ? 'mail_plugins = $mail_plugins quota' : ''}
protocol imap {
  mail_max_userip_connections = ${options.maxConnectionsPerUser ?? 100}
${quota ? '  mail_plugins = $mail_plugins imap_quota' : ''}
${rawlog ? `  rawlog_dir = ${dir}/rawlog/%u` : ''}
${imapCapability !== undefined ? `  imap_capability = ${imapCapability}` : ''}
}
${quota ? `plugin {\n${quotaPlugin}\n}` : ''}
${options.extraConfig ?? ''}
`;
};

/**
 * The post-login capability list of a config, read by running Dovecot's `imap` binary
 * pre-authenticated on stdin (no server needed), in a scratch home so no user's mail is touched.
 */
const probeCapabilities = async (dir: string, configPath: string): Promise<string[]> => {
  const home = join(dir, 'capability-probe');
  mkdirSync(home, { recursive: true });
  chownSync(home, MAIL_UID, MAIL_GID);
  const child = spawn('setpriv', [`--reuid=${MAIL_UID}`, `--regid=${MAIL_GID}`, '--clear-groups', DOVECOT_IMAP_BIN, '-c', configPath], {
    env: { USER: 'capability-probe', HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')));
  child.stdin.end('a LOGOUT\r\n');
  const timer = setTimeout(() => child.kill('SIGKILL'), DOVEADM_TIMEOUT_MS);
  await new Promise<void>((resolve) => child.once('close', () => resolve()));
  clearTimeout(timer);
  const match = /^\* PREAUTH \[CAPABILITY ([^\]]+)\]/m.exec(out);
  if (!match?.[1]) throw new Error(`could not read Dovecot's capabilities; imap said:\n${out}`);
  return match[1].split(' ');
};

/**
 * Parses a rawlog `.in` file into command lines, literal payloads left out. Dovecot 2.3 writes
 * each line of the stream prefixed with `<unix time>.<usecs> `, literal lines included; the
 * prefixes are removed first so literal byte counts line up with the original stream.
 */
const parseRawlogInput = (file: Buffer): string[] => {
  const chunks: Buffer[] = [];
  let pos = 0;
  while (pos < file.length) {
    const eol = file.indexOf('\n', pos);
    const end = eol < 0 ? file.length : eol + 1;
    let line = file.subarray(pos, end);
    const prefix = /^\d+\.\d+ /.exec(line.subarray(0, 32).toString('latin1'));
    if (prefix) line = line.subarray(prefix[0].length);
    chunks.push(line);
    pos = end;
  }
  const data = Buffer.concat(chunks);
  const lines: string[] = [];
  let current = '';
  pos = 0;
  while (pos < data.length) {
    const eol = data.indexOf('\n', pos);
    const end = eol < 0 ? data.length : eol;
    const line = data.subarray(pos, end).toString('utf8').replace(/\r$/, '');
    pos = end + 1;
    current += line;
    // A line ending in {N} or {N+} (or ~{N}) announces N bytes of literal that follow.
    const literal = /~?\{(\d+)\+?\}$/.exec(line);
    if (literal) {
      pos += Number(literal[1]);
      current += ' <literal>';
      continue;
    }
    if (current !== '') lines.push(current);
    current = '';
  }
  if (current !== '') lines.push(current);
  return lines;
};

/**
 * Starts a private Dovecot. Throws (never skips) when Dovecot is not installed, in CI or not.
 *
 * @example
 *   const server = await startDovecot({ users: [{ name: 'alice', password: 'pw' }] });
 *   await fillAccount(server.account('alice'), generateCorpus({ seed: 1 }));
 *   await server.stop();
 */
export const startDovecot = async (options: DovecotOptions): Promise<DovecotServer> => {
  const dovecotBin = process.env.MAILFERRY_DOVECOT_BIN ?? DOVECOT_BIN;
  if (!existsSync(dovecotBin)) {
    throw new Error(
      `Dovecot is not installed (${dovecotBin} missing). Install it with: apt-get install -y dovecot-imapd dovecot-core` +
        (process.env.CI ? ' (CI: .ci/run installs it)' : ''),
    );
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('test/support/dovecot.ts runs Dovecot as root (it switches to uid 65534 for mail); run the tests as root');
  }
  if (options.users.length === 0) throw new Error('startDovecot needs at least one user');
  for (const user of options.users) {
    if (!USER_NAME_RE.test(user.name)) throw new Error(`user name not allowed in a passwd-file: ${user.name}`);
    if (/[:\n]/.test(user.password)) throw new Error(`password for ${user.name} may not contain ':' or a newline`);
  }
  installExitHook();

  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  ownDirs.add(dir);
  // Login and mail processes run as other users and must traverse to their sockets and homes.
  chmodSync(dir, 0o755);
  for (const sub of ['run', 'state']) mkdirSync(join(dir, sub));
  const mailDir = join(dir, 'mail');
  mkdirSync(mailDir);
  chownSync(mailDir, MAIL_UID, MAIL_GID);
  for (const user of options.users) {
    const home = join(mailDir, user.name);
    mkdirSync(home);
    chownSync(home, MAIL_UID, MAIL_GID);
    if (options.rawlog ?? true) {
      const rawlogDir = join(dir, 'rawlog', user.name);
      mkdirSync(rawlogDir, { recursive: true });
      chownSync(rawlogDir, MAIL_UID, MAIL_GID);
    }
  }
  writeFileSync(
    join(dir, 'passwd'),
    options.users.map((u) => `${u.name}:{PLAIN}${u.password}:${MAIL_UID}:${MAIL_GID}::${join(mailDir, u.name)}::\n`).join(''),
    { mode: 0o644 }, // the auth process runs as the dovecot user and must read it; test passwords only
  );
  if (options.oauth2) {
    // Every login is checked with the authorization server (no cache), so a revoked or expired token is refused at once.
    writeFileSync(
      join(dir, 'dovecot-oauth2.conf.ext'),
      [
        'introspection_mode = post',
        `introspection_url = ${options.oauth2.introspectionUrl}`,
        'force_introspection = yes',
        'username_attribute = sub',
        'active_attribute = active',
        'active_value = true',
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
  }
  const configPath = join(dir, 'dovecot.conf');
  const logPath = join(dir, 'dovecot.log');
  const cert = options.tls ? await selfSignedCert() : undefined;

  let child: ChildProcess | undefined;
  let pgid = 0;
  let port = 0;
  let tlsPort: number | undefined;
  let imapCapability: string | undefined;

  const writeConfig = (): void => {
    writeFileSync(configPath, buildConfig({ dir, options, port, tlsPort, cert, imapCapability }), { mode: 0o644 });
  };

  const readLog = (): string => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };
  const logTail = (lines = 30): string => {
    const stderr = existsSync(join(dir, 'stderr.log')) ? readFileSync(join(dir, 'stderr.log'), 'utf8') : '';
    return (stderr + readLog()).trimEnd().split('\n').slice(-lines).join('\n');
  };

  /** Spawns the watchdog + master; resolves when the port greets, rejects with the log on failure. */
  const launch = async (): Promise<void> => {
    const stderrFd = openSync(join(dir, 'stderr.log'), 'a');
    const proc = spawn('/bin/sh', ['-c', `"$1" -F -c "$2" </dev/null & read _ignored; kill -KILL 0`, 'dovecot-watchdog', dovecotBin, configPath], {
      detached: true,
      stdio: ['pipe', 'ignore', stderrFd],
    });
    closeSync(stderrFd);
    if (proc.pid === undefined) throw new Error('could not spawn Dovecot');
    child = proc;
    pgid = proc.pid;
    liveGroups.add(pgid);
    // Neither the child nor its pipe may keep a test process alive; the pipe closing is the signal.
    proc.unref();
    (proc.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    proc.stdin?.on('error', () => undefined);
    let exited = false;
    proc.once('exit', () => (exited = true));

    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited || /master: Fatal:/.test(readLog())) break;
      if (await greets(port)) {
        if (tlsPort === undefined) return;
        // The imaps listener belongs to the same process, but check it accepts too.
        const accepted = await new Promise<boolean>((resolve) => {
          const s = connect(tlsPort as number, '127.0.0.1', () => {
            s.destroy();
            resolve(true);
          });
          s.on('error', () => resolve(false));
        });
        if (accepted) return;
      }
      await sleep(POLL_INTERVAL_MS);
    }
    const tail = logTail();
    await killGroup();
    throw new Error(`Dovecot did not start on 127.0.0.1:${port} within ${STARTUP_TIMEOUT_MS} ms:\n${tail}`);
  };

  const killGroup = async (): Promise<void> => {
    if (!pgid) return;
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
    // The killed master lingers as a zombie until init reaps it, and Dovecot refuses to start
    // while master.pid names a PID that kill(pid, 0) still finds.
    rmSync(join(dir, 'run', 'master.pid'), { force: true });
    const gone = await waitForGroupGone(pgid, STOP_TIMEOUT_MS);
    if (!gone) throw new Error(`Dovecot processes of group ${pgid} still alive after SIGKILL: ${groupMembers(pgid).join(', ')}`);
    liveGroups.delete(pgid);
    child?.stdin?.destroy();
    child = undefined;
    pgid = 0;
  };

  const halt = async (opts?: StopOptions): Promise<void> => {
    if (!pgid) return;
    if (opts?.graceful) {
      // Dovecot's own SIGTERM shutdown left connected imap processes running here (and the master
      // sleeps a second for its log process), so do what matters to clients directly: SIGTERM
      // makes each imap process send "* BYE Server shutting down." and exit.
      const imapPids = groupMembers(pgid).filter((pid) => processTitle(pid).endsWith('/imap'));
      for (const pid of imapPids) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      const deadline = Date.now() + GRACEFUL_STOP_TIMEOUT_MS;
      while (Date.now() < deadline && groupMembers(pgid).some((pid) => imapPids.includes(pid))) await sleep(POLL_INTERVAL_MS);
    }
    await killGroup();
  };

  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt += 1) {
    const ports = await findFreePorts(options.tls ? 2 : 1);
    port = ports[0] as number;
    tlsPort = options.tls ? ports[1] : undefined;
    imapCapability = options.addCapabilities?.length ? `+${options.addCapabilities.join(' ')}` : undefined;
    writeConfig();
    if (options.disableCapabilities?.length) {
      const hidden = new Set(options.disableCapabilities.map((c) => c.toUpperCase()));
      imapCapability = undefined;
      writeConfig();
      const all = await probeCapabilities(dir, configPath);
      imapCapability = [...all.filter((c) => !hidden.has(c.toUpperCase())), ...(options.addCapabilities ?? [])].join(' ');
      writeConfig();
    }
    try {
      await launch();
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error;
      // Only a port taken in the meantime is worth another attempt.
      if (!/Address already in use/.test(String(error))) break;
    }
  }
  if (lastError !== undefined) {
    rmSync(dir, { recursive: true, force: true });
    ownDirs.delete(dir);
    throw lastError;
  }

  const userNames = options.users.map((u) => u.name);
  const findUser = (name?: string): DovecotUser => {
    const user = name === undefined ? options.users[0] : options.users.find((u) => u.name === name);
    if (!user) throw new Error(`no such test user: ${name ?? '(none)'}; users: ${userNames.join(', ')}`);
    return user;
  };
  const portFor = (security: Security): number => {
    if (security === 'tls') {
      if (tlsPort === undefined) throw new Error('this Dovecot was started without tls: true');
      return tlsPort;
    }
    if (security === 'starttls' && !cert) throw new Error('this Dovecot was started without tls: true');
    return port;
  };

  let removed = false;
  const server: DovecotServer = {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    get tlsPort() {
      return tlsPort;
    },
    certPem: cert?.certPem,
    certFingerprint: cert?.fingerprint,
    dir,
    configPath,
    users: options.users,
    get isRunning() {
      return pgid !== 0;
    },
    account(user, security = 'plain') {
      const u = findUser(user);
      return { host: '127.0.0.1', port: portFor(security), user: u.name, password: u.password, security, ...(cert && security !== 'plain' ? { ca: cert.certPem } : {}) };
    },
    credentials(user, security = 'plain', opts) {
      const u = findUser(user);
      const pin = opts?.pin ?? true;
      return {
        host: '127.0.0.1',
        port: portFor(security),
        security,
        user: u.name,
        password: u.password,
        ...(security === 'plain' ? { allowPlaintext: true } : {}),
        // A plain account uses STARTTLS when the server offers it (this one does with `tls`): pinned too.
        ...(pin && cert ? { pinnedFingerprint: cert.fingerprint } : {}),
      };
    },
    async doveadm(args) {
      const { stdout } = await execFileAsync('doveadm', ['-c', configPath, ...args], { timeout: DOVEADM_TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024 });
      return stdout;
    },
    mailRoot(user) {
      return join(mailDir, findUser(user).name, 'Maildir');
    },
    clientCommands(user) {
      const rawlogDir = join(dir, 'rawlog', findUser(user).name);
      if (!existsSync(rawlogDir)) return [];
      // Names are <yyyymmdd-hhmmss>.<pid>.<n>.in, too coarse to order sessions of one second;
      // each file's first line carries a microsecond timestamp, which does.
      const sessions = readdirSync(rawlogDir)
        .filter((f) => f.endsWith('.in'))
        .map((f) => {
          const data = readFileSync(join(rawlogDir, f));
          const started = /^(\d+)\.(\d+) /.exec(data.subarray(0, 32).toString('latin1'));
          return { data, started: started ? Number(started[1]) * 1e6 + Number(started[2]) : 0, name: f };
        })
        .sort((a, b) => a.started - b.started || (a.name < b.name ? -1 : 1));
      return sessions.flatMap((s) => parseRawlogInput(s.data));
    },
    logTail,
    async stop(opts) {
      await halt(opts);
      if (!removed && !process.env.MAILFERRY_KEEP_DOVECOT) {
        removed = true;
        rmSync(dir, { recursive: true, force: true });
        ownDirs.delete(dir);
      }
    },
    async restart(opts) {
      if (removed) throw new Error('restart() after stop(): the instance and its mail are gone');
      await halt(opts);
      await launch();
    },
  };
  return server;
};
