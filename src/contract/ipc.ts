/**
 * The one IPC contract between the renderer and the engine (via main's handlers and the preload).
 * Channels are `domain:verb`. Main's handlers, the preload's named functions and the renderer's
 * `window.mailferry` type are all derived from these two maps; nothing else lists channels.
 */
import type { AccountEndpoint, ArchiveLocation, Security } from './account.js';
import type { CopyPlan, PlanOptions } from './plan.js';
import type { FailedMessage, FolderProgress, FolderReport, JobEvent, JobReport, JobSettings, JobProgress, JobStatus } from './job.js';
import type { MigrationError, Result } from './result.js';
import type { BatchInputProblem, BatchMailbox, MailboxProgress, MailboxSummary } from './batch.js';

export type AccountRole = 'source' | 'destination';

/**
 * How an account signs in with OAuth2 instead of a password: the provider (`google`,
 * `microsoft`, or an issuer URL) and the app's registration there. No token: those stay in main.
 */
export interface SignInSettings {
  provider: string;
  /** Empty: the default client ID (MAILFERRY_OAUTH_CLIENT_ID or oauth-clients.json). */
  clientId?: string;
  /** Microsoft's tenant (default `common`). */
  tenant?: string;
}

/** An account as the renderer may see it: never a password or token, only whether one is stored. */
export interface SavedAccount {
  endpoint: AccountEndpoint;
  email: string;
  hasSavedPassword: boolean;
  /**
   * Why this computer cannot keep a password or sign-in (no encrypted storage, or on Linux no
   * keyring): then nothing is remembered beyond this session, and the app says so.
   */
  cannotRemember?: string;
  /** Present when the account signs in with OAuth2. */
  signIn?: SignInSettings & {
    /** `Google`, `Microsoft`, or the issuer's host. */
    providerName: string;
    /** Main holds a sign-in for it (in memory, or kept in the encrypted vault). */
    isSignedIn: boolean;
  };
}

/** Settings for a known mail provider, filled in from the address's domain. */
export interface ProviderPreset {
  id: string;
  name: string;
  host: string;
  port: number;
  security: 'tls' | 'starttls';
  /** Shown next to the password field, e.g. that an app password is needed. */
  note?: string;
  appPasswordUrl?: string;
  /** The provider signs in with OAuth2 ("Sign in with Google"). */
  oauthProvider?: 'google' | 'microsoft';
}

/** How the settings of an address without a preset were found, in Thunderbird's order. */
export type DiscoveryMethod = 'autoconfig' | 'well-known' | 'srv' | 'mx';

/** Server settings found for an address (autoconfig file, DNS SRV records, or the MX host's provider). */
export interface DiscoveredServer {
  host: string;
  port: number;
  security: Security;
  /** The user name the provider asks for (placeholders filled in), when it says. */
  user?: string;
  method: DiscoveryMethod;
  /** What answered: the settings file's address, or the DNS name asked. */
  foundAt: string;
  /** True when the settings file came over plain HTTP: anyone on the way could have changed it. */
  isUnencryptedLookup?: boolean;
  /** The provider's own name (from the settings file, or the provider an MX host belongs to). */
  providerName?: string;
  /** For `mx`: the domain's mail exchanger, which told who the provider is. */
  mxHost?: string;
  /** For `mx` at a known provider: its preset (notes, app-password page, OAuth2). */
  preset?: ProviderPreset;
}

/** What a discovery found, and what it asked on the way (said to the person when nothing was found). */
export interface DiscoveryOutcome {
  found: DiscoveredServer | null;
  /** Each place asked, in order: e.g. `https://autoconfig.example.org/mail/config-v1.1.xml`, `_imaps._tcp.example.org`. */
  asked: string[];
}

export interface ConnectionCheck {
  capabilities: string[];
  /** Server greeting/ID where available, for the user's orientation. */
  serverName?: string;
  /** Fingerprint of the TLS certificate the server presented (when TLS was used). */
  certificateFingerprint?: string;
}

