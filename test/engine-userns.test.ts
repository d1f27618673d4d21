// berthd's --userns-remap against the real kernel: a user and its /etc/subuid and /etc/subgid
// range made by the test (and removed, the files restored byte for byte); containers see root
// while the host sees the range; the image's layers are shared through idmapped mounts, never
// chowned or copied; `--userns=host` runs without a user namespace; what a user namespace
// cannot share, and a bad remapping, are refused in dockerd's words.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH, BERTHD, DOCKER, startEngine, type EngineFixture } from './engine-fixture.js';
import { allSubIds, freeRange, RANGE_SIZE } from '../src/engine/userns.js';

const USER = `berth-t-remap${process.pid % 100000}`;
const NORANGE = `berth-t-norng${process.pid % 100000}`;
const saved: Record<string, string | undefined> = {};
let start = 0;
let dataRoot = '';
let eng: EngineFixture | undefined;

const readMaybe = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined);

before(async () => {
  for (const f of ['/etc/subuid', '/etc/subgid']) saved[f] = readMaybe(f);
  // One free range in both files, far from the usual 100000 so as not to meet another's.
  start = freeRange([...allSubIds(saved['/etc/subuid'] ?? ''), ...allSubIds(saved['/etc/subgid'] ?? '')], 3 * RANGE_SIZE, 3_000_000)!;
  for (const u of [USER, NORANGE]) execFileSync('useradd', ['-r', '-U', '-M', '-s', '/bin/false', u]);
  // Three blocks: the daemon's remapping takes the first, --userns=auto the others.
  for (const f of ['/etc/subuid', '/etc/subgid']) writeFileSync(f, `${saved[f] ?? ''}${USER}:${start}:${3 * RANGE_SIZE}\n`);
  // The remapped root passes through the data root's parents (berthd checks them at start).
  dataRoot = mkdtempSync('/tmp/berth-userns-data-');
  chmodSync(dataRoot, 0o711);
  eng = await startEngine({ daemonConfig: { 'userns-remap': USER }, dataRoot });
});

after(async () => {
  try {
    await eng?.stop();
  } finally {
    for (const f of ['/etc/subuid', '/etc/subgid']) {
      if (saved[f] === undefined) rmSync(f, { force: true });
      else writeFileSync(f, saved[f]!);
    }
    for (const u of [USER, NORANGE]) spawnSync('userdel', [u]);
    if (dataRoot) rmSync(dataRoot, { recursive: true, force: true });
  }
});

const layerDirs = () => readdirSync(join(dataRoot, 'snapshots', 'layers')).filter((n) => n !== 'empty');

/** Every path under `dir` whose owner is in the test's range (a chowned copy would show). */
function ownedByRange(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    if ((st.uid >= start && st.uid < start + RANGE_SIZE) || (st.gid >= start && st.gid < start + RANGE_SIZE)) out.push(p);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(dir);
  return out;
}

test('a container is root inside, the range outside; its files are the range on the host, the layers untouched', () => {
  const e = eng!;
  const out = e.dockerOk([
    'run',
    '--rm',
    'busybox',
    'sh',
    '-c',
    'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u:%g / /bin/busybox',
  ]);
  const lines = out.split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  assert.deepEqual(lines, ['0', '0', `0 ${start} ${RANGE_SIZE}`, `0 ${start} ${RANGE_SIZE}`, '0:0', '0:0']);

  const layersBefore = layerDirs();
  assert.ok(layersBefore.length > 0);
  const id = e.dockerOk([
    'run',
    '-d',
    'busybox',
    'sh',
    '-c',
    'echo hi > /made; mkdir /dir; chown 1000:1000 /dir; echo x >> /bin/busybox.txt; sleep 300',
  ]);
  try {
    const upper = join(dataRoot, 'snapshots', 'containers', id, 'upper');
    // The script's last write: /dir exists before its chown.
    for (let i = 0; i < 100 && !existsSync(join(upper, 'bin', 'busybox.txt')); i++) execFileSync('sleep', ['0.1']);
    const own = (p: string) => `${statSync(join(upper, p)).uid}:${statSync(join(upper, p)).gid}`;
    assert.equal(own('made'), `${start}:${start}`, 'a file root made inside is the range root on the host');
    assert.equal(own('dir'), `${start + 1000}:${start + 1000}`, 'uid 1000 inside is start+1000 outside');
    assert.equal(own('.'), `${start}:${start}`, "the root's directory is the container root's");
    // Inside, the same files show as root's and 1000's.
    assert.equal(e.dockerOk(['exec', id, 'stat', '-c', '%u:%g', '/made', '/dir', '/etc/passwd']), '0:0\n1000:1000\n0:0');
    // The mount is an overlay over idmapped layers, the layers as unpacked: no file of any layer
    // is owned by the range, and no layer was added for it.
    assert.deepEqual(layerDirs(), layersBefore);
    for (const l of layersBefore) {
      const fs = join(dataRoot, 'snapshots', 'layers', l, 'fs');
      assert.equal(statSync(fs).uid, 0);
      assert.deepEqual(ownedByRange(fs), [], `layer ${l} holds files of the range`);
    }
    assert.match(
      readFileSync('/proc/self/mountinfo', 'utf8'),
      new RegExp(` ${join(dataRoot, 'snapshots', 'containers', id, 'merged')} .* - overlay `),
    );
  } finally {
    e.dockerOk(['rm', '-f', id]);
  }
});

