// Rootless berth against the real kernel: an ordinary user made by the test (with a home and an
// /etc/subuid and /etc/subgid range of its own) runs `berth`, which starts that user's own berthd
// in a user namespace of the user's ranges, on /tmp/berth-<uid>/berth/berth.sock (no login
// manager sets XDG_RUNTIME_DIR under `su -`) with its data under ~/.local/share/berth. As that user:
// pull from a local registry, run, exec, a volume whose files are the user's and its subordinate
// ids on the host, a published port (pasta) reached from the host with the client's address seen
// inside, traffic out through pasta (to a web server and a resolver the test runs on the host's
// loopback) with inspect showing the addresses pasta set, --network host in berthd's network
// namespace (the host's), and what a rootless berthd refuses (other networks, limits without
// delegated cgroups) said clearly. The user, its home, its processes (by PID) and its berthd go
// at the end, and the id files, /dev/net/tun's mode and the loopback's addresses are as they were.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, seedRegistry } from './engine-fixture.js';
import { freePort, startRegistry, type TestRegistry } from './helpers/registry.js';
import { allSubIds, freeRange, RANGE_SIZE } from '../src/engine/userns.js';

const USER = `berth-t-rl${process.pid % 100000}`;
/** A client address of the host's other than its own (TEST-NET-2), added to lo for the port test. */
const CLIENT = '198.51.100.7';
const TUN = '/dev/net/tun';
/** The MAC the outbound test's container asks for (`--mac-address`), which pasta sets. */
const MAC = '02:42:c6:33:64:07';
let tunMode: number | undefined;
const saved: Record<string, string | undefined> = {};
let start = 0;
let uid = 0;
let gid = 0;
let home = '';
let registry: TestRegistry | undefined;
let seedDir = '';

const readMaybe = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);
const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** `berth ARGS` as the test's user, in a login shell's environment (`su -`: no XDG_RUNTIME_DIR). */
function berth(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('su', ['-', USER, '-c', [BERTH, ...args].map(quote).join(' ')], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function berthOk(args: string[]): string {
  const r = berth(args);
  assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

const userPids = () =>
  execFileSync('ps', ['-u', String(uid), '-o', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => ({ pid: Number(l.trim().split(/\s+/)[0]), args: l.trim().replace(/^\d+\s+/, '') }));

before(async () => {
  for (const f of ['/etc/subuid', '/etc/subgid']) saved[f] = readMaybe(f);
  start = freeRange([...allSubIds(saved['/etc/subuid'] ?? ''), ...allSubIds(saved['/etc/subgid'] ?? '')], RANGE_SIZE, 4_000_000)!;
  execFileSync('useradd', ['-m', '-U', '-s', '/bin/sh', USER]);
  for (const f of ['/etc/subuid', '/etc/subgid']) writeFileSync(f, `${saved[f] ?? ''}${USER}:${start}:${RANGE_SIZE}\n`);
  uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }));
  gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }));
  home = execFileSync('su', ['-', USER, '-c', 'echo $HOME'], { encoding: 'utf8' }).trim();
  seedDir = mkdtempSync(join(tmpdir(), 'berth-test-rootless-'));
  // pasta opens the tun device as the user: Debian's udev makes it 0666; this machine's is 0600.
  tunMode = statSync(TUN).mode & 0o777;
  chmodSync(TUN, 0o666);
  registry = await startRegistry();
  await seedRegistry(registry, seedDir);
});

after(async () => {
  try {
    if (uid) {
      // Containers first (their mounts live in berthd's namespace), then berthd, then anything left, each by PID.
      const ids = berth(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) berth(['rm', '-f', ...ids]);
      const parent = userPids().find((p) => p.args.includes('berthd.js') && !p.args.startsWith('/usr/bin/node'));
      if (parent) process.kill(parent.pid, 'SIGTERM');
      for (let i = 0; i < 100 && userPids().some((p) => p.args.includes('berthd.js')); i++) await new Promise((r) => setTimeout(r, 50));
      for (const p of userPids()) process.kill(p.pid, 'SIGKILL');
    }
  } finally {
    if (tunMode !== undefined) chmodSync(TUN, tunMode);
    await registry?.stop();
    if (seedDir) rmSync(seedDir, { recursive: true, force: true });
    for (const f of ['/etc/subuid', '/etc/subgid']) {
      if (saved[f] === undefined) rmSync(f, { force: true });
      else writeFileSync(f, saved[f]!);
    }
    spawnSync('userdel', ['-r', USER], { encoding: 'utf8' });
    if (home) rmSync(home, { recursive: true, force: true });
    if (uid) rmSync(`/tmp/berth-${uid}`, { recursive: true, force: true });
  }
});

