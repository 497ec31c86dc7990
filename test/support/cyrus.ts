/**
 * A private Cyrus IMAP 3.6 for tests (Debian's cyrus-imapd, unpacked by
 * scripts/install-test-servers.sh and run in a private mount namespace: see server-namespace.ts).
 * One per test or per file, in a fresh temp folder, listening on a free port of 127.0.0.1.
 *
 * What it looks like to a client (the classic Cyrus layout many hosted accounts still have):
 * - `altnamespace: no`, `unixhierarchysep: no`: personal namespace `INBOX.`, separator `.`;
 *   folders are `INBOX.Name`, other users `user.NAME`.
 * - Users live in a sasldb (`saslpasswd2 -f`); each gets its mailbox `user.NAME` created over IMAP
 *   by the admin `cyrus` (a user without a mailbox has no personal namespace at all).
 * - Plain IMAP without TLS; LOGIN and AUTHENTICATE PLAIN/LOGIN allowed (`allowplaintext: yes`).
 * - It offers COMPRESS=DEFLATE, which imapflow negotiates by default (`disableCompression: false`).
 * - The admin has no mailbox, so Cyrus answers its NAMESPACE with `NIL` for the personal namespace;
 *   imapflow 2.1.2 throws on that inside connect() and the session then hangs until its socket
 *   timeout. Admin commands therefore go over a small raw client (`adminCommands`).
 * - Raw 8-bit bytes in a message's *header* are replaced by `X` on APPEND (Cyrus' default
 *   `munge8bit: yes`; the size stays the same, the bytes do not). Bodies are kept as sent.
 *   `munge8bit: false` stores headers as sent.
 * - APPEND refuses a message with bare LF line ends (`NO Message contains bare newlines`) and an
 *   empty one (`NO Zero-length message literal`); everything else (bare CR, NUL, no final CRLF)
 *   is kept byte for byte.
 * - CREATE of an existing folder: `NO Mailbox already exists`, without [ALREADYEXISTS].
 * - A failed login is answered after about 3 seconds (SASL's failure delay).
 * - Logs go to syslog only; `logs()` returns what the namespace's /dev/log received.
 */
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AccountCredentials } from '../../src/contract/account.js';
import type { ImapTestAccount } from './mail-snapshot.js';
import { MAIL_GID, MAIL_UID, TEST_SERVERS_ROOT, createNamespacedInstance, findFreePort, requireTree } from './server-namespace.js';

const execFileAsync = promisify(execFile);

const CYRUS_TREE = join(TEST_SERVERS_ROOT, 'cyrus');
const SASLPASSWD2 = '/usr/sbin/saslpasswd2';
/** The sasl realm; saslpasswd2 and imapd must agree on it (imapd uses `servername`). */
const SERVER_NAME = 'mailferry-test';
const ADMIN_USER = 'cyrus';
const ADMIN_COMMAND_TIMEOUT_MS = 10_000;
const SASLPASSWD_TIMEOUT_MS = 10_000;
/** Attempts with a fresh port when another process took it between probing and binding. */
const PORT_ATTEMPTS = 3;

const CONFIG_SUBDIRS = ['db', 'proc', 'socket', 'lock', 'log', 'msg', 'user', 'quota', 'sieve', 'ptclient', 'sync'];

/** Cyrus with `unixhierarchysep: no` takes `.` as the separator, so it cannot be in a user name. */
const USER_NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;

export interface CyrusUser {
  name: string;
  password: string;
}

export interface CyrusOptions {
  users: CyrusUser[];
  /** Cyrus' `munge8bit`: replace raw 8-bit header bytes with `X` on APPEND. Default true, as Cyrus ships. */
  munge8bit?: boolean;
  /** Lines appended verbatim to imapd.conf. */
  extraConfig?: string;
}

