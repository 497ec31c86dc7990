import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAutoconfig } from './autoconfig-xml.js';
import { baseDomainOf, domainOf } from './discover-server.js';

const file = (servers: string, provider = '<displayName>Example University Mail</displayName>'): string => `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="uni.example">
    <domain>uni.example</domain>
    ${provider}
    ${servers}
    <outgoingServer type="smtp"><hostname>smtp.uni.example</hostname><port>465</port><socketType>SSL</socketType></outgoingServer>
  </emailProvider>
</clientConfig>`;

const imap = (host: string, port: number, socketType: string, username = '%EMAILADDRESS%'): string =>
  `<incomingServer type="imap"><hostname>${host}</hostname><port>${port}</port><socketType>${socketType}</socketType><authentication>password-cleartext</authentication><username>${username}</username></incomingServer>`;

test('the IMAP server with implicit TLS wins over STARTTLS and POP3; placeholders are filled in', () => {
  const xml = file(
    [
      '<incomingServer type="pop3"><hostname>pop.uni.example</hostname><port>995</port><socketType>SSL</socketType></incomingServer>',
      imap('imap-starttls.uni.example', 143, 'STARTTLS'),
      imap('mail.%EMAILDOMAIN%', 993, 'SSL', '%EMAILLOCALPART%'),
    ].join('\n'),
  );
  const parsed = parseAutoconfig(xml, 'ada.lovelace@uni.example');
  assert.deepEqual(parsed, {
    ok: true,
    value: { host: 'mail.uni.example', port: 993, security: 'tls', user: 'ada.lovelace', providerName: 'Example University Mail', authentication: ['password-cleartext'] },
  });
});

test('values from the network are checked: a bad host, port or socket type is passed over', () => {
  const xml = file([imap('evil host;rm -rf', 993, 'SSL'), imap('imap.uni.example', 99999, 'SSL'), imap('imap.uni.example', 993, 'TLS1.3'), imap('imap.uni.example', 143, 'STARTTLS')].join(''));
  const parsed = parseAutoconfig(xml, 'a@uni.example');
  assert.equal(parsed.ok && parsed.value.host, 'imap.uni.example');
  assert.equal(parsed.ok && parsed.value.security, 'starttls');
});

test('not XML, not an autoconfig file, or no IMAP server: an error value, never a throw', () => {
  assert.equal(parseAutoconfig('<html><body>Not found</body>', 'a@b.example').ok, false);
  assert.equal(parseAutoconfig('{"json": true}', 'a@b.example').ok, false);
  assert.equal(parseAutoconfig('<html><head></head><body>404</body></html>', 'a@b.example').ok, false);
  const pop = parseAutoconfig(file('<incomingServer type="pop3"><hostname>pop.b.example</hostname><port>995</port><socketType>SSL</socketType></incomingServer>'), 'a@b.example');
  assert.equal(pop.ok, false);
  assert.equal(!pop.ok && pop.error.kind, 'not-found');
});

test('domains: IDNs in their ASCII form, nonsense refused; base domains of MX hosts', () => {
  assert.equal(domainOf('jörg@müller.example'), 'xn--mller-kva.example');
  assert.equal(domainOf('no-at-sign'), undefined);
  assert.equal(domainOf('a@localhost'), undefined);
  assert.equal(domainOf('a@bad_domain.example'), undefined);
  assert.equal(baseDomainOf('aspmx.l.google.com.'), 'google.com');
  assert.equal(baseDomainOf('mx1.mail.example.co.uk'), 'example.co.uk');
  assert.equal(baseDomainOf('mx.hoster.example'), 'hoster.example');
});
