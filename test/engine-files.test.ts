// docker cp, diff, commit and export against a private berthd, with the docker CLI 28, Debian's
// docker 20.10 where the machine has it, dockerode and the berth CLI: copies both ways on running
// and stopped containers and into volumes, a symlink in the container that points out of it
// (`/../../../etc`) never reaching the host, a tar with `../` refused, Docker's error for a
// missing directory; diff without the init files and mount points; commit with changes, then a
// run of the committed image; export without volume contents.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Docker from 'dockerode';
import { DOCKER, BERTH, startEngine, type EngineFixture } from './engine-fixture.js';
import { packTar } from '../src/image/tar.js';
import { chainIDs } from '../src/image/index.js';

const OLD_DOCKER = '/usr/bin/docker';
const noDocker = !existsSync(DOCKER) && 'no docker CLI';
const noOldDocker = !existsSync(OLD_DOCKER) && 'no Debian docker 20.10 client';
let eng: EngineFixture;
let host: string;

before(async () => {
  eng = await startEngine();
  host = join(eng.dir, 'host');
  mkdirSync(host);
  ok(berth('pull', 'busybox'));
});
after(async () => {
  await eng?.stop();
});

function run(bin: string, args: string[], env: Record<string, string>, input?: Buffer) {
  const r = spawnSync(bin, args, { timeout: 60_000, env: { ...process.env, ...env }, input, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString(), raw: r.stdout };
}
const dockerEnv = () => {
  const config = join(eng.dir, 'docker-config');
  mkdirSync(config, { recursive: true });
  return { DOCKER_HOST: eng.host, DOCKER_CONFIG: config };
};
const docker = (...args: string[]) => run(DOCKER, args, dockerEnv());
const oldDocker = (...args: string[]) => run(OLD_DOCKER, args, { ...dockerEnv(), DOCKER_API_VERSION: '1.41' });
const berth = (...args: string[]) => run(BERTH, args, { BERTH_HOST: eng.host, DOCKER_HOST: '' });
const ok = (r: { status: number | null; stdout: string; stderr: string }) => {
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return r.stdout;
};

/** PUT /containers/{id}/archive with a raw tar body. */
function putArchive(id: string, path: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: eng.socket,
        method: 'PUT',
        path: `/containers/${id}/archive?path=${encodeURIComponent(path)}`,
        headers: { 'Content-Type': 'application/x-tar', 'Content-Length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('docker cp in and out of a running container, files and directories', { skip: noDocker }, () => {
  ok(docker('run', '-d', '--name', 'cp1', 'busybox', 'sleep', '1000'));
  ok(docker('exec', 'cp1', 'sh', '-c', 'mkdir -p /srv/d/sub && echo one > /srv/d/a && echo two > /srv/d/sub/b && ln -s a /srv/d/l'));
  // out: a file to a new name, a directory into an existing directory
  ok(docker('cp', 'cp1:/srv/d/a', join(host, 'a.txt')));
  assert.equal(readFileSync(join(host, 'a.txt'), 'utf8'), 'one\n');
  ok(docker('cp', 'cp1:/srv/d', host));
  assert.equal(readFileSync(join(host, 'd/sub/b'), 'utf8'), 'two\n');
  assert.equal(readFileSync(join(host, 'd/l'), 'utf8'), 'one\n');
  // in: a file into a directory, a directory to a new name, `dir/.` into an existing one
  writeFileSync(join(host, 'in.txt'), 'from host\n');
  ok(docker('cp', join(host, 'in.txt'), 'cp1:/tmp/'));
  assert.equal(ok(docker('exec', 'cp1', 'cat', '/tmp/in.txt')), 'from host\n');
  ok(docker('cp', join(host, 'd'), 'cp1:/tmp/d2'));
  assert.equal(ok(docker('exec', 'cp1', 'cat', '/tmp/d2/sub/b')), 'two\n');
  ok(docker('exec', 'cp1', 'mkdir', '/tmp/d3'));
  ok(docker('cp', `${join(host, 'd')}/.`, 'cp1:/tmp/d3'));
  assert.equal(ok(docker('exec', 'cp1', 'ls', '/tmp/d3')), 'a\nl\nsub\n');
  // stdout as a tar, stdin as a tar
  const tarOut = docker('cp', 'cp1:/srv/d/a', '-');
  assert.equal(tarOut.status, 0);
  assert.match(tarOut.stdout, /^a\0/);
  const tarIn = spawnSync('tar', ['-C', host, '-cf', '-', 'in.txt']).stdout;
  ok(run(DOCKER, ['cp', '-', 'cp1:/srv'], dockerEnv(), tarIn));
  assert.equal(ok(docker('exec', 'cp1', 'cat', '/srv/in.txt')), 'from host\n');
});

test("dockerode putArchive and getArchive; -a keeps the container user's ids", { skip: noDocker }, async () => {
  ok(docker('run', '-d', '--name', 'cp5', '-u', '1234:5678', 'busybox', 'sleep', '1000'));
  const c = new Docker({ socketPath: eng.socket }).getContainer('cp5');
  await c.putArchive(await packTar([{ header: { name: 'dode.txt', mode: 0o600, uid: 42, gid: 43 }, body: 'dockerode\n' }]), {
    path: '/tmp',
  });
  assert.equal(ok(docker('exec', 'cp5', 'stat', '-c', '%u:%g %a', '/tmp/dode.txt')), '42:43 600\n', "the tar's ids and mode");
  const tarred = await c.getArchive({ path: '/tmp/dode.txt' });
  const chunks: Buffer[] = [];
  for await (const ch of tarred) chunks.push(ch as Buffer);
  assert.match(Buffer.concat(chunks).toString(), /dockerode\n/);
  writeFileSync(join(host, 'owned.txt'), 'owned\n');
  ok(docker('cp', '-a', join(host, 'owned.txt'), 'cp5:/tmp/'));
  assert.equal(ok(docker('exec', 'cp5', 'stat', '-c', '%u:%g', '/tmp/owned.txt')), '1234:5678\n');
});

test('a symlink pointing out of the container stays inside it, both ways', { skip: noDocker }, async () => {
  ok(docker('run', '-d', '--name', 'cp2', 'busybox', 'sleep', '1000'));
  ok(
    docker(
      'exec',
      'cp2',
      'sh',
      '-c',
      'echo container-passwd > /etc/passwd-marker && ln -s /../../../etc /evil && ln -s ../../../../../../etc/shadow /rel',
    ),
  );
  ok(docker('cp', 'cp2:/evil/passwd-marker', join(host, 'pm')));
  assert.equal(readFileSync(join(host, 'pm'), 'utf8'), 'container-passwd\n');
  // /evil/hostname is the container's (it has none: not the host's /etc/hostname)
  const r = docker('cp', 'cp2:/evil/hostname-not-there', join(host, 'x'));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Could not find the file \/evil\/hostname-not-there in container cp2/);
  // a link is archived as a link; its stat names its target resolved inside the container
  const head = await eng.api('HEAD', '/containers/cp2/archive?path=/rel');
  const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString());
  assert.equal(stat.linkTarget, '/etc/shadow');
  assert.equal(Math.floor(stat.mode / 2 ** 27) % 2, 1, 'Go ModeSymlink');
  const tarred = docker('cp', 'cp2:/rel', '-');
  assert.equal(tarred.raw[156], 0x32, 'a symlink entry (typeflag 2)');
  assert.match(tarred.stdout, /\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/etc\/shadow/);
  // writing through the link lands in the container's /etc
  const name = `berth-cp-escape-${process.pid}`;
  writeFileSync(join(host, name), 'x\n');
  ok(docker('cp', join(host, name), 'cp2:/evil/'));
  assert.equal(existsSync(join('/etc', name)), false, 'nothing written to the host /etc');
  assert.equal(ok(docker('exec', 'cp2', 'cat', `/etc/${name}`)), 'x\n');
});