test("an image mount is seen through the container's maps, as its root: root's files root's inside, read-only, the layers untouched", () => {
  const e = eng!;
  const layersBefore = layerDirs();
  const script = 'stat -c %u:%g /x /x/bin/busybox /x/etc/passwd; touch /x/w 2>&1; true';
  const remapped = e.dockerOk([
    'run',
    '--rm',
    '--network',
    'none',
    '--mount',
    'type=image,source=busybox,target=/x',
    'busybox',
    'sh',
    '-c',
    script,
  ]);
  // berth's CLI sends --userns=auto (the docker CLI knows no `auto`): the mount follows that container's own maps.
  const auto = spawnSync(
    BERTH,
    ['run', '--rm', '--network', 'none', '--userns=auto', '--mount', 'type=image,source=busybox,target=/x', 'busybox', 'sh', '-c', script],
    { encoding: 'utf8', env: { ...process.env, BERTH_HOST: e.host, DOCKER_HOST: '' } },
  );
  assert.equal(auto.status, 0, auto.stderr);
  for (const out of [remapped, auto.stdout.trim()]) {
    const [dir, bin, passwd, write] = out.split('\n');
    assert.deepEqual([dir, bin, passwd], ['0:0', '0:0', '0:0']);
    assert.match(write, /Read-only file system/);
  }
  assert.deepEqual(layerDirs(), layersBefore);
  for (const l of layersBefore)
    assert.deepEqual(ownedByRange(join(dataRoot, 'snapshots', 'layers', l, 'fs')), [], `layer ${l} holds files of the range`);
});

test("a new volume is the container root's; init files are readable and root's inside", () => {
  const e = eng!;
  const out = e.dockerOk([
    'run',
    '--rm',
    '-v',
    'usernsvol:/data',
    'busybox',
    'sh',
    '-c',
    'touch /data/f && stat -c %u:%g /data /data/f /etc/hosts && cat /etc/hostname',
  ]);
  const [data, f, hosts] = out.split('\n');
  assert.deepEqual([data, f, hosts], ['0:0', '0:0', '0:0']);
  const mp = e.dockerOk(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'usernsvol']);
  assert.equal(`${statSync(mp).uid}:${statSync(mp).gid}`, `${start}:${start}`);
  assert.equal(statSync(join(mp, 'f')).uid, start);
  e.dockerOk(['volume', 'rm', 'usernsvol']);
});

