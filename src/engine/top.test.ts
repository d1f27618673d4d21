// Unit tests: ps output → Docker's top shape (rows of the container's pids, CMD kept whole).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePs } from './top.js';

const PS = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init splash
root         200       1  0 10:01 ?        00:00:00 sleep 1000
root         201     200  0 10:01 pts/0    00:00:00 sh -c echo  two  spaces
`;

test('rows of the given pids only; the last column keeps its words', () => {
  const r = parsePs(PS, [200, 201]);
  assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.Processes, [
    ['root', '200', '1', '0', '10:01', '?', '00:00:00', 'sleep 1000'],
    ['root', '201', '200', '0', '10:01', 'pts/0', '00:00:00', 'sh -c echo two spaces'],
  ]);
});

test('a ps table without a PID column is an error', () => {
  assert.throws(() => parsePs('USER COMMAND\nroot init\n', [1]), /Couldn't find PID field/);
});
