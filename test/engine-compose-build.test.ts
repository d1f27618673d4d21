// `berth compose` building a service's image through berthd's POST /build: a two-service file
// where `app` is built from a Dockerfile in the test's folder (FROM busybox, COPY a file, CMD)
// and `side` runs busybox. `up -d --build` builds `<project>-app`, whose container serves the
// copied file; `compose build` with a build arg rebuilds it and `up` recreates its container on
// the new image; `down --rmi local` removes the built image and leaves busybox, and nothing of
// the project is left behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
});
after(async () => {
  await eng?.stop();
});

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

test('berth compose: up -d --build builds <project>-<service>, its container runs the copied file, down --rmi local removes it', async () => {
  const dir = join(eng.dir, 'cbuild');
  mkdirSync(join(dir, 'app'), { recursive: true });
  writeFileSync(
    join(dir, 'app/Dockerfile'),
    'FROM busybox\nARG GREETING=built\nCOPY hello.sh /hello.sh\nRUN echo $GREETING > /greeting\nCMD ["sh", "/hello.sh"]\n',
  );
  writeFileSync(join(dir, 'app/hello.sh'), 'cat /greeting\necho from-the-copied-file\nexec sleep 1000\n');
  writeFileSync(join(dir, 'app/.dockerignore'), 'secret.txt\n');
  writeFileSync(join(dir, 'app/secret.txt'), 'not sent\n');
  writeFileSync(
    join(dir, 'compose.yaml'),
    'services:\n  app:\n    build:\n      context: ./app\n      labels: {built.by: compose}\n  side:\n    image: busybox\n    command: ["sleep", "1000"]\n',
  );
  let first = '';
  try {
    const up = berth(dir, 'up', '-d', '--build');
    assert.match(up.stderr, /Image cbuild-app {2}Built/);
    const image = JSON.parse(eng.dockerOk(['image', 'inspect', 'cbuild-app']))[0];
    first = image.Id;
    assert.equal(image.Config.Labels['built.by'], 'compose');
    const c = JSON.parse(eng.dockerOk(['inspect', 'cbuild-app-1']))[0];
    assert.equal(c.Config.Image, 'cbuild-app');
    assert.equal(c.Image, image.Id);
    await until(() => /from-the-copied-file/.test(eng.dockerOk(['logs', 'cbuild-app-1'])), 15_000);
    assert.match(eng.dockerOk(['logs', 'cbuild-app-1']), /^built\n/);
    // .dockerignore kept secret.txt out of the context.
    assert.equal(eng.docker(['exec', 'cbuild-app-1', 'ls', '/secret.txt']).status === 0, false);
    // compose build with a build arg: a new image under the same name.
    berth(dir, 'build', '--build-arg', 'GREETING=rebuilt', 'app');
    assert.notEqual(JSON.parse(eng.dockerOk(['image', 'inspect', 'cbuild-app']))[0].Id, image.Id);
    // up without --build builds nothing (the image is there) and recreates app on its new image, as Compose v2.
    const again = berth(dir, 'up', '-d').stderr;
    assert.doesNotMatch(again, /Building/);
    assert.match(again, /Container cbuild-app-1 {2}Recreate/);
    assert.doesNotMatch(again, /Container cbuild-side-1 {2}Recreate/);
    await until(() => /^rebuilt\n/.test(eng.dockerOk(['logs', 'cbuild-app-1'])), 15_000);
  } finally {
    berth(dir, 'down', '--rmi', 'local');
  }
  assert.equal(eng.dockerOk(['ps', '-aq']), '', 'no container');
  assert.doesNotMatch(eng.dockerOk(['images', '--format', '{{.Repository}}']), /cbuild/, 'no built image');
  // The first build's image, replaced by the rebuild, is left dangling as Compose v2 leaves it; the test removes it.
  assert.equal(eng.dockerOk(['images', '-q', '--no-trunc', '--filter', 'dangling=true']), first, 'the first build is dangling');
  eng.dockerOk(['rmi', first]);
  assert.equal(eng.dockerOk(['images', '-q', '--filter', 'dangling=true']), '', 'no image left dangling');
  assert.match(eng.dockerOk(['images', '--format', '{{.Repository}}']), /busybox/, 'busybox is kept (--rmi local)');
  assert.doesNotMatch(eng.dockerOk(['network', 'ls', '--format', '{{.Name}}']), /cbuild/, 'no network');
});
