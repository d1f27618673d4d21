// `ps` with filters and --format, berth and the real docker CLI 28 side by side on one private
// berthd: the same rows for id, name, label, status, exited, ancestor, before, since, volume,
// network, is-task, -n/-l/-q/--no-trunc, Go templates (table, json, .Label "k"), and Docker's
// 400 for a bad filter.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BERTH, DOCKER, startEngine, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
const ids: Record<string, string> = {};
const hasDocker = existsSync(DOCKER);

function cli(bin: string, args: string[]) {
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: eng.host },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const berth = (...args: string[]) => cli(BERTH, args);

before(async () => {
  eng = await startEngine();
  assert.equal(berth('pull', 'busybox').status, 0);
  // Oldest first: old (exited 0), db (exited 3, a volume), web (running, labels), task (running).
  const run = (...a: string[]) => {
    const r = berth('run', ...a);
    assert.equal(r.stderr, '');
    return r;
  };
  run('--name', 'old', 'busybox', 'true');
  run('--name', 'db', '-l', 'tier=db', '-v', 'dbdata:/data', 'busybox', 'sh', '-c', 'exit 3');
  ids.web = run('-d', '--name', 'web', '-l', 'tier=web', '-l', 'owner=ann', 'busybox', 'sleep', '300').stdout.trim();
  ids.task = run('-d', '--name', 'task', 'busybox', 'sleep', '300').stdout.trim();
  for (const n of ['old', 'db']) ids[n] = JSON.parse((await eng.api('GET', `/containers/${n}/json`)).body).Id;
});
after(async () => {
  await eng?.stop();
});

/** The names `ps --format {{.Names}}` lists with these flags; the same through docker. */
function names(...args: string[]): string {
  const b = berth('ps', '--format', '{{.Names}}', ...args);
  assert.equal(b.status, 0, b.stderr);
  const out = b.stdout.trim().split('\n').filter(Boolean).join(' ');
  if (hasDocker)
    assert.equal(
      cli(DOCKER, ['ps', '--format', '{{.Names}}', ...args])
        .stdout.trim()
        .split('\n')
        .filter(Boolean)
        .join(' '),
      out,
      `docker ps ${args.join(' ')}`,
    );
  return out;
}

test('filters pick the same containers through berth and docker', () => {
  assert.equal(names(), 'task web');
  assert.equal(names('-a'), 'task web db old');
  assert.equal(names('-a', '-f', 'label=tier'), 'web db');
  assert.equal(names('-a', '-f', 'label=tier=web', '-f', 'label=owner'), 'web');
  assert.equal(names('-f', 'status=exited'), 'db old');
  assert.equal(names('-a', '-f', 'exited=3'), 'db');
  assert.equal(names('-a', '-f', 'exited=0'), 'old');
  assert.equal(names('-a', '-f', 'name=^w'), 'web');
  assert.equal(names('-a', '-f', `id=${ids.db.slice(0, 10)}`), 'db');
  assert.equal(names('-a', '-f', 'ancestor=busybox'), 'task web db old');
  assert.equal(names('-a', '-f', 'ancestor=busybox:latest', '-f', 'status=running'), 'task web');
  assert.equal(names('-a', '-f', 'before=web'), 'db old');
  assert.equal(names('-a', '-f', 'since=db'), 'task web');
  assert.equal(names('-a', '-f', 'volume=dbdata'), 'db');
  assert.equal(names('-a', '-f', 'volume=/data'), 'db');
  assert.equal(names('-a', '-f', 'is-task=false'), 'task web db old');
  assert.equal(names('-a', '-f', 'health=none', '-f', 'status=running'), 'task web');
  assert.equal(names('-l'), 'task');
  assert.equal(names('-n', '3'), 'task web db');
});

