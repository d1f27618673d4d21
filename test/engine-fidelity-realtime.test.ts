// Side by side with dockerd 20.10 started with a daemon-scoped realtime budget: berthd with
// daemon.json `cpu-rt-period`/`cpu-rt-runtime`, dockerd with `--cpu-rt-period`/`--cpu-rt-runtime`.
// Each gives its containers' parent cgroup (and each cgroup above it but the root) that budget
// before a start, so a container's `--cpu-rt-runtime` works without a `--cgroup-parent` of its
// own; what is over the budget is refused in the kernel's words (runc's under dockerd). The
// cgroup files are read inside the container (a private cgroup namespace) and on the host.
// v1 cpu hierarchy only (dockerd and berthd refuse the flags on v2; a unit test holds that).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { berthCli, IMAGE, run, show, sideBySide } from './helpers/side-by-side.js';

const CPU = '/sys/fs/cgroup/cpu';
const PERIOD = 1000000;
const BUDGET = 95000;
const rtv1 = existsSync(join(CPU, 'cpu.rt_runtime_us'));
let eng: EngineFixture;
let d: Dockerd;
const skip =
  !rtv1 ||
  sideBySide((p) => ({ eng, d } = p), {
    engine: { daemonConfig: { 'cpu-rt-period': PERIOD, 'cpu-rt-runtime': BUDGET } },
    dockerd: ['--cpu-rt-period', String(PERIOD), '--cpu-rt-runtime', String(BUDGET)],
  });
/** The parents this test names, and berthd's own: their budget goes back to none at the end. */
const parents = [`/berth-test-rt-d-${process.pid}`, `/berth-test-rt-b-${process.pid}`];

after(() => {
  if (!rtv1) return;
  // berthd's /berth outlives the test's berthd (other berthds share it): no budget left behind.
  if (existsSync(join(CPU, 'berth'))) writeFileSync(join(CPU, 'berth', 'cpu.rt_runtime_us'), '0');
  for (const p of parents)
    for (const c of readdirSync('/sys/fs/cgroup'))
      for (const dir of [join('/sys/fs/cgroup', c, p, 'sub'), join('/sys/fs/cgroup', c, p)]) if (existsSync(dir)) rmdirSync(dir);
});

const rt = 'cat /sys/fs/cgroup/cpu/cpu.rt_period_us /sys/fs/cgroup/cpu/cpu.rt_runtime_us';
const read = (cg: string, file: string) => readFileSync(join(CPU, cg, file), 'utf8').trim();
const count = (r: (a: string[]) => CliResult) => r(['ps', '-aq']).stdout.split('\n').filter(Boolean).length;

test(
  "a container's --cpu-rt-runtime within the daemon's budget: applied, the parent given the budget as dockerd gives its own",
  { skip },
  () => {
    for (const [who, r] of [
      ['docker → dockerd', d.docker(run(['--cpu-rt-runtime', '50000'], rt))],
      ['docker → berthd', eng.docker(run(['--cpu-rt-runtime', '50000'], rt))],
      ['berth', berthCli(eng, run(['--cpu-rt-runtime', '50000'], rt))],
    ] as const) {
      assert.equal(r.status, 0, show(who, r));
      assert.equal(r.stdout, `${PERIOD}\n50000\n`, who);
    }
    // The parent's budget, read while a container keeps it (an empty /berth may go with its last container).
    for (const [parent, cli] of [
      ['docker', d.docker],
      ['berth', eng.docker],
    ] as const) {
      const id = cli(['run', '-d', '--network', 'none', '--cpu-rt-runtime', '50000', IMAGE, 'sleep', '30']).stdout.trim();
      try {
        assert.deepEqual([read(parent, 'cpu.rt_period_us'), read(parent, 'cpu.rt_runtime_us')], [`${PERIOD}`, `${BUDGET}`], parent);
        assert.equal(read(`${parent}/${id}`, 'cpu.rt_runtime_us'), '50000', parent);
      } finally {
        cli(['rm', '-f', id]);
      }
    }
  },
);

test("over the daemon's budget: the kernel's refusal in runc's words from both, and no container left by berthd", { skip }, () => {
  const before = count(eng.docker);
  const args = run(['--cpu-rt-runtime', String(BUDGET + 1000)], 'true');
  const words = new RegExp(`failed to write "${BUDGET + 1000}": write /sys/fs/cgroup/cpu/.*/cpu\\.rt_runtime_us: invalid argument`);
  for (const [who, r] of [
    ['docker → dockerd', d.docker(args)],
    ['docker → berthd', eng.docker(args)],
  ] as const) {
    assert.equal(r.status, 125, show(who, r));
    assert.match(r.stderr, words, who);
  }
  assert.equal(count(eng.docker), before, 'berthd left a container behind');
});

test('a --cgroup-parent of two levels: each level gets the budget, as dockerd gives it', { skip }, () => {
  for (const [parent, cli] of [
    [parents[0], d.docker],
    [parents[1], eng.docker],
  ] as const) {
    const r = cli(run(['--cgroup-parent', `${parent}/sub`, '--cpu-rt-runtime', '20000'], rt));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${PERIOD}\n20000\n`);
    for (const cg of [parent, `${parent}/sub`]) assert.equal(read(cg, 'cpu.rt_runtime_us'), `${BUDGET}`, cg);
  }
});
