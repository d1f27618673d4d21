import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extraHost, int, nanoCpus, ramBytes, uint } from './flag-values.js';

test('sizes as go-units RAMInBytes reads them', () => {
  assert.equal(ramBytes('64m'), 64 << 20);
  assert.equal(ramBytes('1.5g'), 1.5 * 2 ** 30);
  assert.equal(ramBytes('1kib'), 1024);
  assert.equal(ramBytes('100'), 100);
  assert.throws(() => ramBytes('abc'), /^Error: invalid size: 'abc'$/);
  assert.throws(() => ramBytes('10x'), /^Error: invalid suffix: 'x'$/);
  assert.throws(() => ramBytes('-1'), /invalid size: '-1'/);
  assert.throws(() => ramBytes('1.2.3'), /strconv.ParseFloat: parsing "1.2.3": invalid syntax/);
});

test('CPUs as a rational number, in whole nanoCPUs', () => {
  assert.equal(nanoCpus('1.5'), 1.5e9);
  assert.equal(nanoCpus('1/2'), 5e8);
  assert.throws(() => nanoCpus('abc'), /failed to parse abc as a rational number/);
  assert.throws(() => nanoCpus('1/0'), /failed to parse 1\/0 as a rational number/);
  assert.throws(() => nanoCpus('1e-10'), /value is too precise/);
});

test('integers as Go parses them', () => {
  assert.equal(int('-1'), -1);
  assert.throws(() => int('1.5'), /strconv.ParseInt: parsing "1.5": invalid syntax/);
  assert.throws(() => uint('70000', 16), /value out of range/);
});

test('--add-host entries', () => {
  assert.equal(extraHost('a:1.2.3.4'), 'a:1.2.3.4');
  assert.equal(extraHost('a=::1'), 'a:::1');
  assert.equal(extraHost('a:[::1]'), 'a:::1');
  assert.equal(extraHost('gw:host-gateway'), 'gw:host-gateway');
  assert.throws(() => extraHost('bad'), /bad format for add-host: "bad"/);
  assert.throws(() => extraHost('a::1'), /invalid IP address in add-host: ":1"/);
});
