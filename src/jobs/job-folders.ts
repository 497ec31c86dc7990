/** From a plan to the folders a job copies, and the check that none of them land on one place. */
import type { CopyPlan } from '../contract/plan.js';
import { jobFolderOf, type JobFolder } from '../engine/run-job.js';

/** The plan's selected folders (or, given `paths`, those of them that can hold mail), as the runner takes them. */
export const jobFoldersOf = (plan: CopyPlan | undefined, paths?: readonly string[]): JobFolder[] => {
  if (!plan) return [];
  const wanted = paths && new Set(paths);
  return plan.folders
    .filter((f) => (wanted ? wanted.has(f.source.path) && f.source.isSelectable : f.isSelected))
    .map((f) => jobFolderOf(f, plan.preflight?.maxMessageBytes));
};

/** The chosen folders that would land on the same destination folder as another chosen one. */
export const collidingFolders = (plan: CopyPlan | undefined, paths: readonly string[]): CopyPlan['folders'] => {
  if (!plan) return [];
  const chosen = new Set(paths);
  return plan.folders.filter((f) => chosen.has(f.source.path) && f.collidesWith.some((other) => chosen.has(other)));
};
