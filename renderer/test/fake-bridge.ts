/**
 * A stand-in for `window.mailferry` for renderer tests and the UI-only e2e: every bridge function
 * records its call and answers from a table the test can change; `emit` pushes job events.
 * Test helper only — the app never imports it.
 */
import { INVOKE_CHANNELS, type AppJobEvent, type AppPlan, type BatchEvent, type BatchView, type InvokeChannel, type InvokeRequest, type InvokeResponse, type MailferryBridge } from '../../src/contract/ipc.js';
import type { ArchiveLocation } from '../../src/contract/account.js';
import type { FolderProgress, JobProgress, JobReport } from '../../src/contract/job.js';
import type { CopyPlan, FolderPlan, SpecialUse } from '../../src/contract/plan.js';
import type { MigrationError } from '../../src/contract/result.js';

type Handler<C extends InvokeChannel> = (request: InvokeRequest<C>) => InvokeResponse<C> | Promise<InvokeResponse<C>>;
export type FakeHandlers = { [C in InvokeChannel]: Handler<C> };


/** Where the fake folder dialog points. */
export const ARCHIVE_DIR = '/home/maria/Mail archive';

/** A plan with its archive side: every folder under its own path (as the archive's '/' hierarchy keeps it). */
export function withArchive(plan: CopyPlan, location: ArchiveLocation | undefined): AppPlan {
  if (!location) return plan;
  return {
    ...plan,
    archive: {
      location,
      folders: plan.folders.map((f) => ({ sourcePath: f.source.path, destinationPath: f.source.segments.join('/'), destinationExists: false, collidesWith: [] })),
    },
  };
}

const bridgeName = (c: string): string => {
  const [d, v] = c.split(':') as [string, string];
  return `${d}${v.charAt(0).toUpperCase()}${v.slice(1)}`;
};

export const MB = 1024 * 1024;

export function folder(path: string, messages: number, sizeBytes: number, extra: Partial<FolderPlan> & { specialUse?: SpecialUse; isSelectable?: boolean; delimiter?: string } = {}): FolderPlan {
  const delimiter = extra.delimiter ?? '/';
  const { specialUse, isSelectable, delimiter: _d, ...rest } = extra;
  return {
    source: {
      path,
      segments: path.split(delimiter),
      delimiter,
      ...(specialUse ? { specialUse } : {}),
      isSelectable: isSelectable ?? true,
      messages,
      sizeBytes,
      uidValidity: '1',
      uidNext: messages + 1,
    },
    destinationPath: path,
    reasons: [{ kind: 'same-name' }],
    destinationExists: false,
    collidesWith: [],
    isSelected: true,
    ...rest,
  };
}

/** A realistic small mailbox: special-use folders, a hierarchy, non-ASCII names, Gmail's All Mail left out by default. */
export function samplePlan(): CopyPlan {
  const folders = [
    folder('INBOX', 4812, 912 * MB, { specialUse: '\\Inbox', destinationExists: true }),
    folder('Sent', 2210, 388 * MB, { specialUse: '\\Sent', destinationPath: 'Sent Items', reasons: [{ kind: 'special-use', use: '\\Sent', existing: true }], destinationExists: true }),
    folder('Drafts', 14, 2 * MB, { specialUse: '\\Drafts', destinationExists: true }),
    folder('Trash', 320, 41 * MB, { specialUse: '\\Trash', isSelected: false, defaultUnselectedReason: 'Trash is left out unless you tick it' }),
    folder('Junk', 96, 3 * MB, { specialUse: '\\Junk', isSelected: false, defaultUnselectedReason: 'Junk is left out unless you tick it' }),
    folder('Archive', 0, 0, { specialUse: '\\Archive', isSelectable: false }),
    folder('Archive/2019', 1530, 210 * MB),
    folder('Archive/2020', 1804, 260 * MB),
    folder('Archive/2021', 2011, 301 * MB),
    folder('Projects', 12, 1 * MB),
    folder('Projects/Alpha', 250, 35 * MB),
    folder('Projects/Beta', 133, 18 * MB),
    folder('Projects/Beta/Specs', 41, 96 * MB),
    folder('Reisen', 8, 1 * MB),
    folder('Reisen/Übersicht 2023', 57, 12 * MB),
    folder('Receipts', 610, 44 * MB),
    folder('[Gmail]/All Mail', 9800, 1900 * MB, { specialUse: '\\All', isSelected: false, defaultUnselectedReason: 'Repeats every message of the other folders' }),
  ];
  return planOf(folders, { usedBytes: 1200 * MB, limitBytes: 15 * 1024 * MB });
}

