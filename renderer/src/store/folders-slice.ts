import type { StateCreator } from 'zustand';
import type { StartJobRequest } from '../../../src/contract/ipc.js';
import type { ArchiveLocation } from '../../../src/contract/account.js';
import type { AppState, FoldersSlice, JobSettingsForm } from './types.js';
import { freshJobState, plannedJobState } from './job-slice.js';
import { pathsByTarget } from '../lib/folder-tree.js';
import { preflightOf } from '../lib/preflight-view.js';
import { askForFolder } from './ask-for-folder.js';

const MEGABYTE = 1024 * 1024;
/** What "recent" means for newest mail first unless the person says otherwise (the engine's default too). */
import { DEFAULT_RECENT_DAYS } from '../../../src/contract/job.js';

export { DEFAULT_RECENT_DAYS };
/** More second-level folders than this (a screenful or two), and the tree opens with its first level closed. */
export const LARGE_TREE_SECOND_LEVEL = 60;

/** The archive read instead of the old account, when the user chose a restore. */
export const sourceArchiveOf = (s: Pick<AppState, 'sourceKind' | 'sourceArchivePath' | 'sourceArchiveFormat'>): ArchiveLocation | undefined =>
  s.sourceKind === 'archive' && s.sourceArchivePath !== null ? { format: s.sourceArchiveFormat, path: s.sourceArchivePath } : undefined;

/** The archive that is the job's only destination, when the person chose to save the mail to this computer. */
export const archiveOnlyOf = (s: Pick<AppState, 'sourceKind' | 'destinationKind' | 'destinationArchivePath' | 'destinationArchiveFormat'>): ArchiveLocation | undefined =>
  s.sourceKind === 'account' && s.destinationKind === 'archive' && s.destinationArchivePath !== null ? { format: s.destinationArchiveFormat, path: s.destinationArchivePath } : undefined;

/** The job's settings as the engine takes them; the switches only when on. */
export const jobSettingsOf = (form: JobSettingsForm): StartJobRequest['settings'] => ({
  connectionsPerSide: form.connectionsPerSide,
  maxBytesPerSecond: Math.round(form.maxMegabytesPerSecond * MEGABYTE),
  ...(form.newestFirst ? { newestFirst: true, recentDays: form.recentDays } : {}),
  ...(form.syncFlags ? { syncFlags: true } : {}),
});

export const createFoldersSlice: StateCreator<AppState, [], [], FoldersSlice> = (set, get) => ({
  plan: null,
  planState: 'idle',
  planError: null,
  selected: new Set(),
  renames: {},
  expanded: new Set(),
  filter: '',
  jobSettings: { connectionsPerSide: 2, maxMegabytesPerSecond: 0, newestFirst: false, recentDays: DEFAULT_RECENT_DAYS, syncFlags: false },
  archivePath: null,
  archiveFormat: 'mbox',
  routes: {},
  activeFolderId: null,
  planInclude: null,
  refusedChoice: 'skip',
  refusedArchivePath: null,
  refusedArchiveFormat: 'mbox',

  async loadPlan() {
    const isReload = get().plan !== null;
    // A first plan is for the default selection; a reload keeps what "Check again" asked for.
    const include = isReload ? get().planInclude : null;
    set({ planState: 'loading', planError: null, planInclude: include });
    const { archivePath, archiveFormat } = get();
    const source = sourceArchiveOf(get());
    const archiveOnly = archiveOnlyOf(get());
    const result = await get().bridge.planLoad({
      options: { renames: { ...get().renames }, ...(include ? { include } : {}) },
      ...(source ? { source } : archiveOnly ? { archive: archiveOnly, archiveOnly: true } : archivePath !== null ? { archive: { format: archiveFormat, path: archivePath } } : {}),
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
    const path = await askForFolder(get, set);
    if (path === undefined) return;
    set({ archivePath: path });
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
  async checkSelectionAgain() {
    // Every ticked folder, whichever place it goes: the plan then covers each of them (a parent
    // brings its subfolders along, which only widens what is looked at).
    set({ planInclude: [...get().selected].sort() });
    await get().loadPlan();
  },
  setRefusedChoice(choice) {
    set({ refusedChoice: choice });
  },
  async chooseRefusedArchive() {
    const path = await askForFolder(get, set);
    if (path !== undefined) set({ refusedArchivePath: path, refusedChoice: 'archive' });
  },
  setRefusedArchiveFormat(format) {
    set({ refusedArchiveFormat: format });
  },
  async startJob() {
    const { selected, renames, jobSettings, bridge, plan, routes, archivePath, archiveFormat, refusedChoice, refusedArchivePath, refusedArchiveFormat } = get();
    const source = sourceArchiveOf(get());
    const archiveOnly = archiveOnlyOf(get());
    // A restore goes to the new account only; an archive-only job to its archive only.
    const hasArchive = archivePath !== null && !source && !archiveOnly;
    const byTarget = pathsByTarget(plan?.folders ?? [], selected, routes, hasArchive);
    // Messages too large for the new account go to the archive chosen for them, if the selection has any.
    const preflight = plan && !archiveOnly ? preflightOf(plan, byTarget.account) : null;
    const refusedTo = refusedChoice === 'archive' && refusedArchivePath !== null && !source && (preflight?.refused.length ?? 0) > 0 ? { format: refusedArchiveFormat, path: refusedArchivePath } : undefined;
    const request: StartJobRequest = archiveOnly
      ? // Without archivePaths, every selected folder goes to the archive alone.
        { options: { renames: { ...renames } }, selectedPaths: [...selected], settings: jobSettingsOf(jobSettings), archive: archiveOnly }
      : {
          options: { renames: { ...renames } },
          selectedPaths: hasArchive ? [...byTarget.account] : [...selected],
          settings: jobSettingsOf(jobSettings),
          ...(hasArchive && byTarget.archive.size > 0 ? { archive: { format: archiveFormat, path: archivePath }, archivePaths: [...byTarget.archive] } : {}),
          ...(source ? { source } : {}),
          ...(refusedTo ? { refusedTo } : {}),
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
