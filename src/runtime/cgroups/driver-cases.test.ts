// The cases every cgroup driver must pass on a real hierarchy (lifecycle: create, join, pids,
// freeze, stats, busy-cgroup conflict, kill, destroy). Registers nothing by itself; each
// integration test file calls `driverCases` with a factory for its layout.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BerthError } from '../../errors.js';
import type { CgroupManager } from './manager.js';

export function driverCases(label: string, skip: string | false, open: (cgroupsPath: string) => CgroupManager): void {
  const name = `/berth-test-${randomBytes(4).toString('hex')}`;
  const children: ChildProcess[] = [];
  const managers: CgroupManager[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => once(c, 'exit')));
    for (const m of managers) {
      try {
        await m.destroy();
      } catch {
        // the next line reports what is left
      }
    }
    for (const m of managers) for (const d of Object.values(m.paths)) assert.equal(existsSync(d), false, `left behind: ${d}`);
  });

  test(`${label}: lifecycle through the shared driver cases`, { skip }, async () => {
    const cg = open(name);
    managers.push(cg);
    await cg.create();
    for (const d of Object.values(cg.paths)) assert.ok(existsSync(d), d);
    const c = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(c);
    await once(c, 'spawn');
    await cg.addProcess(c.pid!);
    for (const [k, d] of Object.entries(cg.paths)) {
      assert.ok(readFileSync(`${d}/cgroup.procs`, 'utf8').split('\n').includes(String(c.pid)), `pid in ${k || 'unified'}: ${d}`);
    }
    assert.deepEqual(cg.pids(), [c.pid]);

    // A second container cannot take a cgroup that holds processes.
    await assert.rejects(
      () => open(name).create(),
      (e) => e instanceof BerthError && e.kind === 'conflict',
    );

    await cg.freeze();
    assert.equal(cg.frozen(), true);
    await cg.thaw();
    assert.equal(cg.frozen(), false);
    assert.ok((cg.stats().pids.current ?? 1) >= 1);

    const exited = once(c, 'exit');
    await cg.kill();
    assert.equal((await exited)[1], 'SIGKILL');
    for (let i = 0; i < 100 && cg.pids().length; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(cg.pids(), []);
    await cg.destroy();
    for (const d of Object.values(cg.paths)) assert.equal(existsSync(d), false, d);
  });
}
