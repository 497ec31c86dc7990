/**
 * A whole office for the batch tests: one source Dovecot and one or more destination Dovecots
 * with the same N users (different passwords on each side), each server behind its own fault
 * proxy so the tests can read the wire and wait until every connection is closed (`whenIdle`)
 * before comparing: an APPEND of a killed process may still commit after it died.
 *
 * Every source mailbox gets a small seeded corpus of its own; the first one gets the default
 * corpus with every awkward case (twins, duplicates, \Deleted, 8-bit, Unicode folder names).
 * Half of the users' passwords are given in environment variables, the other half in password
 * files (each with the one trailing newline an editor leaves), as a users CSV says.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillAccount, generateCorpus, type Corpus } from '../support/corpus.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { assertSourceUnchanged, diffMail, snapshotAccount, type AccountSnapshot } from '../support/mail-snapshot.js';
import { expectedDestination } from '../faults/harness.js';

export interface OfficeUser {
  /** The row id and the user name on both servers. */
  name: string;
  sourcePassword: string;
  destinationPassword: string;
}

export interface Destination {
  server: DovecotServer;
  proxy: FaultProxy;
  /** Each user's mailbox before any batch ran. */
  before: Map<string, AccountSnapshot>;
}

export interface Office {
  users: OfficeUser[];
  source: DovecotServer;
  sourceProxy: FaultProxy;
  sourceBefore: Map<string, AccountSnapshot>;
  /** A folder for CSVs, password files and state folders; removed by stop(). */
  dir: string;
  /** The environment a batch run needs: the variables the CSVs name. */
  env: Record<string, string>;
  addDestination(): Promise<Destination>;
  /**
   * Writes a users CSV for `users` (default: all) towards `destination`; `wrongPasswordFor`
   * names a user whose destination password variable holds a wrong password.
   */
  writeCsv(name: string, destination: Destination, options?: { users?: OfficeUser[]; wrongPasswordFor?: string }): string;
  stop(): Promise<void>;
}

export const userName = (i: number): string => `u${String(i + 1).padStart(2, '0')}`;

/** Runs `work` over `items`, `limit` at a time. */
export const inPool = async <T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> => {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  }));
};

/** A mailbox of the office: `perFolder` (default 1 to 4) messages in each of three folders; the first one has every awkward case. */
const corpusOf = (i: number, perFolder?: number): Corpus =>
  i === 0
    ? generateCorpus({ seed: 'office-0', messagesPerFolder: perFolder ?? 2 })
    : generateCorpus({ seed: `office-${i}`, folders: [{ segments: ['INBOX'] }, { segments: ['Sent'], specialUse: '\\Sent' }, { segments: ['Projects', String(2020 + (i % 5))] }], messagesPerFolder: perFolder ?? 1 + (i % 4), specials: false, sizeRange: [800, 24_000] });

const envName = (side: 'SRC' | 'DST', name: string): string => `${side}_PW_${name.toUpperCase()}`;

