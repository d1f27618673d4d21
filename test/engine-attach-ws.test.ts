// `GET /containers/{id}/attach/ws` side by side: a WebSocket client (test/helpers/ws-client.ts) attached
// to the same container on dockerd 20.10 and on berthd must read the same bytes, in the same kind
// of message, and have its messages reach the container's stdin; a terminal's detach keys end
// the attach and leave the container running; logs=1 replays the log first; before API 1.28 the
// messages are text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { UpgradeRefused, connectWs, type WsClient, type WsMessage } from './helpers/ws-client.js';
import { sideBySide, show, IMAGE } from './helpers/side-by-side.js';
import type { EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';

let eng!: EngineFixture;
let d!: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));

interface Engine {
  name: string;
  socket: string;
  docker(args: string[]): { status: number | null; stdout: string; stderr: string };
}
const engines = (): Engine[] => [
  { name: 'dockerd', socket: join(d.dir, 'docker.sock'), docker: (a) => d.docker(a) },
  { name: 'berthd', socket: eng.socket, docker: (a) => eng.docker(a) },
];

function ok(e: Engine, args: string[]): string {
  const r = e.docker(args);
  assert.equal(r.status, 0, show(e.name, r));
  return r.stdout.trim();
}

interface Session {
  ws: WsClient;
  /** The data messages (text 1, binary 2) until the connection ends. */
  done: Promise<WsMessage[]>;
  seen: WsMessage[];
}

async function attach(e: Engine, path: string): Promise<Session> {
  const ws = await connectWs(`http://localhost${path}`, [], { socketPath: e.socket });
  const seen: WsMessage[] = [];
  const done = (async () => {
    for await (const m of ws.messages()) if (m.opcode === 1 || m.opcode === 2) seen.push(m);
    return seen;
  })();
  return { ws, done, seen };
}

