/**
 * Reads a users CSV (RFC 4180, UTF-8, a header row, columns in any order) into the mailboxes of a
 * batch, checking everything that can be checked without the network or a secret: the columns,
 * each row's id, locations and how each side signs in. Every problem is reported with its data
 * row (1 = the first row after the header) and file line, all of them at once, before anything
 * starts.
 *
 * A password never goes in the CSV: a column that would hold one, a location with a password in
 * it, or a *_password_env cell that is not a variable name is refused, and no message repeats
 * such a cell's content.
 */
import path from 'node:path';
import type { MailLocation } from '../contract/account.js';
import type { BatchInputProblem } from '../contract/batch.js';
import { err, ok, type Result } from '../contract/result.js';
import { parseLocation } from '../cli/location-url.js';
import { jobIdOf, jobLocationOf } from '../jobs/job-records.js';
import { parseCsv } from './parse-csv.js';

/** The columns a users CSV may have; `id`, `from` and `to` are required. */
export const BATCH_COLUMNS = [
  'id',
  'from',
  'to',
  'from_password_env',
  'to_password_env',
  'from_password_file',
  'to_password_file',
  'from_oauth',
  'to_oauth',
  'from_token_env',
  'to_token_env',
  'folder',
  'exclude',
] as const;
/** A column a users CSV may have. */
export type BatchColumn = (typeof BATCH_COLUMNS)[number];
const REQUIRED: readonly BatchColumn[] = ['id', 'from', 'to'];

const ID_PATTERN = /^[A-Za-z0-9._-]+$/;
const MAX_ID_LENGTH = 100;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Header names that say the column would hold a secret itself. */
const SECRET_NAME = /pass|pwd|secret|token|credential/i;

/** How one side of a mailbox signs in, as the row says (the secrets are read later). */
export type SideLogin =
  | { kind: 'none' }
  | { kind: 'password-env'; variable: string }
  | { kind: 'password-file'; file: string }
  /** OAuth2: a provider with a sign-in kept on this computer, or a ready token from `tokenEnv`. */
  | { kind: 'oauth'; provider?: string; tokenEnv?: string };

/** One mailbox of a batch, as its row says (secrets not read yet). */
export interface BatchRow {
  id: string;
  row: number;
  line: number;
  from: MailLocation;
  to: MailLocation;
  fromLogin: SideLogin;
  toLogin: SideLogin;
  /** Source folders to copy (with their subfolders); empty: all. */
  include: string[];
  exclude: string[];
}

/** How a users CSV is read. */
export interface BatchFileOptions {
  /** imap:// locations may be plain IMAP (the batch's --allow-plaintext). */
  allowPlaintext: boolean;
  /** Relative password files are found from here (the CSV's folder). */
  baseDir: string;
}

type Cells = Partial<Record<BatchColumn, string>>;

/** Reads the bytes of a users CSV; all problems, or the mailboxes in file order. */
export const readBatchFile = (bytes: Uint8Array, options: BatchFileOptions): Result<BatchRow[], BatchInputProblem[]> => {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return err([{ reason: 'The file is not UTF-8 text. Save it as "CSV UTF-8".' }]);
  }
  const parsed = parseCsv(text);
  if (!parsed.ok) return err([{ line: parsed.error.line, reason: `The file is not valid CSV: ${parsed.error.reason}.` }]);
  const [header, ...records] = parsed.value;
  if (!header) return err([{ reason: `The file is empty: it needs a header row (${REQUIRED.join(',')},…) and one row per mailbox.` }]);

  const columns = readHeader(header.fields, header.line);
  if (!columns.ok) return columns;

  const problems: BatchInputProblem[] = [];
  const rows: BatchRow[] = [];
  const ids = new Map<string, number>();
  const jobs = new Map<string, number>();
  for (const [index, record] of records.entries()) {
    const row = index + 1;
    const at = { row, line: record.line };
    if (record.fields.every((f) => f.trim() === '')) continue;
    if (record.fields.length !== columns.value.length) {
      problems.push({ ...at, reason: `It has ${record.fields.length} fields; the header has ${columns.value.length}.` });
      continue;
    }
    const cells: Cells = {};
    for (const [i, column] of columns.value.entries()) cells[column] = (record.fields[i] as string).trim();
    const checked = readRow(cells, at, options);
    problems.push(...checked.problems);
    const value = checked.row;
    if (!value) continue;
    const idKey = value.id.toLowerCase();
    const earlier = ids.get(idKey);
    if (earlier !== undefined) {
      // Folders named after ids must differ on file systems that ignore case too.
      problems.push({ ...at, column: 'id', reason: `The id "${value.id}" is already the id of row ${earlier} (ids must differ in more than letter case).` });
      continue;
    }
    ids.set(idKey, row);
    const job = jobIdOf(jobLocationOf(value.from), jobLocationOf(value.to));
    const same = jobs.get(job);
    if (same !== undefined) {
      problems.push({ ...at, reason: `It moves the same mailbox to the same place as row ${same}; two runs of one move at once could copy messages twice.` });
      continue;
    }
    jobs.set(job, row);
    rows.push(value);
  }
  if (problems.length > 0) return err(problems);
  if (rows.length === 0) return err([{ reason: 'The file has a header but no mailboxes.' }]);
  return ok(rows);
};

