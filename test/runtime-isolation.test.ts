// What a container sees from the inside, on the real kernel: PID 1, names, mounts and their
// flags, masked and read-only paths, /dev, capabilities, user, limits, sysctls, user
// namespaces, joined namespaces and the personality. Each test runs busybox through `run`.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../src/oci/runtime-spec.js';
import { makeBundle, runtime, uniqueId, waitFor, type Bundle, type Result } from './helpers/bundle.js';

/** Runs `script` with busybox sh in a fresh bundle; the bundle goes when the test ends. */
function runSh(t: TestContext, script: string, edit?: (s: Spec) => void): Result & { b: Bundle } {
  const b = makeBundle(['sh', '-c', script], edit);
  t.after(() => b.cleanup());
  // mkdtemp makes the bundle 0700: a container whose root is mapped to another host uid
  // could not reach its own rootfs (runc has the same rule).
  chmodSync(b.dir, 0o755);
  return { ...runtime(b, ['run', '--bundle', b.dir, uniqueId('iso')]), b };
}

function ok(r: Result): string {
  assert.equal(r.stderr, '', `stderr: ${r.stderr}`);
  assert.equal(r.status, 0, `exit ${r.status}; stdout: ${r.stdout}`);
  return r.stdout;
}

interface MountLine {
  point: string;
  opts: Set<string>;
  optional: string[];
  fstype: string;
  source: string;
  superOpts: Set<string>;
}

function mountinfo(text: string): Map<string, MountLine> {
  const out = new Map<string, MountLine>();
  for (const line of text.split('\n').filter(Boolean)) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    // Later lines win: the top mount at a point is the one a path reaches.
    out.set(f[4], {
      point: f[4],
      opts: new Set(f[5].split(',')),
      optional: f.slice(6, dash),
      fstype: f[dash + 1],
      source: f[dash + 2],
      superOpts: new Set(f[dash + 3].split(',')),
    });
  }
  return out;
}

function statusField(status: string, name: string): string {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status);
  assert.ok(m, `no ${name} in /proc/self/status`);
  return m[1].trim();
}

test('the process is PID 1 with its own hostname and domainname', (t) => {
  const out = ok(
    runSh(t, 'echo $$; hostname; cat /proc/sys/kernel/domainname; ls /proc | grep -c "^[0-9]"', (s) => {
      s.hostname = 'inside';
      s.domainname = 'example.test';
    }),
  );
  // The shell, and `ls` plus `grep` that it forked: nothing of the host's processes.
  assert.deepEqual(out.split('\n'), ['1', 'inside', 'example.test', out.split('\n')[3], '']);
  assert.ok(Number(out.split('\n')[3]) <= 3, `processes seen: ${out}`);
});

test('default mounts carry their flags and options in mountinfo', (t) => {
  const m = mountinfo(ok(runSh(t, 'cat /proc/self/mountinfo')));
  const root = m.get('/')!;
  assert.ok(root.opts.has('ro'), 'root.readonly gives a read-only /');
  const proc = m.get('/proc')!;
  assert.equal(proc.fstype, 'proc');
  const dev = m.get('/dev')!;
  assert.equal(dev.fstype, 'tmpfs');
  assert.ok(dev.opts.has('nosuid') && !dev.opts.has('noexec'));
  assert.ok(dev.superOpts.has('size=65536k') && dev.superOpts.has('mode=755'), [...dev.superOpts].join(','));
  const shm = m.get('/dev/shm')!;
  for (const f of ['nosuid', 'nodev', 'noexec']) assert.ok(shm.opts.has(f), `/dev/shm ${f}`);
  assert.ok(!shm.superOpts.has('mode=755'), 'tmpfs shows no mode when it is 1777, its default');
  const pts = m.get('/dev/pts')!;
  assert.equal(pts.fstype, 'devpts');
  assert.ok(pts.superOpts.has('ptmxmode=666') && pts.superOpts.has('mode=620') && pts.superOpts.has('gid=5'), [...pts.superOpts].join(','));
  assert.equal(m.get('/dev/mqueue')!.fstype, 'mqueue');
  const sys = m.get('/sys')!;
  assert.equal(sys.fstype, 'sysfs');
  for (const f of ['ro', 'nosuid', 'nodev', 'noexec']) assert.ok(sys.opts.has(f), `/sys ${f}`);
  // No mount of the host is visible: every mount point is one the config asked for, or below one.
  for (const p of m.keys()) assert.match(p, /^\/($|proc|dev|sys)/, `unexpected mount ${p}`);
});