test("berth started by an ordinary user starts that user's own berthd, rootless, in private folders of its own", () => {
  const info = JSON.parse(berthOk(['info', '--format', '{{json .}}'])) as { SecurityOptions: string[]; DockerRootDir: string };
  assert.ok(info.SecurityOptions.includes('name=rootless'), info.SecurityOptions.join(' '));
  assert.ok(info.SecurityOptions.includes('name=seccomp,profile=builtin'), info.SecurityOptions.join(' '));
  assert.equal(info.DockerRootDir, `${home}/.local/share/berth`);
  const dir = statSync(`/tmp/berth-${uid}`);
  assert.equal(dir.uid, uid);
  assert.equal(dir.mode & 0o777, 0o700);
  assert.ok(statSync(`/tmp/berth-${uid}/berth/berth.sock`).isSocket());
  // berthd is the user's, in a user namespace mapped from the user's ranges.
  const inner = userPids().find((p) => p.args.startsWith('/usr/bin/node') && p.args.includes('berthd.js'));
  assert.ok(inner, JSON.stringify(userPids()));
  const map = readFileSync(`/proc/${inner.pid}/uid_map`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).join(' '));
  assert.deepEqual(map, [`0 ${uid} 1`, `1 ${start} ${RANGE_SIZE}`]);
});

test('as that user: pull from a registry, run with the mapping shown inside, exec, and a volume owned by the subordinate ids', () => {
  const image = `${registry!.host}/test/busybox:latest`;
  berthOk(['pull', '-q', image]);
  const out = berthOk([
    'run',
    '--rm',
    '--network',
    'none',
    image,
    'sh',
    '-c',
    'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; grep Seccomp: /proc/self/status',
  ]);
  const lines = out.split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  assert.deepEqual(lines, ['0', '0', `0 ${uid} 1`, `1 ${start} ${RANGE_SIZE}`, `0 ${gid} 1`, `1 ${start} ${RANGE_SIZE}`, 'Seccomp: 2']);

  berthOk(['volume', 'create', 'rl-data']);
  berthOk(['run', '-d', '--name', 'rl', '--network', 'none', '-v', 'rl-data:/data', image, 'sleep', '600']);
  assert.equal(berthOk(['exec', 'rl', 'id', '-u']), '0');
  berthOk(['exec', 'rl', 'sh', '-c', 'echo root > /data/by-root && chmod 777 /data']);
  berthOk(['exec', '-u', '1000:1000', 'rl', 'sh', '-c', 'echo user > /data/by-1000']);
  const data = `${home}/.local/share/berth/volumes/rl-data/_data`;
  // Container root is the user; container uid 1000 is the user's subordinate id start + 999.
  assert.deepEqual([statSync(`${data}/by-root`).uid, statSync(`${data}/by-root`).gid], [uid, gid]);
  assert.deepEqual([statSync(`${data}/by-1000`).uid, statSync(`${data}/by-1000`).gid], [start + 999, start + 999]);
  assert.equal(berthOk(['exec', 'rl', 'stat', '-c', '%u:%g', '/data/by-1000']), '1000:1000');
  berthOk(['rm', '-f', 'rl']);
  berthOk(['volume', 'rm', 'rl-data']);
});

