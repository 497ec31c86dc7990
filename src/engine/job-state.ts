/**
 * Where a job keeps its state: `<stateDir>/jobs/<jobId>/` with `job.json` (what the job is, its
 * last known status, for the resume offer) and `folders/*.jsonl` (the journals). The job id
 * depends only on the two accounts, so running the same move again finds its journals.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AccountEndpoint, ArchiveLocation } from '../contract/account.js';
import type { JobSettings, JobStatus } from '../contract/job.js';
import type { PlanOptions } from '../contract/plan.js';
import { writeFileAtomic } from '../fs/write-file-atomic.js';

export interface JobRecord {
  jobId: string;
  source: AccountEndpoint | { archive: string };
  destination: AccountEndpoint | { archive: string };
  options: PlanOptions;
  selectedPaths: string[];
  createdAt: number;
  updatedAt: number;
  status: JobStatus;
  bytesDone: number;
  bytesTotal: number;
  settings?: Partial<JobSettings>;
  /** When the destination is a local archive rather than an account. */
  archiveLocation?: ArchiveLocation;
}

/** The user's app-data folder for Mailferry on each platform. */
export const defaultStateDirectory = (): string => {
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Mailferry');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Mailferry');
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Mailferry');
};

/** Identifies a location without its secret: user, host and port, or an archive path. */
export const locationKey = (location: AccountEndpoint | { archive: string }): string =>
  'archive' in location ? `archive:${path.resolve(location.archive)}` : `imap:${location.user.toLowerCase()}@${location.host.toLowerCase()}:${location.port}`;

export const jobIdOf = (source: AccountEndpoint | { archive: string }, destination: AccountEndpoint | { archive: string }): string =>
  createHash('sha256').update(`${locationKey(source)}\n${locationKey(destination)}`).digest('hex').slice(0, 16);

export const jobDirectory = (stateDir: string, jobId: string): string => path.join(stateDir, 'jobs', jobId);
export const journalDirectory = (stateDir: string, jobId: string): string => path.join(jobDirectory(stateDir, jobId), 'folders');

/** Job records are written with the one atomic write (it also fsyncs the directory). */
export { writeFileAtomic };

export const saveJobRecord = async (stateDir: string, record: JobRecord): Promise<void> =>
  writeFileAtomic(path.join(jobDirectory(stateDir, record.jobId), 'job.json'), JSON.stringify(record, null, 2));

const isJobRecord = (v: unknown): v is JobRecord =>
  typeof v === 'object' && v !== null && typeof (v as JobRecord).jobId === 'string' && typeof (v as JobRecord).status === 'string' && typeof (v as JobRecord).source === 'object';

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
