// docker top and docker stats against a private berthd, with the docker CLI 28, Debian's docker
// 20.10 where the machine has it, dockerode and the berth CLI: top's ps table (default and
// `aux`), 409 when not running; stats one-shot, --no-stream (CPU % from a second sample, memory
// against the --memory limit, pids) and the once-a-second stream with precpu_stats; the
// events Docker sends for them and for cp, commit and export.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import Docker from 'dockerode';
import { BERTH, DOCKER, startEngine, type EngineFixture } from './engine-fixture.js';

const OLD_DOCKER = '/usr/bin/docker';
const noDocker = !existsSync(DOCKER) && 'no docker CLI';
const noOldDocker = !existsSync(OLD_DOCKER) && 'no Debian docker 20.10 client';
let eng: EngineFixture;

before(async () => {
  eng = await startEngine();
  ok(berth('pull', 'busybox'));
  ok(berth('run', '-d', '--name', 'idle', '--memory', '64m', 'busybox', 'sleep', '1000'));
});
after(async () => {
  await eng?.stop();
});

function run(bin: string, args: string[], env: Record<string, string>) {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const docker = (...args: string[]) => eng.docker(args);
const oldDocker = (...args: string[]) => eng.docker(args, { bin: OLD_DOCKER, env: { DOCKER_API_VERSION: '1.41' } });
const berth = (...args: string[]) => run(BERTH, args, { BERTH_HOST: eng.host, DOCKER_HOST: '' });
const ok = (r: { status: number | null; stdout: string; stderr: string }) => {
  assert.equal(r.status, 0, r.stderr + r.stdout);
  return r.stdout;
};

/** The first `n` JSON lines of a streamed GET. */
function streamLines(path: string, n: number): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: eng.socket, path }, (res) => {
      let buf = '';
      const out: any[] = [];
      res.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0 && out.length < n) {
          out.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
        if (out.length >= n) {
          req.destroy();
          resolve(out);
        }
      });
      res.on('error', () => {});
    });
    req.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
    });
    req.end();
  });
}

