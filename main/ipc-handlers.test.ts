import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { INVOKE_CHANNELS, IPC_LIMITS, type InvokeChannel } from '../src/contract/ipc.js';
import { handleInvoke, isOwnWindowSender, isWithinIpcLimits, registerIpcHandlers, REQUEST_SCHEMAS, type InvokeEventLike, type InvokeHandlers } from './ipc-handlers.js';

const PAGE = 'file:///opt/Mailferry/resources/app.asar/dist-renderer/index.html';
const own: InvokeEventLike = { sender: { id: 7 }, senderFrame: { url: PAGE, parent: null } };
const trusted = (e: InvokeEventLike): boolean => isOwnWindowSender(e, { webContentsId: 7, pageUrl: PAGE });

/** Handlers that record what reached them. */
function recordingHandlers(): { handlers: InvokeHandlers; reached: { channel: InvokeChannel; request: unknown }[] } {
  const reached: { channel: InvokeChannel; request: unknown }[] = [];
  const handlers = Object.fromEntries(
    INVOKE_CHANNELS.map((channel) => [
      channel,
      async (request: unknown) => {
        reached.push({ channel, request });
        return { ok: true, value: null };
      },
    ]),
  ) as unknown as InvokeHandlers;
  return { handlers, reached };
}

const validSave = { role: 'source', email: 'me@example.org', endpoint: { host: 'imap.example.org', port: 993, security: 'tls', user: 'me@example.org' }, password: 'pw', rememberPassword: false };

