import type { AccountRole, ConnectionCheck, JobSummary, MailferryBridge, ProviderPreset, StartJobRequest } from '../../../src/contract/ipc.js';
import type { Security } from '../../../src/contract/account.js';
import type { CopyPlan } from '../../../src/contract/plan.js';
import type { FailedMessage, FolderProgress, JobProgress, JobReport, JobStatus, JobEvent } from '../../../src/contract/job.js';
import type { MigrationError } from '../../../src/contract/result.js';

export type Screen = 'accounts' | 'folders' | 'copying' | 'report';

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
  preset: ProviderPreset | null;
  test: ConnectionTest;
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
}

export interface AccountsSlice {
  accounts: Record<AccountRole, AccountForm>;
  updateAccount(role: AccountRole, patch: Partial<AccountForm>): void;
  setEmail(role: AccountRole, email: string): void;
  lookupPreset(role: AccountRole): Promise<void>;
  /** Sends the account (and the password, if one was typed) to main, then tests the connection. */
  saveAndTest(role: AccountRole, password?: string): Promise<void>;
  trustCertificate(role: AccountRole, fingerprint: string): Promise<void>;
}

export interface JobSettingsForm {
  connectionsPerSide: number;
  /** Megabytes per second, 0 = no cap. */
  maxMegabytesPerSecond: number;
}

export interface FoldersSlice {
  plan: CopyPlan | null;
  planState: 'idle' | 'loading' | 'ready' | 'failed';
  planError: MigrationError | null;
  selected: ReadonlySet<string>;
  renames: Readonly<Record<string, string>>;
  expanded: ReadonlySet<string>;
  filter: string;
  jobSettings: JobSettingsForm;
  loadPlan(): Promise<void>;
  setSelected(selected: ReadonlySet<string>): void;
  setExpanded(expanded: ReadonlySet<string>): void;
  setFilter(filter: string): void;
  renameFolder(sourcePath: string, destinationPath: string): Promise<void>;
  setJobSettings(patch: Partial<JobSettingsForm>): void;
  startJob(): Promise<void>;
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
  progress: JobProgress | null;
  /** Latest state per folder (source path), from progress and folder-status events. */
  folders: Record<string, FolderProgress>;
  folderOrder: string[];
  failures: FailedMessage[];
  log: LogLine[];
  report: JobReport | null;
  isActionPending: boolean;
  applyJobEvent(event: JobEvent): void;
  pauseJob(): Promise<void>;
  resumeJob(jobId?: string): Promise<void>;
  cancelJob(): Promise<void>;
  retryFolder(sourcePath: string): Promise<void>;
  retryFailed(): Promise<void>;
  loadReport(): Promise<void>;
  showReport(): Promise<void>;
  exportReport(format: 'csv' | 'html'): Promise<void>;
  saveEml(failure: FailedMessage): Promise<void>;
  runAgain(): Promise<void>;
  /** Takes on the job a start returned (replaying events that came before the answer); null drops them. */
  adoptJob(jobId: string | null): void;
}

export type AppState = AppSlice & AccountsSlice & FoldersSlice & JobSlice;

export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['done', 'needs-attention', 'cancelled']);
export const RESUMABLE_JOB_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['queued', 'scanning', 'copying', 'verifying', 'paused']);
