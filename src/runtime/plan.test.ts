import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan, rootfsPath } from './plan.js';
import { Op, type Record_ } from './native/protocol.js';
import { defaultSpec } from './spec-template.js';
import type { Spec } from '../oci/runtime-spec.js';
import { BerthError } from '../errors.js';

function plan(edit?: (s: Spec) => void, extra: Partial<Parameters<typeof buildPlan>[0]> = {}): Record_[] {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  edit?.(spec);
  return buildPlan({ mode: 'create', foreground: false, spec, rootfs: '/b/rootfs', cgroupMount: () => [], ...extra });
}
const of = (records: Record_[], type: Op) => records.filter((r) => r.type === type).map((r) => r.fields);

test('namespaces without a path are cloned, those with one are joined', () => {
  const p = plan((s) => {
    delete s.hostname;
    s.linux!.namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: '/run/netns/x' }];
  });
  assert.deepEqual(of(p, Op.NsClone), [[String(0x20000000 | 0x00020000)]]);
  assert.deepEqual(of(p, Op.NsJoin), [[String(0x40000000), '/run/netns/x']]);
});

test('the plan starts with its mode and ends with its end record', () => {
  const p = plan();
  assert.deepEqual(p[0], { type: Op.Mode, fields: ['create', '0'] });
  assert.equal(p.at(-1)!.type, Op.End);
});

test('mount options become flags, propagation and data; bind mounts keep their source', () => {
  const p = plan((s) => {
    s.mounts = [
      { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro', 'nosuid', 'rprivate'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nodev', 'size=1m', 'mode=1777'] },
    ];
  });
  const mounts = of(p, Op.Mount);
  // MS_BIND|MS_REC|MS_RDONLY|MS_NOSUID, propagation MS_PRIVATE|MS_REC, bind kind
  assert.deepEqual(mounts[0], ['/srv/data', '/data', '', String(0x1000 | 0x4000 | 0x1 | 0x2), String(0x40000 | 0x4000), '', '1', '0', '0']);
  assert.deepEqual(mounts[1], ['tmpfs', '/tmp', 'tmpfs', String(0x4), '0', 'size=1m,mode=1777', '0', '0', '0']);
});

test('recursive options become the MOUNT_ATTR bits set and cleared on the whole tree; a later one wins', () => {
  const p = plan((s) => {
    s.mounts = [
      { destination: '/ro', type: 'bind', source: '/srv/ro', options: ['rbind', 'rro', 'rnosuid', 'rprivate'] },
      { destination: '/rw', type: 'bind', source: '/srv/rw', options: ['rbind', 'rro', 'rrw', 'rexec'] },
    ];
  });
  const [ro, rw] = of(p, Op.Mount);
  // No MS_RDONLY: "rro" is not "ro"; MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID set below.
  assert.deepEqual(ro.slice(3), [String(0x1000 | 0x4000), String(0x40000 | 0x4000), '', '1', String(0x1 | 0x2), '0']);
  assert.deepEqual(rw.slice(7), ['0', String(0x1 | 0x8)]);
  assert.throws(
    () => plan((s) => void (s.mounts = [{ destination: '/a', type: 'bind', source: '/a', options: ['rbind', 'rnoatime'] }])),
    /mount option "rnoatime" is not supported by berth-runtime/,
  );
});

test('default devices and /dev symlinks are planned unless /dev is a bind mount', () => {
  const devices = of(plan(), Op.Device).map((f) => f[0]);
  assert.deepEqual(devices, ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
  assert.ok(of(plan(), Op.Symlink).some(([t, l]) => t === 'pts/ptmx' && l === '/dev/ptmx'));
  const bound = plan((s) => {
    s.mounts = [{ destination: '/dev', source: '/dev', options: ['rbind'] }];
  });
  assert.deepEqual(of(bound, Op.Device), []);
});

test('a config device replaces a default one at the same path', () => {
  const p = plan((s) => {
    s.linux!.devices = [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 5, gid: 6 }];
  });
  assert.deepEqual(
    of(p, Op.Device).find((f) => f[0] === '/dev/null'),
    ['/dev/null', 'c', '1', '3', String(0o600), '5', '6'],
  );
});