/** Five messages over the new account's 25 MB limit, in three folders of samplePlan (and one more in Trash, ticked by nobody yet). */
export const REFUSED_SUBJECTS = ['Holiday photos', 'Scans of the contract', 'Site plans (final)', 'Video of the launch', 'CAD export'];

/**
 * samplePlan with the engine's pre-flight, going to Gmail: the quota, the messages too large for
 * it (25 MB), a folder whose name Gmail cannot take, and the days its daily limit makes the move last.
 */
export function preflightPlan(): CopyPlan {
  const plan = planOf(
    [
      ...samplePlan().folders,
      folder('Notes: 2024', 12, 1 * MB, { destinationPath: 'Notes_ 2024', reasons: [{ kind: 'sanitized', detail: '":" is not allowed in a folder name there' }] }),
    ],
    { usedBytes: 1200 * MB, limitBytes: 15 * 1024 * MB },
  );
  const limit = 25 * MB;
  const reason = 'Larger than the 25 MB the new account accepts for one message.';
  const sizes = [31, 48, 26, 40, 90];
  const places: [string, number, string][] = [
    ['INBOX', 101, '2023-07-02T10:00:00Z'],
    ['INBOX', 240, '2024-01-15T09:30:00Z'],
    ['Archive/2020', 12, '2020-05-03T12:00:00Z'],
    ['Archive/2020', 77, '2020-11-20T16:45:00Z'],
    ['Projects/Beta/Specs', 5, '2022-02-11T08:00:00Z'],
  ];
  const refused = places.map(([path, uid, date], i) => ({ folder: path, uid, size: sizes[i]! * MB, date, subject: REFUSED_SUBJECTS[i]!, reason }));
  const refusedBytes = refused.reduce((n, m) => n + m.size, 0);
  const neededBytes = plan.selectedBytes - refusedBytes;
  return {
    ...plan,
    destination: { ...plan.destination, provider: 'Gmail', maxMessageBytes: limit },
    preflight: {
      quota: { usedBytes: 1200 * MB, limitBytes: 15 * 1024 * MB, neededBytes, fits: 1200 * MB + neededBytes <= 15 * 1024 * MB },
      maxMessageBytes: limit,
      refused,
      refusedBytes,
      renamedFolders: [{ folder: 'Notes: 2024', destination: 'Notes_ 2024', reason: '":" is not allowed in a folder name there' }],
      dailyLimit: { bytesPerDay: 500 * MB, days: Math.ceil(neededBytes / (500 * MB)), provider: 'Gmail' },
    },
  };
}

export function planOf(folders: FolderPlan[], quota?: { usedBytes: number; limitBytes: number }): CopyPlan {
  const selected = folders.filter((f) => f.isSelected && f.source.isSelectable);
  return {
    source: { delimiter: '/', prefix: '', capabilities: ['IMAP4rev1'] },
    destination: { delimiter: '/', prefix: '', capabilities: ['IMAP4rev1'], ...(quota ? { quota } : {}) },
    folders,
    selectedMessages: selected.reduce((n, f) => n + f.source.messages, 0),
    selectedBytes: selected.reduce((n, f) => n + f.source.sizeBytes, 0),
    hasCollisions: false,
  };
}

/** Thousands of folders in a few levels, for the "stays smooth" checks. */
export function largePlan(count: number): CopyPlan {
  const folders: FolderPlan[] = [];
  const perTop = Math.ceil(count / 20);
  for (let t = 0; t < 20 && folders.length < count; t += 1) {
    const top = `Team ${String(t).padStart(2, '0')}`;
    folders.push(folder(top, 10, MB));
    for (let i = 0; i < perTop - 1 && folders.length < count; i += 1) folders.push(folder(`${top}/Topic ${String(i).padStart(4, '0')}`, i % 50, (i % 50) * 40_000));
  }
  return planOf(folders);
}