export const startOffice = async (count: number, options: { messagesPerFolder?: number } = {}): Promise<Office> => {
  const users: OfficeUser[] = Array.from({ length: count }, (_, i) => ({ name: userName(i), sourcePassword: `src-${userName(i)}-Pw7`, destinationPassword: `dst-${userName(i)}-Pw9` }));
  const dir = mkdtempSync(join(tmpdir(), 'mf-batch-office-'));
  const source = await startDovecot({ users: users.map((u) => ({ name: u.name, password: u.sourcePassword })) });
  await inPool(users.map((_, i) => i), 6, async (i) => {
    await fillAccount(source.account((users[i] as OfficeUser).name), corpusOf(i, options.messagesPerFolder));
  });
  const sourceProxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: source.port });
  const sourceBefore = new Map<string, AccountSnapshot>();
  await inPool(users, 8, async (u) => void sourceBefore.set(u.name, await snapshotAccount(source.account(u.name))));

  const env: Record<string, string> = {};
  for (const [i, u] of users.entries()) {
    if (i % 2 === 0) env[envName('SRC', u.name)] = u.sourcePassword;
    else writeFileSync(join(dir, `${u.name}.source-password`), `${u.sourcePassword}\n`, { mode: 0o600 });
    if (i % 2 === 1) env[envName('DST', u.name)] = u.destinationPassword;
    else writeFileSync(join(dir, `${u.name}.destination-password`), `${u.destinationPassword}\n`, { mode: 0o600 });
  }
  const destinations: Destination[] = [];
  return {
    users,
    source,
    sourceProxy,
    sourceBefore,
    dir,
    env,
    async addDestination() {
      const server = await startDovecot({ users: users.map((u) => ({ name: u.name, password: u.destinationPassword })) });
      const proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: server.port });
      const before = new Map<string, AccountSnapshot>();
      await inPool(users, 8, async (u) => void before.set(u.name, await snapshotAccount(server.account(u.name))));
      const destination = { server, proxy, before };
      destinations.push(destination);
      return destination;
    },
    writeCsv(name, destination, options = {}) {
      const chosen = options.users ?? users;
      const lines = ['id,from,to,from_password_env,from_password_file,to_password_env,to_password_file'];
      for (const u of chosen) {
        const i = users.indexOf(u);
        const isWrong = u.name === options.wrongPasswordFor;
        let toEnv = i % 2 === 1 ? envName('DST', u.name) : '';
        if (isWrong) {
          toEnv = `WRONG_PW_${u.name.toUpperCase()}`;
          env[toEnv] = `not-${u.destinationPassword}`;
        }
        lines.push(
          [
            u.name,
            `imap://${u.name}@127.0.0.1:${sourceProxy.port}`,
            `imap://${u.name}@127.0.0.1:${destination.proxy.port}`,
            i % 2 === 0 ? envName('SRC', u.name) : '',
            i % 2 === 1 ? `${u.name}.source-password` : '',
            toEnv,
            toEnv === '' ? `${u.name}.destination-password` : '',
          ].join(','),
        );
      }
      const file = join(dir, name);
      writeFileSync(file, lines.join('\r\n') + '\r\n');
      return file;
    },
    async stop() {
      await Promise.allSettled([sourceProxy.stop(), ...destinations.map((d) => d.proxy.stop())]);
      await Promise.allSettled([source.stop(), ...destinations.map((d) => d.server.stop())]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/**
 * Every listed user's destination holds exactly its source (bytes, flags, dates; \Deleted left
 * out) plus what it held before; every other user's destination is as it was; every source is
 * unchanged.
 */
export const assertOfficeExact = async (office: Office, destination: Destination, copied: readonly string[]): Promise<void> => {
  const problems: string[] = [];
  await inPool(office.users, 6, async (u) => {
    const [sourceNow, destinationNow] = await Promise.all([snapshotAccount(office.source.account(u.name)), snapshotAccount(destination.server.account(u.name))]);
    assertSourceUnchanged(office.sourceBefore.get(u.name) as AccountSnapshot, sourceNow, `${u.name}: source changed`);
    const before = destination.before.get(u.name) as AccountSnapshot;
    const expected = copied.includes(u.name) ? expectedDestination(sourceNow, before) : { folders: before.folders.filter((f) => f.isSelectable).map((f) => ({ path: f.path, messages: f.messages })) };
    for (const p of diffMail(expected, destinationNow)) problems.push(`${u.name}: ${p}`);
  });
  assert.deepEqual(problems, [], `destinations differ from their sources:\n${problems.slice(0, 40).join('\n')}`);
};

/** No destructive command crossed either proxy (the destination may SELECT to append; nothing else). */
export const assertNothingDestructiveOn = (sourceProxy: FaultProxy, destinationProxy: FaultProxy): void => {
  const src = sourceProxy.wire().destructive();
  assert.deepEqual([...src.destructive.map((d) => d.command.line), ...src.flagChanges.map((d) => d.command.line)], [], 'destructive commands to the source');
  const dst = destinationProxy.wire().destructive();
  assert.deepEqual([...dst.destructive.filter((d) => d.command.name !== 'SELECT').map((d) => d.command.line), ...dst.flagChanges.map((d) => d.command.line)], [], 'destructive commands to the destination');
};
