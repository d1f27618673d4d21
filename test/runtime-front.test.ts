// berth-runtime's native front (native/front.c) against the TypeScript it stands in for, and
// against runc. First, records written by the TypeScript's own StateDir (every cgroup layout,
// every status, annotations that test the JSON) read back through the front and through Node:
// `state`, `ps --format json`, the errors of each light verb and every signal name must come
// out byte for byte the same (docs/runtime-state.md is the format both keep). Then the light
// verbs on real containers beside runc, with its exit codes and messages; then the cases the
// front hands to Node (hooks). The front runs with BERTH_NODE=/bin/false wherever it must answer
// alone, so a hand-over fails the test instead of passing unseen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../src/oci/runtime-spec.js';
import { state as stateText } from '../src/runtime/list.js';
import { pids } from '../src/runtime/ps.js';
import { parseSignal } from '../src/runtime/signals.js';
import { pidStartTime, StateDir, type ContainerRecord } from '../src/runtime/state.js';
import { makeBundle, RUNTIME, RUNTIME_FRONT, RUNTIME_NODE, uniqueId, waitFor, type Bundle, type Result } from './helpers/bundle.js';

const noRunc = spawnSync('runc', ['--version']).status === 0 ? false : 'runc is not installed (apt-get install runc)';
const ALONE = { BERTH_NODE: '/bin/false' };