test("docker top: the container's processes in ps columns, with ps_args; 409 when not running", { skip: noDocker }, async () => {
  const out = ok(docker('top', 'idle')).split('\n');
  assert.match(out[0], /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
  assert.equal(out.filter((l) => /sleep 1000$/.test(l)).length, 1, out.join('\n'));
  assert.ok(!out.some((l) => /node|berthd/.test(l)), "only the container's processes");
  const aux = ok(docker('top', 'idle', 'aux')).split('\n');
  assert.match(aux[0], /^USER\s+PID\s+%CPU\s+%MEM\s+VSZ\s+RSS\s+TTY\s+STAT\s+START\s+TIME\s+COMMAND$/);
  assert.match(ok(berth('top', 'idle')), /sleep 1000/);
  const api = JSON.parse((await eng.api('GET', '/containers/idle/top?ps_args=-o%20pid,comm')).body);
  assert.deepEqual(api.Titles, ['PID', 'COMMAND']);
  assert.deepEqual(
    api.Processes.map((p: string[]) => p[1]),
    ['sleep'],
  );
  ok(docker('create', '--name', 'notrunning', 'busybox', 'true'));
  const r = await eng.api('GET', '/containers/notrunning/top');
  assert.equal(r.status, 409);
  assert.match(JSON.parse(r.body).message, /is not running/);
  const cli = docker('top', 'notrunning');
  assert.notEqual(cli.status, 0);
  assert.match(cli.stderr, /is not running/);
  const top = await new Docker({ socketPath: eng.socket }).getContainer('idle').top();
  assert.ok(top.Processes.some((p: string[]) => p.at(-1) === 'sleep 1000'));
});

test('stats: one-shot and --no-stream figures, the stream once a second with precpu_stats', { skip: noDocker }, async () => {
  const one = JSON.parse((await eng.api('GET', '/containers/idle/stats?stream=false&one-shot=true')).body);
  assert.equal(one.name, '/idle');
  assert.equal(one.preread, '0001-01-01T00:00:00Z');
  assert.ok(one.cpu_stats.cpu_usage.total_usage > 0);
  assert.ok(one.cpu_stats.system_cpu_usage > 0);
  assert.ok(one.cpu_stats.online_cpus >= 1);
  assert.ok(one.memory_stats.usage > 0);
  assert.equal(one.memory_stats.limit, 64 * 1024 * 1024);
  assert.equal(one.pids_stats.current, 1);
  assert.equal(typeof one.memory_stats.stats, 'object');
  // On the default bridge: its eth0's counters (from the container's own network namespace).
  assert.deepEqual(Object.keys(one.networks), ['eth0']);
  assert.equal(typeof one.networks.eth0.rx_bytes, 'number');
  const [a, b] = await streamLines('/containers/idle/stats', 2);
  assert.equal(b.preread, a.read);
  assert.equal(b.precpu_stats.cpu_usage.total_usage, a.cpu_stats.cpu_usage.total_usage);
  const gap = Date.parse(b.read) - Date.parse(a.read);
  assert.ok(gap >= 900 && gap < 3000, `${gap} ms between samples`);

  ok(docker('run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'while :; do :; done'));
  try {
    const row = JSON.parse(ok(docker('stats', '--no-stream', '--format', '{{json .}}', 'busy', 'idle')).split('\n')[0]);
    assert.equal(row.Name, 'busy');
    assert.ok(parseFloat(row.CPUPerc) > 10, `busy loop CPU ${row.CPUPerc}`);
    assert.equal(row.PIDs, '1');
    const idle = JSON.parse(ok(docker('stats', '--no-stream', '--format', '{{json .}}', 'idle')));
    assert.match(idle.MemUsage, /^[\d.]+(KiB|MiB|B) \/ 64MiB$/);
    assert.ok(parseFloat(idle.CPUPerc) < 5);
    const table = ok(berth('stats', '--no-stream', 'busy')).split('\n');
    assert.match(table[0], /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    // (NET I/O: the bridge's traffic, whatever reached the container; berth-cli-formats checks the figures.)
    assert.match(table[1], /^[0-9a-f]{12}\s+busy\s+[\d.]+%\s+\S+ \/ \S+\s+[\d.]+%\s+[\d.]+[kMG]?B \/ [\d.]+[kMG]?B\s+\S+ \/ \S+\s+1$/);
    assert.match(ok(berth('stats', '--no-stream', '--format', '{{.Name}}: {{.PIDs}}', 'idle')), /^idle: 1\n$/);
    // without --no-stream the table is drawn again each second until interrupted
    const live = spawnSync(BERTH, ['stats', '--format', '{{.Name}}', 'idle'], {
      encoding: 'utf8',
      timeout: 2600,
      env: { ...process.env, BERTH_HOST: eng.host },
    });
    assert.ok((live.stdout.match(/idle/g) ?? []).length >= 2, JSON.stringify(live.stdout));
  } finally {
    ok(docker('rm', '-f', 'busy'));
  }
  // a container that is not running: Docker's empty stats at once
  const stopped = JSON.parse((await eng.api('GET', '/containers/notrunning/stats?stream=false')).body);
  assert.equal(stopped.read, '0001-01-01T00:00:00Z');
  assert.equal(stopped.cpu_stats.cpu_usage.total_usage, 0);
  const s = await new Docker({ socketPath: eng.socket }).getContainer('idle').stats({ stream: false });
  assert.ok(s.memory_stats.usage > 0);
});

test('Debian docker 20.10: top and stats --no-stream', { skip: noOldDocker || noDocker }, () => {
  assert.match(ok(oldDocker('top', 'idle')), /sleep 1000/);
  assert.match(ok(oldDocker('stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.MemUsage}}', 'idle')), /^idle 1 \S+ \/ 64MiB\n$/);
});

test('events for top, cp, commit and export', { skip: noDocker }, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  ok(docker('top', 'idle'));
  ok(docker('cp', 'idle:/etc/passwd', join(eng.dir, 'passwd')));
  ok(docker('cp', join(eng.dir, 'passwd'), 'idle:/tmp/'));
  ok(docker('commit', 'idle', 'evcommit:1'));
  assert.equal(JSON.parse(ok(docker('inspect', 'idle')))[0].State.Status, 'running', 'thawed after a paused commit');
  assert.match(ok(docker('exec', 'idle', 'echo', 'alive')), /alive/);
  ok(docker('export', '-o', join(eng.dir, 'idle.tar'), 'idle'));
  const until = Math.ceil(Date.now() / 1000) + 1;
  const out = ok(
    docker('events', '--since', String(since), '--until', String(until), '--filter', 'container=idle', '--format', '{{.Action}}'),
  );
  const actions = out.trim().split('\n');
  for (const a of ['top', 'archive-path', 'extract-to-dir', 'commit', 'export'])
    assert.ok(actions.includes(a), `${a} in ${actions.join(',')}`);
});
