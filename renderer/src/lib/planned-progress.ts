/**
 * What the Move screen shows before the engine's first progress event: the plan already knows
 * every chosen folder's size and message count, so the totals and the waiting rows are there at
 * once (rather than "0 bytes of 0 bytes"). The engine's events replace these figures as they come.
 */
import type { AppFolderProgress, AppJobProgress, AppPlan, JobSummary, StartJobRequest } from '../../../src/contract/ipc.js';

/** Waiting rows for every folder a start request sends somewhere, with the plan's sizes. */
export function plannedProgress(plan: AppPlan, request: StartJobRequest, now: number): AppJobProgress {
  const byPath = new Map(plan.folders.map((f) => [f.source.path, f]));
  const archiveNames = new Map((plan.archive?.folders ?? []).map((f) => [f.sourcePath, f.destinationPath]));
  const hasArchive = request.archive !== undefined;
  const archivePaths = hasArchive ? (request.archivePaths ?? request.selectedPaths) : [];
  const accountPaths = hasArchive && request.archivePaths === undefined ? [] : request.selectedPaths;
  const rows: AppFolderProgress[] = [];
  const add = (path: string, target: 'account' | 'archive'): void => {
    const folder = byPath.get(path);
    if (!folder || !folder.source.isSelectable) return;
    rows.push({
      sourcePath: path,
      destinationPath: target === 'archive' ? archiveNames.get(path) ?? path : folder.destinationPath,
      status: 'waiting',
      messagesTotal: folder.source.messages,
      messagesDone: 0,
      bytesTotal: folder.source.sizeBytes,
      bytesDone: 0,
      ...(hasArchive ? { target } : {}),
    });
  };
  for (const path of accountPaths) add(path, 'account');
  for (const path of archivePaths) add(path, 'archive');
  return {
    status: 'queued',
    bytesPerSecond: 0,
    etaSeconds: null,
    startedAt: now,
    folders: rows,
    messagesTotal: rows.reduce((n, r) => n + r.messagesTotal, 0),
    messagesDone: 0,
    bytesTotal: rows.reduce((n, r) => n + r.bytesTotal, 0),
    bytesDone: 0,
  };
}

/** The figures an interrupted job's record kept, for a resume from an earlier session. */
export function progressFromSummary(summary: JobSummary): AppJobProgress {
  return {
    status: 'queued',
    bytesPerSecond: 0,
    etaSeconds: null,
    startedAt: summary.startedAt,
    folders: [],
    messagesTotal: 0,
    messagesDone: 0,
    bytesTotal: summary.bytesTotal,
    bytesDone: summary.bytesDone,
  };
}
