import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needsRefresh } from './token-provider.js';

test('a token is refreshed when less than a fifth of its lifetime is left, and at most 5 minutes before it expires', () => {
  const now = 1_000_000;
  // 10 s lifetime: refreshed within its last 2 s.
  assert.equal(needsRefresh({ accessToken: 't', expiresAt: now + 2_001, lifetimeMs: 10_000 }, now), false);
  assert.equal(needsRefresh({ accessToken: 't', expiresAt: now + 2_000, lifetimeMs: 10_000 }, now), true);
  // An hour: a fifth would be 12 min, but 5 min is the most.
  const hour = 3_600_000;
  assert.equal(needsRefresh({ accessToken: 't', expiresAt: now + 5 * 60_000 + 1, lifetimeMs: hour }, now), false);
  assert.equal(needsRefresh({ accessToken: 't', expiresAt: now + 5 * 60_000, lifetimeMs: hour }, now), true);
  assert.equal(needsRefresh({ accessToken: 't', expiresAt: now - 1, lifetimeMs: hour }, now), true);
  // No expiry given: used until a server refuses it.
  assert.equal(needsRefresh({ accessToken: 't' }, now), false);
});
