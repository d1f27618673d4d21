// A full data root is survivable through the API: berthd's --data-root is a 300 MB ext4 on a
// loop device made with `-m 0` (no blocks reserved for root, whose writes would succeed
// otherwise), a container fills it, and then `create` and `commit` fail with "no space left on
// device" naming the data root and leave nothing behind, and so do `pull`, `load` and `import` of
// an image of 16 MB of random bytes (more than berthd's 8 MB space reserve), while `kill`, `stop`,
// `rm`, `rmi`, the prunes and `rm -f` work (their state writes spend berthd's space reserve), and
// once the filler is gone a new `run` works. The mount, the loop device and the image file go even
// on a failure.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { startEngine, until, type EngineFixture } from './engine-fixture.js';
import { storeImage } from './helpers/images.js';
import { packTar } from '../src/image/tar.js';
import { ImageStore, push, saveImages } from '../src/image/index.js';

let eng: EngineFixture | undefined;
let tmp: string;
let mnt: string;
let loop: string | undefined;
/** An image none of the data root holds: in the registry (`bigRef`), as a `docker save` archive, and its root as a tar. */
let bigRef: string;
let bigArchive: string;
let bigRootfs: string;

/**
 * Unmounts whatever is mounted under `dir` (containers' roots a failed test left), then `dir`,
 * retrying while their monitors let go.
 */
async function unmountAll(dir: string): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    const under = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m) => m !== undefined && (m === dir || m.startsWith(`${dir}/`)));
    if (!under.length) return;
    try {
      for (const m of under.reverse()) execFileSync('umount', [m], { stdio: 'pipe' });
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Frees the filler's files from the writable layers, so that a failed test's containers can be removed through the API. */
function freeFiller(): void {
  const layers = join(mnt, 'snapshots', 'containers');
  for (const id of readdirSync(layers)) {
    for (const f of ['big', 'small1', 'small2', 'small3']) rmSync(join(layers, id, 'upper', f), { force: true });
  }
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'berth-test-fulldisk-'));
  const img = join(tmp, 'disk.img');
  mnt = join(tmp, 'data');
  execFileSync('truncate', ['-s', '300M', img]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', img]);
  loop = execFileSync('losetup', ['--find', '--show', img], { encoding: 'utf8' }).trim();
  execFileSync('mkdir', [mnt]);
  execFileSync('mount', [loop, mnt]);
  eng = await startEngine({ dataRoot: mnt });

  // 16 MB that no compression shrinks: more than the space reserve, so a write of it cannot
  // succeed by spending the reserve.
  const mtime = new Date('2024-01-01T00:00:00Z');
  const rootfs = await packTar([{ header: { name: 'big', mode: 0o644, mtime }, body: randomBytes(16 << 20) }]);
  bigRootfs = join(tmp, 'big-rootfs.tar');
  writeFileSync(bigRootfs, rootfs);
  const store = new ImageStore(join(tmp, 'big-store'));
  await storeImage(store, 'bigpull:1', [rootfs]);
  bigRef = `${eng.registry.host}/fresh/big:latest`;
  await push(store, 'bigpull:1', bigRef);
  bigArchive = join(tmp, 'big-archive.tar');
  await pipeline(await saveImages(store, ['bigpull:1']), createWriteStream(bigArchive));
  rmSync(join(tmp, 'big-store'), { recursive: true, force: true });
});

after(async () => {
  try {
    if (eng) freeFiller();
    await eng?.stop();
  } finally {
    try {
      await unmountAll(mnt);
    } finally {
      if (loop) execFileSync('losetup', ['-d', loop]);
      rmSync(tmp, { recursive: true, force: true });
    }
  }
});

