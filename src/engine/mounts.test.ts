import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ociMounts, planMounts, recursiveReadOnlyRefusal, tmpfsOptions } from './mounts.js';
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
      { destination: '/host', type: 'bind', source: dir, options: ['rbind', 'ro', 'rro', 'rprivate'] },
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
    assert.throws(() => vs.create({ Name: 'xx', DriverOpts: { type: 'nfs' } }), /missing required option: "device"/);
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
    refused({ Type: 'volume', Source: 'vv', Target: '/v', VolumeOptions: { Subpath: 'a' } }, /cannot access path .*\/vv\/_data\/a: /);
    refused(
      { Type: 'volume', Source: 'vv', Target: '/v', ImageOptions: { Subpath: 'a' } },
      /: invalid mount config for type "volume": field ImageOptions must not be specified$/,
    );
    assert.deepEqual(vs.list(), [], 'a refused mount makes no volume');
  }));

test("image mounts: always read-only, the reference as Name, the subpath checked as a volume's; other types' options refused in moby's words", () =>
  withVolumes((vs) => {
    const plan = (m: Partial<ApiMount>) =>
      planMounts({ Mounts: [{ Type: 'image', Source: 'busybox', Target: '/i/', ...m }] }, {}, vs, () => []);
    for (const ReadOnly of [undefined, false, true]) {
      const [m] = plan({ ReadOnly });
      assert.deepEqual(m, { Type: 'image', Name: 'busybox', Source: '', Destination: '/i', Mode: '', RW: false, Propagation: 'rprivate' });
    }
    const [sub] = plan({ ImageOptions: { Subpath: 'usr/./bin' } });
    assert.equal(sub.Subpath, 'usr/./bin');
    sub.Source = '/snap/view/merged';
    assert.deepEqual(ociMounts([sub], undefined, '/run/x/subpaths/id')[0], {
      destination: '/i',
      type: 'bind',
      source: '/run/x/subpaths/id/0',
      options: ['rbind', 'ro', 'rprivate'],
    });
    sub.Subpath = undefined;
    assert.deepEqual(ociMounts([sub])[0].source, '/snap/view/merged');
    const refused = (m: Partial<ApiMount>, words: string) =>
      assert.throws(
        () => plan(m),
        (e: Error) => e.message === `invalid mount config for type "image": ${words}`,
        JSON.stringify(m),
      );
    refused({ Source: '' }, 'field Source must not be empty');
    refused({ Source: undefined }, 'field Source must not be empty');
    for (const Subpath of ['../etc', '/etc', 'a/../..'])
      refused({ ImageOptions: { Subpath } }, 'subpath must be a relative path within the volume');
    refused({ BindOptions: { Propagation: 'shared' } }, 'field BindOptions must not be specified');
    refused({ VolumeOptions: { NoCopy: true } }, 'field VolumeOptions must not be specified');
    refused({ TmpfsOptions: { SizeBytes: 1 } }, 'field TmpfsOptions must not be specified');
    refused({ ClusterOptions: {} }, 'field ClusterOptions must not be specified');
    // The first in moby's order is named.
    refused({ TmpfsOptions: {}, VolumeOptions: {} }, 'field VolumeOptions must not be specified');
    assert.throws(
      () => planMounts({ Mounts: [{ Type: 'tmpfs', Target: '/t', ImageOptions: {} }] }, {}, vs, () => []),
      /: invalid mount config for type "tmpfs": field ImageOptions must not be specified$/,
    );
    // Another container's image mount is its own: volumes-from leaves it out, as tmpfs.
    const other = plan({});
    assert.deepEqual(
      planMounts({ VolumesFrom: ['c'] }, {}, vs, () => other),
      [],
    );
    assert.deepEqual(vs.list(), []);
  }));

test("VolumeOptions.Subpath: a path of the volume's own, resolved beneath it; dockerd's refusals, no volume made for nothing", () =>
  withVolumes((vs) => {
    const data = vs.create({ Name: 'sv' }).Mountpoint;
    mkdirSync(join(data, 'sub/dir'), { recursive: true });
    writeFileSync(join(data, 'sub/dir/f'), 'x');
    mkdirSync(join(data, 'hack'));
    symlinkSync('../sub', join(data, 'hack/good'));
    symlinkSync('/', join(data, 'root'));
    symlinkSync('../../..', join(data, 'up'));
    const plan = (Subpath: string, Source = 'sv') =>
      planMounts({ Mounts: [{ Type: 'volume', Source, Target: '/v', VolumeOptions: { Subpath } }] }, {}, vs, () => []);
    const [m] = plan('sub/dir');
    assert.equal(m.Subpath, 'sub/dir');
    assert.equal(m.Source, data, "inspect's Source is the volume's folder, as dockerd's");
    assert.deepEqual(ociMounts([m], undefined, '/run/x/subpaths/id')[0].source, '/run/x/subpaths/id/0');
    assert.equal(plan('hack/good/dir/f')[0].Subpath, 'hack/good/dir/f');
    const refused = (sub: string, words: string | RegExp, Source = 'sv') =>
      assert.throws(
        () => plan(sub, Source),
        (e: Error) => (typeof words === 'string' ? e.message === words : words.test(e.message)),
        sub,
      );
    const lexical = 'invalid mount config for type "volume": subpath must be a relative path within the volume';
    refused('../../etc/passwd', lexical);
    refused('/etc', lexical);
    refused('a/../..', lexical);
    refused('x', 'invalid mount config for type "volume": must not set Subpath when using anonymous volumes', '');
    for (const out of ['root', 'root/etc', 'up'])
      refused(out, `path concatenation escapes the base directory, base: ${data}, subpath: ${out}`);
    refused('nope', `cannot access path ${data}/nope: no such file or directory`);
    refused('x', /^cannot access path .*\/new\/_data\/x: no such file or directory$/, 'new');
    assert.deepEqual(
      vs.list().map((v) => v.Name),
      ['sv'],
      'the volume a refused create made is gone, the one that was there stays',
    );
  }));

