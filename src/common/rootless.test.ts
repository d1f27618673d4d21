import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostUid, rootlessDataRoot, rootlessExecRoot, rootlessRuntimeDir } from './rootless.js';

test("a rootless berthd's folders: XDG's where set, else /tmp/berth-<uid> and ~/.local/share/berth", () => {
  assert.equal(rootlessRuntimeDir({}, 1000), '/tmp/berth-1000');
  assert.equal(rootlessExecRoot({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/berth');
  assert.equal(rootlessDataRoot({ HOME: '/home/u' }), '/home/u/.local/share/berth');
  assert.equal(rootlessDataRoot({ HOME: '/home/u', XDG_DATA_HOME: '/data' }), '/data/berth');
});

test("the host uid of a user namespace's root, from its uid_map", () => {
  assert.equal(hostUid('         0       1001          1\n         1     100000      65536\n'), 1001);
});
