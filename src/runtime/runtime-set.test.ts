import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeMessage } from './external.js';
import { FakeRuntime } from './fake.js';
import { RuntimeSet } from './runtime-set.js';

test("a call goes to the container's runtime as the caller names it, or to the one that listed it, or to the default", async () => {
  const berth = new FakeRuntime();
  const other = new FakeRuntime();
  const owners = new Map([['a', 'other']]);
  const set = new RuntimeSet(
    new Map([
      ['berth', berth],
      ['runc', berth],
      ['other', other],
    ]),
    'berth',
    (id) => owners.get(id),
  );
  assert.equal(set.of('a'), other);
  assert.equal(set.of('b'), berth);
  await assert.rejects(() => set.state('a'), /does not exist|no such/i);
  assert.deepEqual(
    other.calls.map((c) => [c.verb, c.id]),
    [['state', 'a']],
  );
  assert.deepEqual(berth.calls, []);
  owners.set('c', 'gone');
  assert.throws(() => set.of('c'), /runtime gone, which berthd's configuration no longer has/);
  assert.throws(() => new RuntimeSet(new Map([['berth', berth]]), 'x', () => undefined), /default runtime x/);
});

test("runtimeMessage: the last error of runc's log, JSON or text, else the output", () => {
  assert.equal(
    runtimeMessage('{"level":"info","msg":"x"}\n{"level":"error","msg":"container does not exist","time":"t"}\n'),
    'container does not exist',
  );
  assert.equal(runtimeMessage('time="t" level=error msg="exec: \\"x\\": not found"\n'), 'exec: "x": not found');
  assert.equal(runtimeMessage('plain words\n'), 'plain words');
  assert.equal(runtimeMessage(''), '');
});