export interface CyrusServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The greeting line, e.g. `* OK [CAPABILITY ...] mailferry-test Cyrus IMAP 3.6.1-... server ready`. */
  readonly greeting: string;
  /** Milliseconds from spawn to the first greeting (user mailboxes created after that). */
  readonly startupMs: number;
  /** The instance's temp folder (config, spool, logs). Removed by `stop()`. */
  readonly dir: string;
  readonly users: readonly CyrusUser[];
  /** The admin (`cyrus`), for tests that need admin commands. It has no mailbox of its own. */
  readonly admin: CyrusUser;
  readonly isRunning: boolean;
  /**
   * `pid:[inode]` of the instance's PID namespace. A name only while the namespace exists: after
   * `stop()` the kernel hands the number to the next namespace created, unless something holds the
   * namespace open (its `/proc/PID/ns/pid` file; see pinPidNamespace).
   */
  readonly pidNamespace: string | undefined;
  /** Connection settings for the test helpers. Default user: the first one. Plain IMAP only. */
  account(user?: string): ImapTestAccount;
  /** Credentials in the app's contract shape (`plain`, `allowPlaintext`). */
  credentials(user?: string): AccountCredentials;
  /** Runs IMAP commands as the admin over a raw connection; resolves with each tagged reply. */
  adminCommands(commands: string[]): Promise<string[]>;
  /** The launcher's console and Cyrus' syslog messages. */
  logs(): string;
  stop(): Promise<void>;
}

const imapdConf = (dir: string, options: CyrusOptions): string => `configdirectory: ${join(dir, 'config')}
partition-default: ${join(dir, 'spool')}
defaultpartition: default
servername: ${SERVER_NAME}
cyrus_user: nobody
cyrus_group: nogroup
admins: ${ADMIN_USER}
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: ${join(dir, 'sasldb2')}
sasl_mech_list: PLAIN LOGIN
altnamespace: no
unixhierarchysep: no
virtdomains: off
hashimapspool: false
munge8bit: ${options.munge8bit === false ? 'no' : 'yes'}
${options.extraConfig ?? ''}
`;

const cyrusConf = (port: number): string => `START {
  recover cmd="ctl_cyrusdb -r"
}
SERVICES {
  imap cmd="imapd" listen="127.0.0.1:${port}" prefork=0 maxchild=200
}
EVENTS {
}
`;

/** Quotes a string for IMAP (our own generated names and passwords only: no CR/LF). */
const quote = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * A minimal IMAP client for admin commands: LOGIN, the commands, LOGOUT, one at a time.
 * imapflow cannot be used as the admin: Cyrus answers NAMESPACE with `NIL` for a user without a
 * mailbox, and imapflow 2.1.2 then throws inside its NAMESPACE handler and hangs the session.
 */
const runAdminCommands = (port: number, password: string, commands: string[]): Promise<string[]> =>
  new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const script = [`LOGIN ${ADMIN_USER} ${quote(password)}`, ...commands, 'LOGOUT'];
    const replies: string[] = [];
    let buffer = '';
    let sent = -1; // -1: waiting for the greeting
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(replies.slice(1, -1));
    };
    const timer = setTimeout(() => finish(new Error(`Cyrus admin: no reply within ${ADMIN_COMMAND_TIMEOUT_MS} ms to: ${script[sent] ?? 'greeting'}`)), ADMIN_COMMAND_TIMEOUT_MS);
    const sendNext = (): void => {
      sent += 1;
      if (sent >= script.length) return finish();
      socket.write(`A${sent} ${script[sent]}\r\n`);
    };
    socket.on('error', (error) => finish(error));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (let eol = buffer.indexOf('\r\n'); eol >= 0; eol = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        if (sent === -1) {
          if (!line.startsWith('* OK')) return finish(new Error(`Cyrus admin: unexpected greeting ${line}`));
          sendNext();
          continue;
        }
        const tag = `A${sent} `;
        if (!line.startsWith(tag)) continue;
        const reply = line.slice(tag.length);
        replies.push(reply);
        if (!reply.startsWith('OK') && sent !== script.length - 1) {
          return finish(new Error(`Cyrus admin: ${sent === 0 ? 'LOGIN' : script[sent]} -> ${reply}`));
        }
        sendNext();
      }
    });
  });

const setSaslPassword = async (sasldb: string, user: string, password: string): Promise<void> => {
  const child = execFileAsync(SASLPASSWD2, ['-p', '-c', '-f', sasldb, '-u', SERVER_NAME, user], { timeout: SASLPASSWD_TIMEOUT_MS });
  // -p: the password is read from stdin, without a trailing newline.
  child.child.stdin?.end(password);
  await child;
};

