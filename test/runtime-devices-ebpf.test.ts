// The cgroup v2 device filter, for real: berth's eBPF program (generated in TypeScript) is
// attached by the native helper to a cgroup of this machine's cgroup2 hierarchy, and the
// kernel then refuses a device the rules do not allow — and allows it after an update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { attachDeviceProgram } from '../src/runtime/container.js';
import { compileDeviceFilter } from '../src/runtime/cgroups/devices-ebpf.js';
import { detectLayout } from '../src/runtime/cgroups/manager.js';

const unified = (() => {
  try {
    return detectLayout().unified?.mountPoint;
  } catch {
    return undefined;
  }
})();

/** Runs sh in the cgroup and reports whether it could read /dev/zero and /dev/null. */
async function probe(dir: string): Promise<string> {
  const child = spawn(
    'sh',
    [
      '-c',
      `echo $$ > ${join(dir, 'cgroup.procs')}; [ "$(head -c1 /dev/zero 2>&1 | wc -c)" = 1 ] && echo zero-ok || echo zero-denied; (: < /dev/null) 2>&- && echo null-ok || echo null-denied`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  await new Promise((r) => child.on('close', r));
  return out.trim();
}

test(
  'a v2 device filter denies what its rules do not allow, and an update replaces it',
  { skip: !unified && 'no cgroup2 hierarchy' },
  async (t) => {
    const dir = join(unified!, `berth-test-dev-${process.pid}`);
    mkdirSync(dir);
    t.after(() => {
      if (existsSync(dir)) rmdirSync(dir);
    });
    await attachDeviceProgram(
      dir,
      compileDeviceFilter([
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      ]),
    );
    assert.equal(await probe(dir), 'zero-ok\nnull-denied');
    await attachDeviceProgram(dir, compileDeviceFilter([{ allow: true, access: 'rwm' }]));
    assert.equal(await probe(dir), 'zero-ok\nnull-ok');
    assert.equal(readFileSync(join(dir, 'cgroup.procs'), 'utf8'), '');
  },
);

test("a malformed program is refused with the verifier's reason", { skip: !unified && 'no cgroup2 hierarchy' }, async (t) => {
  const dir = join(unified!, `berth-test-dev-bad-${process.pid}`);
  mkdirSync(dir);
  t.after(() => rmdirSync(dir));
  // One instruction, not an exit: the verifier rejects a program that can fall off its end.
  const bad = Buffer.alloc(8);
  bad[0] = 0xb7; // r0 = 0
  await assert.rejects(() => attachDeviceProgram(dir, bad), /load device filter/);
});
