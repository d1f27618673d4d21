// Failures and escapes: a bad config.json is one clear line, exit 1 and nothing left; a symlink
// in the image cannot send a mount to the host; no host fd or directory reaches the
// container; the helper's binary cannot be reached through /proc from inside; `features`
// and `spec` give what engines expect.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../src/oci/runtime-spec.js';
import { makeBundle, makeRootfs, RUNTIME, runtime, uniqueId, waitFor, type Bundle, type Result } from './helpers/bundle.js';

function ok(r: Result): string {
  assert.equal(r.stderr, '', `stderr: ${r.stderr}`);
  assert.equal(r.status, 0, `exit ${r.status}; stdout: ${r.stdout}`);
  return r.stdout;
}

function bundle(t: TestContext, args: string[], edit?: (s: Spec) => void): Bundle {
  const b = makeBundle(args, edit);
  t.after(() => b.cleanup());
  return b;
}

/** create fails with exactly `message` (a string is the whole line; a RegExp must match one line) and leaves nothing. */
function refused(b: Bundle, message: string | RegExp): void {
  const id = uniqueId('bad');
  const r = runtime(b, ['create', '--bundle', b.dir, id]);
  assert.equal(r.status, 1, `stdout: ${r.stdout}`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.split('\n').length, 2, `one line: ${JSON.stringify(r.stderr)}`);
  if (typeof message === 'string') assert.equal(r.stderr, `${message}\n`);
  else assert.match(r.stderr, message);
  assert.equal(runtime(b, ['list', '-q']).stdout, '');
  assert.ok(!existsSync(join(b.root, id)), 'no state is left');
  for (const c of ['memory', 'pids', 'cpu', 'freezer', 'devices', 'unified'])
    assert.ok(!existsSync(`/sys/fs/cgroup/${c}/berth/${id}`), `no ${c} cgroup is left`);
}

test('malformed config.json', (t) => {
  const b = bundle(t, ['true']);
  writeFileSync(join(b.dir, 'config.json'), '{"ociVersion": "1.2.0", "process": ');
  refused(b, new RegExp(`^${join(b.dir, 'config.json')}: .*JSON.*\\n$`));
});

test('a config without process', (t) => {
  refused(
    bundle(t, ['true'], (s) => {
      delete s.process;
    }),
    'config has no process',
  );
});

test('a relative mount destination', (t) => {
  refused(
    bundle(t, ['true'], (s) => {
      s.mounts!.push({ destination: 'data', type: 'tmpfs', source: 'tmpfs' });
    }),
    'mount destination "data" is not absolute',
  );
});

test("an unknown rlimit, in runc's words (an unknown capability is a warning: runtime-fidelity)", (t) => {
  refused(
    bundle(t, ['true'], (s) => {
      s.process!.rlimits!.push({ type: 'RLIMIT_NOPE', soft: 1, hard: 1 });
    }),
    'wrong rlimit value: RLIMIT_NOPE',
  );
});

test('an unknown namespace type', (t) => {
  refused(
    bundle(t, ['true'], (s) => {
      s.linux!.namespaces!.push({ type: 'bogus' as 'pid' });
    }),
    'unknown namespace type "bogus"',
  );
});

test('a missing rootfs, a bad mount source, a namespace path that does not exist', (t) => {
  refused(
    bundle(t, ['true'], (s) => {
      s.root!.path = 'nope';
    }),
    /^rootfs .*\/nope: no such file or directory\n$/,
  );
  refused(
    bundle(t, ['true'], (s) => {
      s.mounts!.push({ destination: '/x', type: 'bind', source: '/nonexistent-berth', options: ['rbind'] });
    }),
    'mount /nonexistent-berth to /x: stat /nonexistent-berth: no such file or directory',
  );
  refused(
    bundle(t, ['true'], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
        n.type === 'network' ? { type: 'network', path: '/run/netns/berth-none' } : n,
      );
    }),
    'open namespace /run/netns/berth-none: no such file or directory',
  );
});

