// HostConfig.Mounts' options of API 1.44 to 1.47 (image mounts: engine-mounts-image), through the docker 28 CLI (API 1.50) and the
// API, read from inside the container. dockerd 20.10 here speaks API 1.41 only, so the
// expectations are moby's documented behaviour: a read-only bind is recursively read-only from
// API 1.44 (a submount under it too), its top mount only for older clients or with
// `bind-recursive=writable`; `TmpfsOptions.Options` are the tmpfs's mount options;
// `volume-subpath` mounts that path of the volume alone, never one that leads out of it (`..`, a
// symlink), checked again at start; the refusals (in dockerd's words) leave no container behind.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEngine, type CliResult, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let image: string;
let src: string;

before(async () => {
  eng = await startEngine();
  image = eng.directImage;
  eng.dockerOk(['pull', image]);
  // A bind source with a writable submount under it: what "recursively read-only" is about.
  src = join(eng.dir, 'rro-src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', join(src, 'sub')]).status, 0);
  writeFileSync(join(src, 'sub', 'f'), 'x');
});

after(async () => {
  if (src) spawnSync('umount', [join(src, 'sub')]);
  await eng?.stop();
});

const show = (r: CliResult) => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** The mount options (mountinfo's sixth field) of `dst` inside a container run with `args`, and whether a write under it worked. */
function inside(args: string[], dst: string, env: NodeJS.ProcessEnv = {}): { opts: string[]; wrote: boolean } {
  const script = `awk '$5 == "${dst}" { print $6 }' /proc/self/mountinfo; touch ${dst}/w 2>/dev/null && echo wrote; rm -f ${dst}/w`;
  const r = eng.docker(['run', '--rm', '--network', 'none', ...args, image, 'sh', '-c', script], { env });
  assert.equal(r.status, 0, show(r));
  const [opts, ...rest] = r.stdout.trim().split('\n');
  return { opts: opts.split(','), wrote: rest.includes('wrote') };
}

test('a read-only bind is recursively read-only (its submount too) from API 1.44; older clients and bind-recursive=writable keep the top only', () => {
  const ps = eng.dockerOk(['ps', '-aq']);
  for (const args of [
    ['--mount', `type=bind,src=${src},dst=/b,readonly`],
    ['-v', `${src}:/b:ro`],
    ['--mount', `type=bind,src=${src},dst=/b,readonly,bind-recursive=readonly,bind-propagation=rprivate`],
  ]) {
    const top = inside(args, '/b');
    assert.ok(top.opts.includes('ro') && !top.wrote, `${args.join(' ')}: /b ${top.opts}`);
    const sub = inside(args, '/b/sub');
    assert.ok(sub.opts.includes('ro'), `${args.join(' ')}: /b/sub ${sub.opts}`);
    assert.equal(sub.wrote, false, args.join(' '));
  }
  for (const [args, env] of [
    [['--mount', `type=bind,src=${src},dst=/b,readonly,bind-recursive=writable`], {}],
    [['--mount', `type=bind,src=${src},dst=/b,readonly`], { DOCKER_API_VERSION: '1.43' }],
    [['-v', `${src}:/b:ro`], { DOCKER_API_VERSION: '1.43' }],
  ] as [string[], NodeJS.ProcessEnv][]) {
    assert.ok(inside(args, '/b', env).opts.includes('ro'), args.join(' '));
    const sub = inside(args, '/b/sub', env);
    assert.ok(sub.opts.includes('rw'), `${args.join(' ')} ${JSON.stringify(env)}: /b/sub ${sub.opts}`);
    assert.equal(sub.wrote, true, args.join(' '));
  }
  assert.equal(eng.dockerOk(['ps', '-aq']), ps);
});

test("BindOptions' read-only refusals are dockerd's words and leave no container", async () => {
  const ps = eng.dockerOk(['ps', '-aq']);
  const create = (version: string, BindOptions: object, ReadOnly = true) =>
    eng.api('POST', `/v${version}/containers/create`, {
      Image: image,
      Cmd: ['true'],
      HostConfig: { Mounts: [{ Type: 'bind', Source: src, Target: '/b', ReadOnly, BindOptions }] },
    });
  for (const [version, options, ro, words] of [
    ['1.43', { ReadOnlyForceRecursive: true }, true, 'BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer'],
    ['1.50', { ReadOnlyForceRecursive: true }, false, 'mount options conflict: !ReadOnly && BindOptions.ReadOnlyForceRecursive'],
    ['1.50', { ReadOnlyNonRecursive: true }, false, 'mount options conflict: !ReadOnly && BindOptions.ReadOnlyNonRecursive'],
    [
      '1.50',
      { ReadOnlyNonRecursive: true, ReadOnlyForceRecursive: true },
      true,
      'mount options conflict: ReadOnlyNonRecursive && BindOptions.ReadOnlyForceRecursive',
    ],
  ] as [string, object, boolean, string][]) {
    const r = await create(version, options, ro);
    assert.equal(r.status, 400, r.body);
    assert.equal(JSON.parse(r.body).message, words);
  }
  assert.equal(eng.dockerOk(['ps', '-aq']), ps);
});

test('TmpfsOptions.Options (API 1.46) are the mount options of the tmpfs; an unknown one is refused before anything is made', async () => {
  const ps = eng.dockerOk(['ps', '-aq']);
  const create = (Options: string[][]) =>
    eng.api('POST', '/v1.50/containers/create', {
      Image: image,
      Cmd: ['sh', '-c', `awk '$5 == "/t" { print $6 " " $NF }' /proc/self/mountinfo`],
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { Options } }] },
    });
  const run = async (Options: string[][]) => {
    const c = await create(Options);
    assert.equal(c.status, 201, c.body);
    const id = JSON.parse(c.body).Id as string;
    try {
      const r = eng.docker(['start', '-a', id]);
      assert.equal(r.status, 0, show(r));
      const [opts, sup] = r.stdout.trim().split(' ');
      return { opts: opts.split(','), sup: sup.split(',') };
    } finally {
      eng.dockerOk(['rm', id]);
    }
  };
  // dockerd's defaults (nosuid, nodev, noexec) stay unless an option takes them back.
  const plain = await run([]);
  assert.ok(
    ['nosuid', 'nodev', 'noexec'].every((o) => plain.opts.includes(o)),
    plain.opts.join(),
  );
  const exec = await run([['exec'], ['nr_inodes', '64'], ['ro']]);
  assert.ok(!exec.opts.includes('noexec') && exec.opts.includes('ro') && exec.opts.includes('nosuid'), exec.opts.join());
  assert.ok(exec.sup.includes('nr_inodes=64'), exec.sup.join());
  for (const bad of [[['foo']], [['bind']], [['size']]]) {
    const r = await create(bad);
    assert.equal(r.status, 400, r.body);
    assert.equal(JSON.parse(r.body).message, `invalid tmpfs option ${JSON.stringify(bad[0])}`);
  }
  assert.equal(eng.dockerOk(['ps', '-aq']), ps);
});