test("commit, export and cp show the container's ids; cp in writes the range's", () => {
  const e = eng!;
  const id = e.dockerOk(['run', '-d', 'busybox', 'sh', '-c', 'echo a > /a; mkdir /u; chown 1000:1000 /u; touch /u/f; sleep 300']);
  const upper = join(dataRoot, 'snapshots', 'containers', id, 'upper');
  const src = mkdtempSync('/tmp/berth-userns-cp-');
  try {
    for (let i = 0; i < 100 && !existsSync(join(upper, 'u', 'f')); i++) execFileSync('sleep', ['0.1']);
    const owners = (tar: Buffer) =>
      Object.fromEntries(
        execFileSync('tar', ['-tvf', '-', '--numeric-owner'], { input: tar })
          .toString()
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/))
          .map((f) => [f[5].replace(/^\.\//, '').replace(/\/$/, ''), f[1]]),
      );
    const exported = owners(execFileSync(DOCKER, ['-H', e.host, 'export', id], { maxBuffer: 64 << 20 }));
    assert.equal(exported['a'], '0/0');
    assert.equal(exported['u'], '1000/1000');
    assert.equal(exported['bin/busybox'], '0/0');
    assert.deepEqual(owners(execFileSync(DOCKER, ['-H', e.host, 'cp', `${id}:/u`, '-'])), { u: '1000/1000', 'u/f': '0/0' });
    writeFileSync(join(src, 'in'), 'x');
    e.dockerOk(['cp', join(src, 'in'), `${id}:/cpin`]);
    assert.equal(statSync(join(upper, 'cpin')).uid, start, 'a file copied in as root is the range root on the host');
    assert.equal(e.dockerOk(['exec', id, 'stat', '-c', '%u:%g', '/cpin']), '0:0');
    e.dockerOk(['commit', id, 'userns-committed']);
    // The layer holds the container's ids: the image run without a user namespace shows them.
    assert.equal(
      e.dockerOk(['run', '--rm', '--userns=host', 'userns-committed', 'stat', '-c', '%u:%g', '/a', '/u', '/cpin']),
      '0:0\n1000:1000\n0:0',
    );
    e.dockerOk(['rmi', 'userns-committed']);
  } finally {
    e.dockerOk(['rm', '-f', id]);
    rmSync(src, { recursive: true, force: true });
  }
});

test("a build's RUN steps run remapped, as dockerd's, and their layers hold the container's ids", () => {
  const e = eng!;
  const ctx = mkdtempSync('/tmp/berth-userns-build-');
  try {
    writeFileSync(
      join(ctx, 'Dockerfile'),
      'FROM busybox\nRUN cat /proc/self/uid_map > /map && id -u > /uid && mkdir /u && chown 1000:1000 /u && touch /u/f\n',
    );
    e.dockerOk(['build', '-q', '-t', 'userns-built', ctx], { env: { DOCKER_BUILDKIT: '0' } });
    const out = e.dockerOk(['run', '--rm', '--userns=host', 'userns-built', 'sh', '-c', 'cat /map /uid; stat -c %u:%g /u /u/f /map']);
    const lines = out.split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(lines, [`0 ${start} ${RANGE_SIZE}`, '0', '1000:1000', '0:0', '0:0']);
    e.dockerOk(['rmi', 'userns-built']);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
});

test('--userns=auto: 65536 ids of its own for each container, kept across a restart of berthd', async () => {
  const e = eng!;
  const map = (id: string) => e.dockerOk(['exec', id, 'cat', '/proc/self/uid_map', '/proc/self/gid_map']).split(/\s+/).map(Number);
  // The docker CLI knows no `auto` (it checks modes itself): berth's CLI sends it.
  const berth = (...args: string[]) =>
    spawnSync(BERTH, args, { encoding: 'utf8', env: { ...process.env, BERTH_HOST: e.host, DOCKER_HOST: '' } });
  const berthOk = (...args: string[]) => {
    const r = berth(...args);
    assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const a = berthOk('run', '-d', '--userns=auto', 'busybox', 'sleep', '300');
  const b = berthOk('run', '-d', '--userns=auto', 'busybox', 'sleep', '300');
  try {
    const ma = map(a);
    assert.deepEqual(ma, [0, start + RANGE_SIZE, RANGE_SIZE, 0, start + RANGE_SIZE, RANGE_SIZE]);
    assert.deepEqual(map(b), [0, start + 2 * RANGE_SIZE, RANGE_SIZE, 0, start + 2 * RANGE_SIZE, RANGE_SIZE]);
    assert.equal(e.dockerOk(['exec', a, 'sh', '-c', 'id -u; stat -c %u /']), '0\n0');
    const full = berth('run', '--rm', '--userns=auto', 'busybox', 'true');
    assert.notEqual(full.status, 0);
    assert.match(full.stderr, /no free range of 65536 ids left in the subuid ranges/);
    // berthd restarts: the containers keep their ranges, and so do they across their own restarts.
    await e.restart();
    e.dockerOk(['restart', '-t', '0', a]);
    assert.deepEqual(map(a), ma);
    assert.match(berth('run', '--rm', '--userns=auto', 'busybox', 'true').stderr, /no free range/);
    e.dockerOk(['rm', '-f', b]);
    const c = berthOk('run', '--rm', '--userns=auto', 'busybox', 'cat', '/proc/self/uid_map').split(/\s+/).map(Number);
    assert.deepEqual(c, [0, start + 2 * RANGE_SIZE, RANGE_SIZE], "a removed container's range is free again");
  } finally {
    e.docker(['rm', '-f', a, b]);
  }
});

test('--userns=host runs without a user namespace', () => {
  const out = eng!.dockerOk(['run', '--rm', '--userns=host', 'busybox', 'cat', '/proc/self/uid_map']);
  assert.deepEqual(out.trim().split(/\s+/), ['0', '0', '4294967295']);
  // … and so may be privileged or on the host's network, which a remapped one may not (dockerd's words).
  assert.equal(eng!.dockerOk(['run', '--rm', '--userns=host', '--privileged', 'busybox', 'true']), '');
  const priv = eng!.docker(['run', '--rm', '--privileged', 'busybox', 'true']);
  assert.notEqual(priv.status, 0);
  assert.match(priv.stderr, /privileged mode is incompatible with user namespaces/);
  assert.match(
    eng!.docker(['run', '--rm', '--network', 'host', 'busybox', 'true']).stderr,
    /cannot share the host's network namespace when user namespaces are enabled/,
  );
  assert.match(
    eng!.docker(['run', '--rm', '--pid', 'host', 'busybox', 'true']).stderr,
    /cannot share the host PID namespace when user namespaces are enabled/,
  );
});

test('GET /info and berth info list name=userns', async () => {
  const info = JSON.parse((await eng!.api('GET', '/info')).body) as { SecurityOptions: string[] };
  assert.ok(info.SecurityOptions.includes('name=userns'), JSON.stringify(info.SecurityOptions));
  const r = spawnSync(BERTH, ['info'], { encoding: 'utf8', env: { ...process.env, BERTH_HOST: eng!.host, DOCKER_HOST: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\n {2}userns\n/);
});

test('berthd refuses to start on a bad remapping, in dockerd words', () => {
  const dir = mkdtempSync('/tmp/berth-userns-bad-');
  try {
    const run = (value: string, dataRoot = join(dir, 'data')) => {
      const r = spawnSync(
        process.execPath,
        [
          BERTHD,
          '--config-file',
          join(dir, 'none.json'),
          '--data-root',
          dataRoot,
          '--exec-root',
          join(dir, 'run'),
          '-H',
          `unix://${dir}/s.sock`,
          '--cri-socket',
          '',
          '--userns-remap',
          value,
        ],
        { encoding: 'utf8', timeout: 20_000 },
      );
      writeFileSync(join(dir, 'none.json'), '{}');
      return r;
    };
    writeFileSync(join(dir, 'none.json'), '{}');
    const cases: [string, RegExp][] = [
      ['berth-no-such-user', /Error during uid lookup for "berth-no-such-user"/],
      [NORANGE, new RegExp(`No subuid ranges found for user "${NORANGE}"`)],
      [`${USER}:berth-no-such-group`, /Error during groupname lookup for "berth-no-such-group"/],
      ['a:b:c', /Invalid user\/group specification in --userns-remap: "a:b:c"/],
      ['root', /root cannot be remapped with itself/],
    ];
    for (const [value, why] of cases) {
      const r = run(value);
      assert.equal(r.status, 1, `${value}: ${r.stderr}`);
      assert.match(r.stderr, why);
    }
    // A data root under a folder others cannot search.
    const closed = join(dir, 'closed');
    execFileSync('mkdir', ['-m', '700', closed]);
    const r = run(USER, join(closed, 'data'));
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /restricts access to the remapped root uid\/gid; please fix by allowing 'o\+x' permissions/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