test('a read-only bind is recursively read-only where the runtime can, unless asked otherwise; the conflicts in dockerd words', () =>
  withVolumes((vs, dir) => {
    const bind = (BindOptions: ApiMount['BindOptions'], ReadOnly = true): ApiMount => ({
      Type: 'bind',
      Source: dir,
      Target: '/b',
      ReadOnly,
      BindOptions,
    });
    const options = (m: ApiMount, refusal?: string, opts = {}) =>
      ociMounts(
        planMounts({ Mounts: [m] }, {}, vs, () => [], opts),
        refusal,
      )[0].options;
    assert.deepEqual(options(bind({})), ['rbind', 'ro', 'rro', 'rprivate']);
    assert.deepEqual(options(bind({ ReadOnlyNonRecursive: true })), ['rbind', 'ro', 'rprivate']);
    assert.deepEqual(options(bind({ ReadOnlyForceRecursive: true })), ['rbind', 'ro', 'rro', 'rprivate']);
    assert.deepEqual(options(bind({}, false)), ['rbind', 'rw', 'rprivate']);
    // A client older than API 1.44, or a runtime that cannot: the top mount alone (ForceRecursive: refused).
    assert.deepEqual(options(bind({}), undefined, { readOnlyNonRecursive: true }), ['rbind', 'ro', 'rprivate']);
    const binds = planMounts({ Binds: [`${dir}:/h:ro`] }, {}, vs, () => [], { readOnlyNonRecursive: true });
    assert.deepEqual(ociMounts(binds)[0].options, ['rbind', 'ro', 'rprivate']);
    assert.deepEqual(ociMounts(planMounts({ Binds: [`${dir}:/h:ro`] }, {}, vs, () => []))[0].options, ['rbind', 'ro', 'rro', 'rprivate']);
    assert.deepEqual(options(bind({}), 'rro is not supported'), ['rbind', 'ro', 'rprivate']);
    assert.throws(
      () => options(bind({ ReadOnlyForceRecursive: true }), 'rro is not supported by runtime "crun"'),
      (e: Error) => e.message === 'rro is not supported by runtime "crun"',
    );
    const refused = (m: ApiMount, words: string) =>
      assert.throws(
        () => planMounts({ Mounts: [m] }, {}, vs, () => []),
        (e: Error) => e.message === words,
      );
    refused(bind({ ReadOnlyNonRecursive: true }, false), 'mount options conflict: !ReadOnly && BindOptions.ReadOnlyNonRecursive');
    refused(bind({ ReadOnlyForceRecursive: true }, false), 'mount options conflict: !ReadOnly && BindOptions.ReadOnlyForceRecursive');
    refused(
      bind({ ReadOnlyNonRecursive: true, ReadOnlyForceRecursive: true }),
      'mount options conflict: ReadOnlyNonRecursive && BindOptions.ReadOnlyForceRecursive',
    );
  }));

test('rro needs berth-runtime and Linux 5.12', () => {
  assert.equal(recursiveReadOnlyRefusal(true, 'berth', '6.18.44-fc'), undefined);
  assert.equal(recursiveReadOnlyRefusal(true, 'runc', '5.12.0'), undefined);
  assert.match(recursiveReadOnlyRefusal(true, 'berth', '5.11.9')!, /needs Linux 5.12/);
  assert.match(recursiveReadOnlyRefusal(false, 'crun', '6.1.0')!, /^rro is not supported by runtime "crun"/);
});

test("TmpfsOptions.Options: flags and data options after the defaults; others refused in dockerd's words", () =>
  withVolumes((vs) => {
    const tmpfs = (Options: string[][]) =>
      ociMounts(planMounts({ Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 4096, Options } }] }, {}, vs, () => []))[0]
        .options;
    assert.deepEqual(tmpfs([['exec'], ['nr_inodes', '100']]), ['nosuid', 'nodev', 'noexec', 'size=4096', 'exec', 'nr_inodes=100']);
    assert.deepEqual(tmpfsOptions([['noexec'], ['nosuid'], ['uid', '1000']]), ['noexec', 'nosuid', 'uid=1000']);
    for (const bad of [['foo'], ['bind'], ['rshared'], ['size'], ['uid', '1', 'x'], [], ['mode', '1,exec'], ['noexec', 'x']])
      assert.throws(
        () => tmpfs([bad]),
        (e: Error) => e.message === `invalid tmpfs option ${JSON.stringify(bad)}`,
        JSON.stringify(bad),
      );
  }));
