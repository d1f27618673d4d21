// Every prune of the berth CLI asks docker's question first, side by side with the docker 28 CLI
// against the same berthd: an answer other than y/Y, or no answer (stdin at its end), deletes
// nothing; y deletes and prints what went as docker prints it; -f does not ask. Also
// `--env-file` reaches berth (not node, which takes a bare --env-file as its own).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, DOCKER, startEngine, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let tmp: string;
const hasDocker = existsSync(DOCKER);

function cli(bin: string, args: string[], input?: string) {
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    timeout: 60_000,
    input,
    env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: eng.host },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  eng = await startEngine();
  tmp = mkdtempSync(join(tmpdir(), 'berth-test-prune-'));
});
after(async () => {
  await eng?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const networks = async () => (JSON.parse((await eng.api('GET', '/networks')).body) as { Name: string }[]).map((n) => n.Name).sort();
const volumes = async () =>
  (JSON.parse((await eng.api('GET', '/volumes')).body) as { Volumes: { Name: string }[] }).Volumes.map((v) => v.Name).sort();

const CLIS = [['berth', BERTH], ...(hasDocker ? [['docker', DOCKER]] : [])] as const;

test('network prune: n, no answer, and "yes" keep the network; y deletes it; both CLIs print the same', async () => {
  const outs: Record<string, string[]> = {};
  for (const [name, bin] of CLIS) {
    assert.equal((await eng.api('POST', '/networks/create', { Name: 'prunable' })).status, 201);
    const asked = cli(bin, ['network', 'prune'], 'n\n');
    const none = cli(bin, ['network', 'prune'], '');
    const yes = cli(bin, ['network', 'prune'], 'yes\n');
    assert.ok((await networks()).includes('prunable'), `${name}: n, no answer and "yes" delete nothing`);
    const y = cli(bin, ['network', 'prune'], 'Y\n');
    assert.equal(y.status, 0, y.stderr);
    assert.ok(!(await networks()).includes('prunable'), `${name}: Y deletes`);
    outs[name] = [asked, none, yes, y].map((r) => `${r.status}|${r.stdout}|${r.stderr}`);
  }
  assert.equal(
    outs.berth[0],
    '0|WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] |',
  );
  assert.match(outs.berth[3], /Deleted Networks:\nprunable\n\n\|$/);
  if (hasDocker) assert.deepEqual(outs.berth, outs.docker);
});

test('volume prune (anonymous, and -a for all unused), container prune, image prune and system prune ask as docker does', async () => {
  for (const [name, bin] of CLIS) {
    assert.equal((await eng.api('POST', '/volumes/create', { Name: `named-${name}` })).status, 201);
    for (const args of [
      ['volume', 'prune'],
      ['volume', 'prune', '-a'],
      ['container', 'prune'],
      ['image', 'prune'],
      ['image', 'prune', '-a'],
      ['system', 'prune'],
      ['system', 'prune', '-a', '--volumes', '--filter', 'label=x'],
    ]) {
      const b = cli(BERTH, args, 'n\n');
      if (hasDocker) assert.deepEqual(b, cli(DOCKER, args, 'n\n'), args.join(' '));
      assert.match(b.stdout, /^WARNING! This will remove.*\n[^]*Are you sure you want to continue\? \[y\/N\] $/, args.join(' '));
    }
    assert.ok((await volumes()).includes(`named-${name}`), 'n deletes nothing');
    const r = cli(bin, ['volume', 'prune', '-a'], 'y\n');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] Deleted Volumes:\nnamed-${name}\n\nTotal reclaimed space: 0B\n`,
    );
  }
  assert.deepEqual(await volumes(), []);
});

test('-f deletes without asking; prune takes no arguments; --all with --filter all= is refused', async () => {
  assert.equal((await eng.api('POST', '/networks/create', { Name: 'forced' })).status, 201);
  const f = cli(BERTH, ['network', 'prune', '-f']);
  assert.deepEqual(f, { status: 0, stdout: 'Deleted Networks:\nforced\n\n', stderr: '' });
  const c = cli(BERTH, ['container', 'prune', '--force']);
  assert.deepEqual(c, { status: 0, stdout: 'Total reclaimed space: 0B\n', stderr: '' });
  assert.notEqual(cli(BERTH, ['network', 'prune', 'x']).status, 0);
  const conflict = cli(BERTH, ['volume', 'prune', '-a', '--filter', 'all=1', '-f']);
  assert.notEqual(conflict.status, 0);
  assert.match(conflict.stderr, /conflicting options: cannot specify both --all and --filter all=1/);
});

test("--env-file is read by berth in docker's format, not taken by node", () => {
  writeFileSync(join(tmp, 'env'), '# comment\n\n  A=1\nB= two words \nHOME_FROM_HOST\n');
  const r = spawnSync(BERTH, ['run', '--rm', '--env-file', join(tmp, 'env'), 'busybox', 'sh', '-c', 'echo "$A|$B|$HOME_FROM_HOST"'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, BERTH_HOST: eng.host, HOME_FROM_HOST: 'here' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '1| two words |here\n');
  const missing = spawnSync(BERTH, ['run', '--rm', '--env-file', join(tmp, 'none'), 'busybox', 'true'], {
    encoding: 'utf8',
    env: { ...process.env, BERTH_HOST: eng.host },
  });
  assert.equal(missing.status, 125);
  assert.match(missing.stderr, /no such file or directory/);
});
