/**
 * A private Courier IMAP 5.0 for tests (Debian's courier-imap, unpacked by
 * scripts/install-test-servers.sh and run in a private mount namespace: see server-namespace.ts).
 * One per test or per file, in a fresh temp folder, listening on a free port of 127.0.0.1.
 *
 * What runs: `authdaemond` with `authuserdb` only (users in /etc/courier/userdb, compiled by
 * `makeuserdb` inside the namespace), and `couriertcpd` spawning `imaplogin` + `imapd` per
 * connection, all in the foreground (no `courierlogger`), with Debian's /etc/courier/imapd
 * settings given as environment variables. gam_server (gamin) is in the tree: without it every
 * command waits about a second for FAM.
 *
 * What it looks like to a client:
 * - personal namespace `INBOX.`, separator `.`; every user has a Maildir++ home (`.Name` folders);
 * - plain IMAP without TLS: LOGIN and AUTHENTICATE PLAIN (AUTH=PLAIN added to Debian's capability
 *   list, which offers it only after STARTTLS);
 * - after login it advertises UTF8=ACCEPT, which imapflow ENABLEs: folder names then travel as
 *   UTF-8, not modified UTF-7 (`disableAutoEnable: true` keeps modified UTF-7);
 * - INTERNALDATE is the message file's mtime;
 * - messages are stored with LF line ends and sent with CRLF: a bare LF comes back as CRLF, a bare
 *   CR is dropped, a missing final CRLF is added, an empty message becomes CRLF; nothing is refused;
 * - CREATE of an existing folder: `NO Cannot create this folder.`, without [ALREADYEXISTS]; `/`
 *   and empty levels (`a..b`) are refused; CREATE `x.` (trailing separator) says OK and creates nothing;
 * - Debian ships `IMAP_EMPTYTRASH=Trash:7` (Courier may purge Trash messages older than 7 days);
 *   it is off here. With it on, a quick check saw a Trash message dated 2004 survive a logout and
 *   a new login, so its timing is not pinned down; pass `env: { IMAP_EMPTYTRASH: 'Trash:7' }`.
 * Courier writes its log lines to stderr: `logs()` has them under "console".
 */
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { AccountCredentials } from '../../src/contract/account.js';
import type { ImapTestAccount } from './mail-snapshot.js';
import { MAIL_GID, MAIL_UID, TEST_SERVERS_ROOT, createNamespacedInstance, findFreePort, requireTree } from './server-namespace.js';

const COURIER_TREE = join(TEST_SERVERS_ROOT, 'courier');
/** Attempts with a fresh port when another process took it between probing and binding. */
const PORT_ATTEMPTS = 3;
/** userdb is a tab- and `|`-separated text file; keep names simple. */
const USER_NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;

/** Debian's /etc/courier/imapd, as environment for couriertcpd (AUTH=PLAIN added, Trash purge off). */
const DEFAULT_IMAP_ENV: Record<string, string> = {
  IMAP_CAPABILITY: 'IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE AUTH=PLAIN',
  IMAP_KEYWORDS: '1',
  IMAP_ACL: '1',
  IMAP_PROXY: '0',
  IMAP_PROXY_FOREIGN: '0',
  IMAP_IDLE_TIMEOUT: '60',
  IMAP_MAILBOX_SANITY_CHECK: '1',
  IMAP_DISABLETHREADSORT: '0',
  IMAP_CHECK_ALL_FOLDERS: '0',
  IMAP_OBSOLETE_CLIENT: '0',
  IMAP_UMASK: '022',
  IMAP_USELOCKS: '1',
  IMAP_SHAREDINDEXFILE: '/etc/courier/shared/index',
  IMAP_ENHANCEDIDLE: '0',
  IMAP_TRASHFOLDERNAME: 'Trash',
  IMAP_EMPTYTRASH: '',
  IMAP_MOVE_EXPUNGE_TO_TRASH: '0',
  HEADERFROM: 'X-IMAP-Sender',
  MAILDIRPATH: 'Maildir',
};

export interface CourierUser {
  name: string;
  password: string;
}

export interface CourierOptions {
  users: CourierUser[];
  /** Courier imapd settings (the variables of /etc/courier/imapd) to add or override. */
  env?: Record<string, string>;
}

export interface CourierServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The greeting line, e.g. `* OK [CAPABILITY ...] Courier-IMAP ready. ...`. */
  readonly greeting: string;
  /** Milliseconds from spawn to the first greeting. */
  readonly startupMs: number;
  /** The instance's temp folder (config, homes, logs). Removed by `stop()`. */
  readonly dir: string;
  readonly users: readonly CourierUser[];
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
  /** The user's Maildir (INBOX's cur/new/tmp; folders are `.Name` inside). */
  mailRoot(user: string): string;
  /** The launcher's console (Courier's own log lines) and any syslog messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** A value for a shell script, single-quoted. */