test("an image mount (berth's --mount type=image): the image's files as the container's root sees its own, read-only, its view gone with the container", () => {
  const image = `${registry!.host}/test/busybox:latest`;
  const out = berthOk([
    'run',
    '--rm',
    '--network',
    'none',
    '--mount',
    `type=image,source=${image},target=/x,image-subpath=bin`,
    image,
    'sh',
    '-c',
    'stat -c %u:%g /x/busybox / ; touch /x/w 2>&1; true',
  ]);
  const [bin, root, write] = out.split('\n');
  assert.deepEqual([bin, root], ['0:0', '0:0']);
  assert.match(write, /Read-only file system/);
  // (Its mounts are in berthd's own mount namespace; its folder is the user's.)
  assert.deepEqual(
    readdirSync(`${home}/.local/share/berth/snapshots/containers`).filter((n) => n.includes('-image-')),
    [],
  );
});

test('the default network is pasta: a published port reached from the host shows the client its own address', async () => {
  const image = `${registry!.host}/test/busybox:latest`;
  const [any, local] = [await freePort(), await freePort()];
  const cgi =
    'mkdir -p /www/cgi-bin && printf "#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho \\$REMOTE_ADDR\\n" > /www/cgi-bin/ip && chmod 755 /www/cgi-bin/ip && exec httpd -f -p 80 -h /www';
  berthOk(['run', '-d', '--name', 'web', '-p', `${any}:80`, '-p', `127.0.0.1:${local}:80`, image, 'sh', '-c', cgi]);
  assert.deepEqual(berthOk(['port', 'web']).split('\n').sort(), [`80/tcp -> 0.0.0.0:${any}`, `80/tcp -> 127.0.0.1:${local}`]);
  // A MAC of its own, random (locally administered) where none is asked for.
  assert.match(berthOk(['inspect', '--format', '{{.NetworkSettings.MacAddress}}', 'web']), /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/);
  const pasta = userPids().filter((p) => p.args.startsWith('pasta '));
  assert.equal(pasta.length, 1, JSON.stringify(userPids()));
  execFileSync('ip', ['addr', 'add', `${CLIENT}/32`, 'dev', 'lo']);
  try {
    const get = (args: string[]) =>
      execFileSync('curl', ['-sS', '-m', '5', '--retry', '5', '--retry-connrefused', ...args], { encoding: 'utf8' }).trim();
    // A client on another address of the host: the container sees that address, not pasta's.
    assert.match(get(['--interface', CLIENT, `http://${CLIENT}:${any}/cgi-bin/ip`]), /^\[?(::ffff:)?198\.51\.100\.7\]?$/);
    // On the loopback, the client is the loopback's address.
    assert.match(get([`http://127.0.0.1:${local}/cgi-bin/ip`]), /127\.0\.0\.1/);
  } finally {
    execFileSync('ip', ['addr', 'del', `${CLIENT}/32`, 'dev', 'lo']);
  }
  berthOk(['rm', '-f', 'web']);
  // Its pasta ends with it.
  for (let i = 0; i < 50 && userPids().some((p) => p.pid === pasta[0].pid); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!userPids().some((p) => p.pid === pasta[0].pid), 'pasta outlived its container');
});

