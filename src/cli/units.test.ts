// Unit tests: sizes, Go durations and --since/--until times as the docker CLI reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiTimestamp, bytes, durationNs } from './units.js';

test('sizes', () => {
  assert.equal(bytes('64m'), 64 << 20);
  assert.equal(bytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(bytes('100'), 100);
  assert.throws(() => bytes('lots'), /invalid size/);
});

test('Go durations', () => {
  assert.equal(durationNs('200ms'), 200e6);
  assert.equal(durationNs('1m30s'), 90e9);
  assert.equal(durationNs('1.5s'), 1.5e9);
  assert.equal(durationNs('0'), 0);
  assert.throws(() => durationNs('5'), /invalid duration/);
  assert.throws(() => durationNs('5 s'), /invalid duration/);
});

test('--since/--until times', () => {
  const now = Date.parse('2024-01-01T00:10:00Z');
  assert.equal(apiTimestamp('1700000000.5', now), '1700000000.5');
  assert.equal(apiTimestamp('10m', now), String(Date.parse('2024-01-01T00:00:00Z') / 1000));
  assert.equal(apiTimestamp('10s', now), String(Date.parse('2024-01-01T00:09:50Z') / 1000));
  assert.equal(apiTimestamp('1h30m', now), String(Date.parse('2023-12-31T22:40:00Z') / 1000));
  assert.equal(apiTimestamp('2024-01-01T00:00:00Z', now), '1704067200.000000000');
  assert.equal(apiTimestamp('2024-01-01T00:00:00.5+01:00', now), '1704063600.500000000');
  assert.equal(apiTimestamp('1700000000', now), '1700000000');
  assert.throws(() => apiTimestamp('yesterday', now), /failed to parse value as time or duration: "yesterday"/);
  assert.throws(() => apiTimestamp('2024-13-01', now), /parsing time/);
});
