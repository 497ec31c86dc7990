/**
 * Turns planned ends and a person's choices into a job: its id, its record and its parts (one
 * per destination, each with its folders and its own journals). A new job and a resumed one are
 * built the same way; a resumed one takes its parts and paths from its record.
 *
 * The job is named after its main destination (the account side when there is one), so a move
 * that later also keeps an archive is still the same move; each part's journals live under the
 * id of its own source and destination, so they are found again whoever starts the job.
 */
import type { ArchiveLocation, MailLocation } from '../contract/account.js';
import type { FolderTarget } from '../contract/ipc.js';
import { openLocationAsDestination } from '../locations/open-location.js';
import type { JobSettings } from '../contract/job.js';
import type { PlanOptions } from '../contract/plan.js';
import { err, migrationError, ok, type Result } from '../contract/result.js';
import type { DestinationStore } from '../engine/store.js';
import type { JobFolder } from '../engine/run-job.js';
import { jobFoldersOf } from './job-folders.js';
import type { JobEnds } from './job-ends.js';
import { jobIdOf, jobLocationOf, loadJobRecord, partsOf, type JobRecord } from './job-records.js';
import type { JobPlans } from './plan-job.js';

/** One destination's share of a job: its folders, and the id its journals live under. */
export interface JobPart {
  target: FolderTarget;
  partId: string;
  folders: JobFolder[];
  openDestination(): Promise<Result<DestinationStore>>;
  /** Where this part keeps messages too large for its destination (the account part only). */
  openRefusedTo?(): Promise<Result<DestinationStore>>;
}

/** A job ready to run: its record, a way to open the source, and its parts in running order. */
export interface PreparedJob {
  record: JobRecord;
  openSource: JobEnds['openSource'];
  parts: JobPart[];
}

/** Source paths per destination; a destination without an entry gets the folders its plan selects. */
export type JobRoutes = Partial<Record<FolderTarget, readonly string[]>>;

/** What a person chose for a job: plan options, folders per destination, settings. */
export interface JobChoice {
  options: PlanOptions;
  routes: JobRoutes;
  settings?: Partial<JobSettings>;
  /** Keep messages too large for the new account in this archive instead of leaving them out. */
  refusedTo?: MailLocation;
}

/** Opens the archive for messages too large for the account, when one was chosen. */
const refusedToOpener = (location: ArchiveLocation | undefined): JobPart['openRefusedTo'] =>
  location ? () => openLocationAsDestination({ kind: 'archive', archive: location }, {}) : undefined;

/** Prepares a new run of the job between these ends (the same ends give the same job id). */
export const prepareJob = async (stateDir: string, ends: JobEnds, plans: JobPlans, choice: JobChoice, now: () => number = Date.now): Promise<Result<PreparedJob>> => {
  const source = jobLocationOf(ends.source);
  const sides = ends.destinations.map((d) => {
    const location = jobLocationOf(d.location);
    return { destination: d, location, partId: jobIdOf(source, location) };
  });
  const main = sides.find((s) => s.destination.target === 'account') ?? sides[0];
  if (!main) return err(migrationError('bad-input', 'A move needs somewhere to go.'));
  const refusedTo = choice.refusedTo?.kind === 'archive' ? choice.refusedTo.archive : undefined;
  const parts: JobPart[] = sides.map(({ destination, partId }) => ({
    target: destination.target,
    partId,
    folders: jobFoldersOf(plans[destination.target], choice.routes[destination.target]),
    openDestination: destination.open,
    ...(destination.target === 'account' && refusedTo ? { openRefusedTo: refusedToOpener(refusedTo) } : {}),
  }));
  const previous = await loadJobRecord(stateDir, main.partId);
  const archive = ends.destinations.find((d) => d.target === 'archive')?.location;
  const record: JobRecord = {
    jobId: main.partId,
    source,
    destination: main.location,
    options: choice.options,
    selectedPaths: [...new Set(parts.flatMap((p) => p.folders.map((f) => f.sourcePath)))],
    createdAt: previous?.createdAt ?? now(),
    updatedAt: now(),
    status: 'queued',
    bytesDone: 0,
    bytesTotal: parts.reduce((n, p) => n + p.folders.reduce((m, f) => m + f.sizeBytes, 0), 0),
    ...(choice.settings ? { settings: choice.settings } : {}),
    ...(archive?.kind === 'archive' ? { archiveLocation: archive.archive } : {}),
    ...(ends.source.kind === 'archive' ? { sourceArchive: ends.source.archive } : {}),
    ...(refusedTo ? { refusedTo } : {}),
    parts: parts.map((p) => ({ target: p.target, partId: p.partId, selectedPaths: p.folders.map((f) => f.sourcePath) })),
  };
  return ok({ record, openSource: ends.openSource, parts });
};

/**
 * Prepares another run of a recorded job over fresh plans (folder sizes change between runs):
 * every folder of its parts, or only `routes` (a retry of some folders).
 */
export const prepareRerun = (record: JobRecord, ends: JobEnds, plans: JobPlans, routes?: JobRoutes): PreparedJob => {
  const recorded = partsOf(record);
  const partFor = (target: FolderTarget) => recorded.find((p) => p.target === target);
  const parts = ends.destinations.map((d) => ({
    target: d.target,
    partId: partFor(d.target)?.partId ?? record.jobId,
    folders: jobFoldersOf(plans[d.target], (routes ?? {})[d.target] ?? partFor(d.target)?.selectedPaths ?? []),
    openDestination: d.open,
    ...(d.target === 'account' && record.refusedTo ? { openRefusedTo: refusedToOpener(record.refusedTo) } : {}),
  }));
  return { record, openSource: ends.openSource, parts };
};