/** A command with its output in files (a created container inherits them, as under runc). */
function call(bin: string, args: string[], env: Record<string, string> = {}): Result {
  const io = mkdtempSync(join(tmpdir(), 'berth-test-io-'));
  const out = openSync(join(io, 'out'), 'w+'),
    err = openSync(join(io, 'err'), 'w+');
  try {
    const r = spawnSync(bin, args, { timeout: 30000, stdio: ['ignore', out, err], env: { ...process.env, ...env } });
    return { status: r.status, stdout: readFileSync(join(io, 'out'), 'utf8'), stderr: readFileSync(join(io, 'err'), 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(io, { recursive: true, force: true });
  }
}

/** The front alone (or, `alone` false, handing over as it sees fit) and Node alone give the same answer. */
function same(root: string, args: string[], what = args.join(' '), alone = true): Result {
  const front = call(RUNTIME_FRONT, ['--root', root, ...args], alone ? ALONE : {});
  const node = call(RUNTIME_NODE, ['--root', root, ...args]);
  assert.deepEqual(front, node, what);
  return front;
}

function cgroupDir(base: string, name: string, files: Record<string, string>): string {
  const d = join(base, name);
  mkdirSync(d, { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(d, f), v);
  return d;
}

test('records the TypeScript writes read the same through the front: state, ps, errors, signals', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-test-front-'));
  const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
  const other = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.after(() => {
    sleeper.kill('SIGKILL');
    other.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });
  const pid = sleeper.pid!,
    start = pidStartTime(pid)!;
  assert.ok(start);
  const root = join(tmp, 'root'),
    cg = join(tmp, 'cg');
  const dirs = new StateDir(root);
  const procs = `${pid}\n`;
  const thawed = cgroupDir(cg, 'freezer/thawed', { 'freezer.state': 'THAWED\n', 'cgroup.procs': procs });
  const frozen = cgroupDir(cg, 'freezer/frozen', { 'freezer.state': 'FROZEN\n', 'cgroup.procs': procs });
  const memory = cgroupDir(cg, 'memory/x', { 'cgroup.procs': '' });
  cgroupDir(cg, 'memory/x/sub', { 'cgroup.procs': `${other.pid}\n${pid}\n` });
  const v2run = cgroupDir(cg, 'unified/run', { 'cgroup.events': 'populated 1\nfrozen 0\n', 'cgroup.procs': procs });
  const v2frozen = cgroupDir(cg, 'unified/frozen', { 'cgroup.events': 'populated 1\nfrozen 1\n', 'cgroup.procs': procs });
  const v2old = cgroupDir(cg, 'unified/old', { 'cgroup.freeze': '1\n', 'cgroup.procs': procs });
  const annotations = {
    b: 'x"y\\é\u2028\u0001\t😀 \ud800 </script>',
    '1': 'one',
    empty: '',
    odd: [1.5, -0, 1e21, { a: [] }, {}, null, true] as unknown as string,
  };
  const base = (id: string, over: Partial<ContainerRecord>): ContainerRecord => ({
    id,
    pid,
    pidStartTime: start,
    bundle: join(tmp, 'bündle "q"'),
    rootfs: join(tmp, 'rootfs'),
    created: new Date().toISOString(),
    config: { ociVersion: '1.2.0', annotations } as Spec,
    cgroup: { layout: 'v1', paths: { freezer: thawed, memory } },
    ...over,
  });
  const records: ContainerRecord[] = [
    base('v1-running', {}),
    base('v1-paused', { cgroup: { layout: 'v1', paths: { memory, freezer: frozen } } }),
    base('v1-nofreezer', { cgroup: { layout: 'v1', paths: { memory } }, config: { ociVersion: '1.2.0' } }),
    base('v2-running', { cgroup: { layout: 'v2', paths: { '': v2run } }, config: { ociVersion: '1.2.0', annotations: {} } }),
    base('v2-paused', { cgroup: { layout: 'v2', paths: { '': v2frozen } } }),
    base('v2-freeze-file', { cgroup: { layout: 'v2', paths: { '': v2old } } }),
    base('hybrid-paused-v1', { cgroup: { layout: 'hybrid', paths: { freezer: frozen, memory, '': v2run } } }),
    base('hybrid-paused-v2', { cgroup: { layout: 'hybrid', paths: { memory, '': v2frozen } } }),
    base('hybrid-created', { cgroup: { layout: 'hybrid', paths: { freezer: thawed, '': v2run } } }),
    base('created-paused', { cgroup: { layout: 'hybrid', paths: { freezer: frozen, '': v2run } } }),
    base('stopped', { pid: 0, pidStartTime: '', config: { ociVersion: '1.2.0', annotations: null as unknown as Record<string, string> } }),
    base('pid-reused', { pidStartTime: '1' }),
    base('gone-cgroups', { cgroup: { layout: 'v1', paths: { freezer: join(cg, 'nope') } } }),
  ];
  for (const r of records) {
    await dirs.claim(r.id);
    await dirs.save(r);
  }
  writeFileSync(dirs.fifo('hybrid-created'), '');
  writeFileSync(dirs.fifo('created-paused'), '');

  const expected: Record<string, string> = {
    'v1-running': 'running',
    'v1-paused': 'paused',
    'v1-nofreezer': 'running',
    'v2-running': 'running',
    'v2-paused': 'paused',
    'v2-freeze-file': 'paused',
    'hybrid-paused-v1': 'paused',
    'hybrid-paused-v2': 'paused',
    'hybrid-created': 'created',
    'created-paused': 'paused',
    stopped: 'stopped',
    'pid-reused': 'stopped',
    'gone-cgroups': 'running',
  };
  // What the front prints against what the TypeScript's CLI prints (its library, in this process).
  const front = (args: string[]) => call(RUNTIME_FRONT, ['--root', root, ...args], ALONE);
  for (const r of records) {
    assert.deepEqual(front(['state', r.id]), { status: 0, stdout: stateText(root, r.id), stderr: '' }, r.id);
    assert.equal(JSON.parse(front(['state', r.id]).stdout).status, expected[r.id], r.id);
    const json = { status: 0, stdout: JSON.stringify(pids(root, r.id)) + '\n', stderr: '' };
    assert.deepEqual(front(['ps', '--format', 'json', r.id]), json, r.id);
    assert.deepEqual(front(['ps', '-f', 'json', r.id]), json, r.id);
  }
  same(root, ['state', 'v1-running'], 'through the CLI too');
  assert.equal(
    front(['ps', '--format=json', 'v1-running']).stdout,
    `[${[pid, other.pid!].sort((a, b) => a - b).join(',')}]\n`,
    'v1: every hierarchy and sub-cgroup',
  );
  assert.equal(front(['ps', '--format', 'json', 'gone-cgroups']).stdout, '[]\n');

  // Errors: runc's exit code (1), berth's words, the same from both.
  const refusals: [string[], RegExp][] = [
    [['state', 'nope'], /^container does not exist: nope\n$/],
    [['ps', 'nope'], /^container does not exist: nope\n$/],
    [['delete', 'nope'], /^container does not exist: nope\n$/],
    [['start', 'stopped'], /^cannot start a container that has stopped\n$/],
    [['start', 'v1-running'], /^cannot start an already running container\n$/],
    [['start', 'v1-paused'], /^cannot start a container in the paused state\n$/],
    [['start', 'hybrid-paused-v2'], /^cannot start a container in the paused state\n$/],
    [['start', 'created-paused'], /^cannot start a container in the paused state\n$/],
    [['pause', 'stopped'], /^container not running\n$/],
    [['pause', 'v2-paused'], /^container not running\n$/],
    [['resume', 'v1-running'], /^container not paused\n$/],
    [['resume', 'stopped'], /^container not paused\n$/],
    [['delete', 'v1-running'], /^cannot delete container v1-running that is not stopped: running\n$/],
    [['delete', 'hybrid-paused-v1'], /^cannot delete container hybrid-paused-v1 that is not stopped: paused\n$/],
    [['kill', 'stopped'], /^container not running\n$/],
    [['kill', 'v1-running', 'NOPE'], /^invalid signal: NOPE\n$/],
  ];
  for (const [args, message] of refusals) {
    const r = same(root, args);
    assert.equal(r.status, 1, args.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, message);
  }
  assert.deepEqual(call(RUNTIME_FRONT, ['--root', root, 'delete', '--force', 'nope'], ALONE), { status: 0, stdout: '', stderr: '' });

  // Every signal Node knows, by name (any case, with or without SIG) and by number; and bad ones.
  const names = Object.keys(constants.signals);
  const signals = [
    ...names,
    ...names.map((n) => n.slice(3).toLowerCase()),
    ...['0', '1', '9', '009', '64', '65', '99999999999999999999', '', 'SIG', 'RTMIN', 'SIGRTMIN+1', 'KILLX', '-9', 'sigKill'],
  ];
  for (const s of signals) {
    let message = 'container not running'; // a valid signal to a stopped container
    try {
      parseSignal(s);
    } catch (e) {
      message = (e as Error).message;
    }
    assert.deepEqual(front(['kill', 'stopped', s]), { status: 1, stdout: '', stderr: `${message}\n` }, `kill ${JSON.stringify(s)}`);
  }
  // A name outside ASCII, which JavaScript's toUpperCase may map onto one ('ſ' is 'S'): Node's to read.
  assert.match(same(root, ['kill', 'stopped', 'ſigkill'], 'kill ſigkill', false).stderr, /^container not running\n$/);

  // --log, text and json, as the TypeScript writes it (the time aside).
  for (const format of ['text', 'json']) {
    const logs = [join(tmp, `front.${format}`), join(tmp, `node.${format}`)];
    call(RUNTIME_FRONT, ['--root', root, '--log', logs[0], '--log-format', format, 'state', 'nope'], ALONE);
    call(RUNTIME_NODE, ['--root', root, '--log', logs[1], `--log-format=${format}`, 'state', 'nope']);
    const [a, b] = logs.map((l) => readFileSync(l, 'utf8').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/, 'TIME'));
    assert.equal(a, b, format);
    assert.match(a, format === 'json' ? /^\{"level":"error","msg":"container does not exist: nope","time":"TIME"\}\n$/ : /level=error/);
  }
});

type Which = 'runc' | 'berth';

test("the light verbs on a real container, beside runc: outputs, runc's exit codes and messages", { skip: noRunc }, (t) => {
  for (const which of ['runc', 'berth'] as Which[]) {
    const b = makeBundle(['sleep', '300']);
    t.after(() => {
      if (which === 'runc') for (const id of rt(['list', '-q']).stdout.split('\n').filter(Boolean)) rt(['delete', '--force', id]);
      b.cleanup();
    });
    // berth's light verbs with no Node to hand over to: the front answers them alone.
    function rt(args: string[], alone = true): Result {
      return which === 'runc' ? call('runc', ['--root', b.root, ...args]) : call(RUNTIME, ['--root', b.root, ...args], alone ? ALONE : {});
    }
    const ok = (args: string[]) => {
      const r = rt(args);
      assert.equal(r.status, 0, `${which} ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const refused = (args: string[], message: RegExp) => {
      const r = rt(args);
      assert.equal(r.status, 1, `${which} ${args.join(' ')}`);
      assert.match(r.stderr, message, `${which} ${args.join(' ')}`);
    };
    const state = (id: string) => JSON.parse(ok(['state', id])) as { status: string; pid?: number; id: string; ociVersion: string };

    const id = uniqueId('front');
    assert.equal(rt(['create', '--bundle', b.dir, id], false).status, 0, which);
    const created = state(id);
    assert.equal(created.status, 'created', which);
    assert.equal(created.id, id, which);
    ok(['start', id]);
    refused(['start', id], /cannot start an already running container/);
    assert.equal(state(id).status, 'running', which);
    const pid = state(id).pid!;
    assert.deepEqual(JSON.parse(ok(['ps', '--format', 'json', id])), [pid], which);
    const table = ok(['ps', id]).split('\n');
    assert.match(table[0], /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/, which);
    assert.equal(table.length, 3, `${which}: the header, the container's one process, and the end of the last line`);
    assert.match(table[1], new RegExp(`^\\S+\\s+${pid}\\s.*sleep 300$`), which);

    ok(['pause', id]);
    assert.equal(state(id).status, 'paused', which);
    refused(['pause', id], /^(time=.* msg=")?container not running"?\n$/);
    refused(['start', id], /cannot start a container in the paused state/);
    refused(['delete', id], /cannot delete container .* that is not stopped: paused/);
    ok(['resume', id]);
    refused(['resume', id], /container not paused/);
    assert.equal(state(id).status, 'running', which);
    refused(['delete', id], /cannot delete container .* that is not stopped: running/);
    refused(['kill', id, 'NOPE'], /invalid signal|unknown signal/);

    ok(['kill', id, '9']);
    assert.ok(
      waitFor(() => state(id).status === 'stopped'),
      which,
    );
    refused(['kill', id, 'KILL'], /container not running/);
    refused(['pause', id], /^(time=.* msg=")?container not running"?\n$/);
    refused(['start', id], /cannot start a container that has stopped/);
    ok(['delete', id]);
    refused(['state', id], /container does not exist/);
    refused(['kill', id], /container does not exist/);
    ok(['delete', '--force', id]);

    // delete --force of a running container: killed, waited for, its cgroups and state gone.
    const id2 = uniqueId('front-force');
    assert.equal(rt(['create', '--bundle', b.dir, id2], false).status, 0, which);
    ok(['start', id2]);
    const pid2 = state(id2).pid!;
    ok(['kill', id2, 'SIGSTOP']);
    ok(['delete', '--force', id2]);
    assert.ok(!existsSync(`/proc/${pid2}/cmdline`) || readFileSync(`/proc/${pid2}/stat`, 'utf8').includes(') Z '), `${which}: killed`);
    assert.equal(rt(['list', '-q'], false).stdout, '', which);
    if (which === 'berth') {
      for (const h of ['freezer', 'memory', 'pids', 'cpu', 'devices', 'systemd', 'unified'])
        assert.ok(!existsSync(`/sys/fs/cgroup/${h}/berth/${id2}`), `no ${h} cgroup is left`);
      assert.ok(!existsSync(join(b.root, id2)));
    }
  }
});

test('what the front leaves to Node: poststart and poststop hooks run, create and exec work through the launcher', (t) => {
  let b: Bundle | undefined;
  t.after(() => b?.cleanup());
  const out = mkdtempSync(join(tmpdir(), 'berth-test-hooks-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const hook = (word: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}/${word}`] });
  b = makeBundle(['sleep', '300'], (s) => {
    s.hooks = { poststart: [hook('poststart')], poststop: [hook('poststop')] };
  });
  const trace = { BERTH_FRONT_TRACE: '1' };
  const id = uniqueId('front-hooks');
  const rt = (args: string[], env: Record<string, string> = {}) => call(RUNTIME, ['--root', b!.root, ...args], env);
  assert.equal(rt(['create', '--bundle', b.dir, id]).status, 0);
  const started = rt(['start', id], trace);
  assert.equal(started.status, 0, started.stderr);
  assert.match(started.stderr, /to node: poststart hooks/);
  assert.equal(JSON.parse(readFileSync(join(out, 'poststart'), 'utf8')).status, 'running');
  const exec = rt(['exec', id, 'echo', 'in'], trace);
  assert.equal(exec.stdout, 'in\n');
  assert.match(exec.stderr, /to node: a command the front leaves to Node/);
  assert.equal(rt(['state', id], { ...trace, ...ALONE }).status, 0, 'state needs no Node even with hooks');
  const deleted = rt(['delete', '--force', id], trace);
  assert.equal(deleted.status, 0, deleted.stderr);
  assert.match(deleted.stderr, /to node: poststop hooks/);
  assert.equal(JSON.parse(readFileSync(join(out, 'poststop'), 'utf8')).status, 'stopped');
  assert.equal(rt(['list', '-q']).stdout, '');
});

/** Where a hierarchy is mounted: `cgroup2` for the unified one, else the v1 controller's name. */
function mountOf(what: string): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const [fstype, , options] = right.split(' ');
    if (what === 'cgroup2' ? fstype === 'cgroup2' : fstype === 'cgroup' && options.split(',').includes(what)) return left.split(' ')[4];
  }
  return undefined;
}

for (const layout of ['v1', 'v2'] as const) {
  const mounts = layout === 'v2' ? { '': mountOf('cgroup2') } : { freezer: mountOf('freezer'), pids: mountOf('pids') };
  const skip = Object.values(mounts).some((m) => !m) ? `no ${layout} hierarchy to use here` : false;
  test(
    `a ${layout} record on this kernel's cgroups: pause and resume, ps, kill --all, delete --force, all in the front`,
    { skip },
    async (t) => {
      const root = mkdtempSync(join(tmpdir(), 'berth-test-front-'));
      const name = uniqueId('berth-test-front');
      const paths = Object.fromEntries(Object.entries(mounts).map(([k, m]) => [k, join(m!, name)]));
      // Processes that are not our children: nothing here reaps them but init, as with a container.
      const spawnSleeper = () => Number(spawnSync('sh', ['-c', 'sleep 300 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' }).stdout);
      const started: number[] = [];
      t.after(() => {
        for (const p of started) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // gone: what the test wanted
          }
        }
        for (const d of Object.values(paths)) if (existsSync(d)) spawnSync('rmdir', [d]);
        rmSync(root, { recursive: true, force: true });
      });
      const dirs = new StateDir(root);
      const record = async (id: string): Promise<ContainerRecord> => {
        for (const d of Object.values(paths)) mkdirSync(d, { recursive: true });
        const pid = spawnSleeper();
        started.push(pid);
        for (const d of Object.values(paths)) writeFileSync(join(d, 'cgroup.procs'), String(pid));
        const rec: ContainerRecord = {
          id,
          pid,
          pidStartTime: pidStartTime(pid)!,
          bundle: root,
          rootfs: root,
          created: new Date().toISOString(),
          config: { ociVersion: '1.2.0', linux: { namespaces: [{ type: 'mount' }] } },
          cgroup: { layout, paths },
        };
        await dirs.claim(id);
        await dirs.save(rec);
        return rec;
      };
      const front = (args: string[]) => {
        const r = call(RUNTIME_FRONT, ['--root', root, ...args], ALONE);
        assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
        return r.stdout;
      };
      const status = (id: string) => (JSON.parse(front(['state', id])) as { status: string }).status;
      const frozen = () =>
        layout === 'v2'
          ? /^frozen 1$/m.test(readFileSync(join(paths[''], 'cgroup.events'), 'utf8'))
          : readFileSync(join(paths.freezer, 'freezer.state'), 'utf8') === 'FROZEN\n';

      const a = await record('a');
      assert.equal(status('a'), 'running');
      front(['pause', 'a']);
      assert.ok(frozen(), 'the cgroup is frozen');
      assert.equal(status('a'), 'paused');
      assert.match(readFileSync(`/proc/${a.pid}/stat`, 'utf8'), /\) [SDT] /, 'the process is stopped or asleep');
      front(['resume', 'a']);
      assert.ok(!frozen(), 'and thawed');
      assert.equal(status('a'), 'running');
      assert.equal(front(['ps', '--format', 'json', 'a']), `[${a.pid}]\n`);
      front(['kill', '--all', 'a', 'KILL']);
      assert.ok(waitFor(() => status('a') === 'stopped'));
      assert.ok(!frozen(), 'kill --all thaws what it froze');
      front(['delete', 'a']);
      for (const d of Object.values(paths)) assert.ok(!existsSync(d), `delete removed ${d}`);
      assert.ok(!existsSync(join(root, 'a')));

      const b = await record('b');
      front(['pause', 'b']);
      front(['delete', '--force', 'b']);
      assert.ok(pidStartTime(b.pid) === undefined, 'delete --force killed the paused process');
      for (const d of Object.values(paths)) assert.ok(!existsSync(d), `delete --force removed ${d}`);
      assert.ok(!existsSync(join(root, 'b')));
    },
  );
}

test('a start that loses the race to another start says so instead of waiting for ever', async (t) => {
  // No lock is taken: two starts may both open the fifo. The one that reads the byte removes the
  // fifo; the other, finding it gone while the process lives, refuses as runc does.
  const root = mkdtempSync(join(tmpdir(), 'berth-test-front-'));
  const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.after(() => {
    sleeper.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });
  const dirs = new StateDir(root);
  for (const [bin, id] of [
    [RUNTIME_FRONT, 'front'],
    [RUNTIME_NODE, 'node'],
  ]) {
    const cg = join(root, `cg-${id}`);
    mkdirSync(cg);
    await dirs.claim(id);
    await dirs.save({
      id,
      pid: sleeper.pid!,
      pidStartTime: pidStartTime(sleeper.pid!)!,
      bundle: root,
      rootfs: root,
      created: new Date().toISOString(),
      config: { ociVersion: '1.2.0' },
      cgroup: { layout: 'v1', paths: { freezer: cg } },
    });
    assert.equal(spawnSync('mkfifo', [dirs.fifo(id)]).status, 0);
    const start = spawn(bin, ['--root', root, 'start', id], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...ALONE } });
    let stderr = '';
    start.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => start.on('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(start.exitCode, null, `${id}: start waits for the byte`);
    rmSync(dirs.fifo(id)); // what the winning start does
    const timer = setTimeout(() => start.kill('SIGKILL'), 10000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 1, id);
    assert.equal(stderr, 'cannot start an already running container\n', id);
  }
});