test('mount options, tmpfs options and propagation reach the kernel', (t) => {
  const b0 = makeBundle(['true']);
  // A host directory to bind, made shared so that a slave copy has a master to show.
  const shared = join(b0.dir, 'shared');
  mkdirSync(shared);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'berth-test-shared', shared]);
  t.after(() => {
    spawnSync('umount', ['-l', shared]);
    b0.cleanup();
  });
  execFileSync('mount', ['--make-shared', shared]);
  const out = ok(
    runSh(t, 'cat /proc/self/mountinfo', (s) => {
      s.mounts!.push(
        {
          destination: '/data',
          type: 'tmpfs',
          source: 'tmpfs',
          options: ['nosuid', 'nodev', 'noexec', 'size=1m', 'mode=700', 'uid=12', 'gid=34'],
        },
        { destination: '/ro', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'size=64k'] },
        { destination: '/shared', type: 'tmpfs', source: 'tmpfs', options: ['shared'] },
        { destination: '/private', type: 'tmpfs', source: 'tmpfs', options: ['private'] },
        { destination: '/slave', type: 'bind', source: shared, options: ['rbind', 'rslave', 'ro', 'nosuid', 'nodev', 'noexec'] },
        { destination: '/priv-bind', type: 'bind', source: shared, options: ['rbind', 'rprivate'] },
      );
    }),
  );
  const m = mountinfo(out);
  const data = m.get('/data')!;
  for (const f of ['nosuid', 'nodev', 'noexec', 'rw']) assert.ok(data.opts.has(f), `/data ${f}: ${[...data.opts]}`);
  for (const o of ['size=1024k', 'mode=700', 'uid=12', 'gid=34']) assert.ok(data.superOpts.has(o), `/data ${o}: ${[...data.superOpts]}`);
  assert.ok(m.get('/ro')!.opts.has('ro'));
  assert.ok(
    m.get('/shared')!.optional.some((o) => o.startsWith('shared:')),
    `shared: ${m.get('/shared')!.optional}`,
  );
  assert.deepEqual(m.get('/private')!.optional, []);
  const slave = m.get('/slave')!;
  assert.ok(
    slave.optional.some((o) => o.startsWith('master:')),
    `slave: ${slave.optional}`,
  );
  assert.ok(!slave.optional.some((o) => o.startsWith('shared:')));
  for (const f of ['ro', 'nosuid', 'nodev', 'noexec']) assert.ok(slave.opts.has(f), `/slave ${f}`);
  assert.deepEqual(m.get('/priv-bind')!.optional, []);
});

test('masked paths are /dev/null or an empty read-only tmpfs; read-only paths refuse writes', (t) => {
  const out = ok(
    runSh(
      t,
      [
        'stat -c "%F %t:%T" /proc/keys /proc/timer_list',
        'cat /proc/keys | wc -c',
        'ls -A /proc/acpi | wc -l',
        'grep " /proc/acpi " /proc/self/mountinfo | cut -d" " -f6,9',
        'grep " /sys/firmware " /proc/self/mountinfo | cut -d" " -f6,9',
        '(echo 1 > /proc/sys/kernel/printk_ratelimit) 2>/dev/null && echo writable || echo refused',
        'grep " /proc/sys " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1',
        '(touch /proc/acpi/x) 2>/dev/null && echo writable || echo refused',
      ].join('; '),
    ),
  );
  assert.deepEqual(
    out
      .trim()
      .split('\n')
      .map((l) => l.trim()),
    [
      'character special file 1:3',
      'character special file 1:3',
      '0',
      '0',
      'ro,relatime tmpfs',
      'ro,relatime tmpfs',
      'refused',
      'ro',
      'refused',
    ],
  );
});

test('root.readonly decides whether / can be written', (t) => {
  const ro = runSh(t, 'touch /x', (s) => {
    s.root!.readonly = true;
  });
  assert.equal(ro.status, 1);
  assert.match(ro.stderr, /Read-only file system/);
  const rw = runSh(t, 'touch /x && echo made', (s) => {
    s.root!.readonly = false;
  });
  assert.equal(ok(rw), 'made\n');
});

