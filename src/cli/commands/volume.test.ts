import { test } from 'node:test';
import assert from 'node:assert/strict';
import { volumeCreateBody } from './volume.js';

// The bodies the docker 28 CLI sent for the same flags (recorded on a socket that answered 201).
test('volume create sends the body the docker 28 CLI sends', () => {
  const body = (...a: Parameters<typeof volumeCreateBody>) => JSON.stringify(volumeCreateBody(...a));
  assert.equal(body('', 'local', undefined, undefined), '{"Driver":"local"}');
  assert.equal(body('v1', 'local', ['k'], undefined), '{"Driver":"local","DriverOpts":{"k":""},"Name":"v1"}');
  assert.equal(
    body('v2', 'local', ['type=tmpfs', 'device=tmpfs', 'o=size=1m,uid=1'], ['a=b', 'c']),
    '{"Driver":"local","DriverOpts":{"device":"tmpfs","o":"size=1m,uid=1","type":"tmpfs"},"Labels":{"a":"b","c":""},"Name":"v2"}',
  );
  assert.equal(body('v3', 'local', ['=x'], undefined), '{"Driver":"local","DriverOpts":{"":"x"},"Name":"v3"}');
  assert.equal(body('v4', 'local', ['a=b', 'a=c'], undefined), '{"Driver":"local","DriverOpts":{"a":"c"},"Name":"v4"}');
  assert.equal(
    body('v5', 'other', ['z=1', 'a=2'], ['z=1', 'a=']),
    '{"Driver":"other","DriverOpts":{"a":"2","z":"1"},"Labels":{"a":"","z":"1"},"Name":"v5"}',
  );
  assert.equal(body('v7', '', undefined, undefined), '{"Name":"v7"}');
});
