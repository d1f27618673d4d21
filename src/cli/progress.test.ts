import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatLine, progressDisplay } from './progress.js';

test('plain output: one line per change of status', () => {
  let s = '';
  const d = progressDisplay({
    write: (x: string) => {
      s += x;
    },
    isTTY: false,
  });
  d.onProgress({ id: 'abc', status: 'Downloading', current: 1, total: 10 });
  d.onProgress({ id: 'abc', status: 'Downloading', current: 5, total: 10 });
  d.onProgress({ id: 'def', status: 'Already exists' });
  d.onProgress({ id: 'abc', status: 'Download complete' });
  d.done();
  assert.equal(s, 'abc: Downloading\ndef: Already exists\nabc: Download complete\n');
});

test('terminal output: lines redrawn in place', () => {
  let s = '';
  const d = progressDisplay(
    {
      write: (x: string) => {
        s += x;
      },
      isTTY: true,
      columns: 90,
    },
    { minIntervalMs: 0 },
  );
  d.onProgress({ id: 'aaa', status: 'Downloading', current: 0, total: 100 });
  d.onProgress({ id: 'bbb', status: 'Waiting' });
  d.onProgress({ id: 'aaa', status: 'Downloading', current: 50, total: 100 });
  assert.ok(s.includes('\x1b[2A\r\x1b[2Kaaa: Downloading ['), JSON.stringify(s));
  assert.ok(s.includes('50B/100B'));
});

test('formatting', () => {
  assert.equal(formatBytes(999), '999B');
  assert.equal(formatBytes(1500), '1.50kB');
  assert.equal(formatBytes(123_456_789), '123MB');
  const l = formatLine({ id: 'x', status: 'Downloading', current: 5, total: 10 }, 10);
  assert.equal(l, 'x: Downloading [====>     ] 5B/10B');
});
