// Unit tests: device rules → v1 devices.allow/deny writes, and → the v2 eBPF program, which a tiny
// interpreter here runs on (type, major, minor, access) requests to check allow/deny.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../errors.js';
import type { LinuxDeviceCgroup } from '../../oci/runtime-spec.js';
import type { CgroupWrite } from './fs.js';
import { emulateV1, parseDevicesList, v1DeviceWrites } from './devices-v1.js';
import { normalizeDeviceRules } from './devices.js';
import { compileDeviceFilter } from './devices-ebpf.js';

const kind = (k: string) => (e: unknown) => e instanceof BerthError && e.kind === k;
const fv = (ws: CgroupWrite[]) => ws.map((w) => `${w.file}=${w.value}`);

const DOCKER_DEVICES: LinuxDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
];

test('v1 devices: deny all then the allow list, as the kernel list ends up', () => {
  const ws = v1DeviceWrites(DOCKER_DEVICES);
  assert.deepEqual(ws[0], { controller: 'devices', file: 'devices.deny', value: 'a', field: 'devices' });
  assert.ok(ws.slice(1).every((w) => w.file === 'devices.allow'));
  assert.deepEqual(
    ws.slice(1, 4).map((w) => w.value),
    ['c *:* m', 'b *:* m', 'c 1:3 rwm'],
  );
  assert.ok(ws.some((w) => w.value === 'c 136:* rwm'));
  assert.ok(!ws.some((w) => w.value.startsWith('c 10:229')));
  // Allow all, then deny one device: default allow with one exception in devices.deny.
  assert.deepEqual(
    fv(
      v1DeviceWrites([
        { allow: true, access: 'rwm' },
        { allow: false, type: 'b', major: 8, minor: 0, access: 'w' },
      ]),
    ),
    ['devices.allow=a', 'devices.deny=b 8:0 w'],
  );
  // A later narrower deny takes access away from an allow.
  const st = emulateV1(
    normalizeDeviceRules([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
    ]),
  );
  assert.deepEqual(st, { defaultAllow: false, exceptions: [{ type: 'c', major: 1, minor: 3, access: 2 | 1 }] });
  // A narrow "a" rule is spelled out as c and b.
  assert.deepEqual(
    fv(
      v1DeviceWrites([
        { allow: false, access: 'rwm' },
        { allow: true, type: 'a', major: 7, access: 'r' },
      ]),
    ),
    ['devices.deny=a', 'devices.allow=c 7:* r', 'devices.allow=b 7:* r'],
  );
  assert.throws(() => v1DeviceWrites([{ allow: true, type: 'x' }]), kind('invalid'));
  assert.throws(() => v1DeviceWrites([{ allow: true, access: 'rwx' }]), kind('invalid'));
});

test('v1 devices update: only the difference from devices.list, no reset', () => {
  const cur = 'c 1:3 rwm\nc 1:5 rwm\nc 136:* rwm\nb *:* m\n';
  assert.deepEqual(parseDevicesList(cur).exceptions.length, 4);
  assert.equal(parseDevicesList('a *:* rwm\n').exact, false);
  const ws = v1DeviceWrites(
    [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'r' },
      { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
      { allow: true, type: 'b', major: null, minor: null, access: 'm' },
    ],
    cur,
  );
  assert.deepEqual(fv(ws), ['devices.allow=c 10:200 rwm', 'devices.deny=c 1:5 wm', 'devices.deny=c 136:* rwm']);
  // From allow-all (exceptions unknown) it falls back to a reset.
  assert.equal(fv(v1DeviceWrites([{ allow: false, access: 'rwm' }], 'a *:* rwm\n'))[0], 'devices.deny=a');
});

const U32 = 0xffffffffn;
const CTX = 0x10000n; // r1's value: a pointer to struct bpf_cgroup_dev_ctx

/** Checks the program's shape (every jump lands inside, the last instruction exits), then runs it. */
function verify(prog: Buffer): void {
  assert.equal(prog.length % 8, 0);
  const n = prog.length / 8;
  assert.equal(prog[(n - 1) * 8], 0x95, 'last instruction is exit');
  for (let i = 0; i < n; i++) {
    const code = prog[i * 8];
    if ((code & 0x07) === 0x05 && code !== 0x95) {
      const to = i + 1 + prog.readInt16LE(i * 8 + 2);
      assert.ok(to > i && to < n, `jump at ${i} lands at ${to}, outside 0..${n - 1}`);
    }
  }
}

