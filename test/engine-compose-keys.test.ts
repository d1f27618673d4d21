// Issue 10, side by side: one compose file with many service keys (command, entrypoint,
// environment and env_file, port ranges and protocols, expose, volumes short and long incl.
// tmpfs and read_only, networks with aliases and a fixed address, depends_on with a condition,
// healthcheck, restart, deploy resources, ulimits, sysctls, capabilities, devices, DNS keys,
// extra_hosts, hostname/domainname, init, ipc, pid, labels, logging, memory and CPU keys,
// shm_size, stop signal and grace, tmpfs, user, working_dir, secrets, scale, a profile not
// enabled) brought up by docker-compose 1.29 on dockerd 20.10 and on berthd, and by
// `berth compose` on berthd: what each container sees from the inside must be the same. What
// differs by design (addresses, the DNS server, MACs berthd draws at random, the ndots:0 dockerd's
// embedded DNS adds where the user gives no ndots) is left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH, type CliResult, type EngineFixture } from './engine-fixture.js';
import { sideBySide } from './helpers/side-by-side.js';
import type { Dockerd } from './helpers/dockerd.js';

const COMPOSE = '/usr/bin/docker-compose';
let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p), { needs: [COMPOSE] });

const FILE = `services:
  a:
    image: busybox
    command: ["-c", "echo started; exec sleep 1000"]
    entrypoint: ["/bin/sh"]
    environment: {FOO: bar, EMPTY: ""}
    env_file: [a.env]
    ports: ["127.0.0.1:18180-18181:80-81", "127.0.0.1:18182:82/udp", "83"]
    expose: ["90", "91/udp"]
    volumes:
      - data:/data
      - ./host:/host:ro
      - type: tmpfs
        target: /tt
        tmpfs: {size: 1048576}
      - type: volume
        source: data2
        target: /data2
        read_only: true
        volume: {nocopy: true}
      - type: bind
        source: ./host
        target: /host2
        read_only: true
    networks:
      front:
        aliases: [alpha]
        ipv4_address: 10.231.5.10
      back: {}
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      timeout: 2s
      retries: 3
      start_period: 1s
    restart: unless-stopped
    deploy:
      resources:
        limits: {cpus: "0.5", memory: 64M}
        reservations: {memory: 32M}
    ulimits:
      nofile: {soft: 1024, hard: 2048}
      nproc: 500
    sysctls: {net.core.somaxconn: 1024}
    cap_add: [NET_ADMIN]
    cap_drop: [CHOWN]
    devices: ["/dev/null:/dev/mynull:rwm"]
    dns: [1.1.1.1]
    dns_search: [example.com]
    dns_opt: ["ndots:2"]
    extra_hosts: ["h1:10.0.0.1"]
    hostname: myhost
    domainname: example.org
    init: true
    ipc: shareable
    labels: {l1: v1}
    logging:
      driver: json-file
      options: {max-size: 1m, max-file: "2"}
    shm_size: 16m
    stop_signal: SIGUSR1
    stop_grace_period: 3s
    tmpfs: ["/run2:size=1m"]
    user: "1234:1234"
    working_dir: /tmp
    secrets: [s1]
    configs: [c1]
  b:
    image: busybox
    command: sleep 1000
    depends_on:
      a: {condition: service_healthy}
    mem_limit: 32m
    memswap_limit: 64m
    mem_reservation: 16m
    cpu_shares: 512
    cpus: 0.25
    cpuset: "0"
    pids_limit: 100
    oom_score_adj: 100
    group_add: ["100"]
    read_only: true
    tty: true
    stdin_open: true
    security_opt: ["no-new-privileges:true"]
    privileged: false
    pid: host
    mac_address: "02:42:0a:e7:05:99"
    networks: [front]
    scale: 2
    stop_signal: SIGTERM
    cgroup_parent: ""
  c:
    image: busybox
    profiles: [debug]
    command: sleep 1000
networks:
  front:
    driver: bridge
    ipam:
      config: [{subnet: 10.231.5.0/24, gateway: 10.231.5.1}]
    labels: {n1: v1}
    driver_opts: {com.docker.network.bridge.name: cpfront0}
  back:
    internal: true
volumes:
  data:
    labels: {v1: x}
  data2: {}
secrets:
  s1: {file: ./s1.txt}
configs:
  c1: {file: ./c1.txt}
`;

