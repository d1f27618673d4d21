// Side by side with dockerd 20.10: block I/O limits, --oom-kill-disable, realtime CPU,
// --memory-swappiness, kernel memory, what GET /info says the cgroups support, --storage-opt
// and --gpus. The docker 28 CLI runs the same container against both engines (and
// the berth CLI against berthd) and the cgroup files are read inside it (a private cgroup
// namespace shows the container's own); what a machine lacks is warned of and discarded in
// dockerd's words, and what dockerd refuses is refused with its words, leaving no container.
// Written for v1 and hybrid machines (v1 controllers); on pure v2 the v1 cases skip.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { berthCli, IMAGE, run, show, sideBySide } from './helpers/side-by-side.js';

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));
const v1 = (ctl: string) => existsSync(`/sys/fs/cgroup/${ctl}/cgroup.procs`);
/** A block device of this machine (not a loop or RAM disk). */
const disk = readdirSync('/sys/block').find((n) => !/^(loop|ram|zram|nbd)/.test(n) && existsSync(`/dev/${n}`));

/** Every engine runs it; the stdout and the WARNING lines must agree; returns dockerd's. */
function same(args: string[], berthToo = true): CliResult {
  const want = d.docker(args);
  assert.equal(want.status, 0, show('docker → dockerd', want));
  const warn = (r: CliResult) => r.stderr.split('\n').filter((l) => l.startsWith('WARNING'));
  const runs: [string, CliResult][] = [['docker → berthd', eng.docker(args)]];
  if (berthToo) runs.push(['berth', berthCli(eng, args)]);
  for (const [who, got] of runs) {
    assert.equal(got.status, 0, show(who, got));
    assert.equal(got.stdout, want.stdout, `${who} and docker → dockerd differ for ${args.join(' ')}`);
    assert.deepEqual(warn(got), warn(want), `${who}'s warnings`);
  }
  return want;
}

const count = (r: (a: string[]) => CliResult) => r(['ps', '-aq']).stdout.split('\n').filter(Boolean).length;

type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: string }>;
/** The raw API of dockerd (curl on its socket) and of berthd, at `version` (dockerd 20.10 speaks up to 1.41). */
const dockerdApi =
  (version = '1.41'): Api =>
  async (method, path, body) => {
    const r = spawnSync(
      'curl',
      [
        '-sS',
        '--unix-socket',
        join(d.dir, 'docker.sock'),
        '-X',
        method,
        '-H',
        'Content-Type: application/json',
        ...(body ? ['-d', JSON.stringify(body)] : []),
        '-w',
        '\n%{http_code}',
        `http://d/v${version}${path}`,
      ],
      { encoding: 'utf8' },
    );
    const lines = r.stdout.split('\n');
    return { status: Number(lines.pop()), body: lines.join('\n') };
  };
const berthdApi =
  (version = '1.41'): Api =>
  (method, path, body) =>
    eng.api(method, `/v${version}${path}`, body);

/** Creates a container through `api`, runs it to its end with the docker CLI `cli`, removes it: its output. */
async function runApi(api: Api, cli: (a: string[]) => CliResult, body: Record<string, unknown>): Promise<{ out: CliResult; create: any }> {
  const c = await api('POST', '/containers/create', { Image: IMAGE, ...body });
  assert.equal(c.status, 201, c.body);
  const create = JSON.parse(c.body);
  try {
    return { out: cli(['start', '-a', create.Id]), create };
  } finally {
    cli(['rm', '-f', create.Id]);
  }
}

/** Both refuse with `words` (exit 125); berthd leaves no container (dockerd may: it fails these at start). */
function bothRefuse(args: string[], words: RegExp): void {
  const before = count(eng.docker);
  const want = d.docker(args);
  const got = eng.docker(args);
  assert.equal(want.status, 125, show('docker → dockerd', want));
  assert.equal(got.status, 125, show('docker → berthd', got));
  assert.match(want.stderr, words);
  assert.match(got.stderr, words);
  assert.equal(count(eng.docker), before, 'berthd left a container behind');
}

