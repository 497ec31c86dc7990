/**
 * Where a job keeps its state: `<stateDir>/jobs/<jobId>/` with `job.json` (what the job is, its
 * last known status, for the resume offer), `report.json` (the last run's report) and, per part,
 * `<stateDir>/jobs/<partId>/folders/*.jsonl` (the journals). A job id depends only on the two
 * locations, so running the same move again finds its journals.
 *
 * Every file here is written whole with writeFileAtomic (temp file, fsync, rename, fsync of the
 * directory): a crash leaves the old record or the new one.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AccountEndpoint, ArchiveLocation, MailLocation } from '../contract/account.js';
import type { AppJobReport, FolderTarget } from '../contract/ipc.js';
import type { JobSettings, JobStatus } from '../contract/job.js';
import type { PlanOptions } from '../contract/plan.js';
import { writeFileAtomic } from '../fs/write-file-atomic.js';

/** A location as a job record keeps it: an endpoint without its secret, or `format:/absolute/path`. */
export type JobLocation = AccountEndpoint | { archive: string };

/** One destination of a job, with the engine job id its journals live under. */
export interface JobPartRecord {
  target: FolderTarget;
  partId: string;
  selectedPaths: string[];
}

/** What a job is and where it stands, as saved beside its journals (`job.json`). */
export interface JobRecord {
  jobId: string;
  source: JobLocation;
  destination: JobLocation;
  options: PlanOptions;
  selectedPaths: string[];
  createdAt: number;
  updatedAt: number;
  status: JobStatus;
  bytesDone: number;
  bytesTotal: number;
  settings?: Partial<JobSettings>;
  /** The archive the `archive` part writes to (a job of the app that also keeps an archive). */
  archiveLocation?: ArchiveLocation;
  /**
   * The job's destinations, run one after the other. Records without it (older ones) have one
   * part: the archive if `archiveLocation` is set, else the account, under the job's own id.
   */
  parts?: JobPartRecord[];
  /** A restore: the archive read instead of the old account. */
  sourceArchive?: ArchiveLocation;
  /** Where messages too large for the new account are kept instead (--refused-to, or the app's choice). */
  refusedTo?: ArchiveLocation;
}

/** The parts of a record, also for records written before parts existed. */
export const partsOf = (record: JobRecord): JobPartRecord[] =>
  record.parts ?? [{ target: record.archiveLocation ? 'archive' : 'account', partId: record.jobId, selectedPaths: record.selectedPaths }];

/** The user's app-data folder for Mailferry on each platform. */
export const defaultStateDirectory = (): string => {
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Mailferry');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Mailferry');
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Mailferry');
};

/** How a location is recorded: without any secret, an archive by its absolute path. */
export const jobLocationOf = (location: MailLocation): JobLocation => {
  if (location.kind === 'archive') return { archive: `${location.archive.format}:${path.resolve(location.archive.path)}` };
  const { host, port, security, user, allowPlaintext, pinnedFingerprint } = location.endpoint;
  return { host, port, security, user, ...(allowPlaintext ? { allowPlaintext } : {}), ...(pinnedFingerprint ? { pinnedFingerprint } : {}) };
};

/** Identifies a location without its secret: user, host and port, or an archive path. */
export const locationKey = (location: JobLocation): string =>
  'archive' in location ? `archive:${path.resolve(location.archive)}` : `imap:${location.user.toLowerCase()}@${location.host.toLowerCase()}:${location.port}`;

/** A job's id: from its two locations only, so the same move finds its journals again. */
export const jobIdOf = (source: JobLocation, destination: JobLocation): string =>
  createHash('sha256').update(`${locationKey(source)}\n${locationKey(destination)}`).digest('hex').slice(0, 16);

/** A location for people: `user@host`, or the archive. */
export const describeJobLocation = (location: JobLocation): string => ('archive' in location ? location.archive : `${location.user}@${location.host}`);

/** Where a job's record, report and journals live. */
export const jobDirectory = (stateDir: string, jobId: string): string => path.join(stateDir, 'jobs', jobId);
/** Where a job's (or a part's) folder journals live. */
export const journalDirectory = (stateDir: string, jobId: string): string => path.join(jobDirectory(stateDir, jobId), 'folders');

/** Writes a job's record whole (atomic and durable). */
export const saveJobRecord = async (stateDir: string, record: JobRecord): Promise<void> =>
  writeFileAtomic(path.join(jobDirectory(stateDir, record.jobId), 'job.json'), JSON.stringify(record, null, 2));

const isJobRecord = (v: unknown): v is JobRecord =>
  typeof v === 'object' && v !== null && typeof (v as JobRecord).jobId === 'string' && typeof (v as JobRecord).status === 'string' && typeof (v as JobRecord).source === 'object';

/** A job's record, or undefined when there is none (or it cannot be read). */
export const loadJobRecord = async (stateDir: string, jobId: string): Promise<JobRecord | undefined> => {
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(path.join(jobDirectory(stateDir, jobId), 'job.json'), 'utf8'));
    return isJobRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
};

/** Every job known in a state folder, newest first. */
export const listJobRecords = async (stateDir: string): Promise<JobRecord[]> => {
  let ids: string[] = [];
  try {
    ids = await fs.readdir(path.join(stateDir, 'jobs'));
  } catch {
    return [];
  }
  const records = await Promise.all(ids.map((id) => loadJobRecord(stateDir, id)));
  return records.filter((r): r is JobRecord => !!r).sort((a, b) => b.updatedAt - a.updatedAt);
};

const reportFile = (stateDir: string, jobId: string): string => path.join(jobDirectory(stateDir, jobId), 'report.json');

/** Keeps the report of a job's last run beside its record. */
export const saveJobReport = async (stateDir: string, report: AppJobReport): Promise<void> => writeFileAtomic(reportFile(stateDir, report.jobId), JSON.stringify(report));

/** The report of a job's last run, if it ever finished one. */
export const loadJobReport = async (stateDir: string, jobId: string): Promise<AppJobReport | undefined> => {
  try {
    return JSON.parse(await fs.readFile(reportFile(stateDir, jobId), 'utf8')) as AppJobReport;
  } catch {
    return undefined;
  }
};