export const authError: MigrationError = {
  kind: 'auth',
  message: 'The server refused the user name or password. Check them, or create an app password if your provider asks for one.',
  retryable: false,
  serverText: 'Authentication failed.',
  serverCode: 'AUTHENTICATIONFAILED',
};

export const tlsError: MigrationError = {
  kind: 'tls',
  message: 'The server presented a certificate that is not signed by a known authority (self-signed).',
  retryable: false,
  certificateFingerprint: '3A:9F:1C:44:E0:7B:12:8D:5E:61:AF:09:C2:3D:77:B4:10:2E:9A:CC:51:F8:06:DE:43:7A:95:B1:0C:62:E8:1F',
};

export function folderProgress(sourcePath: string, patch: Partial<FolderProgress> = {}): FolderProgress {
  return { sourcePath, destinationPath: sourcePath, status: 'waiting', messagesTotal: 100, messagesDone: 0, bytesTotal: 10 * MB, bytesDone: 0, ...patch };
}

export function jobProgress(folders: FolderProgress[], patch: Partial<JobProgress> = {}): JobProgress {
  const sum = (k: 'messagesTotal' | 'messagesDone' | 'bytesTotal' | 'bytesDone'): number => folders.reduce((n, f) => n + f[k], 0);
  return {
    status: 'copying',
    bytesPerSecond: 3.2 * MB,
    etaSeconds: 190,
    startedAt: Date.now() - 60_000,
    folders,
    messagesTotal: sum('messagesTotal'),
    messagesDone: sum('messagesDone'),
    bytesTotal: sum('bytesTotal'),
    bytesDone: sum('bytesDone'),
    ...patch,
  };
}

export function sampleReport(jobId: string, withFailures = true): JobReport {
  const failure = {
    sourcePath: 'Archive/2020',
    uid: 1412,
    uidValidity: '1',
    subject: 'Scanned contract (final, signed).pdf',
    date: '2020-03-14T09:26:00Z',
    messageId: '<contract-1412@example.org>',
    sizeBytes: 48 * MB,
    error: { kind: 'rejected', message: 'The new server refused this message.', retryable: false, serverText: 'Message too large (max 35 MB)', serverCode: 'LIMIT' },
  } as const;
  const folders = [
    { sourcePath: 'INBOX', destinationPath: 'INBOX', status: 'verified', expected: 4812, copied: 4790, alreadyThere: 22, skipped: 0, failed: [], isComplete: true },
    { sourcePath: 'Sent', destinationPath: 'Sent Items', status: 'verified', expected: 2210, copied: 2210, alreadyThere: 0, skipped: 3, failed: [], isComplete: true },
    { sourcePath: 'Archive/2020', destinationPath: 'Archive/2020', status: withFailures ? 'incomplete' : 'verified', expected: 1804, copied: withFailures ? 1803 : 1804, alreadyThere: 0, skipped: 0, failed: withFailures ? [failure] : [], isComplete: !withFailures },
  ] as JobReport['folders'];
  return {
    jobId,
    startedAt: Date.now() - 3_600_000,
    finishedAt: Date.now(),
    status: withFailures ? 'needs-attention' : 'done',
    folders,
    totals: {
      expected: 8826,
      copied: withFailures ? 8803 : 8804,
      alreadyThere: 22,
      skipped: 3,
      failed: withFailures ? 1 : 0,
      bytesCopied: 1560 * MB,
    },
  };
}

/** A users CSV of three mailboxes, as main reads it. */
export function sampleBatch(): BatchView {
  const mailboxes = ['alice', 'bob', 'carol'].map((id, i) => ({ id, row: i + 1, line: i + 2, source: `${id}@imap.old.example.org`, destination: `${id}@outlook.office365.com` }));
  return {
    file: '/home/it/users.csv',
    mailboxes,
    problems: [],
    progress: mailboxes.map((m) => ({ id: m.id, row: m.row, status: 'waiting', messagesDone: 0, messagesTotal: 0, bytesDone: 0, bytesTotal: 0 })),
    isRunning: false,
  };
}

