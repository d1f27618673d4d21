// berth-runtime's lifecycle on a real busybox bundle: run, create/start/state/kill/delete,
// and a setup failure that reaches the caller as one line and leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeBundle, runtime, uniqueId } from './helpers/bundle.js';

test('run prints from PID 1 inside its own namespaces and returns the exit code', (t) => {
  const b = makeBundle(['sh', '-c', 'echo pid=$$ host=$(hostname); exit 7']);
  t.after(() => b.cleanup());
  const r = runtime(b, ['run', '--bundle', b.dir, uniqueId('run')]);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'pid=1 host=berth\n');
  assert.equal(r.status, 7);
  assert.equal(runtime(b, ['list', '-q']).stdout, '');
});

test('create, start, state, kill and delete follow the OCI lifecycle', (t) => {
  const b = makeBundle(['sleep', '60']);
  t.after(() => b.cleanup());
  const id = uniqueId('life');
  const pidFile = join(b.dir, 'pid');
  assert.equal(runtime(b, ['create', '--bundle', b.dir, '--pid-file', pidFile, id]).status, 0);
  let st = JSON.parse(runtime(b, ['state', id]).stdout);
  assert.equal(st.status, 'created');
  assert.ok(existsSync(`/proc/${st.pid}`));
  assert.equal(runtime(b, ['start', id]).status, 0);
  st = JSON.parse(runtime(b, ['state', id]).stdout);
  assert.equal(st.status, 'running');
  const del = runtime(b, ['delete', id]);
  assert.equal(del.status, 1);
  assert.match(del.stderr, /cannot delete container .* that is not stopped: running/);
  assert.equal(runtime(b, ['kill', id, 'KILL']).status, 0);
  for (let i = 0; i < 100 && JSON.parse(runtime(b, ['state', id]).stdout).status !== 'stopped'; i++)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  assert.equal(JSON.parse(runtime(b, ['state', id]).stdout).status, 'stopped');
  assert.equal(runtime(b, ['delete', id]).status, 0);
  const gone = runtime(b, ['state', id]);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /container does not exist/);
});

test('a missing executable fails create with one precise line and leaves nothing', (t) => {
  const b = makeBundle(['/bin/nope']);
  t.after(() => b.cleanup());
  const r = runtime(b, ['create', '--bundle', b.dir, uniqueId('nope')]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'exec: "/bin/nope": stat /bin/nope: no such file or directory\n');
  assert.equal(runtime(b, ['list', '-q']).stdout, '');
});
