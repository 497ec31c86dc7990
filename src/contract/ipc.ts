/**
 * The one IPC contract between the renderer and the engine (via main's handlers and the preload).
 * Channels are `domain:verb`. Main's handlers, the preload's named functions and the renderer's
 * `window.mailferry` type are all derived from these two maps; nothing else lists channels.
 */
import type { AccountEndpoint, ArchiveLocation } from './account.js';
import type { CopyPlan, PlanOptions } from './plan.js';
import type { JobEvent, JobReport, JobSettings, JobProgress } from './job.js';
import type { Result } from './result.js';

export type AccountRole = 'source' | 'destination';

/** An account as the renderer may see it: never a password, only whether one is stored. */
export interface SavedAccount {
  endpoint: AccountEndpoint;
  email: string;
  hasSavedPassword: boolean;
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

/** What the renderer sends to start a job: the plan's choices, never credentials. */
export interface StartJobRequest {
  options: PlanOptions;
  /** Source paths to copy (after the user's ticks in the tree). */
  selectedPaths: string[];
  settings: Partial<JobSettings>;
  /** Optional local archive that also (or instead) receives the chosen folders. */
  archive?: ArchiveLocation;
}

/** channel → [request, response]. Every response is a Result so failures are values. */
export interface InvokeMap {
  'accounts:load': [void, Result<{ source?: SavedAccount; destination?: SavedAccount }>];
  'accounts:save': [{ role: AccountRole; email: string; endpoint: AccountEndpoint; password?: string; rememberPassword: boolean }, Result<SavedAccount>];
  'accounts:test': [{ role: AccountRole }, Result<ConnectionCheck>];
  'presets:lookup': [{ email: string }, Result<ProviderPreset | null>];
  'plan:load': [{ options: PlanOptions }, Result<CopyPlan>];
  'jobs:start': [StartJobRequest, Result<{ jobId: string }>];
  'jobs:pause': [{ jobId: string }, Result<void>];
  'jobs:resume': [{ jobId: string }, Result<void>];
  'jobs:cancel': [{ jobId: string }, Result<void>];
  'jobs:retryFolder': [{ jobId: string; sourcePath: string }, Result<void>];
  'jobs:retryFailed': [{ jobId: string }, Result<void>];
  'jobs:list': [void, Result<JobSummary[]>];
  'jobs:report': [{ jobId: string }, Result<JobReport>];
  'reports:export': [{ jobId: string; format: 'csv' | 'html' }, Result<{ path: string }>];
  'messages:saveEml': [{ jobId: string; sourcePath: string; uid: number }, Result<{ path: string }>];
}

/** channel → payload, pushed from main to the renderer. */
export interface EventMap {
  'jobs:event': JobEvent;
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
  onJobEvent(listener: (event: JobEvent) => void): () => void;
};

/** The list of invoke channels at run time (kept in sync with InvokeMap by the type below). */
export const INVOKE_CHANNELS = [
  'accounts:load',
  'accounts:save',
  'accounts:test',
  'presets:lookup',
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
] as const satisfies readonly InvokeChannel[];

// Compile-time check that INVOKE_CHANNELS lists every channel of InvokeMap.
type MissingChannels = Exclude<InvokeChannel, (typeof INVOKE_CHANNELS)[number]>;
const everyChannelListed: MissingChannels extends never ? true : MissingChannels = true;
void everyChannelListed;

export const bridgeNameOf = <C extends InvokeChannel>(channel: C): BridgeName<C> => {
  const [domain, verb] = channel.split(':') as [string, string];
  return `${domain}${verb.charAt(0).toUpperCase()}${verb.slice(1)}` as BridgeName<C>;
};
