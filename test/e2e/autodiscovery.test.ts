/**
 * Accounts that find their own settings, end to end: the built renderer in Chromium, its bridge
 * the real AppService, whose discovery asks a DNS server of ours (dns2 on 127.0.0.1) and fetches
 * an autoconfig file from a web server of ours. The old account's domain publishes a settings
 * file, the new account's only an SRV record; both point at a private Dovecot with a self-signed
 * certificate. A person types the two addresses and the passwords, reads where the settings came
 * from, trusts the certificate by its fingerprint and is connected, without typing a server name.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountRole, AppJobEvent } from '../../src/contract/ipc.js';
import { createAppService, type StoredAccount } from '../../src/service/app-service.js';
import { startDovecot, type DovecotServer } from '../support/dovecot.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { buildRenderer, openApp, serveRenderer, serviceBridge } from './harness.js';

const SOURCE_USER = { name: 'ada', password: 'old-Discover-5e1a' };
const DESTINATION_USER = { name: 'grace', password: 'new-Discover-a93c' };

describe('autodiscovery in the app, against local DNS and web servers', () => {
  let renderer: Awaited<ReturnType<typeof serveRenderer>>;
  let dovecot: DovecotServer;
  let dns: DnsServer;
  let web: Server;
  let stateDir: string;

  before(async () => {
    await buildRenderer();
    renderer = await serveRenderer();
    dovecot = await startDovecot({ users: [SOURCE_USER, DESTINATION_USER], tls: true });
    web = createServer((req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (host !== 'autoconfig.campus.test' || !req.url?.startsWith('/mail/config-v1.1.xml')) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/xml' }).end(`<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="campus.test">
  <domain>campus.test</domain><displayName>Campus Mail</displayName>
  <incomingServer type="imap"><hostname>127.0.0.1</hostname><port>${dovecot.tlsPort}</port><socketType>SSL</socketType>
    <username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication></incomingServer>
</emailProvider></clientConfig>`);
    });
    await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
    dns = await startDnsServer({
      'autoconfig.campus.test': { a: ['127.0.0.1'] },
      '_imaps._tcp.startup.test': { srv: [{ priority: 0, weight: 0, port: dovecot.tlsPort!, target: '127.0.0.1' }] },
    });
    stateDir = await mkdtemp(join(tmpdir(), 'mailferry-e2e-discovery-'));
  });
  after(async () => {
    await dns?.stop();
    await new Promise<void>((ok) => (web ? web.close(() => ok()) : ok()));
    await dovecot?.stop();
    await renderer?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  test('an autoconfig file and an SRV record fill in both accounts; the app says where each came from', async () => {
    const accounts = new Map<AccountRole, StoredAccount>();
    const listeners = new Set<(e: AppJobEvent) => void>();
    const service = createAppService({
      stateDir,
      settings: { getAccount: (role) => accounts.get(role), setAccount: (role, a) => void accounts.set(role, a) },
      vault: { save: () => undefined, load: () => undefined, remove: () => undefined },
      emit: (event) => {
        for (const l of listeners) l(event);
      },
      chooseSavePath: async () => undefined,
      // HTTPS on a port where nothing listens: refused at once, so the file comes over HTTP.
      discovery: { dnsServers: [dns.address], httpPort: (web.address() as { port: number }).port, httpsPort: 9 },
      timeouts: { socketTimeoutMs: 20_000, greetingTimeoutMs: 20_000, connectionTimeoutMs: 20_000 },
    });
    const app = await openApp(renderer.url, serviceBridge(service, listeners), { width: 1280, height: 800 });
    const { page } = app;
    try {
      await app.waitForState('accounts');
      const from = page.locator('form[data-role="source"]');
      await from.getByLabel('E-mail address').fill('ada@campus.test');
      await from.getByLabel('Password', { exact: true }).fill(SOURCE_USER.password);
      const fromFound = from.getByTestId('discovery').and(page.locator('[data-state="found"]'));
      await fromFound.waitFor();
      assert.match(await fromFound.innerText(), /Settings for Campus Mail found in campus\.test’s own settings file \(autoconfig\.campus\.test:\d+\)\. It came over an unencrypted connection/);
      assert.match(await from.locator('.disclosure').innerText(), new RegExp(`127\\.0\\.0\\.1:${dovecot.tlsPort}, encrypted \\(TLS\\)`));

      const to = page.locator('form[data-role="destination"]');
      await to.getByLabel('E-mail address').fill('grace@startup.test');
      await to.getByLabel('Password', { exact: true }).fill(DESTINATION_USER.password);
      const toFound = to.getByTestId('discovery').and(page.locator('[data-state="found"]'));
      await toFound.waitFor();
      assert.match(await toFound.innerText(), /Settings found in startup\.test’s DNS records \(_imaps\._tcp\.startup\.test\)/);
      await app.screenshot('discovery-01-found');
      assert.deepEqual(await app.axe(), []);

      // The old account's user name came from the file (%EMAILLOCALPART%); the new one's is the address: correct it.
      await to.getByRole('button', { name: /Server settings/ }).click();
      await to.getByLabel('User name').fill(DESTINATION_USER.name);
      for (const form of [from, to]) {
        await form.getByRole('button', { name: 'Test connection' }).click();
        await form.getByRole('button', { name: 'Trust this certificate' }).click();
        await form.getByTestId('test-ok').waitFor();
      }
      assert.equal(accounts.get('source')?.endpoint.user, SOURCE_USER.name);
      assert.equal(accounts.get('source')?.endpoint.host, '127.0.0.1');
      assert.equal(accounts.get('destination')?.endpoint.port, dovecot.tlsPort);
      assert.equal(accounts.get('source')?.endpoint.pinnedFingerprint, dovecot.certFingerprint);
      assert.ok(dns.questions.includes('A autoconfig.campus.test') && dns.questions.includes('SRV _imaps._tcp.startup.test'), dns.questions.join('\n'));
      await app.screenshot('discovery-02-connected');
      await page.getByRole('button', { name: 'Choose folders' }).click();
      await app.waitForState('folders');
      await page.getByRole('tree').waitFor();
      assert.deepEqual(app.problems, []);
    } catch (e) {
      await app.screenshot('discovery-failure').catch(() => undefined);
      throw e;
    } finally {
      await service.shutdown();
      await app.close();
    }
  });
});
