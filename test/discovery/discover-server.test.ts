/**
 * Autodiscovery against servers of our own on 127.0.0.1: a DNS server (dns2) holding A, SRV and
 * MX records for made-up domains, and an HTTP server answering by Host header with autoconfig
 * files. Discovery's resolver is pointed at the DNS server, and the settings files' host names
 * resolve through it too. HTTPS is asked first on a port where nothing listens (refused at once),
 * so each file arrives over plain HTTP and is marked so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { discoverServer, type DiscoveryOptions } from '../../src/discovery/discover-server.js';
import { presetForMxHost } from '../../src/service/provider-presets.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';

const autoconfig = (host: string, port: number, socketType: string, name = 'Acme Mail'): string => `<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="x">
  <displayName>${name}</displayName>
  <incomingServer type="imap"><hostname>${host}</hostname><port>${port}</port><socketType>${socketType}</socketType><username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></incomingServer>
</emailProvider></clientConfig>`;

/** What the web server holds: `host path` → body. */
const FILES: Record<string, string> = {
  'autoconfig.acme.test /mail/config-v1.1.xml': autoconfig('imap.acme.test', 993, 'SSL'),
  'both.test /.well-known/autoconfig/mail/config-v1.1.xml': autoconfig('wellknown.both.test', 143, 'STARTTLS', 'Both Inc.'),
  'autoconfig.both.test /mail/config-v1.1.xml': autoconfig('imap.both.test', 993, 'SSL', 'Both Inc.'),
  'wellknown.test /.well-known/autoconfig/mail/config-v1.1.xml': autoconfig('mail.wellknown.test', 143, 'STARTTLS', 'Well Known'),
  'autoconfig.hoster.test /mail/config-v1.1.xml': autoconfig('imap.hoster.test', 993, 'SSL', 'Hoster GmbH'),
  'autoconfig.broken.test /mail/config-v1.1.xml': '<html><body>We moved our website</body></html>',
};

const LOCAL = ['127.0.0.1'];

