/**
 * Decides where each source folder lands on the destination, and says why. Pure: no I/O.
 *
 * Rules, in order: a user's rename wins (and carries the folder's children along); special-use
 * folders (Sent, Drafts, Trash, Junk, Archive) land in the destination's own folder of that use;
 * INBOX is INBOX; everything else keeps its hierarchy, re-joined with the destination's
 * separator under its namespace prefix. Characters the destination cannot hold in a name are
 * replaced, with the reason recorded. Two selected folders landing on one name is a collision,
 * shown before anything is copied.
 */
import type { FolderPlan, MappingReason, PlanOptions, SourceFolder, SpecialUse } from '../contract/plan.js';
import type { NamespaceInfo } from './store.js';
import { genericQuirks, type ProviderQuirks } from './provider-quirks.js';

/** Special uses whose folders are merged into the destination's own folder of the same use. */
const MERGED_SPECIAL_USES = new Set<SpecialUse>(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive']);
/** Virtual folders that repeat messages held elsewhere (Gmail): not selected by default. */
const VIRTUAL_SPECIAL_USES: Partial<Record<SpecialUse, string>> = {
  '\\All': 'It holds every message of the account again (All Mail); copying it would duplicate mail.',
  '\\Flagged': 'It is a view of flagged messages that live in other folders.',
  '\\Important': 'It is a view of messages that live in other folders.',
};

/** Replacement for characters a destination cannot hold in a folder name. */
const REPLACEMENT = '_';

export interface DestinationFolderInfo {
  path: string;
  specialUse?: SpecialUse;
}

export interface MapFoldersInput {
  sourceFolders: SourceFolder[];
  source: NamespaceInfo;
  destination: NamespaceInfo;
  destinationFolders: DestinationFolderInfo[];
  options?: PlanOptions;
  sourceQuirks?: ProviderQuirks;
  destinationQuirks?: ProviderQuirks;
}

const lookupByName = <T>(table: Record<string, T>, name: string): T | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(table)) if (key.toLowerCase() === wanted) return value;
  return undefined;
};

/** Regex-escapes each character of a set, for a character class. */
const characterClass = (chars: string): string => chars.replace(/[\\\]^-]/g, '\\$&');

/**
 * Makes one level of a name safe for the destination; returns the name and what was changed.
 * `refusedCharacters` are the destination's own (provider-quirks.ts: Cyrus refuses `"` and `\`).
 */
export const sanitizeSegment = (segment: string, destinationDelimiter: string, refusedCharacters = ''): { name: string; detail?: string } => {
  const problems: string[] = [];
  let name = segment;
  if (destinationDelimiter && name.includes(destinationDelimiter)) {
    name = name.split(destinationDelimiter).join(REPLACEMENT);
    problems.push(`"${destinationDelimiter}" separates folders on the destination`);
  }
  // "/" is a path separator on disk for most servers, whatever their IMAP separator
  // (Cyrus and Courier refuse it in a name with their "." separator).
  if (name.includes('/')) {
    name = name.split('/').join(REPLACEMENT);
    problems.push('"/" is not allowed in folder names by most servers');
  }
  // LIST wildcards and control characters are refused by many servers.
  if (/[*%\u0000-\u001f\u007f]/.test(name)) {
    name = name.replace(/[*%\u0000-\u001f\u007f]/g, REPLACEMENT);
    problems.push('wildcard or control characters are not allowed in folder names');
  }
  const refused = [...new Set(refusedCharacters)].filter((c) => c !== destinationDelimiter && !'/*%'.includes(c) && name.includes(c));
  if (refused.length > 0) {
    name = name.replace(new RegExp(`[${characterClass(refused.join(''))}]`, 'g'), REPLACEMENT);
    problems.push(`the destination refuses these characters in folder names: ${refused.join(' ')}`);
  }
  if (name.trim() !== name) {
    name = name.trim();
    problems.push('leading or trailing spaces are dropped by many servers');
  }
  // Dovecot refuses a name starting with "~" (a home directory), Courier takes it for INBOX.
  if (name.startsWith('~')) {
    name = REPLACEMENT + name.slice(1);
    problems.push('a name starting with "~" is refused by many servers');
  }
  if (name === '') {
    name = REPLACEMENT;
    problems.push('an empty folder name is not allowed');
  }
  return problems.length > 0 ? { name, detail: `"${segment}" → "${name}": ${problems.join('; ')}` } : { name };
};

