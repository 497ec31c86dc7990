/** @jsxRuntime automatic */
/** @jsxImportSource react */
import { useId } from 'react';
import { selectablePathsUnder, subtreeRoute, type FolderTree, type Route } from '../lib/folder-tree.js';
import { useAppStore } from '../store/context.js';
import { plural } from '../lib/format.js';

const CHOICES: { route: Route; label: string }[] = [
  { route: 'account', label: 'New account' },
  { route: 'archive', label: 'Archive' },
  { route: 'both', label: 'Both' },
];

/**
 * Where the tree's current folder (and every folder under it) goes, as a radio group outside the
 * tree: tree rows hold no controls of their own (the tree is one focus stop), so this is the
 * mouse and Tab way; `D` in the tree does the same.
 */
export function RouteChooser({ tree, nodeId }: { tree: FolderTree; nodeId: string | undefined }) {
  const routes = useAppStore((s) => s.routes);
  const setRoute = useAppStore((s) => s.setRoute);
  const name = useId();
  const node = nodeId === undefined ? undefined : tree.nodes.get(nodeId);
  if (!node || node.selectableCount === 0) {
    return (
      <div className="route-chooser" role="group" aria-label="Where the folder goes">
        <span className="muted small">Pick a folder in the list to choose where it goes.</span>
      </div>
    );
  }
  const paths = selectablePathsUnder(tree, node.id);
  const current = subtreeRoute(tree, node.id, routes);
  const others = paths.length - (node.isSelectable ? 1 : 0);
  const subject = others > 0 ? `${node.name} and ${plural(others, 'subfolder')}` : node.name;
  return (
    <fieldset className="route-chooser" data-testid="route-chooser">
      <legend>
        <strong>{subject}</strong> {current === 'mixed' ? 'go to different places; send all to' : others > 0 ? 'go to' : 'goes to'}
      </legend>
      <div className="segmented">
        {CHOICES.map((c) => (
          <label key={c.route} className={current === c.route ? 'segment chosen' : 'segment'}>
            <input type="radio" name={name} value={c.route} checked={current === c.route} onChange={() => setRoute(paths, c.route)} />
            {c.label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}