describe('autodiscovery against a local DNS server and web server', () => {
  let dns: DnsServer;
  let web: Server;
  let options: DiscoveryOptions;
  const requests: string[] = [];

  before(async () => {
    web = createServer((req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      requests.push(`${host} ${req.url}`);
      if (host === 'autoconfig.redirect.test' && path === '/mail/config-v1.1.xml') {
        res.writeHead(301, { location: `http://autoconfig.acme.test:${(web.address() as { port: number }).port}/mail/config-v1.1.xml` }).end();
        return;
      }
      const body = FILES[`${host} ${path}`];
      if (body === undefined) res.writeHead(404).end('not here');
      else res.writeHead(200, { 'content-type': 'application/xml' }).end(body);
    });
    await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
    // A port where nothing listens: HTTPS is refused at once and discovery goes on to HTTP.
    const probe = createTcpServer();
    await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
    const closedPort = (probe.address() as { port: number }).port;
    await new Promise<void>((ok) => probe.close(() => ok()));

    dns = await startDnsServer({
      'autoconfig.acme.test': { a: LOCAL },
      'acme.test': { srv: [], mx: [{ priority: 10, exchange: 'mx.acme.test' }] },
      '_imaps._tcp.acme.test': { srv: [{ priority: 0, weight: 1, port: 993, target: 'srv-should-lose.acme.test' }] },
      'both.test': { a: LOCAL },
      'autoconfig.both.test': { a: LOCAL },
      'wellknown.test': { a: LOCAL },
      '_imaps._tcp.uni.test': {
        srv: [
          { priority: 20, weight: 0, port: 993, target: 'backup.uni.test' },
          { priority: 10, weight: 5, port: 993, target: 'imap.uni.test' },
        ],
      },
      '_imap._tcp.plain-srv.test': { srv: [{ priority: 0, weight: 0, port: 143, target: 'mail.plain-srv.test' }] },
      '_imaps._tcp.no-imap.test': { srv: [{ priority: 0, weight: 0, port: 0, target: '.' }] },
      'company.test': { mx: [{ priority: 5, exchange: 'aspmx.l.google.com' }, { priority: 10, exchange: 'alt1.aspmx.l.google.com' }] },
      'customer.test': { mx: [{ priority: 10, exchange: 'mx01.hoster.test' }] },
      'autoconfig.hoster.test': { a: LOCAL },
      'autoconfig.broken.test': { a: LOCAL },
      'autoconfig.redirect.test': { a: LOCAL },
    });
    options = { dnsServers: [dns.address], httpPort: (web.address() as { port: number }).port, httpsPort: closedPort, presetForMxHost };
  });
  after(async () => {
    await dns?.stop();
    await new Promise<void>((ok) => (web ? web.close(() => ok()) : ok()));
  });

  test('the domain’s own settings file wins, and says where it came from', async () => {
    const result = await discoverServer('wile.e@acme.test', options);
    assert.ok(result.ok);
    const found = result.value.found;
    assert.equal(found?.method, 'autoconfig');
    assert.deepEqual({ host: found?.host, port: found?.port, security: found?.security, user: found?.user }, { host: 'imap.acme.test', port: 993, security: 'tls', user: 'wile.e@acme.test' });
    assert.equal(found?.providerName, 'Acme Mail');
    assert.match(found!.foundAt, /^http:\/\/autoconfig\.acme\.test:\d+\/mail\/config-v1\.1\.xml$/);
    assert.equal(found?.isUnencryptedLookup, true, 'it came over plain HTTP and says so');
    assert.ok(requests.includes('autoconfig.acme.test /mail/config-v1.1.xml?emailaddress=wile.e%40acme.test'), requests.join('\n'));
    assert.ok(dns.questions.includes('A autoconfig.acme.test'), 'the file’s host name was resolved through the test’s DNS');
    assert.ok(result.value.asked[0]!.startsWith('https://autoconfig.acme.test'), 'HTTPS was asked first');
  });

  test('autoconfig.DOMAIN before DOMAIN/.well-known; the well-known file when it is the only one', async () => {
    const both = await discoverServer('x@both.test', options);
    assert.equal(both.ok && both.value.found?.host, 'imap.both.test');
    const wellKnown = await discoverServer('x@wellknown.test', options);
    assert.ok(wellKnown.ok);
    assert.equal(wellKnown.value.found?.method, 'well-known');
    assert.equal(wellKnown.value.found?.host, 'mail.wellknown.test');
    assert.equal(wellKnown.value.found?.security, 'starttls');
  });

  test('DNS SRV records (RFC 6186): the lowest priority of _imaps._tcp, else _imap._tcp with STARTTLS; "." means none', async () => {
    const uni = await discoverServer('student@uni.test', options);
    assert.ok(uni.ok);
    assert.deepEqual(
      { method: uni.value.found?.method, host: uni.value.found?.host, port: uni.value.found?.port, security: uni.value.found?.security, foundAt: uni.value.found?.foundAt },
      { method: 'srv', host: 'imap.uni.test', port: 993, security: 'tls', foundAt: '_imaps._tcp.uni.test' },
    );
    const plain = await discoverServer('a@plain-srv.test', options);
    assert.equal(plain.ok && plain.value.found?.security, 'starttls');
    assert.equal(plain.ok && plain.value.found?.foundAt, '_imap._tcp.plain-srv.test');
    const none = await discoverServer('a@no-imap.test', options);
    assert.equal(none.ok && none.value.found, null);
  });

  test('the MX host’s provider: Google Workspace gets Gmail’s settings; an unknown host’s own settings file', async () => {
    const company = await discoverServer('boss@company.test', options);
    assert.ok(company.ok);
    const found = company.value.found;
    assert.equal(found?.method, 'mx');
    assert.equal(found?.mxHost, 'aspmx.l.google.com');
    assert.equal(found?.host, 'imap.gmail.com');
    assert.equal(found?.preset?.oauthProvider, 'google');
    assert.equal(found?.user, 'boss@company.test');

    const customer = await discoverServer('c@customer.test', options);
    assert.ok(customer.ok);
    assert.equal(customer.value.found?.method, 'mx');
    assert.equal(customer.value.found?.host, 'imap.hoster.test');
    assert.equal(customer.value.found?.providerName, 'Hoster GmbH');
    assert.equal(customer.value.found?.mxHost, 'mx01.hoster.test');
  });

  test('a web page where the file should be, a redirect, and a domain with nothing at all', async () => {
    const broken = await discoverServer('a@broken.test', options);
    assert.equal(broken.ok && broken.value.found, null, 'an HTML page is not a settings file');
    const redirected = await discoverServer('a@redirect.test', options);
    assert.equal(redirected.ok && redirected.value.found?.host, 'imap.acme.test', 'a redirect is followed');
    assert.match((redirected.ok && redirected.value.found?.foundAt) || '', /^http:\/\/autoconfig\.acme\.test:\d+\//, 'and the file is named where it finally came from');
    const nothing = await discoverServer('someone@nowhere.test', options);
    assert.ok(nothing.ok);
    assert.equal(nothing.value.found, null);
    assert.deepEqual(
      nothing.value.asked.map((a) => a.replace(/:\d+/, '')).sort(),
      [
        'MX nowhere.test',
        '_imap._tcp.nowhere.test',
        '_imaps._tcp.nowhere.test',
        'http://autoconfig.nowhere.test/mail/config-v1.1.xml',
        'http://nowhere.test/.well-known/autoconfig/mail/config-v1.1.xml',
        'https://autoconfig.nowhere.test/mail/config-v1.1.xml',
        'https://nowhere.test/.well-known/autoconfig/mail/config-v1.1.xml',
      ],
    );
    const notAnAddress = await discoverServer('not an address', options);
    assert.deepEqual(notAnAddress, { ok: true, value: { found: null, asked: [] } });
  });
});