export interface JobSummary {
  jobId: string;
  source: string;
  destination: string;
  startedAt: number;
  updatedAt: number;
  status: JobProgress['status'];
  bytesDone: number;
  bytesTotal: number;
}

/**
 * Where one folder row of a job goes: the new account or the local archive. A folder chosen for
 * both appears twice, once per target. Absent means the account (jobs without an archive).
 */
export type FolderTarget = 'account' | 'archive';

/** What the renderer sends to start a job: the plan's choices, never credentials. */
export interface StartJobRequest {
  options: PlanOptions;
  /** Source paths to copy into the new account (after the user's ticks in the tree). May be empty when `archivePaths` is not. */
  selectedPaths: string[];
  settings: Partial<JobSettings>;
  /** A local archive that receives the folders of `archivePaths`. */
  archive?: ArchiveLocation;
  /**
   * Source paths to copy into `archive`. A path in both lists goes to both. Without this list a
   * request with `archive` sends `selectedPaths` to the archive only (the earlier meaning).
   */
  archivePaths?: string[];
  /**
   * Restore: read from this archive instead of the old account (everything goes to the new
   * account; `archive` may not be given with it).
   */
  source?: ArchiveLocation;
  /**
   * Messages too large for the new account (the plan's `preflight.refused`) are kept in this
   * local archive instead of being left out and reported as refused. Only for folders that go to
   * the new account; a folder the dialog returned, like every archive of a request.
   */
  refusedTo?: ArchiveLocation;
}

/** Where each source folder would land in the archive, next to the account-side plan. */
export interface ArchivePlan {
  location: ArchiveLocation;
  folders: { sourcePath: string; destinationPath: string; destinationExists: boolean; collidesWith: string[] }[];
}

/** The plan the app shows: the account-side CopyPlan, and the archive side when an archive is chosen. */
export type AppPlan = CopyPlan & { archive?: ArchivePlan };

/** Progress, report and failure rows as the app sees them: each says which target it belongs to. */
export type AppFolderProgress = FolderProgress & { target?: FolderTarget };
export type AppFolderReport = FolderReport & { target?: FolderTarget };
export type AppFailedMessage = FailedMessage & { target?: FolderTarget };
export type AppJobProgress = Omit<JobProgress, 'folders'> & { folders: AppFolderProgress[] };
export type AppJobReport = Omit<JobReport, 'folders'> & {
  folders: AppFolderReport[];
  /** The archive the archive rows went to, for display. */
  archive?: ArchiveLocation;
};

/** A JobEvent whose folder rows carry their target. Every JobEvent is one (the target is optional). */
export type AppJobEvent =
  | Exclude<JobEvent, { type: 'job-status' | 'progress' | 'folder-status' | 'message-failed' | 'report' }>
  /** `target` says which part an error came from (a full archive disk is not a full account). */
  | { type: 'job-status'; jobId: string; status: JobStatus; error?: MigrationError; target?: FolderTarget }
  | { type: 'progress'; jobId: string; progress: AppJobProgress }
  | { type: 'folder-status'; jobId: string; folder: AppFolderProgress }
  | { type: 'message-failed'; jobId: string; failure: AppFailedMessage }
  | { type: 'report'; jobId: string; report: AppJobReport };

/**
 * A users CSV opened in the app (IT staff moving many mailboxes): its mailboxes and where each
 * stands, or every problem found in it (then nothing can start).
 */
export interface BatchView {
  /** The CSV's path. */
  file: string;
  mailboxes: BatchMailbox[];
  problems: BatchInputProblem[];
  progress: MailboxProgress[];
  isRunning: boolean;
}

/** What the app may change for a batch run (the rest is as the CLI's defaults). */
export interface StartBatchRequest {
  /** Mailboxes at once. */
  parallel: number;
  connectionsPerSide?: number;
  /** A cap for the whole batch (0: none). */
  maxBytesPerSecond?: number;
}

