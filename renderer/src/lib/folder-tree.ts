/**
 * The folder tree of the "Choose folders" screen as plain data: built once per plan, then
 * selection, filtering and the visible row list are cheap functions over it, so a tree of
 * thousands of folders renders only the rows on screen.
 */
import type { FolderPlan, SpecialUse } from '../../../src/contract/plan.js';

export interface TreeNode {
  /** The source path for real folders; a synthetic id for containers the server did not list. */
  id: string;
  name: string;
  /** Source path; undefined for a container the server did not list itself. */
  path?: string;
  folder?: FolderPlan;
  depth: number;
  parentId: string | null;
  childIds: string[];
  isSelectable: boolean;
  ownMessages: number;
  ownBytes: number;
  subtreeMessages: number;
  subtreeBytes: number;
  /** Selectable folders in this subtree, itself included. */
  selectableCount: number;
}

export interface FolderTree {
  roots: string[];
  nodes: Map<string, TreeNode>;
  /** Every node id in display order (depth first). */
  order: string[];
}

const SPECIAL_ORDER: SpecialUse[] = ['\\Inbox', '\\Drafts', '\\Sent', '\\Archive', '\\Flagged', '\\Important', '\\All', '\\Junk', '\\Trash'];

function sortRank(node: TreeNode): number {
  const use = node.folder?.source.specialUse;
  if (node.path !== undefined && node.path.toUpperCase() === 'INBOX') return 0;
  if (use) return 1 + SPECIAL_ORDER.indexOf(use);
  return 100;
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

export function buildFolderTree(folders: readonly FolderPlan[]): FolderTree {
  const nodes = new Map<string, TreeNode>();
  const byKey = new Map<string, string>();
  const roots: string[] = [];

  const ensure = (segments: string[], folder?: FolderPlan): string => {
    const key = segments.join('\u0001');
    const existingId = byKey.get(key);
    if (existingId !== undefined) {
      if (folder) {
        // A container created earlier for a child turns out to be listed itself.
        const node = nodes.get(existingId)!;
        const real: TreeNode = { ...node, id: folder.source.path, path: folder.source.path, folder, isSelectable: folder.source.isSelectable };
        nodes.delete(existingId);
        nodes.set(real.id, real);
        byKey.set(key, real.id);
        for (const childId of real.childIds) nodes.get(childId)!.parentId = real.id;
        const siblings = real.parentId === null ? roots : nodes.get(real.parentId)!.childIds;
        siblings[siblings.indexOf(existingId)] = real.id;
        return real.id;
      }
      return existingId;
    }
    const parentId = segments.length > 1 ? ensure(segments.slice(0, -1)) : null;
    const id = folder ? folder.source.path : `\u0000${key}`;
    const node: TreeNode = {
      id,
      name: segments[segments.length - 1] ?? '',
      ...(folder ? { path: folder.source.path, folder } : {}),
      depth: segments.length - 1,
      parentId,
      childIds: [],
      isSelectable: folder ? folder.source.isSelectable : false,
      ownMessages: 0,
      ownBytes: 0,
      subtreeMessages: 0,
      subtreeBytes: 0,
      selectableCount: 0,
    };
    nodes.set(id, node);
    byKey.set(key, id);
    if (parentId === null) roots.push(id);
    else nodes.get(parentId)!.childIds.push(id);
    return id;
  };

  for (const folder of folders) {
    const segments = folder.source.segments.length > 0 ? folder.source.segments : [folder.source.path];
    ensure(segments, folder);
  }

  const sortIds = (ids: string[]): void => {
    ids.sort((a, b) => {
      const na = nodes.get(a)!;
      const nb = nodes.get(b)!;
      return sortRank(na) - sortRank(nb) || collator.compare(na.name, nb.name);
    });
  };
  sortIds(roots);

  const order: string[] = [];
  const visit = (id: string): void => {
    const node = nodes.get(id)!;
    order.push(id);
    sortIds(node.childIds);
    node.ownMessages = node.folder?.source.messages ?? 0;
    node.ownBytes = node.folder?.source.sizeBytes ?? 0;
    node.subtreeMessages = node.ownMessages;
    node.subtreeBytes = node.ownBytes;
    node.selectableCount = node.isSelectable ? 1 : 0;
    for (const childId of node.childIds) {
      visit(childId);
      const child = nodes.get(childId)!;
      node.subtreeMessages += child.subtreeMessages;
      node.subtreeBytes += child.subtreeBytes;
      node.selectableCount += child.selectableCount;
    }
  };
  for (const id of roots) visit(id);
  return { roots, nodes, order };
}

/** Paths of every selectable folder in a node's subtree, itself included. */
export function selectablePathsUnder(tree: FolderTree, id: string): string[] {
  const out: string[] = [];
  const stack = [id];
  while (stack.length > 0) {
    const node = tree.nodes.get(stack.pop()!)!;
    if (node.isSelectable && node.path !== undefined) out.push(node.path);
    for (let i = node.childIds.length - 1; i >= 0; i -= 1) stack.push(node.childIds[i]!);
  }
  return out;
}

export type CheckState = 'checked' | 'unchecked' | 'mixed';

/** Selected selectable folders per node (its subtree), in one pass. */
export function countSelected(tree: FolderTree, selected: ReadonlySet<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = tree.order.length - 1; i >= 0; i -= 1) {
    const id = tree.order[i]!;
    const node = tree.nodes.get(id)!;
    let n = node.isSelectable && node.path !== undefined && selected.has(node.path) ? 1 : 0;
    for (const childId of node.childIds) n += counts.get(childId) ?? 0;
    counts.set(id, n);
  }
  return counts;
}

