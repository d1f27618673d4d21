// linux.resources on this machine's cgroups, shown from inside and by the kernel's own counters:
// a memory limit OOM-kills a hog, a pids limit stops a fork bomb, a CPU quota throttles a busy
// loop, `update` changes a running container's limits, `events --stats` reports it all.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../src/oci/runtime-spec.js';
import { makeBundle, RUNTIME, runtime, uniqueId, waitFor, type Bundle, type Result } from './helpers/bundle.js';

const MiB = 1024 * 1024;

function ok(r: Result): string {
  assert.equal(r.stderr, '', `stderr: ${r.stderr}`);
  assert.equal(r.status, 0, `exit ${r.status}; stdout: ${r.stdout}`);
  return r.stdout;
}

/** A created-and-started container running `script`; deleted (by force) when the test ends. */
function started(t: TestContext, script: string, edit?: (s: Spec) => void): { b: Bundle; id: string } {
  const b = makeBundle(['sh', '-c', script], (s) => {
    s.root!.readonly = false;
    edit?.(s);
  });
  t.after(() => b.cleanup());
  const id = uniqueId('res');
  ok(runtime(b, ['run', '-d', '--bundle', b.dir, id]));
  return { b, id };
}

/** The container's cgroup folder for a v1 controller (or the v2 one), from the runtime's state. */
function cgroupDir(b: Bundle, id: string, controller: string): string {
  const rec = JSON.parse(readFileSync(join(b.root, id, 'state.json'), 'utf8')) as {
    cgroup: { layout: string; paths: Record<string, string> };
  };
  return rec.cgroup.paths[controller] ?? rec.cgroup.paths[''];
}

/** berth-runtime without blocking the event loop (so a stream can be read meanwhile). */
function runtimeAsync(b: Bundle, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(RUNTIME, ['--root', b.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    c.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    c.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function until(cond: () => boolean, ms = 15000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() > end) assert.fail('timed out waiting');
}

const stats = (b: Bundle, id: string) => JSON.parse(ok(runtime(b, ['events', '--stats', id])));
const status = (b: Bundle, id: string) => JSON.parse(runtime(b, ['state', id]).stdout).status as string;

test('a memory limit OOM-kills a hog: exit 137 for PID 1', (t) => {
  const b = makeBundle(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], (s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 16 * MiB, swap: 16 * MiB } };
  });
  t.after(() => b.cleanup());
  const r = runtime(b, ['run', '--bundle', b.dir, uniqueId('oom')]);
  assert.equal(r.status, 137, `stderr: ${r.stderr}`);
});

