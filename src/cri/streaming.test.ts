// The streaming server end to end over a loopback socket, against a fake of the engine's exec,
// attach and port-forward calls: tokens, the handshake's refusals, and each protocol's messages.

import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { connectSpdy, readAll } from '../../test/helpers/spdy-client.js';
import { UpgradeRefused, byChannel, connectWs, type WsMessage } from '../../test/helpers/ws-client.js';
import type { Engine } from '../engine/index.js';
import { StreamingServer } from './streaming.js';

const resizes: string[] = [];

/** An exec'd "process": echoes stdin upper-cased to stdout; at stdin's end says bye on stderr and exits 3. */
function fakeExec() {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let done!: (n: number) => void;
  const exit = new Promise<number>((r) => (done = r));
  stdin.on('data', (d: Buffer) => stdout.write(d.toString().toUpperCase()));
  stdin.on('end', () => {
    stderr.end('bye');
    stdout.end();
    done(3);
  });
  return { stdin, stdout, stderr, exit };
}

/** A connection to an echo server in the pod, as engine.pods.portForward gives it. */
function echoConnection(): Duplex {
  const pending: Buffer[] = [];
  const d: Duplex = new Duplex({
    read() {
      while (pending.length) this.push(pending.shift());
    },
    write(chunk: Buffer, _e, cb) {
      d.push(Buffer.concat([Buffer.from('echo:'), chunk]));
      cb();
    },
    final(cb) {
      d.push(null);
      cb();
    },
  });
  return d;
}

const engine = {
  options: { log: () => undefined },
  execs: {
    create: (ref: string) => {
      if (ref !== 'c1') throw new Error(`No such container: ${ref}`);
      return { ID: 'e1' };
    },
    start: async () => fakeExec(),
    resize: (id: string, rows: number, cols: number) => resizes.push(`${id} ${rows}x${cols}`),
  },
  containers: {
    attach: async () => {
      // The monitor's side: Docker frames out, then the container exits (the socket ends).
      const socket = new PassThrough();
      const frame = (s: number, t: string) => Buffer.concat([Buffer.from([s, 0, 0, 0, 0, 0, 0, t.length]), Buffer.from(t)]);
      setImmediate(() => socket.end(Buffer.concat([frame(1, 'out'), frame(2, 'err'), frame(1, '!')])));
      return { socket, tty: false };
    },
    resize: async () => undefined,
  },
  pods: {
    portForward: (pod: string, port: number) => {
      if (port === 81) throw new Error('connect to 127.0.0.1:81: Connection refused');
      assert.equal(pod, 'p1');
      return echoConnection();
    },
  },
} as unknown as Engine;

const server = new StreamingServer(engine, { address: '127.0.0.1:0' });
before(() => server.start());
after(() => server.close());

const closeCode = (msgs: WsMessage[]) => msgs.find((m) => m.opcode === 8)?.data.readUInt16BE(0);

test('exec over v5.channel.k8s.io: stdin, stdout, stderr, resize, the close signal and the exit Status', async () => {
  const ws = await connectWs(server.url({ kind: 'exec', containerId: 'c1', cmd: ['sh'], stdin: true, stdout: true, stderr: true }), [
    'v5.channel.k8s.io',
    'v4.channel.k8s.io',
  ]);
  assert.equal(ws.protocol, 'v5.channel.k8s.io');
  const it = ws.messages();
  assert.deepEqual([...(await it.next()).value!.data], [1], 'an empty stdout message says the stream is up');
  ws.send(Buffer.from('\x00hello'));
  assert.equal((await it.next()).value!.data.toString(), '\x01HELLO');
  ws.send(Buffer.from('\x04{"Width":100,"Height":30}'));
  ws.send(Buffer.from([255, 0])); // v5: the client closes its stdin
  const rest: WsMessage[] = [];
  for await (const m of it) rest.push(m);
  const ch = byChannel(rest);
  assert.equal(ch[2], 'bye');
  const status = JSON.parse(ch[3]);
  assert.deepEqual([status.status, status.reason, status.details.causes[0].message], ['Failure', 'NonZeroExitCode', '3']);
  assert.equal(closeCode(rest), 1000);
  assert.deepEqual(resizes, ['e1 30x100']);
});

