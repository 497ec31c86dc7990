/**
 * The three real servers of the compatibility matrix behind one small interface: Dovecot
 * (`/`, no prefix), Cyrus IMAP (`.`, `INBOX.`, SPECIAL-USE, modified UTF-7 names) and Courier
 * IMAP (`.`, `INBOX.`, UTF8=ACCEPT, no SPECIAL-USE). Each instance is private, on 127.0.0.1,
 * with one user; `stop()` removes it.
 *
 * Special-use folders, the way each server gets them:
 * - Dovecot: by name from its config (`specialUse` of startDovecot);
 * - Cyrus: `CREATE name (USE (\Sent))` (RFC 6154), or SETMETADATA on an existing folder;
 * - Courier: it has none; imapflow (and so the engine) recognises `Sent`, `Sent Items`,
 *   `Deleted Items`... by name, as it does for any server that does not say.
 */
import { after, afterEach } from 'node:test';
import type { ImapFlow } from 'imapflow';
import type { SpecialUse } from '../../src/contract/plan.js';
import { fillAccount, folderPath, type Corpus, type CorpusFolder } from '../support/corpus.js';
import { startCourier } from '../support/courier.js';
import { startCyrus } from '../support/cyrus.js';
import { startDovecot, type DovecotOptions } from '../support/dovecot.js';
import { openTestClient, type ImapTestAccount } from '../support/mail-snapshot.js';

export type ServerKind = 'dovecot' | 'cyrus' | 'courier';

export interface MatrixServer {
  kind: ServerKind;
  port: number;
  user: string;
  delimiter: string;
  prefix: string;
  account(): ImapTestAccount;
  /** `imap://USER@127.0.0.1:PORT` for the CLI (with --allow-plaintext). */
  url(): string;
  /** The full path of a folder given by its levels below the personal namespace. */
  pathOf(segments: string[]): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Cyrus' munge8bit (default true, as Cyrus ships). */
  munge8bit?: boolean;
  /** Dovecot only: names (below the prefix) and their special use, as its config gives them. */
  dovecotSpecialUse?: DovecotOptions['specialUse'];
  /** Dovecot only: maildir layout (`fs` allows `.` in names with the `/` separator). */
  dovecotLayout?: DovecotOptions['layout'];
}

export const startMatrixServer = async (kind: ServerKind, user: string, password: string, options: StartOptions = {}): Promise<MatrixServer> => {
  const users = [{ name: user, password }];
  const server =
    kind === 'dovecot'
      ? await startDovecot({ users, rawlog: false, ...(options.dovecotSpecialUse ? { specialUse: options.dovecotSpecialUse } : {}), ...(options.dovecotLayout ? { layout: options.dovecotLayout } : {}) })
      : kind === 'cyrus'
        ? await startCyrus({ users, ...(options.munge8bit === false ? { munge8bit: false } : {}) })
        : await startCourier({ users });
  const [delimiter, prefix] = kind === 'dovecot' ? ['/', ''] : ['.', 'INBOX.'];
  return {
    kind,
    port: server.port,
    user,
    delimiter,
    prefix,
    account: () => server.account(user),
    url: () => `imap://${user}@127.0.0.1:${server.port}`,
    pathOf: (segments) => folderPath(segments, delimiter, prefix),
    stop: () => server.stop(),
  };
};

/** imapflow's untyped raw command: resolves once tagged OK; the parser waits until `next()`. */
interface RawExec {
  exec(command: string, attributes: unknown[]): Promise<{ next: () => void }>;
}
const execRaw = async (client: ImapFlow, command: string, attributes: unknown[]): Promise<void> => {
  const response = await (client as unknown as RawExec).exec(command, attributes);
  response.next();
};

/**
 * Creates empty folders that are the server's own special-use folders (`{ 'Sent Items': '\\Sent' }`).
 * Dovecot must have been started with the same names in `dovecotSpecialUse`.
 */
export const createSpecialFolders = async (server: MatrixServer, folders: Record<string, SpecialUse>): Promise<void> => {
  const client = await openTestClient(server.account());
  try {
    for (const [name, use] of Object.entries(folders)) {
      const path = server.pathOf([name]);
      if (server.kind === 'cyrus') {
        // imapflow 2.1.2 does not send USE from mailboxCreate, so the command is raw (RFC 6154).
        await execRaw(client, 'CREATE', [{ type: 'STRING', value: path }, [{ type: 'ATOM', value: 'USE' }, [{ type: 'ATOM', value: use }]]]);
      } else {
        await client.mailboxCreate(path);
      }
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
};

/**
 * Fills the account with a corpus. On Cyrus, folders the corpus marks special-use get the
 * attribute afterwards with SETMETADATA /private/specialuse (RFC 6154 §4), as a Cyrus account
 * set up by a mail client would have it; Dovecot has it from its config, Courier has none.
 */
export const fillMatrixAccount = async (server: MatrixServer, corpus: Corpus | CorpusFolder[]): Promise<void> => {
  await fillAccount(server.account(), corpus);
  if (server.kind !== 'cyrus') return;
  const folders = Array.isArray(corpus) ? corpus : corpus.folders;
  const special = folders.filter((f) => f.specialUse);
  if (special.length === 0) return;
  const client = await openTestClient(server.account());
  try {
    for (const f of special) {
      await execRaw(client, 'SETMETADATA', [{ type: 'STRING', value: server.pathOf(f.segments) }, [{ type: 'STRING', value: '/private/specialuse' }, { type: 'STRING', value: f.specialUse }]]);
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
};

/**
 * Servers a test starts are stopped when that test ends (and when the file ends, should a test
 * fail before): call once at the top of a test file, then `track` what each test starts.
 */
export const stopServersAfterEachTest = (): { track: (...servers: MatrixServer[]) => void } => {
  let started: MatrixServer[] = [];
  const stopStarted = async (): Promise<void> => {
    const servers = started;
    started = [];
    await Promise.allSettled(servers.map((s) => s.stop()));
  };
  afterEach(stopStarted);
  after(stopStarted);
  return { track: (...servers) => started.push(...servers) };
};
