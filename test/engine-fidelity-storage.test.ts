// Storage side by side with dockerd 20.10 on overlay2 (its default driver, with native diffs: the
// sizes most dockerds report). Sizes: one image pair made by dockerd (an import of a busybox root with
// its symlinks, a commit over it with a file, a symlink and a hard link), saved and loaded into
// berthd. `docker images` SIZE, inspect's .Size, history, /images/json with shared sizes,
// containers' SizeRw and SizeRootFs, /system/df and the docker CLI's df table, a volume's size
// and image prune's reclaimed space are the same from both; a layer size recorded by an older
// berth (a plain number, symlinks left out) or not recorded at all is measured again. Mounts:
// a non-recursive bind as dockerd's; the Mount options of later APIs applied or refused, never ignored.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { startEngine, type CliResult, type EngineFixture } from './engine-fixture.js';
import { missing, startDockerd, type Dockerd } from './helpers/dockerd.js';
import { makeRootfs } from './helpers/bundle.js';

const skip = missing('dockerd', 'containerd', 'containerd-shim-runc-v2');
let eng: EngineFixture;
let d: Dockerd;

before(async () => {
  if (skip) return;
  eng = await startEngine();
  d = await startDockerd(['--storage-driver', 'overlay2']);
  makeRootfs(join(d.dir, 'rootfs'));
  assert.equal(spawnSync('tar', ['-C', join(d.dir, 'rootfs'), '-cf', join(d.dir, 'rootfs.tar'), '.']).status, 0);
  dockerd(['import', join(d.dir, 'rootfs.tar'), 'sz-base:1']);
  dockerd([
    'run',
    '--network',
    'none',
    '--name',
    'sz-mk',
    'sz-base:1',
    'sh',
    '-c',
    'echo hello > /hello; ln -s /hello /link; ln /hello /hard',
  ]);
  dockerd(['commit', 'sz-mk', 'sz-child:1']);
  dockerd(['rm', 'sz-mk']);
  // dockerd writes sz-base's layer once and sz-child's as a symlink to it: berth loads both.
  dockerd(['save', '-o', join(d.dir, 'sz.tar'), 'sz-base:1', 'sz-child:1']);
  eng.dockerOk(['load', '-i', join(d.dir, 'sz.tar')]);
});

after(async () => {
  if (skip) return;
  await d?.stop();
  await eng.stop();
});

const show = (who: string, r: CliResult) => `${who}: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
function dockerd(args: string[]): string {
  const r = d.docker(args);
  assert.equal(r.status, 0, show(`dockerd ${args.join(' ')}`, r));
  return r.stdout;
}
// The docker CLI asks both for API 1.41, dockerd 20.10's (VirtualSize is in its answers).
const engines = (): [string, (a: string[]) => string, string][] => [
  ['dockerd', dockerd, join(d.dir, 'docker.sock')],
  [
    'berthd',
    (a) => {
      const r = eng.docker(a, { env: { DOCKER_API_VERSION: '1.41' } });
      assert.equal(r.status, 0, show(`berthd ${a.join(' ')}`, r));
      return r.stdout;
    },
    eng.socket,
  ],
];

function get(socketPath: string, path: string, version = '1.41'): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: `/v${version}${path}` }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode} ${body}`));
        else resolve(JSON.parse(body));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const ours = (tags: string[] | null) => (tags ?? []).some((t) => t.startsWith('sz-'));
const images = async (sock: string, version?: string) =>
  ((await get(sock, '/images/json?shared-size=1', version)) as any[])
    .filter((i) => ours(i.RepoTags))
    .map((i) => [i.Id, i.RepoTags, i.Size, i.VirtualSize, i.SharedSize, i.Containers])
    .sort();