test('exec over v4.base64.channel.k8s.io: text frames; a failed start is told on the error channel', async () => {
  const ws = await connectWs(server.url({ kind: 'exec', containerId: 'gone', cmd: ['true'], stdout: true }), ['v4.base64.channel.k8s.io']);
  const msgs = await ws.all();
  const text = msgs.filter((m) => m.opcode === 1).map((m) => m.data.toString());
  assert.equal(text[0], '1', 'the empty stdout message');
  assert.equal(text[1][0], '3');
  assert.match(JSON.parse(Buffer.from(text[1].slice(1), 'base64').toString()).message, /No such container: gone/);
});

test('attach: Docker frames apart into stdout and stderr; the end is a Success', async () => {
  const ws = await connectWs(server.url({ kind: 'attach', containerId: 'c1', stdout: true, stderr: true }), ['v4.channel.k8s.io']);
  const ch = byChannel(await ws.all());
  assert.deepEqual([ch[1], ch[2], JSON.parse(ch[3])], ['out!', 'err', { metadata: {}, status: 'Success' }]);
});

test('port forward: each port opened with its number, data relayed, a refused port told on its error channel', async () => {
  const ws = await connectWs(server.url({ kind: 'portforward', podSandboxId: 'p1', ports: [80, 81] }), ['v4.channel.k8s.io']);
  const it = ws.messages();
  const first: number[][] = [];
  for (let i = 0; i < 5; i++) first.push([...(await it.next()).value!.data]);
  assert.deepEqual(first.slice(0, 4), [
    [0, 80, 0],
    [1, 80, 0],
    [2, 81, 0],
    [3, 81, 0],
  ]);
  assert.match(
    Buffer.from(first[4].slice(1)).toString(),
    /^error forwarding port 81 to pod p1: connect to 127.0.0.1:81: Connection refused$/,
  );
  ws.send(Buffer.from('\x00ping'));
  assert.equal((await it.next()).value!.data.toString(), '\x00echo:ping');
  ws.socket.end(); // the client goes: the server ends the pod connection
});

test('exec over SPDY/3.1 (v4.channel.k8s.io): a stream a channel, stdin ended by its FIN, the exit Status', async () => {
  resizes.length = 0;
  const c = await connectSpdy(server.url({ kind: 'exec', containerId: 'c1', cmd: ['sh'], stdin: true, stdout: true, stderr: true }), [
    'v4.channel.k8s.io',
    'v3.channel.k8s.io',
  ]);
  assert.equal(c.protocol, 'v4.channel.k8s.io');
  const error = await c.open({ streamType: 'error' });
  const stdin = await c.open({ streamType: 'stdin' });
  const stdout = await c.open({ streamType: 'stdout' });
  const stderr = await c.open({ streamType: 'stderr' });
  const out = readAll(stdout);
  const err = readAll(stderr);
  const status = readAll(error);
  // More than a 64 KiB window's worth: the client's windows must be kept and refilled both ways.
  const big = 'x'.repeat(200_000);
  stdin.end(`hello ${big}`);
  assert.equal(await out, `HELLO ${big.toUpperCase()}`);
  assert.equal(await err, 'bye');
  const st = JSON.parse(await status);
  assert.deepEqual([st.status, st.reason, st.details.causes], ['Failure', 'NonZeroExitCode', [{ reason: 'ExitCode', message: '3' }]]);
  c.socket.destroy();
});