const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The start script, sourced by the namespace launcher (so `$dir` is the instance folder).
 * authdaemond must be listening before the first login, or imaplogin fails it.
 */
const startScript = (port: number, env: Record<string, string>): string => `mkdir -p /run/courier/authdaemon
makeuserdb
/usr/lib/courier/courier-authlib/authdaemond </dev/null &
i=0; while [ ! -S /run/courier/authdaemon/socket ]; do i=$((i+1)); [ $i -lt 500 ] || { echo "authdaemond did not start" >&2; exit 1; }; sleep 0.02; done
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin ${Object.entries(env)
  .map(([k, v]) => `${k}=${shellQuote(v)}`)
  .join(' ')} \\
  /usr/sbin/couriertcpd -address=127.0.0.1 -maxprocs=200 -maxperip=200 -nodnslookup -noidentlookup \\
  ${port} /usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir </dev/null &
`;

/**
 * Starts a private Courier with the given users, each with an empty Maildir.
 * Throws (never skips) when the unpacked Courier is missing.
 *
 * @example
 *   const courier = await startCourier({ users: [{ name: 'alice', password: 'pw' }] });
 *   const client = await openTestClient(courier.account('alice'));
 *   await courier.stop();
 */
export const startCourier = async (options: CourierOptions): Promise<CourierServer> => {
  requireTree('Courier IMAP', COURIER_TREE, 'usr/lib/courier/courier/imaplogin');
  if (!existsSync(join(COURIER_TREE, 'usr/libexec/gam_server'))) throw new Error(`gamin's gam_server is missing from ${COURIER_TREE}: rerun scripts/install-test-servers.sh`);
  if (options.users.length === 0) throw new Error('startCourier needs at least one user');
  for (const user of options.users) {
    if (!USER_NAME_RE.test(user.name)) throw new Error(`user name not usable in userdb here: ${user.name}`);
  }
  const env = { ...DEFAULT_IMAP_ENV, ...options.env };

  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt += 1) {
    const instance = createNamespacedInstance({ label: 'courier', tree: COURIER_TREE, dirPrefix: 'mf-courier-' });
    const { dir } = instance;
    try {
      const port = await findFreePort();
      const homes = join(dir, 'home');
      mkdirSync(homes);
      const userdbLines: string[] = [];
      for (const user of options.users) {
        const home = join(homes, user.name);
        for (const sub of ['', 'Maildir', 'Maildir/cur', 'Maildir/new', 'Maildir/tmp']) {
          mkdirSync(join(home, sub), { recursive: true });
          chownSync(join(home, sub), MAIL_UID, MAIL_GID);
        }
        // authlib checks {SHA256} as base64 of the SHA-256 of the password.
        const hash = createHash('sha256').update(user.password, 'utf8').digest('base64');
        userdbLines.push(`${user.name}\tuid=${MAIL_UID}|gid=${MAIL_GID}|home=${home}|mail=${join(home, 'Maildir')}|systempw={SHA256}${hash}\n`);
      }
      const etcCourier = join(dir, 'etc', 'courier');
      mkdirSync(etcCourier, { recursive: true });
      writeFileSync(
        join(etcCourier, 'authdaemonrc'),
        'authmodulelist="authuserdb"\ndaemons=2\nauthdaemonvar=/run/courier/authdaemon\nDEBUG_LOGIN=0\nDEFAULTOPTIONS=""\nLOGGEROPTS=""\n',
      );
      // makeuserdb refuses a userdb that others can read.
      writeFileSync(join(etcCourier, 'userdb'), userdbLines.join(''), { mode: 0o600 });
      chmodSync(join(etcCourier, 'userdb'), 0o600);
      writeFileSync(join(dir, 'start.sh'), startScript(port, env));

      const t0 = Date.now();
      const greeting = await instance.launch(port);
      const startupMs = Date.now() - t0;

      const findUser = (name?: string): CourierUser => {
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
        mailRoot: (user) => join(homes, findUser(user).name, 'Maildir'),
        logs: () => instance.logs(),
        stop: () => instance.stop(),
      };
    } catch (error) {
      lastError = error;
      await instance.stop().catch(() => undefined);
      if (!/Address already in use|bind/i.test(String(error))) break;
    }
  }
  throw lastError;
};