const text = (msgs: WsMessage[]) => Buffer.concat(msgs.map((m) => m.data)).toString();
const timeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no end within ${ms} ms`)), ms))]);

test('a container attached before its start: stdin from messages, stdout and stderr unframed in binary messages', { skip }, async () => {
  const seen: Record<string, { out: string; binary: boolean[] }> = {};
  for (const e of engines()) {
    const id = ok(e, ['create', '-i', '--network', 'none', IMAGE, 'sh', '-c', 'read x; echo "got $x"; echo err >&2; echo done']);
    try {
      const s = await attach(e, `/v1.41/containers/${id}/attach/ws?stream=1&stdin=1&stdout=1&stderr=1`);
      ok(e, ['start', id]);
      s.ws.send(Buffer.from('hello\n'));
      const msgs = await timeout(s.done, 20_000, `${e.name} attach`);
      seen[e.name] = { out: text(msgs), binary: msgs.map((m) => m.opcode === 2) };
    } finally {
      ok(e, ['rm', '-f', id]);
    }
  }
  // stdout and stderr are two pipes: dockerd copies them apart, so their order between each other is not kept.
  const lines = (o: string) => o.split('\n').sort().join('\n');
  assert.equal(lines(seen.dockerd.out), lines('got hello\nerr\ndone\n'));
  assert.equal(lines(seen.berthd.out), lines(seen.dockerd.out));
  assert.ok(seen.dockerd.binary.every(Boolean) && seen.berthd.binary.every(Boolean));
});

test(
  'before API 1.42 every stream comes whatever the flags (both); from 1.42 the flags select (berthd, as dockerd 28)',
  { skip },
  async () => {
    const got: Record<string, string> = {};
    for (const [e, version] of [...engines().map((x): [Engine, string] => [x, 'v1.41']), [engines()[1], 'v1.42'] as [Engine, string]]) {
      const id = ok(e, ['create', '--network', 'none', IMAGE, 'sh', '-c', 'echo out; sleep 0.3; echo err >&2']);
      try {
        const s = await attach(e, `/${version}/containers/${id}/attach/ws?stream=1&stdout=1`);
        ok(e, ['start', id]);
        got[`${e.name} ${version}`] = text(await timeout(s.done, 20_000, `${e.name} attach`));
      } finally {
        ok(e, ['rm', '-f', id]);
      }
    }
    assert.equal(got['dockerd v1.41'], 'out\nerr\n');
    assert.equal(got['berthd v1.41'], got['dockerd v1.41']);
    assert.equal(got['berthd v1.42'], 'out\n');
  },
);

test('with a terminal the detach keys end the attach and the container keeps running', { skip }, async () => {
  for (const e of engines()) {
    const id = ok(e, ['run', '-d', '-it', '--network', 'none', IMAGE, 'sh']);
    try {
      const s = await attach(e, `/v1.41/containers/${id}/attach/ws?stream=1&stdin=1&stdout=1&detachKeys=ctrl-x`);
      s.ws.send(Buffer.from('echo hi-$((6*7))\n'));
      const deadline = Date.now() + 10_000;
      while (!text(s.seen).includes('hi-42') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(text(s.seen), /hi-42/, `${e.name}: ${JSON.stringify(text(s.seen))}`);
      s.ws.send(Buffer.from([0x18]));
      await timeout(s.done, 10_000, `${e.name} detach`);
      assert.equal(ok(e, ['inspect', '-f', '{{.State.Running}}', id]), 'true', e.name);
    } finally {
      ok(e, ['rm', '-f', id]);
    }
  }
});

test('an unknown container is a 404 before any upgrade, from both', { skip }, async () => {
  for (const e of engines()) {
    const r = await connectWs('http://localhost/containers/no-such-container/attach/ws?stream=1', [], { socketPath: e.socket }).then(
      () => 0,
      (err: unknown) => (err instanceof UpgradeRefused ? err.status : -1),
    );
    assert.equal(r, 404, e.name);
  }
});

test('logs=1 replays what the container wrote before the attach, then the stream goes on', { skip }, async () => {
  const got: Record<string, string> = {};
  for (const e of engines()) {
    const id = ok(e, ['run', '-d', '-i', '--network', 'none', IMAGE, 'sh', '-c', 'echo one; echo two >&2; read x; echo "got $x"']);
    try {
      const deadline = Date.now() + 10_000;
      while (!e.docker(['logs', id]).stderr.includes('two') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const s = await attach(e, `/v1.41/containers/${id}/attach/ws?logs=1&stream=1&stdin=1&stdout=1&stderr=1`);
      // The replay comes before anything is sent: the container is waiting on its stdin.
      while (text(s.seen).split('\n').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const replay = text(s.seen);
      s.ws.send(Buffer.from('three\n'));
      got[e.name] =
        `${replay.split('\n').sort().join(' ')} | ${text(await timeout(s.done, 20_000, `${e.name} attach`)).slice(replay.length)}`;
    } finally {
      ok(e, ['rm', '-f', id]);
    }
  }
  assert.equal(got.dockerd, ' one two | got three\n');
  assert.equal(got.berthd, got.dockerd);
});

test('before API 1.28 the output comes in text messages, from both', { skip }, async () => {
  const got: Record<string, { out: string; opcodes: number[] }> = {};
  for (const e of engines()) {
    const id = ok(e, ['create', '--network', 'none', IMAGE, 'sh', '-c', 'echo out; sleep 0.3; echo err >&2']);
    try {
      const s = await attach(e, `/v1.27/containers/${id}/attach/ws?stream=1&stdout=1&stderr=1`);
      ok(e, ['start', id]);
      const msgs = await timeout(s.done, 20_000, `${e.name} attach`);
      got[e.name] = { out: text(msgs), opcodes: [...new Set(msgs.map((m) => m.opcode))] };
    } finally {
      ok(e, ['rm', '-f', id]);
    }
  }
  assert.deepEqual(got.dockerd, { out: 'out\nerr\n', opcodes: [1] });
  assert.deepEqual(got.berthd, got.dockerd);
});
