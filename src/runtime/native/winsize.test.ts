// The window-size record berth-nsexec reads (monitor.c, terminal.c): two native-endian u16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { winsizeRecord } from './winsize.js';

test('a window size is rows then columns, two native-endian u16; out-of-range sizes are refused', () => {
  const r = winsizeRecord(40, 132);
  assert.equal(r.length, 4);
  const le = endianness() === 'LE';
  assert.equal(le ? r.readUInt16LE(0) : r.readUInt16BE(0), 40);
  assert.equal(le ? r.readUInt16LE(2) : r.readUInt16BE(2), 132);
  assert.deepEqual([...winsizeRecord(0xffff, 0)], le ? [0xff, 0xff, 0, 0] : [0xff, 0xff, 0, 0]);
  for (const [h, w] of [
    [-1, 1],
    [1, 0x10000],
    [1.5, 2],
    [NaN, 1],
  ])
    assert.throws(() => winsizeRecord(h, w), /bad terminal size/);
});
