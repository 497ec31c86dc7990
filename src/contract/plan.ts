/** RFC 6154 special-use attributes we map between servers. */
export type SpecialUse = '\\Inbox' | '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive' | '\\All' | '\\Flagged' | '\\Important';

/** Why a folder lands where it does; shown in `plan` and the app's tree. */
export type MappingReason =
  | { kind: 'same-name' }
  | { kind: 'hierarchy'; from: string; to: string }
  | { kind: 'special-use'; use: SpecialUse; existing: boolean }
  | { kind: 'renamed-by-user' }
  | { kind: 'sanitized'; detail: string };

/** One source folder as listed by the server. */
export interface SourceFolder {
  /** Full path on the source, decoded to Unicode. */
  path: string;
  /** Path split into its hierarchy levels (namespace prefix removed), decoded. */
  segments: string[];
  delimiter: string | null;
  specialUse?: SpecialUse;
  /** False for \Noselect containers: they hold no messages, only children. */
  isSelectable: boolean;
  messages: number;
  /** Total bytes; from STATUS=SIZE or summed RFC822.SIZE. */
  sizeBytes: number;
  uidValidity?: string;
  uidNext?: number;
}

/** A source folder with the decision of where it goes. */
export interface FolderPlan {
  source: SourceFolder;
  /** Full path on the destination (namespace prefix and separator of the destination). */
  destinationPath: string;
  reasons: MappingReason[];
  /** True if the destination folder exists already. */
  destinationExists: boolean;
  /** Paths of other source folders that land on the same destination folder. */
  collidesWith: string[];
  /** Whether this folder will be copied (filters, user choice, defaults). */
  isSelected: boolean;
  /** When not selected by default, why (e.g. Gmail's All Mail repeats every message). */
  defaultUnselectedReason?: string;
  /** Copy only some messages: Gmail's All Mail, when asked, only what has no other label. */
  messageFilter?: 'gmail-only-in-all-mail';
}

/** The whole plan for a job: what exists, where it goes, what would collide. */
export interface CopyPlan {
  source: { delimiter: string; prefix: string; capabilities: string[]; provider?: string };
  destination: { delimiter: string; prefix: string; capabilities: string[]; provider?: string; maxMessageBytes?: number; quota?: { usedBytes: number; limitBytes: number } };
  folders: FolderPlan[];
  /** Sum over selected folders. */
  selectedMessages: number;
  selectedBytes: number;
  /** True if any two selected folders land on one destination folder; copying refuses to start. */
  hasCollisions: boolean;
  /** What the selection will meet on the destination (quota, size limit, ...), when it was looked at. */
  preflight?: Preflight;
}

/** A message the destination is known to refuse, found before anything is copied. */
export interface RefusedMessage {
  /** Source folder path. */
  folder: string;
  uid: number;
  size: number;
  /** INTERNALDATE, ISO 8601. */
  date?: string;
  subject?: string;
  /** One sentence: why the destination will not take it. */
  reason: string;
}

/**
 * What the selection will meet on the destination, known before anything is copied: the quota,
 * messages over its size limit, folder names it cannot take as they are, the provider's daily
 * upload limit. Shown by `plan` and by the app before Start.
 */
export interface Preflight {
  /** Null when the destination tells no quota. `neededBytes`: what the selection will add. */
  quota: { usedBytes: number; limitBytes: number; neededBytes: number; fits: boolean } | null;
  /** The largest message the destination takes: APPENDLIMIT (RFC 7889), else the provider's documented limit. */
  maxMessageBytes?: number;
  /** Every selected message over that limit: never sent; skipped, or saved to an archive instead. */
  refused: RefusedMessage[];
  refusedBytes: number;
  /** Folders that land under another name, because the destination cannot take theirs as it is. */
  renamedFolders: { folder: string; destination: string; reason: string }[];
  /** The provider's documented daily upload limit, and the days the move needs at it. */
  dailyLimit?: { bytesPerDay: number; days: number; provider: string };
}

/** User choices that shape a plan. */
export interface PlanOptions {
  /** Copy only these source folders (and their subfolders). Empty: all. */
  include?: string[];
  /** Leave these source folders (and their subfolders) out. */
  exclude?: string[];
  /** Source path → destination path chosen by the user. */
  renames?: Record<string, string>;
  /**
   * Gmail's All Mail holds every message again. 'skip' (default) leaves it out; 'archive-only'
   * copies just the messages that have no other label (archived mail, which no other folder
   * holds) into the destination's Archive folder.
   */
  gmailAllMail?: 'skip' | 'archive-only';
}
