// The streaming server end to end over a loopback socket, against a fake of the engine's exec,
// attach and port-forward calls: tokens, the handshake's refusals, and each protocol's messages.

import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
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

test('tokens are single-use; SPDY and plain requests are refused; url() checks the request', async () => {
  const url = server.url({ kind: 'exec', containerId: 'c1', cmd: ['true'], stdout: true });
  (await connectWs(url, ['v4.channel.k8s.io'])).socket.destroy();
  await assert.rejects(connectWs(url, ['v4.channel.k8s.io']), (e) => e instanceof UpgradeRefused && e.status === 404);
  await assert.rejects(connectWs(url.replace('/exec/', '/attach/'), []), (e) => e instanceof UpgradeRefused && e.status === 404);
  const fresh = server.url({ kind: 'exec', containerId: 'c1', cmd: ['true'], stdout: true });
  await assert.rejects(connectWs(fresh, ['SPDY/3.1']), (e) => e instanceof UpgradeRefused && /requested protocol/.test(e.body));
  const plain = await fetch(fresh);
  assert.equal(plain.status, 400);
  assert.match(await plain.text(), /WebSocket upgrades only/);
  assert.throws(() => server.url({ kind: 'exec', containerId: 'c1', cmd: [], stdout: true }), /cmd must not be empty/);
  assert.throws(() => server.url({ kind: 'attach', containerId: 'c1', tty: true, stdout: true, stderr: true }), /tty and stderr/);
  assert.throws(() => server.url({ kind: 'attach', containerId: 'c1' }), /one of stdin, stdout, or stderr/);
  assert.throws(() => server.url({ kind: 'portforward', podSandboxId: 'p1', ports: [0] }), /invalid port 0/);
});