test("an OOM kill in an exec shows in events (an oom event), the cgroup's counter and --stats", async (t) => {
  const { b, id } = started(t, 'exec sleep 60', (s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 16 * MiB, swap: 16 * MiB } };
  });
  const events = spawn(RUNTIME, ['--root', b.root, 'events', '--interval', '50ms', id], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    try {
      process.kill(events.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  let lines = '';
  events.stdout.on('data', (d: Buffer) => {
    lines += d.toString();
  });
  await until(() => lines.includes('"type":"stats"'));
  // The exit status of the killed process comes back through exec.
  const hog = runtimeAsync(b, ['exec', id, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']);
  assert.equal((await hog).status, 137);
  await until(() => lines.includes('"type":"oom"'));
  assert.ok(
    lines
      .split('\n')
      .filter(Boolean)
      .every((l) => JSON.parse(l).id === id),
  );
  const s = stats(b, id);
  assert.equal(s.data.memory.usage.limit, 16 * MiB);
  assert.equal(s.data.memory.usage.max, 16 * MiB, 'usage reached the limit');
  const dir = cgroupDir(b, id, 'memory');
  const control = readFileSync(join(dir, dir.includes('unified') ? 'memory.events' : 'memory.oom_control'), 'utf8');
  assert.match(control, /oom_kill 1/);
  // The container itself lives on: only the hog was killed.
  assert.equal(status(b, id), 'running');
});

test('a pids limit stops a fork bomb', (t) => {
  // Only builtins after the loop: a fork would fail too. `kill -9 -1` ends every child.
  // The bomb runs in a child shell, which gives up at the first failed fork; PID 1 then counts
  // with a glob (no fork needed), and `kill -9 -1` ends the sleeps.
  const b = makeBundle(
    ['sh', '-c', 'sh -c "for i in \\$(seq 1 30); do sleep 30 & done"; set -- /proc/[0-9]*; echo $#; kill -9 -1; exit 0'],
    (s) => {
      s.linux!.resources = { ...s.linux!.resources, pids: { limit: 10 } };
    },
  );
  t.after(() => b.cleanup());
  const r = runtime(b, ['run', '--bundle', b.dir, uniqueId('pids')]);
  assert.equal(r.status, 0, r.stderr);
  // The limit of 10: PID 1, the bombing shell and 8 sleeps; the shell has gone since.
  assert.equal(r.stdout, '9\n');
  assert.match(r.stderr, /can't fork/);
});

test('a CPU quota is set in the cgroup the container sees, and throttles a busy loop', (t) => {
  const { b, id } = started(t, 'while :; do :; done', (s) => {
    s.linux!.resources = { ...s.linux!.resources, cpu: { quota: 10000, period: 100000, shares: 512, cpus: '0' } };
  });
  const inside = ok(
    runtime(b, [
      'exec',
      id,
      'sh',
      '-c',
      'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpuset/cpuset.cpus; grep Cpus_allowed_list /proc/self/status',
    ]),
  );
  assert.deepEqual(
    inside.split('\n').map((l) => l.replace(/\s+/g, ' ')),
    ['10000', '100000', '512', '0', 'Cpus_allowed_list: 0', ''],
  );
  assert.equal(readFileSync(join(cgroupDir(b, id, 'cpu'), 'cpu.cfs_quota_us'), 'utf8'), '10000\n');
  assert.ok(
    waitFor(() => (stats(b, id).data.cpu.throttling.throttledPeriods ?? 0) > 0, 10000),
    'the loop is throttled',
  );
  const s = stats(b, id);
  assert.ok(s.data.cpu.usage.total > 0);
  // 10% of one CPU: over the whole life of the loop, far less than the wall time.
  assert.ok(s.data.cpu.throttling.throttledTime > 0);
});

test('update changes the limits of a running container', (t) => {
  const { b, id } = started(t, 'exec sleep 60', (s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 * MiB }, pids: { limit: 50 } };
  });
  const read = () =>
    ok(
      runtime(b, [
        'exec',
        id,
        'cat',
        '/sys/fs/cgroup/memory/memory.limit_in_bytes',
        '/sys/fs/cgroup/pids/pids.max',
        '/sys/fs/cgroup/cpu/cpu.cfs_quota_us',
      ]),
    );
  assert.equal(read(), `${64 * MiB}\n50\n-1\n`);
  ok(runtime(b, ['update', '--memory', '32m', '--pids-limit', '20', id]));
  assert.equal(read(), `${32 * MiB}\n20\n-1\n`);
  ok(runtime(b, ['update', '--resources', '-', id], { input: JSON.stringify({ cpu: { quota: 20000, period: 100000 } }) }));
  assert.equal(read(), `${32 * MiB}\n20\n20000\n`);
  const s = stats(b, id);
  assert.equal(s.data.memory.usage.limit, 32 * MiB);
  assert.equal(s.data.pids.limit, 20);
  // The record keeps what was set, for later commands.
  const rec = JSON.parse(readFileSync(join(b.root, id, 'state.json'), 'utf8'));
  assert.equal(rec.config.linux.resources.memory.limit, 32 * MiB);
  assert.equal(rec.config.linux.resources.pids.limit, 20);
  const bad = runtime(b, ['update', '--memory', 'lots', id]);
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, 'invalid value for --memory: lots\n');
});

test('events --stats reports usage of a running container as one JSON line', (t) => {
  const { b, id } = started(t, 'exec sleep 60', (s) => {
    s.linux!.resources = { ...s.linux!.resources, memory: { limit: 64 * MiB }, pids: { limit: 50 } };
  });
  const out = ok(runtime(b, ['events', '--stats', id]));
  assert.equal(out.split('\n').length, 2, 'one line');
  const s = JSON.parse(out);
  assert.equal(s.type, 'stats');
  assert.equal(s.id, id);
  assert.ok(s.data.memory.usage.usage > 0);
  assert.equal(s.data.memory.usage.limit, 64 * MiB);
  assert.equal(s.data.pids.current, 1);
  assert.equal(s.data.pids.limit, 50);
  assert.ok(s.data.cpu.usage.total > 0);
  assert.equal(status(b, id), 'running');
  const gone = runtime(b, ['events', '--stats', 'nope']);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /container does not exist/);
});

