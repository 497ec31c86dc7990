/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useId, useMemo, useState } from 'react';
import { useAppStore, useAppStoreApi } from '../store/context.js';
import { buildFolderTree, filterMatches, findCollisions, pathsByTarget, selectablePathsUnder, selectedTotals, totalBytesOf, visibleRows } from '../lib/folder-tree.js';
import { formatBytes, formatCount, formatEta, plural } from '../lib/format.js';
import { ErrorBox } from './ErrorBox.js';
import { FolderTree } from './FolderTree.js';
import { Icon } from './Icons.js';
import { ScreenTitle } from './ScreenTitle.js';
import { ArchivePanel } from './ArchivePanel.js';
import { formatLabel } from './ArchiveFormatOptions.js';
import { RouteChooser } from './RouteChooser.js';
import { ActionBar } from './ActionBar.js';
import { MoreOptions } from './MoreOptions.js';
import { archiveOnlyOf, sourceArchiveOf } from '../store/folders-slice.js';
import { hasFindings, preflightOf } from '../lib/preflight-view.js';
import { PreflightPanel, quotaSentence } from './PreflightPanel.js';

/** A cautious rate for the estimate before anything has moved; the Move screen measures the real one. */
const ASSUMED_BYTES_PER_SECOND = 2 * 1024 * 1024;

function estimateText(bytes: number): string {
  const eta = formatEta(bytes / ASSUMED_BYTES_PER_SECOND);
  return eta === 'less than a minute' ? 'Under a minute' : `Roughly ${eta.replace(/^about /, '')}`;
}