/** 1 = allowed, 0 = denied. */
function runFilter(prog: Buffer, type: 'c' | 'b', major: number, minor: number, access: string): number {
  const acc = (access.includes('m') ? 1 : 0) | (access.includes('r') ? 2 : 0) | (access.includes('w') ? 4 : 0);
  const ctx = [BigInt((acc << 16) | (type === 'b' ? 1 : 2)), BigInt(major), BigInt(minor)];
  const r: bigint[] = new Array(11).fill(0n);
  r[1] = CTX;
  const n = prog.length / 8;
  for (let pc = 0, steps = 0; steps < 10000; steps++, pc++) {
    assert.ok(pc < n, 'ran off the end');
    const o = pc * 8;
    const code = prog[o];
    const dst = prog[o + 1] & 0xf;
    const src = prog[o + 1] >> 4;
    const off = prog.readInt16LE(o + 2);
    const imm = BigInt.asUintN(64, BigInt(prog.readInt32LE(o + 4)));
    switch (code) {
      case 0x61: // ldxw
        assert.equal(r[src], CTX, 'loads only from the context');
        assert.ok(off === 0 || off === 4 || off === 8);
        r[dst] = ctx[off / 4];
        break;
      case 0x54:
        r[dst] = r[dst] & U32 & (imm & U32);
        break; // and32 imm
      case 0x74:
        r[dst] = (r[dst] & U32) >> (imm & 31n);
        break; // rsh32 imm
      case 0xbc:
        r[dst] = r[src] & U32;
        break; // mov32 reg
      case 0xb7:
        r[dst] = imm;
        break; // mov64 imm
      case 0x55:
        if (r[dst] !== imm) pc += off;
        break; // jne imm
      case 0x5d:
        if (r[dst] !== r[src]) pc += off;
        break; // jne reg
      case 0x95:
        return Number(r[0]);
      default:
        assert.fail(`unknown opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  assert.fail('did not finish');
}

test('eBPF: allow-all is prologue + return 1; no rules denies everything', () => {
  const all = compileDeviceFilter([{ allow: true, access: 'rwm' }]);
  assert.equal(all.length, 8 * 8);
  verify(all);
  assert.equal(runFilter(all, 'b', 8, 0, 'rwm'), 1);
  assert.equal(runFilter(all, 'c', 4095, 1048575, 'm'), 1);
  const none = compileDeviceFilter([]);
  assert.equal(none.length, 8 * 8);
  verify(none);
  assert.equal(runFilter(none, 'c', 1, 3, 'r'), 0);
  // First instruction: r2 = *(u32 *)(r1 + 0) → 61 12 0000 00000000.
  assert.deepEqual([...all.subarray(0, 8)], [0x61, 0x12, 0, 0, 0, 0, 0, 0]);
  // "and32 r2, 0xffff": imm little-endian.
  assert.deepEqual([...all.subarray(8, 16)], [0x54, 0x02, 0, 0, 0xff, 0xff, 0, 0]);
});

test('eBPF: the Docker device list', () => {
  const p = compileDeviceFilter(DOCKER_DEVICES);
  verify(p);
  assert.equal(p.length / 8, 74);
  const cases: ['c' | 'b', number, number, string, number][] = [
    ['c', 1, 3, 'rw', 1], // /dev/null
    ['c', 1, 3, 'rwm', 1],
    ['c', 1, 9, 'r', 1], // /dev/urandom
    ['c', 136, 7, 'rw', 1], // a pts
    ['c', 5, 2, 'rw', 1], // ptmx
    ['c', 10, 200, 'rw', 1], // tun
    ['c', 10, 229, 'rw', 0], // fuse: denied by the last rule
    ['c', 10, 229, 'm', 0], // the last matching rule wins over "c *:* m"
    ['c', 4, 1, 'm', 1], // mknod of any char device
    ['c', 4, 1, 'r', 0],
    ['c', 4, 1, 'rm', 0], // m is allowed, r is not: the request as a whole is not covered
    ['b', 8, 0, 'm', 1],
    ['b', 8, 0, 'r', 0], // no block device access
    ['b', 1, 3, 'r', 0], // type matters
  ];
  for (const [t, maj, min, acc, want] of cases) assert.equal(runFilter(p, t, maj, min, acc), want, `${t} ${maj}:${min} ${acc}`);
});

test('eBPF: last matching rule wins; type a matches both; wildcards', () => {
  const p = compileDeviceFilter([
    { allow: true, access: 'rwm' },
    { allow: false, type: 'a', major: 8, access: 'w' },
    { allow: true, type: 'b', major: 8, minor: 1, access: 'w' },
  ]);
  verify(p);
  assert.equal(runFilter(p, 'b', 8, 0, 'w'), 0);
  assert.equal(runFilter(p, 'c', 8, 0, 'w'), 0);
  assert.equal(runFilter(p, 'b', 8, 0, 'r'), 1);
  assert.equal(runFilter(p, 'b', 8, 1, 'w'), 1);
  assert.equal(runFilter(p, 'b', 9, 0, 'w'), 1);
  // A match-everything rule late in the list makes the earlier ones unreachable: they are left out.
  const q = compileDeviceFilter([
    { allow: true, type: 'c', major: 1, minor: 3 },
    { allow: false, access: 'rwm' },
  ]);
  assert.equal(q.length / 8, 8);
  assert.equal(runFilter(q, 'c', 1, 3, 'r'), 0);
  assert.throws(() => compileDeviceFilter([{ allow: true, type: 'u' }]), kind('invalid'));
});
