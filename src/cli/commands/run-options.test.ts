import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError } from '../args.js';
import { createBody, parseCreate, volumes } from './run-options.js';
import { CREATE_FLAGS, RUN_ONLY } from './run-flags.js';

const body = (...argv: string[]) => {
  const { flags, image, cmd } = parseCreate('run', argv);
  return createBody(flags, image, cmd, false) as {
    Labels: Record<string, string>;
    ExposedPorts?: object;
    HostConfig: Record<string, any>;
    [k: string]: any;
  };
};

test('-p and --expose: ExposedPorts and PortBindings as the docker CLI sends them, ranges port by port', () => {
  const b = body('-p', '8080:80', '-p', '127.0.0.1:9000:9000/udp', '-p', '127.0.0.1::53', '-p', '443', '--expose', '7000-7001', 'img');
  assert.deepEqual(b.ExposedPorts, { '7000/tcp': {}, '7001/tcp': {}, '80/tcp': {}, '9000/udp': {}, '53/tcp': {}, '443/tcp': {} });
  assert.deepEqual(b.HostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '9000/udp': [{ HostIp: '127.0.0.1', HostPort: '9000' }],
    '53/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '443/tcp': [{ HostIp: '', HostPort: '' }],
  });
  assert.deepEqual(body('-p', '8098-8099:80-81', 'img').HostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8098' }],
    '81/tcp': [{ HostIp: '', HostPort: '8099' }],
  });
  assert.deepEqual(body('-p', '[::1]:8000-8010:80', 'img').HostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '::1', HostPort: '8000-8010' }],
  });
  assert.deepEqual(body('-p', '90-91', 'img').HostConfig.PortBindings, {
    '90/tcp': [{ HostIp: '', HostPort: '' }],
    '91/tcp': [{ HostIp: '', HostPort: '' }],
  });
  assert.equal(body('-P', 'img').HostConfig.PublishAllPorts, true);
  assert.throws(() => body('-p', '1:2:3:4', 'img'), /^BerthError: invalid IP address: 1:2$/);
  assert.throws(() => body('-p', 'x', 'img'), /invalid containerPort: x/);
  assert.throws(() => body('-p', '80-81:90-92', 'img'), /invalid ranges specified for container and host Ports: 90-92 and 80-81/);
  assert.throws(
    () => body('--expose', 'x', 'img'),
    /invalid range format for --expose: x, error: strconv.ParseUint: parsing "x": invalid syntax/,
  );
});

test('-v: a path (./rel made absolute from here, /abs) is a bind, a name a volume, a lone path an anonymous volume', () => {
  const v = volumes({ volume: ['./rel:/x', '/abs:/y:ro', 'named:/z', '/anon', '../up:/u'] }, '/home/me');
  assert.deepEqual(v, { Binds: ['/home/me/rel:/x', '/abs:/y:ro', 'named:/z', '/home/up:/u'], Volumes: { '/anon': {} } });
  const b = body('-v', '/anon', 'img');
  assert.deepEqual(b.Volumes, { '/anon': {} });
  assert.equal(b.HostConfig.Binds, undefined);
});

