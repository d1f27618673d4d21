import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answer, parseQuery, udpSize } from './dns.js';

/** A query for `name` of `type` with ID 0x1234 and RD set. */
function query(name: string, type: number): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, type, 0, 1])]);
}

test('a query parses; the answer carries its ID, question and A records', () => {
  const q = query('Web.example', 1);
  const p = parseQuery(q)!;
  assert.deepEqual(
    { id: p.id, name: p.name, type: p.type, cls: p.cls, end: p.end },
    { id: 0x1234, name: 'web.example', type: 1, cls: 1, end: q.length },
  );
  const a = answer(q, p, ['10.0.0.2', '10.0.0.3']);
  assert.equal(a.readUInt16BE(0), 0x1234);
  assert.equal(a.readUInt16BE(2) & 0x8000, 0x8000); // a response
  assert.equal(a.readUInt16BE(2) & 0x000f, 0); // NOERROR
  assert.equal(a.readUInt16BE(6), 2);
  assert.deepEqual([...a.subarray(a.length - 4)], [10, 0, 0, 3]);
  assert.equal(answer(q, p, [], 3).readUInt16BE(2) & 0x000f, 3);
});

test('responses and truncated packets are not queries', () => {
  const q = query('a', 1);
  q[2] |= 0x80;
  assert.equal(parseQuery(q), undefined);
  assert.equal(parseQuery(query('abc', 1).subarray(0, 14)), undefined);
});

test('an AAAA answer carries 16-byte records of the IPv6 addresses', () => {
  const q = query('web', 28);
  const a = answer(q, parseQuery(q)!, ['fd4b:e47f:2::10']);
  assert.equal(a.readUInt16BE(6), 1);
  const rr = a.subarray(q.length);
  assert.equal(rr.readUInt16BE(2), 28);
  assert.equal(rr.readUInt16BE(10), 16);
  assert.equal(rr.subarray(12).toString('hex'), 'fd4be47f000200000000000000000010');
});

test("an answer too long for the asker's UDP size is cut to fit and marked truncated (TC), as dockerd's", () => {
  const q = query('web', 1);
  const p = parseQuery(q)!;
  const ips = Array.from({ length: 40 }, (_, i) => `10.0.1.${i + 1}`);
  assert.equal(udpSize(q, p), 512);
  const cut = answer(q, p, ips, 0, udpSize(q, p));
  assert.ok(cut.length <= 512, String(cut.length));
  assert.equal(cut.readUInt16BE(2) & 0x0200, 0x0200);
  assert.equal(cut.readUInt16BE(6), Math.floor((512 - q.length) / 16));
  // Over TCP (or an EDNS0 size that allows it): all of them, not truncated.
  const whole = answer(q, p, ips, 0, 0xffff);
  assert.equal(whole.readUInt16BE(2) & 0x0200, 0);
  assert.equal(whole.readUInt16BE(6), 40);
  // A query with an EDNS0 OPT record (root name, type 41, the UDP size as its class) of 1232 bytes.
  const edns = Buffer.concat([q, Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0])]);
  edns.writeUInt16BE(1, 10);
  assert.equal(udpSize(edns, parseQuery(edns)!), 1232);
  assert.equal(answer(edns, parseQuery(edns)!, ips, 0, 1232).readUInt16BE(6), 40);
});