/** Is `path` the folder `ancestor` or inside it? */
export const isWithin = (path: string, ancestor: string, delimiter: string | null): boolean =>
  path === ancestor || (!!delimiter && path.startsWith(ancestor + delimiter));

const joinDestination = (segments: string[], ns: NamespaceInfo): string => {
  if (segments.length === 1 && segments[0]?.toUpperCase() === 'INBOX') return 'INBOX';
  // A source "INBOX/Sub" on a server whose personal namespace *is* INBOX ("INBOX.") is "Sub" there.
  const levels = ns.prefix.toUpperCase() === `INBOX${ns.delimiter}` && segments[0]?.toUpperCase() === 'INBOX' ? segments.slice(1) : segments;
  return ns.prefix + levels.join(ns.delimiter);
};

/** The comparison key for collisions: INBOX is case-insensitive everywhere, everything on some servers. */
const collisionKey = (path: string, ns: NamespaceInfo, isCaseInsensitive = false): string => {
  if (isCaseInsensitive) return path.toLowerCase();
  const inboxPrefix = `INBOX${ns.delimiter}`;
  if (path.toUpperCase() === 'INBOX') return 'INBOX';
  if (path.toUpperCase().startsWith(inboxPrefix.toUpperCase())) return inboxPrefix + path.slice(inboxPrefix.length);
  return path;
};

/**
 * On a destination where names that differ only by case are one folder (Gmail, Exchange, ...),
 * two source folders such as "Work" and "work" would be merged. The first (shallowest, then in
 * source order) keeps its name; each other gets a numbered one ("work (2)"), said why, and its
 * subfolders follow it. Changes `plans` in place.
 */
const separateCaseTwins = (plans: FolderPlan[], ns: NamespaceInfo, serverName: string, existsOnDestination: (path: string) => boolean): void => {
  const claimed = new Map<string, string>(); // lower-cased path → the path that took it
  const moved = new Map<string, string>(); // path as mapped → path it got instead
  const below = (path: string) => (ns.prefix && path.startsWith(ns.prefix) ? path.slice(ns.prefix.length) : path);
  const ordered = plans.map((plan, i) => ({ plan, i })).sort((a, b) => below(a.plan.destinationPath).split(ns.delimiter).length - below(b.plan.destinationPath).split(ns.delimiter).length || a.i - b.i);
  for (const { plan } of ordered) {
    if (plan.destinationPath.toUpperCase() === 'INBOX') continue;
    const original = plan.destinationPath;
    let levels = below(original).split(ns.delimiter);
    for (let depth = levels.length - 1; depth >= 1; depth--) {
      const parent = moved.get(ns.prefix + levels.slice(0, depth).join(ns.delimiter));
      if (parent === undefined) continue;
      levels = [...below(parent).split(ns.delimiter), ...levels.slice(depth)];
      plan.reasons.push({ kind: 'sanitized', detail: `its parent folder is renamed to "${parent}" (see there)` });
      break;
    }
    let path = ns.prefix + levels.join(ns.delimiter);
    const holder = claimed.get(path.toLowerCase());
    if (holder !== undefined && holder !== path) {
      const last = levels.length - 1;
      const name = levels[last] as string;
      let n = 2;
      const candidate = (k: number) => ns.prefix + [...levels.slice(0, last), `${name} (${k})`].join(ns.delimiter);
      while (claimed.has(candidate(n).toLowerCase()) || existsOnDestination(candidate(n))) n++;
      levels = [...levels.slice(0, last), `${name} (${n})`];
      plan.reasons.push({ kind: 'sanitized', detail: `"${name}" → "${name} (${n})": it differs from "${holder}" only by case, and ${serverName} treats such names as one folder` });
      path = candidate(n);
    }
    if (path !== original) {
      moved.set(original, path);
      plan.destinationPath = path;
      plan.destinationExists = existsOnDestination(path);
    }
    if (!claimed.has(path.toLowerCase())) claimed.set(path.toLowerCase(), path);
  }
};

