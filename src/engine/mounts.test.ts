import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ociMounts, planMounts } from './mounts.js';
import { Volumes } from './volumes.js';
import type { ApiMount } from './types.js';

function withVolumes(fn: (v: Volumes, dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-mounts-'));
  try {
    fn(new Volumes(dir, () => new Map()), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('binds, mounts, tmpfs and image volumes become a plan and OCI mounts', () =>
  withVolumes((vs, dir) => {
    const plan = planMounts(
      {
        Binds: [`${dir}:/host:ro`, 'named:/n'],
        Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024, Mode: 0o700 } }],
      },
      { '/data': {}, '/n': {} },
      vs,
      () => [],
    );
    assert.deepEqual(
      plan.map((m) => [m.Type, m.Destination, m.RW]),
      [
        ['bind', '/host', false],
        ['volume', '/n', true],
        ['tmpfs', '/t', true],
        ['volume', '/data', true],
      ],
    );
    assert.equal(plan[1].Name, 'named');
    assert.equal(plan[3].Anonymous, true);
    assert.deepEqual(
      vs
        .list()
        .map((v) => v.Name)
        .sort(),
      [plan[3].Name, 'named'].sort(),
    );
    const oci = ociMounts(plan);
    assert.deepEqual(
      oci.find((m) => m.destination === '/host'),
      { destination: '/host', type: 'bind', source: dir, options: ['rbind', 'ro', 'rprivate'] },
    );
    assert.deepEqual(oci.find((m) => m.destination === '/t')?.options, ['nosuid', 'nodev', 'noexec', 'size=1024', 'mode=700']);
  }));

test('bad specs are refused', () =>
  withVolumes((vs) => {
    assert.throws(() => planMounts({ Binds: ['a:b'] }, {}, vs, () => []), /must be absolute/);
    assert.throws(() => planMounts({ Binds: ['/x:/y:bogus'] }, {}, vs, () => []), /invalid mode/);
    assert.throws(() => planMounts({ Binds: ['v1:/y', 'w1:/y'] }, {}, vs, () => []), /Duplicate mount point/);
    assert.throws(
      () => planMounts({ Mounts: [{ Type: 'bind', Source: '/no/such/dir', Target: '/y' }] }, {}, vs, () => []),
      /does not exist/,
    );
    assert.throws(() => vs.create({ Name: 'x', DriverOpts: { type: 'nfs' } }), /takes no options/);
    assert.throws(() => vs.create({ Name: '../x' }), /invalid characters/);
  }));

test("Mounts' bind, volume and tmpfs options: applied (CreateMountpoint, NonRecursive) or refused, none ignored", () =>
  withVolumes((vs, dir) => {
    const src = join(dir, 'made/here');
    const plan = planMounts(
      { Mounts: [{ Type: 'bind', Source: src, Target: '/b', BindOptions: { CreateMountpoint: true, NonRecursive: true } }] },
      {},
      vs,
      () => [],
    );
    assert.ok(statSync(src).isDirectory());
    assert.deepEqual(ociMounts(plan)[0].options, ['bind', 'rw', 'rprivate']);
    const refused = (m: ApiMount, re: RegExp) => assert.throws(() => planMounts({ Mounts: [m] }, {}, vs, () => []), re);
    refused(
      { Type: 'bind', Source: src, Target: '/b', ReadOnly: true, BindOptions: { ReadOnlyForceRecursive: true } },
      /ReadOnlyForceRecursive is not supported/,
    );
    refused({ Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { Subpath: 'a' } }, /Subpath is not supported/);
    refused({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { Options: [['noexec']] } }, /TmpfsOptions.Options is not supported/);
    assert.deepEqual(vs.list(), [], 'a refused mount makes no volume');
  }));
