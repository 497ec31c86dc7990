import type {
  AccountRole,
  AppFailedMessage,
  AppFolderProgress,
  AppJobEvent,
  AppJobProgress,
  AppJobReport,
  AppPlan,
  BatchEvent,
  BatchFolders,
  BatchView,
  ConnectionCheck,
  DiscoveryOutcome,
  FolderTarget,
  JobSummary,
  MailferryBridge,
  ProviderPreset,
  StartJobRequest,
} from '../../../src/contract/ipc.js';
import type { ArchiveFormat, Security } from '../../../src/contract/account.js';
import type { JobStatus } from '../../../src/contract/job.js';
import type { MailboxProgress, MailboxSummary } from '../../../src/contract/batch.js';
import type { MigrationError } from '../../../src/contract/result.js';

/** The four steps of one person's move, and the screen for IT staff moving many mailboxes. */
export type Screen = 'accounts' | 'folders' | 'copying' | 'report' | 'batch';

export interface ConnectionTest {
  state: 'idle' | 'testing' | 'ok' | 'failed';
  check?: ConnectionCheck;
  error?: MigrationError;
}

/** One account form. Holds no password: the field's text lives in the component until it is sent to main. */
export interface AccountForm {
  email: string;
  host: string;
  port: number;
  security: Security;
  user: string;
  /** The user typed a user name of their own; the address no longer overwrites it. */
  isUserEdited: boolean;
  allowPlaintext: boolean;
  pinnedFingerprint?: string;
  rememberPassword: boolean;
  /** Main holds a password for this account (saved encrypted, or for this session only). */
  hasPassword: boolean;
  hasSavedPassword: boolean;
  /** Why main cannot remember a password or sign-in on this computer (no keyring): shown by the form. */
  cannotRemember?: string;
  preset: ProviderPreset | null;
  test: ConnectionTest;
  /** OAuth2 sign-in instead of a password (null: a password). Settings only, never a token. */
  signIn: SignInForm | null;
  /** Main holds a sign-in for this account. */
  isSignedIn: boolean;
  signInState: 'idle' | 'waiting' | 'failed';
  signInError?: MigrationError;
  /** The person typed a server of their own: presets and discovery no longer overwrite it. */
  isHostEdited: boolean;
  /** Looking the server up for an address no preset knows (autoconfig, DNS, MX). */
  discovery: DiscoveryState;
}

export interface DiscoveryState {
  state: 'idle' | 'looking' | 'found' | 'none';
  /** The address's domain the lookup was for. */
  domain?: string;
  outcome?: DiscoveryOutcome;
}

/** The sign-in settings as the form edits them (empty strings: the defaults). */
export interface SignInForm {
  /** `google`, `microsoft`, or an issuer URL. */
  provider: string;
  clientId: string;
  tenant: string;
}

export interface AppSlice {
  bridge: MailferryBridge;
  screen: Screen;
  interruptedJobs: JobSummary[];
  /** A one-line message for the user after an action (export saved to …), with its tone. */
  notice: { tone: 'info' | 'error'; text: string } | null;
  init(): Promise<void>;
  goTo(screen: Screen): void;
  dismissResume(jobId: string): void;
  setNotice(notice: AppSlice['notice']): void;
  /** Opens a web page in the person's own browser (main does it; http and https only). */
  openLink(url: string): Promise<void>;
}