test("a tar with ../ is refused and writes nothing; a missing directory is Docker's 404", { skip: noDocker }, async () => {
  ok(docker('run', '-d', '--name', 'cp3', 'busybox', 'sleep', '1000'));
  const name = `berth-cp-dotdot-${process.pid}`;
  const evil = await packTar([{ header: { name: `../../../../../../tmp/${name}`, mode: 0o644 }, body: 'x' }]);
  const r = await putArchive('cp3', '/tmp', evil);
  assert.equal(r.status, 400, r.body);
  assert.match(r.body, /\.\./);
  assert.equal(existsSync(join('/tmp', name)), false);
  assert.equal(ok(docker('exec', 'cp3', 'ls', '/tmp')), '');
  const missing = await putArchive('cp3', '/no/such/dir', await packTar([{ header: { name: 'f', mode: 0o644 }, body: 'x' }]));
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body).message, 'Could not find the file /no/such/dir in container cp3');
  writeFileSync(join(host, 'f'), 'f\n');
  const cli = docker('cp', join(host, 'f'), 'cp3:/no/such/dir/f');
  assert.notEqual(cli.status, 0);
  assert.match(cli.stderr, /Could not find the file \/no\/such\/dir in container cp3/);
  const notDir = await putArchive('cp3', '/bin/sh', await packTar([{ header: { name: 'f', mode: 0o644 }, body: 'x' }]));
  assert.equal(notDir.status, 400);
});

