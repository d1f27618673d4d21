// berthd killed with SIGKILL in the middle of an operation: the next berthd finishes or rolls
// back what was in flight. A commit's frozen container is thawed; containers whose parallel
// starts were cut short can all be started and removed; and once they are removed no runtime
// state, cgroup, snapshot, network namespace pin or endpoint of theirs is left. Published-port
// rules of the berthd's with no endpoint record go at its next start, and network namespace pins of
// containers that do not run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addPortNat, chainOf, ownerTag, planPortNat, removePortNat } from '../src/network/port-nat.js';
import { httpGet, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
const N = 20;

before(async () => {
  eng = await startEngine();
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
});
after(async () => {
  await eng?.stop();
});

const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

/** Where the machine keeps a container's cgroup in each v1 hierarchy or the unified one. */
function cgroupDirs(id: string): string[] {
  const roots = ls('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c));
  return [...roots, '/sys/fs/cgroup'].map((r) => join(r, 'berth', id)).filter((d) => existsSync(d));
}

function frozen(id: string): boolean {
  const v1 = `/sys/fs/cgroup/freezer/berth/${id}/freezer.state`;
  if (existsSync(v1)) return readFileSync(v1, 'utf8').trim() === 'FROZEN';
  const v2 = `/sys/fs/cgroup/berth/${id}/cgroup.freeze`;
  return existsSync(v2) && readFileSync(v2, 'utf8').trim() === '1';
}

async function create(body: object): Promise<string> {
  const r = await eng.api('POST', '/containers/create', body);
  assert.equal(r.status, 201, r.body);
  return (JSON.parse(r.body) as { Id: string }).Id;
}

test('a container frozen for a commit when berthd was killed is thawed by the next berthd', async () => {
  // 64 MB that does not compress: the commit's layer takes long enough to be caught frozen.
  const id = await create({ Image: 'busybox', Cmd: ['sh', '-c', 'head -c 67108864 /dev/urandom > /blob; echo ready; sleep 1000'] });
  assert.equal((await eng.api('POST', `/containers/${id}/start`)).status, 204);
  await until(async () => (await eng.api('GET', `/containers/${id}/logs?stdout=1`)).body.includes('ready'), 30_000);
  const commit = eng.api('POST', `/commit?container=${id}&repo=recovery&tag=1`).catch((e: Error) => e);
  await until(() => frozen(id), 10_000);
  await eng.restart('SIGKILL');
  await commit;
  await until(() => !frozen(id), 10_000);
  const st = JSON.parse((await eng.api('GET', `/containers/${id}/json`)).body).State;
  assert.equal(st.Status, 'running');
  assert.equal(st.Paused, false);
  // It works as a running container again: exec, and a commit that finishes.
  const exec = await eng.api('POST', `/containers/${id}/exec`, { Cmd: ['true'] });
  assert.equal(exec.status, 201, exec.body);
  const c = await eng.api('POST', `/commit?container=${id}&repo=recovery&tag=2`);
  assert.equal(c.status, 201, c.body);
  assert.equal((await eng.api('DELETE', `/containers/${id}?force=1`)).status, 204);
  assert.equal((await eng.api('DELETE', '/images/recovery:2')).status, 200);
});

test(`${N} parallel starts cut short by a SIGKILL: every container starts and is removed, and nothing of theirs is left`, async () => {
  const ids: string[] = [];
  for (let i = 0; i < N; i++) ids.push(await create({ Image: 'busybox', Cmd: ['sleep', '1000'] }));
  const starts = ids.map((id) => eng.api('POST', `/containers/${id}/start`).catch((e: Error) => e));
  // Kill once some starts have got under way and before all can have finished.
  await until(() => ids.some((id) => cgroupDirs(id).length > 0), 10_000);
  await eng.restart('SIGKILL');
  await Promise.all(starts);

  for (const id of ids) {
    const r = await eng.api('POST', `/containers/${id}/start`);
    assert.ok(r.status === 204 || r.status === 304, `start ${id.slice(0, 12)}: ${r.status} ${r.body}`);
  }
  for (const id of ids) {
    const st = JSON.parse((await eng.api('GET', `/containers/${id}/json`)).body).State;
    assert.equal(st.Status, 'running', `${id.slice(0, 12)}: ${JSON.stringify(st)}`);
  }
  for (const id of ids) assert.equal((await eng.api('DELETE', `/containers/${id}?force=1`)).status, 204);

  const runtime = join(eng.dir, 'run', 'runtime');
  const snapshots = join(eng.dir, 'data', 'snapshots', 'containers');
  const netns = join(eng.dir, 'run', 'netns'),
    endpoints = join(eng.dir, 'run', 'networks');
  // (A removal's network teardown runs on after its answer.)
  await until(
    () =>
      ids.every(
        (id) =>
          cgroupDirs(id).length === 0 &&
          !ls(runtime).includes(id) &&
          !ls(snapshots).some((s) => s.startsWith(id)) &&
          !ls(netns).includes(id) &&
          !ls(endpoints).includes(id),
      ),
    15_000,
  ).catch(() => {
    /* the assertions below name what is left */
  });
  for (const id of ids) {
    assert.deepEqual(cgroupDirs(id), [], `cgroups of ${id.slice(0, 12)}`);
    assert.ok(!ls(runtime).includes(id), `runtime state of ${id.slice(0, 12)}`);
    assert.ok(!ls(snapshots).some((s) => s.startsWith(id)), `snapshot of ${id.slice(0, 12)}`);
    assert.ok(!ls(netns).includes(id), `netns pin of ${id.slice(0, 12)}`);
    assert.ok(!ls(endpoints).includes(id), `endpoints of ${id.slice(0, 12)}`);
  }
  // No address is still leased to any of them (CNI host-local: one file per address, holding the container's id).
  const ipam = join(eng.dir, 'run', 'ipam');
  for (const net of ls(ipam)) {
    for (const f of ls(join(ipam, net)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))) {
      const owner = readFileSync(join(ipam, net, f), 'utf8');
      assert.ok(!ids.some((id) => owner.startsWith(id)), `lease ${f} on ${net} is still held by ${owner.slice(0, 12)}`);
    }
  }
});

test("published-port rules of this berthd's that no endpoint record names are removed at its next start; a running container's and another berthd's stay", async () => {
  const nat = () => execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
  const id = await create({
    Image: 'busybox',
    Cmd: ['httpd', '-f', '-p', '80', '-h', '/etc'],
    ExposedPorts: { '80/tcp': {} },
    HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18431' }] } },
  });
  assert.equal((await eng.api('POST', `/containers/${id}/start`)).status, 204);
  // Rules as berthd writes them, for a container it has no record of (its exec-root's endpoint
  // record lost), and the same for another berthd's (another exec-root's mark).
  const port = (hostPort: number) => [{ hostIP: '127.0.0.1', hostPort, containerPort: 80, protocol: 'tcp' as const }];
  const orphan = planPortNat(randomBytes(32).toString('hex'), ownerTag(join(eng.dir, 'run')), port(18432), '10.213.91.2/24');
  const others = planPortNat(randomBytes(32).toString('hex'), ownerTag('/run/another-berthd'), port(18433), '10.213.91.3/24');
  await addPortNat(orphan);
  try {
    await addPortNat(others);
    assert.match(nat(), new RegExp(`^:${orphan.chain} `, 'm'));
    await eng.restart('SIGKILL');
    // (berthd logs the sweep once its iptables-restore has ended: the log may come a little after the rules go.)
    const swept = new RegExp(`published-port rules of container ${orphan.comment.slice(-64, -52)}, which has no endpoint record, removed`);
    await until(() => !nat().includes(orphan.chain) && swept.test(eng.daemonLog()), 10_000).catch(() => {
      /* the assertions below name what is missing */
    });
    const left = nat();
    assert.ok(!left.includes(orphan.chain), left);
    assert.ok(left.includes(others.chain), left);
    assert.ok(left.includes(chainOf(id)), left);
    assert.match(eng.daemonLog(), swept);
    // The running container's port still answers.
    assert.match(await httpGet(18431), new RegExp(id.slice(0, 12)));
  } finally {
    await removePortNat(others);
    await removePortNat(orphan);
    await eng.api('DELETE', `/containers/${id}?force=1`);
  }
});

test('a network namespace pin that no running container owns (its removal cut short) goes at the next start; a running one stays', async () => {
  const id = await create({ Image: 'busybox', Cmd: ['sleep', '1000'], HostConfig: { NetworkMode: 'none' } });
  assert.equal((await eng.api('POST', `/containers/${id}/start`)).status, 204);
  const netns = join(eng.dir, 'run', 'netns');
  // A pin as berthd makes one, for a container it has no record of: its removal answered, and
  // berthd was killed before the teardown that runs on after the answer unpinned it.
  const orphan = join(netns, randomBytes(32).toString('hex'));
  writeFileSync(orphan, '');
  execFileSync('mount', ['--bind', '/proc/self/ns/net', orphan]);
  try {
    await eng.restart('SIGKILL');
    await until(() => !existsSync(orphan), 10_000);
    assert.ok(existsSync(join(netns, id)), 'the running container keeps its pin');
    assert.equal((await eng.api('POST', `/containers/${id}/exec`, { Cmd: ['true'] })).status, 201);
  } finally {
    if (existsSync(orphan)) {
      execFileSync('umount', [orphan]);
      rmSync(orphan);
    }
    assert.equal((await eng.api('DELETE', `/containers/${id}?force=1`)).status, 204);
  }
});