test('labels and log options go in key order (as Go sends a map); the command and image split at the first operand', () => {
  const b = body('-l', 'z=1', '-l', 'a', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', 'img', 'sh', '-l');
  assert.deepEqual(Object.keys(b.Labels), ['a', 'z']);
  assert.deepEqual(b.Labels, { a: '', z: '1' });
  assert.deepEqual(Object.keys(b.HostConfig.LogConfig.Config), ['max-file', 'max-size']);
  assert.equal(b.Image, 'img');
  assert.deepEqual(b.Cmd, ['sh', '-l']);
  assert.throws(() => body('--rm', '--restart', 'always', 'img'), /cannot specify both --restart and --rm/);
  assert.throws(() => body('--log-opt', 'nokey', 'img'), /invalid key value pair/);
  assert.throws(() => parseCreate('create', ['--rm']), /'berth create' requires at least 1 argument/);
});

test("bad values are refused while parsing, in docker's words", () => {
  const refused = (args: string[], msg: string) =>
    assert.throws(
      () => body(...args, 'img'),
      (e: unknown) => e instanceof FlagError && e.message === msg,
      args.join(' '),
    );
  refused(['--cpus', 'abc'], 'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number');
  refused(['--cpus', '1e-10'], 'invalid argument "1e-10" for "--cpus" flag: value is too precise');
  refused(['--pids-limit', 'abc'], 'invalid argument "abc" for "--pids-limit" flag: strconv.ParseInt: parsing "abc": invalid syntax');
  refused(['--add-host', 'bad'], 'invalid argument "bad" for "--add-host" flag: bad format for add-host: "bad"');
  refused(['--add-host', 'a:bad'], 'invalid argument "a:bad" for "--add-host" flag: invalid IP address in add-host: "bad"');
  refused(['-m', 'abc'], 'invalid argument "abc" for "-m, --memory" flag: invalid size: \'abc\'');
  refused(['-m', '10x'], 'invalid argument "10x" for "-m, --memory" flag: invalid suffix: \'x\'');
  refused(['-e', '=x'], 'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x');
  refused(
    ['--ulimit', 'nofile=2:1'],
    'invalid argument "nofile=2:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1',
  );
  refused(['--sysctl', 'a=1'], 'invalid argument "a=1" for "--sysctl" flag: sysctl \'a=1\' is not allowed');
  refused(['--init=x'], 'invalid argument "x" for "--init" flag: strconv.ParseBool: parsing "x": invalid syntax');
  refused(['--pid', 'x'], 'invalid argument "x" for "--pid" flag: --pid: invalid PID mode');
  refused(
    ['--pull', 'x'],
    'invalid argument "x" for "--pull" flag: invalid pull option: \'x\': must be one of "always", "missing" or "never"',
  );
  refused(['--nope'], 'unknown flag: --nope');
  assert.throws(
    () => parseCreate('run', ['--name']),
    (e: unknown) => e instanceof FlagError && e.message === 'flag needs an argument: --name',
  );
});

test('the flags docker 28 has beyond the basics reach the body', () => {
  const b = body(
    '--add-host',
    'gw:host-gateway',
    '--add-host',
    'h=10.0.0.1',
    '--annotation',
    'a=b',
    '--blkio-weight',
    '300',
    '--blkio-weight-device',
    '/dev/sda:200',
    '--cgroup-parent',
    'p',
    '--cgroupns',
    'host',
    '--cpu-rt-period',
    '1000',
    '--cpu-rt-runtime',
    '900',
    '--cpus',
    '1/2',
    '--device',
    '/dev/null:/dev/xnull:r',
    '--device-cgroup-rule',
    'c 1:3 mr',
    '--device-read-bps',
    '/dev/sda:1mb',
    '--device-write-iops',
    '/dev/sda:100',
    '--domainname',
    'example.org',
    '--gpus',
    'all',
    '--group-add',
    '10',
    '--ip6',
    '2001:db8::33',
    '--ipc',
    'host',
    '--isolation',
    'default',
    '--kernel-memory',
    '4m',
    '--link',
    'other:alias',
    '--link-local-ip',
    '169.254.1.1',
    '--memory-swappiness',
    '10',
    '--oom-kill-disable',
    '--oom-score-adj',
    '100',
    '--pid',
    'host',
    '--runtime',
    'runc',
    '--shm-size',
    '128m',
    '--storage-opt',
    'size=1G',
    '--sysctl',
    'net.ipv4.ip_forward=1',
    '--ulimit',
    'nofile=1024:2048',
    '--userns',
    'host',
    '--uts',
    'host',
    '--volume-driver',
    'local',
    '-a',
    'stdout',
    'img',
  );
  const h = b.HostConfig;
  assert.deepEqual(h.ExtraHosts, ['gw:host-gateway', 'h:10.0.0.1']);
  assert.deepEqual(h.Annotations, { a: 'b' });
  assert.equal(h.BlkioWeight, 300);
  assert.deepEqual(h.BlkioWeightDevice, [{ Path: '/dev/sda', Weight: 200 }]);
  assert.deepEqual([h.CgroupParent, h.CgroupnsMode, h.CpuRealtimePeriod, h.CpuRealtimeRuntime, h.NanoCpus], ['p', 'host', 1000, 900, 5e8]);
  assert.deepEqual(h.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'r' }]);
  assert.deepEqual(h.DeviceCgroupRules, ['c 1:3 mr']);
  assert.deepEqual(h.BlkioDeviceReadBps, [{ Path: '/dev/sda', Rate: 1 << 20 }]);
  assert.deepEqual(h.BlkioDeviceWriteIOps, [{ Path: '/dev/sda', Rate: 100 }]);
  assert.equal(b.Domainname, 'example.org');
  assert.deepEqual(h.DeviceRequests, [{ Driver: '', Count: -1, DeviceIDs: null, Capabilities: [['gpu']], Options: {} }]);
  assert.deepEqual(h.GroupAdd, ['10']);
  assert.deepEqual(b.NetworkingConfig.EndpointsConfig.default.IPAMConfig, {
    IPv4Address: undefined,
    IPv6Address: '2001:db8::33',
    LinkLocalIPs: ['169.254.1.1'],
  });
  assert.deepEqual(
    [h.IpcMode, h.Isolation, h.KernelMemory, h.MemorySwappiness, h.OomKillDisable, h.OomScoreAdj, h.PidMode, h.Runtime, h.ShmSize],
    ['host', 'default', 4 << 20, 10, true, 100, 'host', 'runc', 128 << 20],
  );
  assert.deepEqual(h.Links, ['other:alias']);
  assert.deepEqual(h.StorageOpt, { size: '1G' });
  assert.deepEqual(h.Sysctls, { 'net.ipv4.ip_forward': '1' });
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.deepEqual([h.UsernsMode, h.UTSMode, h.VolumeDriver], ['host', 'host', 'local']);
  assert.deepEqual([b.AttachStdin, b.AttachStdout, b.AttachStderr], [false, true, false]);
  assert.equal(body('img').HostConfig.MemorySwappiness, undefined);
});