test(
  'PUT /archive checks the whole archive before it writes: a late bad entry leaves nothing; devices land where named',
  { skip: noDocker },
  async () => {
    ok(docker('run', '-d', '--name', 'cp7', 'busybox', 'sleep', '1000'));
    const ls = (dir: string) => ok(docker('exec', 'cp7', 'ls', '-A', dir));
    ok(docker('exec', 'cp7', 'mkdir', '/target'));
    // a good first entry, then a hard link through a symlink the archive made: 400, and not even the first entry is written
    const throughLink = await packTar([
      { header: { name: 'first', mode: 0o644 }, body: 'written?' },
      { header: { name: 's', type: 'symlink', linkname: '/etc' } },
      { header: { name: 'h', type: 'link', linkname: 's/passwd' } },
    ]);
    const r1 = await putArchive('cp7', '/target', throughLink);
    assert.equal(r1.status, 400, r1.body);
    assert.match(JSON.parse(r1.body).message, /archive entry "h": path goes through symlink "s"/);
    assert.equal(ls('/target'), '');
    // a device entry after good ones, then a "../" entry: still nothing written
    const late = await packTar([
      { header: { name: 'a', mode: 0o644 }, body: 'a' },
      { header: { name: 'null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 } },
      { header: { name: 'd/../../escape', mode: 0o644 }, body: 'x' },
    ]);
    const r2 = await putArchive('cp7', '/target', late);
    assert.equal(r2.status, 400, r2.body);
    assert.equal(ls('/target'), '');
    // a device node and a FIFO alone: made in the directory named, with their modes
    const devs = await packTar([
      { header: { name: 'dev/', type: 'directory', mode: 0o755 } },
      { header: { name: 'dev/null2', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o640 } },
      { header: { name: 'dev/fifo', type: 'fifo', mode: 0o600 } },
    ]);
    const r3 = await putArchive('cp7', '/target', devs);
    assert.equal(r3.status, 200, r3.body);
    assert.match(ok(docker('exec', 'cp7', 'ls', '-ln', '/target/dev/null2')), /^crw-r-----\s+1 0\s+0\s+1,\s+3 /);
    assert.match(ok(docker('exec', 'cp7', 'ls', '-ln', '/target/dev/fifo')), /^prw-------/);
    assert.equal(ls('/target'), 'dev\n');
    ok(docker('rm', '-f', 'cp7'));
  },
);

test('PUT /archive takes gzip, bzip2 and xz bodies, as dockerd does', { skip: noDocker }, async () => {
  ok(docker('run', '-d', '--name', 'cp8', 'busybox', 'sleep', '1000'));
  const tar = await packTar([{ header: { name: 'packed', mode: 0o644 }, body: 'compressed\n' }]);
  for (const [what, body] of [
    ['gzip', gzipSync(tar)],
    ['bzip2', spawnSync('bzip2', ['-c'], { input: tar }).stdout],
    ['xz', spawnSync('xz', ['-c'], { input: tar }).stdout],
  ] as const) {
    const r = await putArchive('cp8', '/tmp', body);
    assert.equal(r.status, 200, `${what}: ${r.body}`);
    assert.equal(ok(docker('exec', 'cp8', 'cat', '/tmp/packed')), 'compressed\n', what);
    ok(docker('exec', 'cp8', 'rm', '/tmp/packed'));
  }
  const broken = gzipSync(tar).subarray(0, 30);
  const r = await putArchive('cp8', '/tmp', broken);
  assert.equal(r.status, 400, r.body);
  ok(docker('rm', '-f', 'cp8'));
});

test('cp on a stopped container and into a volume; HEAD stat header', { skip: noDocker }, async () => {
  ok(docker('run', '--name', 'cp4', '-v', 'cpvol:/data', 'busybox', 'sh', '-c', 'echo before > /data/v; echo root > /r'));
  assert.equal(JSON.parse(ok(docker('inspect', 'cp4')))[0].State.Status, 'exited');
  ok(docker('cp', 'cp4:/r', join(host, 'r')));
  assert.equal(readFileSync(join(host, 'r'), 'utf8'), 'root\n');
  ok(docker('cp', 'cp4:/data/v', join(host, 'v')));
  assert.equal(readFileSync(join(host, 'v'), 'utf8'), 'before\n');
  writeFileSync(join(host, 'nv'), 'into-volume\n');
  ok(docker('cp', join(host, 'nv'), 'cp4:/data/'));
  const vol = JSON.parse(ok(docker('volume', 'inspect', 'cpvol')))[0];
  assert.equal(readFileSync(join(vol.Mountpoint, 'nv'), 'utf8'), 'into-volume\n');
  const head = await eng.api('HEAD', '/containers/cp4/archive?path=/data/nv');
  assert.equal(head.status, 200);
  const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString());
  assert.equal(stat.name, 'nv');
  assert.equal(stat.size, 12);
  assert.equal(stat.mode & 0o777, 0o644);
  // the snapshot of a stopped container is not left mounted
  const id = JSON.parse(ok(docker('inspect', 'cp4')))[0].Id;
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(`${id}/merged`));
  assert.deepEqual(mounted, []);
  // started again, it sees what was copied in
  ok(docker('start', '-a', 'cp4'));
  ok(docker('rm', '-v', 'cp4'));
  ok(docker('volume', 'rm', 'cpvol'));
});

