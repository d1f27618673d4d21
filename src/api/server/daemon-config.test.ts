import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_HOST, loadConfig, socketGid } from './daemon-config.js';

function withDir(fn: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-daemon-config-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('defaults, flags, and a missing default file', () => {
  const c = loadConfig([]);
  assert.equal(c.hosts[0], DEFAULT_HOST);
  assert.equal(c.logLevel, 'info');
  const f = loadConfig([
    '-H',
    'tcp://127.0.0.1:2375',
    '--host=/x.sock',
    '-D',
    '--data-root',
    '/d',
    '--registry-mirror',
    'http://m',
    '-G',
    'wheel',
  ]);
  assert.deepEqual(f.hosts, ['tcp://127.0.0.1:2375', 'unix:///x.sock']);
  assert.equal(f.logLevel, 'debug');
  assert.equal(f.dataRoot, '/d');
  assert.deepEqual(f.registryMirrors, ['http://m']);
  assert.equal(f.group, 'wheel');
  assert.equal(f.bip, undefined);
  assert.equal(loadConfig(['--bip', '10.99.0.1/24']).bip, '10.99.0.1/24');
  assert.throws(() => loadConfig(['--bogus']), ConfigError);
  assert.throws(() => loadConfig(['-l', 'loud']), /unknown log level "loud"/);
});

test('daemon.json: the keys that apply, others to warn about, types checked, conflicts with flags refused', () =>
  withDir((dir) => {
    const file = join(dir, 'daemon.json');
    writeFileSync(
      file,
      JSON.stringify({
        'data-root': '/data',
        'exec-root': '/exec',
        hosts: ['unix:///a.sock'],
        'insecure-registries': ['r:5000'],
        'registry-mirrors': ['http://m'],
        'log-level': 'warn',
        group: 'docker',
        'storage-driver': 'overlay2',
        'live-restore': true,
      }),
    );
    const c = loadConfig(['--config-file', file]);
    assert.equal(c.dataRoot, '/data');
    assert.equal(c.execRoot, '/exec');
    assert.deepEqual(c.hosts, ['unix:///a.sock']);
    assert.deepEqual(c.insecureRegistries, ['r:5000']);
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.group, 'docker');
    // What berthd always does may be said; anything else it does not apply refuses the start.
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ 'storage-driver': 'devicemapper', 'default-ulimits': {}, 'userland-proxy': false }));
    assert.throws(() => loadConfig(['--config-file', other]), {
      message: `unable to configure the daemon with file ${other}: the following directives are not applied by berthd: storage-driver (berthd always runs as with "overlay2"), default-ulimits`,
    });
    assert.throws(
      () => loadConfig(['--config-file', file, '--data-root', '/other']),
      /the following directives are specified both as a flag and in the configuration file: data-root: \(from flag: \/other, from file: \/data\)/,
    );
    assert.throws(
      () => loadConfig(['--config-file', file, '-H', 'unix:///b.sock']),
      /hosts: \(from flag: \[unix:\/\/\/b\.sock\], from file: \[unix:\/\/\/a\.sock\]\)/,
    );
    writeFileSync(file, '{"debug": true}');
    assert.equal(loadConfig(['--config-file', file]).logLevel, 'debug');
    writeFileSync(file, '{"hosts": "unix:///a.sock"}');
    assert.throws(() => loadConfig(['--config-file', file]), /hosts must be a list of strings/);
    writeFileSync(file, '{bad');
    assert.throws(() => loadConfig(['--config-file', file]), /unable to configure the daemon with file/);
    assert.throws(() => loadConfig(['--config-file', join(dir, 'missing.json')]), /no such file or directory/);
  }));

test('the socket group: a number, a name, docker by default where it exists, else root', () =>
  withDir((dir) => {
    const groups = join(dir, 'group');
    writeFileSync(groups, 'root:x:0:\nwheel:x:10:\ndocker:x:106:\n');
    assert.equal(socketGid('42', groups), 42);
    assert.equal(socketGid('wheel', groups), 10);
    assert.equal(socketGid(undefined, groups), 106);
    writeFileSync(groups, 'root:x:0:\n');
    assert.equal(socketGid(undefined, groups), 0);
    assert.throws(() => socketGid('nobodyhere', groups), /group nobodyhere not found/);
  }));

