import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from './args.js';

const spec = {
  detach: { short: 'd', type: 'bool' }, interactive: { short: 'i', type: 'bool' }, tty: { short: 't', type: 'bool' },
  env: { short: 'e', type: 'list' }, name: { type: 'string' },
} as const;

test('short groups, attached values, --flag=value, lists', () => {
  const r = parseArgs(['-it', '-eA=1', '-e', 'B=2', '--env=C=3', '--name', 'x', 'img'], spec);
  assert.deepEqual(r.flags, { interactive: true, tty: true, env: ['A=1', 'B=2', 'C=3'], name: 'x' });
  assert.deepEqual(r.args, ['img']);
});

test('parsing stops at the first operand: the command keeps its flags', () => {
  const r = parseArgs(['-d', 'busybox', 'ls', '-l', '--name', 'y'], spec, { stopAtOperand: true });
  assert.deepEqual(r.flags, { detach: true });
  assert.deepEqual(r.args, ['busybox', 'ls', '-l', '--name', 'y']);
});

test('unknown flags and missing values are refused', () => {
  assert.throws(() => parseArgs(['--nope'], spec), /unknown flag: --nope/);
  assert.throws(() => parseArgs(['-x'], spec), /unknown shorthand flag: 'x'/);
  assert.throws(() => parseArgs(['--name'], spec), /flag needs an argument/);
});