test('cp into a read-only root file system or volume is refused (403)', { skip: noDocker }, async () => {
  ok(docker('create', '--name', 'ro1', '--read-only', '-v', 'rovol:/data:ro', '-v', 'rwvol:/rw', 'busybox', 'true'));
  const body = await packTar([{ header: { name: 'f', mode: 0o644 }, body: 'x' }]);
  const root = await putArchive('ro1', '/tmp', body);
  assert.equal(root.status, 403);
  assert.equal(JSON.parse(root.body).message, 'container rootfs is marked read-only');
  const vol = await putArchive('ro1', '/data', body);
  assert.equal(vol.status, 403);
  assert.equal(JSON.parse(vol.body).message, 'mounted volume is marked read-only');
  assert.equal((await putArchive('ro1', '/rw', body)).status, 200, 'a writable volume of a read-only container takes it');
  writeFileSync(join(host, 'rof'), 'x\n');
  const cli = docker('cp', join(host, 'rof'), 'ro1:/tmp/');
  assert.notEqual(cli.status, 0);
  assert.match(cli.stderr, /container rootfs is marked read-only/);
  ok(docker('rm', '-v', 'ro1'));
  ok(docker('volume', 'rm', 'rovol', 'rwvol'));
});

test('a mounted file is written in place; a mount point is never replaced or emptied', { skip: noDocker }, async () => {
  ok(docker('run', '-d', '--name', 'cp6', '-v', 'keepvol:/data', 'busybox', 'sh', '-c', 'echo precious > /data/p; sleep 1000'));
  const hosts = await putArchive('cp6', '/etc', await packTar([{ header: { name: 'hosts', mode: 0o644 }, body: '10.9.8.7 copied-in\n' }]));
  assert.equal(hosts.status, 200, hosts.body);
  assert.equal(ok(docker('exec', 'cp6', 'cat', '/etc/hosts')), '10.9.8.7 copied-in\n');
  // a file named like the volume's mount point, without noOverwriteDirNonDir: refused, nothing lost
  const over = await putArchive('cp6', '/', await packTar([{ header: { name: 'data', mode: 0o644 }, body: 'x' }]));
  assert.equal(over.status, 400, over.body);
  assert.match(JSON.parse(over.body).message, /mount point/);
  assert.equal(ok(docker('exec', 'cp6', 'cat', '/data/p')), 'precious\n');
  ok(docker('rm', '-f', '-v', 'cp6'));
  ok(docker('volume', 'rm', 'keepvol'));
});