export function checkStateOf(node: TreeNode, selectedCount: number): CheckState {
  if (node.selectableCount === 0 || selectedCount === 0) return 'unchecked';
  return selectedCount >= node.selectableCount ? 'checked' : 'mixed';
}

/** Ticking a box: a fully ticked subtree is cleared, anything else becomes fully ticked. */
export function toggleNode(tree: FolderTree, selected: ReadonlySet<string>, id: string): Set<string> {
  const paths = selectablePathsUnder(tree, id);
  const next = new Set(selected);
  const isAllSelected = paths.length > 0 && paths.every((p) => selected.has(p));
  for (const p of paths) {
    if (isAllSelected) next.delete(p);
    else next.add(p);
  }
  return next;
}

/** Ids matching the filter plus their ancestors (so the match keeps its place), or null without a filter. */
export function filterMatches(tree: FolderTree, filter: string): Set<string> | null {
  const needle = filter.trim().toLocaleLowerCase();
  if (needle === '') return null;
  const keep = new Set<string>();
  for (const id of tree.order) {
    const node = tree.nodes.get(id)!;
    const haystack = `${node.path ?? node.name} ${node.folder?.destinationPath ?? ''}`.toLocaleLowerCase();
    if (node.name.toLocaleLowerCase().includes(needle) || haystack.includes(needle)) {
      let cur: TreeNode | undefined = node;
      while (cur && !keep.has(cur.id)) {
        keep.add(cur.id);
        cur = cur.parentId === null ? undefined : tree.nodes.get(cur.parentId);
      }
    }
  }
  return keep;
}

export interface VisibleRow {
  id: string;
  /** 1-based position among visible siblings and their count, for aria-posinset/setsize. */
  posInSet: number;
  setSize: number;
}

/** The rows on screen, in order: children only of expanded nodes; with a filter, every match and its ancestors. */
export function visibleRows(tree: FolderTree, expanded: ReadonlySet<string>, matches: ReadonlySet<string> | null): VisibleRow[] {
  const rows: VisibleRow[] = [];
  const walk = (ids: string[]): void => {
    const shown = matches ? ids.filter((id) => matches.has(id)) : ids;
    shown.forEach((id, index) => {
      rows.push({ id, posInSet: index + 1, setSize: shown.length });
      const node = tree.nodes.get(id)!;
      if (node.childIds.length > 0 && (matches !== null || expanded.has(id))) walk(node.childIds);
    });
  };
  walk(tree.roots);
  return rows;
}