test('capabilities become five hex masks', () => {
  const p = plan((s) => {
    s.process!.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_KILL'], ambient: [] };
  });
  assert.deepEqual(of(p, Op.Caps), [[(1 | 32).toString(16), '20', '0', '0', '0']]);
});

test('rlimits are numbered and unlimited values are u64 max', () => {
  const p = plan((s) => {
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: -1 }];
  });
  assert.deepEqual(of(p, Op.Rlimit), [['7', '10', '18446744073709551615']]);
});

test('user, umask, cwd, env and args are carried as given', () => {
  const p = plan((s) => {
    s.process!.user = { uid: 1000, gid: 100, umask: 0o027, additionalGids: [5, 6] };
    s.process!.cwd = '/work';
    s.process!.env = ['A=1'];
    s.process!.args = ['sh', '-c', 'x y'];
  });
  assert.deepEqual(of(p, Op.User), [['1000', '100', '5,6']]);
  assert.deepEqual(of(p, Op.Umask), [['27']]);
  assert.deepEqual(of(p, Op.Cwd), [['/work']]);
  assert.deepEqual(of(p, Op.Env), [['A=1']]);
  assert.deepEqual(of(p, Op.Arg), [['sh'], ['-c'], ['x y']]);
});

test('hooks run inside the container are planned with their args, env and timeout', () => {
  const p = plan((s) => {
    s.hooks = { createContainer: [{ path: '/bin/h', args: ['h', '1'], env: ['X=y'], timeout: 3 }], startContainer: [{ path: '/bin/s' }] };
  });
  assert.deepEqual(of(p, Op.Hook), [
    ['1', '/bin/h', '3', 'a:h', 'a:1', 'e:X=y'],
    ['2', '/bin/s', '0'],
  ]);
});

test('a new user namespace carries its id maps', () => {
  const p = plan((s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  assert.deepEqual(of(p, Op.UidMap), [['0 100000 65536\n']]);
});

test('exec mode joins the given namespaces and plans no root file system', () => {
  const p = plan(undefined, { mode: 'exec', foreground: true, join: [{ type: 'pid', path: '/proc/9/ns/pid' }] });
  assert.deepEqual(of(p, Op.NsJoin), [[String(0x20000000), '/proc/9/ns/pid']]);
  assert.deepEqual(of(p, Op.Rootfs), []);
  assert.deepEqual(of(p, Op.Mount), []);
});

/** A spec that shares the caller's mount namespace, with what that allows. */
function noMountNs(s: Spec): void {
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
  delete s.linux!.maskedPaths;
  delete s.linux!.readonlyPaths;
  s.root!.readonly = false;
}

test("with no mount namespace the container is planned in the caller's, and --no-pivot is refused", () => {
  const p = plan(noMountNs);
  assert.equal(Number(of(p, Op.NsClone)[0][0]) & 0x00020000, 0);
  assert.ok(of(p, Op.Mount).length > 0);
  assert.throws(() => plan(noMountNs, { noPivot: true }), /--no-pivot needs a mount namespace/);
});

test('a uts namespace joined by path takes the hostname', () => {
  const p = plan((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'uts' ? { type: 'uts', path: '/proc/9/ns/uts' } : n));
  });
  assert.deepEqual(of(p, Op.Hostname), [['berth']]);
});

test('an unknown capability is left out with a warning, as runc', () => {
  const warnings: string[] = [];
  const p = plan(
    (s) => {
      s.process!.capabilities = { bounding: ['CAP_NOPE', 'CAP_KILL', 'CAP_ZAP'], effective: ['CAP_NOPE'] };
    },
    { warn: (m) => warnings.push(m) },
  );
  assert.deepEqual(of(p, Op.Caps), [[(32).toString(16), '0', '0', '0', '0']]);
  assert.deepEqual(warnings, ['ignoring unknown or unavailable capabilities: [CAP_NOPE CAP_ZAP]']);
});