export interface FakeBridge {
  bridge: MailferryBridge;
  handlers: FakeHandlers;
  calls: { channel: InvokeChannel; request: unknown }[];
  emit(event: AppJobEvent): void;
  emitBatch(event: BatchEvent): void;
  callsTo(channel: InvokeChannel): unknown[];
}

export function createFakeBridge(overrides: Partial<FakeHandlers> = {}): FakeBridge {
  const listeners = new Set<(e: AppJobEvent) => void>();
  const calls: FakeBridge['calls'] = [];
  const handlers: FakeHandlers = {
    'accounts:load': () => ({ ok: true, value: {} }),
    'accounts:save': (r) => ({ ok: true, value: { email: r.email, endpoint: r.endpoint, hasSavedPassword: r.rememberPassword && r.password !== undefined } }),
    'accounts:signIn': () => ({ ok: false, error: { kind: 'bad-input', message: 'No account to sign in.', retryable: false } }),
    'accounts:signOut': () => ({ ok: false, error: { kind: 'bad-input', message: 'No account to sign out.', retryable: false } }),
    'accounts:test': () => ({ ok: true, value: { capabilities: ['IMAP4rev1', 'UIDPLUS'], serverName: 'Dovecot' } }),
    'presets:lookup': ({ email }) =>
      email.toLowerCase().endsWith('@gmail.com')
        ? { ok: true, value: { id: 'gmail', name: 'Gmail', host: 'imap.gmail.com', port: 993, security: 'tls', note: 'Gmail needs an app password when 2-Step Verification is on.', appPasswordUrl: 'https://myaccount.google.com/apppasswords' } }
        : { ok: true, value: null },
    'accounts:discover': () => ({ ok: true, value: { found: null, asked: [] } }),
    'links:open': () => ({ ok: true, value: undefined }),
    'plan:load': ({ archive }) => ({ ok: true, value: withArchive(samplePlan(), archive) }),
    'jobs:start': () => ({ ok: true, value: { jobId: 'job-1' } }),
    'jobs:pause': () => ({ ok: true, value: undefined }),
    'jobs:resume': () => ({ ok: true, value: undefined }),
    'jobs:cancel': () => ({ ok: true, value: undefined }),
    'jobs:retryFolder': () => ({ ok: true, value: undefined }),
    'jobs:retryFailed': () => ({ ok: true, value: undefined }),
    'jobs:list': () => ({ ok: true, value: [] }),
    'jobs:report': ({ jobId }) => ({ ok: true, value: sampleReport(jobId) }),
    'reports:export': ({ format }) => ({ ok: true, value: { path: `/home/user/Documents/mailferry-report.${format}` } }),
    'messages:saveEml': ({ uid }) => ({ ok: true, value: { path: `/home/user/Documents/message-${uid}.eml` } }),
    'archive:chooseFolder': () => ({ ok: true, value: { path: ARCHIVE_DIR } }),
    'batch:open': () => ({ ok: true, value: sampleBatch() }),
    'batch:start': () => ({ ok: true, value: undefined }),
    'batch:stop': () => ({ ok: true, value: undefined }),
    'batch:export': ({ format }) => ({ ok: true, value: { path: `/home/it/mailferry-batch-report.${format}` } }),
    'batch:folders': ({ id }) => ({ ok: true, value: { id, folders: [], source: 'none' } }),
    ...overrides,
  } as FakeHandlers;
  const bridge = {} as Record<string, unknown>;
  for (const channel of INVOKE_CHANNELS) {
    bridge[bridgeName(channel)] = async (request: unknown) => {
      calls.push({ channel, request });
      return (handlers[channel] as Handler<InvokeChannel>)(request as never);
    };
  }
  bridge.onJobEvent = (listener: (e: AppJobEvent) => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  const batchListeners = new Set<(e: BatchEvent) => void>();
  bridge.onBatchEvent = (listener: (e: BatchEvent) => void) => {
    batchListeners.add(listener);
    return () => batchListeners.delete(listener);
  };
  return {
    bridge: bridge as unknown as MailferryBridge,
    handlers,
    calls,
    emit: (event) => {
      for (const l of listeners) l(event);
    },
    emitBatch: (event) => {
      for (const l of batchListeners) l(event);
    },
    callsTo: (channel) => calls.filter((c) => c.channel === channel).map((c) => c.request),
  };
}
