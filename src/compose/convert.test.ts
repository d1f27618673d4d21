import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from './project.js';
import { imageOf, refuseBuild } from './service-build.js';
import { createBody, durationNs, refuseUnapplied } from './convert.js';
import { configHash } from './labels.js';

async function project(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-compose-'));
  try {
    writeFileSync(join(dir, 'compose.yaml'), text);
    return await loadProject({ cwd: dir, env: {}, warn: () => undefined, projectName: 'proj' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('Go durations, in nanoseconds', () => {
  assert.equal(durationNs('1m30s'), 90e9);
  assert.equal(durationNs('500ms'), 5e8);
  assert.equal(durationNs('1.5s'), 1.5e9);
  assert.throws(() => durationNs('10'), /invalid duration "10"/);
});

test('a service as a create body: names, labels, ports, mounts, healthcheck, network and aliases', async () => {
  const p = await project(`services:
  web:
    image: busybox
    command: httpd -f
    environment: {A: "1"}
    ports: ["127.0.0.1:8080:80"]
    volumes: [data:/data, /host:/h:ro, {type: tmpfs, target: /t, tmpfs: {size: 1m}}]
    healthcheck: {test: [CMD, "true"], interval: 2s, retries: 3}
    restart: on-failure:2
    stop_grace_period: 3s
    networks:
      front: {aliases: [www], ipv4_address: 10.1.0.5, ipv6_address: "fd4b:e47f:30::5", link_local_ips: [169.254.8.8]}
      back: {gw_priority: 2, interface_name: back0, mac_address: "02:42:0a:01:00:09", driver_opts: {com.docker.network.endpoint.sysctls: net.ipv4.conf.IFNAME.log_martians=1}}
volumes: {data: {}}
networks: {front: {}, back: {}}
`);
  const { body, extraNetworks } = createBody(p, 'web', 1);
  assert.deepEqual(body.Cmd, ['httpd', '-f']);
  assert.deepEqual(body.Env, ['A=1']);
  assert.deepEqual(body.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] });
  assert.deepEqual(body.HostConfig.Binds, ['/host:/h:ro']);
  assert.deepEqual(body.HostConfig.Mounts, [
    { Type: 'volume', Source: 'proj_data', Target: '/data', ReadOnly: false },
    { Type: 'tmpfs', Target: '/t', ReadOnly: false, TmpfsOptions: { SizeBytes: 1048576 } },
  ]);
  assert.deepEqual(body.Healthcheck, { Test: ['CMD', 'true'], Interval: 2e9, Retries: 3 });
  assert.deepEqual(body.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  assert.equal(body.StopTimeout, 3);
  // docker compose's order with no priority: by name, so back is the NetworkMode.
  assert.equal(body.HostConfig.NetworkMode, 'proj_back');
  assert.deepEqual(body.NetworkingConfig.EndpointsConfig.proj_back, {
    Aliases: ['web'],
    MacAddress: '02:42:0a:01:00:09',
    DriverOpts: {
      'com.docker.network.endpoint.sysctls': 'net.ipv4.conf.IFNAME.log_martians=1',
      'com.docker.network.endpoint.ifname': 'back0',
    },
    GwPriority: 2,
  });
  assert.deepEqual(extraNetworks, [
    [
      'proj_front',
      {
        EndpointConfig: {
          Aliases: ['web', 'www'],
          IPAMConfig: { IPv4Address: '10.1.0.5', IPv6Address: 'fd4b:e47f:30::5', LinkLocalIPs: ['169.254.8.8'] },
        },
      },
    ],
  ]);
  assert.equal(body.Labels['com.docker.compose.project'], 'proj');
  assert.equal(body.Labels['com.docker.compose.service'], 'web');
  assert.equal(body.Labels['com.docker.compose.container-number'], '1');
  assert.equal(body.Labels['com.docker.compose.config-hash'], configHash(p.services.web));
});

test('the config hash ignores scale and depends_on, and changes with what the container is', async () => {
  const a = await project('services:\n  w:\n    image: x\n');
  const b = await project('services:\n  w:\n    image: x\n    scale: 3\n');
  const c = await project('services:\n  w:\n    image: x\n    environment: [A=1]\n');
  assert.equal(configHash(a.services.w), configHash(b.services.w));
  assert.notEqual(configHash(a.services.w), configHash(c.services.w));
});

test("a service's networks in docker compose's order (NetworksByPriority): highest priority first, ties by name", async () => {
  const p = await project(`services:
  w:
    image: x
    networks: {c: {}, b: {priority: -1}, d: {priority: 5}, a: null}
networks: {a: {}, b: {}, c: {}, d: {}}
`);
  const { body, extraNetworks } = createBody(p, 'w', 1);
  assert.equal(body.HostConfig.NetworkMode, 'proj_d');
  assert.deepEqual(
    extraNetworks.map(([n]) => n),
    ['proj_a', 'proj_c', 'proj_b'],
  );
});

test('a key berth compose cannot apply is refused with its file and line, never dropped', async () => {
  const cases: [string, RegExp][] = [
    ['    gpus: all\n', /compose\.yaml:4:5: services\.w\.gpus: "gpus": berth compose cannot apply it yet/],
    [
      '    deploy: {placement: {constraints: [a]}}\n',
      /compose\.yaml:4:14: services\.w\.deploy\.placement: "deploy\.placement": berth compose applies only/,
    ],
  ];
  for (const [extra, error] of cases) {
    const p = await project(`services:\n  w:\n    image: x\n${extra}`);
    assert.throws(() => refuseUnapplied(p, 'w', p.services.w), error);
  }
});

test("a build's keys that POST /build cannot carry are refused with file and line; a built service runs <project>-<service>", async () => {
  const cases: [string, RegExp][] = [
    [
      '    build: {context: ., ssh: [default]}\n',
      /compose\.yaml:4:25: services\.w\.build\.ssh: "build\.ssh": berth compose cannot apply it/,
    ],
    ['    build: {context: ., platforms: [linux/amd64, linux/arm64]}\n', /services\.w\.build\.platforms: berthd builds one platform/],
    ['    build: {context: ., secrets: [nope]}\n', /services\.w\.build\.secrets\[0\]: build secret "nope" is not defined/],
  ];
  for (const [extra, error] of cases) {
    const p = await project(`services:\n  w:\n    image: x\n${extra}`);
    assert.throws(() => refuseBuild(p, 'w'), error);
  }
  const p = await project('services:\n  w:\n    build: {context: ., args: [A=1], tags: [extra:1]}\n');
  assert.doesNotThrow(() => refuseBuild(p, 'w'));
  assert.equal(imageOf(p, 'w'), `${p.name}-w`);
  assert.equal(createBody(p, 'w', 1).body.Image, `${p.name}-w`);
  const named = await project('services:\n  w:\n    image: mine:2\n    build: .\n');
  assert.equal(createBody(named, 'w', 1).body.Image, 'mine:2');
});

test('network_mode, ipc and pid "service:NAME": the service depends on NAME (explicitly given wins) and joins its container', async () => {
  const p = await project(`services:
  a:
    image: busybox
    network_mode: service:n
    ipc: service:i
    pid: service:d
    depends_on:
      i: {condition: service_healthy}
  n: {image: busybox}
  i: {image: busybox}
  d: {image: busybox}
`);
  assert.deepEqual(p.services.a.depends_on, {
    n: { condition: 'service_started', required: true },
    d: { condition: 'service_started', required: true },
    i: { condition: 'service_healthy', required: true },
  });
  const asked: string[] = [];
  const { body } = createBody(p, 'a', 1, { containerOf: (s, key) => (asked.push(key), `${s}-id`) });
  assert.equal(body.HostConfig.NetworkMode, 'container:n-id');
  assert.equal(body.HostConfig.IpcMode, 'container:i-id');
  assert.equal(body.HostConfig.PidMode, 'container:d-id');
  assert.equal(body.NetworkingConfig, undefined);
  assert.deepEqual(asked.sort(), ['ipc', 'network_mode', 'pid']);
});

test('links: each container of the linked service under the alias, external links as given, and a dependency', async () => {
  const p = await project(`services:
  web:
    image: busybox
    links: [db, "cache:kv"]
    external_links: [outside, "legacy:old"]
    depends_on:
      db: {condition: service_healthy}
  db: {image: busybox}
  cache: {image: busybox, scale: 2}
`);
  // An explicit depends_on of a linked service wins; a link alone is a dependency started first.
  assert.deepEqual(p.services.web.depends_on, {
    cache: { condition: 'service_started', required: true },
    db: { condition: 'service_healthy', required: true },
  });
  const { body } = createBody(p, 'web', 1, { replicas: (s) => (s === 'cache' ? 2 : 1) });
  assert.deepEqual(body.HostConfig.Links, ['proj-db-1:db', 'proj-cache-1:kv', 'proj-cache-2:kv', 'outside:outside', 'legacy:old']);
  await assert.rejects(
    project(`services:
  web: {image: busybox, links: [nosuch]}
`),
    /service "web" refers to undefined service "nosuch"/,
  );
});

test('secrets and configs: what berth compose cannot apply is refused with its place', async () => {
  const refused = async (defs: string, ref: string, why: RegExp) => {
    const p = await project(`services:
  a: {image: busybox, secrets: [${ref}]}
secrets:
  s: ${defs}
`);
    assert.throws(() => refuseUnapplied(p, 'a', p.services.a), why);
  };
  await refused('{file: ./x, driver: vault}', 's', /"driver": berth compose cannot apply it to a secret/);
  await refused('{external: true}', 's', /"external": .*swarm/);
  await refused('{file: ./x}', '{source: s, mode: 0400}', /uid, gid and mode of secrets from a file/);
  await refused('{environment: X}', '{source: s, mode: 0900}', /mode 900: expected permissions in octal/);
  await refused('{environment: X}', '{source: s, uid: root}', /uid "root": expected a number/);
  // A variable not set: refused too, before anything is made.
  await refused('{environment: NOT_SET_HERE}', 's', /environment variable "NOT_SET_HERE" is not set/);
});

test('resources, devices, cgroup and namespace keys go to HostConfig as Compose v2 sends them', async () => {
  const p = await project(`services:
  a:
    image: busybox
    devices: ["/dev/null:/dev/mynull:rw", "/dev/zero", "/dev/full:r", {source: /dev/random, target: /dev/r2, permissions: m}]
    device_cgroup_rules: ["c 1:3 mr"]
    mem_reservation: 16m
    memswap_limit: -1
    mem_swappiness: 10
    oom_kill_disable: true
    cpu_shares: "512"
    cpu_quota: 50000
    cpu_period: 100000
    cpu_rt_runtime: 400ms
    cpu_rt_period: 1000000
    cpuset: "0-1"
    blkio_config:
      weight: 300
      weight_device: [{path: /dev/sda, weight: 400}]
      device_read_bps: [{path: /dev/sda, rate: 1mb}]
      device_write_iops: [{path: /dev/sda, rate: 30}]
    cgroup: private
    cgroup_parent: mine
    userns_mode: host
    uts: host
    runtime: runc
    storage_opt: {size: 1G}
    mac_address: "02:42:0a:01:00:07"
    volumes_from: ["b:ro", "container:other:rw", b]
  b:
    image: busybox
    deploy: {resources: {reservations: {memory: 32M}}}
`);
  assert.deepEqual(p.services.a.depends_on, { b: { condition: 'service_started', required: true } });
  const { body } = createBody(p, 'a', 1, { containerOf: (s, key) => `${s}-${key}` });
  const hc = body.HostConfig;
  assert.deepEqual(hc.Devices, [
    { PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' },
    { PathOnHost: '/dev/zero', PathInContainer: '/dev/zero', CgroupPermissions: 'rwm' },
    { PathOnHost: '/dev/full', PathInContainer: '/dev/full', CgroupPermissions: 'r' },
    { PathOnHost: '/dev/random', PathInContainer: '/dev/r2', CgroupPermissions: 'm' },
  ]);
  assert.deepEqual(hc.DeviceCgroupRules, ['c 1:3 mr']);
  assert.equal(hc.MemoryReservation, 16 * 1024 * 1024);
  assert.equal(hc.MemorySwap, -1);
  assert.equal(hc.MemorySwappiness, 10);
  assert.equal(hc.OomKillDisable, true);
  assert.equal(hc.CpuShares, 512);
  assert.equal(hc.CpuQuota, 50000);
  assert.equal(hc.CpuPeriod, 100000);
  assert.equal(hc.CpuRealtimeRuntime, 400000);
  assert.equal(hc.CpuRealtimePeriod, 1000000);
  assert.equal(hc.CpusetCpus, '0-1');
  assert.equal(hc.BlkioWeight, 300);
  assert.deepEqual(hc.BlkioWeightDevice, [{ Path: '/dev/sda', Weight: 400 }]);
  assert.deepEqual(hc.BlkioDeviceReadBps, [{ Path: '/dev/sda', Rate: 1024 * 1024 }]);
  assert.deepEqual(hc.BlkioDeviceWriteIOps, [{ Path: '/dev/sda', Rate: 30 }]);
  assert.equal(hc.CgroupnsMode, 'private');
  assert.equal(hc.CgroupParent, 'mine');
  assert.equal(hc.UsernsMode, 'host');
  assert.equal(hc.UTSMode, 'host');
  assert.equal(hc.Runtime, 'runc');
  assert.deepEqual(hc.StorageOpt, { size: '1G' });
  assert.deepEqual(hc.VolumesFrom, ['b-volumes_from:ro', 'other:rw', 'b-volumes_from']);
  assert.equal(body.NetworkingConfig.EndpointsConfig.proj_default.MacAddress, '02:42:0a:01:00:07');
  assert.equal(createBody(p, 'b', 1).body.HostConfig.MemoryReservation, 32 * 1024 * 1024);
  for (const [extra, error] of [
    ['    cpu_quota: lots\n', /services\.w\.cpu_quota: "lots": expected a whole number/],
    ['    volumes_from: [nosuch]\n', /services\.w\.volumes_from\[0\]: service "w" refers to undefined service "nosuch"/],
    ['    volumes_from: ["container:x:rx"]\n', /invalid volumes_from "container:x:rx"/],
  ] as const) {
    await assert.rejects(
      (async () => {
        const q = await project(`services:\n  w:\n    image: x\n${extra}`);
        createBody(q, 'w', 1);
      })(),
      error,
    );
  }
  const q = await project('services:\n  w:\n    image: x\n    deploy: {resources: {reservations: {cpus: "1"}}}\n');
  assert.throws(
    () => refuseUnapplied(q, 'w', q.services.w),
    /"deploy\.resources\.reservations\.cpus": berth compose applies only a memory/,
  );
});