test('exec over SPDY with a terminal: JSON sizes on the resize stream, one after another', async () => {
  resizes.length = 0;
  const c = await connectSpdy(server.url({ kind: 'exec', containerId: 'c1', cmd: ['sh'], stdin: true, stdout: true, tty: true }), [
    'v4.channel.k8s.io',
  ]);
  const error = await c.open({ streamType: 'error' });
  const stdin = await c.open({ streamType: 'stdin' });
  const stdout = await c.open({ streamType: 'stdout' });
  const resize = await c.open({ streamType: 'resize' });
  const out = readAll(stdout);
  const status = readAll(error);
  resize.write('{"Width":80,"Height":24}\n{"Width":');
  resize.write('100,"Height":30}\n');
  await new Promise((r) => setTimeout(r, 200));
  stdin.end('a');
  assert.equal(await out, 'A');
  assert.equal(JSON.parse(await status).reason, 'NonZeroExitCode');
  assert.deepEqual(resizes, ['e1 24x80', 'e1 30x100']);
  c.socket.destroy();
});

test('port forward over SPDY (portforward.k8s.io): a data and error stream pair a connection', async () => {
  const c = await connectSpdy(server.url({ kind: 'portforward', podSandboxId: 'p1' }), ['portforward.k8s.io']);
  assert.equal(c.protocol, 'portforward.k8s.io');
  const error = await c.open({ streamType: 'error', port: '80', requestID: '0' });
  const errText = readAll(error);
  const data = await c.open({ streamType: 'data', port: '80', requestID: '0' });
  const reply = readAll(data);
  data.end('ping');
  assert.equal(await reply, 'echo:ping');
  assert.equal(await errText, '');
  const refusedErr = await c.open({ streamType: 'error', port: '81', requestID: '1' });
  const refusedText = readAll(refusedErr);
  await c.open({ streamType: 'data', port: '81', requestID: '1' });
  assert.match(await refusedText, /^error forwarding port 81 to pod p1: connect to 127\.0\.0\.1:81: Connection refused$/);
  c.socket.destroy();
});

test('SPDY: an offer the server does not speak is refused with 403 and the versions it accepts', async () => {
  const url = server.url({ kind: 'exec', containerId: 'c1', cmd: ['true'], stdout: true });
  await assert.rejects(
    connectSpdy(url, ['v5.channel.k8s.io']),
    (e) =>
      e instanceof UpgradeRefused &&
      e.status === 403 &&
      /unable to negotiate protocol/.test(e.body) &&
      String((e as UpgradeRefused & { headers: Record<string, string> }).headers['x-accepted-stream-protocol-versions']).includes(
        'v4.channel.k8s.io',
      ),
  );
});

test('tokens are single-use; plain requests are refused; url() checks the request', async () => {
  const url = server.url({ kind: 'exec', containerId: 'c1', cmd: ['true'], stdout: true });
  (await connectWs(url, ['v4.channel.k8s.io'])).socket.destroy();
  await assert.rejects(connectWs(url, ['v4.channel.k8s.io']), (e) => e instanceof UpgradeRefused && e.status === 404);
  await assert.rejects(connectWs(url.replace('/exec/', '/attach/'), []), (e) => e instanceof UpgradeRefused && e.status === 404);
  await assert.rejects(connectSpdy(url, ['v4.channel.k8s.io']), (e) => e instanceof UpgradeRefused && e.status === 404);
  const fresh = server.url({ kind: 'exec', containerId: 'c1', cmd: ['true'], stdout: true });
  const plain = await fetch(fresh);
  assert.equal(plain.status, 400);
  assert.match(await plain.text(), /WebSocket and SPDY\/3\.1 upgrades only/);
  assert.throws(() => server.url({ kind: 'exec', containerId: 'c1', cmd: [], stdout: true }), /cmd must not be empty/);
  assert.throws(() => server.url({ kind: 'attach', containerId: 'c1', tty: true, stdout: true, stderr: true }), /tty and stderr/);
  assert.throws(() => server.url({ kind: 'attach', containerId: 'c1' }), /one of stdin, stdout, or stderr/);
  assert.throws(() => server.url({ kind: 'portforward', podSandboxId: 'p1', ports: [0] }), /invalid port 0/);
});
