// The json-file log reader on files written here: order across rotated files, `tail` from the
// end (through rotated files, a partial last line left out), since/until, `follow` across a
// rotation by rename and a truncation in place, and a damaged overlong line skipped; and the
// CRI format the monitor writes at kubelet's path.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLog, secondsOf, type LogEntry, type LogOptions } from './logs.js';

const line = (n: number, stream = 'stdout') =>
  `${JSON.stringify({ log: `line ${n}\n`, stream, time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString() })}\n`;
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i)).join('');
const nums = (es: LogEntry[]) => es.map((e) => Number(/line (\d+)/.exec(e.log)![1]));

function withLog(fn: (path: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-logs-'));
    try {
      await fn(join(dir, 'container-json.log'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
async function all(path: string, opts: LogOptions = {}) {
  const out: LogEntry[] = [];
  for await (const e of readLog(path, opts)) out.push(e);
  return out;
}

test(
  'entries in order across rotated files; tail counts back through them',
  withLog(async (path) => {
    writeFileSync(`${path}.2`, lines(1, 3));
    writeFileSync(`${path}.1`, lines(4, 6));
    writeFileSync(path, lines(7, 8) + line(9).slice(0, 20)); // a line being written: not an entry yet
    assert.deepEqual(nums(await all(path)), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(nums(await all(path, { tail: 1 })), [8]);
    assert.deepEqual(nums(await all(path, { tail: 2 })), [7, 8]);
    assert.deepEqual(nums(await all(path, { tail: 4 })), [5, 6, 7, 8]);
    assert.deepEqual(nums(await all(path, { tail: 7 })), [2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(nums(await all(path, { tail: 100 })), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(nums(await all(path, { tail: 0 })), []);
    assert.deepEqual(nums(await all(path, { tail: -1 })), [1, 2, 3, 4, 5, 6, 7, 8]);
  }),
);

test(
  'tail over lines that straddle the 64 KiB blocks read backwards',
  withLog(async (path) => {
    writeFileSync(path, lines(0, 5000));
    assert.deepEqual(nums(await all(path, { tail: 3 })), [4998, 4999, 5000]);
    assert.deepEqual(
      nums(await all(path, { tail: 2500 })),
      Array.from({ length: 2500 }, (_, i) => 2501 + i),
    );
    assert.equal((await all(path)).length, 5001);
  }),
);

test(
  'since and until (Unix seconds); until stops at the first later entry',
  withLog(async (path) => {
    writeFileSync(path, lines(0, 9));
    const t0 = Date.UTC(2026, 0, 1) / 1000;
    assert.deepEqual(nums(await all(path, { since: t0 + 7 })), [7, 8, 9]);
    assert.deepEqual(nums(await all(path, { until: t0 + 2 })), [0, 1, 2]);
    assert.deepEqual(nums(await all(path, { since: t0 + 3, until: t0 + 4 })), [3, 4]);
    assert.deepEqual(nums(await all(path, { tail: 5, since: t0 + 8 })), [8, 9], 'tail first, then since, as dockerd');
  }),
);

test(
  'a damaged line longer than any the monitor writes is skipped, the rest read',
  withLog(async (path) => {
    writeFileSync(path, line(1) + 'x'.repeat(3 << 20) + '\n' + line(2) + '{torn\n' + line(3));
    assert.deepEqual(nums(await all(path)), [1, 2, 3]);
  }),
);

test(
  'follow reads on across a rotation by rename and a truncation in place, and ends when the container does',
  withLog(async (path) => {
    writeFileSync(path, lines(1, 2));
    let live = true;
    const got: number[] = [];
    const reading = (async () => {
      for await (const e of readLog(path, { follow: true, tail: 1, live: () => live })) got.push(nums([e])[0]);
    })();
    const until = async (n: number) => {
      for (let i = 0; i < 200 && got.length < n; i++) await new Promise((r) => setTimeout(r, 20));
    };
    await until(1);
    appendFileSync(path, line(3));
    await until(2);
    // the monitor's rotation: the file is renamed after a last line, a new one is begun
    appendFileSync(path, line(4));
    renameSync(path, `${path}.1`);
    writeFileSync(path, line(5));
    await until(4);
    // max-file 1: truncated in place
    truncateSync(path, 0);
    appendFileSync(path, line(6));
    await until(5);
    live = false;
    await reading;
    assert.deepEqual(got, [2, 3, 4, 5, 6]);
  }),
);

test(
  'a log that does not exist yet gives nothing, and follow waits for it',
  withLog(async (path) => {
    assert.deepEqual(await all(path), []);
    let live = true;
    const got: LogEntry[] = [];
    const reading = (async () => {
      for await (const e of readLog(path, { follow: true, live: () => live })) got.push(e);
    })();
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(path, line(1));
    for (let i = 0; i < 100 && !got.length; i++) await new Promise((r) => setTimeout(r, 20));
    live = false;
    await reading;
    assert.deepEqual(nums(got), [1]);
  }),
);

test('follow on a log whose folder is gone (the container removed) ends at once', async () => {
  const got: LogEntry[] = [];
  for await (const e of readLog(join(tmpdir(), `berth-logs-gone-${process.pid}`, 'container-json.log'), { follow: true, live: () => true }))
    got.push(e);
  assert.deepEqual(got, []);
});

test(
  'since and until to the nanosecond, as the docker CLI sends them',
  withLog(async (path) => {
    const at = (ns: string, n: number) =>
      `${JSON.stringify({ log: `line ${n}\n`, stream: 'stdout', time: `2026-12-06T18:00:00.${ns}Z` })}\n`;
    // a microsecond apart: a double holds Unix seconds to ~0.24 µs
    writeFileSync(path, at('123455789', 1) + at('123456789', 2) + at('123457789', 3));
    assert.equal(secondsOf('2026-12-06T18:00:00Z'), Date.UTC(2026, 11, 6, 18) / 1000);
    const since = Number(`${Date.UTC(2026, 11, 6, 18) / 1000}.123456789`);
    assert.deepEqual(nums(await all(path, { since })), [2, 3]);
    assert.deepEqual(nums(await all(path, { until: since })), [1, 2]);
  }),
);

test(
  "a CRI log (kubelet's format): a partial line's text alone, the full one ending it with its newline; since, tail, torn lines",
  withLog(async (path) => {
    writeFileSync(
      path,
      [
        '2026-01-01T00:00:01.000000001Z stdout F one',
        '2026-01-01T00:00:02.5Z stderr P part ',
        '2026-01-01T00:00:02.6Z stderr F two',
        'damaged',
        '2026-01-01T00:00:03Z stdout F ',
        '2026-01-01T00:00:04Z stdout F three',
      ].join('\n') + '\n2026-01-01T00:00:05Z stdout F not ended yet',
    );
    const es = await all(path, { format: 'cri' });
    assert.deepEqual(
      es.map((e) => [e.stream, e.log]),
      [
        ['stdout', 'one\n'],
        ['stderr', 'part '],
        ['stderr', 'two\n'],
        ['stdout', '\n'],
        ['stdout', 'three\n'],
      ],
    );
    assert.equal(es[0].time, '2026-01-01T00:00:01.000000001Z');
    assert.deepEqual(
      (await all(path, { format: 'cri', since: secondsOf('2026-01-01T00:00:03Z') })).map((e) => e.log),
      ['\n', 'three\n'],
    );
    assert.deepEqual(
      (await all(path, { format: 'cri', tail: 1 })).map((e) => e.log),
      ['three\n'],
    );
  }),
);
