// Image mounts (`--mount type=image`, dockerd 28) through the docker 28 CLI and the API: the
// image's files read-only at the target (a write is EROFS), `image-subpath` resolved beneath
// the image as a volume's subpath is; the refusals in dockerd's words leave no container and no
// view behind; inspect's entry; the view is mounted while the container runs (and for a stopped
// one's cp), unmounted when it stops, adopted by a restarted berthd, gone with the container;
// commit and diff leave it out; an image a container mounts is not deleted under it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEngine, until, type CliResult, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let image: string;
/** The image mounted: busybox with /data/sub/f ("hello"), a symlink inside (/data/in) and one out (/data/out → /). */
const MOUNTED = 'im-src:1';

before(async () => {
  eng = await startEngine();
  image = eng.directImage;
  eng.dockerOk(['pull', image]);
  const fill = 'mkdir -p /data/sub && echo hello > /data/sub/f && ln -s sub /data/in && ln -s / /data/out';
  eng.dockerOk(['run', '--name', 'im-make', '--network', 'none', image, 'sh', '-c', fill]);
  eng.dockerOk(['commit', 'im-make', MOUNTED]);
  eng.dockerOk(['rm', 'im-make']);
});

after(async () => {
  await eng?.stop();
});

const show = (r: CliResult) => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const snapshotDir = () => join(eng.dir, 'data', 'snapshots', 'containers');
/** Image mounts' views on disk (snapshot keys `<container>-image-<n>`). */
const views = () => readdirSync(snapshotDir()).filter((n) => n.includes('-image-'));
/** Mount points of the views (mountinfo's fifth field). */
const viewMounts = () =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m?.startsWith(snapshotDir()) && m.includes('-image-'));

const run = (mount: string, cmd: string, extra: string[] = []) =>
  eng.docker(['run', '--rm', '--network', 'none', ...extra, '--mount', mount, image, 'sh', '-c', cmd]);

test("the image's files, read-only, at the target; image-subpath mounts that path of it, a symlink inside followed", () => {
  const ps = eng.dockerOk(['ps', '-aq']);
  const all = run(
    `type=image,source=${MOUNTED},target=/x`,
    `cat /x/data/sub/f; ls /x/bin/busybox; awk '$5 == "/x" { print $6 }' /proc/self/mountinfo; touch /x/data/w 2>&1; (echo x > /x/data/sub/f) 2>&1; true`,
  );
  assert.equal(all.status, 0, show(all));
  const [hello, bin, opts, ...writes] = all.stdout.trim().split('\n');
  assert.equal(hello, 'hello');
  assert.equal(bin, '/x/bin/busybox');
  assert.ok(opts.split(',').includes('ro'), opts);
  assert.equal(writes.length, 2, show(all));
  for (const w of writes) assert.match(w, /Read-only file system/);
  // readonly given or not, the same: dockerd's image mounts are read-only.
  const ro = run(`type=image,source=${MOUNTED},target=/x,readonly`, 'touch /x/w 2>&1; true');
  assert.match(ro.stdout, /Read-only file system/, show(ro));
  for (const sub of ['data/sub', 'data/in']) {
    const r = run(`type=image,source=${MOUNTED},target=/x,image-subpath=${sub}`, 'ls /x; cat /x/f; touch /x/g 2>&1; true');
    assert.equal(r.status, 0, show(r));
    const [ls, content, write] = r.stdout.trim().split('\n');
    assert.deepEqual([ls, content], ['f', 'hello'], sub);
    assert.match(write, /Read-only file system/, sub);
  }
  const file = run(`type=image,source=${MOUNTED},target=/x,image-subpath=data/sub/f`, 'cat /x');
  assert.equal(file.stdout, 'hello\n', show(file));
  // Two mounts of one image, at two targets.
  const two = eng.docker([
    'run',
    '--rm',
    '--network',
    'none',
    '--mount',
    `type=image,source=${MOUNTED},target=/a,image-subpath=data`,
    '--mount',
    `type=image,source=${MOUNTED},target=/b`,
    image,
    'sh',
    '-c',
    'cat /a/sub/f /b/data/sub/f',
  ]);
  assert.equal(two.stdout, 'hello\nhello\n', show(two));
  assert.equal(eng.dockerOk(['ps', '-aq']), ps);
  assert.deepEqual(views(), [], 'each --rm container took its views with it');
  assert.deepEqual(viewMounts(), []);
});

