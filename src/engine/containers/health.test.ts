// Unit tests: health check merging, checks, probe commands and dockerd's result rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthState } from '../types.js';
import { checkHealthcheck, mergeHealthcheck, probeCommand, recordResult } from './health.js';

const MS = 1_000_000;

test("the user's health check over the image's, field by field", () => {
  const image = { Test: ['CMD-SHELL', 'check'], Interval: 30_000 * MS, Retries: 5 };
  assert.deepEqual(mergeHealthcheck({ Interval: 200 * MS }, image), {
    Test: ['CMD-SHELL', 'check'],
    Interval: 200 * MS,
    Timeout: undefined,
    StartPeriod: undefined,
    StartInterval: undefined,
    Retries: 5,
  });
  assert.deepEqual(mergeHealthcheck(undefined, image), image);
  assert.deepEqual(mergeHealthcheck({ Test: ['NONE'] }, image)?.Test, ['NONE']);
  assert.equal(mergeHealthcheck(undefined, undefined), undefined);
});

test("probe commands and dockerd's checks", () => {
  assert.deepEqual(probeCommand({ Test: ['CMD-SHELL', 'test -e /ok'] }), ['/bin/sh', '-c', 'test -e /ok']);
  assert.deepEqual(probeCommand({ Test: ['CMD', 'true', 'x'] }), ['true', 'x']);
  assert.equal(probeCommand({ Test: ['NONE'] }), undefined);
  assert.equal(probeCommand({ Test: [] }), undefined);
  assert.throws(() => checkHealthcheck({ Interval: 500 }), /Interval in Healthcheck cannot be less than 1ms/);
  assert.throws(() => checkHealthcheck({ Retries: -1 }), /Retries in Healthcheck cannot be negative/);
  assert.throws(() => checkHealthcheck({ Test: ['SHELL', 'x'] }), /unknown type of healthcheck/);
});

test('results: retries make it unhealthy, one success healthy, the start period forgives, 5 kept', () => {
  const started = '2024-01-01T00:00:00.000Z';
  const at = (s: number, code: number) => ({
    Start: new Date(Date.parse(started) + s * 1000).toISOString(),
    End: '',
    ExitCode: code,
    Output: '',
  });
  const h = { Retries: 2, StartPeriod: 10_000 * MS };
  const st: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
  assert.equal(recordResult(st, at(1, 1), h, started), undefined);
  assert.equal(st.FailingStreak, 0, 'within the start period');
  assert.equal(recordResult(st, at(11, 1), h, started), undefined);
  assert.equal(st.FailingStreak, 1);
  assert.equal(recordResult(st, at(12, -1), h, started), 'unhealthy');
  assert.equal(recordResult(st, at(13, 0), h, started), 'healthy');
  assert.equal(st.FailingStreak, 0);
  // Once healthy, a failure in the start period counts.
  const st2: HealthState = { Status: 'healthy', FailingStreak: 0, Log: [] };
  recordResult(st2, at(1, 1), h, started);
  assert.equal(st2.FailingStreak, 1);
  for (let i = 0; i < 7; i++) recordResult(st, at(20 + i, i), h, started);
  assert.deepEqual(
    st.Log.map((l) => l.ExitCode),
    [2, 3, 4, 5, 6],
  );
});