test('runtimes: daemon.json runtimes and --add-runtime, default-runtime, dockerd words for the bad ones', () =>
  withDir((dir) => {
    const file = join(dir, 'daemon.json');
    const load = (json: unknown, flags: string[] = []) => {
      writeFileSync(file, JSON.stringify(json));
      return loadConfig(['--config-file', file, ...flags]);
    };
    const ok = load({ runtimes: { crun: { path: '/usr/bin/crun', runtimeArgs: ['--debug'] } }, 'default-runtime': 'crun' });
    assert.deepEqual(ok.runtimes, { crun: { path: '/usr/bin/crun', runtimeArgs: ['--debug'] } });
    assert.equal(ok.defaultRuntime, 'crun');
    const flags = load({}, ['--add-runtime', 'a=/bin/a', '--add-runtime=b = b-runtime', '--default-runtime', 'berth']);
    assert.deepEqual(flags.runtimes, { a: { path: '/bin/a' }, b: { path: 'b-runtime' } });
    assert.equal(flags.defaultRuntime, 'berth');
    assert.deepEqual(load({}).runtimes, {});
    const refused = (json: unknown, flags: string[], words: RegExp) =>
      assert.throws(
        () => load(json, flags),
        (e: Error) => e instanceof ConfigError && words.test(e.message),
      );
    refused({}, ['--add-runtime', 'nopath'], /invalid runtime argument: nopath/);
    refused({}, ['--add-runtime', 'x='], /invalid runtime argument: x=/);
    refused({}, ['--add-runtime', 'runc=/usr/sbin/runc'], /runtime name 'runc' is reserved/);
    refused({}, ['--add-runtime', 'a=/x', '--add-runtime', 'a=/y'], /runtime 'a' was already defined/);
    refused({ runtimes: { berth: { path: '/x' } } }, [], /runtime name 'berth' is reserved/);
    refused({ runtimes: { x: { path: '/x', options: {} } } }, [], /does not apply options/);
    refused({ runtimes: { x: {} } }, [], /path must be a non-empty string/);
    refused({ runtimes: { x: { path: '/x', runtimeArgs: [1] } } }, [], /runtimeArgs must be a list of strings/);
    refused({ runtimes: [] }, [], /runtimes: must be an object/);
    refused({ 'default-runtime': 'nosuch' }, [], /specified default runtime 'nosuch' does not exist/);
    refused(
      { runtimes: { x: { path: '/x' } } },
      ['--add-runtime', 'y=/y'],
      /specified both as a flag and in the configuration file: runtimes/,
    );
  }));

test('the CRI socket: under the exec root by default, moved or turned off by flag or file, absolute only', () => {
  withDir((dir) => {
    const file = join(dir, 'daemon.json');
    writeFileSync(file, '{}');
    const base = ['--config-file', file];
    assert.equal(loadConfig(base).criSocket, '/run/berth/cri.sock');
    assert.equal(loadConfig([...base, '--exec-root', '/r']).criSocket, '/r/cri.sock');
    assert.equal(loadConfig([...base, '--cri-socket=']).criSocket, '');
    assert.equal(loadConfig(base).cniConfDir, '/etc/cni/net.d');
    writeFileSync(file, JSON.stringify({ 'cri-socket': '/x/cri.sock', 'cni-conf-dir': '/c' }));
    assert.equal(loadConfig(base).criSocket, '/x/cri.sock');
    assert.equal(loadConfig(base).cniConfDir, '/c');
    assert.throws(() => loadConfig([...base, '--cri-socket', '/y']), /specified both as a flag and in the configuration file/);
    writeFileSync(file, JSON.stringify({ 'cri-socket': 'rel.sock' }));
    assert.throws(
      () => loadConfig(base),
      (e) => e instanceof ConfigError && /must be an absolute path/.test(e.message),
    );
  });
});

test("IPv6: ip6tables on unless false (dockerd 28), the default bridge's ipv6, its fixed-cidr-v6 checked in dockerd's words", () =>
  withDir((dir) => {
    const file = join(dir, 'daemon.json');
    const load = (json: object, flags: string[] = []) => {
      writeFileSync(file, JSON.stringify(json));
      return loadConfig(['--config-file', file, ...flags]);
    };
    const c = load({});
    assert.equal(c.ip6tables, true);
    assert.equal(c.fixedCidrV6, undefined);
    assert.equal(load({ ipv6: false, 'fixed-cidr-v6': '', ip6tables: false }).fixedCidrV6, undefined);
    assert.equal(load({ ip6tables: false }).ip6tables, false);
    assert.equal(load({}, ['--ip6tables=false']).ip6tables, false);
    assert.equal(load({}, ['--ip6tables']).ip6tables, true);
    assert.equal(load({ ipv6: true, 'fixed-cidr-v6': 'fd42:b3:1::/64' }).fixedCidrV6, 'fd42:b3:1::/64');
    assert.equal(load({}, ['--ipv6', '--fixed-cidr-v6', 'fd42:b3:1::/64']).fixedCidrV6, 'fd42:b3:1::/64');
    // Checked but unused without ipv6, as dockerd.
    assert.equal(load({ 'fixed-cidr-v6': 'fd42:b3:1::/64' }).fixedCidrV6, undefined);
    // ipv6 alone: the default bridge's subnet comes from the host's ULA pool, as dockerd 27 and later.
    assert.deepEqual([load({ ipv6: true }).ipv6, load({ ipv6: true }).fixedCidrV6], [true, undefined]);
    assert.equal(load({}, ['--ipv6']).ipv6, true);
    assert.equal(c.ipv6, false);
    assert.throws(() => load({ ip6tables: 'yes' }), {
      message: `unable to configure the daemon with file ${file}: ip6tables must be a boolean`,
    });
    assert.throws(() => load({}, ['--ip6tables=yes']), {
      message: 'invalid argument "yes" for "--ip6tables" flag: strconv.ParseBool: parsing "yes": invalid syntax',
    });
    for (const [cidr, why] of [
      ['fd00::', `netip.ParsePrefix("fd00::"): no '/'`],
      ['fd00::/129', 'netip.ParsePrefix("fd00::/129"): prefix length out of range'],
      ['fd00::/x', 'netip.ParsePrefix("fd00::/x"): bad bits after slash: "x"'],
      ['10.0.0.0/8', "'10.0.0.0/8' is not a valid IPv6 subnet"],
      ['ff00::/64', "multicast subnet 'ff00::/64' is not allowed"],
      ['fe80::/10', "'fe80::/10' clashes with the Link-Local prefix 'fe80::/64'"],
      ['fe80::1:0:0:0/80', "'fe80::1:0:0:0/80' clashes with the Link-Local prefix 'fe80::/64'"],
    ])
      assert.throws(() => load({ ipv6: true, 'fixed-cidr-v6': cidr }), { message: `invalid fixed-cidr-v6: ${why}` }, cidr);
    // fe80::/64 itself is dockerd's link-local prefix, which it allows.
    assert.equal(load({ ipv6: true, 'fixed-cidr-v6': 'fe80::/64' }).fixedCidrV6, 'fe80::/64');
    assert.throws(() => load({ ip6tables: false }, ['--ip6tables']), /specified both as a flag and in the configuration file: ip6tables/);
    assert.throws(
      () => loadConfig(['--ipv6', '--fixed-cidr-v6', 'fd00:1::/64'], { uid: 1000, env: { HOME: dir } }),
      /^Error: ipv6: a rootless berthd/,
    );
  }));

