import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { checkStorageOpt } from './storage-opt.js';

test('StorageOpt as overlay2 answers off xfs: size needs pquota, other keys unknown; nothing asked passes', () => {
  checkStorageOpt(undefined, tmpdir());
  checkStorageOpt({}, tmpdir());
  checkStorageOpt({ size: '0' }, tmpdir());
  assert.throws(() => checkStorageOpt({ Foo: '1' }, tmpdir()), { kind: 'system', message: 'Unknown option foo' });
  assert.throws(() => checkStorageOpt({ size: 'abc' }, tmpdir()), { kind: 'system', message: "invalid size: 'abc'" });
  assert.throws(() => checkStorageOpt({ size: '1G' }, tmpdir()), {
    kind: 'system',
    message: "--storage-opt is supported only for overlay over xfs with 'pquota' mount option",
  });
});
