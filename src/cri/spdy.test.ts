// SPDY/3.1's pieces (spdy.ts) against independent ones: the dictionary against spdy-transport's,
// header blocks through Node's zlib with the dictionary both ways, frames split anywhere, and a
// session on a loopback socket driven with raw frames (replies, PING, flow control windows).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createServer, connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { constants as zc, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { JsonObjects } from './spdy-channels.js';
import {
  DICTIONARY,
  FLAG_FIN,
  FrameReader,
  FrameType,
  HeaderDeflater,
  HeaderInflater,
  SpdySession,
  SpdyStream,
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  type Frame,
  type Headers,
} from './spdy.js';

const spdyTransportDictionary = (
  createRequire(import.meta.url)('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js') as Record<string, Buffer>
)['3'];

const u32 = (...ns: number[]) => Buffer.concat(ns.map((n) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])));

/** Runs one zlib stream's chunk through with a sync flush, as a SPDY peer does a header block. */
function zflush(z: Deflate | Inflate, chunk: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  const onData = (d: Buffer) => out.push(d);
  z.on('data', onData);
  z.write(chunk);
  return new Promise((resolve) =>
    z.flush(zc.Z_SYNC_FLUSH, () => {
      z.off('data', onData);
      resolve(Buffer.concat(out));
    }),
  );
}

test("the dictionary is SPDY/3's, byte for byte as spdy-transport has it", () => {
  assert.equal(DICTIONARY.length, spdyTransportDictionary.length);
  assert.ok(DICTIONARY.equals(spdyTransportDictionary));
});

test('frames: control and data frames encode and decode, fed a byte at a time', () => {
  const bytes = Buffer.concat([
    controlFrame(FrameType.Ping, 0, u32(7)),
    dataFrame(5, FLAG_FIN, Buffer.from('hello')),
    controlFrame(FrameType.WindowUpdate, 0, u32(3, 1000)),
    dataFrame(0x7fffffff, 0, Buffer.alloc(70_000, 1)),
  ]);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x80, 3, 0, 6, 0, 0, 0, 4], 'control bit, version 3, type, flags, 24-bit length');
  const r = new FrameReader();
  const frames: Frame[] = [];
  for (let i = 0; i < bytes.length; i += i < 64 ? 1 : 4096) frames.push(...r.push(bytes.subarray(i, i < 64 ? i + 1 : i + 4096)));
  assert.equal(frames.length, 4);
  assert.deepEqual(frames[0], { control: true, type: FrameType.Ping, flags: 0, payload: u32(7) });
  assert.deepEqual(frames[1], { control: false, streamId: 5, flags: FLAG_FIN, data: Buffer.from('hello') });
  assert.deepEqual(frames[2], { control: true, type: FrameType.WindowUpdate, flags: 0, payload: u32(3, 1000) });
  assert.ok(!frames[3].control && frames[3].streamId === 0x7fffffff && frames[3].data.length === 70_000);
  assert.throws(() => new FrameReader().push(Buffer.from([0x80, 2, 0, 1, 0, 0, 0, 0])), /SPDY version 2 is not served/);
});

test('header blocks: ours read by zlib with the dictionary, zlib-compressed ones read by ours, one context a direction', async () => {
  const blocks: Headers[] = [
    new Map([
      [':status', ['200']],
      [':version', ['HTTP/1.1']],
    ]),
    new Map([
      ['streamtype', ['data']],
      ['port', ['8080']],
      ['x-many', ['a', 'b']],
    ]),
    new Map([['big', ['y'.repeat(70_000)]]]),
  ];
  const ours = new HeaderDeflater();
  const theirInflate = createInflate({ dictionary: DICTIONARY });
  for (const h of blocks) assert.deepEqual(decodeHeaderBlock(await zflush(theirInflate, ours.deflate(encodeHeaderBlock(h)))), h);
  theirInflate.close();

  const theirDeflate = createDeflate({ dictionary: DICTIONARY });
  const inflater = new HeaderInflater();
  const sizes: number[] = [];
  for (const h of blocks) {
    const compressed = await zflush(theirDeflate, encodeHeaderBlock(h));
    sizes.push(compressed.length);
    assert.deepEqual(decodeHeaderBlock(await inflater.inflate(compressed)), h);
  }
  // ':status', ':version' and 'HTTP/1.1' are in the dictionary: the first block comes out smaller than it went in.
  assert.ok(sizes[0] < encodeHeaderBlock(blocks[0]).length, `${sizes[0]}`);
  theirDeflate.close();
  inflater.close();
  await assert.rejects(new HeaderInflater().inflate(Buffer.from('not zlib at all')), /header block/);
  assert.throws(() => decodeHeaderBlock(u32(1, 4)), /truncated/);
});

test('JSON objects one after another, split anywhere', () => {
  const j = new JsonObjects();
  assert.deepEqual(j.push('{"Width":1,"Height":2}\n{"Wid'), ['{"Width":1,"Height":2}']);
  assert.deepEqual(j.push('th":3,"s":"}{"}'), ['{"Width":3,"s":"}{"}']);
  assert.deepEqual(j.push(' nonsense'), ['nonsense']);
});

