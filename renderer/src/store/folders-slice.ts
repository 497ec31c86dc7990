import type { StateCreator } from 'zustand';
import type { StartJobRequest } from '../../../src/contract/ipc.js';
import type { ArchiveLocation } from '../../../src/contract/account.js';
import type { AppState, FoldersSlice } from './types.js';
import { freshJobState, plannedJobState } from './job-slice.js';
import { pathsByTarget } from '../lib/folder-tree.js';

const MEGABYTE = 1024 * 1024;
/** More second-level folders than this (a screenful or two), and the tree opens with its first level closed. */
export const LARGE_TREE_SECOND_LEVEL = 60;

/** The archive read instead of the old account, when the user chose a restore. */
export const sourceArchiveOf = (s: Pick<AppState, 'sourceKind' | 'sourceArchivePath' | 'sourceArchiveFormat'>): ArchiveLocation | undefined =>
  s.sourceKind === 'archive' && s.sourceArchivePath !== null ? { format: s.sourceArchiveFormat, path: s.sourceArchivePath } : undefined;

export const createFoldersSlice: StateCreator<AppState, [], [], FoldersSlice> = (set, get) => ({
  plan: null,
  planState: 'idle',
  planError: null,
  selected: new Set(),
  renames: {},
  expanded: new Set(),
  filter: '',
  jobSettings: { connectionsPerSide: 2, maxMegabytesPerSecond: 0 },
  archivePath: null,
  archiveFormat: 'mbox',
  routes: {},
  activeFolderId: null,

  async loadPlan() {
    const isReload = get().plan !== null;
    set({ planState: 'loading', planError: null });
    const { archivePath, archiveFormat } = get();
    const source = sourceArchiveOf(get());
    const result = await get().bridge.planLoad({
      options: { renames: { ...get().renames } },
      ...(source ? { source } : archivePath !== null ? { archive: { format: archiveFormat, path: archivePath } } : {}),
    });
    if (!result.ok) {
      set({ planState: 'failed', planError: result.error });
      return;
    }
    const plan = result.value;
    if (isReload) {
      set({ plan, planState: 'ready' });
      return;
    }
    const selected = new Set(plan.folders.filter((f) => f.isSelected && f.source.isSelectable).map((f) => f.source.path));
    // Open the first level so the tree shows its shape; a large tree opens with only its first
    // level in view, so its shape fits on the screen and nothing scrolls the top names away.
    const expanded = new Set<string>();
    const secondLevel = plan.folders.filter((f) => f.source.segments.length === 2).length;
    if (secondLevel <= LARGE_TREE_SECOND_LEVEL) for (const f of plan.folders) if (f.source.segments.length === 1) expanded.add(f.source.path);
    set({ plan, planState: 'ready', selected, expanded });
  },
  setSelected(selected) {
    set({ selected });
  },
  setExpanded(expanded) {
    set({ expanded });
  },
  setFilter(filter) {
    set({ filter });
  },
  async renameFolder(sourcePath, destinationPath) {
    const plan = get().plan;
    const folder = plan?.folders.find((f) => f.source.path === sourcePath);
    const renames = { ...get().renames };
    const wanted = destinationPath.trim();
    if (wanted === '' || (folder && wanted === folder.destinationPath && !(sourcePath in renames))) delete renames[sourcePath];
    else renames[sourcePath] = wanted;
    set({ renames });
    // The engine maps the rename (separator, prefix, existing folders) and reports collisions.
    await get().loadPlan();
  },
  setJobSettings(patch) {
    set({ jobSettings: { ...get().jobSettings, ...patch } });
  },
  async chooseArchiveFolder() {
    const result = await get().bridge.archiveChooseFolder();
    if (!result.ok) {
      if (result.error.kind !== 'cancelled') set({ notice: { tone: 'error', text: result.error.message } });
      return;
    }
    set({ archivePath: result.value.path });
    await get().loadPlan();
  },
  async setArchiveFormat(format) {
    if (format === get().archiveFormat) return;
    set({ archiveFormat: format });
    // The names in an archive depend on its format only in detail, but the plan says what exists there.
    if (get().archivePath !== null) await get().loadPlan();
  },
  async clearArchive() {
    set({ archivePath: null });
    await get().loadPlan();
  },
  setRoute(paths, route) {
    const routes = { ...get().routes };
    for (const p of paths) {
      if (route === 'account') delete routes[p];
      else routes[p] = route;
    }
    set({ routes });
  },
  setActiveFolderId(id) {
    set({ activeFolderId: id });
  },
  async startJob() {
    const { selected, renames, jobSettings, bridge, plan, routes, archivePath, archiveFormat } = get();
    const source = sourceArchiveOf(get());
    // A restore goes to the new account only.
    const hasArchive = archivePath !== null && !source;
    const byTarget = pathsByTarget(plan?.folders ?? [], selected, routes, hasArchive);
    const request: StartJobRequest = {
      options: { renames: { ...renames } },
      selectedPaths: hasArchive ? [...byTarget.account] : [...selected],
      settings: {
        connectionsPerSide: jobSettings.connectionsPerSide,
        maxBytesPerSecond: Math.round(jobSettings.maxMegabytesPerSecond * MEGABYTE),
      },
      ...(hasArchive && byTarget.archive.size > 0 ? { archive: { format: archiveFormat, path: archivePath }, archivePaths: [...byTarget.archive] } : {}),
      ...(source ? { source } : {}),
    };
    set({ ...freshJobState(), ...(plan ? plannedJobState(plan, request) : {}), lastStart: request, isActionPending: true });
    const result = await bridge.jobsStart(request);
    if (!result.ok) {
      get().adoptJob(null);
      set({ isActionPending: false, notice: { tone: 'error', text: result.error.message } });
      return;
    }
    get().adoptJob(result.value.jobId);
  },
});
