// Exec through the Docker Engine API with three clients against a private berthd: the berth
// CLI, the real docker CLI and dockerode — output, stdin, exit codes (the command's own, and
// 126 when it cannot start, as dockerd), -e, -u, -w, detached exec, a terminal, exec inspect, and exec
// into a stopped container refused with 409.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { BERTH, noDocker20, DOCKER_20, DOCKER, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let dockerode: Docker;
let box: string;
const noDocker = !existsSync(DOCKER) && 'no docker CLI';

function berth(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BERTH, '-H', eng.host, ...args], { encoding: 'utf8', timeout: 60_000, input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Debian's docker.io 20.10 client (API 1.41), where the machine has it. */

function docker(args: string[], input?: string, bin = DOCKER) {
  return eng.docker(args, { input, bin });
}

before(async () => {
  eng = await startEngine();
  dockerode = new Docker({ socketPath: eng.socket });
  const r = berth(['run', '-d', '--name', 'box', 'busybox', 'sleep', '1000']);
  assert.equal(r.status, 0, r.stderr);
  box = r.stdout.trim();
});
after(async () => {
  await eng?.stop();
});

test('berth exec: output, stderr, exit code, -e -u -w, stdin with -i', () => {
  const r = berth(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.status, 3, r.stderr);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  const e = berth(['exec', '-e', 'X=1', '-u', '1000:1000', '-w', '/tmp', 'box', 'sh', '-c', 'echo $X $(id -u):$(id -g) $(pwd)']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(e.stdout, '1 1000:1000 /tmp\n');
  const i = berth(['exec', '-i', 'box', 'sh', '-c', 'tr a-z A-Z; echo done'], 'hello\nworld\n');
  assert.equal(i.status, 0, i.stderr);
  assert.equal(i.stdout, 'HELLO\nWORLD\ndone\n');
  // As dockerd 20.10: 126 whatever kept the command from starting.
  const missing = berth(['exec', 'box', 'no-such-command']);
  assert.equal(missing.status, 126);
  const notExec = berth(['exec', 'box', '/etc/passwd']);
  assert.equal(notExec.status, 126);
});

test('berth exec -d runs in the background', async () => {
  const d = berth(['exec', '-d', 'box', 'sh', '-c', 'echo bg > /tmp/bg']);
  assert.equal(d.status, 0, d.stderr);
  await until(() => berth(['exec', 'box', 'cat', '/tmp/bg']).stdout === 'bg\n');
});

test('docker exec: output, exit code, -i with piped stdin, -e -u -w', { skip: noDocker }, () => {
  const r = docker(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2; exit 5']);
  assert.equal(r.status, 5, r.stderr);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  const i = docker(['exec', '-i', 'box', 'cat'], 'piped\ninput\n');
  assert.equal(i.status, 0, i.stderr);
  assert.equal(i.stdout, 'piped\ninput\n');
  const e = docker(['exec', '-e', 'Y=two', '-u', 'nobody', '-w', '/etc', 'box', 'sh', '-c', 'echo $Y $(id -un) $(pwd)']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(e.stdout, 'two nobody /etc\n');
  const missing = docker(['exec', 'box', 'no-such-command']);
  assert.equal(missing.status, 126);
  const capEff = (...flags: string[]) => docker(['exec', ...flags, 'box', 'grep', 'CapEff', '/proc/self/status']).stdout.trim();
  assert.equal(capEff(), 'CapEff:\t00000000a80425fb'); // Docker's default set, the container's
  assert.notEqual(capEff('--privileged'), capEff());
  const nope = docker(['exec', 'no-such-container', 'true']);
  assert.notEqual(nope.status, 0);
  assert.match(nope.stderr, /No such container: no-such-container/);
});

test('docker exec into a stopped container fails with 409', { skip: noDocker }, () => {
  const c = docker(['run', '-d', '--name', 'short', 'busybox', 'true']);
  assert.equal(c.status, 0, c.stderr);
  const id = c.stdout.trim();
  const w = docker(['wait', 'short']);
  assert.equal(w.stdout.trim(), '0', w.stderr);
  const r = docker(['exec', 'short', 'true']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, new RegExp(`Container ${id} is not running`));
  return eng.api('POST', `/containers/${id}/exec`, { Cmd: ['true'] }).then((res) => {
    assert.equal(res.status, 409);
    assert.equal(JSON.parse(res.body).message, `Container ${id} is not running`);
  });
});

test('dockerode: exec, hijacked start with stdin, demux, inspect', async () => {
  const container = dockerode.getContainer(box);
  const ex = await container.exec({
    Cmd: ['sh', '-c', 'read line; echo got $line; echo warn >&2; exit 4'],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  const before = await ex.inspect();
  assert.equal(before.Running, false);
  assert.equal(before.ExitCode, null);
  assert.equal(before.ContainerID, box);
  const stream = await ex.start({ hijack: true, stdin: true });
  const out = new PassThrough(),
    err = new PassThrough();
  const o: Buffer[] = [],
    e: Buffer[] = [];
  out.on('data', (d) => o.push(d));
  err.on('data', (d) => e.push(d));
  dockerode.modem.demuxStream(stream, out, err);
  stream.write('hello\n');
  await new Promise<void>((r) => {
    stream.on('end', () => r());
    stream.on('close', () => r());
  });
  assert.equal(Buffer.concat(o).toString(), 'got hello\n');
  assert.equal(Buffer.concat(e).toString(), 'warn\n');
  const info = await ex.inspect();
  assert.equal(info.Running, false);
  assert.equal(info.ExitCode, 4);
  assert.deepEqual(info.ProcessConfig.entrypoint, 'sh');
  await assert.rejects(ex.start({}), (x: any) => x.statusCode === 409);
  await assert.rejects(dockerode.getExec('nope').inspect(), (x: any) => x.statusCode === 404);
  assert.ok((await container.inspect()).ExecIDs?.includes(ex.id));
});

test('exec with a terminal: a pty, TERM=xterm, raw output (docker CLI, berth CLI, dockerode)', async () => {
  if (!noDocker) {
    const d = docker(['exec', '-t', 'box', 'sh', '-c', 'tty; echo $TERM; exit 2']);
    assert.equal(d.status, 2, d.stderr);
    assert.match(d.stdout, /^\/dev\/pts\/\d+\r\nxterm\r\n$/);
  }
  const b = berth(['exec', '-t', 'box', 'tty']);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stdout, /^\/dev\/pts\/\d+\r\n$/);
  const ex = await dockerode
    .getContainer(box)
    .exec({ Cmd: ['sh', '-c', 'echo out; echo err >&2'], Tty: true, AttachStdout: true, AttachStderr: true });
  const stream = await ex.start({ hijack: true, Tty: true });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((r) => {
    stream.on('end', () => r());
    stream.on('close', () => r());
  });
  assert.equal(Buffer.concat(chunks).toString(), 'out\r\nerr\r\n');
  assert.equal((await ex.inspect()).ExitCode, 0);
  assert.equal((await eng.api('POST', `/exec/${ex.id}/resize?h=40&w=100`)).status, 200);
});

test(
  'exec -it under a pty (docker CLI, berth CLI): input, output, exit code',
  { skip: !existsSync('/usr/bin/script') && 'no script(1)' },
  () => {
    const clients = [...(noDocker ? [] : [[DOCKER]]), [process.execPath, BERTH, '-H', eng.host]];
    for (const client of clients) {
      const cmd = [...client, 'exec', '-it', 'box', 'sh', '-c', 'tty; read x; echo got $x; exit 3'].map((a) => `'${a}'`).join(' ');
      const config = join(eng.dir, 'docker-config');
      const r = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], {
        encoding: 'utf8',
        input: 'hello\n',
        timeout: 30_000,
        env: { ...process.env, DOCKER_HOST: eng.host, DOCKER_CONFIG: config },
      });
      assert.equal(r.status, 3, `${client[0]}: ${r.stdout} ${r.stderr}`);
      assert.match(r.stdout, /\/dev\/pts\/\d+\r/);
      assert.match(r.stdout, /got hello\r/);
    }
  },
);

test('docker 20.10 exec: output, exit code, -i with piped stdin, -t, a missing command', { skip: noDocker20 }, () => {
  const r = docker(['exec', '-e', 'Z=3', 'box', 'sh', '-c', 'echo out $Z; echo err >&2; exit 6'], undefined, DOCKER_20);
  assert.equal(r.status, 6, r.stderr);
  assert.equal(r.stdout, 'out 3\n');
  assert.equal(r.stderr, 'err\n');
  const i = docker(['exec', '-i', 'box', 'cat'], 'piped\n', DOCKER_20);
  assert.equal(i.stdout, 'piped\n');
  const t = docker(['exec', '-t', 'box', 'tty'], undefined, DOCKER_20);
  assert.match(t.stdout, /^\/dev\/pts\/\d+\r\n$/);
  assert.equal(docker(['exec', 'box', 'no-such-command'], undefined, DOCKER_20).status, 126);
});

test("exec with a terminal: its detach keys (or ctrl-p,ctrl-q) end the client's attach and leave the process running", async () => {
  for (const [keys, seq] of [
    ['ctrl-x,y', Buffer.from([0x18, 0x79])],
    ['', Buffer.from([0x10, 0x11])],
  ] as const) {
    const ex = await dockerode.getContainer(box).exec({
      Cmd: ['sh'],
      Tty: true,
      AttachStdin: true,
      AttachStdout: true,
      ...(keys ? { DetachKeys: keys } : {}),
    });
    // dockerd keeps the keys as bytes, which its JSON writes in base64.
    assert.equal((await ex.inspect()).DetachKeys, keys ? Buffer.from([0x18, 0x79]).toString('base64') : '');
    const stream = await ex.start({ hijack: true, stdin: true, Tty: true });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise<void>((r) => {
      stream.on('end', () => r());
      stream.on('close', () => r());
    });
    stream.write('echo hi-$((6*7))\n');
    await until(() => Buffer.concat(chunks).toString().includes('hi-42'), 10_000);
    stream.write(seq);
    await ended;
    const after = await ex.inspect();
    assert.equal(after.Running, true, `${keys || 'default keys'}: the shell still runs`);
    process.kill(after.Pid, 'SIGKILL');
    await until(async () => !(await ex.inspect()).Running, 10_000);
  }
  const bad = await eng.api('POST', `/containers/${box}/exec`, { Cmd: ['true'], DetachKeys: 'ctrl-' });
  assert.equal(bad.status, 500);
  assert.equal(JSON.parse(bad.body).message, 'Invalid escape keys (ctrl-) provided');
});
