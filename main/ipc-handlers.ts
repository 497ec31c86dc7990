/**
 * Main's side of the IPC contract. The handler table is keyed by the channels of `InvokeMap`
 * (main passes the AppService, which has one function per channel); every channel of
 * `INVOKE_CHANNELS` is registered, each request is accepted only from our own window's main
 * frame, only if its size is within IPC_LIMITS (measured before anything else reads it), and
 * only if it validates against the channel's schema, in which every string, array and map has
 * a size limit. Refusals are values, like every other failure; the handler is never called with
 * them.
 *
 * No `electron` import here (only the shapes used), so the tests run under plain Node.
 */
import { z } from 'zod';
import { INVOKE_CHANNELS, IPC_LIMITS, type InvokeChannel, type InvokeRequest, type InvokeResponse } from '../src/contract/ipc.js';
import { migrationError, type Result } from '../src/contract/result.js';

const role = z.enum(['source', 'destination']);
const jobId = z.string().min(1).max(200);
const path = z.string().min(1).max(IPC_LIMITS.pathChars);
const endpoint = z.strictObject({
  host: z.string().trim().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  security: z.enum(['tls', 'starttls', 'plain']),
  user: z.string().min(1).max(320),
  allowPlaintext: z.boolean().optional(),
  pinnedFingerprint: z.string().regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/).optional(),
});
const pathList = z.array(path).max(IPC_LIMITS.folders);
const planOptions = z.strictObject({
  include: pathList.optional(),
  exclude: pathList.optional(),
  renames: z
    .record(path, path)
    .refine((r) => Object.keys(r).length <= IPC_LIMITS.renames, `at most ${IPC_LIMITS.renames} renames`)
    .optional(),
});
const jobOnly = z.strictObject({ jobId });
/** An archive on disk: an absolute path (the renderer only ever has one from the folder dialog). */
const archiveLocation = z.strictObject({
  format: z.enum(['mbox', 'maildir', 'eml']),
  path: path.refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\'), 'an absolute path'),
});
const target = z.enum(['account', 'archive']);
/** Google, Microsoft, or an issuer URL (https, or http on loopback: the engine checks which). */
const signIn = z.strictObject({
  provider: z.union([z.enum(['google', 'microsoft']), z.url({ protocol: /^https?$/ }).max(2000)]),
  clientId: z.string().trim().max(500).optional(),
  tenant: z.string().trim().regex(/^[A-Za-z0-9.-]{0,100}$/).optional(),
});

/** One schema per channel; the mapped type makes a missing or mistyped channel a compile error. */
export const REQUEST_SCHEMAS: { [C in InvokeChannel]: z.ZodType<InvokeRequest<C>> } = {
  'accounts:load': z.undefined(),
  'accounts:save': z.strictObject({
    role,
    email: z.string().trim().min(3).max(320),
    endpoint,
    password: z.string().min(1).max(IPC_LIMITS.secretChars).optional(),
    rememberPassword: z.boolean(),
    signIn: signIn.optional(),
  }),
  'accounts:signIn': z.strictObject({ role }),
  'accounts:signOut': z.strictObject({ role }),
  'accounts:test': z.strictObject({ role }),
  'presets:lookup': z.strictObject({ email: z.string().max(320) }),
  'accounts:discover': z.strictObject({ email: z.string().trim().min(3).max(320) }),
  'links:open': z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2000) }),
  'plan:load': z
    .strictObject({ options: planOptions, archive: archiveLocation.optional(), source: archiveLocation.optional(), archiveOnly: z.boolean().optional() })
    .refine((r) => !(r.source && r.archive), { message: 'a restore goes to the account only', path: ['archive'] })
    .refine((r) => !r.archiveOnly || r.archive !== undefined, { message: 'archiveOnly needs an archive', path: ['archiveOnly'] }),
  'jobs:start': z
    .strictObject({
      options: planOptions,
      selectedPaths: pathList,
      settings: z.strictObject({
        connectionsPerSide: z.number().int().min(1).max(8).optional(),
        maxBytesPerSecond: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
        maxConsecutiveFailures: z.number().int().min(1).max(100).optional(),
        syncFlags: z.boolean().optional(),
        newestFirst: z.boolean().optional(),
        recentDays: z.number().int().min(1).max(36_500).optional(),
      }),
      archive: archiveLocation.optional(),
      archivePaths: pathList.optional(),
      source: archiveLocation.optional(),
      refusedTo: archiveLocation.optional(),
    })
    .refine((r) => !(r.source && r.archive), { message: 'a restore goes to the account only', path: ['archive'] })
    .refine((r) => r.archivePaths === undefined || r.archive !== undefined, { message: 'archivePaths needs an archive', path: ['archivePaths'] })
    .refine((r) => r.selectedPaths.length + (r.archivePaths?.length ?? 0) > 0, { message: 'no folder chosen', path: ['selectedPaths'] }),
  'jobs:pause': jobOnly,
  'jobs:resume': jobOnly,
  'jobs:cancel': jobOnly,
  'jobs:retryFolder': z.strictObject({ jobId, sourcePath: path, target: target.optional() }),
  'jobs:retryFailed': jobOnly,
  'jobs:list': z.undefined(),
  'jobs:report': jobOnly,
  'reports:export': z.strictObject({ jobId, format: z.enum(['csv', 'html']) }),
  'messages:saveEml': z.strictObject({ jobId, sourcePath: path, uid: z.number().int().min(1).max(4_294_967_295) }),
  'archive:chooseFolder': z.undefined(),
  'batch:open': z.strictObject({ allowPlaintext: z.boolean() }),
  'batch:start': z.strictObject({
    parallel: z.number().int().min(1).max(32),
    connectionsPerSide: z.number().int().min(1).max(8).optional(),
    maxBytesPerSecond: z.number().int().min(0).optional(),
  }),
  'batch:stop': z.undefined(),
  'batch:export': z.strictObject({ format: z.enum(['csv', 'html']) }),
  'batch:folders': z.strictObject({ id: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/) }),
};