/**
 * Starts a private Cyrus with the given users, each with a `user.NAME` mailbox (INBOX).
 * Throws (never skips) when the unpacked Cyrus or saslpasswd2 is missing.
 *
 * @example
 *   const cyrus = await startCyrus({ users: [{ name: 'alice', password: 'pw' }] });
 *   const client = await openTestClient(cyrus.account('alice'));
 *   await cyrus.stop();
 */
export const startCyrus = async (options: CyrusOptions): Promise<CyrusServer> => {
  requireTree('Cyrus IMAP', CYRUS_TREE, 'usr/lib/cyrus/bin/master');
  if (!existsSync(SASLPASSWD2)) throw new Error(`${SASLPASSWD2} missing: apt-get install sasl2-bin (scripts/install-test-servers.sh does)`);
  if (options.users.length === 0) throw new Error('startCyrus needs at least one user');
  for (const user of options.users) {
    if (!USER_NAME_RE.test(user.name) || user.name === ADMIN_USER) throw new Error(`user name not usable with Cyrus here: ${user.name} (lowercase letters, digits, _ and -; not "${ADMIN_USER}")`);
    if (/[\r\n]/.test(user.password)) throw new Error(`password for ${user.name} may not contain a line break`);
  }
  const admin: CyrusUser = { name: ADMIN_USER, password: randomBytes(12).toString('hex') };

  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt += 1) {
    const instance = createNamespacedInstance({ label: 'cyrus', tree: CYRUS_TREE, dirPrefix: 'mf-cyrus-' });
    const { dir } = instance;
    try {
      const port = await findFreePort();
      const configDir = join(dir, 'config');
      // What Debian's postinst (and Cyrus' mkimap) would create, owned by the user Cyrus runs as.
      const dataDirs = [configDir, ...CONFIG_SUBDIRS.map((sub) => join(configDir, sub)), join(dir, 'spool')];
      for (const path of dataDirs) {
        mkdirSync(path, { recursive: true });
        chownSync(path, MAIL_UID, MAIL_GID);
      }
      writeFileSync(join(dir, 'etc', 'imapd.conf'), imapdConf(dir, options));
      writeFileSync(join(dir, 'etc', 'cyrus.conf'), cyrusConf(port));
      const sasldb = join(dir, 'sasldb2');
      for (const user of [admin, ...options.users]) await setSaslPassword(sasldb, user.name, user.password);
      chownSync(sasldb, MAIL_UID, MAIL_GID);
      // master runs in the foreground; it switches to `nobody` itself.
      writeFileSync(join(dir, 'start.sh'), `/usr/lib/cyrus/bin/master -p "$dir/master.pid" </dev/null &\n`);

      const t0 = Date.now();
      const greeting = await instance.launch(port);
      const startupMs = Date.now() - t0;
      await runAdminCommands(port, admin.password, options.users.map((u) => `CREATE user.${u.name}`)).catch(async (error: unknown) => {
        const logs = instance.logs();
        await instance.stop();
        throw new Error(`Cyrus: creating user mailboxes failed: ${String(error)}\n${logs}`);
      });

      const findUser = (name?: string): CyrusUser => {
        const user = name === undefined ? options.users[0] : options.users.find((u) => u.name === name);
        if (!user) throw new Error(`no such test user: ${name ?? '(none)'}; users: ${options.users.map((u) => u.name).join(', ')}`);
        return user;
      };
      return {
        host: '127.0.0.1',
        port,
        greeting,
        startupMs,
        dir,
        users: options.users,
        admin,
        get isRunning() {
          return instance.isRunning;
        },
        get pidNamespace() {
          return instance.pidNamespace;
        },
        account(user) {
          const u = findUser(user);
          return { host: '127.0.0.1', port, user: u.name, password: u.password, security: 'plain' };
        },
        credentials(user) {
          const u = findUser(user);
          return { host: '127.0.0.1', port, security: 'plain', allowPlaintext: true, user: u.name, password: u.password };
        },
        adminCommands: (commands) => runAdminCommands(port, admin.password, commands),
        logs: () => instance.logs(),
        stop: () => instance.stop(),
      };
    } catch (error) {
      lastError = error;
      await instance.stop().catch(() => undefined);
      // Only a port taken in the meantime is worth another attempt.
      if (!/Address already in use|unable to bind/i.test(String(error))) break;
    }
  }
  throw lastError;
};