/** One mailbox's folders, for its folder tree: as its run reports them, or as its last saved report left them. */
export interface BatchFolders {
  id: string;
  folders: AppFolderProgress[];
  /** The source's hierarchy separator, when known (from the mailbox's plan). */
  delimiter?: string;
  /** Where they come from: this session's run, a report saved by an earlier run, or nothing yet. */
  source: 'run' | 'saved-report' | 'none';
}

/** Pushed while a batch runs: a mailbox's progress (absolute numbers), and the batch's start and end. */
export type BatchEvent = { type: 'mailbox'; progress: MailboxProgress } | { type: 'batch-status'; isRunning: boolean; summaries?: MailboxSummary[] };

/** channel → [request, response]. Every response is a Result so failures are values. */
export interface InvokeMap {
  'accounts:load': [void, Result<{ source?: SavedAccount; destination?: SavedAccount }>];
  /** With `signIn` the account signs in with OAuth2 (a password is then not used). */
  'accounts:save': [{ role: AccountRole; email: string; endpoint: AccountEndpoint; password?: string; rememberPassword: boolean; signIn?: SignInSettings }, Result<SavedAccount>];
  /**
   * Signs the (saved) account in: main opens the system browser at the provider's page and waits
   * for the answer on a loopback address; the sign-in is kept in the encrypted vault.
   */
  'accounts:signIn': [{ role: AccountRole }, Result<SavedAccount>];
  /** Forgets the account's sign-in (and asks the provider to revoke it where it can). */
  'accounts:signOut': [{ role: AccountRole }, Result<SavedAccount>];
  'accounts:test': [{ role: AccountRole }, Result<ConnectionCheck>];
  'presets:lookup': [{ email: string }, Result<ProviderPreset | null>];
  /** For an address with no preset: looks its server up (autoconfig file, DNS SRV, MX host's provider). */
  'accounts:discover': [{ email: string }, Result<DiscoveryOutcome>];
  /** Opens a web page (http or https only) in the person's own browser; main does it, never a window of ours. */
  'links:open': [{ url: string }, Result<void>];
  /**
   * With `archive`, the answer also maps every folder to its place in that archive. With `source`,
   * the folders are the archive's (restore). With `archiveOnly` (and `archive`) the archive is the
   * job's only destination: the new account is not needed, not opened, and the plan is the archive's.
   */
  'plan:load': [{ options: PlanOptions; archive?: ArchiveLocation; source?: ArchiveLocation; archiveOnly?: boolean }, Result<AppPlan>];
  'jobs:start': [StartJobRequest, Result<{ jobId: string }>];
  'jobs:pause': [{ jobId: string }, Result<void>];
  'jobs:resume': [{ jobId: string }, Result<void>];
  'jobs:cancel': [{ jobId: string }, Result<void>];
  /** `target` picks the account or archive row of a folder that goes to both (default: the account, else the archive). */
  'jobs:retryFolder': [{ jobId: string; sourcePath: string; target?: FolderTarget }, Result<void>];
  'jobs:retryFailed': [{ jobId: string }, Result<void>];
  'jobs:list': [void, Result<JobSummary[]>];
  'jobs:report': [{ jobId: string }, Result<AppJobReport>];
  'reports:export': [{ jobId: string; format: 'csv' | 'html' }, Result<{ path: string }>];
  'messages:saveEml': [{ jobId: string; sourcePath: string; uid: number }, Result<{ path: string }>];
  /** Asks main to show a folder picker (new folders allowed); `cancelled` when the user closes it. */
  'archive:chooseFolder': [void, Result<{ path: string }>];
  /**
   * Asks main for a users CSV (a file dialog), reads and checks it; a CSV with problems is a value
   * with `problems`. `allowPlaintext`: its imap:// locations may be unencrypted (as --allow-plaintext).
   */
  'batch:open': [{ allowPlaintext: boolean }, Result<BatchView>];
  'batch:start': [StartBatchRequest, Result<void>];
  /** Pauses every running mailbox (each journal keeps what is done) and waits for them. */
  'batch:stop': [void, Result<void>];
  'batch:export': [{ format: 'csv' | 'html' }, Result<{ path: string }>];
  'batch:folders': [{ id: string }, Result<BatchFolders>];
}