const readHeader = (fields: string[], line: number): Result<BatchColumn[], BatchInputProblem[]> => {
  const problems: BatchInputProblem[] = [];
  const columns: BatchColumn[] = [];
  const known = new Set<string>(BATCH_COLUMNS);
  for (const raw of fields) {
    const name = raw.trim().toLowerCase();
    if (!known.has(name)) {
      problems.push(
        SECRET_NAME.test(name)
          ? { line, column: name, reason: `The column "${name}" would hold a password or token; a secret never goes in the CSV: name an environment variable in from_password_env / to_password_env, or a file in from_password_file / to_password_file.` }
          : { line, column: name, reason: `"${name}" is not a column Mailferry knows; the columns are ${BATCH_COLUMNS.join(', ')}.` },
      );
      continue;
    }
    if (columns.includes(name as BatchColumn)) problems.push({ line, column: name, reason: `The column "${name}" appears twice.` });
    columns.push(name as BatchColumn);
  }
  for (const column of REQUIRED) if (!columns.includes(column)) problems.push({ line, column, reason: `The header has no "${column}" column.` });
  return problems.length > 0 ? err(problems) : ok(columns);
};

const readRow = (cells: Cells, at: { row: number; line: number }, options: BatchFileOptions): { row?: BatchRow; problems: BatchInputProblem[] } => {
  const problems: BatchInputProblem[] = [];
  const problem = (column: BatchColumn | undefined, reason: string): void => void problems.push({ ...at, ...(column ? { column } : {}), reason });
  const id = cells.id ?? '';
  if (id === '') problem('id', 'The id is empty.');
  else if (!ID_PATTERN.test(id) || id === '.' || id === '..' || id.length > MAX_ID_LENGTH) {
    problem('id', `The id "${id}" may hold only letters, digits, ".", "_" and "-" (at most ${MAX_ID_LENGTH}, not "." or "..").`);
  }
  const location = (side: 'from' | 'to'): MailLocation | undefined => {
    const raw = cells[side] ?? '';
    if (raw === '') {
      problem(side, `The ${side} location is empty.`);
      return undefined;
    }
    if (hasPasswordInUrl(raw)) {
      problem(side, `The ${side} location holds a password (user:password@host); a password never goes in the CSV.`);
      return undefined;
    }
    const parsed = parseLocation(raw, options.allowPlaintext);
    if (!parsed.ok) {
      problem(side, parsed.error.message);
      return undefined;
    }
    return parsed.value;
  };
  const from = location('from');
  const to = location('to');
  const fromLogin = from && readLogin(cells, 'from', from, options, problem);
  const toLogin = to && readLogin(cells, 'to', to, options, problem);
  if (problems.length > 0 || !from || !to || !fromLogin || !toLogin) return { problems };
  return { row: { id, ...at, from, to, fromLogin, toLogin, include: pathList(cells.folder), exclude: pathList(cells.exclude) }, problems };
};

const readLogin = (cells: Cells, side: 'from' | 'to', location: MailLocation, options: BatchFileOptions, problem: (column: BatchColumn | undefined, reason: string) => void): SideLogin | undefined => {
  const given = (['password_env', 'password_file', 'oauth', 'token_env'] as const).filter((kind) => (cells[`${side}_${kind}`] ?? '') !== '');
  const sideName = side === 'from' ? 'source' : 'destination';
  if (location.kind === 'archive') {
    if (given.length === 0) return { kind: 'none' };
    problem(`${side}_${given[0] as 'oauth'}`, `The ${sideName} is an archive: it needs no password or sign-in.`);
    return undefined;
  }
  const envName = (column: `${typeof side}_password_env` | `${typeof side}_token_env`): string | undefined => {
    const value = cells[column] ?? '';
    // Never repeat the cell: someone may have put the password itself there.
    if (ENV_NAME.test(value)) return value;
    problem(column, `${column} must name an environment variable (letters, digits and "_"), not hold a secret itself.`);
    return undefined;
  };
  if (given.length === 0) {
    problem(undefined, `There is no way to sign in to the ${sideName}: fill ${side}_password_env, ${side}_password_file or ${side}_oauth.`);
    return undefined;
  }
  // One way to sign in; only a provider and a ready token for it go together.
  const isOAuthPair = given.length === 2 && given.includes('oauth') && given.includes('token_env');
  if (given.length > 1 && !isOAuthPair) {
    problem(undefined, `The ${sideName} has more than one way to sign in (${given.map((g) => `${side}_${g}`).join(', ')}); give one.`);
    return undefined;
  }
  if (given.includes('password_env')) {
    const variable = envName(`${side}_password_env`);
    return variable ? { kind: 'password-env', variable } : undefined;
  }
  if (given.includes('password_file')) return { kind: 'password-file', file: path.resolve(options.baseDir, cells[`${side}_password_file`] as string) };
  const tokenEnv = given.includes('token_env') ? envName(`${side}_token_env`) : undefined;
  if (given.includes('token_env') && !tokenEnv) return undefined;
  const provider = cells[`${side}_oauth`] || undefined;
  return { kind: 'oauth', ...(provider ? { provider } : {}), ...(tokenEnv ? { tokenEnv } : {}) };
};

/** `a;b; c` → ['a', 'b', 'c']. */
const pathList = (cell: string | undefined): string[] =>
  (cell ?? '')
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '');

const hasPasswordInUrl = (raw: string): boolean => {
  try {
    return new URL(raw).password !== '';
  } catch {
    return false;
  }
};
