// Volumes and the init files against a private berthd, with the docker CLI and the berth CLI:
// named volumes outliving their container, bind mounts both ways and read-only, tmpfs,
// anonymous volumes from an image's VOLUME removed by `rm -v`, copy-up of the image's content
// into a new volume, --volumes-from, volume create/ls/inspect/rm (409 in use)/prune, and the
// per-container /etc/hostname, /etc/hosts and /etc/resolv.conf (bind mounts, in inspect).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH, noDocker20, DOCKER_20, DOCKER, startEngine, until, type EngineFixture } from './engine-fixture.js';
import { makeRootfs } from './helpers/bundle.js';
import { configFor, gzLayer } from './helpers/images.js';
import { packTar } from '../src/image/tar.js';
import { ImageStore, push } from '../src/image/index.js';
import Docker from 'dockerode';

const noDocker = !existsSync(DOCKER) && 'no docker CLI';
let eng: EngineFixture;
let volImage: string;

/** busybox with `/data/seed.txt` and `VOLUME /data` in its config, pushed to the fixture's registry. */
async function pushVolumeImage(): Promise<string> {
  const rootfs = join(eng.dir, 'vol-rootfs');
  makeRootfs(rootfs);
  const base = execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
  const mtime = new Date('2024-01-01T00:00:00Z');
  const data = await packTar([
    { header: { name: 'data/', type: 'directory', mode: 0o755, mtime } },
    { header: { name: 'data/seed.txt', mode: 0o644, mtime }, body: 'from-image\n' },
  ]);
  const layers = [gzLayer(base), gzLayer(data)];
  const store = new ImageStore(join(eng.dir, 'vol-store'));
  for (const l of layers) await store.content.put(l.blob, l.desc);
  const cfg = configFor(layers, undefined, { config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'], Volumes: { '/data': {} } } });
  await store.createImage(
    'seed/volimg:latest',
    cfg,
    layers.map((l) => l.desc),
  );
  const ref = `${eng.registry.host}/test/volimg:latest`;
  await push(store, 'seed/volimg:latest', ref);
  rmSync(rootfs, { recursive: true, force: true });
  rmSync(join(eng.dir, 'vol-store'), { recursive: true, force: true });
  return ref;
}

before(async () => {
  eng = await startEngine();
  volImage = await pushVolumeImage();
  assert.equal(berth('pull', 'busybox').status, 0);
  assert.equal(berth('pull', volImage).status, 0);
});
after(async () => {
  await eng?.stop();
});

function docker(...args: string[]) {
  return eng.docker(args);
}

function berth(...args: string[]) {
  const r = spawnSync(BERTH, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ok = (r: { status: number | null; stdout: string; stderr: string }) => {
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return r.stdout;
};

test('a named volume outlives its container: docker writes, berth reads', { skip: noDocker }, () => {
  ok(docker('run', '--rm', '-v', 'keep:/v', 'busybox', 'sh', '-c', 'echo kept > /v/f'));
  assert.equal(ok(berth('run', '--rm', '-v', 'keep:/v', 'busybox', 'cat', '/v/f')), 'kept\n');
  assert.match(ok(berth('volume', 'ls')), /local\s+keep\n/);
  ok(berth('volume', 'rm', 'keep'));
});

test('-v /host/dir:/data binds both ways; :ro refuses writes', () => {
  const host = join(eng.dir, 'hostdir');
  mkdirSync(host, { recursive: true });
  writeFileSync(join(host, 'in'), 'from-host\n');
  assert.equal(
    ok(berth('run', '--rm', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'cat /data/in; echo from-ct > /data/out')),
    'from-host\n',
  );
  assert.equal(readFileSync(join(host, 'out'), 'utf8'), 'from-ct\n');
  const ro = berth('run', '--rm', '-v', `${host}:/data:ro`, 'busybox', 'sh', '-c', 'cat /data/in && echo x > /data/nope');
  assert.notEqual(ro.status, 0);
  assert.equal(ro.stdout, 'from-host\n');
  assert.match(ro.stderr, /Read-only file system/);
  assert.equal(existsSync(join(host, 'nope')), false);
  if (!noDocker) {
    const m = docker(
      'run',
      '--rm',
      '--mount',
      `type=bind,source=${host},target=/data,readonly`,
      'busybox',
      'sh',
      '-c',
      'cat /data/in; touch /data/x',
    );
    assert.notEqual(m.status, 0);
    assert.equal(m.stdout, 'from-host\n');
  }
});

test('--mount type=tmpfs and --tmpfs', { skip: noDocker }, () => {
  const out = ok(
    docker(
      'run',
      '--rm',
      '--mount',
      'type=tmpfs,target=/scratch,tmpfs-size=1m',
      'busybox',
      'sh',
      '-c',
      'grep " /scratch " /proc/mounts; echo x > /scratch/y && cat /scratch/y',
    ),
  );
  assert.match(out, /^tmpfs \/scratch tmpfs rw,.*size=1024k/m);
  assert.match(out, /^x$/m);
  assert.match(
    ok(berth('run', '--rm', '--tmpfs', '/run2:size=2m', 'busybox', 'grep', ' /run2 ', '/proc/mounts')),
    /^tmpfs \/run2 tmpfs rw,.*size=2048k/m,
  );
});

test('an image VOLUME is an anonymous volume with the image content; rm -v removes it', { skip: noDocker }, () => {
  assert.equal(ok(docker('run', '--name', 'anon', volImage, 'sh', '-c', 'cat /data/seed.txt; echo more > /data/more')), 'from-image\n');
  const mounts = JSON.parse(ok(docker('inspect', '--format', '{{json .Mounts}}', 'anon')));
  assert.equal(mounts.length, 1);
  assert.equal(mounts[0].Type, 'volume');
  assert.equal(mounts[0].Destination, '/data');
  assert.match(mounts[0].Name, /^[0-9a-f]{64}$/);
  assert.equal(mounts[0].RW, true);
  const name = mounts[0].Name as string;
  assert.deepEqual(readdirSync(mounts[0].Source).sort(), ['more', 'seed.txt']);
  assert.match(ok(docker('volume', 'ls', '-q')), new RegExp(name));
  ok(docker('rm', '-v', 'anon'));
  assert.doesNotMatch(ok(docker('volume', 'ls', '-q')), new RegExp(name));
  assert.equal(existsSync(mounts[0].Source), false);
  // --rm removes the anonymous volume too
  ok(docker('run', '--rm', volImage, 'true'));
  assert.equal(ok(docker('volume', 'ls', '-q')), '');
});

test('copy-up: a new named volume takes the image content; a used one is left alone', () => {
  assert.equal(
    ok(berth('run', '--rm', '-v', 'filled:/data', volImage, 'sh', '-c', 'cat /data/seed.txt; echo mine > /data/seed.txt')),
    'from-image\n',
  );
  assert.equal(ok(berth('run', '--rm', '-v', 'filled:/data', volImage, 'cat', '/data/seed.txt')), 'mine\n');
  const v = JSON.parse(ok(berth('volume', 'inspect', 'filled')))[0];
  assert.equal(readFileSync(join(v.Mountpoint, 'seed.txt'), 'utf8'), 'mine\n');
  // volume-nocopy: empty
  assert.equal(
    ok(berth('run', '--rm', '--mount', 'type=volume,source=bare,target=/data,volume-nocopy', volImage, 'ls', '-A', '/data')),
    '',
  );
  ok(berth('volume', 'rm', 'filled', 'bare'));
});

test("--volumes-from shares the other container's volumes", { skip: noDocker }, () => {
  ok(docker('run', '--name', 'vsrc', '-v', '/shared', 'busybox', 'sh', '-c', 'echo s > /shared/f'));
  assert.equal(
    ok(docker('run', '--rm', '--volumes-from', 'vsrc:ro', 'busybox', 'sh', '-c', 'cat /shared/f; touch /shared/g 2>/dev/null || echo ro')),
    's\nro\n',
  );
  ok(docker('rm', '-v', 'vsrc'));
  assert.equal(ok(docker('volume', 'ls', '-q')), '');
});

test('docker volume create/ls/inspect/rm (409 in use)/prune', { skip: noDocker }, async () => {
  assert.equal(ok(docker('volume', 'create', '--label', 'team=a', 'dv')), 'dv\n');
  assert.equal(
    ok(docker('volume', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}}', 'dv')).trim(),
    'dv local local map[team:a]',
  );
  assert.equal(ok(docker('volume', 'ls', '--filter', 'label=team=a', '-q')), 'dv\n');
  const opt = docker('volume', 'create', '-o', 'type=tmpfs', 'withopt');
  assert.notEqual(opt.status, 0);
  assert.match(opt.stderr, /create withopt: missing required option: "device"/);
  const bad = docker('volume', 'create', '--driver', 'nfs', 'x');
  assert.notEqual(bad.status, 0);
  ok(docker('run', '-d', '--name', 'holder', '-v', 'dv:/x', 'busybox', 'sleep', '100'));
  const busy = docker('volume', 'rm', 'dv');
  assert.notEqual(busy.status, 0);
  assert.match(busy.stderr, /volume is in use/);
  assert.equal((await eng.api('DELETE', '/volumes/dv')).status, 409);
  assert.equal((await eng.api('DELETE', '/volumes/dv?force=1')).status, 409);
  assert.equal(ok(docker('volume', 'ls', '--filter', 'dangling=true', '-q')), '');
  ok(docker('rm', '-f', 'holder'));
  assert.equal(ok(docker('volume', 'ls', '--filter', 'dangling=true', '-q')), 'dv\n');
  assert.match(docker('volume', 'inspect', 'nope').stderr, /no such volume/);
  assert.equal((await eng.api('DELETE', '/volumes/nope')).status, 404);
  assert.equal((await eng.api('DELETE', '/volumes/nope?force=1')).status, 204);
  // prune: anonymous volumes only, unless -a
  ok(docker('create', '--name', 'anon2', volImage));
  ok(docker('rm', 'anon2')); // without -v: the anonymous volume stays, unused
  const anon = ok(docker('volume', 'ls', '-q'))
    .trim()
    .split('\n')
    .filter((n) => n !== 'dv');
  assert.equal(anon.length, 1);
  assert.match(ok(docker('volume', 'prune', '-f')), new RegExp(`Deleted Volumes:\\n${anon[0]}\\n`));
  assert.equal(ok(docker('volume', 'ls', '-q')), 'dv\n');
  assert.match(ok(docker('volume', 'prune', '-a', '-f')), /Deleted Volumes:\ndv\n/);
  assert.equal(ok(docker('volume', 'ls', '-q')), '');
  await until(async () => !existsSync(join(eng.dir, 'data', 'volumes', 'dv')));
});

test('berth volume create/ls/inspect/rm/prune', () => {
  assert.equal(ok(berth('volume', 'create', '--label', 'k=v', 'bv')), 'bv\n');
  const v = JSON.parse(ok(berth('volume', 'inspect', 'bv')))[0];
  assert.equal(v.Driver, 'local');
  assert.deepEqual(v.Labels, { k: 'v' });
  assert.equal(v.Mountpoint, join(eng.dir, 'data', 'volumes', 'bv', '_data'));
  assert.ok(statSync(v.Mountpoint).isDirectory());
  assert.equal(ok(berth('volume', 'ls', '-q')), 'bv\n');
  const id = ok(berth('run', '-d', '-v', 'bv:/x', 'busybox', 'sleep', '100')).trim();
  const busy = berth('volume', 'rm', 'bv');
  assert.equal(busy.status, 1);
  assert.match(busy.stderr, /volume is in use - \[[0-9a-f]{64}\]/);
  ok(berth('rm', '-f', id));
  assert.match(ok(berth('volume', 'prune', '-f')), /Total reclaimed space/);
  assert.equal(ok(berth('volume', 'ls', '-q')), 'bv\n'); // named: kept without -a
  assert.match(ok(berth('volume', 'prune', '-a', '-f')), /Deleted Volumes:\nbv\n/);
  assert.equal(ok(berth('volume', 'ls', '-q')), '');
});

test('/etc/hostname, /etc/hosts, hostname and --add-host', { skip: noDocker }, () => {
  const out = ok(
    docker(
      'run',
      '--rm',
      '--hostname',
      'box1',
      '--add-host',
      'db:192.0.2.7',
      'busybox',
      'sh',
      '-c',
      'cat /etc/hostname; hostname; cat /etc/hosts',
    ),
  );
  const [h1, h2, ...hosts] = out.split('\n');
  assert.equal(h1, 'box1');
  assert.equal(h2, 'box1');
  assert.match(hosts.join('\n'), /^127\.0\.0\.1\s+localhost$/m);
  assert.match(hosts.join('\n'), /^::1\s+localhost/m);
  assert.match(hosts.join('\n'), /^192\.0\.2\.7\s+db$/m);
  assert.match(hosts.join('\n'), /\sbox1$/m);
  // default: the first 12 hex digits of the ID
  const id = ok(berth('run', '-d', 'busybox', 'sh', '-c', 'hostname; cat /etc/hostname; sleep 100')).trim();
  return until(() => docker('logs', id).stdout === `${id.slice(0, 12)}\n${id.slice(0, 12)}\n`).finally(() => docker('rm', '-f', id));
});

test('--dns and --dns-search; no loopback nameserver from the host', { skip: noDocker }, () => {
  const out = ok(docker('run', '--rm', '--dns', '192.0.2.53', '--dns-search', 'example.test', 'busybox', 'cat', '/etc/resolv.conf'));
  assert.match(out, /^nameserver 192\.0\.2\.53$/m);
  assert.match(out, /^search example\.test$/m);
  assert.equal(out.match(/^nameserver/gm)?.length, 1);
  const dflt = ok(berth('run', '--rm', 'busybox', 'cat', '/etc/resolv.conf'));
  assert.doesNotMatch(dflt, /^nameserver\s+(127\.|::1)/m);
  if (!/^nameserver/m.test(dflt)) assert.match(dflt, /^# berth: the host names no nameserver/m);
});

test('inspect: Mounts and the three init file paths, bind-mounted and not in the root', { skip: noDocker }, () => {
  const host = join(eng.dir, 'hostdir2');
  mkdirSync(host, { recursive: true });
  const id = ok(
    docker(
      'run',
      '-d',
      '--name',
      'ins',
      '-v',
      `${host}:/b:ro`,
      '-v',
      'named:/n',
      'busybox',
      'sh',
      '-c',
      'cat /proc/self/mountinfo; sleep 100',
    ),
  ).trim();
  const r = JSON.parse(ok(docker('inspect', 'ins')))[0];
  const dir = join(eng.dir, 'data', 'containers', id);
  assert.equal(r.HostnamePath, join(dir, 'hostname'));
  assert.equal(r.HostsPath, join(dir, 'hosts'));
  assert.equal(r.ResolvConfPath, join(dir, 'resolv.conf'));
  assert.equal(readFileSync(r.HostnamePath, 'utf8'), `${id.slice(0, 12)}\n`);
  const byDst = Object.fromEntries(r.Mounts.map((m: { Destination: string }) => [m.Destination, m]));
  assert.deepEqual(byDst['/b'], { Type: 'bind', Source: host, Destination: '/b', Mode: 'ro', RW: false, Propagation: 'rprivate' });
  assert.equal(byDst['/n'].Type, 'volume');
  assert.equal(byDst['/n'].Name, 'named');
  assert.equal(byDst['/n'].Source, join(eng.dir, 'data', 'volumes', 'named', '_data'));
  assert.equal(byDst['/n'].RW, true);
  assert.equal(r.Mounts.length, 2);
  return until(() => /\s\/etc\/hosts\s/.test(docker('logs', 'ins').stdout))
    .then(() => {
      const mi = docker('logs', 'ins').stdout;
      for (const f of ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']) assert.match(mi, new RegExp(`\\s${f.replace(/\./g, '\\.')}\\s`));
      // Nothing of them was written into the container's own layer (a mount point is at most an empty
      // file; the init layer's /etc/mtab is a symlink).
      const snaps = join(eng.dir, 'data', 'snapshots');
      const upper = execFileSync('find', [snaps, '-path', `*${id}*/upper/etc/*`, '-type', 'f', '-size', '+0'], { encoding: 'utf8' });
      assert.equal(upper, '');
    })
    .finally(() => {
      docker('rm', '-f', 'ins');
      docker('volume', 'rm', 'named');
    });
});

test('docker 20.10: -v named volume, volume ls/rm, and prune taking named volumes as API 1.41 did', { skip: noDocker20 }, () => {
  const d20 = (...args: string[]) => eng.docker(args, { bin: DOCKER_20 });
  ok(d20('run', '--rm', '-v', 'old:/v', 'busybox', 'sh', '-c', 'echo 20 > /v/f'));
  assert.equal(
    ok(d20('run', '--rm', '-v', 'old:/v', '--hostname', 'h20', 'busybox', 'sh', '-c', 'cat /v/f; cat /etc/hostname')),
    '20\nh20\n',
  );
  assert.equal(ok(d20('volume', 'ls', '-q')), 'old\n');
  assert.match(ok(d20('volume', 'prune', '-f')), /Deleted Volumes:\nold\n/);
  assert.equal(ok(d20('volume', 'ls', '-q')), '');
});

test('dockerode: createVolume, listVolumes, Binds and Mounts in a container, volume remove 409 then 204', async () => {
  const d: any = new Docker({ socketPath: eng.socket });
  const v = await d.createVolume({ Name: 'dv2', Labels: { via: 'dockerode' } });
  assert.equal(v.name, 'dv2'); // dockerode answers with its Volume handle
  const vols = await d.listVolumes({ filters: JSON.stringify({ label: ['via=dockerode'] }) });
  assert.deepEqual(
    vols.Volumes.map((x: { Name: string }) => x.Name),
    ['dv2'],
  );
  const c = await d.createContainer({
    Image: 'busybox',
    Cmd: ['sh', '-c', 'echo hi > /a/f; cat /a/f; grep " /t " /proc/mounts'],
    HostConfig: { Binds: ['dv2:/a'], Mounts: [{ Type: 'tmpfs', Target: '/t' }] },
  });
  await c.start();
  await c.wait();
  const info = await c.inspect();
  assert.deepEqual(info.Mounts.map((m: { Type: string; Destination: string }) => `${m.Type}:${m.Destination}`).sort(), [
    'tmpfs:/t',
    'volume:/a',
  ]);
  await assert.rejects(d.getVolume('dv2').remove(), (e: { statusCode?: number }) => e.statusCode === 409);
  await c.remove();
  await d.getVolume('dv2').remove();
  await assert.rejects(d.getVolume('dv2').inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
});