test('/dev holds the default devices, the pts and shm mounts and the standard symlinks', (t) => {
  const out = ok(
    runSh(
      t,
      [
        'stat -c "%n %F %t:%T %a" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty',
        'for l in ptmx fd stdin stdout stderr; do echo "$l -> $(readlink /dev/$l)"; done',
        'test -d /dev/pts && test -c /dev/pts/ptmx && echo pts',
        'test -d /dev/shm && echo shm',
        'head -c 4 /dev/zero | od -An -tx1',
        'echo x > /dev/full 2>/dev/null || echo full',
      ].join('; '),
    ),
  );
  assert.deepEqual(
    out
      .trim()
      .split('\n')
      .map((l) => l.trim()),
    [
      '/dev/null character special file 1:3 666',
      '/dev/zero character special file 1:5 666',
      '/dev/full character special file 1:7 666',
      '/dev/random character special file 1:8 666',
      '/dev/urandom character special file 1:9 666',
      '/dev/tty character special file 5:0 666',
      'ptmx -> pts/ptmx',
      'fd -> /proc/self/fd',
      'stdin -> /proc/self/fd/0',
      'stdout -> /proc/self/fd/1',
      'stderr -> /proc/self/fd/2',
      'pts',
      'shm',
      '00 00 00 00',
      'full',
    ],
  );
});

test('linux.devices adds nodes with their mode and owner', (t) => {
  const out = ok(
    runSh(t, 'stat -c "%n %F %t:%T %a %u:%g" /dev/loop-ctl /dev/fifo', (s) => {
      s.linux!.devices = [
        { path: '/dev/loop-ctl', type: 'c', major: 10, minor: 237, fileMode: 0o600, uid: 7, gid: 8 },
        { path: '/dev/fifo', type: 'p', fileMode: 0o640 },
      ];
    }),
  );
  assert.equal(out, '/dev/loop-ctl character special file a:ed 600 7:8\n/dev/fifo fifo 0:0 640 0:0\n');
});

const CAP = { CHOWN: 0, KILL: 5, NET_BIND_SERVICE: 10, NET_RAW: 13, SYS_CHROOT: 18 } as const;
const mask = (...caps: (keyof typeof CAP)[]) =>
  caps
    .reduce((m, c) => m | (1n << BigInt(CAP[c])), 0n)
    .toString(16)
    .padStart(16, '0');

test('capabilities of root: bounding, and with noNewPrivileges no more than permitted', (t) => {
  const status = ok(
    runSh(t, 'cat /proc/self/status', (s) => {
      s.process!.capabilities = {
        bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SYS_CHROOT'],
        permitted: ['CAP_CHOWN', 'CAP_KILL'],
        effective: ['CAP_CHOWN', 'CAP_KILL'],
        inheritable: ['CAP_KILL'],
      };
    }),
  );
  assert.equal(statusField(status, 'CapBnd'), mask('CHOWN', 'KILL', 'NET_RAW', 'SYS_CHROOT'));
  // Root's execve would raise permitted to the bounding set; no_new_privs keeps it at what it had.
  assert.equal(statusField(status, 'CapPrm'), mask('CHOWN', 'KILL'));
  assert.equal(statusField(status, 'CapEff'), mask('CHOWN', 'KILL'));
  assert.equal(statusField(status, 'CapInh'), mask('KILL'));
  assert.equal(statusField(status, 'CapAmb'), mask());
});

test('capabilities of a non-root user come through the ambient set', (t) => {
  const status = ok(
    runSh(t, 'cat /proc/self/status', (s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.capabilities = {
        bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
        permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_NET_BIND_SERVICE'],
      };
    }),
  );
  assert.equal(statusField(status, 'CapBnd'), mask('CHOWN', 'KILL', 'NET_BIND_SERVICE', 'NET_RAW'));
  assert.equal(statusField(status, 'CapInh'), mask('KILL', 'NET_BIND_SERVICE'));
  assert.equal(statusField(status, 'CapAmb'), mask('NET_BIND_SERVICE'));
  assert.equal(statusField(status, 'CapPrm'), mask('NET_BIND_SERVICE'));
  assert.equal(statusField(status, 'CapEff'), mask('NET_BIND_SERVICE'));
});

