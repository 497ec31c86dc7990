/**
 * The pre-flight as the Choose folders screen shows it: the engine's pre-flight (made for the
 * folders selected when the plan was made) narrowed to the folders ticked for the new account now.
 * Narrowing is exact for what the engine looked at (its list of messages too large is per
 * folder); folders ticked since were not looked at, and are named so the person can check again
 * (a new plan: a few seconds against a real server, so never on every tick).
 */
import type { AppPlan } from '../../../src/contract/ipc.js';
import type { Preflight, RefusedMessage } from '../../../src/contract/plan.js';

export interface PreflightView {
  /** The largest message the new account takes in one piece, when it says or its provider is known. */
  maxMessageBytes: number | undefined;
  /** Messages in the ticked folders that the new account will not take, in the engine's order. */
  refused: RefusedMessage[];
  refusedBytes: number;
  /** The quota with what the ticked folders add; null when the new account tells none. */
  quota: { usedBytes: number; limitBytes: number; freeBytes: number; neededBytes: number; fits: boolean } | null;
  /** About what the ticked folders add to the new account (less what will not be sent or is there from earlier runs). */
  neededBytes: number;
  renamedFolders: Preflight['renamedFolders'];
  /** At a provider's daily upload limit: the days the ticked folders need. */
  dailyLimit: { bytesPerDay: number; days: number; provider: string } | undefined;
  /** Ticked folders (with messages) that the pre-flight did not look at: ticked after it was made. */
  uncheckedPaths: string[];
}

const sumSizes = (messages: readonly RefusedMessage[]): number => messages.reduce((n, m) => n + m.size, 0);

/** The plan's pre-flight for the folders going to the new account now; null when the plan has none. */
export function preflightOf(plan: AppPlan, accountPaths: ReadonlySet<string>): PreflightView | null {
  const preflight = plan.preflight;
  if (!preflight) return null;
  const checked = new Set(plan.folders.filter((f) => f.isSelected && f.source.isSelectable).map((f) => f.source.path));
  const ticked = plan.folders.filter((f) => accountPaths.has(f.source.path) && f.source.isSelectable);
  const refused = preflight.refused.filter((m) => accountPaths.has(m.folder));
  const refusedBytes = sumSizes(refused);
  // The engine's figure for the planned selection (it knows what earlier runs copied), moved by
  // what the ticks changed since: folders added or removed, less what of them will not be sent.
  const plannedNeeded = preflight.quota?.neededBytes ?? Math.max(0, plan.selectedBytes - preflight.refusedBytes);
  const tickedBytes = ticked.reduce((n, f) => n + f.source.sizeBytes, 0);
  const neededBytes = Math.max(0, plannedNeeded + (tickedBytes - refusedBytes) - (plan.selectedBytes - preflight.refusedBytes));
  const quota = preflight.quota
    ? {
        usedBytes: preflight.quota.usedBytes,
        limitBytes: preflight.quota.limitBytes,
        freeBytes: Math.max(0, preflight.quota.limitBytes - preflight.quota.usedBytes),
        neededBytes,
        fits: preflight.quota.usedBytes + neededBytes <= preflight.quota.limitBytes,
      }
    : null;
  const daily = preflight.dailyLimit;
  return {
    maxMessageBytes: preflight.maxMessageBytes,
    refused,
    refusedBytes,
    quota,
    neededBytes,
    renamedFolders: preflight.renamedFolders.filter((r) => accountPaths.has(r.folder)),
    dailyLimit: daily && neededBytes > 0 ? { ...daily, days: Math.ceil(neededBytes / daily.bytesPerDay) } : undefined,
    uncheckedPaths: ticked.filter((f) => !checked.has(f.source.path) && f.source.messages > 0).map((f) => f.source.path),
  };
}

/** True when the pre-flight has something to list beyond the quota (which the summary by the Start button says). */
export function hasFindings(view: PreflightView): boolean {
  return view.refused.length > 0 || view.renamedFolders.length > 0 || view.dailyLimit !== undefined || view.uncheckedPaths.length > 0;
}