test(
  'block I/O: throttles in the blkio files, a weight the kernel lacks discarded with the warning',
  { skip: skip || !v1('blkio') || !disk },
  () => {
    const dev = `/dev/${disk}`;
    const out = same(
      run(
        [
          '--device-read-bps',
          `${dev}:1mb`,
          '--device-write-bps',
          `${dev}:2mb`,
          '--device-read-iops',
          `${dev}:100`,
          '--device-write-iops',
          `${dev}:200`,
        ],
        'cd /sys/fs/cgroup/blkio; cat blkio.throttle.read_bps_device blkio.throttle.write_bps_device blkio.throttle.read_iops_device blkio.throttle.write_iops_device',
      ),
    );
    assert.match(out.stdout, /^\d+:\d+ 1048576\n\d+:\d+ 2097152\n\d+:\d+ 100\n\d+:\d+ 200\n$/);
    // The weight: in blkio.weight where the scheduler has one (CFQ/BFQ), else dockerd's warning and 0.
    const w = same(
      run(['--blkio-weight', '300', '--blkio-weight-device', `${dev}:200`], 'cat /sys/fs/cgroup/blkio/blkio.weight 2>/dev/null; true'),
    );
    if (w.stdout === '')
      assert.match(w.stderr, /WARNING: Your kernel does not support Block I\/O weight or the cgroup is not mounted\. Weight discarded\./);
    else assert.equal(w.stdout, '300\n');
    // docker update --blkio-weight: the same answer from both.
    for (const r of [d.docker, eng.docker]) {
      const id = r(['create', '--network', 'none', IMAGE, 'true']).stdout.trim();
      try {
        const u = r(['update', '--blkio-weight', '300', id]);
        assert.equal(u.status, 0, u.stderr);
        assert.equal(r(['inspect', '-f', '{{.HostConfig.BlkioWeight}}', id]).stdout, w.stdout === '' ? '0\n' : '300\n');
      } finally {
        r(['rm', '-f', id]);
      }
    }
    // A path that is not there: dockerd's words (it fails the start; berthd the create).
    const before = count(eng.docker);
    const r = eng.docker(['run', '--rm', '--network', 'none', '--device-read-bps', '/dev/berth-nosuch:1mb', IMAGE, 'true']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /stat \/dev\/berth-nosuch: no such file or directory/);
    assert.match(
      d.docker(['run', '--rm', '--network', 'none', '--device-read-bps', '/dev/berth-nosuch:1mb', IMAGE, 'true']).stderr,
      /stat \/dev\/berth-nosuch: no such file or directory/,
    );
    assert.equal(count(eng.docker), before);
  },
);

test('--oom-kill-disable sets memory.oom_control; without -m both warn', { skip: skip || !v1('memory') }, () => {
  assert.equal(
    same(run(['--oom-kill-disable', '-m', '64m'], 'head -n 1 /sys/fs/cgroup/memory/memory.oom_control')).stdout,
    'oom_kill_disable 1\n',
  );
  const w = same(run(['--oom-kill-disable'], 'head -n 1 /sys/fs/cgroup/memory/memory.oom_control'));
  assert.match(w.stderr, /WARNING: OOM killer is disabled for the container, but no memory limit is set/);
  assert.equal(same(run([], 'head -n 1 /sys/fs/cgroup/memory/memory.oom_control')).stdout, 'oom_kill_disable 0\n');
});

test(
  "realtime CPU: the period applied; a runtime within the parent's budget applied; none: dockerd's words",
  { skip: skip || !v1('cpu') },
  () => {
    const rt = 'cat /sys/fs/cgroup/cpu/cpu.rt_period_us /sys/fs/cgroup/cpu/cpu.rt_runtime_us';
    assert.equal(same(run(['--cpu-rt-period', '500000'], rt)).stdout, '500000\n0\n');
    bothRefuse(
      run(['--cpu-rt-runtime', '950000'], 'true'),
      /failed to write "950000": write \/sys\/fs\/cgroup\/cpu\/.*\/cpu\.rt_runtime_us: invalid argument/,
    );
    bothRefuse(
      run(['--cpu-rt-period', '1000', '--cpu-rt-runtime', '2000'], 'true'),
      /cpu real-time runtime cannot be higher than cpu real-time period/,
    );
    // A parent with a budget (as dockerd's --cpu-rt-runtime gives its own): the runtime is the container's.
    const parent = `/berth-test-rt-${process.pid}`;
    mkdirSync(`/sys/fs/cgroup/cpu${parent}`);
    try {
      writeFileSync(`/sys/fs/cgroup/cpu${parent}/cpu.rt_runtime_us`, '100000');
      assert.equal(same(run(['--cgroup-parent', parent, '--cpu-rt-runtime', '50000'], rt)).stdout, '1000000\n50000\n');
    } finally {
      for (const c of readdirSync('/sys/fs/cgroup')) {
        const dir = join('/sys/fs/cgroup', c, parent);
        if (existsSync(dir)) rmdirSync(dir);
      }
    }
  },
);

