// Terminal window sizes: POST /containers/{id}/resize and /exec/{id}/resize set the size of the
// pty (TIOCSWINSZ on the master the monitor or the exec relay holds), so `stty size` inside
// sees it; the docker CLI under a pty of a given size passes it on (ConsoleSize at create and a
// resize after start) for `run -it` and `exec -it`; bad dimensions are a 400, a stopped
// container a 409.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { BERTH, DOCKER, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let dockerode: Docker;
const noDocker = !existsSync(DOCKER) && 'no docker CLI';
const noScript = !existsSync('/usr/bin/script') && 'no script(1)';

before(async () => {
  eng = await startEngine();
  dockerode = new Docker({ socketPath: eng.socket });
  const pull = await eng.api('POST', '/images/create?fromImage=busybox&tag=latest');
  assert.equal(pull.status, 200, pull.body);
});
after(async () => {
  await eng?.stop();
});

/** The last `rows cols` line `stty size` printed. */
const lastSize = (out: string) =>
  out
    .match(/(\d+) (\d+)\r?\n/g)
    ?.pop()
    ?.trim();

test('container resize: stty size inside follows POST /containers/{id}/resize', async () => {
  // A terminal, no client attached: `stty size` every 100 ms into the log.
  const c = await dockerode.createContainer({
    Image: 'busybox',
    Tty: true,
    Cmd: ['sh', '-c', 'while true; do stty size; sleep 0.1; done'],
    HostConfig: { ConsoleSize: [25, 81] },
  });
  try {
    await c.start();
    const logs = async () => (await c.logs({ stdout: true, stderr: true })).toString();
    await until(async () => lastSize(await logs()) === '25 81');
    assert.equal((await eng.api('POST', `/containers/${c.id}/resize?h=40&w=132`)).status, 200);
    await until(async () => lastSize(await logs()) === '40 132');
    await c.resize({ h: 12, w: 34 }); // dockerode, the same route
    await until(async () => lastSize(await logs()) === '12 34');
    const bad = await eng.api('POST', `/containers/${c.id}/resize?h=x&w=10`);
    assert.equal(bad.status, 400, bad.body);
    assert.match(JSON.parse(bad.body).message, /invalid resize dimensions/);
    assert.equal((await eng.api('POST', `/containers/${c.id}/resize?h=10`)).status, 400);
    assert.equal((await eng.api('POST', '/containers/no-such/resize?h=10&w=10')).status, 404);
  } finally {
    await c.remove({ force: true });
  }
  const stopped = await dockerode.createContainer({ Image: 'busybox', Tty: true, Cmd: ['true'] });
  try {
    const r = await eng.api('POST', `/containers/${stopped.id}/resize?h=10&w=10`);
    assert.equal(r.status, 409, r.body);
    assert.match(JSON.parse(r.body).message, /is not running/);
  } finally {
    await stopped.remove({ force: true });
  }
});

test('exec resize: stty size inside follows POST /exec/{id}/resize', async () => {
  const box = await dockerode.createContainer({ Image: 'busybox', Cmd: ['sleep', '1000'] });
  try {
    await box.start();
    const ex = await box.exec({
      Cmd: ['sh', '-c', 'for i in $(seq 100); do stty size; sleep 0.1; done'],
      Tty: true,
      AttachStdout: true,
      ConsoleSize: [21, 71],
    } as Docker.ExecCreateOptions);
    const stream = await ex.start({ hijack: true, Tty: true });
    let out = '';
    stream.on('data', (b: Buffer) => {
      out += b.toString();
    });
    await until(() => lastSize(out) === '21 71');
    assert.equal((await eng.api('POST', `/exec/${ex.id}/resize?h=33&w=77`)).status, 200);
    await until(() => lastSize(out) === '33 77');
    assert.equal((await eng.api('POST', `/exec/${ex.id}/resize?h=-1&w=77`)).status, 400);
    assert.equal((await eng.api('POST', '/exec/no-such/resize?h=1&w=1')).status, 404);
    stream.destroy();
  } finally {
    await box.remove({ force: true });
  }
});

for (const [name, bin, skip] of [
  ['docker', DOCKER, noDocker || noScript],
  ['berth', BERTH, noScript],
] as const) {
  test(`${name} run -it and exec -it under a pty: the container sees the client terminal's size`, { skip }, async () => {
    const config = join(eng.dir, 'docker-config');
    mkdirSync(config, { recursive: true });
    const env = { ...process.env, DOCKER_HOST: eng.host, BERTH_HOST: eng.host, DOCKER_CONFIG: config };
    const underPty = (cmd: string) =>
      spawnSync('/usr/bin/script', ['-qec', `stty rows 31 cols 93; ${cmd}`, '/dev/null'], {
        encoding: 'utf8',
        input: '',
        timeout: 30_000,
        env,
      });
    const run = underPty(`${bin} run -it --rm --name sized-${name} busybox stty size`);
    assert.equal(run.status, 0, run.stderr + run.stdout);
    assert.equal(lastSize(run.stdout), '31 93', run.stdout);
    // Our terminal is raw for output too: the container's "\r\n" arrives as it was sent.
    assert.doesNotMatch(run.stdout, /\r\r\n/);
    const box = await dockerode.createContainer({ Image: 'busybox', Cmd: ['sleep', '1000'] });
    try {
      await box.start();
      const ex = underPty(`${bin} exec -it ${box.id} stty size`);
      assert.equal(ex.status, 0, ex.stderr + ex.stdout);
      assert.equal(lastSize(ex.stdout), '31 93', ex.stdout);
    } finally {
      await box.remove({ force: true });
    }
  });
}

for (const [name, bin, skip] of [
  ['docker', DOCKER, noDocker || noScript],
  ['berth', BERTH, noScript],
] as const) {
  test(`${name} run -it: ctrl-p ctrl-q detaches and leaves the container running; --detach-keys chooses others`, { skip }, async () => {
    const env = { ...process.env, DOCKER_HOST: eng.host, BERTH_HOST: eng.host, DOCKER_CONFIG: join(eng.dir, 'docker-config') };
    // Keys typed on a terminal a second after start: script(1) passes its stdin to the pty.
    const typed = (cmd: string, keys: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          out += d;
        });
        const t = setTimeout(() => child.stdin.write(keys), 1500);
        const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.on('exit', (code) => {
          clearTimeout(t);
          clearTimeout(kill);
          resolve({ code, out });
        });
      });
    for (const [flags, keys] of [
      [[], '\x10\x11'],
      [['--detach-keys', 'ctrl-x,a'], 'z\x18a'],
    ] as const) {
      const ct = `det-${name}-${flags.length}`;
      const r = await typed(`${bin} run -it ${flags.join(' ')} --name ${ct} busybox sh`, keys);
      try {
        assert.equal(r.code, 0, r.out);
        assert.equal(eng.docker(['inspect', '-f', '{{.State.Running}}', ct]).stdout.trim(), 'true', r.out);
      } finally {
        eng.docker(['rm', '-f', ct]);
      }
    }
  });
}
