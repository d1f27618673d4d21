// Compose's `links` and `external_links` through `berth compose` against berthd: a linked
// service answers, from the linking service alone, at the link's alias (and at its name when no
// alias is given), an external link reaches a container made outside the project under its
// alias, and a link is a dependency (`up -d web` starts what web links to). The project runs on
// a network the test makes (10.213.74.0/24, this file's), so the external container can join it.
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

function compose(dir: string, ...args: string[]) {
  const r = spawnSync(BERTH, ['compose', ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' },
  });
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
