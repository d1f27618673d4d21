// docker-compose (Debian's 1.29, through docker-py) against berthd, unchanged: a project network,
// a service reaching another by its service name (embedded DNS, compose's aliases), a published
// port answering on the host's 127.0.0.1, a named volume, and `down -v` taking all of it away.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpGet, startEngine, until, type EngineFixture } from './engine-fixture.js';

const COMPOSE = '/usr/bin/docker-compose';
const skip = !existsSync(COMPOSE) && 'no docker-compose';

let eng: EngineFixture;
before(async () => {
  if (!skip) eng = await startEngine();
});
after(async () => {
  await eng?.stop();
});

function compose(dir: string, ...args: string[]) {
  const r = spawnSync(COMPOSE, args, { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, DOCKER_HOST: eng.host } });
  assert.equal(r.status, 0, `docker-compose ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('docker-compose up: service names resolve, a published port answers, down -v removes network and volume', { skip }, async () => {
  const dir = join(eng.dir, 'proj');
  mkdirSync(dir);
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(
    join(dir, 'docker-compose.yml'),
    `version: "3.8"
services:
  web:
    image: busybox
    command: httpd -f -p 80 -h /etc
    ports: ["127.0.0.1:${port}:80"]
    volumes: ["data:/data"]
  client:
    image: busybox
    command: sh -c 'until wget -qO- http://web/hostname; do sleep 0.2; done'
    depends_on: [web]
volumes:
  data: {}
`,
  );
  try {
    compose(dir, 'up', '-d');
    const web = eng.docker(['inspect', '-f', '{{.Config.Hostname}}', 'proj_web_1']).stdout.trim();
    assert.match(web, /^[0-9a-f]{12}$/);
    await until(() => compose(dir, 'logs', '--no-color', 'client').includes(web), 20_000);
    assert.equal((await httpGet(port)).trim(), web);
    assert.match(eng.docker(['network', 'ls', '--format', '{{.Name}}']).stdout, /^proj_default$/m);
    assert.match(eng.docker(['volume', 'ls', '--format', '{{.Name}}']).stdout, /^proj_data$/m);
  } finally {
    compose(dir, 'down', '-v');
  }
  assert.doesNotMatch(eng.docker(['network', 'ls', '--format', '{{.Name}}']).stdout, /proj_default/);
  assert.doesNotMatch(eng.docker(['volume', 'ls', '--format', '{{.Name}}']).stdout, /proj_data/);
  assert.equal(eng.docker(['ps', '-aq']).stdout, '');
});