/** A session on a loopback socket; the test is the client, writing and reading raw frames. */
async function sessionPair(): Promise<{ session: SpdySession; client: Socket; frames: () => Promise<Frame>; close: () => void }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  const [sock] = (await once(server, 'connection')) as [Socket];
  const session = new SpdySession(sock);
  const reader = new FrameReader();
  const queue: Frame[] = [];
  let wake: (() => void) | undefined;
  client.on('data', (d: Buffer) => {
    queue.push(...reader.push(d));
    wake?.();
  });
  const frames = async (): Promise<Frame> => {
    while (!queue.length) await new Promise<void>((r) => (wake = r));
    return queue.shift()!;
  };
  return {
    session,
    client,
    frames,
    close: () => {
      client.destroy();
      server.close();
    },
  };
}

test('session: SYN_STREAM answered by SYN_REPLY, PING echoed, windows kept once the client keeps them', async () => {
  const { session, client, frames, close } = await sessionPair();
  const deflate = createDeflate({ dictionary: DICTIONARY });
  const inflate = createInflate({ dictionary: DICTIONARY });
  const streams: SpdyStream[] = [];
  session.on('stream', (s: SpdyStream) => streams.push(s));

  // The client keeps windows: its streams' initial window is 100 bytes.
  client.write(controlFrame(FrameType.Settings, 0, u32(1, 7, 100)));
  const block = await zflush(deflate, encodeHeaderBlock(new Map([['streamtype', ['stdout']]])));
  client.write(controlFrame(FrameType.SynStream, 0, Buffer.concat([u32(1, 0), Buffer.from([0, 0]), block])));
  await once(session, 'stream');
  assert.equal(streams[0].header('streamtype'), 'stdout');
  streams[0].reply();
  const reply = await frames();
  assert.ok(reply.control && reply.type === FrameType.SynReply);
  assert.equal(reply.payload.readUInt32BE(0), 1);
  assert.deepEqual(decodeHeaderBlock(await zflush(inflate, reply.payload.subarray(4))).get(':status'), ['200']);

  client.write(controlFrame(FrameType.Ping, 0, u32(1)));
  assert.deepEqual(await frames(), { control: true, type: FrameType.Ping, flags: 0, payload: u32(1) });

  streams[0].end(Buffer.alloc(300, 7));
  const first = await frames();
  assert.ok(!first.control && first.data.length === 100, 'no more than the stream window');
  await new Promise((r) => setTimeout(r, 100));
  client.write(controlFrame(FrameType.WindowUpdate, 0, u32(1, 150)));
  const second = await frames();
  assert.ok(!second.control && second.data.length === 150, 'the window update lets 150 more go');
  client.write(controlFrame(FrameType.WindowUpdate, 0, u32(1, 1000)));
  const third = await frames();
  assert.ok(!third.control && third.data.length === 50);
  const fin = await frames();
  assert.ok(!fin.control && fin.flags === FLAG_FIN && fin.data.length === 0);

  // 40 KiB from the client (over half a 64 KiB window): the session and the stream get it back.
  client.write(dataFrame(1, 0, Buffer.alloc(40 * 1024)));
  const updates = [await frames(), await frames()].map((f) =>
    f.control ? [f.type, f.payload.readUInt32BE(0), f.payload.readUInt32BE(4)] : [],
  );
  assert.deepEqual(updates, [
    [FrameType.WindowUpdate, 1, 40 * 1024],
    [FrameType.WindowUpdate, 0, 40 * 1024],
  ]);

  // Data on a stream never opened: RST_STREAM INVALID_STREAM (2).
  client.write(dataFrame(9, 0, Buffer.from('x')));
  const rst = await frames();
  assert.ok(rst.control && rst.type === FrameType.RstStream);
  assert.deepEqual([rst.payload.readUInt32BE(0), rst.payload.readUInt32BE(4)], [9, 2]);

  session.goAway();
  const goaway = await frames();
  assert.ok(goaway.control && goaway.type === FrameType.GoAway && goaway.payload.readUInt32BE(0) === 1);
  deflate.close();
  inflate.close();
  close();
});

test('session: without SETTINGS or WINDOW_UPDATE from the client (spdystream) data is not held to a window', async () => {
  const { session, client, frames, close } = await sessionPair();
  const deflate = createDeflate({ dictionary: DICTIONARY });
  const block = await zflush(deflate, encodeHeaderBlock(new Map([['streamtype', ['stdout']]])));
  client.write(controlFrame(FrameType.SynStream, 0, Buffer.concat([u32(1, 0), Buffer.from([0, 0]), block])));
  const [s] = (await once(session, 'stream')) as [SpdyStream];
  s.end(Buffer.alloc(100_000));
  let got = 0;
  for (;;) {
    const f = await frames();
    if (f.control) continue;
    got += f.data.length;
    if (f.flags & FLAG_FIN) break;
  }
  assert.equal(got, 100_000);
  // A client stream id that is even (the server's) is a protocol error: GOAWAY PROTOCOL_ERROR (1).
  const errored = once(session, 'protocolError');
  client.write(
    controlFrame(
      FrameType.SynStream,
      0,
      Buffer.concat([u32(4, 0), Buffer.from([0, 0]), await zflush(deflate, encodeHeaderBlock(new Map()))]),
    ),
  );
  assert.match(String((await errored)[0]), /stream 4 out of order/);
  let goaway: Frame;
  do goaway = await frames();
  while (!goaway.control || goaway.type !== FrameType.GoAway);
  assert.equal(goaway.payload.readUInt32BE(4), 1);
  deflate.close();
  close();
});