test("refusals in dockerd's words leave no container and no view", async () => {
  const ps = eng.dockerOk(['ps', '-aq']);
  // (The docker CLI exits 127 on an error that says "no such file or directory", as with dockerd.)
  for (const [sub, words, status] of [
    ['../etc', /invalid mount config for type "image": subpath must be a relative path within the volume/, 125],
    [
      'data/out/etc',
      /path concatenation escapes the base directory, base: \/.*\/snapshots\/containers\/[0-9a-f]{64}-image-0\/merged, subpath: data\/out\/etc/,
      125,
    ],
    ['nope', /cannot access path \/.*\/snapshots\/containers\/[0-9a-f]{64}-image-0\/merged\/nope: no such file or directory/, 127],
  ] as [string, RegExp, number][]) {
    const r = run(`type=image,source=${MOUNTED},target=/x,image-subpath=${sub}`, 'true');
    assert.equal(r.status, status, show(r));
    assert.match(r.stderr, words, show(r));
  }
  // An image not here is not pulled: dockerd's 404 (the CLI would pull the container's image on it; --pull never does not).
  const missing = run('type=image,source=nope,target=/x', 'true', ['--pull', 'never']);
  assert.equal(missing.status, 125, show(missing));
  assert.match(missing.stderr, /Error response from daemon: No such image: nope:latest/);
  const create = (mount: object) =>
    eng.api('POST', '/v1.50/containers/create', {
      Image: image,
      Cmd: ['true'],
      HostConfig: { Mounts: [{ Type: 'image', Target: '/x', ...mount }] },
    });
  for (const [mount, status, words] of [
    [{}, 400, 'invalid mount config for type "image": field Source must not be empty'],
    [
      { Source: MOUNTED, BindOptions: { Propagation: 'shared' } },
      400,
      'invalid mount config for type "image": field BindOptions must not be specified',
    ],
    [
      { Source: MOUNTED, VolumeOptions: { NoCopy: true } },
      400,
      'invalid mount config for type "image": field VolumeOptions must not be specified',
    ],
    [
      { Source: MOUNTED, TmpfsOptions: { SizeBytes: 1024 } },
      400,
      'invalid mount config for type "image": field TmpfsOptions must not be specified',
    ],
    [{ Source: 'nope' }, 404, 'No such image: nope:latest'],
    [
      { Type: 'volume', Source: 'v', ImageOptions: { Subpath: 'a' } },
      400,
      'invalid mount config for type "volume": field ImageOptions must not be specified',
    ],
  ] as [object, number, string][]) {
    const r = await create(mount);
    assert.equal(r.status, status, `${JSON.stringify(mount)}: ${r.body}`);
    assert.equal(JSON.parse(r.body).message, words);
  }
  assert.equal(eng.dockerOk(['ps', '-aq']), ps);
  assert.deepEqual(views(), []);
  assert.deepEqual(viewMounts(), []);
  assert.equal(eng.docker(['volume', 'inspect', 'v']).status, 1, 'no volume was made for a refused mount');
});

