import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskedFrame } from '../../test/helpers/ws-client.js';
import { FrameParser, MAX_MESSAGE, Opcode, ProtocolError, acceptKey, encodeFrame } from './websocket.js';

test('acceptKey: RFC 6455 section 1.3 example', () => {
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('encodeFrame: FIN, opcode, unmasked, 7/16/64-bit lengths', () => {
  for (const [n, headLen] of [
    [0, 2],
    [125, 2],
    [126, 4],
    [65535, 4],
    [65536, 10],
  ]) {
    const f = encodeFrame(Opcode.Binary, Buffer.alloc(n, 7));
    assert.equal(f.length, headLen + n, `length ${n}`);
    assert.equal(f[0], 0x82);
    assert.equal(f[1] & 0x80, 0, 'server frames are not masked');
    const len = headLen === 2 ? f[1] : headLen === 4 ? f.readUInt16BE(2) : Number(f.readBigUInt64BE(2));
    assert.equal(len, n);
  }
});

test('FrameParser: masked frames byte by byte, fragments joined, a ping between fragments', () => {
  const bytes = Buffer.concat([
    maskedFrame(Opcode.Text, Buffer.from('hel'), false),
    maskedFrame(Opcode.Ping, Buffer.from('p')),
    maskedFrame(Opcode.Continuation, Buffer.from('lo')),
    maskedFrame(Opcode.Binary, Buffer.alloc(70000, 1)),
    maskedFrame(Opcode.Close, Buffer.from([3, 232])),
  ]);
  const p = new FrameParser();
  const got = [];
  for (let i = 0; i < 200; i++) got.push(...p.push(bytes.subarray(i, i + 1)));
  got.push(...p.push(bytes.subarray(200)));
  assert.deepEqual(
    got.map((m) => [m.opcode, m.data.length]),
    [
      [Opcode.Ping, 1],
      [Opcode.Text, 5],
      [Opcode.Binary, 70000],
      [Opcode.Close, 2],
    ],
  );
  assert.equal(got[1].data.toString(), 'hello');
  assert.ok(got[2].data.every((b) => b === 1));
});

test('FrameParser: protocol errors carry the close code to send', () => {
  const code = (bytes: Buffer) => {
    try {
      new FrameParser().push(bytes);
    } catch (e) {
      assert.ok(e instanceof ProtocolError);
      return e.code;
    }
    return 0;
  };
  const unmasked = encodeFrame(Opcode.Binary, Buffer.from('x'));
  assert.equal(code(unmasked), 1002, 'client frames must be masked');
  assert.equal(code(maskedFrame(Opcode.Continuation, Buffer.from('x'))), 1002, 'nothing to continue');
  assert.equal(code(maskedFrame(Opcode.Ping, Buffer.alloc(126))), 1002, 'control frame over 125 bytes');
  assert.equal(code(maskedFrame(Opcode.Ping, Buffer.alloc(1), false)), 1002, 'fragmented control frame');
  assert.equal(code(maskedFrame(3, Buffer.alloc(1))), 1002, 'reserved opcode');
  const big = Buffer.from([0x82, 0x80 | 127, 0, 0, 0, 0, 0x7f, 0, 0, 0]);
  assert.equal(code(big), 1009, 'over MAX_MESSAGE');
  assert.ok(MAX_MESSAGE < 0x7f000000);
  const p = new FrameParser();
  p.push(maskedFrame(Opcode.Text, Buffer.from('a'), false));
  assert.throws(() => p.push(maskedFrame(Opcode.Text, Buffer.from('b'))), /a new message before the last one ended/);
});