// Keys docker-compose 1.29 sends and dockerd 20.10 cannot take from it (volumes_from a container
// with a tmpfs mount fails its create: "get: no such volume"), or does not know (uts): berth
// compose alone, checked for their effect.
const MORE = `services:
  v:
    image: busybox
    command: sleep 1000
    volumes_from: ["a:ro"]
    devices: ["/dev/zero:/dev/myzero:r"]
    cpu_quota: 50000
    cpu_period: 100000
    mem_swappiness: 10
    uts: host
    userns_mode: host
    device_cgroup_rules: ["c 1:3 mr"]
`;

function project(root: string): string {
  const dir = join(root, 'cp');
  mkdirSync(join(dir, 'host'), { recursive: true });
  writeFileSync(join(dir, 'host/f'), 'hostfile\n');
  writeFileSync(join(dir, 'a.env'), 'FROMFILE=yes\nFOO=overridden\n');
  writeFileSync(join(dir, 's1.txt'), 'secret1\n');
  writeFileSync(join(dir, 'c1.txt'), 'config1\n');
  writeFileSync(join(dir, 'docker-compose.yml'), FILE);
  writeFileSync(join(dir, 'more.yml'), MORE);
  return dir;
}

/** The container's cgroup limits, v2's files or v1's. */
const CGROUP =
  'cd /sys/fs/cgroup; cat memory.max memory.low memory.swap.max cpu.max cpu.weight pids.max cpuset.cpus 2>/dev/null; ' +
  'cat memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes memory/memory.swappiness cpu/cpu.cfs_quota_us ' +
  'cpu/cpu.cfs_period_us cpu/cpu.shares pids/pids.max cpuset/cpuset.cpus 2>/dev/null; true';

/** What a container sees from the inside, the same wherever it runs. */
const INSIDE = [
  'id',
  'grep -E "^search" /etc/resolv.conf; grep -E "^options" /etc/resolv.conf | grep -v "ndots:0"',
  'grep h1 /etc/hosts',
  'grep "Max processes" /proc/1/limits',
  'cat /proc/sys/net/core/somaxconn',
  'grep Cap /proc/1/status',
  'stat -c "%n %F %t:%T %a" /dev/mynull /dev/myzero 2>&1',
  CGROUP,
  'tr "\\0" " " < /proc/1/cmdline',
  'df -k /dev/shm /tt /run2 2>&1 | tail -n +2 | tr -s " " | cut -d" " -f2,6',
  'grep -E " /(data|data2|host|host2|tt|run2|run/secrets/s1)( |/)" /proc/self/mountinfo | cut -d" " -f5,6 | sort',
  'cat /run/secrets/s1 /host/f /data2/../data2 2>&1',
  'cd /proc/1/cwd && pwd -P',
  'env | grep -E "^(FOO|EMPTY|FROMFILE|TERM)=" | sort',
  'cat /proc/1/oom_score_adj',
  'grep NoNewPrivs /proc/1/status',
  'touch /probe 2>&1 | grep -c Read-only',
];

function inside(cli: (a: string[]) => CliResult, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of INSIDE) {
    const r = cli(['exec', '-u', '0', name, 'sh', '-c', c]);
    out[c] = r.stdout + r.stderr;
  }
  return out;
}

const mac = (cli: (a: string[]) => CliResult, name: string) => cli(['exec', name, 'cat', '/sys/class/net/eth0/address']).stdout.trim();

/** Mounts of `name` as inspect tells them, by destination, without host paths. */
function mounts(cli: (a: string[]) => CliResult, name: string): string[] {
  const m = JSON.parse(cli(['inspect', '-f', '{{json .Mounts}}', name]).stdout) as Record<string, unknown>[];
  return m.map(({ Type, Name, Destination, Mode, RW }) => JSON.stringify({ Type, Name, Destination, Mode, RW })).sort();
}

