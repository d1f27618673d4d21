// Unit tests: restart policy checks and dockerd's restart decisions and delays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartManager, checkRestartPolicy } from './restart.js';

test('policies are checked as dockerd checks them', () => {
  assert.deepEqual(checkRestartPolicy(undefined, false), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(checkRestartPolicy({ Name: '' }, false), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(checkRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 3 }, false), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.throws(() => checkRestartPolicy({ Name: 'sometimes' as 'always' }, false), /unknown policy 'sometimes'/);
  assert.throws(() => checkRestartPolicy({ Name: 'always', MaximumRetryCount: 2 }, false), /can only be used with 'on-failure'/);
  assert.throws(() => checkRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 }, false), /cannot be negative/);
  assert.throws(() => checkRestartPolicy({ Name: 'always' }, true), /can't create 'AutoRemove' container with restart policy/);
  assert.doesNotThrow(() => checkRestartPolicy({ Name: 'no' }, true));
});

test('the delay starts at 100 ms, doubles, caps at a minute and resets after a 10 s run', () => {
  const m = new RestartManager();
  const always = { Name: 'always' as const };
  assert.deepEqual(
    [1, 2, 3, 4].map(() => m.next(always, 0, false, 50)),
    [100, 200, 400, 800],
  );
  for (let i = 0; i < 20; i++) m.next(always, 0, false, 50);
  assert.equal(m.next(always, 0, false, 50), 60_000);
  assert.equal(m.next(always, 0, false, 10_000), 100);
  assert.equal(m.restartCount, 26);
});

test('which exits restart under each policy', () => {
  assert.equal(new RestartManager().next({ Name: 'no' }, 1, false, 0), undefined);
  assert.equal(new RestartManager().next({ Name: 'always' }, 0, true, 0), 100);
  assert.equal(new RestartManager().next({ Name: 'unless-stopped' }, 0, false, 0), 100);
  assert.equal(new RestartManager().next({ Name: 'unless-stopped' }, 1, true, 0), undefined);
  assert.equal(new RestartManager().next({ Name: 'on-failure' }, 0, false, 0), undefined);
  const m = new RestartManager();
  const twice = { Name: 'on-failure' as const, MaximumRetryCount: 2 };
  assert.deepEqual(
    [1, 1, 1].map(() => m.next(twice, 1, false, 0)),
    [100, 200, undefined],
  );
  const c = new RestartManager();
  c.canceled = true;
  assert.equal(c.next({ Name: 'always' }, 1, false, 0), undefined);
});