/**
 * How large a request may be, per field and in all (main refuses anything larger before reading
 * it): a renderer that is not ours, or a bug, cannot make main hold or parse without end.
 */
export const IPC_LIMITS = {
  /** A folder path on a server or a disk (PATH_MAX is 4096). */
  pathChars: 4000,
  /** Folders in one request (an account may have up to 50,000: server-limits.ts MAX_FOLDERS). */
  folders: 50_000,
  /** Renamed folders in one request. */
  renames: 50_000,
  /** A password, or any other free text field. */
  secretChars: 4096,
  /** All strings of one request together, and its values (objects, arrays, strings, numbers). */
  totalChars: 16 * 1024 * 1024,
  totalValues: 500_000,
  /** Nesting of objects and arrays in one request. */
  depth: 16,
} as const;

/** channel → payload, pushed from main to the renderer. */
export interface EventMap {
  'jobs:event': AppJobEvent;
  'batch:event': BatchEvent;
}

export type InvokeChannel = keyof InvokeMap;
export type EventChannel = keyof EventMap;
export type InvokeRequest<C extends InvokeChannel> = InvokeMap[C][0];
export type InvokeResponse<C extends InvokeChannel> = InvokeMap[C][1];

/** `accounts:load` → `accountsLoad`: the name of the preload function for a channel. */
type CamelTail<S extends string> = S extends `${infer H}${infer T}` ? `${Uppercase<H>}${T}` : S;
export type BridgeName<C extends string> = C extends `${infer D}:${infer V}` ? `${D}${CamelTail<V>}` : never;

/** The API the preload exposes as `window.mailferry`: one named function per channel, and event subscriptions. */
export type MailferryBridge = {
  [C in InvokeChannel as BridgeName<C>]: InvokeRequest<C> extends void
    ? () => Promise<InvokeResponse<C>>
    : (request: InvokeRequest<C>) => Promise<InvokeResponse<C>>;
} & {
  /** Subscribe to job events; returns an unsubscribe function. */
  onJobEvent(listener: (event: AppJobEvent) => void): () => void;
  /** Subscribe to batch events; returns an unsubscribe function. */
  onBatchEvent(listener: (event: BatchEvent) => void): () => void;
};

/** The list of invoke channels at run time (kept in sync with InvokeMap by the type below). */
export const INVOKE_CHANNELS = [
  'accounts:load',
  'accounts:save',
  'accounts:signIn',
  'accounts:signOut',
  'accounts:test',
  'presets:lookup',
  'accounts:discover',
  'links:open',
  'plan:load',
  'jobs:start',
  'jobs:pause',
  'jobs:resume',
  'jobs:cancel',
  'jobs:retryFolder',
  'jobs:retryFailed',
  'jobs:list',
  'jobs:report',
  'reports:export',
  'messages:saveEml',
  'archive:chooseFolder',
  'batch:open',
  'batch:start',
  'batch:stop',
  'batch:export',
  'batch:folders',
] as const satisfies readonly InvokeChannel[];

// Compile-time check that INVOKE_CHANNELS lists every channel of InvokeMap.
type MissingChannels = Exclude<InvokeChannel, (typeof INVOKE_CHANNELS)[number]>;
const everyChannelListed: MissingChannels extends never ? true : MissingChannels = true;
void everyChannelListed;

export const bridgeNameOf = <C extends InvokeChannel>(channel: C): BridgeName<C> => {
  const [domain, verb] = channel.split(':') as [string, string];
  return `${domain}${verb.charAt(0).toUpperCase()}${verb.slice(1)}` as BridgeName<C>;
};