test('user, groups and umask are set; noNewPrivileges shows in status', (t) => {
  const out = ok(
    runSh(t, 'grep -E "^(Uid|Gid|Groups|NoNewPrivs):" /proc/self/status; umask; touch /tmp/f; stat -c %a /tmp/f', (s) => {
      s.root!.readonly = false;
      s.process!.user = { uid: 1000, gid: 1001, additionalGids: [10, 20], umask: 0o027 };
      s.process!.noNewPrivileges = true;
      s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
    }),
  );
  assert.deepEqual(
    out.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()),
    ['Uid: 1000 1000 1000 1000', 'Gid: 1001 1001 1001 1001', 'Groups: 10 20', 'NoNewPrivs: 1', '0027', '640', ''],
  );
  const off = ok(
    runSh(t, 'grep NoNewPrivs /proc/self/status', (s) => {
      s.process!.noNewPrivileges = false;
    }),
  );
  assert.equal(off.replace(/\s+/g, ' ').trim(), 'NoNewPrivs: 0');
});

test('rlimits and oomScoreAdj are applied', (t) => {
  const out = ok(
    runSh(t, 'grep -E "^Max (open files|processes)" /proc/self/limits; cat /proc/self/oom_score_adj', (s) => {
      s.process!.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 123, hard: 456 },
        { type: 'RLIMIT_NPROC', soft: 1000, hard: 2000 },
      ];
      s.process!.oomScoreAdj = 321;
    }),
  );
  assert.deepEqual(
    out.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()),
    ['Max processes 1000 2000 processes', 'Max open files 123 456 files', '321', ''],
  );
});

test("sysctls are written in the container's namespaces", (t) => {
  const out = ok(
    runSh(t, 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax', (s) => {
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '65536' };
    }),
  );
  assert.equal(out, '1\n65536\n');
  // The host's values are untouched.
  assert.notEqual(execFileSync('cat', ['/proc/sys/kernel/shmmax'], { encoding: 'utf8' }), '65536\n');
  const host = runSh(t, 'true', (s) => {
    s.linux!.sysctl = { 'kernel.panic': '5' };
  });
  assert.equal(host.status, 1);
  assert.match(host.stderr, /sysctl "kernel.panic" is not in a separate kernel namespace/);
});

test("env and cwd are the process's", (t) => {
  const out = ok(
    runSh(t, 'pwd; echo "$FOO|$BAR"; env | grep -c .', (s) => {
      s.process!.cwd = '/var/work';
      s.process!.env = ['PATH=/bin', 'FOO=foo value', 'BAR=x=y'];
    }),
  );
  // sh adds PWD (and SHLVL); nothing of the runtime's environment is there.
  assert.match(out, /^\/var\/work\nfoo value\|x=y\n[3-5]\n$/);
  const env = ok(
    runSh(t, 'env', (s) => {
      s.process!.env = ['PATH=/bin', 'ONLY=1'];
    }),
  );
  assert.doesNotMatch(env, /BERTH|NODE|_BERTH_SYNC_FD/);
});

test("a user namespace maps the container's root to a host range", (t) => {
  const r = runSh(
    t,
    'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin/busybox; touch /proc/sys/kernel/x 2>/dev/null || echo denied',
    (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    },
  );
  const out = ok(r);
  const lines = out.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
  // The rootfs belongs to the host's root, unmapped here: it shows as the overflow uid.
  assert.deepEqual(lines, ['0 100000 65536', '0 100000 65536', '0', '65534', 'denied', '']);
  // From the host, the process ran as uid 100000: a file it made would be owned by it.
});