describe('IPC handlers in main', () => {
  test('sign-in requests: only a known provider or a web address, a role, and nothing that could carry a token', async () => {
    const { handlers, reached } = recordingHandlers();
    const save = (signIn: unknown) => handleInvoke('accounts:save', own, { ...validSave, signIn }, handlers, trusted);
    for (const good of [{ provider: 'google' }, { provider: 'microsoft', tenant: 'contoso.com', clientId: 'abc' }, { provider: 'https://login.example.org/realms/mail' }, { provider: 'http://127.0.0.1:8080' }]) {
      assert.equal((await save(good)).ok, true, JSON.stringify(good));
    }
    for (const bad of [{ provider: 'javascript:alert(1)' }, { provider: 'file:///etc/passwd' }, { provider: 'google', accessToken: 'x' }, { provider: 'microsoft', tenant: '../x' }, { provider: 'yahoo' }]) {
      assert.equal((await save(bad)).ok, false, JSON.stringify(bad));
    }
    assert.equal((await handleInvoke('accounts:signIn', own, { role: 'source' }, handlers, trusted)).ok, true);
    assert.equal((await handleInvoke('accounts:signOut', own, { role: 'destination' }, handlers, trusted)).ok, true);
    for (const bad of [{ role: 'admin' }, { role: 'source', token: 'x' }, undefined]) {
      assert.equal((await handleInvoke('accounts:signIn', own, bad, handlers, trusted)).ok, false);
    }
    assert.equal((await handleInvoke('accounts:signIn', { sender: { id: 8 }, senderFrame: { url: PAGE, parent: null } }, { role: 'source' }, handlers, trusted)).ok, false, 'not from another window');
    assert.equal(reached.filter((r) => r.channel === 'accounts:signIn').length, 1);
  });

  test('links open only as web addresses; discovery takes an address and nothing else', async () => {
    const { handlers, reached } = recordingHandlers();
    for (const good of ['https://myaccount.google.com/apppasswords', 'http://intranet.example.org/mail-help']) {
      assert.equal((await handleInvoke('links:open', own, { url: good }, handlers, trusted)).ok, true, good);
    }
    for (const bad of [{ url: 'javascript:alert(1)' }, { url: 'file:///etc/passwd' }, { url: 'mailto:a@b.example' }, { url: 'https://x.example', target: '_blank' }, { url: `https://x.example/${'a'.repeat(3000)}` }, {}]) {
      assert.equal((await handleInvoke('links:open', own, bad, handlers, trusted)).ok, false, JSON.stringify(bad).slice(0, 80));
    }
    assert.equal((await handleInvoke('accounts:discover', own, { email: 'me@uni.example' }, handlers, trusted)).ok, true);
    assert.equal((await handleInvoke('accounts:discover', own, { email: 'me@uni.example', dnsServers: ['10.0.0.1'] }, handlers, trusted)).ok, false, 'no resolver from the renderer');
    assert.deepEqual(reached.map((r) => r.channel), ['links:open', 'links:open', 'accounts:discover']);
  });

  test('every channel of the contract is registered, and removed again', () => {
    const registered = new Set<string>();
    const fakeIpcMain = {
      handle: (channel: string) => void registered.add(channel),
      removeHandler: (channel: string) => void registered.delete(channel),
    };
    const dispose = registerIpcHandlers(fakeIpcMain, recordingHandlers().handlers, trusted);
    assert.deepEqual([...registered].sort(), [...INVOKE_CHANNELS].sort());
    assert.deepEqual(Object.keys(REQUEST_SCHEMAS).sort(), [...INVOKE_CHANNELS].sort());
    dispose();
    assert.equal(registered.size, 0);
  });

  test('requests from another frame, another window or another page are refused before any handler runs', async () => {
    const { handlers, reached } = recordingHandlers();
    const foreign: InvokeEventLike[] = [
      { sender: { id: 7 }, senderFrame: { url: 'https://evil.example/', parent: null } },
      { sender: { id: 7 }, senderFrame: { url: PAGE, parent: { url: PAGE } } }, // a subframe
      { sender: { id: 8 }, senderFrame: { url: PAGE, parent: null } }, // another window
      { sender: { id: 7 }, senderFrame: null }, // frame already gone
      { sender: { id: 7 }, senderFrame: { url: 'file:///tmp/index.html', parent: null } },
    ];
    for (const event of foreign) {
      const result = await handleInvoke('accounts:save', event, validSave, handlers, trusted);
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.error.kind, 'bad-input');
    }
    assert.equal(reached.length, 0);
    const fine = await handleInvoke('accounts:save', { ...own, senderFrame: { url: `${PAGE}#report`, parent: null } }, validSave, handlers, trusted);
    assert.equal(fine.ok, true);
    assert.equal(reached.length, 1);
  });

  test('malformed payloads are refused and the log names fields, never values', async () => {
    const { handlers, reached } = recordingHandlers();
    const logged: string[] = [];
    const bad: [InvokeChannel, unknown][] = [
      ['accounts:save', { ...validSave, endpoint: { ...validSave.endpoint, port: 99999 } }],
      ['accounts:save', { ...validSave, extra: 'smuggled' }],
      ['accounts:save', { ...validSave, endpoint: { ...validSave.endpoint, password: 'hunter2-in-endpoint' } }],
      ['accounts:save', { ...validSave, endpoint: { ...validSave.endpoint, pinnedFingerprint: 'not a fingerprint' } }],
      ['accounts:test', { role: 'admin' }],
      ['accounts:load', { anything: true }],
      ['jobs:start', { options: {}, selectedPaths: [], settings: {} }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], settings: { connectionsPerSide: 500 } }],
      ['jobs:pause', { jobId: 42 }],
      ['messages:saveEml', { jobId: 'j', sourcePath: 'INBOX', uid: -1 }],
      ['reports:export', { jobId: 'j', format: 'exe' }],
      ['plan:load', 'INBOX'],
      ['plan:load', null],
    ];
    for (const [channel, payload] of bad) {
      const result = await handleInvoke(channel, own, payload, handlers, trusted, (m) => logged.push(m));
      assert.equal(result.ok, false, `${channel} ${JSON.stringify(payload)} should be refused`);
    }
    assert.equal(reached.length, 0);
    assert.equal(logged.length, bad.length);
    assert.ok(logged.every((line) => !line.includes('hunter2')), 'no value in the log');
  });

  test('valid payloads reach the handler as parsed', async () => {
    const { handlers, reached } = recordingHandlers();
    await handleInvoke('accounts:load', own, undefined, handlers, trusted);
    await handleInvoke('jobs:start', own, { options: { renames: { Receipts: 'Old/Receipts' } }, selectedPaths: ['INBOX', 'Receipts'], settings: { connectionsPerSide: 2, maxBytesPerSecond: 0 } }, handlers, trusted);
    await handleInvoke('accounts:save', own, { ...validSave, endpoint: { ...validSave.endpoint, pinnedFingerprint: Array(32).fill('AB').join(':') } }, handlers, trusted);
    assert.deepEqual(reached.map((r) => r.channel), ['accounts:load', 'jobs:start', 'accounts:save']);
  });

  test('archive choices: a folder picker with no payload, plans and jobs per target, each part validated', async () => {
    const { handlers, reached } = recordingHandlers();
    const archive = { format: 'mbox', path: '/home/maria/Mail archive' };
    const good: [InvokeChannel, unknown][] = [
      ['archive:chooseFolder', undefined],
      ['plan:load', { options: {}, archive }],
      ['plan:load', { options: {}, archive: { format: 'eml', path: 'C:\\Users\\maria\\Archive' } }],
      // Some folders to the account, one to the archive, one to both; or only to the archive.
      ['jobs:start', { options: {}, selectedPaths: ['INBOX', 'Sent'], archive, archivePaths: ['Sent', 'Old'], settings: {} }],
      ['jobs:start', { options: {}, selectedPaths: [], archive, archivePaths: ['Old'], settings: {} }],
      ['jobs:retryFolder', { jobId: 'j', sourcePath: 'Old', target: 'archive' }],
      // Restore: an archive read instead of the old account.
      ['plan:load', { options: {}, source: { format: 'maildir', path: '/home/maria/Maildir' } }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], source: { format: 'maildir', path: '/home/maria/Maildir' }, settings: {} }],
    ];
    for (const [channel, payload] of good) {
      const result = await handleInvoke(channel, own, payload, handlers, trusted);
      assert.equal(result.ok, true, `${channel} ${JSON.stringify(payload)} should pass`);
    }
    assert.deepEqual(reached.map((r) => r.channel), good.map(([c]) => c));
    assert.deepEqual((reached[3]!.request as { archivePaths: string[] }).archivePaths, ['Sent', 'Old']);

    const bad: [InvokeChannel, unknown][] = [
      ['archive:chooseFolder', { path: '/etc' }], // the renderer cannot suggest where to look
      ['plan:load', { options: {}, archive: { format: 'pst', path: '/tmp/a' } }],
      ['plan:load', { options: {}, archive: { format: 'mbox', path: 'relative/folder' } }],
      ['plan:load', { options: {}, archive: { format: 'mbox' } }],
      ['plan:load', { options: {}, archive: { ...archive, extra: 1 } }],
      ['jobs:start', { options: {}, selectedPaths: [], archive, archivePaths: [], settings: {} }], // nothing chosen
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], archivePaths: ['Old'], settings: {} }], // archive paths without an archive
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], archive, archivePaths: [''], settings: {} }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], archive, archivePaths: 'Old', settings: {} }],
      ['jobs:retryFolder', { jobId: 'j', sourcePath: 'Old', target: 'both' }],
      ['plan:load', { options: {}, source: archive, archive }], // a restore goes to the account only
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], source: archive, archive, archivePaths: ['INBOX'], settings: {} }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], source: { format: 'mbox', path: '~/mail' }, settings: {} }],
    ];
    for (const [channel, payload] of bad) {
      const result = await handleInvoke(channel, own, payload, handlers, trusted);
      assert.equal(result.ok, false, `${channel} ${JSON.stringify(payload)} should be refused`);
    }
    assert.equal(reached.length, good.length, 'no refused request reached a handler');
  });

  test('issue 14: an archive-only plan, an archive for messages too large, and the newest-first and read-state switches', async () => {
    const { handlers, reached } = recordingHandlers();
    const archive = { format: 'maildir', path: '/home/maria/Too large' };
    const good: [InvokeChannel, unknown][] = [
      ['plan:load', { options: {}, archive, archiveOnly: true }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], refusedTo: archive, settings: { newestFirst: true, recentDays: 30, syncFlags: true } }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], settings: { newestFirst: false, syncFlags: false } }],
    ];
    for (const [channel, payload] of good) assert.equal((await handleInvoke(channel, own, payload, handlers, trusted)).ok, true, `${channel} ${JSON.stringify(payload)} should pass`);
    assert.deepEqual((reached[1]!.request as { refusedTo: unknown }).refusedTo, archive);
    const bad: [InvokeChannel, unknown][] = [
      ['plan:load', { options: {}, archiveOnly: true }], // only to an archive, but which?
      ['plan:load', { options: {}, archive, archiveOnly: 'yes' }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], refusedTo: { format: 'mbox', path: 'relative' }, settings: {} }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], refusedTo: '/home/maria/x', settings: {} }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], settings: { recentDays: 0 } }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], settings: { recentDays: 2.5 } }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], settings: { newestFirst: 'on' } }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], settings: { providerLimitRetryMs: 1 } }], // not the renderer's to set
    ];
    for (const [channel, payload] of bad) assert.equal((await handleInvoke(channel, own, payload, handlers, trusted)).ok, false, `${channel} ${JSON.stringify(payload)} should be refused`);
    assert.equal(reached.length, good.length, 'no refused request reached a handler');
  });

  test('batch requests: no path from the renderer (main asks with a dialog), ids as the CSV allows them, bounded numbers', async () => {
    const { handlers, reached } = recordingHandlers();
    const good: [InvokeChannel, unknown][] = [
      ['batch:open', { allowPlaintext: false }],
      ['batch:start', { parallel: 4 }],
      ['batch:start', { parallel: 1, connectionsPerSide: 2, maxBytesPerSecond: 1_000_000 }],
      ['batch:stop', undefined],
      ['batch:export', { format: 'html' }],
      ['batch:folders', { id: 'alice.smith-2' }],
    ];
    for (const [channel, payload] of good) assert.equal((await handleInvoke(channel, own, payload, handlers, trusted)).ok, true, `${channel} ${JSON.stringify(payload)} should pass`);
    const bad: [InvokeChannel, unknown][] = [
      ['batch:open', { allowPlaintext: false, path: '/etc/passwd' }],
      ['batch:open', undefined],
      ['batch:start', { parallel: 0 }],
      ['batch:start', { parallel: 4, env: { PW: 'x' } }],
      ['batch:start', { parallel: 1000 }],
      ['batch:export', { format: 'csv', path: '/tmp/x.csv' }],
      ['batch:folders', { id: '../etc' }],
      ['batch:folders', { id: '' }],
    ];
    for (const [channel, payload] of bad) assert.equal((await handleInvoke(channel, own, payload, handlers, trusted)).ok, false, `${channel} ${JSON.stringify(payload)} should be refused`);
    assert.equal(reached.length, good.length);
  });

  test('every string, list and map has a size limit, and a request too large in all is refused before it is read', async () => {
    const { handlers, reached } = recordingHandlers();
    const invoke = (channel: InvokeChannel, payload: unknown) => handleInvoke(channel, own, payload, handlers, trusted);
    const longPath = 'x'.repeat(IPC_LIMITS.pathChars + 1);
    const manyRenames = Object.fromEntries(Array.from({ length: IPC_LIMITS.renames + 1 }, (_, i) => [`Folder ${i}`, `Renamed ${i}`]));
    const manyFolders = Array.from({ length: IPC_LIMITS.folders + 1 }, (_, i) => `Folder ${i}`);
    const deep = Array.from({ length: IPC_LIMITS.depth + 2 }).reduce<unknown>((inner) => ({ inner }), 'x');
    const cyclic: Record<string, unknown> = { options: {} };
    cyclic.self = cyclic;
    for (const [channel, payload] of [
      ['plan:load', { options: { include: [longPath] } }],
      ['plan:load', { options: { renames: manyRenames } }],
      ['plan:load', { options: { exclude: manyFolders } }],
      ['jobs:start', { options: {}, selectedPaths: ['INBOX'], settings: { maxBytesPerSecond: 2 ** 60 } }],
      ['accounts:save', { ...validSave, password: 'p'.repeat(IPC_LIMITS.secretChars + 1) }],
      ['presets:lookup', { email: 'a'.repeat(1000) }],
      ['plan:load', { options: {}, junk: 'j'.repeat(IPC_LIMITS.totalChars + 1) }],
      ['plan:load', deep],
      ['plan:load', cyclic],
    ] as [InvokeChannel, unknown][]) {
      const started = Date.now();
      assert.equal((await invoke(channel, payload)).ok, false, `${channel} refused`);
      assert.ok(Date.now() - started < 2000, 'refused quickly');
    }
    assert.equal(isWithinIpcLimits({ options: { renames: { a: 'b' } } }), true);
    assert.equal(isWithinIpcLimits('s'.repeat(IPC_LIMITS.totalChars + 1)), false);
    assert.equal(isWithinIpcLimits(new Array(IPC_LIMITS.totalValues + 1).fill(0)), false);
    assert.deepEqual(reached, [], 'nothing oversized reached a handler');
    // At the limits, the app's own largest requests still pass.
    assert.equal((await invoke('plan:load', { options: { exclude: manyFolders.slice(1), renames: Object.fromEntries(Object.entries(manyRenames).slice(1)) } })).ok, true);
  });

  test('a handler that throws becomes an internal error value, not a rejected invoke', async () => {
    const { handlers } = recordingHandlers();
    handlers['jobs:list'] = async () => {
      throw new Error('disk on fire');
    };
    const logged: string[] = [];
    const result = await handleInvoke('jobs:list', own, undefined, handlers, trusted, (m) => logged.push(m));
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.kind, 'internal');
    assert.match(logged[0]!, /disk on fire/);
  });
});