/** Destination path per selected source path, with user renames applied. */
export function destinationOf(folder: FolderPlan, renames: Readonly<Record<string, string>>): string {
  return renames[folder.source.path] ?? folder.destinationPath;
}

/** Selected folders that would land in the same destination folder: source path → the others. */
export function findCollisions(
  folders: readonly FolderPlan[],
  selected: ReadonlySet<string>,
  renames: Readonly<Record<string, string>>,
): Map<string, string[]> {
  const byDestination = new Map<string, string[]>();
  for (const f of folders) {
    if (!selected.has(f.source.path) || !f.source.isSelectable) continue;
    const dest = destinationOf(f, renames);
    // INBOX is case-insensitive in IMAP; other names are compared as the server would store them.
    const key = dest.toUpperCase() === 'INBOX' ? 'INBOX' : dest;
    const list = byDestination.get(key) ?? [];
    list.push(f.source.path);
    byDestination.set(key, list);
  }
  const collisions = new Map<string, string[]>();
  for (const paths of byDestination.values()) {
    if (paths.length < 2) continue;
    for (const p of paths) collisions.set(p, paths.filter((q) => q !== p));
  }
  return collisions;
}

/** Totals over the selected folders. */
export function selectedTotals(folders: readonly FolderPlan[], selected: ReadonlySet<string>): { folders: number; messages: number; bytes: number } {
  let count = 0;
  let messages = 0;
  let bytes = 0;
  for (const f of folders) {
    if (!selected.has(f.source.path) || !f.source.isSelectable) continue;
    count += 1;
    messages += f.source.messages;
    bytes += f.source.sizeBytes;
  }
  return { folders: count, messages, bytes };
}

/** Where a ticked folder goes: its own choice, or the new account. */
export type Route = 'account' | 'archive' | 'both';

export function routeOf(routes: Readonly<Record<string, Route>>, path: string): Route {
  return routes[path] ?? 'account';
}

/**
 * The ticked folders split by destination. Without an archive everything goes to the account,
 * whatever the routes say (they come back when an archive is chosen again).
 */
export function pathsByTarget(
  folders: readonly FolderPlan[],
  selected: ReadonlySet<string>,
  routes: Readonly<Record<string, Route>>,
  hasArchive: boolean,
): { account: Set<string>; archive: Set<string> } {
  const account = new Set<string>();
  const archive = new Set<string>();
  for (const f of folders) {
    const path = f.source.path;
    if (!selected.has(path) || !f.source.isSelectable) continue;
    const route = hasArchive ? routeOf(routes, path) : 'account';
    if (route !== 'archive') account.add(path);
    if (route !== 'account') archive.add(path);
  }
  return { account, archive };
}

/** The route every selectable folder of a subtree shares, 'mixed' when they differ, null with none. */
export function subtreeRoute(tree: FolderTree, id: string, routes: Readonly<Record<string, Route>>): Route | 'mixed' | null {
  let seen: Route | null = null;
  for (const path of selectablePathsUnder(tree, id)) {
    const route = routeOf(routes, path);
    if (seen !== null && seen !== route) return 'mixed';
    seen = route;
  }
  return seen;
}

const ROUTE_CYCLE: Route[] = ['account', 'archive', 'both'];
/** The next route in the account → archive → both cycle (a mixed subtree starts at the account). */
export function nextRoute(current: Route | 'mixed' | null): Route {
  if (current === null || current === 'mixed') return 'account';
  return ROUTE_CYCLE[(ROUTE_CYCLE.indexOf(current) + 1) % ROUTE_CYCLE.length]!;
}

/** The ids of a node's ancestors, the top level first (empty for a top-level folder). */
export function ancestorsOf(tree: FolderTree, id: string): string[] {
  const chain: string[] = [];
  for (let cur = tree.nodes.get(id)?.parentId ?? null; cur !== null; cur = tree.nodes.get(cur)?.parentId ?? null) chain.unshift(cur);
  return chain;
}

/** Bytes of the whole tree (every top-level subtree). */
export function totalBytesOf(tree: FolderTree): number {
  return tree.roots.reduce((n, id) => n + (tree.nodes.get(id)?.subtreeBytes ?? 0), 0);
}