test("image sizes as dockerd's: images, inspect, history, /images/json, containers' sizes, system df, prune", { skip }, async () => {
  const got: unknown[][] = [];
  for (const [, run, sock] of engines()) {
    const seen: unknown[] = [];
    seen.push(run(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}', 'sz-*']));
    seen.push(run(['image', 'inspect', '-f', '{{.Size}} {{.VirtualSize}}', 'sz-base:1', 'sz-child:1']));
    seen.push(run(['history', '--format', '{{.Size}}', 'sz-child:1']));
    seen.push(await images(sock));
    run(['volume', 'create', 'sz-vol']);
    // Written in the container: a file, a symlink, a whiteout (of /hello) and a file in a volume.
    run([
      'run',
      '--network',
      'none',
      '--name',
      'sz-c',
      '-v',
      'sz-vol:/v',
      'sz-child:1',
      'sh',
      '-c',
      'echo 12345 > /new; ln -s /new /newlink; rm /hello; echo abc > /v/f; ln -s f /v/l',
    ]);
    const c = ((await get(sock, '/containers/json?all=1&size=1')) as any[]).find((x) => x.Names[0] === '/sz-c');
    seen.push([c.SizeRw, c.SizeRootFs]);
    seen.push(run(['ps', '-a', '-s', '--filter', 'name=sz-c', '--format', '{{.Size}}']));
    const df = await get(sock, '/system/df');
    seen.push([
      df.LayersSize,
      (df.Images as any[])
        .filter((i) => ours(i.RepoTags))
        .map((i) => [i.RepoTags, i.Size, i.SharedSize, i.Containers])
        .sort(),
      (df.Containers as any[]).filter((x) => x.Names[0] === '/sz-c').map((x) => [x.SizeRw, x.SizeRootFs]),
      (df.Volumes as any[]).filter((v) => v.Name === 'sz-vol').map((v) => v.UsageData),
    ]);
    seen.push(run(['system', 'df']));
    run(['rm', '-v', 'sz-c']);
    run(['volume', 'rm', 'sz-vol']);
    got.push(seen);
  }
  assert.deepEqual(got[1], got[0]);
  // What was compared is what dockerd shows: sizes that count the root's symlinks (not blob sizes).
  const [base, child] = (got[0][3] as [string, string[], number, number, number, number][]).sort((a, b) => a[2] - b[2]);
  assert.deepEqual(base[1], ['sz-base:1']);
  assert.equal(child[2] - base[2], 'hello\n'.length + '/hello'.length);
  assert.deepEqual(base.slice(3), [base[2], -1, -1], 'API 1.41: VirtualSize, and no shared-size yet');
  assert.deepEqual(got[0][4], ['12345\n'.length + '/new'.length, '12345\n'.length + '/new'.length + child[2]]);
  const [layers, dfImages, , vol] = got[0][6] as [number, [string[], number, number, number][], unknown, unknown];
  assert.equal(layers, child[2], 'LayersSize: each layer once');
  assert.deepEqual(dfImages, [
    [['sz-base:1'], base[2], base[2], 0],
    [['sz-child:1'], child[2], base[2], 1],
  ]);
  assert.deepEqual(vol, [{ Size: 'abc\n'.length + 'f'.length, RefCount: 1 }]);
  // berthd at API 1.50: shared sizes in the list as in df, and no VirtualSize (gone in 1.44).
  assert.deepEqual(
    (await images(eng.socket, '1.50')).map((i) => i.slice(2)).sort((a, b) => (a[0] as number) - (b[0] as number)),
    [
      [base[2], undefined, base[2], 0],
      [child[2], undefined, base[2], 0],
    ],
  );
  const inspect = JSON.parse((await eng.api('GET', '/v1.50/images/sz-child:1/json')).body);
  assert.equal(inspect.Size, child[2]);
  assert.equal('VirtualSize' in inspect, false);

  // Image prune: the space dockerd reports, the layers' sizes.
  const pruned = engines().map(([, run]) =>
    run(['image', 'prune', '-a', '-f'])
      .split('\n')
      .filter((l) => l.startsWith('Total')),
  );
  assert.deepEqual(pruned[1], pruned[0]);
  assert.match(pruned[0][0], /^Total reclaimed space: \d/);
  for (const [, run] of engines()) run(['load', '-i', join(d.dir, 'sz.tar')]);
});

test('a layer size an older berth recorded (or none) is measured again from the blob, and recorded', { skip }, async () => {
  const want = await images(eng.socket);
  const dir = join(eng.dir, 'data', 'image', 'layer-sizes');
  const files = readdirSync(dir);
  assert.ok(files.length >= 2);
  // One as an older berth wrote it (a plain number), the others gone.
  writeFileSync(join(dir, files[0]), '1');
  for (const f of files.slice(1)) rmSync(join(dir, f));
  assert.deepEqual(await images(eng.socket), want);
  assert.deepEqual(readdirSync(dir).sort(), [...files].sort());
  for (const f of files) assert.match(readFileSync(join(dir, f), 'utf8'), /^\{"unpacked":\d+\}$/);
  assert.notEqual(readFileSync(join(dir, files[0]), 'utf8'), '1');
});

test(
  '--mount bind-nonrecursive leaves out the mounts under the source, as under dockerd; newer Mount options applied or refused',
  { skip },
  async () => {
    const src = join(d.dir, 'nr');
    mkdirSync(join(src, 'sub'), { recursive: true });
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', join(src, 'sub')]).status, 0);
    try {
      writeFileSync(join(src, 'sub', 'in-submount'), 'x');
      const got = engines().map(([, run]) =>
        ['', ',bind-nonrecursive'].map((o) =>
          run(['run', '--rm', '--network', 'none', '--mount', `type=bind,src=${src},dst=/b${o}`, 'sz-base:1', 'ls', '/b/sub']),
        ),
      );
      assert.deepEqual(got[1], got[0]);
      assert.deepEqual(got[0], ['in-submount\n', '']);
    } finally {
      spawnSync('umount', [join(src, 'sub')]);
    }
    // CreateMountpoint (API 1.42, after dockerd 20.10; the docker CLI's run has no flag for it): the missing source is made.
    const made = join(d.dir, 'made', 'here');
    const mount = { Type: 'bind', Source: made, Target: '/m', BindOptions: { CreateMountpoint: true } };
    const c = await eng.api('POST', '/v1.50/containers/create', { Image: 'sz-base:1', Cmd: ['true'], HostConfig: { Mounts: [mount] } });
    assert.equal(c.status, 201, c.body);
    assert.ok(existsSync(made));
    assert.equal((await eng.api('DELETE', `/containers/${JSON.parse(c.body).Id}`)).status, 204);
    // Subpath (API 1.45) of a volume that has no such path: refused at create (dockerd fails the start), leaving no container behind.
    const before = eng.dockerOk(['ps', '-aq']);
    const r = eng.docker([
      'run',
      '--rm',
      '--network',
      'none',
      '--mount',
      'type=volume,src=sz-sub,dst=/v,volume-subpath=a',
      'sz-base:1',
      'true',
    ]);
    assert.equal(r.status, 127, show('berthd', r)); // the docker CLI's exit for an error that says "no such file or directory"
    assert.match(r.stderr, /cannot access path \/.*\/sz-sub\/_data\/a: no such file or directory/);
    assert.equal(eng.dockerOk(['ps', '-aq']), before);
    assert.equal(eng.docker(['volume', 'inspect', 'sz-sub']).status, 1, 'the volume the refused create made is gone');
  },
);
