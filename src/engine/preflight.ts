/**
 * Pre-flight: what the selected folders will meet on the destination, found before anything is
 * copied. People move into Gmail and Microsoft 365, which refuse messages over a size, cap what
 * may be uploaded a day and have a quota; finding that out half-way through a move is what this
 * spares them. Reads only: sizes, a few headers of the messages over the limit, the quota.
 */
import type { CopyPlan, Preflight, RefusedMessage } from '../contract/plan.js';
import { ok, type Result } from '../contract/result.js';
import { detectProvider } from './provider-quirks.js';
import type { DestinationStore, SourceStore } from './store.js';

/** At most this many messages of one folder are listed by name (all of them are still refused). */
const REFUSED_LISTED_MAX = 10_000;

export interface PreflightOptions {
  /** Bytes this job already put on the destination in earlier runs (not needed again). */
  alreadyCopiedBytes?: number;
}

/** RFC 7889: `APPENDLIMIT=N` in CAPABILITY is the largest message the server takes anywhere. */
export const appendLimitOf = (capabilities: readonly string[]): number | undefined => {
  for (const capability of capabilities) {
    const m = /^APPENDLIMIT=(\d+)$/i.exec(capability);
    if (m) return Number(m[1]);
  }
  return undefined;
};

const megabytes = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;

/** The UIDs over `limit` in one source folder, by SEARCH where the store can, else by sizes. */
const largerThan = async (source: SourceStore, path: string, limit: number): Promise<Result<number[]>> => {
  if (source.searchLarger) return source.searchLarger(path, limit);
  const listing = await source.listUids(path, undefined, { withSizes: true });
  if (!listing.ok) return listing;
  const deleted = new Set(listing.value.deletedUids);
  const sizes = listing.value.sizes ?? (await source.listSizes(path, listing.value.uids));
  if (!(sizes instanceof Map) && !sizes.ok) return sizes;
  const bySize = sizes instanceof Map ? sizes : sizes.value;
  return ok(listing.value.uids.filter((uid) => !deleted.has(uid) && (bySize.get(uid) ?? 0) > limit));
};

/** Builds the pre-flight of a plan (see the file header). Errors are the stores' own. */
export const preflightPlan = async (source: SourceStore, destination: DestinationStore, plan: CopyPlan, options: PreflightOptions = {}): Promise<Result<Preflight>> => {
  const destinationNs = destination.namespace();
  const quirks = detectProvider({ host: destinationNs.server?.host ?? '', capabilities: destinationNs.capabilities, serverName: destinationNs.server?.name, greeting: destinationNs.server?.greeting });
  const limits = [appendLimitOf(plan.destination.capabilities), plan.destination.maxMessageBytes].filter((n): n is number => n !== undefined && n > 0);
  const maxMessageBytes = limits.length > 0 ? Math.min(...limits) : undefined;
  const reason = maxMessageBytes !== undefined ? `Larger than the ${megabytes(maxMessageBytes)} the new account accepts for one message.` : '';

  const refused: RefusedMessage[] = [];
  const selected = plan.folders.filter((f) => f.isSelected && f.source.isSelectable && f.source.messages > 0);
  if (maxMessageBytes !== undefined) {
    for (const folder of selected) {
      const uids = await largerThan(source, folder.source.path, maxMessageBytes);
      if (!uids.ok) return uids;
      if (uids.value.length === 0) continue;
      const metas = await source.listMessages(folder.source.path, uids.value.slice(0, REFUSED_LISTED_MAX));
      if (!metas.ok) return metas;
      for (const meta of metas.value.sort((a, b) => a.uid - b.uid)) {
        if (meta.sizeBytes <= maxMessageBytes) continue; // SEARCH LARGER counts differently on some servers
        refused.push({ folder: folder.source.path, uid: meta.uid, size: meta.sizeBytes, date: dateOf(meta.internalDate), subject: meta.subject, reason });
      }
    }
  }
  const refusedBytes = refused.reduce((sum, m) => sum + m.size, 0);
  const neededBytes = Math.max(0, plan.selectedBytes - refusedBytes - (options.alreadyCopiedBytes ?? 0));
  const quota = plan.destination.quota ? { ...plan.destination.quota, neededBytes, fits: plan.destination.quota.usedBytes + neededBytes <= plan.destination.quota.limitBytes } : null;
  const renamedFolders = selected.flatMap((f) =>
    f.reasons.filter((r) => r.kind === 'sanitized').map((r) => ({ folder: f.source.path, destination: f.destinationPath, reason: r.kind === 'sanitized' ? r.detail : '' })),
  );
  const dailyLimit =
    quirks.dailyUploadBytes !== undefined && neededBytes > 0
      ? { bytesPerDay: quirks.dailyUploadBytes, days: Math.ceil(neededBytes / quirks.dailyUploadBytes), provider: quirks.name }
      : undefined;
  return ok({ quota, maxMessageBytes, refused, refusedBytes, renamedFolders, ...(dailyLimit ? { dailyLimit } : {}) });
};

const dateOf = (date: Date): string | undefined => (Number.isNaN(date.getTime()) ? undefined : date.toISOString());
