// OCI hooks: all six kinds run in order, each with the container's state on stdin and its
// args and env; a failing or hanging hook fails create with one line and leaves nothing.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Hook, Spec } from '../src/oci/runtime-spec.js';
import { makeBundle, runtime, uniqueId, waitFor, type Bundle, type Result } from './helpers/bundle.js';

function ok(r: Result): string {
  assert.equal(r.stderr, '', `stderr: ${r.stderr}`);
  assert.equal(r.status, 0, `exit ${r.status}; stdout: ${r.stdout}`);
  return r.stdout;
}

/** A hook that appends its name to `dir`/order and keeps its stdin as `dir`/NAME.json. */
function recorder(sh: string, dir: string, name: string): Hook {
  return {
    path: sh,
    args: ['sh', '-c', `cat > ${dir}/${name}.json; echo "${name} $HOOK_VAR" >> ${dir}/order`],
    env: [`HOOK_VAR=${name}-env`],
  };
}

function bundleWith(t: TestContext, args: string[], edit: (s: Spec, out: string) => void): { b: Bundle; out: string } {
  const b = makeBundle(args);
  t.after(() => b.cleanup());
  const out = join(b.dir, 'out');
  mkdirSync(out);
  chmodSync(out, 0o777);
  edit(b.spec, out);
  b.write();
  return { b, out };
}

const cgroupsOf = (id: string) => ['memory', 'pids', 'cpu'].filter((c) => existsSync(`/sys/fs/cgroup/${c}/berth/${id}`));

test('all six kinds of hooks run in order, each given the state on stdin', (t) => {
  const { b, out } = bundleWith(t, ['sleep', '60'], (s, out) => {
    // startContainer runs in the container: its path and output are the container's.
    s.mounts!.push({ destination: '/out', type: 'bind', source: out, options: ['rbind'] });
    s.hooks = {
      prestart: [recorder('/bin/sh', out, 'prestart')],
      createRuntime: [recorder('/bin/sh', out, 'createRuntime')],
      createContainer: [recorder('/bin/sh', out, 'createContainer')],
      startContainer: [recorder('/bin/sh', '/out', 'startContainer')],
      poststart: [recorder('/bin/sh', out, 'poststart')],
      poststop: [recorder('/bin/sh', out, 'poststop')],
    };
  });
  const id = uniqueId('hooks');
  ok(runtime(b, ['create', '--bundle', b.dir, id]));
  const pid = JSON.parse(runtime(b, ['state', id]).stdout).pid as number;
  assert.equal(
    readFileSync(join(out, 'order'), 'utf8'),
    'prestart prestart-env\ncreateRuntime createRuntime-env\ncreateContainer createContainer-env\n',
  );
  ok(runtime(b, ['start', id]));
  ok(runtime(b, ['kill', id, 'KILL']));
  assert.ok(waitFor(() => JSON.parse(runtime(b, ['state', id]).stdout).status === 'stopped'));
  ok(runtime(b, ['delete', id]));
  assert.equal(
    readFileSync(join(out, 'order'), 'utf8'),
    ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].map((n) => `${n} ${n}-env\n`).join(''),
  );
  const states = Object.fromEntries(
    readdirSync(out)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f.replace('.json', ''), JSON.parse(readFileSync(join(out, f), 'utf8'))]),
  );
  assert.equal(Object.keys(states).length, 6);
  for (const [kind, st] of Object.entries(states)) {
    assert.equal(st.id, id, kind);
    assert.equal(st.bundle, b.dir, kind);
    assert.equal(st.ociVersion, b.spec.ociVersion, kind);
    if (kind !== 'poststop') assert.equal(st.pid, pid, kind);
  }
  assert.equal(states.prestart.status, 'creating');
  assert.equal(states.createRuntime.status, 'creating');
  assert.equal(states.createContainer.status, 'creating');
  assert.equal(states.poststart.status, 'running');
  assert.equal(states.poststop.status, 'stopped');
  assert.equal(states.poststop.pid, undefined);
});

