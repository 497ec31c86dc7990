/**
 * Builds the plan a person looks at before anything is copied: every source folder with its
 * counts and size, where it lands, why, and which ones collide. Copies nothing.
 */
import type { CopyPlan, PlanOptions } from '../contract/plan.js';
import { ok, type Result } from '../contract/result.js';
import { mapFolders } from './map-folders.js';
import { detectProvider } from './provider-quirks.js';
import type { DestinationStore, SourceStore } from './store.js';

export const planCopy = async (source: SourceStore, destination: DestinationStore, options: PlanOptions = {}): Promise<Result<CopyPlan>> => {
  const [sourceFolders, destinationFolders] = await Promise.all([source.listFolders(), destination.listFolders()]);
  if (!sourceFolders.ok) return sourceFolders;
  if (!destinationFolders.ok) return destinationFolders;
  const sourceNs = source.namespace();
  const destinationNs = destination.namespace();
  const identify = (ns: typeof sourceNs) => detectProvider({ host: ns.server?.host ?? '', capabilities: ns.capabilities, serverName: ns.server?.name, greeting: ns.server?.greeting });
  const sourceQuirks = identify(sourceNs);
  const destinationQuirks = identify(destinationNs);
  const folders = mapFolders({
    sourceFolders: sourceFolders.value,
    source: sourceNs,
    destination: destinationNs,
    destinationFolders: destinationFolders.value,
    options,
    sourceQuirks,
    destinationQuirks,
  });
  const selected = folders.filter((f) => f.isSelected);
  const quota = await destination.quota?.();
  const { server: _sourceServer, ...sourceInfo } = sourceNs;
  const { server: _destinationServer, ...destinationInfo } = destinationNs;
  return ok({
    source: { ...sourceInfo, provider: sourceQuirks.name },
    destination: { ...destinationInfo, provider: destinationQuirks.name, maxMessageBytes: destinationQuirks.maxMessageBytes, quota },
    folders,
    selectedMessages: selected.reduce((n, f) => n + f.source.messages, 0),
    selectedBytes: selected.reduce((n, f) => n + f.source.sizeBytes, 0),
    hasCollisions: selected.some((f) => f.collidesWith.length > 0),
  });
};
