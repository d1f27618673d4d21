// The berth CLI's help and usage errors beside the docker 28 CLI's (no daemon is asked): every
// command and sub-command describes each of its flags, `help CMD [SUB]` and `CMD SUB --help`
// show that sub-command's own usage, -v/--version, and docker's exit codes and words for an
// unknown command, an unknown global flag, a bad flag and a wrong count of arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BERTH, DOCKER } from './engine-fixture.js';
import { COMMANDS } from '../src/cli/main.js';

const hasDocker = existsSync(DOCKER);
const env = {
  ...process.env,
  BERTH_HOST: 'unix:///nonexistent/berth.sock',
  DOCKER_HOST: 'unix:///nonexistent/docker.sock',
  BERTH_NO_AUTOSTART: '1',
};
function cli(bin: string, args: string[]) {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 30_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const berth = (...args: string[]) => cli(BERTH, args);

const GROUPS: Record<string, string[]> = {
  network: ['connect', 'create', 'disconnect', 'inspect', 'ls', 'prune', 'rm'],
  pod: ['create', 'inspect', 'kill', 'ls', 'prune', 'restart', 'rm', 'start', 'stop', 'top'],
  volume: ['create', 'inspect', 'ls', 'prune', 'rm'],
  image: ['build', 'history', 'import', 'inspect', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag'],
  system: ['df', 'info', 'prune'],
  container: [
    'attach',
    'commit',
    'cp',
    'create',
    'diff',
    'exec',
    'export',
    'inspect',
    'kill',
    'logs',
    'ls',
    'pause',
    'port',
    'prune',
    'rename',
    'restart',
    'rm',
    'run',
    'start',
    'stats',
    'stop',
    'top',
    'unpause',
    'update',
    'wait',
  ],
};

test('every command and sub-command has a description for itself and each of its flags', () => {
  const all = [
    ...Object.keys(COMMANDS)
      .filter((c) => !(c in GROUPS))
      .map((c) => [c]),
    ...Object.entries(GROUPS).flatMap(([g, subs]) => subs.map((s) => [g, s])),
  ];
  for (const path of all) {
    const h = berth(...path, '--help');
    assert.equal(h.status, 0, `${path.join(' ')} --help: ${h.stderr}`);
    const [usage, about] = h.stdout.split('\n\n');
    assert.match(usage, /^Usage: {2}berth /, path.join(' '));
    assert.ok(about.trim(), `${path.join(' ')} has a description`);
    const options = h.stdout.split('\nOptions:\n')[1] ?? '';
    for (const line of options.split('\n').filter((l) => /^\s+(-\w, )?--/.test(l))) {
      assert.match(line, /^\s+(-\w, )?--[\w-]+( [\w-]+)?\s{3,}\S/, `${path.join(' ')}: ${line.trim()} has a description`);
    }
  }
});

test("help CMD SUB and CMD SUB --help show the sub-command's own usage, not its group's", () => {
  for (const args of [
    ['help', 'network', 'ls'],
    ['network', 'ls', '--help'],
    ['--help', 'network', 'ls'],
  ]) {
    const r = berth(...args);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: {2}berth network ls \[OPTIONS\]\n\nList networks\n/, args.join(' '));
    assert.match(r.stdout, /-q, --quiet +Only display network IDs/);
  }
  assert.match(berth('help', 'run').stdout, /--pids-limit int +Limit the number of processes/);
  assert.match(berth('volume', 'prune', '--help').stdout, /^Usage: {2}berth volume prune \[OPTIONS\]/);
});

test("-v/--version; unknown commands, global flags, flags and argument counts exit as docker 28's, in its words", () => {
  assert.deepEqual(berth('-v'), { status: 0, stdout: 'berth version 0.1.0\n', stderr: '' });
  assert.deepEqual(berth('--version'), berth('-v'));
  for (const args of [
    ['foo'],
    ['--nope', 'ps'],
    ['-x', 'ps'],
    ['ps', '--nope'],
    ['ps', '-x'],
    ['rm'],
    ['logs'],
    ['logs', 'a', 'b'],
    ['network', 'foo'],
    ['network', 'ls', 'x'],
    ['network', 'create'],
    ['container', 'foo'],
    ['port'],
    ['images', 'a', 'b'],
    ['run'],
    ['run', '--cpus', 'abc', 'busybox'],
    ['help', 'foo'],
    ['network', 'prune', 'x'],
    ['volume', 'inspect'],
    ['run', '--init=x', 'busybox'],
  ]) {
    const b = berth(...args);
    assert.notEqual(b.status, 0, args.join(' '));
    if (!hasDocker) continue;
    const d = cli(DOCKER, args);
    assert.equal(b.status, d.status, `${args.join(' ')}: berth ${b.status}, docker ${d.status}`);
    // docker's "See" where it means "Run" after "at most" is a typo of docker's own (SRun); the rest is word for word.
    assert.equal(b.stderr, d.stderr.replace(/docker/g, 'berth').replace('SRun', 'See'), args.join(' '));
  }
});