export interface AccountsSlice {
  accounts: Record<AccountRole, AccountForm>;
  /** Where the mail is now: the old account, or an archive on this computer (a restore). */
  sourceKind: 'account' | 'archive';
  sourceArchivePath: string | null;
  sourceArchiveFormat: ArchiveFormat;
  setSourceKind(kind: 'account' | 'archive'): void;
  chooseSourceArchive(): Promise<void>;
  setSourceArchiveFormat(format: ArchiveFormat): void;
  /**
   * Where the mail goes: the new account, or only an archive on this computer (an archive-only
   * job: no second account needed). A restore (archive source) always goes to the account.
   */
  destinationKind: 'account' | 'archive';
  destinationArchivePath: string | null;
  destinationArchiveFormat: ArchiveFormat;
  setDestinationKind(kind: 'account' | 'archive'): void;
  chooseDestinationArchive(): Promise<void>;
  setDestinationArchiveFormat(format: ArchiveFormat): void;
  updateAccount(role: AccountRole, patch: Partial<AccountForm>): void;
  setEmail(role: AccountRole, email: string): void;
  lookupPreset(role: AccountRole): Promise<void>;
  /** Sends the account (and the password, if one was typed) to main, then tests the connection. */
  saveAndTest(role: AccountRole, password?: string): Promise<boolean>;
  trustCertificate(role: AccountRole, fingerprint: string): Promise<void>;
  /** Switches the account to OAuth2 sign-in (with these settings) or back to a password (null). */
  setSignIn(role: AccountRole, signIn: SignInForm | null): void;
  /** Saves the account, signs in through the system browser (main opens it), then tests the connection. */
  signIn(role: AccountRole): Promise<boolean>;
  /** Forgets the account's sign-in. */
  signOut(role: AccountRole): Promise<void>;
}

export interface JobSettingsForm {
  connectionsPerSide: number;
  /** Megabytes per second, 0 = no cap. */
  maxMegabytesPerSecond: number;
  /** Newest mail first: the last `recentDays` days of every folder before anything older. */
  newestFirst: boolean;
  recentDays: number;
  /** Read state that follows: later runs add the flags the old messages gained since. */
  syncFlags: boolean;
}

/** What happens to messages too large for the new account: left out (listed in the report), or kept in a local archive. */
export type RefusedChoice = 'skip' | 'archive';

/** Where a ticked folder goes once an archive is chosen. Without an archive every folder goes to the account. */
export type FolderRoute = 'account' | 'archive' | 'both';

export interface FoldersSlice {
  plan: AppPlan | null;
  planState: 'idle' | 'loading' | 'ready' | 'failed';
  planError: MigrationError | null;
  selected: ReadonlySet<string>;
  renames: Readonly<Record<string, string>>;
  expanded: ReadonlySet<string>;
  filter: string;
  jobSettings: JobSettingsForm;
  /** The archive folder on disk (null: none chosen, every folder goes to the account) and its format. */
  archivePath: string | null;
  archiveFormat: ArchiveFormat;
  /** Source path → where it goes; absent means the new account. Only used while an archive is chosen. */
  routes: Readonly<Record<string, FolderRoute>>;
  /** The tree row the keyboard is on (its node id), shared with the destination bar. */
  activeFolderId: string | null;
  /**
   * The folders the plan (and its pre-flight) was last made for, when the person asked to check
   * the current selection ("Check again"); null: the plan's own default selection.
   */
  planInclude: string[] | null;
  /** Messages too large for the new account: skipped, or saved to `refusedArchivePath` in `refusedArchiveFormat`. */
  refusedChoice: RefusedChoice;
  refusedArchivePath: string | null;
  refusedArchiveFormat: ArchiveFormat;
  loadPlan(): Promise<void>;
  setSelected(selected: ReadonlySet<string>): void;
  setExpanded(expanded: ReadonlySet<string>): void;
  setFilter(filter: string): void;
  renameFolder(sourcePath: string, destinationPath: string): Promise<void>;
  setJobSettings(patch: Partial<JobSettingsForm>): void;
  /** Asks main for a folder (a dialog), then re-plans with the archive side. */
  chooseArchiveFolder(): Promise<void>;
  setArchiveFormat(format: ArchiveFormat): Promise<void>;
  clearArchive(): Promise<void>;
  setRoute(paths: readonly string[], route: FolderRoute): void;
  setActiveFolderId(id: string | null): void;
  /** Plans again for the folders ticked now, so the pre-flight covers every one of them. */
  checkSelectionAgain(): Promise<void>;
  setRefusedChoice(choice: RefusedChoice): void;
  /** Asks main for the folder (the archive dialog) that keeps messages too large for the new account. */
  chooseRefusedArchive(): Promise<void>;
  setRefusedArchiveFormat(format: ArchiveFormat): void;
  startJob(): Promise<void>;
}