export function FoldersScreen() {
  const plan = useAppStore((s) => s.plan);
  const planState = useAppStore((s) => s.planState);
  const planError = useAppStore((s) => s.planError);
  const selected = useAppStore((s) => s.selected);
  const renames = useAppStore((s) => s.renames);
  const filter = useAppStore((s) => s.filter);
  const expanded = useAppStore((s) => s.expanded);
  const jobSettings = useAppStore((s) => s.jobSettings);
  const isPending = useAppStore((s) => s.isActionPending);
  const routes = useAppStore((s) => s.routes);
  const archivePath = useAppStore((s) => s.archivePath);
  const archiveFormat = useAppStore((s) => s.archiveFormat);
  const activeFolderId = useAppStore((s) => s.activeFolderId);
  // Single values from the store (a selector that builds an object would re-render forever).
  const sourceKind = useAppStore((s) => s.sourceKind);
  const sourceArchivePath = useAppStore((s) => s.sourceArchivePath);
  const sourceArchiveFormat = useAppStore((s) => s.sourceArchiveFormat);
  const restoreFrom = sourceArchiveOf({ sourceKind, sourceArchivePath, sourceArchiveFormat });
  const destinationKind = useAppStore((s) => s.destinationKind);
  const destinationArchivePath = useAppStore((s) => s.destinationArchivePath);
  const destinationArchiveFormat = useAppStore((s) => s.destinationArchiveFormat);
  const refusedChoice = useAppStore((s) => s.refusedChoice);
  const refusedArchivePath = useAppStore((s) => s.refusedArchivePath);
  const refusedArchiveFormat = useAppStore((s) => s.refusedArchiveFormat);
  // Saving to this computer only: every ticked folder goes to that archive, nothing to an account.
  const archiveOnly = archiveOnlyOf({ sourceKind, destinationKind, destinationArchivePath, destinationArchiveFormat });
  const hasArchive = archivePath !== null && restoreFrom === undefined && archiveOnly === undefined;
  // Actions never change; take them from the store once rather than subscribing to all state.
  const { setFilter, setSelected, setExpanded, loadPlan, goTo, startJob } = useAppStoreApi().getState();
  const [showOptions, setShowOptions] = useState(false);
  const treeId = useId().replace(/:/g, '');

  const tree = useMemo(() => (plan ? buildFolderTree(plan.folders) : null), [plan]);
  const byTarget = useMemo(() => {
    const paths = pathsByTarget(plan?.folders ?? [], selected, routes, hasArchive);
    return archiveOnly ? { account: new Set<string>(), archive: new Set([...paths.account, ...paths.archive]) } : paths;
  }, [plan, selected, routes, hasArchive, archiveOnly]);
  // The engine's pre-flight for what goes to the new account now (none for an archive-only job).
  const preflight = useMemo(() => (plan && !archiveOnly ? preflightOf(plan, byTarget.account) : null), [plan, archiveOnly, byTarget]);
  const totals = useMemo(() => selectedTotals(plan?.folders ?? [], byTarget.account), [plan, byTarget]);
  const archiveTotals = useMemo(() => selectedTotals(plan?.folders ?? [], byTarget.archive), [plan, byTarget]);
  const collisions = useMemo(() => findCollisions(plan?.folders ?? [], byTarget.account, renames), [plan, byTarget, renames]);
  const archiveCollisions = useMemo(
    () => (plan?.archive?.folders ?? []).filter((f) => byTarget.archive.has(f.sourcePath) && f.collidesWith.some((o) => byTarget.archive.has(o))).length,
    [plan, byTarget],
  );
  const rows = useMemo(() => (tree ? visibleRows(tree, expanded, filterMatches(tree, filter)) : []), [tree, expanded, filter]);

  if (planState === 'failed' && planError) {
    return (
      <section className="screen" aria-labelledby="folders-title">
        <ScreenTitle id="folders-title">Choose what to keep</ScreenTitle>
        <ErrorBox error={planError}>
          <div className="row-actions">
            <button type="button" className="button" onClick={() => void loadPlan()}>
              Try again
            </button>
            <button type="button" className="button-link" onClick={() => goTo('accounts')}>
              Back to accounts
            </button>
          </div>
        </ErrorBox>
      </section>
    );
  }
  if (!plan || !tree) {
    return (
      <section className="screen" aria-labelledby="folders-title" aria-busy="true">
        <ScreenTitle id="folders-title">Choose what to keep</ScreenTitle>
        <p className="loading" role="status">
          <span className="spinner" aria-hidden="true" /> {restoreFrom ? 'Reading the folders of the archive…' : 'Reading the folders of the old account…'}
        </p>
      </section>
    );
  }

  const matches = filterMatches(tree, filter);
  const scopeIds = matches === null ? tree.roots : tree.roots.filter((id) => matches.has(id));
  const scopePaths = (): string[] => {
    const all = scopeIds.flatMap((id) => selectablePathsUnder(tree, id));
    return matches === null ? all : all.filter((p) => matches.has(p));
  };
  // Without the engine's pre-flight (an older plan), the quota against the selection's size.
  const quota = preflight ? null : plan.destination.quota;
  const freeBytes = quota ? Math.max(0, quota.limitBytes - quota.usedBytes) : null;
  const isOverQuota = freeBytes !== null && totals.bytes > freeBytes;
  const hasCollisions = collisions.size > 0 || archiveCollisions > 0;
  const refusedCount = preflight?.refused.length ?? 0;
  const canKeepRefused = restoreFrom === undefined;
  const needsRefusedFolder = refusedCount > 0 && canKeepRefused && refusedChoice === 'archive' && refusedArchivePath === null;
  const canStart = totals.folders + archiveTotals.folders > 0 && !hasCollisions && !needsRefusedFolder && !isPending && planState !== 'loading';
  // The folder the tree's keyboard focus is on (the tree falls back to its first row, so do we).
  const activeNodeId = rows.some((r) => r.id === activeFolderId) ? activeFolderId ?? undefined : rows[0]?.id;
  const folderCount = tree.order.length;
  const parentIds = tree.order.filter((id) => tree.nodes.get(id)!.childIds.length > 0);
  const isAllExpanded = parentIds.length > 0 && parentIds.every((id) => expanded.has(id));

  return (
    <section className={preflight && hasFindings(preflight) ? 'screen screen-folders has-preflight' : 'screen screen-folders'} aria-labelledby="folders-title">
      <div className="screen-intro">
        <ScreenTitle id="folders-title">Choose what to keep</ScreenTitle>
        <p className="lead">
          {plural(folderCount, 'folder')}, {formatBytes(totalBytesOf(tree))} {restoreFrom ? `in the ${formatLabel(restoreFrom.format)} archive ${restoreFrom.path}` : 'on the old account'}
          {archiveOnly ? `, to be saved as ${formatLabel(archiveOnly.format)} in ${archiveOnly.path}` : ''}. Tick what comes along; the bars show where the space is.
        </p>
      </div>

      {restoreFrom === undefined && archiveOnly === undefined && archivePath !== null && <ArchivePanel />}

      <div className="toolbar">
        <div className="search">
          <label htmlFor={`${treeId}-filter`} className="visually-hidden">
            Filter folders
          </label>
          <input id={`${treeId}-filter`} type="search" placeholder="Filter folders" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </div>
        <div className="toolbar-buttons">
          <button type="button" className="button small" onClick={() => setSelected(new Set([...selected, ...scopePaths()]))}>
            {matches === null ? 'Select all' : 'Select matches'}
          </button>
          <button
            type="button"
            className="button small"
            onClick={() => {
              const remove = new Set(scopePaths());
              setSelected(new Set([...selected].filter((p) => !remove.has(p))));
            }}
          >
            {matches === null ? 'Select none' : 'Clear matches'}
          </button>
          <button
            type="button"
            className="button small"
            onClick={() => setExpanded(isAllExpanded ? new Set() : new Set(parentIds))}
          >
            {isAllExpanded ? 'Collapse all' : 'Expand all'}
          </button>
        </div>
        {restoreFrom === undefined && archiveOnly === undefined && archivePath === null && <ArchivePanel />}
      </div>

      <div className="tree-frame">
        <div className="tree-head" aria-hidden="true">
          <span>Folder</span>
          <span className="num">Messages</span>
          <span className="num">Size</span>
          <span>Goes to</span>
        </div>
        {hasArchive && <RouteChooser tree={tree} nodeId={activeNodeId} />}
        <FolderTree tree={tree} treeId={treeId} />
      </div>
      <p className="muted small keyboard-hint">
        {archiveOnly
          ? 'Keys: arrows move and open, Space ticks, Home/End jump.'
          : `Double-click a name on the right to rename it. Keys: arrows move and open, Space ticks, Enter renames${hasArchive ? ', D switches new account / archive / both' : ', Home/End jump'}.`}
      </p>

      {preflight && hasFindings(preflight) && <PreflightPanel view={preflight} canKeepRefused={canKeepRefused} />}

      <ActionBar
        label="Selection and next step"
        above={showOptions ? <MoreOptions id={`${treeId}-options`} hasArchive={hasArchive} hasAccount={archiveOnly === undefined} /> : undefined}
        summary={
          <div className="summary-figures" aria-live="polite">
            {archiveOnly ? (
              <p className="summary-main" data-testid="total-archive">
                <Icon name="archive" className="archive-icon" /> To this computer ({formatLabel(archiveOnly.format)}): <strong>{formatBytes(archiveTotals.bytes)}</strong> in{' '}
                {plural(archiveTotals.folders, 'folder')} · {formatCount(archiveTotals.messages)} messages
              </p>
            ) : hasArchive ? (
              <ul className="summary-targets" aria-label="Totals per destination">
                <li data-testid="total-account">
                  <Icon name="arrow" className="arrow-icon" /> New account: <strong>{formatBytes(totals.bytes)}</strong> in {plural(totals.folders, 'folder')} ·{' '}
                  {formatCount(totals.messages)} messages
                </li>
                <li data-testid="total-archive">
                  <Icon name="archive" className="archive-icon" /> Archive ({formatLabel(archiveFormat)}): <strong>{formatBytes(archiveTotals.bytes)}</strong> in{' '}
                  {plural(archiveTotals.folders, 'folder')} · {formatCount(archiveTotals.messages)} messages
                </li>
              </ul>
            ) : (
              <p className="summary-main">
                <strong>{formatBytes(totals.bytes)}</strong> in {plural(totals.folders, 'folder')} · {formatCount(totals.messages)} messages
              </p>
            )}
            <p className="muted small">
              {totals.bytes + archiveTotals.bytes === 0 ? 'Nothing selected yet.' : `${estimateText(totals.bytes + archiveTotals.bytes)} at a typical 2 MB/s.`}
              {quota && freeBytes !== null && ` The new account has ${formatBytes(freeBytes)} free.`}
              {preflight?.quota && preflight.quota.fits && ` ${quotaSentence(preflight.quota)}`}
              {` ${plural(jobSettings.connectionsPerSide, 'connection')} per side, ${jobSettings.maxMegabytesPerSecond === 0 ? 'no speed limit' : `at most ${jobSettings.maxMegabytesPerSecond} MB/s`}`}
              {archiveOnly === undefined && jobSettings.newestFirst && `, newest mail first`}
              {archiveOnly === undefined && jobSettings.syncFlags && `, read state kept up to date`}.
            </p>
            {refusedCount > 0 && (
              <p className={needsRefusedFolder ? 'warning-line' : 'small'} data-testid="refused-fate">
                {needsRefusedFolder && <Icon name="warning" />}
                {plural(refusedCount, 'message')} too large for the new account{' '}
                {!canKeepRefused || refusedChoice === 'skip'
                  ? 'will be skipped and listed in the report.'
                  : refusedArchivePath === null
                    ? 'to save: choose a folder for them above, or skip them.'
                    : `will be saved to the ${formatLabel(refusedArchiveFormat)} archive chosen for them.`}
              </p>
            )}
            {preflight?.quota && !preflight.quota.fits && (
              <p className="warning-line" role="alert" data-testid="quota-warning">
                <Icon name="warning" /> {quotaSentence(preflight.quota)} Folders will stop when it is full; untick some, or make room first.
              </p>
            )}
            {isOverQuota && (
              <p className="warning-line" role="alert">
                <Icon name="warning" /> The selection is {formatBytes(totals.bytes - (freeBytes ?? 0))} more than the new account has free. Folders
                will stop when it is full; untick some, or make room first.
              </p>
            )}
            {hasCollisions && (
              <p className="warning-line" role="alert">
                <Icon name="warning" /> {plural(collisions.size || archiveCollisions, 'selected folder')} would land in the same place
                {collisions.size === 0 ? ' in the archive' : ''}. Rename one of each pair or untick it.
              </p>
            )}
          </div>
        }
      >
        <button type="button" className="button-link more-toggle" aria-expanded={showOptions} aria-controls={`${treeId}-options`} onClick={() => setShowOptions(!showOptions)}>
          <Icon name="chevron" className={showOptions ? 'chevron up open' : 'chevron up'} /> More options
        </button>
        <button type="button" className="button" onClick={() => goTo('accounts')}>
          Back
        </button>
        <button type="button" className="button primary" disabled={!canStart} onClick={() => void startJob()}>
          {archiveOnly ? 'Start saving' : 'Start moving'}
        </button>
      </ActionBar>
    </section>
  );
}
