/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { FolderPlan } from '../../../src/contract/plan.js';
import { useAppStore } from '../store/context.js';
import { archiveOnlyOf, sourceArchiveOf } from '../store/folders-slice.js';
import {
  ancestorsOf,
  totalBytesOf,
  checkStateOf,
  countSelected,
  destinationOf,
  filterMatches,
  findCollisions,
  nextRoute,
  pathsByTarget,
  routeOf,
  selectablePathsUnder,
  subtreeRoute,
  toggleNode,
  type Route,
  visibleRows,
  type CheckState,
  type FolderTree as Tree,
  type TreeNode,
} from '../lib/folder-tree.js';
import { formatBytes, formatCount, plural } from '../lib/format.js';

/** "12%", or "under 1%" for a folder that holds something but little. */
const shareText = (share: number): string => (share > 0 && share < 0.01 ? 'under 1%' : `${Math.round(share * 100)}%`);
import { Icon, folderIconFor, specialUseLabel } from './Icons.js';

/** Fixed row height (px, matches .tree-row in the CSS): the list renders only the rows in view. */
export const ROW_HEIGHT = 52;
const OVERSCAN = 8;
const DEFAULT_VIEWPORT = 520;
/** Height (px, matches .sticky-row) of a parent row kept at the top while its children scroll. */
export const STICKY_ROW_HEIGHT = 34;
/** At most this many parents stay at the top (the nearest ones); deeper trees show the last few. */
const MAX_STICKY = 3;

const rowDomId = (treeId: string, index: number): string => `${treeId}-row-${index}`;