test('run runs the hooks too; poststop runs when run deletes', (t) => {
  const { b, out } = bundleWith(t, ['true'], (s, out) => {
    s.hooks = {
      createRuntime: [recorder('/bin/sh', out, 'createRuntime')],
      poststart: [recorder('/bin/sh', out, 'poststart')],
      poststop: [recorder('/bin/sh', out, 'poststop')],
    };
  });
  ok(runtime(b, ['run', '--bundle', b.dir, uniqueId('hooks-run')]));
  assert.equal(
    readFileSync(join(out, 'order'), 'utf8'),
    'createRuntime createRuntime-env\npoststart poststart-env\npoststop poststop-env\n',
  );
});

for (const kind of ['createRuntime', 'createContainer'] as const) {
  test(`a failing ${kind} hook fails create with one line and leaves nothing`, (t) => {
    const { b, out } = bundleWith(t, ['sleep', '60'], (s, out) => {
      s.hooks = { [kind]: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }], poststop: [recorder('/bin/sh', out, 'poststop')] };
    });
    const id = uniqueId('hookfail');
    const r = runtime(b, ['create', '--bundle', b.dir, id]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `${kind} hook #0 (/bin/sh) failed: exit status 3\n`);
    assert.equal(runtime(b, ['list', '-q']).stdout, '');
    assert.deepEqual(cgroupsOf(id), []);
    assert.ok(!existsSync(join(b.root, id)));
    assert.ok(!existsSync(join(out, 'order')), 'poststop is for a container that was created');
  });
}

test('a hook that runs past its timeout is killed and fails create', (t) => {
  const { b } = bundleWith(t, ['sleep', '60'], (s) => {
    s.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
  });
  const id = uniqueId('hooktime');
  const t0 = Date.now();
  const r = runtime(b, ['create', '--bundle', b.dir, id]);
  assert.ok(Date.now() - t0 < 10000, `took ${Date.now() - t0} ms`);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'createRuntime hook #0 (/bin/sleep) timed out after 1s\n');
  assert.equal(runtime(b, ['list', '-q']).stdout, '');
  assert.deepEqual(cgroupsOf(id), []);
});

test('a createContainer hook that runs past its timeout fails create', (t) => {
  const { b } = bundleWith(t, ['sleep', '60'], (s) => {
    s.hooks = { createContainer: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
  });
  const id = uniqueId('hooktime2');
  const r = runtime(b, ['create', '--bundle', b.dir, id]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'createContainer hook #0 (/bin/sleep) timed out after 1s\n');
  assert.equal(runtime(b, ['list', '-q']).stdout, '');
});

test('a relative hook path is refused at create', (t) => {
  const { b } = bundleWith(t, ['true'], (s) => {
    s.hooks = { prestart: [{ path: 'bin/true' }] };
  });
  const r = runtime(b, ['create', '--bundle', b.dir, uniqueId('hookrel')]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('a failing startContainer hook stops run with one line before the process runs', (t) => {
  const { b } = bundleWith(t, ['sh', '-c', 'echo ran'], (s) => {
    s.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 4'] }] };
  });
  const r = runtime(b, ['run', '--bundle', b.dir, uniqueId('hookstart')]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'startContainer hook #0 (/bin/sh) failed: exit status 4\n');
  assert.equal(runtime(b, ['list', '-q']).stdout, '');
});

test('a failing startContainer hook makes start fail, before poststart', (t) => {
  const { b, out } = bundleWith(t, ['sh', '-c', 'echo ran'], (s, out) => {
    s.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 4'] }], poststart: [recorder('/bin/sh', out, 'poststart')] };
  });
  const id = uniqueId('hookstart2');
  ok(runtime(b, ['create', '--bundle', b.dir, id]));
  const r = runtime(b, ['start', id]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'cannot start a container whose process has exited\n');
  assert.ok(!existsSync(join(out, 'order')), 'no poststart hook ran');
  ok(runtime(b, ['delete', id]));
});

test("a startContainer hook gets all of its 100 arguments and 100 variables (none dropped past a plan record's 64th field)", (t) => {
  const many = Array.from({ length: 100 }, (_, i) => String(i));
  const b = makeBundle(['cat', '/dev/shm/n'], (s) => {
    s.hooks = {
      startContainer: [
        { path: '/bin/sh', args: ['sh', '-c', 'echo "$# $V99" > /dev/shm/n', 'hook', ...many], env: many.map((i) => `V${i}=${i}`) },
      ],
    };
  });
  t.after(() => b.cleanup());
  assert.equal(ok(runtime(b, ['run', '--bundle', b.dir, uniqueId('hookargs')])), '100 99\n');
});