/** A program of the test's, run as a child (berth() blocks this process's loop), ended by its PID. */
async function serve(source: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`test server exited ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  return child;
}

/** A DNS server answering every A query with 203.0.113.9 (TEST-NET-3) and others with no record. */
const DNS_SERVER = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (q, from) => {
  let i = 12;
  while (q[i]) i += q[i] + 1;
  const qtype = q.readUInt16BE(i + 1);
  const question = q.subarray(12, i + 5);
  const head = Buffer.from([q[0], q[1], 0x81, 0x80, 0, 1, 0, qtype === 1 ? 1 : 0, 0, 0, 0, 0]);
  const answer = qtype === 1 ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 9]) : Buffer.alloc(0);
  s.send(Buffer.concat([head, question, answer]), from.port, from.address);
});
s.bind(53, '127.0.0.1', () => console.log('ready'));
`;

/** The host's uplink as the test reads it (iproute2): the default route's interface, gateway and first address. */
function hostUplink(): { gateway: string; address: string; prefixLen: number } {
  const [route] = JSON.parse(execFileSync('ip', ['-j', '-4', 'route', 'show', 'default'], { encoding: 'utf8' })) as {
    gateway: string;
    dev: string;
  }[];
  const [link] = JSON.parse(execFileSync('ip', ['-j', '-4', 'addr', 'show', 'dev', route.dev], { encoding: 'utf8' })) as {
    addr_info: { local: string; prefixlen: number }[];
  }[];
  return { gateway: route.gateway, address: link.addr_info[0].local, prefixLen: link.addr_info[0].prefixlen };
}

test("outbound through pasta: the host's loopback at the gateway, a lookup answered by a resolver there, and inspect shows what pasta set", async () => {
  const image = `${registry!.host}/test/busybox:latest`;
  const up = hostUplink();
  // Only the loopback carries this test's traffic: a web server and a resolver on the host's
  // 127.0.0.1, named by the resolv.conf berthd reads (bound over /etc/resolv.conf in its own mount namespace only).
  const port = await freePort();
  const web = await serve(
    `require('node:http').createServer((q, r) => r.end('from the host loopback')).listen(${port}, '127.0.0.1', () => console.log('ready'));`,
  );
  const dns = await serve(DNS_SERVER);
  const berthd = userPids().find((p) => p.args.startsWith('/usr/bin/node') && p.args.includes('berthd.js'))!;
  const resolv = join(seedDir, 'resolv.conf');
  writeFileSync(resolv, 'nameserver 127.0.0.1\nsearch berth.test\n', { mode: 0o644 });
  execFileSync('nsenter', ['-t', String(berthd.pid), '-m', 'mount', '--bind', resolv, '/etc/resolv.conf']);
  try {
    const published = await freePort();
    berthOk([
      'run',
      '-d',
      '--name',
      'out',
      '--mac-address',
      MAC,
      '--add-host',
      'the-host:host-gateway',
      '-p',
      `${published}:80`,
      image,
      'sleep',
      '600',
    ]);
    assert.equal(berthOk(['exec', 'out', 'wget', '-qO-', `http://${up.gateway}:${port}/`]), 'from the host loopback');
    // host-gateway is that gateway.
    assert.equal(berthOk(['exec', 'out', 'wget', '-qO-', `http://the-host:${port}/`]), 'from the host loopback');
    // The host's resolver on 127.0.0.1 is named by the gateway, which reaches it; the search list is the host's.
    assert.equal(berthOk(['exec', 'out', 'cat', '/etc/resolv.conf']), `search berth.test\nnameserver ${up.gateway}`);
    assert.match(berthOk(['exec', 'out', 'nslookup', 'probe.berth.test']), /Address:?\s+203\.0\.113\.9/);

    const s = JSON.parse(berthOk(['inspect', '--format', '{{json .NetworkSettings}}', 'out'])) as {
      IPAddress: string;
      IPPrefixLen: number;
      Gateway: string;
      MacAddress: string;
      Ports: Record<string, { HostIp: string; HostPort: string }[]>;
      Networks: Record<string, { IPAddress: string; Gateway: string; MacAddress: string }>;
    };
    assert.deepEqual([s.IPAddress, s.IPPrefixLen, s.Gateway], [up.address, up.prefixLen, up.gateway]);
    assert.deepEqual(
      [s.Networks.bridge.IPAddress, s.Networks.bridge.Gateway, s.Networks.bridge.MacAddress],
      [up.address, up.gateway, s.MacAddress],
    );
    assert.deepEqual(s.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(published) }] });
    // What the container has is what inspect says.
    const inside = berthOk(['exec', 'out', 'sh', '-c', 'ip -o -4 addr show; ip route; ip -o link show']);
    assert.ok(inside.includes(`inet ${up.address}/${up.prefixLen} `), inside);
    assert.ok(inside.includes(`default via ${up.gateway} `), inside);
    assert.equal(s.MacAddress, MAC);
    assert.ok(inside.includes(`link/ether ${s.MacAddress} `), inside);
    // One joining its network namespace (--network container:) has that address, and its resolv.conf.
    const joined = berthOk(['run', '--rm', '--network', 'container:out', image, 'sh', '-c', 'ip -o -4 addr show; cat /etc/resolv.conf']);
    assert.ok(joined.includes(`inet ${up.address}/${up.prefixLen} `), joined);
    assert.ok(joined.endsWith(`nameserver ${up.gateway}`), joined);
  } finally {
    berth(['rm', '-f', 'out']);
    execFileSync('nsenter', ['-t', String(berthd.pid), '-m', 'umount', '/etc/resolv.conf']);
    web.kill();
    dns.kill();
  }
});

