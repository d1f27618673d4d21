import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EXEC_PROTOCOLS,
  PORT_FORWARD_PROTOCOLS,
  decodeChannel,
  encodeChannel,
  errorMessage,
  exitMessage,
  negotiate,
  parseResize,
} from './channels.js';
import { TokenCache } from './stream-tokens.js';

test('negotiate: the client order decides; none offered is the old binary protocol; no match is undefined', () => {
  assert.equal(negotiate(['v4.channel.k8s.io', 'v5.channel.k8s.io'], EXEC_PROTOCOLS)?.name, 'v4.channel.k8s.io');
  assert.equal(negotiate(['bogus', 'v5.channel.k8s.io'], EXEC_PROTOCOLS)?.closeSignal, true);
  assert.deepEqual(negotiate([], EXEC_PROTOCOLS), { name: '', base64: false, status: false, closeSignal: false });
  assert.equal(negotiate(['SPDY/3.1+portforward.k8s.io'], PORT_FORWARD_PROTOCOLS), undefined);
  assert.equal(negotiate(['v5.channel.k8s.io'], PORT_FORWARD_PROTOCOLS), undefined);
});

test('channel messages: binary and base64 forms round-trip', () => {
  const bin = negotiate(['v4.channel.k8s.io'], EXEC_PROTOCOLS)!;
  const b64 = negotiate(['v4.base64.channel.k8s.io'], EXEC_PROTOCOLS)!;
  const data = Buffer.from([0, 255, 10, 66]);
  const e1 = encodeChannel(bin, 2, data);
  assert.deepEqual([e1.text, [...e1.data]], [false, [2, 0, 255, 10, 66]]);
  const e2 = encodeChannel(b64, 1, data);
  assert.deepEqual([e2.text, e2.data.toString()], [true, '1AP8KQg==']);
  assert.deepEqual(decodeChannel(bin, e1.data), { channel: 2, data });
  assert.deepEqual(decodeChannel(b64, Buffer.from('0' + data.toString('base64'))), { channel: 0, data });
  assert.equal(decodeChannel(bin, Buffer.alloc(0)), undefined);
});

test('exit and error messages: v4 Status as kubelet writes it, text before v4', () => {
  const v4 = negotiate(['v4.channel.k8s.io'], EXEC_PROTOCOLS)!;
  const v1 = negotiate(['channel.k8s.io'], EXEC_PROTOCOLS)!;
  assert.deepEqual(JSON.parse(exitMessage(v4, ['true'], 0)!.toString()), { metadata: {}, status: 'Success' });
  const f = JSON.parse(exitMessage(v4, ['sh', '-c', 'exit 3'], 3)!.toString());
  assert.equal(f.status, 'Failure');
  assert.equal(f.reason, 'NonZeroExitCode');
  assert.deepEqual(f.details, { causes: [{ reason: 'ExitCode', message: '3' }] });
  assert.equal(exitMessage(v1, ['true'], 0), undefined);
  assert.equal(exitMessage(v1, ['false'], 1)!.toString(), 'command terminated with non-zero exit code: 1');
  assert.equal(JSON.parse(errorMessage(v4, 'no such container').toString()).reason, 'InternalError');
  assert.equal(errorMessage(v1, 'no such container').toString(), 'no such container');
});

test('parseResize: TerminalSize JSON, refusing what is not one', () => {
  assert.deepEqual(parseResize(Buffer.from('{"Width":80,"Height":24}')), { rows: 24, cols: 80 });
  assert.throws(() => parseResize(Buffer.from('80x24')), /not JSON/);
  assert.throws(() => parseResize(Buffer.from('{"Width":-1,"Height":24}')), /integers/);
});

test('TokenCache: single use, expiry, and a bound on waiting requests', () => {
  let now = 1000;
  const c = new TokenCache<string>(60_000, 2, () => now);
  const a = c.insert('a');
  assert.match(a, /^[A-Za-z0-9_-]{11}$/);
  assert.equal(c.consume(a), 'a');
  assert.equal(c.consume(a), undefined, 'used once');
  const b = c.insert('b');
  c.insert('c');
  assert.throws(() => c.insert('d'), /too many streaming requests/);
  now += 60_000;
  assert.equal(c.consume(b), undefined, 'expired');
  c.insert('e'); // the expired ones made room
});