test("--gpus: no device driver, in dockerd's words; --storage-opt size: overlay2's refusal off xfs", { skip }, () => {
  bothRefuse(
    ['run', '--rm', '--network', 'none', '--gpus', 'all', IMAGE, 'true'],
    /could not select device driver "" with capabilities: \[\[gpu\]\]/,
  );
  // (This test's dockerd is on vfs, whose words differ: overlay2's were read from a dockerd on overlay2 over ext4.)
  const before = count(eng.docker);
  for (const [opt, words] of [
    ['size=1G', /--storage-opt is supported only for overlay over xfs with 'pquota' mount option/],
    ['foo=1', /Unknown option foo/],
  ] as const) {
    const r = eng.docker(['run', '--rm', '--network', 'none', '--storage-opt', opt, IMAGE, 'true']);
    assert.equal(r.status, 125, r.stderr);
    assert.match(r.stderr, words);
  }
  assert.equal(count(eng.docker), before, 'a refusal left a container');
});

test(
  "--memory-swappiness: memory.swappiness inside; -1 the parent's; out of 0..100 refused in the CLIs' and dockerd's words, leaving nothing",
  { skip: skip || !v1('memory') },
  async () => {
    const file = 'cat /sys/fs/cgroup/memory/memory.swappiness';
    assert.equal(same(run(['--memory-swappiness', '10'], file)).stdout, '10\n');
    assert.equal(same(run(['--memory-swappiness', '0'], file)).stdout, '0\n');
    assert.equal(same(run(['--memory-swappiness', '-1'], file)).stdout, same(run([], file)).stdout);
    // The CLIs check the range before any request (docker 28's words; exit 125).
    for (const [who, r] of [
      ['docker → dockerd', d.docker(run(['--memory-swappiness', '101'], 'true'))],
      ['docker → berthd', eng.docker(run(['--memory-swappiness', '101'], 'true'))],
      ['berth', berthCli(eng, run(['--memory-swappiness', '101'], 'true'))],
    ] as const) {
      assert.equal(r.status, 125, show(who, r));
      assert.match(r.stderr, /invalid value: 101\. Valid memory swappiness range is 0-100/, who);
    }
    // The API: dockerd's 400 and words, at create and at update; berthd leaves no container.
    const before = count(eng.docker);
    const bad = { Cmd: ['true'], HostConfig: { MemorySwappiness: 300 } };
    for (const api of [dockerdApi(), berthdApi(), berthdApi('1.50')]) {
      const r = await api('POST', '/containers/create', { Image: IMAGE, ...bad });
      assert.equal(r.status, 400, r.body);
      assert.equal(JSON.parse(r.body).message, 'Invalid value: 300, valid memory swappiness range is 0-100');
    }
    assert.equal(count(eng.docker), before, 'berthd left a container behind');
    for (const [api, cli] of [
      [dockerdApi(), d.docker],
      [berthdApi(), eng.docker],
    ] as const) {
      const id = cli(['create', '--network', 'none', '--memory-swappiness', '10', IMAGE, 'true']).stdout.trim();
      try {
        assert.equal(cli(['inspect', '-f', '{{.HostConfig.MemorySwappiness}}', id]).stdout, '10\n');
        const u = await api('POST', `/containers/${id}/update`, { MemorySwappiness: 300 });
        assert.equal(u.status, 400, u.body);
        assert.equal(JSON.parse(u.body).message, 'Invalid value: 300, valid memory swappiness range is 0-100');
        // In range: dockerd's update answers 200 and changes nothing; berthd refuses rather than ignore it.
        const ok = await api('POST', `/containers/${id}/update`, { MemorySwappiness: 20 });
        if (cli === d.docker) assert.equal(ok.status, 200, ok.body);
        else assert.match(JSON.parse(ok.body).message, /MemorySwappiness cannot be updated: berthd applies it at create only/);
        assert.equal(cli(['inspect', '-f', '{{.HostConfig.MemorySwappiness}}', id]).stdout, '10\n');
      } finally {
        cli(['rm', '-f', id]);
      }
    }
  },
);

