import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goTimestamp, parseGoDuration } from './go-time.js';

test("Go's ParseDuration: compound, fractional, signed; its error words", () => {
  assert.equal(parseGoDuration('1h30m'), 5400e9);
  assert.equal(parseGoDuration('-1.5s'), -1.5e9);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('10us'), 10e3);
  assert.throws(() => parseGoDuration(''), /^Error: time: invalid duration ""$/);
  assert.throws(() => parseGoDuration('abc'), /^Error: time: invalid duration "abc"$/);
  assert.throws(() => parseGoDuration('10'), /^Error: time: missing unit in duration "10"$/);
  assert.throws(() => parseGoDuration('2026-01-01T00:00:00Z'), /^Error: time: unknown unit "-" in duration "2026-01-01T00:00:00Z"$/);
});

test("moby's GetTimestamp: durations before now, RFC 3339 times, unix seconds; dockerd's error", () => {
  const now = Date.UTC(2026, 0, 2);
  assert.equal(goTimestamp('24h', now), Date.UTC(2026, 0, 1) / 1000);
  assert.equal(goTimestamp('2026-01-01T00:00:00Z', now), Date.UTC(2026, 0, 1) / 1000);
  assert.equal(goTimestamp('2026-01-01T01:00:00+01:00', now), Date.UTC(2026, 0, 1) / 1000);
  assert.equal(goTimestamp('2026-01-01T00:00:00.5Z', now), Date.UTC(2026, 0, 1) / 1000 + 0.5);
  assert.equal(goTimestamp('2026-01-01', now), new Date(2026, 0, 1).getTime() / 1000);
  assert.equal(goTimestamp('1700000000.25', now), 1700000000.25);
  assert.equal(goTimestamp('0', now), 0);
  assert.throws(() => goTimestamp('abc', now), /^Error: failed to parse value as time or duration: "abc"$/);
  assert.throws(() => goTimestamp('2026-13-01', now), /^Error: parsing time "2026-13-01"/);
});