test("--network host: the container is in berthd's network namespace, which is the host's, with the host's /sys bound", async () => {
  const image = `${registry!.host}/test/busybox:latest`;
  const netns = (pid: number | 'self') => execFileSync('readlink', [`/proc/${pid}/ns/net`], { encoding: 'utf8' }).trim();
  const berthd = userPids().find((p) => p.args.startsWith('/usr/bin/node') && p.args.includes('berthd.js'))!;
  // berthd's user namespace made no network namespace: its own is the host's.
  assert.equal(netns(berthd.pid), netns('self'));
  const [{ dev }] = JSON.parse(execFileSync('ip', ['-j', '-4', 'route', 'show', 'default'], { encoding: 'utf8' })) as { dev: string }[];
  const port = await freePort();
  const web = await serve(
    `require('node:http').createServer((q, r) => r.end('on the host')).listen(${port}, '127.0.0.1', () => console.log('ready'));`,
  );
  try {
    const out = berthOk([
      'run',
      '--rm',
      '--network',
      'host',
      image,
      'sh',
      '-c',
      `readlink /proc/self/ns/net; cat /sys/class/net/${dev}/address; wget -qO- http://127.0.0.1:${port}/`,
    ]).split('\n');
    assert.equal(out[0], netns('self'));
    // The host's uplink, as the host's /sys has it.
    assert.equal(out[1], readFileSync(`/sys/class/net/${dev}/address`, 'utf8').trim());
    assert.equal(out[2], 'on the host');
  } finally {
    web.kill();
  }
  // No pasta for it, and none left.
  assert.deepEqual(
    userPids().filter((p) => p.args.startsWith('pasta ')),
    [],
  );
});