test('a user namespace process writes files as its mapped host uid', (t) => {
  const b = makeBundle(['sh', '-c', 'touch /out/made'], (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  t.after(() => b.cleanup());
  chmodSync(b.dir, 0o755);
  const out = join(b.dir, 'out');
  mkdirSync(out, { mode: 0o777 });
  execFileSync('chmod', ['0777', out]);
  // The mapped root may not write the host-owned rootfs: the mount point must exist (as with runc).
  mkdirSync(join(b.dir, 'rootfs/out'));
  b.spec.mounts!.push({ destination: '/out', type: 'bind', source: out, options: ['rbind'] });
  b.write();
  ok(runtime(b, ['run', '--bundle', b.dir, uniqueId('userns')]));
  const st = statSync(join(out, 'made'));
  assert.equal(st.uid, 100000);
  assert.equal(st.gid, 100000);
});

test('a network namespace is joined by path', (t) => {
  const name = uniqueId('berth-test-ns');
  execFileSync('ip', ['netns', 'add', name]);
  t.after(() => {
    spawnSync('ip', ['netns', 'del', name]);
  });
  const ino = statSync(`/run/netns/${name}`).ino;
  const out = ok(
    runSh(t, 'readlink /proc/self/ns/net; ip -o link show | cut -d: -f2', (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/run/netns/${name}` } : n));
    }),
  );
  assert.equal(out.split('\n')[0], `net:[${ino}]`);
  // The netns the test made has only its loopback.
  assert.deepEqual(
    out
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter(Boolean),
    ['lo'],
  );
});

test("another container's uts namespace is joined through /proc/PID/ns/uts", (t) => {
  const a = makeBundle(['sleep', '60'], (s) => {
    s.hostname = 'alpha';
  });
  t.after(() => a.cleanup());
  const idA = uniqueId('uts-a');
  const pidFile = join(a.dir, 'pid');
  ok(runtime(a, ['run', '-d', '--bundle', a.dir, '--pid-file', pidFile, idA]));
  const pid = JSON.parse(runtime(a, ['state', idA]).stdout).pid as number;
  const out = ok(
    runSh(t, 'hostname; readlink /proc/self/ns/uts', (s) => {
      delete s.hostname;
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'uts' ? { type: 'uts', path: `/proc/${pid}/ns/uts` } : n));
    }),
  );
  assert.equal(out.split('\n')[0], 'alpha');
  assert.equal(out.split('\n')[1], execFileSync('readlink', [`/proc/${pid}/ns/uts`], { encoding: 'utf8' }).trim());
  ok(runtime(a, ['kill', idA, 'KILL']));
  assert.ok(waitFor(() => JSON.parse(runtime(a, ['state', idA]).stdout).status === 'stopped'));
  ok(runtime(a, ['delete', idA]));
});

test('personality LINUX32 makes uname report i686', (t) => {
  const out = ok(
    runSh(t, 'uname -m', (s) => {
      s.linux!.personality = { domain: 'LINUX32' };
    }),
  );
  assert.equal(out, 'i686\n');
  assert.equal(ok(runSh(t, 'uname -m')), 'x86_64\n');
});

test("rootfsPropagation sets the propagation of the container's /", (t) => {
  const shared = mountinfo(
    ok(
      runSh(t, 'cat /proc/self/mountinfo', (s) => {
        s.linux!.rootfsPropagation = 'shared';
      }),
    ),
  ).get('/')!;
  assert.ok(
    shared.optional.some((o) => o.startsWith('shared:')),
    `/: ${shared.optional}`,
  );
  const priv = mountinfo(
    ok(
      runSh(t, 'cat /proc/self/mountinfo', (s) => {
        s.linux!.rootfsPropagation = 'rprivate';
      }),
    ),
  ).get('/')!;
  assert.deepEqual(priv.optional, []);
});

test("a cgroup namespace shows the container's cgroup as its root", (t) => {
  const out = ok(runSh(t, 'cat /proc/self/cgroup'));
  const lines = out.trim().split('\n');
  assert.ok(lines.length > 0);
  // Every hierarchy's path is "/" from inside: the host's /berth/<id> is hidden.
  for (const l of lines) assert.match(l, /^\d+:[^:]*:\/$/, l);
  const host = ok(
    runSh(t, 'cat /proc/self/cgroup', (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
    }),
  );
  assert.match(host, /:\/berth\/iso-/);
});

test('a time namespace applies its offsets', (t) => {
  const out = ok(
    runSh(t, 'cut -d. -f1 /proc/uptime', (s) => {
      s.linux!.namespaces!.push({ type: 'time' });
      s.linux!.timeOffsets = { monotonic: { secs: 86400 * 365 }, boottime: { secs: 86400 * 365 } };
    }),
  );
  const hostUptime = Number(execFileSync('cut', ['-d.', '-f1', '/proc/uptime'], { encoding: 'utf8' }));
  assert.ok(Number(out) >= hostUptime + 86400 * 365 - 5, `uptime ${out.trim()} vs host ${hostUptime}`);
});

test("an ipc namespace hides the host's shared memory; mqueue is mounted", (t) => {
  // A segment on the host, that the container must not see.
  const made = /(\d+)/.exec(execFileSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' }))![1];
  t.after(() => {
    spawnSync('ipcrm', ['-m', made]);
  });
  assert.ok(execFileSync('cat', ['/proc/sysvipc/shm'], { encoding: 'utf8' }).split('\n').length > 2);
  const out = ok(runSh(t, 'wc -l < /proc/sysvipc/shm; grep " /dev/mqueue " /proc/self/mountinfo | cut -d" " -f9'));
  assert.equal(out.replace(/ +/g, ''), '1\nmqueue\n');
});

test('--no-pivot runs the container with a moved root and chroot', (t) => {
  const b = makeBundle(['sh', '-c', 'ls /bin/busybox; cat /proc/self/mountinfo | wc -l']);
  t.after(() => b.cleanup());
  const r = runtime(b, ['run', '--no-pivot', '--bundle', b.dir, uniqueId('nopivot')]);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^\/bin\/busybox\n\d+\n$/);
});

test('bind copies one mount; rbind copies the mounts below it too', (t) => {
  const b0 = makeBundle(['true']);
  const outer = join(b0.dir, 'outer');
  mkdirSync(join(outer, 'inner'), { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'berth-test-inner', join(outer, 'inner')]);
  execFileSync('touch', [join(outer, 'inner', 'in-tmpfs')]);
  t.after(() => {
    spawnSync('umount', ['-l', join(outer, 'inner')]);
    b0.cleanup();
  });
  const out = ok(
    runSh(t, 'ls /b/inner; echo -; ls /rb/inner', (s) => {
      s.mounts!.push(
        { destination: '/b', type: 'bind', source: outer, options: ['bind'] },
        { destination: '/rb', type: 'bind', source: outer, options: ['rbind'] },
      );
    }),
  );
  assert.equal(out, '-\nin-tmpfs\n');
});

test("without user.umask the process gets 0022, not the umask of the runtime's caller", (t) => {
  const b = makeBundle(['sh', '-c', 'umask']);
  t.after(() => b.cleanup());
  const old = process.umask(0o077);
  let r: Result;
  try {
    r = runtime(b, ['run', '--bundle', b.dir, uniqueId('umask')]);
  } finally {
    process.umask(old);
  }
  assert.equal(ok(r), '0022\n');
});

test('a slave bind receives mounts the host makes later; a private one does not', (t) => {
  const b = makeBundle(['sleep', '60']);
  const shared = join(b.dir, 'shared');
  mkdirSync(shared);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'berth-test-shared', shared]);
  execFileSync('mount', ['--make-shared', shared]);
  mkdirSync(join(shared, 'sub'));
  t.after(() => {
    spawnSync('umount', ['-l', join(shared, 'sub')]);
    spawnSync('umount', ['-l', shared]);
    b.cleanup();
  });
  b.spec.mounts!.push(
    { destination: '/slave', type: 'bind', source: shared, options: ['rbind', 'rslave'] },
    { destination: '/priv', type: 'bind', source: shared, options: ['rbind', 'rprivate'] },
  );
  b.write();
  const id = uniqueId('prop');
  ok(runtime(b, ['run', '-d', '--bundle', b.dir, id]));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'berth-test-sub', join(shared, 'sub')]);
  execFileSync('touch', [join(shared, 'sub', 'later')]);
  assert.equal(ok(runtime(b, ['exec', id, 'sh', '-c', 'ls /slave/sub; echo -; ls /priv/sub'])), 'later\n-\n');
  // Nothing the container mounts goes back to the host.
  ok(runtime(b, ['exec', id, 'true']));
  assert.equal(spawnSync('grep', ['-c', `${b.dir}/rootfs`, '/proc/self/mountinfo'], { encoding: 'utf8' }).stdout.trim(), '0');
});