function compose(bin: string, args: string[], cwd: string, host: string): CliResult {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, DOCKER_HOST: host, BERTH_HOST: host } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test(
  'docker-compose 1.29 on dockerd 20.10 and on berthd, and berth compose on berthd: the same containers from the inside',
  { skip },
  async () => {
    const dHost = `unix://${join(d.dir, 'docker.sock')}`;
    const runs = [
      { who: 'dockerd', host: dHost, dir: project(join(d.dir, 'p')), cli: (a: string[]) => d.docker(a), sep: '_', berth: false },
      { who: 'berthd', host: eng.host, dir: project(join(eng.dir, 'p')), cli: (a: string[]) => eng.docker(a), sep: '_', berth: false },
      {
        who: 'berth compose',
        host: eng.host,
        dir: project(join(eng.dir, 'q')),
        cli: (a: string[]) => eng.docker(a),
        sep: '-',
        berth: true,
      },
    ];
    const seen: Record<string, Record<string, unknown>> = {};
    for (const r of runs) {
      const [bin, pre] = r.berth ? [BERTH, ['compose', '-f', 'docker-compose.yml', '-f', 'more.yml']] : [COMPOSE, []];
      try {
        const up = compose(bin, [...pre, 'up', '-d'], r.dir, r.host);
        assert.equal(up.status, 0, `${r.who}: ${up.stderr}`);
        const names = r.cli(['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n').filter(Boolean).sort();
        const n = (s: string, i = 1) => `cp${r.sep}${s}${r.sep}${i}`;
        // scale: 2 for b; the profile's c is not made.
        assert.deepEqual(names, [n('a'), n('b'), n('b', 2), ...(r.berth ? [n('v')] : [])], r.who);
        seen[r.who] = {
          a: inside(r.cli, n('a')),
          hostnameA: r.cli(['exec', n('a'), 'hostname', '-f']).stdout,
          b: inside(r.cli, n('b')),
          mountsA: mounts(r.cli, n('a')),
          // mac_address: docker-compose 1.29 sends Config.MacAddress and then connects the network again.
          macB: mac(r.cli, n('b')),
          ...(r.berth ? { v: inside(r.cli, n('v')), c1: r.cli(['exec', n('a'), 'cat', '/c1']).stdout } : {}),
        };
      } finally {
        const down = compose(bin, [...pre, 'down', '-v', '-t', '1'], r.dir, r.host);
        assert.equal(down.status, 0, `${r.who}: ${down.stderr}`);
      }
    }
    const [dk, bd, bc] = [seen.dockerd, seen.berthd, seen['berth compose']];
    for (const k of ['a', 'hostnameA', 'b', 'mountsA', 'macB'])
      assert.deepEqual(bd[k], dk[k], `docker-compose: ${k} on berthd as on dockerd`);
    for (const k of ['a', 'hostnameA', 'b', 'macB']) assert.deepEqual(bc[k], bd[k], `${k}: berth compose as docker-compose`);
    // Mode tells how the create asked (a Binds entry's options; the Mounts API's volumes "z"), and
    // the two Composes ask differently; the mounts themselves are the same, and /c1 is berth
    // compose's config (docker-compose 1.29 drops configs).
    const mountsOnly = (l: unknown) =>
      (l as string[]).map((m) => ({ ...JSON.parse(m), Mode: undefined })).filter((m) => m.Destination !== '/c1');
    assert.deepEqual(mountsOnly(bc.mountsA), mountsOnly(bd.mountsA));
    assert.equal(bd.macB, '02:42:0a:e7:05:99');
    const a = bd.a as Record<string, string>;
    // Spot checks that the comparison is of something.
    assert.match(a['grep "Max processes" /proc/1/limits'], /500\s+500/);
    assert.match(a[CGROUP], /^67108864\n33554432\n/);
    assert.equal(a['cat /proc/sys/net/core/somaxconn'], '1024\n');
    assert.match(a['stat -c "%n %F %t:%T %a" /dev/mynull /dev/myzero 2>&1'], /^\/dev\/mynull character special file 1:3 /m);
    assert.match((bd.b as Record<string, string>)[CGROUP], /^33554432$/m); // b's mem_limit
    // configs: docker-compose 1.29 drops them with a warning; berth compose mounts the file.
    assert.equal(bc.c1, 'config1\n');
    const v = bc.v as Record<string, string>;
    assert.match(v['stat -c "%n %F %t:%T %a" /dev/mynull /dev/myzero 2>&1'], /^\/dev\/myzero character special file 1:5 /m);
    assert.match(v[CGROUP], /^50000[ \n]100000$/m);
    // volumes_from a:ro: a's volumes and binds, read-only.
    assert.match(
      v['grep -E " /(data|data2|host|host2|tt|run2|run/secrets/s1)( |/)" /proc/self/mountinfo | cut -d" " -f5,6 | sort'],
      /^\/data ro,/m,
    );
  },
);