test('berth cp both ways', () => {
  ok(berth('run', '-d', '--name', 'bcp', 'busybox', 'sleep', '1000'));
  writeFileSync(join(host, 'bin.txt'), 'berth in\n');
  ok(berth('cp', join(host, 'bin.txt'), 'bcp:/tmp/renamed.txt'));
  ok(berth('cp', 'bcp:/tmp/renamed.txt', join(host, 'bout.txt')));
  assert.equal(readFileSync(join(host, 'bout.txt'), 'utf8'), 'berth in\n');
  ok(berth('cp', 'bcp:/etc', join(host, 'etc-copy')));
  assert.ok(readdirSync(join(host, 'etc-copy')).includes('passwd'));
  // the container's hosts file (its init file, a bind mount) is what cp sees
  assert.match(readFileSync(join(host, 'etc-copy/hosts'), 'utf8'), /localhost/);
  // a directory with a link in it: the link is made as a link, nothing is written through it
  ok(berth('exec', 'bcp', 'sh', '-c', 'mkdir /s && ln -s /etc /s/l && echo a > /s/f'));
  ok(berth('cp', 'bcp:/s', join(host, 's')));
  assert.equal(readlinkSync(join(host, 's/l')), '/etc');
  assert.equal(readFileSync(join(host, 's/f'), 'utf8'), 'a\n');
  const missing = berth('cp', 'bcp:/nope', join(host, 'nope'));
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /Could not find the file \/nope in container bcp/);
});

test('diff leaves out the init files and mount points; docker, berth and dockerode agree', { skip: noDocker }, async () => {
  ok(docker('run', '--name', 'df1', '-v', '/anon', 'busybox', 'sh', '-c', 'touch /tmp/new && rm /bin/ls && echo x >> /etc/group'));
  const d = ok(docker('diff', 'df1')).trim().split('\n').sort();
  assert.deepEqual(d, ['A /tmp/new', 'C /bin', 'C /etc', 'C /etc/group', 'C /tmp', 'D /bin/ls'].sort());
  assert.deepEqual(ok(berth('diff', 'df1')).trim().split('\n').sort(), d);
  const changes = await new Docker({ socketPath: eng.socket }).getContainer('df1').changes();
  assert.deepEqual(
    changes.find((c: { Path: string }) => c.Path === '/tmp/new'),
    { Path: '/tmp/new', Kind: 1 },
  );
  ok(docker('rm', '-v', 'df1'));
});