export const mapFolders = (input: MapFoldersInput): FolderPlan[] => {
  const { destination, destinationFolders } = input;
  const options = input.options ?? {};
  const sourceQuirks = input.sourceQuirks ?? genericQuirks();
  const destinationQuirks = input.destinationQuirks ?? genericQuirks();
  const caseInsensitive = destinationQuirks.isCaseInsensitive;
  const refusedCharacters = destinationQuirks.refusedNameCharacters ?? '';
  const isArchiveOnlyAllMail = options.gmailAllMail === 'archive-only';
  // The provider's own names for special uses, where its LIST did not say.
  const sourceFolders = input.sourceFolders.map((f) => {
    if (f.specialUse) return f;
    const use = lookupByName(sourceQuirks.specialUseByName, f.segments.join('/'));
    return use ? { ...f, specialUse: use } : f;
  });
  const existing = new Set(destinationFolders.map((f) => collisionKey(f.path, destination, caseInsensitive)));
  const destinationBySpecialUse = new Map<SpecialUse, string>();
  for (const f of destinationFolders) if (f.specialUse && !destinationBySpecialUse.has(f.specialUse)) destinationBySpecialUse.set(f.specialUse, f.path);

  // Which source folder is "the" folder of each special use (the first one the server named).
  const sourceSpecial = new Map<string, SpecialUse>();
  const seenUses = new Set<SpecialUse>();
  for (const f of sourceFolders) {
    // With 'archive-only', Gmail's All Mail (only its archived messages) goes where Archive goes.
    const use = f.specialUse === '\\All' && isArchiveOnlyAllMail ? '\\Archive' : f.specialUse;
    if (use && MERGED_SPECIAL_USES.has(use) && !seenUses.has(use)) {
      sourceSpecial.set(f.path, use);
      seenUses.add(use);
    }
  }
  // Renames and special-use targets are anchors: their children follow them.
  const sortedByDepth = [...sourceFolders].sort((a, b) => a.segments.length - b.segments.length);
  const anchors = new Map<string, { destination: string[]; reason: MappingReason }>();
  for (const f of sortedByDepth) {
    const rename = options.renames?.[f.path];
    if (rename !== undefined) {
      anchors.set(f.path, { destination: rename.split(destination.delimiter), reason: { kind: 'renamed-by-user' } });
      continue;
    }
    const use = sourceSpecial.get(f.path);
    if (use) {
      const target = destinationBySpecialUse.get(use);
      if (target) {
        const below = destination.prefix && target.startsWith(destination.prefix) ? target.slice(destination.prefix.length) : target;
        anchors.set(f.path, { destination: below.split(destination.delimiter), reason: { kind: 'special-use', use, existing: true } });
      } else {
        anchors.set(f.path, { destination: f.segments.map((s) => sanitizeSegment(s, destination.delimiter, refusedCharacters).name), reason: { kind: 'special-use', use, existing: false } });
      }
    }
  }

  const plans: FolderPlan[] = sourceFolders.map((folder) => {
    const reasons: MappingReason[] = [];
    // Nearest anchor at or above this folder.
    let anchorPath: string | undefined;
    for (const path of anchors.keys()) {
      if (isWithin(folder.path, path, folder.delimiter) && (!anchorPath || path.length > anchorPath.length)) anchorPath = path;
    }
    let levels: string[];
    if (anchorPath !== undefined) {
      const anchor = anchors.get(anchorPath) as { destination: string[]; reason: MappingReason };
      const anchorSource = sourceFolders.find((f) => f.path === anchorPath);
      const rest = folder.segments.slice(anchorSource?.segments.length ?? 0);
      levels = [...anchor.destination];
      for (const segment of rest) {
        const safe = sanitizeSegment(segment, destination.delimiter, refusedCharacters);
        if (safe.detail) reasons.push({ kind: 'sanitized', detail: safe.detail });
        levels.push(safe.name);
      }
      reasons.unshift(anchor.reason);
    } else {
      levels = folder.segments.map((segment) => {
        const safe = sanitizeSegment(segment, destination.delimiter, refusedCharacters);
        if (safe.detail) reasons.push({ kind: 'sanitized', detail: safe.detail });
        return safe.name;
      });
    }
    // A name the destination keeps for calendars or contacts must not receive mail.
    const reserved = anchorPath === undefined && levels.length === 1 ? destinationQuirks.reservedNames.find((n) => n.toLowerCase() === levels[0]?.toLowerCase()) : undefined;
    if (reserved) {
      levels = [`${levels[0]} (mail)`];
      reasons.push({ kind: 'sanitized', detail: `"${reserved}" holds non-mail items on ${destinationQuirks.name}` });
    }
    let destinationPath = joinDestination(levels, destination);
    // INBOX is one folder in any case on every server: a folder that merely has that name on
    // the source (Cyrus' or Courier's "INBOX.Inbox", a child of the inbox) must not be poured
    // into the destination's inbox. Under a namespace prefix it keeps its name there
    // ("INBOX.Inbox"); without one it is renamed.
    if (destinationPath.toUpperCase() === 'INBOX' && folder.path.toUpperCase() !== 'INBOX' && destination.prefix) {
      destinationPath = destination.prefix + levels.join(destination.delimiter);
    } else if (destinationPath.toUpperCase() === 'INBOX' && folder.path.toUpperCase() !== 'INBOX') {
      const last = levels.length - 1;
      const kept = `${levels[last] ?? 'INBOX'} (folder)`;
      reasons.push({ kind: 'sanitized', detail: `"${levels[last] ?? ''}" → "${kept}": on the destination that name is the inbox itself (INBOX is one folder whatever its case)` });
      levels = [...levels.slice(0, last), kept];
      destinationPath = joinDestination(levels, destination);
    }
    if (reasons.length === 0) {
      reasons.push(destinationPath === folder.path ? { kind: 'same-name' } : { kind: 'hierarchy', from: folder.path, to: destinationPath });
    }
    const isAllMailArchive = folder.specialUse === '\\All' && isArchiveOnlyAllMail;
    const virtualReason = isAllMailArchive
      ? undefined
      : ((folder.specialUse ? VIRTUAL_SPECIAL_USES[folder.specialUse] : undefined) ??
        sourceQuirks.unselectedByDefault.find((u) => u.name.toLowerCase() === folder.segments.join('/').toLowerCase())?.reason);
    const isIncluded = !options.include?.length || options.include.some((p) => isWithin(folder.path, p, folder.delimiter));
    const isExcluded = options.exclude?.some((p) => isWithin(folder.path, p, folder.delimiter)) ?? false;
    const isExplicitlyIncluded = options.include?.some((p) => p === folder.path) ?? false;
    return {
      source: folder,
      destinationPath,
      reasons,
      destinationExists: existing.has(collisionKey(destinationPath, destination, caseInsensitive)),
      collidesWith: [],
      isSelected: folder.isSelectable && isIncluded && !isExcluded && (!virtualReason || isExplicitlyIncluded),
      defaultUnselectedReason: virtualReason,
      ...(isAllMailArchive ? { messageFilter: 'gmail-only-in-all-mail' as const } : {}),
    };
  });

  if (caseInsensitive) separateCaseTwins(plans, destination, destinationQuirks.name, (path) => existing.has(collisionKey(path, destination, true)));

  // Collisions among selected folders.
  const byDestination = new Map<string, FolderPlan[]>();
  for (const plan of plans) {
    if (!plan.isSelected) continue;
    const key = collisionKey(plan.destinationPath, destination, caseInsensitive);
    byDestination.set(key, [...(byDestination.get(key) ?? []), plan]);
  }
  for (const group of byDestination.values()) {
    if (group.length < 2) continue;
    for (const plan of group) plan.collidesWith = group.filter((p) => p !== plan).map((p) => p.source.path);
  }
  return plans;
};
