import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError, httpStatus, systemError } from '../errors.js';
import { execStartError, startError } from './start-errors.js';

test('a container start: 127 for a missing command, 126 for one that cannot run, 128 else; the first two are 400', () => {
  const missing = startError(systemError('exec: "nope": executable file not found in $PATH'));
  assert.deepEqual([missing.exitCode, httpStatus(missing)], [127, 400]);
  const stat = startError(systemError('exec: "/x": stat /x: no such file or directory'));
  assert.deepEqual([stat.exitCode, httpStatus(stat)], [127, 400]);
  const dir = startError(systemError('exec: "/etc": permission denied'));
  assert.deepEqual([dir.exitCode, httpStatus(dir)], [126, 400]);
  const other = new BerthError('conflict', 'cgroup busy');
  const e = startError(other);
  assert.equal(e, other, 'the engine error itself, kept');
  assert.equal(e.exitCode, 128);
});

test("an exec start: dockerd's words around the runtime's, 400 for the caller's mistakes and 500 else", () => {
  const e = execStartError(systemError('exec: "nope": executable file not found in $PATH'));
  assert.equal(
    e.message,
    'OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": executable file not found in $PATH: unknown',
  );
  assert.equal(httpStatus(e), 400);
  assert.equal(httpStatus(execStartError(systemError('exec: "/etc": permission denied'))), 400);
  assert.equal(httpStatus(execStartError(systemError('clone: out of memory'))), 500);
});