const rejects: [string, (s: Spec) => void, RegExp][] = [
  [
    "an unknown rlimit, in runc's words",
    (s) => {
      s.process!.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }];
    },
    /^wrong rlimit value: RLIMIT_NOPE$/,
  ],
  [
    'rlimits that are not an array',
    (s) => {
      (s.process as { rlimits: unknown }).rlimits = { a: 1 };
    },
    /^process.rlimits must be an array$/,
  ],
  [
    'an rlimit without a type',
    (s) => {
      (s.process as { rlimits: unknown }).rlimits = [null];
    },
    /^process.rlimits: null needs a type that is a string$/,
  ],
  [
    'a capability set that is not an array of strings',
    (s) => {
      (s.process!.capabilities as { bounding: unknown }).bounding = 'CAP_KILL';
    },
    /^process.capabilities.bounding must be an array of strings$/,
  ],
  [
    'an rlimit that is not an integer',
    (s) => {
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1.5, hard: 2 }];
    },
    /must be integers/,
  ],
  [
    'a relative mount destination',
    (s) => {
      s.mounts = [{ destination: 'tmp', type: 'tmpfs' }];
    },
    /is not absolute/,
  ],
  [
    'an idmapped mount option',
    (s) => {
      s.mounts = [{ destination: '/x', source: '/y', options: ['rbind', 'idmap'] }];
    },
    /not supported/,
  ],
  [
    'a sysctl outside any namespace',
    (s) => {
      s.linux!.sysctl = { 'vm.swappiness': '1' };
    },
    /not in a separate kernel namespace/,
  ],
  [
    'a net sysctl without a network namespace',
    (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    },
    /without a network namespace/,
  ],
  [
    'a hostname without a uts namespace',
    (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts');
    },
    /^unable to set hostname without a private UTS namespace$/,
  ],
  [
    'masked paths without a mount namespace',
    (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    },
    /^unable to restrict sys entries without a private MNT namespace$/,
  ],
  [
    'a read-only root without a mount namespace',
    (s) => {
      noMountNs(s);
      s.root!.readonly = true;
    },
    /read-only root needs a mount namespace/,
  ],
  [
    'rootfsPropagation without a mount namespace',
    (s) => {
      noMountNs(s);
      s.linux!.rootfsPropagation = 'rshared';
    },
    /rootfsPropagation needs a mount namespace/,
  ],
  [
    'a namespace given twice',
    (s) => {
      s.linux!.namespaces!.push({ type: 'pid' });
    },
    /given twice/,
  ],
  [
    'an apparmor profile',
    (s) => {
      s.process!.apparmorProfile = 'x';
    },
    /apparmor/,
  ],
  [
    'empty args',
    (s) => {
      s.process!.args = [];
    },
    /must not be empty/,
  ],
  [
    'a user namespace without maps',
    (s) => {
      s.linux!.namespaces!.push({ type: 'user' });
    },
    /needs uidMappings/,
  ],
  [
    'personality flags',
    (s) => {
      s.linux!.personality = { domain: 'LINUX', flags: ['x'] };
    },
    /personality flags/,
  ],
];
for (const [what, edit, message] of rejects) {
  test(`the plan refuses ${what}`, () => {
    assert.throws(
      () => plan(edit),
      (e: unknown) => e instanceof BerthError && message.test(e.message),
    );
  });
}

test('rootfsPath resolves root.path against the bundle', () => {
  assert.equal(rootfsPath('/b', { ociVersion: '1.2.0', root: { path: 'rootfs' } }), '/b/rootfs');
  assert.equal(rootfsPath('/b', { ociVersion: '1.2.0', root: { path: '/abs' } }), '/abs');
});
