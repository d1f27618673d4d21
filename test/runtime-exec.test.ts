// Verbs on a running container: exec (namespaces, exit code, --env/--cwd/--user/--process,
// -d with --pid-file), ps, pause/resume, kill --all, delete --force, list and state.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../src/oci/runtime-spec.js';
import { makeBundle, RUNTIME, runtime, uniqueId, waitFor, type Bundle, type Result } from './helpers/bundle.js';

function ok(r: Result): string {
  assert.equal(r.stderr, '', `stderr: ${r.stderr}`);
  assert.equal(r.status, 0, `exit ${r.status}; stdout: ${r.stdout}`);
  return r.stdout;
}

/** A running container (run -d); deleted by force when the test ends. */
function running(t: TestContext, args: string[] = ['sleep', '60'], edit?: (s: Spec) => void): { b: Bundle; id: string; pid: number } {
  const b = makeBundle(args, (s) => {
    s.hostname = 'box';
    edit?.(s);
  });
  t.after(() => b.cleanup());
  const id = uniqueId('exec');
  ok(runtime(b, ['run', '-d', '--bundle', b.dir, id]));
  const st = JSON.parse(ok(runtime(b, ['state', id])));
  assert.equal(st.status, 'running');
  return { b, id, pid: st.pid };
}

const stateOf = (b: Bundle, id: string) => JSON.parse(runtime(b, ['state', id]).stdout);
const cgroupDir = (b: Bundle, id: string, c: string) =>
  (JSON.parse(readFileSync(join(b.root, id, 'state.json'), 'utf8')).cgroup.paths as Record<string, string>)[c];
const alive = (pid: number) => {
  try {
    return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

test('exec joins the container: same PID namespace, hostname and root; the exit code comes back', (t) => {
  const { b, id } = running(t);
  const out = ok(
    runtime(b, ['exec', id, 'sh', '-c', 'echo $$; hostname; cat /proc/1/cmdline | tr "\\0" " "; echo; ls /proc | grep -c "^[0-9]"']),
  );
  const [pid, host, init] = out.split('\n');
  assert.ok(Number(pid) > 1, `exec'd pid ${pid}`);
  assert.equal(host, 'box');
  assert.equal(init, 'sleep 60 ');
  const r = runtime(b, ['exec', id, 'sh', '-c', 'echo out; echo err >&2; exit 42']);
  assert.deepEqual([r.status, r.stdout, r.stderr], [42, 'out\n', 'err\n']);
  const missing = runtime(b, ['exec', id, '/bin/nope']);
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr, 'exec: "/bin/nope": stat /bin/nope: no such file or directory\n');
});

test('exec --env, --cwd and --user set the new process', (t) => {
  const { b, id } = running(t);
  const out = ok(
    runtime(b, [
      'exec',
      '--env',
      'FOO=bar',
      '-e',
      'BAZ=two words',
      '--cwd',
      '/tmp',
      '--user',
      '1000:1001',
      id,
      'sh',
      '-c',
      'echo "$FOO|$BAZ|$PATH"; pwd; id -u; id -g',
    ]),
  );
  assert.equal(out, `bar|two words|${b.spec.process!.env![0].slice(5)}\n/tmp\n1000\n1001\n`);
});

test('exec --process runs the process a JSON file describes', (t) => {
  const { b, id } = running(t);
  const file = join(b.dir, 'process.json');
  writeFileSync(
    file,
    JSON.stringify({
      terminal: false,
      user: { uid: 7, gid: 8, additionalGids: [9] },
      args: ['sh', '-c', 'echo "$X"; pwd; grep -E "^(Uid|Gid|Groups)" /proc/self/status'],
      env: ['PATH=/bin', 'X=from-file'],
      cwd: '/etc',
      capabilities: { bounding: [], effective: [], permitted: [] },
      noNewPrivileges: true,
    }),
  );
  const out = ok(runtime(b, ['exec', '--process', file, id]));
  assert.deepEqual(
    out.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()),
    ['from-file', '/etc', 'Uid: 7 7 7 7', 'Gid: 8 8 8 8', 'Groups: 9', ''],
  );
});