test("inspect, stop and start, a berthd restart, cp, diff, commit, rmi: the view lives with the container's process and goes with the container", async () => {
  // ReadOnly false, as the docker CLI sends it (it sends none): read-only all the same.
  const c = await eng.api('POST', '/v1.50/containers/create?name=im-run', {
    Image: image,
    Cmd: ['sleep', '1000'],
    HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'image', Source: MOUNTED, Target: '/x', ReadOnly: false }] },
  });
  assert.equal(c.status, 201, c.body);
  const id = JSON.parse(c.body).Id as string;
  const imageId = eng.dockerOk(['image', 'inspect', '-f', '{{.Id}}', MOUNTED]);
  try {
    const [m] = JSON.parse(eng.dockerOk(['inspect', '-f', '{{json .Mounts}}', id]));
    const source = join(snapshotDir(), `${id}-image-0`, 'merged');
    assert.deepEqual(m, { Type: 'image', Name: MOUNTED, Source: source, Destination: '/x', Mode: '', RW: false, Propagation: 'rprivate' });
    eng.dockerOk(['start', id]);
    assert.deepEqual(viewMounts(), [source]);
    assert.equal(eng.dockerOk(['exec', id, 'cat', '/x/data/sub/f']), 'hello');
    // The image stays while a container mounts it, with the conflicts of a container's own image.
    const byName = eng.docker(['rmi', MOUNTED]);
    assert.notEqual(byName.status, 0, show(byName));
    assert.match(
      byName.stderr,
      new RegExp(
        `conflict: unable to remove repository reference "${MOUNTED}" \\(must force\\) - container ${id.slice(0, 12)} is using its referenced image ${imageId.slice(7, 19)}`,
      ),
    );
    const byId = eng.docker(['rmi', '-f', imageId]);
    assert.match(byId.stderr, new RegExp(`image is being used by running container ${id.slice(0, 12)}`), show(byId));
    // cp reads the image's files there and cannot write them.
    const out = eng.docker(['cp', `${id}:/x/data/sub/f`, '-']);
    assert.equal(out.status, 0, show(out));
    assert.ok(out.stdout.includes('hello'), show(out));
    const into = eng.docker(['cp', '-', `${id}:/x/data`], { input: out.stdout });
    assert.notEqual(into.status, 0, show(into));
    // Neither diff nor commit shows the mount point or what is under it.
    eng.dockerOk(['exec', id, 'sh', '-c', 'echo y > /made']);
    assert.deepEqual(eng.dockerOk(['diff', id]).split('\n'), ['A /made']);
    eng.dockerOk(['commit', id, 'im-committed']);
    try {
      const seen = eng.dockerOk([
        'run',
        '--rm',
        '--network',
        'none',
        'im-committed',
        'sh',
        '-c',
        'cat /made; ls -A /x 2>/dev/null | wc -l',
      ]);
      assert.deepEqual(seen.split('\n'), ['y', '0']);
    } finally {
      eng.dockerOk(['rmi', 'im-committed']);
    }
    // A killed berthd's successor adopts the running container and its mounted view.
    await eng.restart('SIGKILL');
    assert.equal(eng.dockerOk(['exec', id, 'cat', '/x/data/sub/f']), 'hello');
    assert.deepEqual(viewMounts(), [source]);
    eng.dockerOk(['stop', '-t', '0', id]);
    // (Unmounted once the exit is taken apart, which a stop's answer does not wait for, as with the root.)
    await until(() => viewMounts().length === 0, 5000);
    // A stopped container's cp reaches the view (mounted for the time of the copy).
    const stopped = eng.docker(['cp', `${id}:/x/data/sub/f`, '-']);
    assert.ok(stopped.stdout.includes('hello'), show(stopped));
    // (Unmounted, as the root, once the archive's stream has closed on berthd's side.)
    await until(() => viewMounts().length === 0, 5000);
    eng.dockerOk(['start', id]);
    assert.equal(eng.dockerOk(['exec', id, 'cat', '/x/data/sub/f']), 'hello');
    eng.dockerOk(['restart', '-t', '0', id]);
    assert.equal(eng.dockerOk(['exec', id, 'cat', '/x/data/sub/f']), 'hello');
  } finally {
    eng.dockerOk(['rm', '-f', id]);
  }
  assert.deepEqual(viewMounts(), []);
  assert.deepEqual(views(), []);
  assert.ok(!existsSync(join(snapshotDir(), `${id}-image-0`)));
  // Nothing uses it now: it goes.
  eng.dockerOk(['rmi', MOUNTED]);
});
