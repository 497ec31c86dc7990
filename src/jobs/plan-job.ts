/**
 * Plans a job before it starts: the source and every destination opened at once, each
 * destination planned over the one source connection, everything closed again. Copies nothing.
 */
import type { FolderTarget } from '../contract/ipc.js';
import type { CopyPlan, PlanOptions } from '../contract/plan.js';
import { ok, type MigrationError, type Result } from '../contract/result.js';
import { journaledBytes } from '../engine/folder-journal.js';
import { planCopy } from '../engine/plan-copy.js';
import { preflightPlan } from '../engine/preflight.js';
import type { JobEnds } from './job-ends.js';
import { jobIdOf, jobLocationOf, journalDirectory } from './job-records.js';

/** The plan of each destination of a job. */
export type JobPlans = Partial<Record<FolderTarget, CopyPlan>>;

/** Why a job could not be planned: a side that did not open (login, TLS, network), or the planning itself. */
export type PlanJobFailure = MigrationError & { failedAt: 'source' | FolderTarget | 'plan' };

/**
 * Plans every destination of a job over one source connection, each with its pre-flight
 * (preflight.ts: quota, size limit, ...; with `stateDir`, what this job already copied there is
 * not counted as needed again); copies nothing.
 */
export const planJob = async (ends: JobEnds, options: PlanOptions, where: { stateDir?: string } = {}): Promise<Result<JobPlans, PlanJobFailure>> => {
  const [source, ...destinations] = await Promise.all([ends.openSource(), ...ends.destinations.map((d) => d.open())]);
  const opened = destinations.flatMap((d) => (d.ok ? [d.value] : []));
  try {
    if (!source.ok) return { ok: false, error: { ...source.error, failedAt: 'source' } };
    const plans: JobPlans = {};
    for (const [i, destination] of destinations.entries()) {
      const target = (ends.destinations[i] as JobEnds['destinations'][number]).target;
      if (!destination.ok) return { ok: false, error: { ...destination.error, failedAt: target } };
      const plan = await planCopy(source.value, destination.value, options);
      if (!plan.ok) return { ok: false, error: { ...plan.error, failedAt: 'plan' } };
      const pairs = plan.value.folders.filter((f) => f.isSelected).map((f) => ({ sourcePath: f.source.path, destinationPath: f.destinationPath }));
      const partId = jobIdOf(jobLocationOf(ends.source), jobLocationOf((ends.destinations[i] as JobEnds['destinations'][number]).location));
      const alreadyCopiedBytes = where.stateDir ? await journaledBytes(journalDirectory(where.stateDir, partId), pairs) : 0;
      const preflight = await preflightPlan(source.value, destination.value, plan.value, { alreadyCopiedBytes });
      if (!preflight.ok) return { ok: false, error: { ...preflight.error, failedAt: 'plan' } };
      plans[target] = { ...plan.value, preflight: preflight.value };
    }
    return ok(plans);
  } finally {
    await Promise.allSettled([...(source.ok ? [source.value.close()] : []), ...opened.map((d) => d.close())]);
  }
};
