// Containers outlive berthd: stopped (SIGTERM) or killed (SIGKILL), a new berthd on the same
// roots finds them running, with their logs, and learns their exit codes when they end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
});
after(async () => {
  await eng?.stop();
});

const inspect = async (id: string) => JSON.parse((await eng.api('GET', `/containers/${id}/json`)).body);

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`a container keeps running across a berthd ${signal} and is adopted`, async () => {
    const create = await eng.api('POST', '/containers/create', {
      Image: 'busybox',
      Cmd: ['sh', '-c', 'echo before; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo after; exit 5'],
    });
    const { Id } = JSON.parse(create.body);
    assert.equal((await eng.api('POST', `/containers/${Id}/start`)).status, 204);
    const pid = (await inspect(Id)).State.Pid;
    await until(async () => (await eng.api('GET', `/containers/${Id}/logs?stdout=1`)).body.includes('before'));

    await eng.restart(signal);
    const c = await inspect(Id);
    assert.equal(c.State.Status, 'running');
    assert.equal(c.State.Pid, pid);
    process.kill(pid, 0); // still there

    // Let it finish: the new berthd learns the exit code from the monitor's exit file.
    const { execFileSync } = await import('node:child_process');
    execFileSync('nsenter', ['-t', String(pid), '-m', 'touch', '/tmp/go']);
    const waited = JSON.parse((await eng.api('POST', `/containers/${Id}/wait`)).body);
    assert.equal(waited.StatusCode, 5);
    const logs = (await eng.api('GET', `/containers/${Id}/logs?stdout=1`)).body;
    assert.match(logs, /before\n[\s\S]*after\n/);
    assert.equal((await eng.api('DELETE', `/containers/${Id}`)).status, 204);
  });
}