test("exec -d --pid-file leaves a process in the container's cgroup; ps lists it", (t) => {
  const { b, id, pid } = running(t);
  const pidFile = join(b.dir, 'exec.pid');
  const r = ok(runtime(b, ['exec', '-d', '--pid-file', pidFile, id, 'sleep', '61']));
  assert.equal(r, '');
  const execPid = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(alive(execPid));
  assert.match(readFileSync(`/proc/${execPid}/cmdline`, 'utf8'), /^sleep\x0061\x00$/);
  assert.equal(readFileSync(`/proc/${execPid}/cgroup`, 'utf8'), readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net'])
    assert.equal(readlinkSync(`/proc/${execPid}/ns/${ns}`), readlinkSync(`/proc/${pid}/ns/${ns}`), ns);
  const pids = JSON.parse(ok(runtime(b, ['ps', '--format', 'json', id]))) as number[];
  assert.deepEqual([...pids].sort(), [pid, execPid].sort());
  const table = ok(runtime(b, ['ps', id]));
  assert.match(table.split('\n')[0], /PID/);
  assert.equal(table.trim().split('\n').length, 3, table);
  // ps options after the id go to ps(1).
  const custom = ok(runtime(b, ['ps', id, '-o', 'pid,args']));
  assert.deepEqual(
    custom
      .trim()
      .split('\n')
      .map((l) => l.trim().replace(/\s+/g, ' '))
      .sort(),
    ['PID COMMAND', `${pid} sleep 60`, `${execPid} sleep 61`].sort(),
  );
});

test('pause freezes the container and resume thaws it', (t) => {
  const { b, id, pid } = running(t, ['sh', '-c', 'while :; do sleep 0.05; done']);
  ok(runtime(b, ['pause', id]));
  assert.equal(stateOf(b, id).status, 'paused');
  const freezer = cgroupDir(b, id, 'freezer');
  if (freezer) assert.equal(readFileSync(join(freezer, 'freezer.state'), 'utf8').trim(), 'FROZEN');
  const ex = runtime(b, ['exec', id, 'true']);
  assert.equal(ex.status, 1);
  assert.equal(ex.stderr, 'cannot exec in a paused container\n');
  const again = runtime(b, ['pause', id]);
  assert.equal(again.status, 1);
  ok(runtime(b, ['resume', id]));
  assert.equal(stateOf(b, id).status, 'running');
  if (freezer) assert.equal(readFileSync(join(freezer, 'freezer.state'), 'utf8').trim(), 'THAWED');
  assert.ok(alive(pid));
  const notPaused = runtime(b, ['resume', id]);
  assert.equal(notPaused.status, 1);
  assert.equal(notPaused.stderr, 'container not paused\n');
  ok(runtime(b, ['exec', id, 'true']));
});

test('kill --all signals every process; kill by name or number', (t) => {
  const { b, id, pid } = running(t, ['sh', '-c', 'trap "exit 3" USR1; sleep 60 & sleep 60 & while :; do sleep 0.05; done']);
  assert.ok(waitFor(() => (JSON.parse(ok(runtime(b, ['ps', '--format', 'json', id]))) as number[]).length >= 4));
  const pids = JSON.parse(ok(runtime(b, ['ps', '--format', 'json', id]))) as number[];
  ok(runtime(b, ['kill', '--all', id, '9']));
  assert.ok(
    waitFor(() => pids.every((p) => !alive(p))),
    'every process is gone',
  );
  assert.ok(waitFor(() => stateOf(b, id).status === 'stopped'));
  assert.ok(!alive(pid));
  const dead = runtime(b, ['kill', id, 'KILL']);
  assert.equal(dead.status, 1);
  assert.equal(dead.stderr, 'container not running\n');
  const bad = runtime(b, ['kill', id, 'SIGNOPE']);
  assert.equal(bad.status, 1);
  ok(runtime(b, ['delete', id]));
});

test('delete --force removes a running container: process, cgroups and state', (t) => {
  const { b, id, pid } = running(t);
  const dirs = ['memory', 'pids', 'freezer', ''].map((c) => cgroupDir(b, id, c)).filter(Boolean);
  assert.ok(dirs.length > 0 && dirs.every((d) => existsSync(d)));
  const plain = runtime(b, ['delete', id]);
  assert.equal(plain.status, 1);
  ok(runtime(b, ['delete', '--force', id]));
  assert.ok(!alive(pid));
  assert.ok(
    dirs.every((d) => !existsSync(d)),
    'cgroups removed',
  );
  assert.ok(!existsSync(join(b.root, id)));
  assert.equal(runtime(b, ['state', id]).status, 1);
});

test("list and state print runc's JSON", (t) => {
  const { b, id, pid } = running(t);
  const id2 = uniqueId('created');
  ok(runtime(b, ['create', '--bundle', b.dir, id2]));
  const st = JSON.parse(ok(runtime(b, ['state', id])));
  assert.deepEqual(Object.keys(st).sort(), ['bundle', 'id', 'ociVersion', 'pid', 'status']);
  assert.deepEqual({ ...st, ociVersion: undefined }, { ociVersion: undefined, id, status: 'running', pid, bundle: b.dir });
  const list = JSON.parse(ok(runtime(b, ['list', '--format', 'json']))) as {
    id: string;
    pid: number;
    status: string;
    bundle: string;
    rootfs: string;
    created: string;
    owner: string;
  }[];
  const byId = Object.fromEntries(list.map((e) => [e.id, e]));
  assert.deepEqual(Object.keys(byId).sort(), [id, id2].sort());
  assert.equal(byId[id].status, 'running');
  assert.equal(byId[id].pid, pid);
  assert.equal(byId[id2].status, 'created');
  assert.equal(byId[id].rootfs, join(b.dir, 'rootfs'));
  assert.ok(!Number.isNaN(Date.parse(byId[id].created)));
  const table = ok(runtime(b, ['list']));
  assert.match(table, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\n/);
  assert.deepEqual(
    ok(runtime(b, ['list', '-q']))
      .split('\n')
      .filter(Boolean)
      .sort(),
    [id, id2].sort(),
  );
  ok(runtime(b, ['delete', id2]));
});

test('SIGKILL ends a paused container (kill and kill --all)', (t) => {
  for (const all of [false, true]) {
    const { b, id, pid } = running(t, ['sh', '-c', 'sleep 60 & while :; do sleep 0.05; done']);
    ok(runtime(b, ['pause', id]));
    assert.equal(stateOf(b, id).status, 'paused');
    ok(runtime(b, all ? ['kill', '--all', id, 'KILL'] : ['kill', id, 'KILL']));
    assert.ok(
      waitFor(() => stateOf(b, id).status === 'stopped'),
      `stopped after kill${all ? ' --all' : ''}`,
    );
    assert.ok(!alive(pid));
    ok(runtime(b, ['delete', id]));
  }
});

test('a signal other than SIGKILL waits in a paused container until resume', (t) => {
  const { b, id } = running(t, ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.05; done']);
  ok(runtime(b, ['pause', id]));
  ok(runtime(b, ['kill', id, 'TERM']));
  assert.equal(stateOf(b, id).status, 'paused');
  ok(runtime(b, ['resume', id]));
  assert.ok(waitFor(() => stateOf(b, id).status === 'stopped'));
  ok(runtime(b, ['delete', id]));
});

test('run passes a signal it receives to the process and returns its exit code', { timeout: 60_000 }, async (t) => {
  const b = makeBundle(['sh', '-c', 'trap "echo got-term; exit 9" TERM; echo ready; while :; do sleep 0.05; done']);
  t.after(() => b.cleanup());
  const child = spawn(RUNTIME, ['--root', b.root, 'run', '--bundle', b.dir, uniqueId('sig')], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      /* exited */
    }
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = new Promise<number | null>((resolve) => child.on('close', resolve));
  for (let i = 0; i < 250 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(out, 'ready\n');
  child.kill('SIGTERM');
  assert.equal(await code, 9);
  assert.equal(out, 'ready\ngot-term\n');
  assert.equal(runtime(b, ['list', '-q']).stdout, '');
});

test('without a PID namespace, ps lists what outlives the init and delete ends it', (t) => {
  const b = makeBundle(['sh', '-c', 'sleep 61 & echo $!'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
  });
  t.after(() => b.cleanup());
  const id = uniqueId('nopidns');
  ok(runtime(b, ['run', '-d', '--bundle', b.dir, id]));
  assert.ok(waitFor(() => stateOf(b, id).status === 'stopped'));
  let pids: number[] = [];
  assert.ok(
    waitFor(() => (pids = JSON.parse(ok(runtime(b, ['ps', '--format', 'json', id])))).length === 1),
    `pids ${pids}`,
  );
  assert.match(readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8'), /^sleep\x0061\x00$/);
  ok(runtime(b, ['delete', id]));
  assert.ok(
    waitFor(() => !alive(pids[0])),
    'delete killed the left-over process',
  );
});
