// Docker's security defaults and the flags that change them, end to end, with the berth CLI,
// the real docker CLI (28.x, and Debian's 20.10 where the machine has it) and dockerode: the
// default capability set, seccomp filter and masked /proc paths; --privileged, --cap-add and
// --cap-drop, --security-opt seccomp=unconfined|<file> and no-new-privileges, --read-only,
// with --tmpfs, --init; and a clear 400 for LSM options.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { BERTH, noDocker20, DOCKER_20, DOCKER, startEngine, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
});
after(async () => {
  await eng?.stop();
});

type Cli = (...args: string[]) => { status: number | null; stdout: string; stderr: string };

const berth: Cli = (...args) => {
  const r = spawnSync(BERTH, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const dockerCli =
  (bin: string): Cli =>
  (...args) =>
    eng.docker(args, { bin });

/** Fields of /proc/self/status inside a container run with `flags`. */
function status(cli: Cli, ...flags: string[]): Record<string, string> {
  const r = cli('run', '--rm', ...flags, 'busybox', 'cat', '/proc/self/status');
  assert.equal(r.status, 0, r.stderr);
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

// --privileged gives every capability berthd holds (here: the test's own bounding set).
const ALL_CAPS = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];

for (const [name, cli, skip] of [
  ['berth', berth, false],
  ['docker', dockerCli(DOCKER), !existsSync(DOCKER) && 'no docker CLI'],
  ['docker 20.10', dockerCli(DOCKER_20), noDocker20],
] as const) {
  describe(`${name} CLI`, { skip }, () => {
    test("default: Docker's capability set, its seccomp filter, masked /proc paths", () => {
      const s = status(cli);
      assert.equal(s.CapEff, '00000000a80425fb');
      assert.equal(s.CapBnd, '00000000a80425fb');
      assert.equal(s.Seccomp, '2');
      assert.equal(s.NoNewPrivs, '0');
      // A user namespace needs no capability: only the filter refuses it (EPERM). /proc/keys is
      // /dev/null, /proc/sys read-only.
      const r = cli(
        'run',
        '--rm',
        'busybox',
        'sh',
        '-c',
        'unshare -U true 2>&1; echo "unshare=$?"; [ -c /proc/keys ] && echo keys-masked; echo 1 > /proc/sys/kernel/ostype 2>/dev/null || echo sys-ro',
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Operation not permitted/);
      assert.match(r.stdout, /unshare=1/);
      assert.match(r.stdout, /keys-masked/);
      assert.match(r.stdout, /sys-ro/);
    });

    test('--privileged: every capability, no filter, nothing masked', () => {
      const s = status(cli, '--privileged');
      assert.equal(s.CapEff, ALL_CAPS);
      assert.equal(s.Seccomp, '0');
      const r = cli(
        'run',
        '--rm',
        '--privileged',
        'busybox',
        'sh',
        '-c',
        '[ -c /proc/keys ] || echo keys-open; mkdir -p /m && mount -t tmpfs t /m && echo mounted',
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'keys-open\nmounted\n');
      // The host's devices, with the devices cgroup open to them.
      const host = ['/dev/loop-control', '/dev/kmsg', '/dev/fuse'].find(existsSync);
      if (host) {
        const d = cli(
          'run',
          '--rm',
          '--privileged',
          'busybox',
          'sh',
          '-c',
          `[ -c ${host} ] && echo has-device; [ -e /dev/ptmx ] && echo ptmx`,
        );
        assert.equal(d.stdout, 'has-device\nptmx\n', d.stderr);
        assert.equal(cli('run', '--rm', 'busybox', 'ls', host).status, 1, 'not without --privileged');
      }
    });

    test('--cap-drop ALL --cap-add NET_RAW: that capability only', () => {
      assert.equal(status(cli, '--cap-drop', 'ALL', '--cap-add', 'NET_RAW').CapEff, '0000000000002000');
      const s = status(cli, '--cap-drop', 'chown', '--cap-add', 'CAP_SYS_ADMIN');
      assert.equal(s.CapEff, ((0xa80425fbn & ~1n) | (1n << 21n)).toString(16).padStart(16, '0'));
      // With CAP_SYS_ADMIN the default filter lets mount through.
      const r = cli('run', '--rm', '--cap-add', 'SYS_ADMIN', 'busybox', 'sh', '-c', 'mkdir -p /m && mount -t tmpfs t /m && echo mounted');
      assert.equal(r.stdout, 'mounted\n', r.stderr);
    });

    test('--security-opt seccomp=unconfined, seccomp=<file>, no-new-privileges', () => {
      assert.equal(status(cli, '--security-opt', 'seccomp=unconfined').Seccomp, '0');
      const u = cli('run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'unshare', '-U', 'true');
      assert.equal(u.status, 0, u.stderr);
      assert.equal(status(cli, '--security-opt', 'no-new-privileges').NoNewPrivs, '1');
      assert.equal(status(cli, '--security-opt', 'no-new-privileges:true').NoNewPrivs, '1');
      const file = join(eng.dir, `profile-${name.replace(/\W/g, '-')}.json`);
      writeFileSync(
        file,
        JSON.stringify(
          { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] },
          null,
          2,
        ),
      );
      const r = cli('run', '--rm', '--security-opt', `seccomp=${file}`, 'busybox', 'sh', '-c', 'grep Seccomp: /proc/self/status; mkdir /x');
      assert.equal(r.status, 1);
      assert.match(r.stdout, /Seccomp:\s+2/);
      assert.match(r.stderr, /Permission denied/);
    });

    test('--read-only: the root refuses writes, a --tmpfs and /dev/shm take them', () => {
      const r = cli(
        'run',
        '--rm',
        '--read-only',
        '--tmpfs',
        '/tmp',
        'busybox',
        'sh',
        '-c',
        'touch /x 2>&1; echo "root=$?"; touch /tmp/x && echo tmp-ok; touch /dev/shm/x && echo shm-ok',
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Read-only file system/);
      assert.match(r.stdout, /root=1\ntmp-ok\nshm-ok\n/);
    });

    test(
      '--init: docker-init is PID 1, the exit code passes through',
      {
        skip:
          ![
            '/usr/libexec/docker/docker-init',
            '/usr/local/bin/docker-init',
            '/usr/bin/docker-init',
            '/usr/bin/tini-static',
            '/usr/bin/tini',
          ].some(existsSync) && 'no docker-init',
      },
      () => {
        const r = cli('run', '--rm', '--init', 'busybox', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; exit 3');
        assert.equal(r.status, 3, r.stderr);
        assert.match(r.stdout, /^\/sbin\/docker-init -- sh -c/);
      },
    );

    test('AppArmor and SELinux options are refused clearly, unconfined/disable pass; unknown caps too', () => {
      const a = cli('run', '--rm', '--security-opt', 'apparmor=docker-default', 'busybox', 'true');
      assert.equal(a.status, 125);
      assert.match(a.stderr, /AppArmor is not supported/);
      const l = cli('run', '--rm', '--security-opt', 'label=type:svirt_lxc_net_t', 'busybox', 'true');
      assert.equal(l.status, 125);
      assert.match(l.stderr, /SELinux labels are not supported/);
      const ok = cli('run', '--rm', '--security-opt', 'apparmor=unconfined', '--security-opt', 'label=disable', 'busybox', 'true');
      assert.equal(ok.status, 0, ok.stderr);
      const c = cli('run', '--rm', '--cap-add', 'NOPE', 'busybox', 'true');
      assert.equal(c.status, 125);
      assert.match(c.stderr, /unknown capability: "CAP_NOPE"/);
    });
  });
}

test("API: the security fields come back in inspect; a bad SecurityOpt is a 400 with Docker's message", async () => {
  const c = await eng.api('POST', '/containers/create', {
    Image: 'busybox',
    Cmd: ['true'],
    HostConfig: { Privileged: false, CapAdd: ['NET_ADMIN'], CapDrop: ['MKNOD'], SecurityOpt: ['no-new-privileges'], ReadonlyRootfs: true },
  });
  assert.equal(c.status, 201, c.body);
  const { Id } = JSON.parse(c.body) as { Id: string };
  const hc = JSON.parse((await eng.api('GET', `/containers/${Id}/json`)).body).HostConfig;
  assert.deepEqual(
    [hc.CapAdd, hc.CapDrop, hc.SecurityOpt, hc.ReadonlyRootfs, hc.Privileged],
    [['NET_ADMIN'], ['MKNOD'], ['no-new-privileges'], true, false],
  );
  assert.equal((await eng.api('DELETE', `/containers/${Id}`)).status, 204);
  const plain = JSON.parse((await eng.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'] })).body) as { Id: string };
  const phc = JSON.parse((await eng.api('GET', `/containers/${plain.Id}/json`)).body).HostConfig;
  assert.deepEqual(
    [phc.CapAdd, phc.CapDrop, phc.SecurityOpt, phc.Init, phc.Privileged, phc.ReadonlyRootfs],
    [null, null, null, null, false, false],
  );
  assert.equal((await eng.api('DELETE', `/containers/${plain.Id}`)).status, 204);
  const bad = await eng.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { SecurityOpt: ['foo=bar'] } });
  assert.equal(bad.status, 400);
  assert.deepEqual(JSON.parse(bad.body), { message: 'invalid --security-opt 2: "foo=bar"' });
  const json = await eng.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { SecurityOpt: ['seccomp={not json'] } });
  assert.equal(json.status, 400);
  assert.match(JSON.parse(json.body).message, /^Decoding seccomp profile failed/);
});

test('dockerode: CapDrop/CapAdd, SecurityOpt and ReadonlyRootfs in HostConfig', async () => {
  const docker = new Docker({ socketPath: eng.socket });
  const pull = await docker.pull('busybox');
  await new Promise((resolve, reject) => docker.modem.followProgress(pull, (err: Error | null) => (err ? reject(err) : resolve(null))));
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c) => chunks.push(c));
  const [res, container] = await docker.run(
    'busybox',
    ['sh', '-c', 'grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status; touch /x 2>&1'],
    out,
    {
      HostConfig: { CapDrop: ['ALL'], CapAdd: ['CAP_KILL'], SecurityOpt: ['no-new-privileges:true'], ReadonlyRootfs: true },
    },
  );
  await container.remove();
  assert.equal(res.StatusCode, 1);
  const text = Buffer.concat(chunks).toString();
  assert.match(text, /CapEff:\s+0000000000000020\r?\nNoNewPrivs:\s+1\r?\nSeccomp:\s+2\r?\n/);
  assert.match(text, /Read-only file system/);
});