test('commit with changes, then run the committed image', { skip: noDocker }, async () => {
  ok(docker('run', '--name', 'cm1', '-e', 'FROM_RUN=1', 'busybox', 'sh', '-c', 'echo committed > /hello'));
  const id = ok(
    docker(
      'commit',
      '-a',
      'tester',
      '-m',
      'a message',
      '-c',
      'CMD ["cat", "/hello"]',
      '-c',
      'ENV ADDED=yes',
      '-c',
      'WORKDIR /tmp',
      '-c',
      'LABEL a.b=c',
      '-c',
      'EXPOSE 8080',
      'cm1',
      'committed:1',
    ),
  ).trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.equal(ok(docker('run', '--rm', 'committed:1')), 'committed\n');
  assert.equal(ok(docker('run', '--rm', 'committed:1', 'sh', '-c', 'pwd; echo $ADDED $FROM_RUN')), '/tmp\nyes 1\n');
  const img = JSON.parse(ok(docker('image', 'inspect', 'committed:1')))[0];
  assert.equal(img.Id, id);
  assert.equal(img.Author, 'tester');
  assert.equal(img.Comment, 'a message');
  const hist = ok(docker('history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'committed:1')).split('\n')[0];
  assert.equal(hist, 'sh -c echo committed > /hello|a message');
  assert.deepEqual(img.Config.Cmd, ['cat', '/hello']);
  assert.equal(img.Config.Labels['a.b'], 'c');
  assert.ok('8080/tcp' in img.Config.ExposedPorts);
  // the new layer holds /hello and none of the init files or mount points
  const top = chainIDs(img.RootFS.Layers).at(-1)!.slice(7);
  const layer = join(eng.dir, 'data', 'snapshots', 'layers', top, 'fs');
  assert.deepEqual(readdirSync(layer).sort(), ['hello']);
  const bad = docker('commit', '-c', 'RUN true', 'cm1');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /run is not a valid change command/);
  // berth commit too
  const bid = ok(berth('commit', '-c', 'CMD ["cat", "/hello"]', 'cm1', 'committed:2')).trim();
  assert.match(bid, /^sha256:/);
  assert.equal(ok(berth('run', '--rm', 'committed:2')), 'committed\n');
  ok(docker('rm', 'cm1'));
});

test('export: the root file system without volume contents (docker -o, berth to stdout)', { skip: noDocker }, () => {
  ok(docker('run', '--name', 'ex1', '-v', 'exvol:/data', 'busybox', 'sh', '-c', 'echo in-volume > /data/v; echo in-root > /mine'));
  const file = join(host, 'ex.tar');
  ok(docker('export', '-o', file, 'ex1'));
  const list = spawnSync('tar', ['-tf', file], { encoding: 'utf8' }).stdout.split('\n');
  assert.ok(list.includes('mine'), list.slice(0, 20).join(','));
  assert.ok(list.includes('bin/sh'));
  assert.ok(!list.includes('data/v'));
  const out = berth('export', 'ex1');
  assert.equal(out.status, 0);
  const list2 = spawnSync('tar', ['-t'], { input: out.raw, encoding: 'utf8' }).stdout.split('\n');
  assert.ok(list2.includes('mine'));
  ok(docker('rm', '-v', 'ex1'));
  ok(docker('volume', 'rm', 'exvol'));
});

test('Debian docker 20.10: cp, diff and commit', { skip: noOldDocker || noDocker }, () => {
  ok(oldDocker('run', '-d', '--name', 'old1', 'busybox', 'sleep', '1000'));
  writeFileSync(join(host, 'old.txt'), 'old client\n');
  ok(oldDocker('cp', join(host, 'old.txt'), 'old1:/'));
  ok(oldDocker('cp', 'old1:/old.txt', join(host, 'old-back.txt')));
  assert.equal(readFileSync(join(host, 'old-back.txt'), 'utf8'), 'old client\n');
  assert.deepEqual(ok(oldDocker('diff', 'old1')).trim().split('\n'), ['A /old.txt']);
  ok(oldDocker('commit', 'old1', 'oldcommit:1'));
  assert.equal(ok(oldDocker('run', '--rm', 'oldcommit:1', 'cat', '/old.txt')), 'old client\n');
  rmSync(join(host, 'old-back.txt'));
});