export type InvokeHandlers = { [C in InvokeChannel]: (request: InvokeRequest<C>) => Promise<InvokeResponse<C>> };

/** The parts of an `IpcMainInvokeEvent` the checks read. */
export interface InvokeEventLike {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** True for requests from the main frame of our window showing our own page, nothing else. */
export function isOwnWindowSender(event: InvokeEventLike, expected: { webContentsId: number; pageUrl: string }): boolean {
  const frame = event.senderFrame;
  if (frame === null || frame.parent !== null || event.sender.id !== expected.webContentsId) return false;
  const withoutHash = frame.url.split('#')[0];
  return withoutHash === expected.pageUrl;
}

/**
 * True when `payload` is within IPC_LIMITS in all: its strings' characters, its values and its
 * nesting. Walks it once and stops at the first limit crossed, so a huge request costs no more
 * than the limit to refuse (zod would first read all of it).
 */
export function isWithinIpcLimits(payload: unknown): boolean {
  let chars = 0;
  let values = 0;
  const stack: { value: unknown; depth: number }[] = [{ value: payload, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (++values > IPC_LIMITS.totalValues || depth > IPC_LIMITS.depth) return false;
    if (typeof value === 'string') {
      chars += value.length;
      if (chars > IPC_LIMITS.totalChars) return false;
    } else if (Array.isArray(value)) {
      if (value.length > IPC_LIMITS.totalValues) return false;
      for (const item of value) stack.push({ value: item, depth: depth + 1 });
    } else if (value !== null && typeof value === 'object') {
      const keys = Object.keys(value);
      if (keys.length > IPC_LIMITS.totalValues) return false;
      for (const key of keys) {
        chars += key.length;
        stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 });
      }
      if (chars > IPC_LIMITS.totalChars) return false;
    }
  }
  return true;
}

/** Handles one request: checks the sender, the size and the payload, then calls the channel's handler. */
export async function handleInvoke<C extends InvokeChannel>(
  channel: C,
  event: InvokeEventLike,
  payload: unknown,
  handlers: InvokeHandlers,
  isTrustedSender: (event: InvokeEventLike) => boolean,
  log: (message: string) => void = () => undefined,
): Promise<Result<unknown>> {
  if (!isTrustedSender(event)) {
    log(`Refused ${channel} from a frame that is not Mailferry's window (${event.senderFrame?.url ?? 'no frame'}).`);
    return { ok: false, error: migrationError('bad-input', 'Refused: this request did not come from the Mailferry window.') };
  }
  if (!isWithinIpcLimits(payload)) {
    log(`Refused ${channel}: the request is larger than any the app sends.`);
    return { ok: false, error: migrationError('bad-input', 'Refused: the request was too large.') };
  }
  const parsed = REQUEST_SCHEMAS[channel].safeParse(payload);
  if (!parsed.success) {
    // The issue paths name the fields; never the values, which may hold a password.
    log(`Refused ${channel}: invalid request (${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}).`);
    return { ok: false, error: migrationError('bad-input', 'Refused: the request was not in the expected form.') };
  }
  try {
    const handler = handlers[channel] as (request: InvokeRequest<C>) => Promise<InvokeResponse<C>>;
    return await handler(parsed.data as InvokeRequest<C>);
  } catch (e) {
    log(`${channel} failed: ${e instanceof Error ? e.message : String(e)}`);
    return { ok: false, error: migrationError('internal', 'Something went wrong inside Mailferry. The log has the details.') };
  }
}

/** Registers every channel of the contract; returns a function that removes them again. */
export function registerIpcHandlers(
  ipcMain: IpcMainLike,
  handlers: InvokeHandlers,
  isTrustedSender: (event: InvokeEventLike) => boolean,
  log?: (message: string) => void,
): () => void {
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, (event, payload) => handleInvoke(channel, event, payload, handlers, isTrustedSender, log));
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) ipcMain.removeHandler(channel);
  };
}
