// Issue 14's three-service application, brought up by `berth compose` and by docker-compose
// 1.29 against berthd, each checked end to end from the host: a key-value server (busybox httpd
// with two CGI scripts, its data on a named volume, a healthcheck, a fixed address on the
// project's subnet 10.213.61.0/24), a web service that waits for it to be healthy, reaches it by
// service name and publishes a port, and a worker whose message comes from .env and which stores
// it through the key-value server. `up` twice changes nothing; a changed service alone is
// recreated; `down -v` leaves no container, volume, network, veth or iptables rule.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { BERTH, startEngine, until, type EngineFixture } from './engine-fixture.js';

const COMPOSE = '/usr/bin/docker-compose';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
});
after(async () => {
  await eng?.stop();
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

const CGI_HEAD = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n";

/** The project's files in a new folder `name` under the test's directory. */
function project(name: string, port: number): string {
  const dir = join(eng.dir, name);
  mkdirSync(join(dir, 'kv-cgi'), { recursive: true });
  mkdirSync(join(dir, 'web-cgi'), { recursive: true });
  // kv: /cgi-bin/set?KEY=VALUE stores, /cgi-bin/get?KEY answers the value, on the volume.
  writeFileSync(join(dir, 'kv-cgi/set'), `${CGI_HEAD}k=\${QUERY_STRING%%=*}\nprintf %s "\${QUERY_STRING#*=}" > /data/$k\necho stored $k\n`);
  writeFileSync(join(dir, 'kv-cgi/get'), `${CGI_HEAD}cat /data/$QUERY_STRING\n`);
  // web: the same two, forwarded to the kv service by its name.
  writeFileSync(join(dir, 'web-cgi/get'), `${CGI_HEAD}wget -qO- "http://kv:7000/cgi-bin/get?$QUERY_STRING"\n`);
  writeFileSync(join(dir, 'web-cgi/set'), `${CGI_HEAD}wget -qO- "http://kv:7000/cgi-bin/set?$QUERY_STRING"\n`);
  for (const f of ['kv-cgi/set', 'kv-cgi/get', 'web-cgi/get', 'web-cgi/set']) chmodSync(join(dir, f), 0o755);
  writeFileSync(join(dir, '.env'), 'MESSAGE=hello-from-dotenv\nWEB_PORT=' + port + '\n');
  writeFileSync(
    join(dir, 'docker-compose.yml'),
    `services:
  kv:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && ln -sfn /cgi /www/cgi-bin && echo ok > /data/health && exec httpd -f -p 7000 -h /www"]
    volumes:
      - data:/data
      - ./kv-cgi:/cgi:ro
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:7000/cgi-bin/get?health"]
      interval: 1s
      retries: 30
    networks:
      app:
        ipv4_address: 10.213.61.10
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && ln -sfn /cgi /www/cgi-bin && exec httpd -f -p 80 -h /www"]
    volumes: [./web-cgi:/cgi:ro]
    ports: ["127.0.0.1:\${WEB_PORT}:80"]
    depends_on:
      kv: {condition: service_healthy}
    networks: [app]
  worker:
    image: busybox
    environment:
      MESSAGE: \${MESSAGE}
    command: ["sh", "-c", "wget -qO- \\"http://kv:7000/cgi-bin/set?worker=$$MESSAGE\\" && exec sleep 3600"]
    depends_on:
      kv: {condition: service_healthy}
    networks: [app]
    stop_grace_period: 1s
volumes:
  data: {}
networks:
  app:
    ipam:
      config:
        - subnet: 10.213.61.0/24
`,
  );
  return dir;
}

function berth(dir: string, ...args: string[]) {
  const r = spawnSync(BERTH, ['compose', ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' },
  });
  assert.equal(r.status, 0, `berth compose ${args.join(' ')}: ${r.stderr}`);
  return r;
}

function dockerCompose(dir: string, ...args: string[]) {
  const r = spawnSync(COMPOSE, args, { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, DOCKER_HOST: eng.host } });
  assert.equal(r.status, 0, `docker-compose ${args.join(' ')}: ${r.stderr}`);
  return r;
}

const veths = () =>
  execFileSync('ip', ['-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1].trim().split('@')[0]);
const rulesFor = (port: number) =>
  execFileSync('iptables-save', { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(`${port}`) || l.includes('10.213.61.'));

/** Brings the app up with `cli`, checks it end to end, and takes it down with -v. */
async function exercise(name: string, cli: (dir: string, ...a: string[]) => unknown, sep: '-' | '_') {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const dir = project(name, port);
  const vethsBefore = new Set(veths());
  assert.deepEqual(rulesFor(port), [], 'no rule of the port before');
  try {
    cli(dir, 'up', '-d');
    // From the host, through the published port, web, the kv service by name, and the worker's .env message.
    try {
      await until(async () => (await get(port, '/cgi-bin/get?worker').catch(() => ({ body: '' }))).body === 'hello-from-dotenv', 30_000);
    } catch (e) {
      // What the services said, to tell a failure of which one.
      for (const c of ['kv', 'web', 'worker'])
        process.stderr.write(`${c}'s log: ${JSON.stringify(eng.docker(['logs', `${name}${sep}${c}${sep}1`]))}\n`);
      throw e;
    }
    assert.match((await get(port, '/cgi-bin/set?greeting=hi')).body, /stored greeting/);
    assert.equal((await get(port, '/cgi-bin/get?greeting')).body, 'hi');
    const kv = JSON.parse(eng.dockerOk(['inspect', `${name}${sep}kv${sep}1`]))[0];
    assert.equal(kv.State.Health.Status, 'healthy');
    assert.equal(kv.NetworkSettings.Networks[`${name}_app`].IPAddress, '10.213.61.10');
    assert.equal(kv.Config.Labels['com.docker.compose.project'], name);
    assert.equal(kv.Config.Labels['com.docker.compose.service'], 'kv');
    assert.equal(kv.Config.Labels['com.docker.compose.container-number'], '1');
    assert.equal(kv.Config.Labels['com.docker.compose.oneoff'], 'False');
    assert.match(eng.dockerOk(['volume', 'ls', '--format', '{{.Name}}']), new RegExp(`^${name}_data$`, 'm'));
    // The web started after kv was healthy.
    const web = JSON.parse(eng.dockerOk(['inspect', `${name}${sep}web${sep}1`]))[0];
    assert.ok(Date.parse(web.State.StartedAt) >= Date.parse(kv.State.StartedAt));
  } finally {
    cli(dir, 'down', '-v');
  }
  assert.equal(eng.dockerOk(['ps', '-aq']), '', 'no container');
  assert.doesNotMatch(eng.dockerOk(['volume', 'ls', '--format', '{{.Name}}']), new RegExp(name), 'no volume');
  assert.doesNotMatch(eng.dockerOk(['network', 'ls', '--format', '{{.Name}}']), new RegExp(name), 'no network');
  assert.deepEqual(
    veths().filter((v) => !vethsBefore.has(v)),
    [],
    'no veth',
  );
  assert.deepEqual(rulesFor(port), [], 'no iptables rule');
  return dir;
}

test('berth compose: the three-service app end to end, and down -v leaves nothing', async () => {
  await exercise('bcapp', berth, '-');
});

test(
  'docker-compose 1.29 against berthd: the same app end to end, and down -v leaves nothing',
  { skip: !existsSync(COMPOSE) && 'no docker-compose' },
  async () => {
    await exercise('dcapp', dockerCompose, '_');
  },
);

test('berth compose: up twice changes nothing; a changed service alone is recreated; --scale and ps', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const dir = project('bcre', port);
  const ids = () =>
    Object.fromEntries(
      eng
        .dockerOk(['ps', '-a', '--format', '{{.Names}} {{.ID}}'])
        .split('\n')
        .map((l) => l.split(' ')),
    );
  try {
    berth(dir, 'up', '-d');
    const first = ids();
    assert.deepEqual(Object.keys(first).sort(), ['bcre-kv-1', 'bcre-web-1', 'bcre-worker-1']);
    const again = berth(dir, 'up', '-d');
    assert.doesNotMatch(again.stderr, /Recreate|Created|Started/);
    assert.deepEqual(ids(), first);
    // Change the worker only.
    const file = join(dir, 'docker-compose.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('MESSAGE: ${MESSAGE}', 'MESSAGE: ${MESSAGE}\n      EXTRA: "1"'));
    berth(dir, 'up', '-d');
    const third = ids();
    assert.equal(third['bcre-kv-1'], first['bcre-kv-1']);
    assert.equal(third['bcre-web-1'], first['bcre-web-1']);
    assert.notEqual(third['bcre-worker-1'], first['bcre-worker-1']);
    berth(dir, 'up', '-d', '--scale', 'worker=2', '--wait');
    assert.deepEqual(Object.keys(ids()).sort(), ['bcre-kv-1', 'bcre-web-1', 'bcre-worker-1', 'bcre-worker-2']);
  } finally {
    berth(dir, 'down', '-v');
  }
  assert.equal(eng.dockerOk(['ps', '-aq']), '');
});

test('berth compose: ps, logs, exec -T, run --rm, port, top, stop, start, restart, ls, config', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const dir = project('bcops', port);
  try {
    berth(dir, 'up', '-d', '--wait');
    const ps = berth(dir, 'ps').stdout;
    assert.match(ps, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/m);
    assert.match(ps, new RegExp(`^bcops-web-1\\s+busybox\\s+.*\\s+web\\s+.*Up .*127\\.0\\.0\\.1:${port}->80/tcp$`, 'm'));
    assert.equal(berth(dir, 'ps', '--services').stdout, 'kv\nweb\nworker\n');
    assert.match(berth(dir, 'logs', 'worker').stdout, /^bcops-worker-1 {2}\| stored worker$/m);
    assert.equal(berth(dir, 'logs', '--no-log-prefix', '--tail', '1', 'worker').stdout, 'stored worker\n');
    assert.equal(berth(dir, 'exec', '-T', 'worker', 'sh', '-c', 'echo $MESSAGE').stdout, 'hello-from-dotenv\n');
    // A one-off container of the service: its environment, on the project network, removed after.
    const r = berth(dir, 'run', '--rm', '-T', 'worker', 'sh', '-c', 'echo $MESSAGE; wget -qO- http://kv:7000/cgi-bin/get?worker');
    assert.equal(r.stdout, 'hello-from-dotenv\nhello-from-dotenv');
    assert.doesNotMatch(eng.dockerOk(['ps', '-a', '--format', '{{.Names}}']), /run/);
    assert.equal(berth(dir, 'port', 'web', '80').stdout, `127.0.0.1:${port}\n`);
    assert.match(berth(dir, 'top', 'kv').stdout, /^bcops-kv-1\nUID\s+PID\s+PPID.*\n(.*\n)*.*httpd -f -p 7000/m);
    assert.match(berth(dir, 'ls').stdout, /^bcops\s+running\(3\)\s+.*docker-compose\.yml$/m);
    berth(dir, 'stop', 'worker');
    assert.equal(berth(dir, 'ps', '--services').stdout, 'kv\nweb\n');
    berth(dir, 'start');
    assert.equal(berth(dir, 'ps', '--services').stdout, 'kv\nweb\nworker\n');
    berth(dir, 'restart', 'web');
    await until(async () => (await get(port, '/cgi-bin/get?worker').catch(() => ({ body: '' }))).body === 'hello-from-dotenv', 15_000);
    assert.match(berth(dir, 'config').stdout, /^name: bcops\n/);
  } finally {
    berth(dir, 'down', '-v');
  }
  assert.equal(eng.dockerOk(['ps', '-aq']), '');
});