test('a rootless berthd stopped while a container runs: the next joins the namespaces its containers hold, and adopts them', async () => {
  const image = `${registry!.host}/test/busybox:latest`;
  const id = berthOk(['run', '-d', '--network', 'none', image, 'sleep', '600']);
  const berthds = () => userPids().filter((p) => p.args.includes('berthd.js'));
  const parent = berthds().find((p) => !p.args.startsWith('/usr/bin/node'))!;
  const before = readFileSync(`/proc/${berthds().find((p) => p.pid !== parent.pid)!.pid}/uid_map`, 'utf8');
  const userNs = (pid: number) => execFileSync('readlink', [`/proc/${pid}/ns/user`], { encoding: 'utf8' }).trim();
  const oldNs = userNs(berthds().find((p) => p.pid !== parent.pid)!.pid);
  process.kill(parent.pid, 'SIGTERM');
  for (let i = 0; i < 100 && berthds().length; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(berthds(), []);
  // The next command starts a berthd in the same namespaces: it enters the container and ends it.
  assert.equal(berthOk(['exec', id, 'id', '-u']), '0');
  const inner = berthds().find((p) => p.args.startsWith('/usr/bin/node'))!;
  assert.equal(userNs(inner.pid), oldNs);
  assert.equal(readFileSync(`/proc/${inner.pid}/uid_map`, 'utf8'), before);
  assert.match(readFileSync(`/tmp/berth-${uid}/berth/berthd.log`, 'utf8'), /joins the user and mount namespaces its containers hold/);
  berthOk(['rm', '-f', id]);
});

test('what a rootless berthd cannot do yet is refused in words that say what to do', () => {
  const image = `${registry!.host}/test/busybox:latest`;
  const create = berth(['network', 'create', 'mine']);
  assert.notEqual(create.status, 0);
  assert.match(
    create.stderr,
    /rootless berthd: network mine is not available \(a rootless berthd has its default network, through pasta, and no bridge or user-defined networks\); use the default, --network host, --network none or --network container:NAME/,
  );
  const other = berthOk(['run', '-d', '--network', 'none', image, 'sleep', '600']);
  const connect = berth(['network', 'connect', 'bridge', other]);
  assert.match(connect.stderr, /rootless berthd: network bridge is not available/);
  const linked = berth(['run', '--rm', '--link', `${other}:other`, image, 'true']);
  assert.match(linked.stderr, /--link: a rootless berthd's containers each have the host's address/);
  berthOk(['rm', '-f', other]);
  const limited = berth(['run', '--rm', '--network', 'none', '--memory', '64m', image, 'true']);
  assert.notEqual(limited.status, 0);
  assert.match(
    limited.stderr,
    /cgroup limits asked for \(memory\): a rootless berthd has cgroups only where they are delegated to its user/,
  );
  const paused = berthOk(['run', '-d', '--network', 'none', image, 'sleep', '600']);
  const p = berth(['pause', paused]);
  assert.match(p.stderr, /pause needs the freezer cgroup/);
  berthOk(['rm', '-f', paused]);
  assert.equal(berthOk(['ps', '-aq']), '');
});

test('cgroups delegated to the user (a parent cgroup of its own in every hierarchy, as a v1 host can give): a limit asked is applied there, and pause works', async () => {
  const image = `${registry!.host}/test/busybox:latest`;
  const parent = `berth-t-rl-cg${process.pid}`;
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' - '))
    .filter(([, fs]) => /^cgroup2? /.test(fs ?? ''))
    .map(([head]) => head.split(' ')[4]);
  const dirs = mounts.map((m) => join(m, parent));
  for (const d of dirs) {
    mkdirSync(d);
    // cpuset's own values start empty in a new v1 cgroup: the host gives the parent its CPUs and nodes.
    for (const f of ['cpuset.cpus', 'cpuset.mems'])
      if (existsSync(join(d, f))) writeFileSync(join(d, f), readFileSync(join(d, '..', f), 'utf8'));
    execFileSync('chown', ['-R', `${uid}:${gid}`, d]);
  }
  // As systemd delegates a subtree: the user's berthd runs inside it (a v2 process moves only
  // between cgroups whose common ancestor it may write to), so its containers' cgroups go below.
  const unified = mounts.find((m) => existsSync(join(m, 'cgroup.controllers')));
  const berthds = userPids().filter((p) => p.args.includes('berthd.js'));
  const move = (to: string) => {
    if (unified) for (const p of berthds) writeFileSync(join(to, 'cgroup.procs'), String(p.pid));
  };
  move(join(unified ?? '', parent));
  let id = '';
  try {
    id = berthOk([
      'run',
      '-d',
      '--network',
      'none',
      '--cgroup-parent',
      `/${parent}`,
      '--memory',
      '64m',
      '--pids-limit',
      '77',
      image,
      'sleep',
      '600',
    ]);
    const memory = mounts.find((m) => existsSync(join(m, 'memory.limit_in_bytes')) || existsSync(join(m, parent, id, 'memory.max')));
    assert.ok(memory, 'a memory hierarchy');
    const own = join(memory, parent, id);
    const limit = existsSync(join(own, 'memory.max')) ? 'memory.max' : 'memory.limit_in_bytes';
    assert.equal(readFileSync(join(own, limit), 'utf8').trim(), String(64 << 20));
    const pids = mounts.find((m) => existsSync(join(m, parent, id, 'pids.max')));
    assert.equal(readFileSync(join(pids!, parent, id, 'pids.max'), 'utf8').trim(), '77');
    const pid = berthOk(['inspect', '--format', '{{.State.Pid}}', id]);
    assert.ok(readFileSync(join(own, 'cgroup.procs'), 'utf8').split('\n').includes(pid), `the container's process ${pid} is in ${own}`);
    berthOk(['pause', id]);
    assert.equal(berthOk(['inspect', '--format', '{{.State.Status}}', id]), 'paused');
    berthOk(['unpause', id]);
  } finally {
    if (id) berth(['rm', '-f', id]);
    move(unified ?? '');
    for (const d of dirs) if (existsSync(d)) rmdirSync(d);
  }
});
