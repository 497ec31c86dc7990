/** @jsxRuntime automatic */
/** @jsxImportSource react */
import type { SpecialUse } from '../../../src/contract/plan.js';

/** Small line icons drawn inline (no icon font, no network, nothing the CSP would refuse). */
const PATHS: Record<string, string> = {
  folder: 'M3 6.5A1.5 1.5 0 0 1 4.5 5h4l2 2h9A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z',
  inbox: 'M3 13l3-8h12l3 8v5.5a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 18.5zM3 13h5l1.5 2.5h5L16 13h5',
  sent: 'M21 3L10 14M21 3l-7 18-4-7-7-4z',
  drafts: 'M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4',
  trash: 'M4 7h16M9 7V4.5h6V7M6 7l1 13h10l1-13M10 11v6M14 11v6',
  junk: 'M12 3l9 16H3zM12 10v4M12 17v.5',
  archive: 'M3 4h18v4H3zM5 8v11h14V8M10 12h4',
  all: 'M4 6h16M4 12h16M4 18h16',
  flagged: 'M5 21V4M5 4h11l-2 4 2 4H5',
  important: 'M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1-4.4-4.3 6.1-.9z',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  chevron: 'M9 6l6 6-6 6',
  arrow: 'M4 12h15M14 7l5 5-5 5',
  warning: 'M12 3l9 16H3zM12 10v4M12 17v.5',
  retry: 'M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7',
  pause: 'M8 5v14M16 5v14',
  play: 'M7 5l12 7-12 7z',
  lock: 'M6 11h12v9H6zM8.5 11V8a3.5 3.5 0 0 1 7 0v3',
  ferry: 'M3 15l2 4h14l2-4zM6 15V10h12v5M9 10V6h6v4M2 21c2 0 2-1 4-1s2 1 4 1 2-1 4-1 2 1 4 1 2-1 4-1',
};

export type IconName = keyof typeof PATHS;

export function Icon({ name, className }: { name: IconName; className?: string }) {
  return (
    <svg className={`icon ${className ?? ''}`} viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} fill="none" stroke="currentColor" strokeWidth="1.7" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

const SPECIAL_ICON: Record<SpecialUse, IconName> = {
  '\\Inbox': 'inbox',
  '\\Sent': 'sent',
  '\\Drafts': 'drafts',
  '\\Trash': 'trash',
  '\\Junk': 'junk',
  '\\Archive': 'archive',
  '\\All': 'all',
  '\\Flagged': 'flagged',
  '\\Important': 'important',
};

const SPECIAL_LABEL: Record<SpecialUse, string> = {
  '\\Inbox': 'Inbox',
  '\\Sent': 'Sent mail',
  '\\Drafts': 'Drafts',
  '\\Trash': 'Trash',
  '\\Junk': 'Junk',
  '\\Archive': 'Archive',
  '\\All': 'All mail',
  '\\Flagged': 'Flagged',
  '\\Important': 'Important',
};

export function folderIconFor(specialUse: SpecialUse | undefined, path: string | undefined): IconName {
  if (specialUse) return SPECIAL_ICON[specialUse];
  if (path !== undefined && path.toUpperCase() === 'INBOX') return 'inbox';
  return 'folder';
}

export function specialUseLabel(specialUse: SpecialUse | undefined): string | undefined {
  return specialUse ? SPECIAL_LABEL[specialUse] : undefined;
}
