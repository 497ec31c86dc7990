import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatEta, formatPercent } from './format.js';

test('sizes read like a mail client shows them', () => {
  assert.equal(formatBytes(0), '0 bytes');
  assert.equal(formatBytes(1), '1 byte');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(250 * 1024 * 1024), '250 MB');
  assert.equal(formatBytes(3.3 * 1024 ** 3), '3.3 GB');
});

test('estimates are in words, never falsely precise', () => {
  assert.equal(formatEta(null), 'working it out…');
  assert.equal(formatEta(20), 'less than a minute');
  assert.equal(formatEta(190), 'about 3 min');
  assert.equal(formatEta(2 * 3600 + 9 * 60), 'about 2 h 10 min');
  assert.equal(formatEta(3 * 86400), 'about 3 days');
});

test('percent never claims 100 before the last byte', () => {
  assert.equal(formatPercent(999, 1000), '99%');
  assert.equal(formatPercent(1000, 1000), '100%');
  assert.equal(formatPercent(0, 0), '0%');
});