const free = () => {
  const s = statfsSync(mnt);
  return s.bavail * s.bsize;
};
const count = (dir: string) => readdirSync(join(mnt, dir)).length;
/** What a write of an image would leave: blobs, partial downloads, unpacked layers, names. */
const imageState = (e: EngineFixture) => ({
  blobs: readdirSync(join(mnt, 'image', 'content', 'blobs', 'sha256')).sort(),
  ingest: readdirSync(join(mnt, 'image', 'content', 'ingest')).sort(),
  layers: readdirSync(join(mnt, 'snapshots', 'layers')).sort(),
  // Two names of one image are a tie in docker's order (by creation): compared as a set.
  images: e.dockerOk(['images', '-a', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']).split('\n').sort(),
});
const noSpace = () => new RegExp(`no space left on device.*${mnt}|${mnt}.*no space left on device`);

test('a full data root: create, commit, pull, load and import fail clearly and leave nothing; kill, stop, rm, rmi, prunes and rm -f work; then run works', async () => {
  const e = eng!;
  assert.equal(statSync(join(mnt, '.reserve')).blocks * 512, 8 << 20, 'berthd made its space reserve at start');
  e.dockerOk(['pull', 'busybox']);
  e.dockerOk(['tag', 'busybox', 'spare:1']);
  e.dockerOk(['create', '--name', 'idle', 'busybox', 'true']);
  e.dockerOk(['run', '-d', '--name', 'killme', 'busybox', 'sleep', '1000']);
  e.dockerOk(['run', '-d', '--name', 'stopme', 'busybox', 'sleep', '1000']);
  e.dockerOk([
    'run',
    '-d',
    '--name',
    'filler',
    'busybox',
    'sh',
    '-c', // Big blocks, then small ones for what delayed allocation gave back, until not a block is left.
    'dd if=/dev/zero of=/big bs=1M; sync; for i in 1 2 3; do dd if=/dev/zero of=/small$i bs=1k; sync; done; touch /done; exec sleep 1000',
  ]);
  await until(() => e.docker(['exec', 'filler', 'test', '-e', '/done']).status === 0, 60_000);
  assert.equal(free(), 0, 'the data root is full');

  const before = { containers: count('containers'), snapshots: count('snapshots/containers'), ps: e.dockerOk(['ps', '-aq']) };
  const created = e.docker(['create', '--name', 'nospace', 'busybox', 'true']);
  assert.notEqual(created.status, 0);
  assert.match(created.stderr, noSpace(), created.stderr);
  assert.deepEqual(
    { containers: count('containers'), snapshots: count('snapshots/containers'), ps: e.dockerOk(['ps', '-aq']) },
    before,
    'a failed create leaves nothing',
  );
  const committed = e.docker(['commit', 'filler', 'filled:1']);
  assert.notEqual(committed.status, 0);
  assert.match(committed.stderr, /no space left on device/, committed.stderr);
  assert.match(committed.stderr, new RegExp(mnt), committed.stderr);

  // An image's bytes have nowhere to go either: pull, load and import each fail saying so, and
  // leave no blob, partial download, unpacked layer or name of it.
  const images = imageState(e);
  for (const [what, args] of [
    ['pull', ['pull', bigRef]],
    ['load', ['load', '-i', bigArchive]],
    ['import', ['import', bigRootfs, 'bigimport:1']],
  ] as const) {
    const r = e.docker([...args]);
    assert.notEqual(r.status, 0, `${what} on a full data root: ${r.stdout}`);
    assert.match(r.stderr, noSpace(), `${what}: ${r.stderr}`);
    assert.deepEqual(imageState(e), images, `a failed ${what} leaves nothing`);
  }
  // A build has nowhere to put its context, steps or layers: it fails saying so and leaves no
  // snapshot, container, image, build cache entry or context behind.
  const buildDir = join(tmp, 'build-ctx');
  mkdirSync(buildDir);
  writeFileSync(join(buildDir, 'Dockerfile'), 'FROM busybox\nCOPY f.txt /f.txt\nRUN echo built > /built\n');
  writeFileSync(join(buildDir, 'f.txt'), 'f\n');
  const buildState = () => ({
    ...imageState(e),
    snapshots: count('snapshots/containers'),
    containers: e.dockerOk(['ps', '-aq']),
    cache: e.dockerOk(['system', 'df', '--format', '{{if eq .Type "Build Cache"}}{{.TotalCount}}{{end}}']),
    contexts: existsSync(join(mnt, 'tmp')) ? readdirSync(join(mnt, 'tmp')).filter((n) => n.startsWith('build-context-')) : [],
    buildTmp: existsSync(join(mnt, 'build', 'tmp')) ? readdirSync(join(mnt, 'build', 'tmp')) : [],
  });
  const beforeBuild = buildState();
  const built = e.docker(['build', '-t', 'nospace-build:1', buildDir], { env: { DOCKER_BUILDKIT: '0' } });
  assert.notEqual(built.status, 0, `build on a full data root: ${built.stdout}`);
  assert.match(built.stderr + built.stdout, noSpace(), `build: ${built.stderr}`);
  assert.deepEqual(buildState(), beforeBuild, 'a failed build leaves nothing');
  assert.equal(free(), 0, 'the data root is still full');

  e.dockerOk(['kill', 'killme']);
  await until(() => e.dockerOk(['inspect', '-f', '{{.State.Status}}', 'killme']) === 'exited', 15_000);
  e.dockerOk(['stop', '-t', '1', 'stopme']);
  assert.equal(e.dockerOk(['inspect', '-f', '{{.State.Status}}', 'stopme']), 'exited');
  e.dockerOk(['rm', 'idle']);
  e.dockerOk(['rmi', 'spare:1']);
  e.dockerOk(['image', 'prune', '-f']);
  e.dockerOk(['system', 'prune', '-f']);
  assert.equal(e.dockerOk(['ps', '-aq', '--no-trunc']).split('\n').length, 1, 'only the filler is left');
  e.dockerOk(['rm', '-f', 'filler']);
  assert.equal(e.dockerOk(['ps', '-aq']), '');
  assert.ok(free() > 100 << 20, "the filler's space is back");

  assert.equal(e.dockerOk(['run', '--rm', 'busybox', 'echo', 'again']), 'again');
  e.dockerOk(['run', '-d', '--name', 'after', 'busybox', 'sleep', '1000']);
  e.dockerOk(['rm', '-f', 'after']);
  // The reserve was spent on the full disk, and is made again once there is room for it.
  assert.match(e.daemonLog(), /its space reserve was spent to write/);
  await until(() => statSync(join(mnt, '.reserve'), { throwIfNoEntry: false })?.size === 8 << 20, 30_000);

  // A build that fills the data root itself: its RUN step writes more random bytes than there is
  // room for beside their layer's blob, so committing the step fails; it says so, and its
  // container, snapshot, partial blob and cache entry are gone.
  writeFileSync(join(buildDir, 'Dockerfile'), 'FROM busybox\nRUN head -c 400000000 /dev/urandom > /big; true\n');
  const beforeFill = buildState();
  const filled = e.docker(['build', '-t', 'fills:1', buildDir], { env: { DOCKER_BUILDKIT: '0' } });
  assert.notEqual(filled.status, 0, `a build that fills the data root: ${filled.stdout}`);
  assert.match(filled.stderr + filled.stdout, noSpace(), `build: ${filled.stderr}`);
  assert.deepEqual(buildState(), beforeFill, 'a build that filled the data root leaves nothing');
  assert.ok(free() > 100 << 20, "the step's space is back");
});