test("a rootless berthd's defaults are its user's folders; a socket group and userns-remap are refused", () => {
  const env = { HOME: '/home/u' };
  const c = loadConfig([], { uid: 1234, env });
  assert.equal(c.rootless, true);
  assert.equal(c.dataRoot, '/home/u/.local/share/berth');
  assert.equal(c.execRoot, '/tmp/berth-1234/berth');
  assert.deepEqual(c.hosts, ['unix:///tmp/berth-1234/berth/berth.sock']);
  assert.equal(c.criSocket, '');
  const x = loadConfig([], { uid: 1234, env: { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1234', XDG_DATA_HOME: '/d' } });
  assert.deepEqual([x.execRoot, x.dataRoot, x.hosts[0]], ['/run/user/1234/berth', '/d/berth', 'unix:///run/user/1234/berth/berth.sock']);
  assert.throws(() => loadConfig(['-G', 'docker'], { uid: 1234, env }), /group: a rootless berthd's socket belongs to its user alone/);
  assert.throws(
    () => loadConfig(['--userns-remap', 'default'], { uid: 1234, env }),
    /userns-remap: a rootless berthd already runs in a user namespace/,
  );
  // Its daemon.json is the user's (~/.config/berth), not /etc/berth's.
  withDir((dir) => {
    mkdirSync(join(dir, 'berth'));
    writeFileSync(join(dir, 'berth', 'daemon.json'), '{"data-root": "/elsewhere"}');
    assert.equal(loadConfig([], { uid: 1, env: { HOME: '/home/u', XDG_CONFIG_HOME: dir } }).dataRoot, '/elsewhere');
  });
});

test('the realtime budget of the parent cgroups: --cpu-rt-period, --cpu-rt-runtime and their daemon.json keys, integers', () => {
  assert.deepEqual([loadConfig([]).cpuRtPeriod, loadConfig([]).cpuRtRuntime], [0, 0]);
  const f = loadConfig(['--cpu-rt-period', '1000000', '--cpu-rt-runtime=95000']);
  assert.deepEqual([f.cpuRtPeriod, f.cpuRtRuntime], [1000000, 95000]);
  assert.throws(() => loadConfig(['--cpu-rt-runtime', 'abc']), {
    message: 'invalid argument "abc" for "--cpu-rt-runtime" flag: strconv.ParseInt: parsing "abc": invalid syntax',
  });
  withDir((dir) => {
    const file = join(dir, 'daemon.json');
    writeFileSync(file, JSON.stringify({ 'cpu-rt-period': 1000000, 'cpu-rt-runtime': 95000 }));
    const c = loadConfig(['--config-file', file]);
    assert.deepEqual([c.cpuRtPeriod, c.cpuRtRuntime], [1000000, 95000]);
    writeFileSync(file, JSON.stringify({ 'cpu-rt-runtime': '95000' }));
    assert.throws(() => loadConfig(['--config-file', file]), { message: /cpu-rt-runtime must be an integer$/ });
    writeFileSync(file, JSON.stringify({ 'cpu-rt-runtime': 95000 }));
    assert.throws(() => loadConfig(['--config-file', file, '--cpu-rt-runtime', '1']), ConfigError);
    assert.throws(
      () => loadConfig(['--cpu-rt-runtime', '1'], { uid: 1234, env: { HOME: dir } }),
      /a rootless berthd cannot give a realtime budget/,
    );
  });
});
