// run's flag values through the berth CLI beside the docker 28 CLI, both against one berthd:
// bad values refused with docker's words and exit code (nothing created), port ranges
// published port by port, --expose ranges with -P, and -v binds from ./relative and /absolute
// paths (a plain name is a volume).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, DOCKER, httpGet, startEngine, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let tmp: string;
const hasDocker = existsSync(DOCKER);

function cli(bin: string, args: string[], cwd?: string) {
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    timeout: 60_000,
    cwd,
    env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: eng.host },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const berth = (...args: string[]) => cli(BERTH, args);
const inspect = (name: string) => JSON.parse(berth('inspect', name).stdout)[0];

before(async () => {
  eng = await startEngine();
  tmp = mkdtempSync(join(tmpdir(), 'berth-test-flags-'));
  assert.equal(berth('pull', 'busybox').status, 0);
});
after(async () => {
  await eng?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("bad values of --cpus, --pids-limit, --add-host, -m, -p, --expose: docker's message and 125, no container", () => {
  for (const args of [
    ['--cpus', 'abc'],
    ['--pids-limit', 'abc'],
    ['--add-host', 'bad'],
    ['--add-host', 'a:nope'],
    ['-m', '10x'],
    ['-p', 'x'],
    ['--expose', 'y'],
  ]) {
    const b = berth('run', ...args, 'busybox', 'true');
    assert.equal(b.status, 125, args.join(' '));
    assert.equal(b.stdout, '');
    if (hasDocker) {
      const d = cli(DOCKER, ['run', ...args, 'busybox', 'true']);
      assert.equal(b.status, d.status, args.join(' '));
      assert.equal(b.stderr, d.stderr.replace(/docker/g, 'berth'), args.join(' '));
    } else assert.match(b.stderr, /^invalid argument|^berth: invalid/);
  }
  assert.equal(berth('ps', '-aq').stdout, '');
});

test('-p 8098-8099:80-81 publishes each port of the range; --expose 7000-7001 -P each of those', async () => {
  const r = berth(
    'run',
    '-d',
    '--name',
    'ranges',
    '-p',
    '127.0.0.1:18098-18099:80-81',
    'busybox',
    'sh',
    '-c',
    'httpd -p 80 -h /etc; httpd -f -p 81 -h /etc',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(inspect('ranges').HostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18098' }],
    '81/tcp': [{ HostIp: '127.0.0.1', HostPort: '18099' }],
  });
  const port = berth('port', 'ranges');
  assert.equal(port.stdout, '80/tcp -> 127.0.0.1:18098\n81/tcp -> 127.0.0.1:18099\n');
  if (hasDocker) assert.equal(cli(DOCKER, ['port', 'ranges']).stdout, port.stdout);
  assert.equal((await httpGet(18099)).trim(), inspect('ranges').Config.Hostname);
  assert.equal(berth('rm', '-f', 'ranges').status, 0);

  const e = berth('run', '-d', '--name', 'exposed', '--expose', '7000-7001', '-P', 'busybox', 'sleep', '60');
  assert.equal(e.status, 0, e.stderr);
  const ports = inspect('exposed').NetworkSettings.Ports;
  assert.deepEqual(Object.keys(ports).sort(), ['7000/tcp', '7001/tcp']);
  for (const p of Object.values(ports) as { HostPort: string }[][]) assert.match(p[0].HostPort, /^\d+$/);
  assert.equal(berth('rm', '-f', 'exposed').status, 0);
});

test('-v ./rel:/x and -v /abs:/x are binds (relative to the working directory), a name is a volume; docker 28 the same', () => {
  mkdirSync(join(tmp, 'rel'));
  writeFileSync(join(tmp, 'rel', 'file'), 'from the host\n');
  for (const bin of [BERTH, ...(hasDocker ? [DOCKER] : [])]) {
    const rel = cli(bin, ['run', '--rm', '-v', './rel:/x', 'busybox', 'cat', '/x/file'], tmp);
    assert.deepEqual(rel, { status: 0, stdout: 'from the host\n', stderr: '' }, bin);
    const abs = cli(bin, ['run', '--rm', '-v', `${join(tmp, 'rel')}:/x:ro`, 'busybox', 'cat', '/x/file'], tmp);
    assert.deepEqual(abs, { status: 0, stdout: 'from the host\n', stderr: '' }, bin);
  }
  const named = berth('run', '--rm', '-v', 'rel:/x', 'busybox', 'sh', '-c', 'echo in-volume > /x/f');
  assert.equal(named.status, 0, named.stderr);
  assert.match(berth('volume', 'ls', '-q').stdout, /^rel$/m);
  assert.equal(berth('volume', 'rm', 'rel').status, 0);
});

test(
  "run's other flags make the body docker 28 makes: the same container (or the same refusal) through both CLIs",
  { skip: !hasDocker && 'no docker CLI' },
  () => {
    const cases = [
      ['--ulimit', 'nofile=1024:2048'],
      ['--group-add', '10'],
      ['--shm-size', '128m'],
      ['--oom-score-adj', '100'],
      ['--sysctl', 'net.ipv4.ip_forward=1'],
      ['--add-host', 'gw:host-gateway'],
      ['--add-host', 'h=10.0.0.1'],
      ['--device', '/dev/null:/dev/xnull:r'],
      ['--pid', 'host'],
      ['--ipc', 'host'],
      ['--uts', 'host'],
      ['--cpus', '1/2'],
      ['--memory-swappiness', '10'],
      ['--device-read-bps', '/dev/null:1mb'],
      ['--cgroupns', 'host'],
      ['--domainname', 'example.org'],
      ['--init'],
      ['--log-driver', 'none'],
      ['--stop-signal', 'SIGUSR1'],
      ['--read-only'],
      ['-a', 'stdout'],
      ['--expose', '7000-7001'],
      ['--link-local-ip', '169.254.1.1'],
      ['--annotation', 'a=b'],
      ['--oom-kill-disable'],
      ['--cpu-rt-runtime', '1000'],
      ['--storage-opt', 'size=1G'],
      ['--runtime', 'nope'],
    ];
    // What a flag changes: the fields of docker's container that differ from a plain create's.
    assert.equal(cli(DOCKER, ['create', '--name', 'dbase', 'busybox', 'true']).status, 0);
    const base = inspect('dbase');
    const changed = (of: any, plain: any) =>
      Object.keys(of).filter((k) => k !== 'Hostname' && JSON.stringify(of[k]) !== JSON.stringify(plain[k]));
    for (const args of cases) {
      const b = berth('create', '--name', 'bflags', ...args, 'busybox', 'true');
      const d = cli(DOCKER, ['create', '--name', 'dflags', ...args, 'busybox', 'true']);
      assert.equal(b.status, d.status, `${args.join(' ')}: berth ${b.stderr} docker ${d.stderr}`);
      if (b.status === 0) {
        const [bi, di] = [inspect('bflags'), inspect('dflags')];
        const keys = [
          ...changed(di.HostConfig, base.HostConfig).map((k) => ['HostConfig', k]),
          ...changed(di.Config, base.Config).map((k) => ['Config', k]),
        ];
        assert.ok(keys.length, `${args.join(' ')} changes something`);
        for (const [part, k] of keys) assert.deepEqual(bi[part][k], di[part][k], `${args.join(' ')}: ${part}.${k}`);
      } else {
        // (A refusal may name the container's cgroup, by an ID of its own.)
        const first = (e: string, cli: RegExp) =>
          e
            .replace(cli, '')
            .split('\n')[0]
            .replace(/[0-9a-f]{64}/g, 'ID');
        assert.equal(first(b.stderr, /^berth: /), first(d.stderr, /^docker: /), args.join(' '));
      }
      berth('rm', '-f', 'bflags', 'dflags');
    }
    berth('rm', 'dbase');
  },
);

test(
  "--network's advanced form, repeated: the same endpoints as docker 28's CLI makes (inspect), the same refusals",
  { skip: !hasDocker && 'no docker CLI' },
  () => {
    // Subnets 10.246.1-2.0/24 and fd00:246:1::/64 are this test's alone.
    const A = 'berth-tcf-a',
      B = 'berth-tcf-b';
    assert.equal(berth('network', 'create', '--ipv6', '--subnet', '10.246.1.0/24', '--subnet', 'fd00:246:1::/64', A).status, 0);
    assert.equal(berth('network', 'create', '--subnet', '10.246.2.0/24', B).status, 0);
    try {
      const IFNAME = 'com.docker.network.endpoint.ifname';
      const same = (args: string[]) => {
        const b = berth('create', '--name', 'bnet', ...args, 'busybox', 'true');
        const d = cli(DOCKER, ['create', '--name', 'dnet', ...args, 'busybox', 'true']);
        try {
          assert.equal(b.status, d.status, `${args.join(' ')}: berth ${b.stderr} docker ${d.stderr}`);
          if (b.status !== 0) {
            assert.equal(b.stderr, d.stderr.replace(/docker/g, 'berth'), args.join(' '));
            return undefined;
          }
          const [bi, di] = [inspect('bnet'), inspect('dnet')];
          assert.equal(bi.HostConfig.NetworkMode, di.HostConfig.NetworkMode, args.join(' '));
          // Each container's own: its ID, and its name and short ID among the DNS names.
          const nets = (i: any) =>
            Object.fromEntries(
              Object.entries<any>(i.NetworkSettings.Networks).map(([k, n]) => [
                k,
                { ...n, EndpointID: undefined, DNSNames: n.DNSNames?.filter((x: string) => !/^(bnet|dnet|[0-9a-f]{12})$/.test(x)) },
              ]),
            );
          assert.deepEqual(nets(bi), nets(di), args.join(' '));
          return nets(bi);
        } finally {
          berth('rm', '-f', 'bnet', 'dnet');
        }
      };
      const n = same([
        '--network',
        `name=${A},alias=Web,ip=10.246.1.10,ip6=fd00:246:1::10,mac-address=02:42:AC:F6:01:0A,link-local-ip=169.254.7.7,driver-opt=${IFNAME}=foo0,gw-priority=7`,
        '--network',
        `name=${B},alias=b2`,
      ])!;
      // What docker's CLI sent and berthd kept: the lowercased alias, both addresses, the MAC, the options, the priority.
      assert.deepEqual(n[A].Aliases, ['web']);
      assert.deepEqual(n[A].IPAMConfig, { IPv4Address: '10.246.1.10', IPv6Address: 'fd00:246:1::10', LinkLocalIPs: ['169.254.7.7'] });
      assert.equal(n[A].MacAddress, '02:42:ac:f6:01:0a');
      assert.deepEqual(n[A].DriverOpts, { [IFNAME]: 'foo0' });
      assert.equal(n[A].GwPriority, 7);
      assert.deepEqual(n[B].Aliases, ['b2']);
      // The simple flags go on the first network.
      const s = same([
        '--network',
        A,
        '--network',
        B,
        '--network-alias',
        'x',
        '--ip',
        '10.246.1.11',
        '--mac-address',
        '02:42:ac:f6:01:0b',
      ])!;
      assert.deepEqual(
        [s[A].Aliases, s[A].IPAMConfig.IPv4Address, s[A].MacAddress, s[B].Aliases],
        [['x'], '10.246.1.11', '02:42:ac:f6:01:0b', null],
      );
      for (const args of [
        ['--network', `name=${A},alias=a`, '--network-alias', 'x'],
        ['--network', `name=${A},ip=10.246.1.12`, '--ip', '10.246.1.13'],
        ['--network', `name=${A},ip6=fd00:246:1::12`, '--ip6', 'fd00:246:1::13'],
        ['--network', `name=${A},mac-address=02:42:ac:f6:01:0c`, '--mac-address', '02:42:ac:f6:01:0d'],
        ['--network', `name=${A},link-local-ip=169.254.7.8`, '--link-local-ip', '169.254.7.9'],
        ['--network', A, '--network', A],
        ['--network', 'host', '--network', A],
        ['--network', `name=${A},mac-address=zz`],
        ['--network', 'name=bridge,alias=x'],
        ['--network-alias', 'x'],
        ['--network', 'alias=x'],
        ['--network', `name=${A},bogus=1`],
        ['--network', `name=${A},gw-priority=x`],
        ['--network', `name=${A},driver-opt=novalue`],
        ['--network', `name=${A},"alias=a`],
      ])
        assert.equal(same(args), undefined, args.join(' '));
      assert.equal(berth('ps', '-aq').stdout, '');

      // network connect: the same options through both CLIs, the same endpoint.
      const connected = (bin: string, name: string) => {
        assert.equal(cli(bin, ['create', '--name', name, '--network', B, 'busybox', 'true']).status, 0);
        const r = cli(bin, [
          'network',
          'connect',
          '--gw-priority',
          '-3',
          '--driver-opt',
          `${IFNAME}=bar0`,
          '--alias',
          'p,q',
          '--ip',
          '10.246.1.20',
          A,
          name,
        ]);
        assert.equal(r.status, 0, r.stderr);
        const ep = inspect(name).NetworkSettings.Networks[A];
        berth('rm', '-f', name);
        return [ep.GwPriority, ep.DriverOpts, ep.Aliases, ep.IPAMConfig];
      };
      assert.deepEqual(connected(BERTH, 'bnet'), connected(DOCKER, 'dnet'));
      assert.deepEqual(connected(BERTH, 'bnet'), [-3, { [IFNAME]: 'bar0' }, ['p', 'q'], { IPv4Address: '10.246.1.20' }]);
      for (const args of [
        ['--gw-priority', 'x'],
        ['--driver-opt', 'novalue'],
        ['--driver-opt', 'a=b"'],
      ]) {
        const b = berth('network', 'connect', ...args, A, 'nope');
        const d = cli(DOCKER, ['network', 'connect', ...args, A, 'nope']);
        assert.deepEqual([b.status, b.stderr], [d.status, d.stderr.replace(/docker/g, 'berth')], args.join(' '));
      }
    } finally {
      berth('rm', '-f', 'bnet', 'dnet');
      berth('network', 'rm', A, B);
    }
  },
);
