// Side by side with dockerd 20.10: block I/O limits, --oom-kill-disable, realtime CPU,
// --storage-opt and --gpus. The docker 28 CLI runs the same container against both engines (and
// the berth CLI against berthd) and the cgroup files are read inside it (a private cgroup
// namespace shows the container's own); what a machine lacks is warned of and discarded in
// dockerd's words, and what dockerd refuses is refused with its words, leaving no container.
// Written for v1 and hybrid machines (v1 controllers); on pure v2 the v1 cases skip.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { berthCli, IMAGE, show, sideBySide } from './helpers/side-by-side.js';

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));
const v1 = (ctl: string) => existsSync(`/sys/fs/cgroup/${ctl}/cgroup.procs`);
/** A block device of this machine (not a loop or RAM disk). */
const disk = readdirSync('/sys/block').find((n) => !/^(loop|ram|zram|nbd)/.test(n) && existsSync(`/dev/${n}`));

const run = (flags: string[], script: string) => [
  'run',
  '--rm',
  '--network',
  'none',
  '--cgroupns',
  'private',
  ...flags,
  IMAGE,
  'sh',
  '-c',
  script,
];

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
