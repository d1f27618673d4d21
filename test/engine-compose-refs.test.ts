// What a service refers to beyond its image, through `berth compose` against berthd. Compose's
// `links` and `external_links`: a linked service answers, from the linking service alone, at the
// link's alias (and at its name when no alias is given), an external link reaches a container
// made outside the project under its alias, and a link is a dependency (`up -d web` starts what
// web links to); the project runs on a network the test makes (10.213.74.0/24, this file's), so
// the external container can join it. Secrets and configs given by `environment` or `content`:
// written into the container before it starts, at Compose's paths, with uid, gid and mode.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH, startEngine, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
});
after(async () => {
  await eng?.stop();
});

const run = (dir: string, args: string[], vars: Record<string, string> = {}) =>
  spawnSync(BERTH, ['compose', ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...vars, BERTH_HOST: eng.host, DOCKER_HOST: '' },
  });

function compose(dir: string, ...args: string[]) {
  const r = run(dir, args);
  assert.equal(r.status, 0, `berth compose ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const ipOf = (name: string) => eng.dockerOk(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name]);

/** What `name` resolves to inside `container` (busybox nslookup's last address), or '' when it does not. */
function resolve(container: string, name: string): string {
  const r = eng.docker(['exec', container, 'nslookup', name]);
  if (r.status !== 0) return '';
  return [...r.stdout.matchAll(/Address:\s*([\d.]+)$/gm)].map((m) => m[1]).at(-1) ?? '';
}

test('links and external_links: aliases for the linking service alone, and a link starts what it names', async () => {
  const dir = join(eng.dir, 'bcl');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'compose.yaml'),
    `services:
  web:
    image: busybox
    command: [sleep, "3600"]
    links: ["db:database", cache]
    external_links: ["bcl-outside:ext"]
  db:
    image: busybox
    command: [sleep, "3600"]
  cache:
    image: busybox
    command: [sleep, "3600"]
  other:
    image: busybox
    command: [sleep, "3600"]
networks:
  default:
    name: bcl-net
    external: true
`,
  );
  eng.dockerOk(['network', 'create', '--subnet', '10.213.74.0/24', 'bcl-net']);
  try {
    eng.dockerOk(['run', '-d', '--name', 'bcl-outside', '--network', 'bcl-net', 'busybox', 'sleep', '3600']);
    // web alone: what it links to comes up first.
    compose(dir, 'up', '-d', 'web');
    const running = eng.dockerOk(['ps', '--format', '{{.Names}}']).split('\n').sort();
    assert.deepEqual(running, ['bcl-cache-1', 'bcl-db-1', 'bcl-outside', 'bcl-web-1']);
    assert.equal(resolve('bcl-web-1', 'database'), ipOf('bcl-db-1'));
    assert.equal(resolve('bcl-web-1', 'ext'), ipOf('bcl-outside'));
    assert.equal(eng.docker(['exec', 'bcl-web-1', 'ping', '-c1', '-W2', 'database']).status, 0, 'web reaches db by its alias');
    compose(dir, 'up', '-d', 'other');
    // The aliases are web's: another service on the network does not resolve them.
    assert.equal(resolve('bcl-other-1', 'database'), '');
    assert.equal(resolve('bcl-other-1', 'ext'), '');
    assert.equal(resolve('bcl-other-1', 'db'), ipOf('bcl-db-1'), 'the service name answers for all');
  } finally {
    compose(dir, 'down');
    eng.docker(['rm', '-f', 'bcl-outside']);
    eng.dockerOk(['network', 'rm', 'bcl-net']);
  }
  assert.equal(eng.dockerOk(['ps', '-aq']), '');
});

test('secrets from environment and configs from content: written before the start, with uid, gid and mode', async () => {
  const dir = join(eng.dir, 'bcs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'compose.yaml'),
    `services:
  app:
    image: busybox
    command: [sleep, "3600"]
    stop_grace_period: 1s
    secrets:
      - api_key
      - {source: api_key, target: /etc/key, uid: "1000", gid: "1001", mode: 0400}
    configs:
      - greeting
      - {source: greeting, target: app/greeting.txt, mode: "0640"}
secrets:
  api_key: {environment: BCS_KEY}
configs:
  greeting: {content: "hello \${BCS_WHO}"}
`,
  );
  const vars = { BCS_KEY: 'k3y', BCS_WHO: 'world' };
  try {
    const up = run(dir, ['up', '-d'], vars);
    assert.equal(up.status, 0, up.stderr);
    const sh = (cmd: string) => eng.dockerOk(['exec', 'bcs-app-1', 'sh', '-c', cmd]);
    assert.equal(sh('cat /run/secrets/api_key'), 'k3y');
    assert.equal(
      sh('stat -c "%a %u %g" /run/secrets/api_key /etc/key /greeting /app/greeting.txt'),
      '444 0 0\n400 1000 1001\n444 0 0\n640 0 0',
    );
    assert.equal(sh('cat /etc/key; echo; cat /greeting; echo; cat /app/greeting.txt'), 'k3y\nhello world\nhello world');
  } finally {
    compose(dir, 'down');
  }
  // A variable not set: refused before anything is made, naming the file and the key.
  const unset = run(dir, ['up', '-d'], { BCS_WHO: 'world' });
  assert.notEqual(unset.status, 0);
  assert.match(unset.stderr, /compose\.yaml:\d+:\d+: .*environment variable "BCS_KEY" is not set/);
  assert.equal(eng.dockerOk(['ps', '-aq']), '');
});
