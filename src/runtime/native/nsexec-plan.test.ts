// native/berth-nsexec reading a plan it must refuse: each refusal is one error record on the
// sync socket before anything is set up, never a field read past what arrived.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { helperPath } from './helper.js';
import { Decoder, encode, Op, rec } from './protocol.js';

/** The helper's error line for a plan of these bytes, and its exit code. */
function refusal(plan: Buffer): Promise<{ error?: string; code: number | null }> {
  const child = spawn(helperPath(), [], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { _BERTH_SYNC_FD: '3' }, timeout: 10_000 });
  const sock = child.stdio[3] as Socket;
  const decoder = new Decoder();
  let error: string | undefined;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  sock.on('data', (d: Buffer) => {
    for (const m of decoder.push(d)) {
      if (m.type === Op.MsgError) error = m.fields[0];
      // Accepted (a regression): no MsgContinue follows, so the process ends without running.
      if (m.type === Op.MsgPid) sock.end();
    }
  });
  sock.on('error', () => {}); // the helper may exit before reading all of a long plan
  sock.write(plan);
  return new Promise((resolve) => child.on('close', (code) => resolve({ error: error ?? (stderr || undefined), code })));
}

test('a record with fewer fields than its type needs is refused', async () => {
  const r = await refusal(encode([rec(Op.Mode, 'create'), rec(Op.Mount, '/src', '/dst'), rec(Op.End)]));
  assert.equal(r.error, `plan record of type ${Op.Mount} has 2 fields, needs 7`);
  assert.equal(r.code, 1);
});

test('an unknown record type is refused', async () => {
  const r = await refusal(encode([rec(99 as Op, 'x'), rec(Op.End)]));
  assert.equal(r.error, 'unknown plan record type 99');
});

test('a record cut inside its last field is refused, not read as a shorter field', async () => {
  const cut = Buffer.from([8, 0, 0, 0, Op.Arg, 0, ...Buffer.from('abcdef')]);
  const r = await refusal(Buffer.concat([cut, encode([rec(Op.End)])]));
  assert.equal(r.error, `plan record of type ${Op.Arg}: its last field has no NUL`);
});

test(
  'a time offset longer than its line is refused, not written past the buffer',
  { skip: process.getuid?.() !== 0 && 'needs root for a time namespace' },
  async () => {
    const CLONE_NEWTIME = 0x80;
    const r = await refusal(
      encode([rec(Op.Mode, 'create'), rec(Op.NsClone, CLONE_NEWTIME), rec(Op.TimeOffset, 'monotonic', '1'.repeat(200), 0), rec(Op.End)]),
    );
    assert.equal(r.error, 'time offset for monotonic too long');
  },
);
