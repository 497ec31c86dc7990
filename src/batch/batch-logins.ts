/**
 * Reads what each side of a batch row signs in with, before anything starts: a password from the
 * environment variable or the file the row names, a ready OAuth2 token from the environment, or
 * the check that a sign-in is kept in the keychain (a batch cannot sign anyone in). A variable
 * that is not set, a file that cannot be read or holds more than a password, and a provider
 * without a kept sign-in are problems of that row. No message repeats a secret.
 */
import { promises as fs } from 'node:fs';
import type { BatchInputProblem } from '../contract/batch.js';
import { err, ok, type Result } from '../contract/result.js';
import { hasKeptSignIn, type SignInEnvironment } from '../cli/cli-sign-in.js';
import type { BatchRow, SideLogin } from './batch-file.js';

/** A password file holds a password, not a document. */
const MAX_PASSWORD_FILE_BYTES = 4096;

/** What one side logs in with, read and checked; the OAuth2 token source is made when the row starts. */
export type SideCredential = { kind: 'none' } | { kind: 'password'; password: string } | { kind: 'oauth'; provider?: string; readyToken?: string };

/** What both sides of a row sign in with. */
export interface RowCredentials {
  from: SideCredential;
  to: SideCredential;
}

/** Where a row's secrets are looked up. */
export type LoginEnvironment = Pick<SignInEnvironment, 'env' | 'settings' | 'keychain'> & {
  /** Client IDs given for the whole batch (--from-client-id / --to-client-id). */
  clientIds?: { from?: string; to?: string };
  readFile?(file: string): Promise<Buffer>;
};

const readLimited = async (file: string): Promise<Buffer> => {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(MAX_PASSWORD_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
};

/** The password in a password file: its content without one trailing line break. */
export const passwordOfFile = (content: Buffer): Result<string, string> => {
  if (content.length > MAX_PASSWORD_FILE_BYTES) return err(`holds more than ${MAX_PASSWORD_FILE_BYTES} bytes; a password file holds only the password`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return err('is not UTF-8 text');
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') return err('is empty');
  if (/[\r\n]/.test(password)) return err('holds more than one line; a password file holds only the password (one line break at the end is fine)');
  return ok(password);
};

const SIDE_NAME = { from: 'source', to: 'destination' } as const;

const checkSide = async (row: BatchRow, side: 'from' | 'to', login: SideLogin, environment: LoginEnvironment): Promise<Result<SideCredential, BatchInputProblem>> => {
  const at = { row: row.row, line: row.line };
  const sideName = SIDE_NAME[side];
  switch (login.kind) {
    case 'none':
      return ok({ kind: 'none' });
    case 'password-env': {
      const password = environment.env[login.variable];
      if (password === undefined || password === '') return err({ ...at, column: `${side}_password_env`, reason: `The environment variable ${login.variable} (the ${sideName} password) is not set.` });
      return ok({ kind: 'password', password });
    }
    case 'password-file': {
      let content: Buffer;
      try {
        content = await (environment.readFile ?? readLimited)(login.file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return err({ ...at, column: `${side}_password_file`, reason: `The ${sideName} password file ${login.file} cannot be read${code ? ` (${code})` : ''}.` });
      }
      const password = passwordOfFile(content);
      if (!password.ok) return err({ ...at, column: `${side}_password_file`, reason: `The ${sideName} password file ${login.file} ${password.error}.` });
      return ok({ kind: 'password', password: password.value });
    }
    case 'oauth': {
      if (login.tokenEnv !== undefined) {
        const token = environment.env[login.tokenEnv];
        if (token === undefined || token === '') return err({ ...at, column: `${side}_token_env`, reason: `The environment variable ${login.tokenEnv} (the ${sideName} access token) is not set.` });
        return ok({ kind: 'oauth', ...(login.provider ? { provider: login.provider } : {}), readyToken: token });
      }
      const endpoint = side === 'from' ? row.from : row.to;
      if (endpoint.kind !== 'imap') return err({ ...at, column: `${side}_oauth`, reason: `The ${sideName} is an archive: it needs no sign-in.` });
      const kept = await hasKeptSignIn({ side: side === 'from' ? 'source' : 'destination', endpoint: endpoint.endpoint, provider: login.provider, clientId: environment.clientIds?.[side] }, environment);
      if (!kept.ok) return err({ ...at, column: `${side}_oauth`, reason: kept.error.message });
      if (!kept.value) {
        return err({
          ...at,
          column: `${side}_oauth`,
          reason: `No sign-in is kept on this computer for ${endpoint.endpoint.user} (the ${sideName}), and a batch cannot ask anyone to sign in: sign in once with "mailferry copy … --${side}-oauth ${login.provider ?? '…'} --remember", or name a ready access token in ${side}_token_env.`,
        });
      }
      return ok({ kind: 'oauth', ...(login.provider ? { provider: login.provider } : {}) });
    }
  }
};

/** Reads every row's secrets; all problems at once, or each row's credentials by id. */
export const readRowLogins = async (rows: BatchRow[], environment: LoginEnvironment): Promise<Result<Map<string, RowCredentials>, BatchInputProblem[]>> => {
  const problems: BatchInputProblem[] = [];
  const credentials = new Map<string, RowCredentials>();
  for (const row of rows) {
    const [from, to] = await Promise.all([checkSide(row, 'from', row.fromLogin, environment), checkSide(row, 'to', row.toLogin, environment)]);
    if (!from.ok) problems.push(from.error);
    if (!to.ok) problems.push(to.error);
    if (from.ok && to.ok) credentials.set(row.id, { from: from.value, to: to.value });
  }
  return problems.length > 0 ? err(problems) : ok(credentials);
};
