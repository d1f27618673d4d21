import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limitsAsked, NoCgroups } from './none.js';

test('limits asked for: any resource but device rules and an unlimited pids count', () => {
  assert.deepEqual(limitsAsked(undefined), []);
  assert.deepEqual(limitsAsked({ devices: [{ allow: false, access: 'rwm' }] }), []);
  assert.deepEqual(limitsAsked({ pids: { limit: -1 } }), []);
  assert.deepEqual(limitsAsked({ memory: { limit: 1 << 20 }, pids: { limit: 10 }, cpu: { shares: 512 } }), ['memory', 'pids', 'cpu']);
  assert.deepEqual(limitsAsked({ hugepageLimits: [], memory: {} }), []);
});

test('without cgroups: limits, pause and stats are refused, never skipped; the init alone is known', async () => {
  const c = new NoCgroups();
  await c.create({ devices: [] });
  await assert.rejects(c.create({ memory: { limit: 1 << 20 } }), /cgroup limits asked for \(memory\)/);
  await assert.rejects(c.update({ cpu: { quota: 1000 } }), /cgroup limits asked for \(cpu\)/);
  await assert.rejects(c.freeze(), /pause needs the freezer cgroup/);
  assert.throws(() => c.stats(), /stats need the container's cgroups/);
  assert.deepEqual(c.pids(), []);
  await c.addProcess(process.pid);
  // This process shares the test's PID namespace: it and its descendants.
  assert.ok(c.pids().includes(process.pid));
  assert.equal(c.oomKillCount(), 0);
});
