// Integration tests of the v2 driver for real, on a cgroup2 mount that holds few controllers (the
// unified half of a hybrid machine, or a pure v2 machine's root): nested create with
// subtree_control, hugetlb, unified keys, join, freeze, kill, device-program hand-off, destroy.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BerthError } from '../../errors.js';
import { driverCases } from './driver-cases.test.js';
import { type CgroupManager, detectLayout, openCgroups, reopenCgroups } from './manager.js';

const mountRoot = (() => {
  try {
    return detectLayout().unified?.mountPoint;
  } catch {
    return undefined;
  }
})();
const skip = process.getuid?.() !== 0 ? 'needs root' : !mountRoot ? 'needs a cgroup2 mount' : false;
const UNIFIED = mountRoot ?? '/sys/fs/cgroup/unified';
const name = `berth-test-${randomBytes(4).toString('hex')}`;
const M = 1024 * 1024;
const kind = (k: string, re?: RegExp) => (e: unknown) => e instanceof BerthError && e.kind === k && (!re || re.test(e.message));
const read = (p: string) => readFileSync(p, 'utf8').trim();
const controllers = skip ? [] : read(`${UNIFIED}/cgroup.controllers`).split(/\s+/);
const rootSubtree = skip ? '' : read(`${UNIFIED}/cgroup.subtree_control`);

const children: ChildProcess[] = [];
const managers: CgroupManager[] = [];

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => once(c, 'exit')));
  for (const m of managers) {
    try {
      await m.destroy();
    } catch {
      // swept below
    }
  }
  if (skip) return;
  for (const d of [`${name}/a/leaf`, `${name}/a`, `${name}-bad`, name]) {
    try {
      rmdirSync(`${UNIFIED}/${d}`);
    } catch {
      // gone already
    }
  }
  const others = readdirSync(UNIFIED, { withFileTypes: true }).some((e) => e.isDirectory());
  const was = new Set(rootSubtree.split(/\s+/).filter(Boolean));
  for (const c of read(`${UNIFIED}/cgroup.subtree_control`).split(/\s+/).filter(Boolean)) {
    if (!others && !was.has(c)) {
      try {
        writeFileSync(`${UNIFIED}/cgroup.subtree_control`, `-${c}`);
      } catch {
        // in use
      }
    }
  }
});

let cg: CgroupManager;
const attached: { dir: string; program: Buffer }[] = [];

test('v2: nested create enables controllers down the path and applies hugetlb and unified keys', { skip }, async () => {
  cg = openCgroups(`/${name}/a/leaf`, 'x', {
    mountRoot: UNIFIED,
    attachDeviceProgram: async (dir, program) => {
      attached.push({ dir, program });
    },
  });
  managers.push(cg);
  assert.equal(cg.layout, 'v2');
  assert.deepEqual(cg.paths, { '': `${UNIFIED}/${name}/a/leaf` });
  const huge = controllers.includes('hugetlb');
  await cg.create({
    ...(huge ? { hugepageLimits: [{ pageSize: '2MB', limit: 4 * M }] } : {}),
    unified: { 'cgroup.max.descendants': '5' },
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ],
  });
  const dir = cg.paths[''];
  assert.ok(existsSync(dir));
  for (const c of controllers) {
    assert.ok(read(`${UNIFIED}/${name}/a/cgroup.subtree_control`).split(' ').includes(c), `${c} enabled for leaf`);
    assert.ok(read(`${dir}/cgroup.controllers`).split(' ').includes(c));
  }
  if (huge) assert.equal(read(`${dir}/hugetlb.2MB.max`), String(4 * M));
  assert.equal(read(`${dir}/cgroup.max.descendants`), '5');
  assert.equal(attached.length, 1);
  assert.equal(attached[0].dir, dir);
  assert.equal(attached[0].program.length % 8, 0);
});

test('v2: unsupported keys and missing controllers are named; nothing left behind', { skip }, async () => {
  await assert.rejects(() => cg.update({ unified: { 'nosuch.file': '1' } }), kind('unsupported', /nosuch\.file/));
  if (!controllers.includes('pids')) await assert.rejects(() => cg.update({ pids: { limit: 5 } }), kind('unsupported', /pids/));
  const bad = openCgroups(`/${name}-bad`, 'x', { mountRoot: UNIFIED });
  managers.push(bad);
  await assert.rejects(() => bad.create({ devices: [{ allow: true, access: 'rwm' }] }), kind('unsupported', /eBPF/));
  assert.equal(existsSync(bad.paths['']), false);
  await assert.rejects(
    () => bad.create({ unified: { 'cgroup.max.descendants': 'lots' } }),
    kind('invalid', /cgroup\.max\.descendants.*lots|lots.*cgroup\.max\.descendants/),
  );
  assert.equal(existsSync(bad.paths['']), false);
});

test('v2: join, pids, freeze, thaw, stats, kill', { skip }, async () => {
  const c = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(c);
  await once(c, 'spawn');
  await cg.addProcess(c.pid!);
  assert.ok(read(`/proc/${c.pid}/cgroup`).split('\n').includes(`0::/${name}/a/leaf`));
  assert.deepEqual(cg.pids(), [c.pid]);
  await cg.freeze();
  assert.equal(cg.frozen(), true);
  assert.match(read(`${cg.paths['']}/cgroup.events`), /frozen 1/);
  await cg.thaw();
  assert.equal(cg.frozen(), false);
  const s = cg.stats();
  if (controllers.includes('hugetlb')) assert.equal(s.hugetlb['2MB']?.max, 4 * M);
  const exited = once(c, 'exit');
  await reopenCgroups('v2', cg.paths, { mountRoot: UNIFIED }).kill();
  const [, signal] = await exited;
  assert.equal(signal, 'SIGKILL');
});

test('v2: destroy removes the leaf and the parents it made', { skip }, async () => {
  await cg.destroy();
  assert.equal(existsSync(`${UNIFIED}/${name}/a/leaf`), false);
  assert.equal(existsSync(`${UNIFIED}/${name}/a`), false);
  assert.equal(existsSync(`${UNIFIED}/${name}`), false);
  assert.ok(existsSync(`${UNIFIED}/cgroup.procs`));
});

driverCases('v2 on the unified mount', skip, (path) => openCgroups(path, 'x', { mountRoot: UNIFIED }));