test(
  'kernel memory: --kernel-memory as dockerd 20.10 takes it at API 1.41 (its warning, its 6MB floor, kept, the kernel ignores it), discarded with a warning from API 1.42; KernelMemoryTCP in memory.kmem.tcp.limit_in_bytes',
  { skip: skip || !v1('memory') || !existsSync('/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes') },
  async () => {
    const at141 = { env: { DOCKER_API_VERSION: '1.41' } };
    const kmem = 'cat /sys/fs/cgroup/memory/memory.kmem.limit_in_bytes';
    const args = run(['--kernel-memory', '8m'], kmem);
    const want = d.docker(args);
    const got = eng.docker(args, at141);
    assert.equal(want.status, 0, show('docker → dockerd', want));
    assert.equal(got.status, 0, show('docker → berthd at 1.41', got));
    assert.equal(got.stdout, want.stdout);
    assert.match(want.stderr, /WARNING: Specifying a kernel memory limit is deprecated and will be removed in a future release\./);
    assert.match(got.stderr, /WARNING: Specifying a kernel memory limit is deprecated and will be removed in a future release\./);
    for (const [who, cli, o] of [
      ['dockerd', d.docker, {}],
      ['berthd', eng.docker, at141],
    ] as const) {
      const id = cli(['create', '--network', 'none', '--kernel-memory', '8m', IMAGE, 'true'], o).stdout.trim();
      try {
        assert.equal(cli(['inspect', '-f', '{{.HostConfig.KernelMemory}}', id], o).stdout, '8388608\n', who);
      } finally {
        cli(['rm', '-f', id], o);
      }
    }
    const before = count(eng.docker);
    const small = run(['--kernel-memory', '2m'], 'true');
    for (const [who, r] of [
      ['docker → dockerd', d.docker(small)],
      ['docker → berthd at 1.41', eng.docker(small, at141)],
    ] as const) {
      assert.equal(r.status, 125, show(who, r));
      assert.match(r.stderr, /Minimum kernel memory limit allowed is 6MB/, who);
    }
    assert.equal(count(eng.docker), before, 'berthd left a container behind');
    // API 1.42 and later have no KernelMemory (moby drops it): discarded, and said so (the docker 28
    // CLI leaves it out of a request at those versions itself, so berth's CLI shows it).
    const r = berthCli(eng, run(['--kernel-memory', '8m'], kmem));
    assert.equal(r.status, 0, show('berth', r));
    assert.equal(r.stdout, want.stdout);
    assert.match(r.stderr, /WARNING: KernelMemory discarded: API 1\.42 removed it/);
    const at150 = await berthdApi('1.50')('POST', '/containers/create', { Image: IMAGE, HostConfig: { KernelMemory: 8 << 20 } });
    assert.equal(at150.status, 201, at150.body);
    assert.match(JSON.parse(at150.body).Warnings.join('\n'), /KernelMemory discarded: API 1\.42 removed it/);
    assert.equal(eng.docker(['inspect', '-f', '{{.HostConfig.KernelMemory}}', JSON.parse(at150.body).Id]).stdout, '0\n');
    eng.docker(['rm', '-f', JSON.parse(at150.body).Id]);
    // KernelMemoryTCP (API only): runc 1.1 under dockerd ignores it; berth writes it.
    const tcp = {
      Cmd: ['cat', '/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes'],
      HostConfig: { KernelMemoryTCP: 8 << 20, NetworkMode: 'none', CgroupnsMode: 'private' },
    };
    const unlimited = same(run([], 'cat /sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes')).stdout;
    assert.equal((await runApi(dockerdApi(), d.docker, tcp)).out.stdout, unlimited);
    assert.equal((await runApi(berthdApi(), eng.docker, tcp)).out.stdout, `${8 << 20}\n`);
    assert.equal((await runApi(berthdApi('1.50'), eng.docker, tcp)).out.stdout, `${8 << 20}\n`);
  },
);

