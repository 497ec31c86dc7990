import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLocation } from './location-url.js';

test('imaps, imap with STARTTLS, and plain only when allowed', () => {
  assert.deepEqual(parseLocation('imaps://me%40example.org@imap.example.org', false), {
    ok: true,
    value: { kind: 'imap', endpoint: { host: 'imap.example.org', port: 993, security: 'tls', user: 'me@example.org', allowPlaintext: false } },
  });
  const starttls = parseLocation('imap://u@h:1143', false);
  assert.ok(starttls.ok && starttls.value.kind === 'imap' && starttls.value.endpoint.security === 'starttls' && starttls.value.endpoint.port === 1143);
  const plain = parseLocation('imap://u@h', true);
  assert.ok(plain.ok && plain.value.kind === 'imap' && plain.value.endpoint.security === 'plain' && plain.value.endpoint.port === 143);
});

test('archives, and readable refusals', () => {
  assert.deepEqual(parseLocation('mbox:/tmp/x', false), { ok: true, value: { kind: 'archive', archive: { format: 'mbox', path: '/tmp/x' } } });
  for (const bad of ['ftp://u@h', 'imaps://h', 'nonsense', 'imaps://%E0%A4%A@h']) {
    const result = parseLocation(bad, false);
    assert.ok(!result.ok && result.error.kind === 'bad-input', bad);
  }
});
