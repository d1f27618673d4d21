// Round trips side by side with dockerd 20.10 (the docker 28 CLI against each): the memory limits
// and the restart policy as inspect shows them after create and after update, the state after a
// kill and after the restart policy's restarts, and a non-default Isolation refused in dockerd's
// words with no container left.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { IMAGE, show, sideBySide } from './helpers/side-by-side.js';

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));

type Run = (a: string[]) => CliResult;
const ok = (run: Run, args: string[]) => {
  const r = run(args);
  assert.equal(r.status, 0, show(args.join(' '), r));
  return r.stdout.trim();
};
const engines = (): [string, Run][] => [
  ['dockerd', (a) => d.docker(a)],
  ['berthd', (a) => eng.docker(a)],
];
const inspect = (run: Run, id: string) => JSON.parse(ok(run, ['inspect', id]))[0];
const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
const LIMITS = ['Memory', 'MemorySwap', 'MemoryReservation', 'RestartPolicy'];

test('Memory, MemorySwap, MemoryReservation and the restart policy as inspect shows them after create and after update', { skip }, () => {
  const got: unknown[][] = [];
  for (const [, run] of engines()) {
    const seen: unknown[] = [];
    const id = ok(run, [
      'create',
      '--network',
      'none',
      '--memory',
      '64m',
      '--memory-swap',
      '128m',
      '--memory-reservation',
      '32m',
      '--restart',
      'on-failure:3',
      IMAGE,
      'true',
    ]);
    seen.push(pick(inspect(run, id).HostConfig, LIMITS));
    ok(run, ['update', '--memory', '96m', '--memory-swap', '192m', '--memory-reservation', '48m', '--restart', 'on-failure:5', id]);
    seen.push(pick(inspect(run, id).HostConfig, LIMITS));
    ok(run, ['update', '--restart', 'always', id]);
    seen.push(pick(inspect(run, id).HostConfig, LIMITS));
    ok(run, ['update', '--memory-swap', '-1', id]);
    seen.push(pick(inspect(run, id).HostConfig, LIMITS));
    const plain = ok(run, ['create', '--network', 'none', '--memory', '64m', IMAGE, 'true']);
    seen.push(pick(inspect(run, plain).HostConfig, LIMITS));
    ok(run, ['rm', id, plain]);
    got.push(seen);
  }
  assert.deepEqual(got[1], got[0]);
});

const STATE = ['Status', 'Running', 'Paused', 'Restarting', 'OOMKilled', 'Dead', 'ExitCode', 'Error'];

test('the state after a kill: 137, not running, not OOM-killed, FinishedAt after StartedAt', { skip }, () => {
  const got: unknown[] = [];
  for (const [, run] of engines()) {
    const id = ok(run, ['run', '-d', '--network', 'none', IMAGE, 'sleep', '300']);
    ok(run, ['kill', id]);
    assert.equal(ok(run, ['wait', id]), '137');
    const st = inspect(run, id).State;
    assert.ok(Date.parse(st.FinishedAt) >= Date.parse(st.StartedAt), JSON.stringify(st));
    assert.ok(Date.now() - Date.parse(st.FinishedAt) < 60_000, JSON.stringify(st));
    got.push(pick(st, STATE));
    ok(run, ['rm', id]);
  }
  assert.deepEqual(got[1], got[0]);
});

test("the state after the restart policy's restarts: RestartCount, ExitCode, exited", { skip }, async () => {
  const got: unknown[] = [];
  for (const [, run] of engines()) {
    const id = ok(run, ['run', '-d', '--network', 'none', '--restart', 'on-failure:2', IMAGE, 'sh', '-c', 'exit 3']);
    let c: any;
    for (let i = 0; i < 150; i++) {
      c = inspect(run, id);
      if (c.RestartCount === 2 && c.State.Status === 'exited') break;
      await sleep(200);
    }
    got.push({ RestartCount: c.RestartCount, ...pick(c.State, STATE) });
    ok(run, ['rm', '-f', id]);
  }
  assert.deepEqual(got[1], got[0]);
});

test("a non-default Isolation is refused in dockerd's words, leaving no container", { skip }, () => {
  for (const iso of ['hyperv', 'process', 'bogus']) {
    const args = ['create', '--network', 'none', '--isolation', iso, IMAGE, 'true'];
    const before = ok((a) => eng.docker(a), ['ps', '-aq']);
    const want = d.docker(args);
    const got = eng.docker(args);
    assert.notEqual(want.status, 0, show('docker → dockerd', want));
    assert.equal(got.status, want.status, show('docker → berthd', got));
    assert.equal(got.stderr, want.stderr);
    assert.equal(
      ok((a) => eng.docker(a), ['ps', '-aq']),
      before,
    );
  }
  for (const iso of ['default', '']) {
    const got: string[] = [];
    for (const [, run] of engines()) {
      const id = ok(run, ['create', '--network', 'none', '--isolation', iso, IMAGE, 'true']);
      got.push(inspect(run, id).HostConfig.Isolation);
      ok(run, ['rm', id]);
    }
    assert.deepEqual(got[1], got[0], `--isolation '${iso}'`);
  }
});