test('a symlink in the rootfs cannot send a mount to the host', (t) => {
  const host = mkdtempSync(join(tmpdir(), 'berth-test-target-'));
  t.after(() => rmSync(host, { recursive: true, force: true }));
  const b = bundle(
    t,
    [
      'sh',
      '-c',
      'echo x > /evil/marker && echo y > /rel/link/marker && echo z > /bound/marker && cut -d" " -f5 /proc/self/mountinfo | grep target',
    ],
    (s) => {
      s.root!.readonly = false;
      s.mounts!.push(
        { destination: '/evil', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/rel/link', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/bound', type: 'bind', source: '/usr/share/doc', options: ['rbind', 'ro'] },
      );
    },
  );
  // Absolute, relative (climbing above /) and bind-mount cases, all aimed at `host`.
  symlinkSync(host, join(b.dir, 'rootfs/evil'));
  mkdirSync(join(b.dir, 'rootfs/rel'));
  symlinkSync(`../../../../../../..${host}/rel`, join(b.dir, 'rootfs/rel/link'));
  symlinkSync(`/tmp/../${host}-bound`, join(b.dir, 'rootfs/bound'));
  const r = runtime(b, ['run', '--bundle', b.dir, uniqueId('escape')]);
  // The bind is read-only: its marker fails, after the two tmpfs markers.
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /Read-only file system/);
  assert.deepEqual(readdirSync(host), [], 'nothing reached the host directory');
  // The mount points were made inside the rootfs, where the symlinks resolve in it.
  assert.ok(existsSync(join(b.dir, 'rootfs', host)), 'target made inside the rootfs');
  assert.ok(existsSync(join(b.dir, 'rootfs', `${host}-bound`)));
  assert.ok(!existsSync(`${host}-bound`));
  const host2 = spawnSync('grep', ['-c', 'berth-test-target', '/proc/self/mountinfo'], { encoding: 'utf8' });
  assert.equal(host2.stdout.trim(), '0', 'no mount on the host');
});

test('no host fd, directory or environment reaches the container', (t) => {
  const b = bundle(t, ['sh', '-c', 'ls /proc/self/fd; readlink /proc/1/cwd; readlink /proc/1/root']);
  const out = ok(runtime(b, ['run', '--bundle', b.dir, uniqueId('fds')]));
  // 0-2, and 3: the directory ls itself opened.
  assert.deepEqual(out.split('\n'), ['0', '1', '2', '3', '/', '/', '']);
  // The same through exec into a running container.
  const c = bundle(t, ['sleep', '60']);
  const id = uniqueId('fds-exec');
  ok(runtime(c, ['run', '-d', '--bundle', c.dir, id]));
  assert.equal(ok(runtime(c, ['exec', id, 'ls', '/proc/self/fd', '/proc/1/fd'])), '/proc/1/fd:\n0\n1\n2\n\n/proc/self/fd:\n0\n1\n2\n3\n');
});

test('--preserve-fds passes exactly the fds asked for', (t) => {
  const b = bundle(t, ['sh', '-c', 'echo to-fd-3 >&3; ls /proc/self/fd']);
  const file = join(b.dir, 'fd3');
  const extra = openSync(file, 'w');
  const extra2 = openSync(join(b.dir, 'fd4'), 'w');
  try {
    const r = spawnSync(RUNTIME, ['--root', b.root, 'run', '--preserve-fds', '1', '--bundle', b.dir, uniqueId('preserve')], {
      stdio: ['ignore', 'pipe', 'pipe', extra, extra2],
      encoding: 'utf8',
    });
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '0\n1\n2\n3\n4\n');
  } finally {
    closeSync(extra);
    closeSync(extra2);
  }
  assert.equal(readFileSync(file, 'utf8'), 'to-fd-3\n');
});

