// The CRI streaming server (src/cri/streaming.ts) on a real engine, with no CRI server or
// containerd in the way: a pod (network none: only its own loopback) with a busybox httpd member,
// then exec (v5 with stdin closed by the close signal, a terminal with a resize), attach to a
// container reading its stdin, and port forwarding into the pod's network namespace, each through
// the tests' own WebSocket client; then exec, a terminal's resize, attach and port forwarding over
// SPDY/3.1 through spdy-transport, as the API server reaches kubelet and kubelet the runtime. The
// engine's roots are a temp dir; the pod goes with the test.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Engine } from '../src/engine/index.js';
import { ImageStore } from '../src/image/index.js';
import { StreamingServer } from '../src/cri/streaming.js';
import { makeRootfs } from './helpers/bundle.js';
import { storeImage } from './helpers/images.js';
import { connectSpdy, readAll } from './helpers/spdy-client.js';
import { byChannel, connectWs, type WsMessage } from './helpers/ws-client.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-test-cri-streaming-'));
let engine: Engine;
let server: StreamingServer;
let podId = '';
let web = '';

before(async () => {
  const dataRoot = join(dir, 'data');
  const rootfs = join(dir, 'rootfs');
  makeRootfs(rootfs);
  const tar = execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
  await storeImage(new ImageStore(join(dataRoot, 'image')), 'busybox:latest', [tar]);
  rmSync(rootfs, { recursive: true, force: true });
  engine = new Engine({ dataRoot, execRoot: join(dir, 'run') });
  server = new StreamingServer(engine, { address: '127.0.0.1:0' });
  await server.start();
  podId = (await engine.pods.create({ Name: 'streams', Network: 'none' })).Id;
  web = (
    await engine.containers.create(
      { Image: 'busybox', Cmd: ['httpd', '-f', '-p', '8080', '-h', '/etc'] },
      {},
      'streams-web',
      undefined,
      undefined,
      {
        pod: podId,
      },
    )
  ).Id;
  await engine.containers.start(web);
});

after(async () => {
  try {
    await server?.close();
    if (podId) await engine.pods.remove(podId, { force: true });
    await engine?.close();
  } finally {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(dir));
    for (const m of mounts.reverse()) execFileSync('umount', ['-l', m.split(' ')[4]]);
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(mounts, [], 'mounts left under the test roots');
  }
});

/** A member of the pod that reads a line from its stdin, echoes it, says bye on stderr and exits. */
async function startReader(name: string): Promise<string> {
  const c = (
    await engine.containers.create(
      {
        Image: 'busybox',
        Cmd: ['sh', '-c', 'read x; echo attached $x; echo bye >&2'],
        OpenStdin: true,
        StdinOnce: true,
        AttachStdin: true,
      },
      {},
      name,
      undefined,
      undefined,
      { pod: podId },
    )
  ).Id;
  await engine.containers.start(c);
  return c;
}

const status = (msgs: WsMessage[]) => JSON.parse(byChannel(msgs)[3] ?? 'null');

test('exec: stdin closed by v5 close signal, stdout and stderr apart, the exit code in the Status', { timeout: 60_000 }, async () => {
  const url = server.url({
    kind: 'exec',
    containerId: web,
    cmd: ['sh', '-c', 'read x; echo got $x; echo to stderr >&2; hostname; exit 4'],
    stdin: true,
    stdout: true,
    stderr: true,
  });
  const ws = await connectWs(url, ['v5.channel.k8s.io']);
  ws.send(Buffer.from('\x00hello\n'));
  ws.send(Buffer.from([255, 0]));
  const msgs = await ws.all();
  const ch = byChannel(msgs);
  assert.equal(ch[1], 'got hello\nstreams\n');
  assert.equal(ch[2], 'to stderr\n');
  assert.deepEqual(status(msgs).details, { causes: [{ reason: 'ExitCode', message: '4' }] });
});

test('exec with a terminal: a pty, and the window size the resize channel sets', { timeout: 60_000 }, async () => {
  const url = server.url({ kind: 'exec', containerId: web, cmd: ['sh', '-c', 'sleep 1; tty; stty size'], stdout: true, tty: true });
  const ws = await connectWs(url, ['v4.channel.k8s.io']);
  ws.send(Buffer.from('\x04{"Width":123,"Height":45}'));
  const msgs = await ws.all();
  assert.match(byChannel(msgs)[1], /^\/dev\/pts\/\d+\r\n45 123\r\n$/);
  assert.deepEqual(status(msgs), { metadata: {}, status: 'Success' });
});

test('attach: input reaches the container, its output comes back, and its exit ends the stream', { timeout: 60_000 }, async () => {
  const c = await startReader('streams-attach');
  const ws = await connectWs(server.url({ kind: 'attach', containerId: c, stdin: true, stdout: true, stderr: true }), [
    'v5.channel.k8s.io',
  ]);
  ws.send(Buffer.from('\x00world\n'));
  const msgs = await ws.all();
  const ch = byChannel(msgs);
  assert.deepEqual([ch[1], ch[2]], ['attached world\n', 'bye\n']);
  assert.deepEqual(status(msgs), { metadata: {}, status: 'Success' });
  await engine.containers.remove(c, { force: true });
});

