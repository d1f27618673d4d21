import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invalid, notFound, systemError } from '../../errors.js';
import { loadError } from './load-error.js';

test("a broken tar reads as dockerd's; other errors pass unchanged", () => {
  const cut = loadError(invalid('tar: unexpected end of archive at byte 8')) as Error;
  assert.equal(cut.message, 'Error processing tar file(exit status 1): unexpected EOF');
  assert.equal((cut.cause as Error).message, 'tar: unexpected end of archive at byte 8');
  const header = loadError(invalid('tar header: checksum too large')) as Error;
  assert.equal(header.message, 'Error processing tar file(exit status 1): archive/tar: invalid tar header');
  const other = invalid('archive: config x.json named in manifest.json is missing');
  assert.equal(loadError(other), other);
  const disk = systemError('tar: write: no space left on device');
  assert.equal(loadError(disk), disk);
  const gone = notFound('tar: x');
  assert.equal(loadError(gone), gone);
});