test("the runtime's binary cannot be reached or overwritten through /proc from inside", (t) => {
  // PID 1 of a running container is the user's program, exec'd: /proc/1/exe is busybox, busy.
  const b = bundle(t, ['sh', '-c', 'readlink /proc/1/exe; (echo x >> /proc/1/exe) 2>&1; (echo x >> /proc/self/exe) 2>&1; true'], (s) => {
    s.root!.readonly = false;
  });
  const out = ok(runtime(b, ['run', '--bundle', b.dir, uniqueId('exe')]));
  assert.equal(out, "/bin/busybox\nsh: can't create /proc/1/exe: Text file busy\nsh: can't create /proc/self/exe: Text file busy\n");
  // Before `start`, PID 1 is still berth's helper. It is not dumpable (so /proc/1/exe cannot
  // be read or opened from the container) and runs from a sealed memfd copy, not the host file.
  const c = bundle(t, ['sleep', '60']);
  const id = uniqueId('exe-created');
  ok(runtime(c, ['create', '--bundle', c.dir, id]));
  const r = runtime(c, [
    'exec',
    id,
    'sh',
    '-c',
    'readlink /proc/1/exe || echo no-link; echo x >> /proc/1/exe; cat /proc/1/exe > /dev/null; grep ^Name /proc/1/status',
  ]);
  assert.equal(r.stdout.replace(/\s+/g, ' '), 'no-link Name: memfd:berth-nse ');
  assert.match(r.stderr, /can't create \/proc\/1\/exe: Permission denied/);
  assert.match(r.stderr, /cat: can't open '\/proc\/1\/exe': Permission denied/);
  ok(runtime(c, ['delete', '--force', id]));
});

test('features prints the OCI features document', () => {
  const r = spawnSync(RUNTIME, ['features'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  const f = JSON.parse(r.stdout);
  assert.equal(f.ociVersionMin, '1.0.0');
  assert.match(f.ociVersionMax, /^1\.\d+\.\d+$/);
  assert.deepEqual(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  for (const ns of ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts']) assert.ok(f.linux.namespaces.includes(ns), ns);
  assert.ok(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
  assert.equal(f.linux.seccomp.enabled, true);
  assert.ok(f.linux.seccomp.actions.includes('SCMP_ACT_ERRNO'));
  assert.ok(f.mountOptions.includes('rbind') && f.mountOptions.includes('nosuid') && f.mountOptions.includes('rro'));
});

test('spec writes a config that run accepts once terminal is false', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-spec-'));
  t.after(() => {
    spawnSync(RUNTIME, ['--root', join(dir, 'state'), 'delete', '--force', 'spec-run']);
    rmSync(dir, { recursive: true, force: true });
  });
  makeRootfs(join(dir, 'rootfs'));
  const root = { root: join(dir, 'state') };
  ok(runtime(root, ['spec', '--bundle', dir]));
  const again = runtime(root, ['spec', '--bundle', dir]);
  assert.equal(again.status, 1);
  assert.equal(again.stderr, 'File config.json exists. Remove it first\n');
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
  assert.equal(spec.process!.terminal, true);
  spec.process!.terminal = false;
  spec.process!.args = ['sh', '-c', 'echo hello from $(hostname); exit 3'];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
  const r = runtime(root, ['run', '--bundle', dir, 'spec-run']);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'hello from berth\n');
  assert.equal(r.status, 3);
  assert.ok(waitFor(() => runtime(root, ['list', '-q']).stdout === ''));
});

test('commands on a missing container and bad arguments say so in one line', (t) => {
  const b = bundle(t, ['true']);
  for (const cmd of [
    ['state', 'nope'],
    ['start', 'nope'],
    ['kill', 'nope'],
    ['delete', 'nope'],
    ['exec', 'nope', 'true'],
    ['pause', 'nope'],
  ]) {
    const r = runtime(b, cmd);
    assert.equal(r.status, 1, cmd.join(' '));
    assert.equal(r.stderr, 'container does not exist: nope\n', cmd.join(' '));
  }
  const noId = runtime(b, ['start']);
  assert.equal(noId.status, 1);
  assert.equal(noId.stderr, '"start" requires a container id\n');
  const badId = runtime(b, ['create', '--bundle', b.dir, '../x']);
  assert.equal(badId.status, 1);
  assert.equal(badId.stderr, 'invalid container id format: "../x"\n');
  const twice = uniqueId('twice');
  ok(runtime(b, ['create', '--bundle', b.dir, twice]));
  const dup = runtime(b, ['create', '--bundle', b.dir, twice]);
  assert.equal(dup.status, 1);
  assert.equal(dup.stderr, `container with id exists: ${twice}\n`);
  ok(runtime(b, ['delete', twice]));
});

test('fields berth cannot honour are refused at create, never ignored', (t) => {
  const cases: [string, (s: Spec) => void, RegExp][] = [
    [
      'ioPriority',
      (s) => {
        s.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
      },
      /ioPriority/,
    ],
    [
      'intelRdt',
      (s) => {
        s.linux!.intelRdt = { closID: 'x' };
      },
      /intelRdt/,
    ],
    [
      'apparmor',
      (s) => {
        s.process!.apparmorProfile = 'docker-default';
      },
      /apparmor/,
    ],
    [
      'idmapped mount',
      (s) => {
        s.mounts!.push({
          destination: '/m',
          type: 'bind',
          source: '/tmp',
          options: ['rbind'],
          uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
        });
      },
      /idmapped/,
    ],
    [
      'personality flags',
      (s) => {
        s.linux!.personality = { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] };
      },
      /personality flags/,
    ],
    [
      'hostname without uts',
      (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts');
      },
      /hostname/,
    ],
    [
      'user namespace without maps',
      (s) => {
        s.linux!.namespaces!.push({ type: 'user' });
      },
      /uidMappings/,
    ],
  ];
  for (const [name, edit, msg] of cases) {
    const b = bundle(t, ['true'], edit);
    const r = runtime(b, ['create', '--bundle', b.dir, uniqueId('unsupported')]);
    assert.equal(r.status, 1, name);
    assert.match(r.stderr, msg, name);
    assert.equal(r.stderr.split('\n').length, 2, `${name}: one line: ${r.stderr}`);
    assert.equal(runtime(b, ['list', '-q']).stdout, '', name);
  }
  const systemd = spawnSync(RUNTIME, ['--systemd-cgroup', 'list'], { encoding: 'utf8' });
  assert.equal(systemd.status, 1);
  assert.match(systemd.stderr, /systemd cgroup driver is not supported/);
});

test('an exec that fails after setup (exec format error) is one line for run and run -d, and leaves nothing', (t) => {
  const b = bundle(t, ['/bin/notelf']);
  writeFileSync(join(b.dir, 'rootfs/bin/notelf'), 'not a program\n', { mode: 0o755 });
  for (const args of [['run'], ['run', '-d']]) {
    const id = uniqueId('noexec');
    const r = runtime(b, [...args, '--bundle', b.dir, id]);
    assert.equal(r.status, 1, args.join(' '));
    assert.equal(r.stderr, 'exec /bin/notelf: exec format error\n', args.join(' '));
    assert.equal(runtime(b, ['list', '-q']).stdout, '', args.join(' '));
    assert.ok(!existsSync(`/sys/fs/cgroup/memory/berth/${id}`));
  }
});

test('--log with --log-format json records the error where engines look for it', (t) => {
  const b = bundle(t, ['true'], (s) => {
    delete s.process;
  });
  const log = join(b.dir, 'log.json');
  const r = runtime(b, ['--log', log, '--log-format', 'json', 'create', '--bundle', b.dir, uniqueId('log')]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'config has no process\n');
  const lines = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.at(-1).level, 'error');
  assert.equal(lines.at(-1).msg, 'config has no process');
  assert.ok(!Number.isNaN(Date.parse(lines.at(-1).time)));
  const text = join(b.dir, 'log.txt');
  runtime(b, ['--log', text, 'state', 'nope']);
  assert.match(readFileSync(text, 'utf8'), /^time="[^"]+" level=error msg="container does not exist: nope"\n$/);
});

test('start twice, and start of a stopped container, are refused', (t) => {
  const b = bundle(t, ['sleep', '60']);
  const id = uniqueId('start2');
  ok(runtime(b, ['create', '--bundle', b.dir, id]));
  ok(runtime(b, ['start', id]));
  const again = runtime(b, ['start', id]);
  assert.equal(again.status, 1);
  assert.equal(again.stderr, 'cannot start an already running container\n');
  ok(runtime(b, ['kill', id, 'KILL']));
  assert.ok(waitFor(() => JSON.parse(runtime(b, ['state', id]).stdout).status === 'stopped'));
  const stopped = runtime(b, ['start', id]);
  assert.equal(stopped.status, 1);
  assert.equal(stopped.stderr, 'cannot start a container that has stopped\n');
  ok(runtime(b, ['delete', id]));
});

test('spec --rootless writes a user-namespace config that run accepts', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-spec-'));
  t.after(() => {
    spawnSync(RUNTIME, ['--root', join(dir, 'state'), 'delete', '--force', 'rootless-run']);
    rmSync(dir, { recursive: true, force: true });
  });
  chmodSync(dir, 0o755);
  makeRootfs(join(dir, 'rootfs'));
  const root = { root: join(dir, 'state') };
  ok(runtime(root, ['spec', '--rootless', '--bundle', dir]));
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
  assert.ok(spec.linux!.namespaces!.some((n) => n.type === 'user'));
  spec.process!.terminal = false;
  spec.process!.args = ['sh', '-c', 'cat /proc/self/uid_map; test -c /dev/pts/ptmx && echo pts'];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
  const r = runtime(root, ['run', '--bundle', dir, 'rootless-run']);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(r.stdout.replace(/ +/g, ' ').trim(), '0 0 1\npts');
});