test('device rules: a node they do not allow cannot be opened; an allow rule opens it', (t) => {
  // /dev/kmsg (c 1:11) is not among the devices every container gets.
  const script = 'mknod /tmp/kmsg c 1 11 && (: > /tmp/kmsg) 2>&1; echo rc=$?';
  const grant = (s: Spec) => {
    s.root!.readonly = false;
    for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_MKNOD');
  };
  const denied = makeBundle(['sh', '-c', script], grant);
  t.after(() => denied.cleanup());
  const r = runtime(denied, ['run', '--bundle', denied.dir, uniqueId('dev-deny')]);
  assert.equal(r.stdout, "sh: can't create /tmp/kmsg: Operation not permitted\nrc=1\n", r.stderr);
  const allowed = makeBundle(['sh', '-c', script], (s) => {
    grant(s);
    s.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 1, minor: 11, access: 'w' });
  });
  t.after(() => allowed.cleanup());
  const r2 = runtime(allowed, ['run', '--bundle', allowed.dir, uniqueId('dev-allow')]);
  assert.equal(r2.stdout, 'rc=0\n', r2.stderr);
});

test("the cgroup mount shows the container's own cgroups, read-only", (t) => {
  const b = makeBundle(
    ['sh', '-c', 'ls /sys/fs/cgroup; cat /sys/fs/cgroup/pids/pids.max; (echo 1 > /sys/fs/cgroup/pids/pids.max) 2>&1; true'],
    (s) => {
      s.linux!.resources = { ...s.linux!.resources, pids: { limit: 77 } };
    },
  );
  t.after(() => b.cleanup());
  const out = ok(runtime(b, ['run', '--bundle', b.dir, uniqueId('cgmount')]));
  const lines = out.trim().split('\n');
  for (const c of ['cpu', 'memory', 'pids']) assert.ok(lines.includes(c), `${c} in ${lines}`);
  assert.ok(lines.includes('77'), "the limit of this container, not the host's");
  assert.equal(lines.at(-1), "sh: can't create /sys/fs/cgroup/pids/pids.max: Read-only file system");
});

test('hugepage limits and unified keys reach the hierarchy that holds hugetlb', (t) => {
  // On this machine's hybrid layout hugetlb lives on the cgroup2 mount at /sys/fs/cgroup/unified;
  // on cgroup v1 or v2 alone it has a folder of its own or is the root.
  const dir = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/hugetlb', '/sys/fs/cgroup'].find((d) => {
    try {
      return readFileSync(join(d, 'cgroup.controllers'), 'utf8').includes('hugetlb');
    } catch {
      return d.endsWith('hugetlb') && existsSync(d);
    }
  });
  if (!dir || !existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB')) return t.skip('no hugetlb controller or 2MB pages');
  const inside = `/sys/fs/cgroup/${dir === '/sys/fs/cgroup' ? '' : dir.split('/').pop()}`;
  const v1 = dir.endsWith('hugetlb');
  const file = (size: string) => `${inside}/hugetlb.${size}.${v1 ? 'limit_in_bytes' : 'max'}`;
  const b = makeBundle(['cat', file('2MB')], (s) => {
    s.linux!.resources = { ...s.linux!.resources, hugepageLimits: [{ pageSize: '2MB', limit: 4 * MiB }] };
  });
  t.after(() => b.cleanup());
  assert.equal(ok(runtime(b, ['run', '--bundle', b.dir, uniqueId('huge')])), `${4 * MiB}\n`);
  // A unified key for 1 GB pages needs a kernel that has them.
  if (v1 || !existsSync('/sys/kernel/mm/hugepages/hugepages-1048576kB')) return;
  const u = makeBundle(['cat', file('1GB')], (s) => {
    s.linux!.resources = { ...s.linux!.resources, unified: { 'hugetlb.1GB.max': String(1024 * MiB) } };
  });
  t.after(() => u.cleanup());
  assert.equal(ok(runtime(u, ['run', '--bundle', u.dir, uniqueId('unified')])), `${1024 * MiB}\n`);
});