export interface SpeedSample {
  /** Epoch ms. */
  at: number;
  bytesPerSecond: number | null;
}

export interface LogLine {
  at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface JobSlice {
  jobId: string | null;
  lastStart: StartJobRequest | null;
  jobStatus: JobStatus | null;
  jobError: MigrationError | null;
  /** The part of the job the error came from (the account or the archive). */
  jobErrorTarget: FolderTarget | undefined;
  progress: AppJobProgress | null;
  /** Latest state per folder row (rowKey: target and source path), from progress and folder-status events. */
  folders: Record<string, AppFolderProgress>;
  folderOrder: string[];
  failures: AppFailedMessage[];
  log: LogLine[];
  report: AppJobReport | null;
  isActionPending: boolean;
  /** Transfer speed over time, for the chart: one sample per second at most; null marks a pause. */
  speedSamples: SpeedSample[];
  applyJobEvent(event: AppJobEvent): void;
  pauseJob(): Promise<void>;
  resumeJob(jobId?: string): Promise<void>;
  cancelJob(): Promise<void>;
  retryFolder(sourcePath: string, target?: FolderTarget): Promise<void>;
  retryFailed(): Promise<void>;
  /** After a refused sign-in paused the move: sign that account in again, then resume. */
  signInAgainAndResume(role: AccountRole): Promise<void>;
  loadReport(): Promise<void>;
  showReport(): Promise<void>;
  exportReport(format: 'csv' | 'html'): Promise<void>;
  saveEml(failure: AppFailedMessage): Promise<void>;
  runAgain(): Promise<void>;
  /** Takes on the job a start returned (replaying events that came before the answer); null drops them. */
  adoptJob(jobId: string | null): void;
}

/** A users CSV and its mailboxes (IT staff). */
export interface BatchSlice {
  /** The CSV as main read it (mailboxes, or its problems); null before one is opened. */
  batch: BatchView | null;
  batchState: 'idle' | 'opening' | 'invalid' | 'ready' | 'running' | 'stopping' | 'finished';
  /** Latest progress per mailbox id. */
  mailboxes: Record<string, MailboxProgress>;
  batchSummaries: MailboxSummary[] | null;
  /** Mailboxes at once. */
  batchParallel: number;
  /** imap:// locations of the CSV may be unencrypted. */
  batchAllowPlaintext: boolean;
  /** The mailbox whose folder tree is open, and its folders. */
  openMailboxId: string | null;
  mailboxFolders: BatchFolders | null;
  openBatch(): Promise<void>;
  startBatch(): Promise<void>;
  stopBatch(): Promise<void>;
  exportBatch(format: 'csv' | 'html'): Promise<void>;
  openMailbox(id: string | null): Promise<void>;
  setBatchParallel(parallel: number): void;
  setBatchAllowPlaintext(isAllowed: boolean): void;
  applyBatchEvent(event: BatchEvent): void;
}

export type AppState = AppSlice & AccountsSlice & FoldersSlice & JobSlice & BatchSlice;

/** The key of a folder row on the Move screen: a folder going to both places has two rows. */
export const rowKey = (folder: { sourcePath: string; target?: FolderTarget | undefined }): string => `${folder.target ?? 'account'}\u0000${folder.sourcePath}`;

/** The job status sets, from the contract where their meanings are written once. */
export { FINISHED_JOB_STATUSES as TERMINAL_JOB_STATUSES, RESUMABLE_JOB_STATUSES } from '../../../src/contract/job.js';