test('volume-subpath (API 1.45) mounts that path of the volume alone; one leading out or not there is refused, at create and again at start', async () => {
  const ps = eng.dockerOk(['ps', '-aq']);
  const fill = [
    'mkdir -p /v/sub/dir /v/hack && echo hi > /v/sub/dir/f && echo top > /v/top',
    'ln -s ../sub /v/hack/good && ln -s / /v/hack/root',
  ].join(' && ');
  eng.dockerOk(['run', '--rm', '--network', 'none', '-v', 'sv:/v', image, 'sh', '-c', fill]);
  try {
    const run = (sub: string, cmd: string) =>
      eng.docker([
        'run',
        '--rm',
        '--network',
        'none',
        '--mount',
        `type=volume,src=sv,dst=/x,volume-subpath=${sub}`,
        image,
        'sh',
        '-c',
        cmd,
      ]);
    // The second reaches the same folder through a symlink inside the volume: it sees what the first wrote.
    for (const [sub, seen] of [
      ['sub/dir', 'f\nhi\n'],
      ['hack/good/dir', 'f\ng\nhi\n'],
    ]) {
      const r = run(sub, 'ls /x; cat /x/f; echo new > /x/g');
      assert.equal(r.status, 0, show(r));
      assert.equal(r.stdout, seen, sub);
    }
    const file = run('sub/dir/f', 'cat /x');
    assert.equal(file.stdout, 'hi\n', show(file));
    assert.equal(eng.dockerOk(['run', '--rm', '--network', 'none', '-v', 'sv:/v', image, 'cat', '/v/sub/dir/g']), 'new');
    const data = JSON.parse(eng.dockerOk(['volume', 'inspect', 'sv']))[0].Mountpoint as string;
    // (The docker CLI exits 127 on an error that says "no such file or directory", as with dockerd.)
    for (const [sub, words, status] of [
      ['../../etc', 'invalid mount config for type "volume": subpath must be a relative path within the volume', 125],
      ['hack/root/etc', `path concatenation escapes the base directory, base: ${data}, subpath: hack/root/etc`, 125],
      ['nope', `cannot access path ${data}/nope: no such file or directory`, 127],
    ] as [string, string, number][]) {
      const r = run(sub, 'true');
      assert.equal(r.status, status, show(r));
      assert.ok(r.stderr.includes(`Error response from daemon: ${words}`), show(r));
    }
    const old = await eng.api('POST', '/v1.44/containers/create', {
      Image: image,
      HostConfig: { Mounts: [{ Type: 'volume', Source: 'sv', Target: '/x', VolumeOptions: { Subpath: 'sub' } }] },
    });
    assert.equal(old.status, 400, old.body);
    assert.equal(JSON.parse(old.body).message, 'VolumeOptions.Subpath needs API v1.45 or newer');
    assert.equal(eng.dockerOk(['ps', '-aq']), ps);
    // Checked again at start: a folder on the way swapped for a symlink out of the volume (by a container sharing it) is refused.
    const id = eng.dockerOk([
      'create',
      '--network',
      'none',
      '--mount',
      'type=volume,src=sv,dst=/x,volume-subpath=sub/dir',
      image,
      'ls',
      '/x',
    ]);
    try {
      eng.dockerOk(['run', '--rm', '--network', 'none', '-v', 'sv:/v', image, 'sh', '-c', 'mv /v/sub /v/sub.old && ln -s /etc /v/sub']);
      const r = eng.docker(['start', '-a', id]);
      assert.notEqual(r.status, 0, show(r));
      assert.ok(r.stderr.includes(`path concatenation escapes the base directory, base: ${data}, subpath: sub/dir`), show(r));
    } finally {
      eng.dockerOk(['rm', id]);
    }
  } finally {
    eng.dockerOk(['volume', 'rm', 'sv']);
  }
  assert.equal(eng.dockerOk(['ps', '-aq']), ps);
  // Each subpath was mounted for the time of a runtime's create only.
  const staged = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4]?.startsWith(eng.dir) && l.includes('/subpaths/'));
  assert.deepEqual(staged, []);
});
