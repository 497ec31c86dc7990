/**
 * Builds the plan a person looks at before anything is copied: every source folder with its
 * counts and size, where it lands, why, and which ones collide. Copies nothing.
 */
import type { CopyPlan, PlanOptions } from '../contract/plan.js';
import { ok, type Result } from '../contract/result.js';
import { mapFolders } from './map-folders.js';
import type { DestinationStore, SourceStore } from './store.js';

export const planCopy = async (source: SourceStore, destination: DestinationStore, options: PlanOptions = {}): Promise<Result<CopyPlan>> => {
  const [sourceFolders, destinationFolders] = await Promise.all([source.listFolders(), destination.listFolders()]);
  if (!sourceFolders.ok) return sourceFolders;
  if (!destinationFolders.ok) return destinationFolders;
  const sourceNs = source.namespace();
  const destinationNs = destination.namespace();
  const folders = mapFolders({
    sourceFolders: sourceFolders.value,
    source: sourceNs,
    destination: destinationNs,
    destinationFolders: destinationFolders.value,
    options,
  });
  const selected = folders.filter((f) => f.isSelected);
  const quota = await destination.quota?.();
  return ok({
    source: sourceNs,
    destination: { ...destinationNs, quota },
    folders,
    selectedMessages: selected.reduce((n, f) => n + f.source.messages, 0),
    selectedBytes: selected.reduce((n, f) => n + f.source.sizeBytes, 0),
    hasCollisions: selected.some((f) => f.collidesWith.length > 0),
  });
};
