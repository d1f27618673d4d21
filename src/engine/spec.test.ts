import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSpec, command, mergeCommand, mergeEnv, DEFAULT_CAPS } from './spec.js';

test('Entrypoint and Cmd combine as Docker does', () => {
  const image = { Entrypoint: ['/entry'], Cmd: ['default'] };
  assert.deepEqual(command({}, image), ['/entry', 'default']);
  assert.deepEqual(command({ Cmd: ['mine'] }, image), ['/entry', 'mine']);
  assert.deepEqual(command({ Entrypoint: ['sh'] }, image), ['sh'], 'a new entrypoint drops the image Cmd');
  assert.deepEqual(command({ Entrypoint: ['sh'], Cmd: ['-c', 'x'] }, image), ['sh', '-c', 'x']);
  assert.throws(() => command({}, {}), /No command specified/);
  // dockerd's merge: an empty Entrypoint keeps the image's Cmd, [""] (`--entrypoint ""`) resets the image's Entrypoint.
  assert.deepEqual(command({ Entrypoint: [] }, image), ['default']);
  assert.deepEqual(command({ Entrypoint: [''], Cmd: ['echo', 'hi'] }, image), ['echo', 'hi']);
  assert.deepEqual(mergeCommand({ Entrypoint: [''], Cmd: ['echo'] }, image), { Entrypoint: null, Cmd: ['echo'] });
  assert.throws(() => command({ Entrypoint: [''] }, image), /No command specified/);
  assert.deepEqual(mergeCommand({ Cmd: [] }, image), { Entrypoint: ['/entry'], Cmd: ['default'] });
});

test('Env: later keys win', () => {
  assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['B=3', 'C=4']), ['A=1', 'B=3', 'C=4']);
});

test("the spec has Docker's defaults and the resources asked for", () => {
  const rootfs = mkdtempSync(join(tmpdir(), 'berth-test-spec-'));
  try {
    mkdirSync(join(rootfs, 'etc'));
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc/group'), 'app:x:1000:\nextra:x:2000:app\n');
    const spec = buildSpec({
      id: 'a'.repeat(64),
      rootfs,
      image: { Env: ['PATH=/bin'], Cmd: ['sh'] },
      config: { User: 'app', Env: ['X=1'], WorkingDir: '/w', Tty: true },
      hostConfig: { Memory: 1 << 26, NanoCpus: 5e8, PidsLimit: 10 },
    });
    assert.deepEqual(spec.process!.user, { uid: 1000, gid: 1000, additionalGids: [1000, 2000] });
    assert.deepEqual(spec.process!.env, ['PATH=/bin', `HOSTNAME=${'a'.repeat(12)}`, 'TERM=xterm', 'X=1', 'HOME=/']);
    assert.equal(spec.process!.cwd, '/w');
    assert.equal(spec.process!.terminal, true);
    assert.deepEqual(spec.process!.capabilities!.bounding, DEFAULT_CAPS);
    assert.equal(spec.hostname, 'a'.repeat(12));
    assert.equal(spec.root!.path, rootfs);
    assert.deepEqual(spec.linux!.resources!.memory, { limit: 1 << 26 });
    assert.deepEqual(spec.linux!.resources!.cpu, { period: 100000, quota: 50000 });
    assert.deepEqual(spec.linux!.resources!.pids, { limit: 10 });
    assert.ok(spec.linux!.namespaces!.some((n) => n.type === 'network'));
    assert.ok(spec.linux!.maskedPaths!.includes('/proc/kcore'));
    assert.ok(spec.mounts!.some((m) => m.destination === '/dev/mqueue'));
    assert.throws(
      () => buildSpec({ id: 'b'.repeat(64), rootfs, image: { Cmd: ['sh'] }, config: { User: 'ghost' }, hostConfig: {} }),
      /unable to find user ghost/,
    );
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
});