test('flags berth does not carry out are refused, never ignored', () => {
  assert.throws(() => body('--use-api-socket', 'img'), /--use-api-socket is not supported by berth/);
  assert.throws(() => body('--disable-content-trust=false', 'img'), /does not verify image signatures/);
  const { flags, image, cmd } = parseCreate('run', ['-d', '-a', 'stdout', 'img']);
  assert.throws(() => createBody(flags, image, cmd, true), /cannot specify both --attach and --detach/);
});

test("every flag of docker 28's run has a description", () => {
  const docker28 = [
    'add-host',
    'annotation',
    'attach',
    'blkio-weight',
    'blkio-weight-device',
    'cap-add',
    'cap-drop',
    'cgroup-parent',
    'cgroupns',
    'cidfile',
    'cpu-count',
    'cpu-percent',
    'cpu-period',
    'cpu-quota',
    'cpu-rt-period',
    'cpu-rt-runtime',
    'cpu-shares',
    'cpus',
    'cpuset-cpus',
    'cpuset-mems',
    'detach',
    'detach-keys',
    'device',
    'device-cgroup-rule',
    'device-read-bps',
    'device-read-iops',
    'device-write-bps',
    'device-write-iops',
    'disable-content-trust',
    'dns',
    'dns-option',
    'dns-search',
    'domainname',
    'entrypoint',
    'env',
    'env-file',
    'expose',
    'gpus',
    'group-add',
    'health-cmd',
    'health-interval',
    'health-retries',
    'health-start-interval',
    'health-start-period',
    'health-timeout',
    'hostname',
    'init',
    'interactive',
    'io-maxbandwidth',
    'io-maxiops',
    'ip',
    'ip6',
    'ipc',
    'isolation',
    'kernel-memory',
    'label',
    'label-file',
    'link',
    'link-local-ip',
    'log-driver',
    'log-opt',
    'mac-address',
    'memory',
    'memory-reservation',
    'memory-swap',
    'memory-swappiness',
    'mount',
    'name',
    'network',
    'network-alias',
    'no-healthcheck',
    'oom-kill-disable',
    'oom-score-adj',
    'pid',
    'pids-limit',
    'platform',
    'privileged',
    'publish',
    'publish-all',
    'pull',
    'quiet',
    'read-only',
    'restart',
    'rm',
    'runtime',
    'security-opt',
    'shm-size',
    'sig-proxy',
    'stop-signal',
    'stop-timeout',
    'storage-opt',
    'sysctl',
    'tmpfs',
    'tty',
    'ulimit',
    'use-api-socket',
    'user',
    'userns',
    'uts',
    'volume',
    'volume-driver',
    'volumes-from',
    'workdir',
  ];
  const ours: Record<string, { desc?: string }> = { ...CREATE_FLAGS, ...RUN_ONLY };
  for (const f of docker28) assert.ok(ours[f]?.desc, `--${f}`);
  // berth's own: --pod, as podman's.
  assert.deepEqual(
    Object.keys(ours).filter((f) => !docker28.includes(f)),
    ['pod'],
  );
});

test("--link: docker's checks; HostConfig.Links, and with --network the endpoint's Links too, as the docker CLI sends them", () => {
  assert.throws(() => body('--link', '', 'img'), { message: 'invalid argument "" for "--link" flag: empty string specified for links' });
  assert.throws(() => body('--link', 'a:b:c', 'img'), {
    message: 'invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c',
  });
  const plain = body('--link', 'db:data', '--link', 'db:', 'img');
  assert.deepEqual(plain.HostConfig.Links, ['db:data', 'db:']);
  assert.deepEqual(plain.NetworkingConfig.EndpointsConfig.default.Links, null);
  const net = body('--network', 'n', '--link', 'db:data', 'img');
  assert.deepEqual(net.HostConfig.Links, ['db:data']);
  assert.deepEqual(net.NetworkingConfig.EndpointsConfig.n.Links, ['db:data']);
});

test("--pod reaches the create body as berth's top-level Pod field", () => {
  assert.equal(body('--pod', 'web', 'img').Pod, 'web');
  assert.equal(body('img').Pod, undefined);
});