test("bad filters: 400 with Docker's message, exit 1 as docker", async () => {
  for (const [f, msg] of [
    ['foo=bar', "Invalid filter 'foo'"],
    ['status=sleeping', "Invalid filter 'status=sleeping'"],
    ['is-task=maybe', "Invalid filter 'is-task=[maybe]'"],
  ]) {
    const b = berth('ps', '-f', f);
    assert.equal(b.status, 1);
    assert.equal(b.stderr, `Error response from daemon: ${msg}\n`);
    if (hasDocker) {
      const d = cli(DOCKER, ['ps', '-f', f]);
      assert.equal(d.status, 1);
      assert.equal(d.stderr, b.stderr);
    }
  }
  const r = await eng.api('GET', `/containers/json?filters=${encodeURIComponent('{"nope":["x"]}')}`);
  assert.equal(r.status, 400);
  assert.deepEqual(JSON.parse(r.body), { message: "Invalid filter 'nope'" });
  assert.equal((await eng.api('GET', `/containers/json?filters=${encodeURIComponent('{"before":["nothing"]}')}`)).status, 404);
  assert.match(berth('ps', '-f', 'nonsense').stderr, /bad format of filter \(expected name=value\)/);
});

test("-q, --no-trunc and the default table match docker's", () => {
  assert.equal(berth('ps', '-q').stdout, `${ids.task.slice(0, 12)}\n${ids.web.slice(0, 12)}\n`);
  assert.equal(berth('ps', '-q', '--no-trunc').stdout, `${ids.task}\n${ids.web}\n`);
  const table = berth('ps', '-a', '--format', 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.State}}\t{{.Names}}');
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^CONTAINER ID   IMAGE     COMMAND\s+STATE     NAMES$/);
  assert.match(lines[1], new RegExp(`^${ids.task.slice(0, 12)}   busybox   "sleep 300"\\s+running   task$`));
  // moby quotes an argument with a space in it.
  assert.match(table.stdout, /"sh -c 'exit 3'"\s+exited    db$/m);
  if (hasDocker) {
    assert.equal(
      cli(DOCKER, ['ps', '-a', '--format', 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.State}}\t{{.Names}}']).stdout,
      table.stdout,
    );
    // The default table: the same header and columns (times can differ by a second, and with
    // them a column's width: "9 seconds" against "10 seconds").
    const strip = (s: string) => s.replace(/\d+ seconds?|Less than a second|About a minute/g, 'T').replace(/ {2,}/g, '  ');
    assert.equal(strip(berth('ps', '-a').stdout), strip(cli(DOCKER, ['ps', '-a']).stdout));
  }
  assert.match(berth('ps').stdout, /^CONTAINER ID   IMAGE     COMMAND       CREATED\s+STATUS\s+PORTS     NAMES$/m);
});

test('--format: placeholders, .Label "k", json, and errors', () => {
  const f = '{{.Names}}|{{.Label "tier"}}|{{.Labels}}|{{.Mounts}}|{{.Networks}}|{{.State}}|{{lower .Image}}|{{json .Names}}';
  const b = berth('ps', '-a', '-f', 'label=tier', '--format', f);
  assert.equal(b.stdout, 'web|web|owner=ann,tier=web||bridge|running|busybox|"web"\ndb|db|tier=db|dbdata|bridge|exited|busybox|"db"\n');
  if (hasDocker) assert.equal(cli(DOCKER, ['ps', '-a', '-f', 'label=tier', '--format', f]).stdout, b.stdout);
  const j = JSON.parse(berth('ps', '--format', 'json', '-f', 'name=web').stdout);
  assert.equal(j.Names, 'web');
  assert.equal(j.Command, '"sleep 300"');
  assert.match(j.CreatedAt, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);
  assert.equal(j.Labels, 'owner=ann,tier=web');
  const bad = berth('ps', '--format', '{{.Nope}}');
  assert.equal(bad.status, 1); // docker 28's exit code for a template error
  assert.match(bad.stderr, /can't evaluate field Nope/);
});