export function FolderTree({ tree, treeId }: { tree: Tree; treeId: string }) {
  const selected = useAppStore((s) => s.selected);
  const expanded = useAppStore((s) => s.expanded);
  const filter = useAppStore((s) => s.filter);
  const renames = useAppStore((s) => s.renames);
  const folders = useAppStore((s) => s.plan?.folders ?? []);
  const setSelected = useAppStore((s) => s.setSelected);
  const setExpanded = useAppStore((s) => s.setExpanded);
  const renameFolder = useAppStore((s) => s.renameFolder);
  const archivePlan = useAppStore((s) => s.plan?.archive);
  // A restore reads from an archive and writes to the account only: no routes then.
  // Saving to this computer only: every folder goes to that archive, with no choice to make.
  const isArchiveOnly = useAppStore((s) => archiveOnlyOf(s) !== undefined);
  const hasArchive = useAppStore((s) => s.archivePath !== null && sourceArchiveOf(s) === undefined && archiveOnlyOf(s) === undefined);
  const isRestore = useAppStore((s) => sourceArchiveOf(s) !== undefined);
  const routes = useAppStore((s) => s.routes);
  const setRoute = useAppStore((s) => s.setRoute);
  const activeId = useAppStore((s) => s.activeFolderId);
  const setActiveId = useAppStore((s) => s.setActiveFolderId);

  const matches = useMemo(() => filterMatches(tree, filter), [tree, filter]);
  const rows = useMemo(() => visibleRows(tree, expanded, matches), [tree, expanded, matches]);
  const counts = useMemo(() => countSelected(tree, selected), [tree, selected]);
  // Only folders going to the new account can collide there.
  const accountSelected = useMemo(() => pathsByTarget(folders, selected, routes, hasArchive).account, [folders, selected, routes, hasArchive]);
  const collisions = useMemo(() => findCollisions(folders, accountSelected, renames), [folders, accountSelected, renames]);
  const archiveNames = useMemo(() => new Map((archivePlan?.folders ?? []).map((f) => [f.sourcePath, f.destinationPath])), [archivePlan]);
  const totalBytes = useMemo(() => totalBytesOf(tree), [tree]);

  const [editingId, setEditingId] = useState<string | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(DEFAULT_VIEWPORT);
  const scrollRef = useRef<HTMLDivElement>(null);

  const activeIndex = Math.max(0, activeId === null ? 0 : rows.findIndex((r) => r.id === activeId));
  const active = rows[activeIndex];

  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const measure = (): void => setViewport(el.clientHeight || DEFAULT_VIEWPORT);
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  /** The parents kept at the top above the row at `index`, nearest last. */
  const stickyFor = (index: number): string[] => {
    const row = rows[index];
    return row ? ancestorsOf(tree, row.id).slice(-MAX_STICKY) : [];
  };
  /** Parents of the first row that shows below them (a few rounds settle it: the band's height decides which row that is). */
  const stickyAt = (top: number): string[] => {
    if (top <= 0) return [];
    let band: string[] = [];
    for (let round = 0; round < 3; round += 1) band = stickyFor(Math.floor((top + band.length * STICKY_ROW_HEIGHT) / ROW_HEIGHT));
    return band;
  };
  const sticky = stickyAt(scrollTop);

  const scrollIntoView = (index: number): void => {
    const el = scrollRef.current;
    if (!el) return;
    const top = index * ROW_HEIGHT;
    // Leave room for the parents that will stick above it, so they never cover the row.
    const band = stickyFor(index).length * STICKY_ROW_HEIGHT;
    if (top - band < el.scrollTop) el.scrollTop = Math.max(0, top - band);
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
    setScrollTop(el.scrollTop);
  };

  const moveTo = (index: number): void => {
    const row = rows[Math.max(0, Math.min(rows.length - 1, index))];
    if (!row) return;
    setActiveId(row.id);
    scrollIntoView(rows.indexOf(row));
  };

  const toggle = (id: string): void => setSelected(toggleNode(tree, selected, id));
  const setOpen = (id: string, open: boolean): void => {
    const next = new Set(expanded);
    if (open) next.add(id);
    else next.delete(id);
    setExpanded(next);
  };
  const isOpen = (node: TreeNode): boolean => node.childIds.length > 0 && (matches !== null || expanded.has(node.id));

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    if (editingId !== null || !active) return;
    const node = tree.nodes.get(active.id)!;
    const page = Math.max(1, Math.floor(viewport / ROW_HEIGHT) - 1);
    let handled = true;
    switch (e.key) {
      case 'ArrowDown':
        moveTo(activeIndex + 1);
        break;
      case 'ArrowUp':
        moveTo(activeIndex - 1);
        break;
      case 'PageDown':
        moveTo(activeIndex + page);
        break;
      case 'PageUp':
        moveTo(activeIndex - page);
        break;
      case 'Home':
        moveTo(0);
        break;
      case 'End':
        moveTo(rows.length - 1);
        break;
      case 'ArrowRight':
        if (node.childIds.length > 0 && !isOpen(node)) setOpen(node.id, true);
        else if (isOpen(node)) moveTo(activeIndex + 1);
        break;
      case 'ArrowLeft':
        if (isOpen(node) && matches === null) setOpen(node.id, false);
        else if (node.parentId !== null) moveTo(rows.findIndex((r) => r.id === node.parentId));
        break;
      case ' ':
        toggle(node.id);
        break;
      case 'Enter':
      case 'F2':
        // The rename is of the account-side name; a folder going only to the archive has none.
        if (node.folder && node.isSelectable && !isArchiveOnly && !(hasArchive && routeOf(routes, node.folder.source.path) === 'archive')) setEditingId(node.id);
        break;
      case 'd':
      case 'D':
        // Where the folder (and its subfolders) goes: new account → archive → both.
        if (hasArchive && node.selectableCount > 0) setRoute(selectablePathsUnder(tree, node.id), nextRoute(subtreeRoute(tree, node.id, routes)));
        break;
      case '*': {
        // ARIA tree pattern: open every sibling of the active node.
        const siblings = node.parentId === null ? tree.roots : tree.nodes.get(node.parentId)!.childIds;
        setExpanded(new Set([...expanded, ...siblings.filter((id) => tree.nodes.get(id)!.childIds.length > 0)]));
        break;
      }
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  };

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + viewport) / ROW_HEIGHT) + OVERSCAN);
  const shown = rows.slice(first, last);

  if (rows.length === 0) {
    return <p className="tree-empty">{filter.trim() === '' ? (isRestore ? 'The archive has no folders.' : 'The old account has no folders.') : `No folder matches “${filter.trim()}”.`}</p>;
  }

  return (
    <div
      ref={scrollRef}
      className="tree"
      role="tree"
      aria-label={isRestore ? 'Folders in the archive' : 'Folders on the old account'}
      tabIndex={editingId === null ? 0 : -1}
      aria-activedescendant={active ? rowDomId(treeId, activeIndex) : undefined}
      onKeyDown={onKeyDown}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      data-row-count={rows.length}
    >
      {sticky.length > 0 && (
        // A copy of the parents' rows for the eye (the tree items themselves are below); a click jumps to the parent.
        <div className="tree-sticky" aria-hidden="true" data-testid="sticky-parents">
          <div className="tree-sticky-rows">
            {sticky.map((id) => {
              const node = tree.nodes.get(id)!;
              return (
                <div key={id} className="sticky-row" data-path={node.path ?? ''} onMouseDown={(e) => e.preventDefault()} onClick={() => moveTo(rows.findIndex((r) => r.id === id))}>
                  <span className={`indent depth-${Math.min(node.depth, 12)}`} />
                  <Icon name="chevron" className="chevron open" />
                  <Icon name={folderIconFor(node.folder?.source.specialUse, node.path)} className="folder-icon" />
                  <span className="name-text">{node.name}</span>
                  <span className="muted small">{plural(node.childIds.length, 'subfolder')} · {formatBytes(node.subtreeBytes)}</span>
                </div>
              );
            })}
          </div>
        </div>
      )}
      <div className="tree-spacer" style={{ height: rows.length * ROW_HEIGHT }}>
        <div className="tree-window" style={{ transform: `translateY(${first * ROW_HEIGHT}px)` }}>
          {shown.map((row, i) => {
            const index = first + i;
            const node = tree.nodes.get(row.id)!;
            return (
              <FolderRow
                key={row.id}
                domId={rowDomId(treeId, index)}
                node={node}
                posInSet={row.posInSet}
                setSize={row.setSize}
                check={checkStateOf(node, counts.get(node.id) ?? 0)}
                isActive={index === activeIndex}
                isOpen={isOpen(node)}
                isEditing={editingId === node.id}
                destination={node.folder ? destinationOf(node.folder, renames) : undefined}
                isRenamed={node.path !== undefined && node.path in renames}
                collidesWith={node.path !== undefined ? collisions.get(node.path) : undefined}
                route={isArchiveOnly ? 'archive' : hasArchive && node.path !== undefined ? routeOf(routes, node.path) : null}
                canSwitchRoute={hasArchive}
                archiveName={node.path !== undefined ? archiveNames.get(node.path) ?? node.path : undefined}
                share={totalBytes > 0 ? (node.childIds.length > 0 ? node.subtreeBytes : node.ownBytes) / totalBytes : 0}
                onCycleRoute={() => setRoute(selectablePathsUnder(tree, node.id), nextRoute(subtreeRoute(tree, node.id, routes)))}
                onActivate={() => setActiveId(node.id)}
                onToggle={() => toggle(node.id)}
                onOpen={(open) => setOpen(node.id, open)}
                onEdit={() => setEditingId(node.id)}
                onRename={(value) => {
                  setEditingId(null);
                  scrollRef.current?.focus();
                  if (value !== null && node.path !== undefined) void renameFolder(node.path, value);
                }}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

interface FolderRowProps {
  domId: string;
  node: TreeNode;
  posInSet: number;
  setSize: number;
  check: CheckState;
  isActive: boolean;
  isOpen: boolean;
  isEditing: boolean;
  destination: string | undefined;
  isRenamed: boolean;
  collidesWith: string[] | undefined;
  /** Where the folder goes when an archive is chosen; null without one (always the new account). */
  route: Route | null;
  /** The folder may go to the account, the archive or both (not in an archive-only job). */
  canSwitchRoute: boolean;
  archiveName: string | undefined;
  /** This row's share of all the mail by size (its subtree's for a parent), 0–1. */
  share: number;
  /** Mouse: the next place this folder (and its subfolders) goes; D in the tree does the same. */
  onCycleRoute(): void;
  onActivate(): void;
  onToggle(): void;
  onOpen(open: boolean): void;
  onEdit(): void;
  onRename(value: string | null): void;
}

function FolderRow(props: FolderRowProps) {
  const { node, check, isOpen, destination, collidesWith, route } = props;
  const isToAccount = route === null || route !== 'archive';
  const isToArchive = route === 'archive' || route === 'both';
  const folder: FolderPlan | undefined = node.folder;
  const hasChildren = node.childIds.length > 0;
  const special = specialUseLabel(folder?.source.specialUse);
  const classes = ['tree-row', props.isActive ? 'active' : '', collidesWith ? 'collides' : '', check !== 'unchecked' ? 'is-selected' : ''].join(' ');
  return (
    <div
      id={props.domId}
      role="treeitem"
      className={classes}
      aria-level={node.depth + 1}
      aria-posinset={props.posInSet}
      aria-setsize={props.setSize}
      aria-expanded={hasChildren ? isOpen : undefined}
      aria-checked={check === 'mixed' ? 'mixed' : check === 'checked'}
      aria-disabled={node.selectableCount === 0 ? true : undefined}
      data-path={node.path ?? ''}
      data-route={route ?? undefined}
      onMouseDown={props.onActivate}
    >
      <span className="folder-cell">
        <span className={`indent depth-${Math.min(node.depth, 12)}`} aria-hidden="true" />
        <span
          className={hasChildren ? 'twisty' : 'twisty empty'}
          aria-hidden="true"
          onClick={(e) => {
            e.stopPropagation();
            if (hasChildren) props.onOpen(!isOpen);
          }}
        >
          {hasChildren && <Icon name="chevron" className={isOpen ? 'chevron open' : 'chevron'} />}
        </span>
        <span className={`check ${check}`} aria-hidden="true" onClick={props.onToggle} data-testid="check">
          {check === 'checked' && <Icon name="check" />}
          {check === 'mixed' && <span className="dash" />}
        </span>
        <Icon name={folderIconFor(folder?.source.specialUse, node.path)} className="folder-icon" />
        <span className="folder-name" onClick={props.onToggle}>
          <span className="name-text">{node.name}</span>
          {special && <span className="tag">{special}</span>}
          {folder?.defaultUnselectedReason && <span className="muted small reason">{folder.defaultUnselectedReason}</span>}
          {!node.isSelectable && <span className="muted small reason">container only</span>}
        </span>
      </span>
      <span className="folder-count">
        {node.isSelectable ? formatCount(node.ownMessages) : '—'}
        {hasChildren && <span className="subtotal">{formatCount(node.subtreeMessages)} in all</span>}
      </span>
      <span className="folder-size">
        <span>{node.isSelectable ? formatBytes(node.ownBytes) : '—'}</span>
        {hasChildren && <span className="subtotal">{formatBytes(node.subtreeBytes)} in all</span>}
        <span className="size-bar" aria-hidden="true">
          <span className={hasChildren ? 'size-fill subtree' : 'size-fill'} style={{ width: `${Math.min(100, props.share * 100).toFixed(2)}%` }} />
        </span>
        <span className="visually-hidden">, {shareText(props.share)} of all mail</span>
      </span>
      <span className={route === 'both' ? 'folder-destination two-lines' : 'folder-destination'}>
        {destination !== undefined && node.isSelectable && (
          <>
            {isToAccount && (
              <span className="destination-line">
                <Icon name="arrow" className="arrow-icon" />
                {route !== null && <span className="visually-hidden">To the new account: </span>}
                {props.isEditing ? (
                  <RenameInput initial={destination} label={`New name for ${node.path ?? node.name}`} onDone={props.onRename} />
                ) : (
                  <span className="destination-name" onDoubleClick={props.onEdit} title="Double-click, Enter or F2 to rename">
                    {destination}
                    {props.isRenamed && <span className="tag renamed">renamed</span>}
                    {folder?.destinationExists && !collidesWith && <span className="tag subtle">exists</span>}
                  </span>
                )}
                {collidesWith && (
                  <span className="collision" role="note">
                    <Icon name="warning" /> also from {collidesWith.join(', ')}
                  </span>
                )}
              </span>
            )}
            {props.canSwitchRoute && route !== null && (
              <span className="route-switch" title="Click to change where it goes (or press D)" onClick={props.onCycleRoute} data-testid="route-switch">
                {route === 'both' ? 'both' : route === 'archive' ? 'archive only' : 'new account'} <Icon name="retry" />
              </span>
            )}
            {isToArchive && (
              <span className="destination-line archive-line" data-testid="archive-destination">
                <Icon name="archive" className="archive-icon" />
                <span className="visually-hidden">To the archive: </span>
                <span className="destination-name">{props.archiveName}</span>
                <span className="tag archive">archive</span>
              </span>
            )}
          </>
        )}
      </span>
    </div>
  );
}

function RenameInput({ initial, label, onDone }: { initial: string; label: string; onDone(value: string | null): void }) {
  const [value, setValue] = useState(initial);
  const ref = useRef<HTMLInputElement>(null);
  // Enter or Escape hands focus back to the tree, which blurs the input: finish only once.
  const isDone = useRef(false);
  const finish = (result: string | null): void => {
    if (isDone.current) return;
    isDone.current = true;
    onDone(result);
  };
  useEffect(() => {
    ref.current?.focus();
    ref.current?.select();
  }, []);
  return (
    <input
      ref={ref}
      className="rename-input"
      aria-label={label}
      value={value}
      spellCheck={false}
      onChange={(e) => setValue(e.target.value)}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === 'Enter') finish(value);
        if (e.key === 'Escape') finish(null);
      }}
      onBlur={() => finish(value === initial ? null : value)}
    />
  );
}