test('GET /info: what the cgroups support and the warnings about them, as dockerd 20.10 reads them on this machine', { skip }, async () => {
  const fields = [
    'MemoryLimit',
    'SwapLimit',
    'KernelMemory',
    'KernelMemoryTCP',
    'CpuCfsPeriod',
    'CpuCfsQuota',
    'CPUShares',
    'CPUSet',
    'PidsLimit',
    'OomKillDisable',
    'IPv4Forwarding',
    'BridgeNfIptables',
    'BridgeNfIp6tables',
    // What `docker info` prints from them, and where it logs in by default.
    'Warnings',
    'CgroupDriver',
    'IndexServerAddress',
  ];
  const pick = (i: Record<string, unknown>) => Object.fromEntries(fields.map((k) => [k, i[k]]));
  const info = async (api: Api) => {
    const r = await api('GET', '/info');
    assert.equal(r.status, 200, r.body);
    return pick(JSON.parse(r.body));
  };
  const want = await info(dockerdApi());
  assert.deepEqual(await info(berthdApi()), want);
  // From API 1.42 KernelMemory is false, as moby answers; the berth CLI asks for the newest.
  assert.deepEqual(await info(berthdApi('1.50')), { ...want, KernelMemory: false });
  const cli = berthCli(eng, ['info', '--format', 'json']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.deepEqual(pick(JSON.parse(cli.stdout)), { ...want, KernelMemory: false });
});

test(
  'HostConfig.Cgroup: dockerd keeps it with no effect (the container has a cgroup of its own); berthd refuses it and makes no container',
  { skip },
  async () => {
    const other = d.docker(['run', '-d', '--network', 'none', IMAGE, 'sleep', '30']).stdout.trim();
    try {
      const c = await dockerdApi()('POST', '/containers/create', {
        Image: IMAGE,
        Cmd: ['cat', '/proc/self/cgroup'],
        HostConfig: { Cgroup: `container:${other}`, NetworkMode: 'none', CgroupnsMode: 'host' },
      });
      assert.equal(c.status, 201, c.body);
      const { Id } = JSON.parse(c.body);
      try {
        const out = d.docker(['start', '-a', Id]).stdout;
        assert.match(out, new RegExp(`^\\d+:memory:/.*${Id}$`, 'm'), out);
        assert.doesNotMatch(out, new RegExp(other));
        assert.equal(d.docker(['inspect', '-f', '{{.HostConfig.Cgroup}}', Id]).stdout, `container:${other}\n`);
      } finally {
        d.docker(['rm', '-f', Id]);
      }
    } finally {
      d.docker(['rm', '-f', other]);
    }
    const before = count(eng.docker);
    const b = await berthdApi()('POST', '/containers/create', {
      Image: IMAGE,
      Cmd: ['true'],
      HostConfig: { Cgroup: 'container:x', NetworkMode: 'none' },
    });
    assert.equal(b.status, 400, b.body);
    assert.match(JSON.parse(b.body).message, /^HostConfig\.Cgroup is not supported by berthd: dockerd keeps it with no effect/);
    assert.equal(count(eng.docker), before, 'berthd left a container behind');
  },
);

test(
  "VolumeDriver and volume create -d: dockerd's 404 where a volume needs a driver that is not there, kept where none does",
  { skip },
  async () => {
    const answers = async (api: Api) => {
      const out: [number, string][] = [];
      for (const hc of [
        { Binds: ['fc-named:/x'], VolumeDriver: 'nosuch' },
        { Binds: ['fc-there:/x'], VolumeDriver: 'nosuch' },
        { VolumeDriver: 'nosuch', Volumes: true },
      ]) {
        const { Volumes, ...HostConfig } = hc as Record<string, unknown>;
        const r = await api('POST', '/containers/create', {
          Image: IMAGE,
          Cmd: ['true'],
          ...(Volumes ? { Volumes: { '/y': {} } } : {}),
          HostConfig,
        });
        out.push([r.status, JSON.parse(r.body).message.replace(/\b[0-9a-f]{64}\b/, 'ID')]);
      }
      return out;
    };
    for (const cli of [d.docker, eng.docker]) assert.equal(cli(['volume', 'create', 'fc-there']).status, 0);
    try {
      const before = [count(eng.docker), eng.docker(['volume', 'ls', '-q']).stdout];
      const want = await answers(dockerdApi());
      assert.deepEqual(want[0], [404, 'create fc-named: error looking up volume plugin nosuch: plugin "nosuch" not found']);
      assert.deepEqual(want[2], [404, 'create ID: error looking up volume plugin nosuch: plugin "nosuch" not found']);
      assert.deepEqual(await answers(berthdApi()), want);
      assert.deepEqual([count(eng.docker), eng.docker(['volume', 'ls', '-q']).stdout], before, 'berthd left a container or a volume');
      // No volume to make: kept as given; Mounts' volumes take their own driver (local), as dockerd's.
      for (const [api, cli] of [
        [dockerdApi(), d.docker],
        [berthdApi(), eng.docker],
      ] as const) {
        const c = await api('POST', '/containers/create', {
          Image: IMAGE,
          Cmd: ['true'],
          HostConfig: { VolumeDriver: 'nosuch', Mounts: [{ Type: 'volume', Source: 'fc-mount', Target: '/m' }] },
        });
        assert.equal(c.status, 201, c.body);
        const { Id } = JSON.parse(c.body);
        assert.equal(
          cli(['inspect', '-f', '{{.HostConfig.VolumeDriver}} {{range .Mounts}}{{.Driver}}{{end}}', Id]).stdout,
          'nosuch local\n',
        );
        cli(['rm', '-f', Id]);
        cli(['volume', 'rm', 'fc-mount']);
      }
      // docker volume create -d: the same refusal from every CLI; no volume made.
      const v = ['volume', 'create', '-d', 'nosuch', 'fc-vol'];
      const dv = d.docker(v);
      assert.equal(dv.status, 1, dv.stderr);
      assert.equal(
        dv.stderr,
        'Error response from daemon: create fc-vol: error looking up volume plugin nosuch: plugin "nosuch" not found\n',
      );
      for (const got of [eng.docker(v), berthCli(eng, v)]) assert.deepEqual([got.status, got.stderr], [dv.status, dv.stderr]);
      assert.equal(eng.docker(['volume', 'ls', '-q']).stdout, before[1]);
    } finally {
      for (const cli of [d.docker, eng.docker]) cli(['volume', 'rm', 'fc-there']);
    }
  },
);

test(
  "endpoint DriverOpts on a bridge network: dockerd keeps them with no effect, berthd refuses them; the typed ones in dockerd's words, at create",
  { skip },
  async () => {
    const net = `fc-opts-${process.pid}`;
    const body = (opts: Record<string, string>) => ({
      Image: IMAGE,
      Cmd: ['true'],
      HostConfig: { NetworkMode: net },
      NetworkingConfig: { EndpointsConfig: { [net]: { DriverOpts: opts } } },
    });
    for (const cli of [d.docker, eng.docker]) assert.equal(cli(['network', 'create', net]).status, 0);
    try {
      // dockerd: created, started and shown by inspect, with nothing applied.
      const c = await dockerdApi()('POST', '/containers/create', body({ foo: 'bar' }));
      assert.equal(c.status, 201, c.body);
      const { Id } = JSON.parse(c.body);
      try {
        const r = d.docker(['start', '-a', Id]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(
          d.docker(['inspect', '-f', `{{json (index .NetworkSettings.Networks "${net}").DriverOpts}}`, Id]).stdout,
          '{"foo":"bar"}\n',
        );
      } finally {
        d.docker(['rm', '-f', Id]);
      }
      // berthd: a 400 that names the option, and no container.
      const kept = count(eng.docker);
      const bo = await berthdApi()('POST', '/containers/create', body({ foo: 'bar' }));
      assert.equal(bo.status, 400, bo.body);
      assert.match(
        JSON.parse(bo.body).message,
        /endpoint driver option foo on network fc-opts-\d+: berth's bridge driver applies no endpoint options/,
      );
      assert.equal(count(eng.docker), kept, 'berthd left a container behind');
      // A MAC as a driver option: dockerd creates the container and fails its start; berthd refuses the create in those words.
      const words = `failed to create endpoint fc-mac on network ${net}: trying to create an endpoint with an invalid endpoint configuration`;
      const mac = { 'com.docker.network.endpoint.macaddress': '02:42:ac:11:00:99' };
      const dc = await dockerdApi()('POST', '/containers/create?name=fc-mac', body(mac));
      assert.equal(dc.status, 201, dc.body);
      const ds = d.docker(['start', 'fc-mac']);
      d.docker(['rm', '-f', 'fc-mac']);
      assert.match(ds.stderr, new RegExp(words.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      const before = count(eng.docker);
      const bc = await berthdApi()('POST', '/containers/create?name=fc-mac', body(mac));
      assert.equal(bc.status, 400, bc.body);
      assert.equal(JSON.parse(bc.body).message, words);
      assert.equal(count(eng.docker), before, 'berthd left a container behind');
    } finally {
      for (const cli of [d.docker, eng.docker]) cli(['network', 'rm', net]);
    }
  },
);