test("port forward: a connection to the pod's localhost, in its network namespace", { timeout: 60_000 }, async () => {
  const ws = await connectWs(server.url({ kind: 'portforward', podSandboxId: podId, ports: [8080] }), ['v4.channel.k8s.io']);
  ws.send(Buffer.from('\x00GET /hostname HTTP/1.0\r\n\r\n'));
  const msgs = await ws.all();
  const data = msgs.filter((m) => m.opcode === 2 && m.data[0] === 0).map((m) => m.data.subarray(1));
  assert.deepEqual([...data[0]], [8080 & 255, 8080 >> 8], 'the data channel opens with the port');
  const reply = Buffer.concat(data.slice(1)).toString();
  assert.match(reply, /^HTTP\/1\.[01] 200 OK\r\n/);
  assert.match(reply, /\r\n\r\nstreams\n$/);
  const errors = msgs.filter((m) => m.opcode === 2 && m.data[0] === 1).map((m) => [...m.data.subarray(1)]);
  assert.deepEqual(errors, [[8080 & 255, 8080 >> 8]], 'nothing on the error channel but its port');
});

test('SPDY exec: stdout and stderr apart, stdin ended by its FIN, exit 3 as NonZeroExitCode', { timeout: 60_000 }, async () => {
  const url = server.url({
    kind: 'exec',
    containerId: web,
    cmd: ['sh', '-c', 'echo out; echo err >&2; read x; echo got $x; exit 3'],
    stdin: true,
    stdout: true,
    stderr: true,
  });
  const c = await connectSpdy(url, ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']);
  assert.equal(c.protocol, 'v4.channel.k8s.io');
  const error = readAll(await c.open({ streamType: 'error' }));
  const stdin = await c.open({ streamType: 'stdin' });
  const stdout = readAll(await c.open({ streamType: 'stdout' }));
  const stderr = readAll(await c.open({ streamType: 'stderr' }));
  stdin.end('spdy\n');
  assert.equal(await stdout, 'out\ngot spdy\n');
  assert.equal(await stderr, 'err\n');
  const st = JSON.parse(await error);
  assert.equal(st.status, 'Failure');
  assert.equal(st.reason, 'NonZeroExitCode');
  assert.deepEqual(st.details, { causes: [{ reason: 'ExitCode', message: '3' }] });
  c.socket.destroy();
});

test("SPDY exec with a terminal: the size sent on the resize stream is the pty's", { timeout: 60_000 }, async () => {
  const url = server.url({ kind: 'exec', containerId: web, cmd: ['sh', '-c', 'sleep 1; tty; stty size'], stdout: true, tty: true });
  const c = await connectSpdy(url, ['v4.channel.k8s.io']);
  const error = readAll(await c.open({ streamType: 'error' }));
  const stdout = readAll(await c.open({ streamType: 'stdout' }));
  const resize = await c.open({ streamType: 'resize' });
  resize.write('{"Width":91,"Height":37}\n');
  assert.match(await stdout, /^\/dev\/pts\/\d+\r\n37 91\r\n$/);
  assert.deepEqual(JSON.parse(await error), { metadata: {}, status: 'Success' });
  c.socket.destroy();
});

test('SPDY attach: input reaches the container and its output comes back', { timeout: 60_000 }, async () => {
  const c = await startReader('streams-spdy-attach');
  const s = await connectSpdy(server.url({ kind: 'attach', containerId: c, stdin: true, stdout: true, stderr: true }), [
    'v4.channel.k8s.io',
  ]);
  const error = readAll(await s.open({ streamType: 'error' }));
  const stdin = await s.open({ streamType: 'stdin' });
  const stdout = readAll(await s.open({ streamType: 'stdout' }));
  const stderr = readAll(await s.open({ streamType: 'stderr' }));
  stdin.write('spdy\n');
  assert.deepEqual([await stdout, await stderr], ['attached spdy\n', 'bye\n']);
  assert.deepEqual(JSON.parse(await error), { metadata: {}, status: 'Success' });
  s.socket.destroy();
  await engine.containers.remove(c, { force: true });
});

test(
  "SPDY port forward: two connections to the pod's localhost, a refused port told on its error stream",
  { timeout: 60_000 },
  async () => {
    const c = await connectSpdy(server.url({ kind: 'portforward', podSandboxId: podId }), ['portforward.k8s.io']);
    assert.equal(c.protocol, 'portforward.k8s.io');
    const get = async (requestID: string) => {
      const error = readAll(await c.open({ streamType: 'error', port: '8080', requestID }));
      const data = await c.open({ streamType: 'data', port: '8080', requestID });
      const reply = readAll(data);
      data.end('GET /hostname HTTP/1.0\r\n\r\n');
      return { reply: await reply, error: await error };
    };
    const [a, b] = await Promise.all([get('0'), get('1')]);
    for (const r of [a, b]) {
      assert.match(r.reply, /^HTTP\/1\.[01] 200 OK\r\n/);
      assert.match(r.reply, /\r\n\r\nstreams\n$/);
      assert.equal(r.error, '');
    }
    const error = readAll(await c.open({ streamType: 'error', port: '8081', requestID: '2' }));
    await c.open({ streamType: 'data', port: '8081', requestID: '2' });
    assert.match(await error, /^error forwarding port 8081 to pod [0-9a-f]{64}: \S/);
    c.socket.destroy();
  },
);
