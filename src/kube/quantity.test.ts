import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity } from './quantity.js';

test('quantities as resource.Quantity reads them', () => {
  assert.equal(parseQuantity('128Mi'), 128 * 2 ** 20);
  assert.equal(parseQuantity('1G'), 1e9);
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('0.25'), 0.25);
  assert.equal(parseQuantity(2), 2);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.equal(parseQuantity('12 apples'), undefined);
  assert.equal(parseQuantity('-1'), undefined);
});
