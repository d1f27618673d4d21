// The adoption test: berthd is killed with SIGKILL while 20 containers run, each
// writing numbered lines to stdout; a new berthd finds all 20 running (same PIDs, listed by
// docker ps), their monitors having kept every line written while no daemon was there; once
// told to end they exit with distinct codes, which wait and inspect report, and their logs
// hold every line in order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { DOCKER, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let dockerode: Docker;
const N = 20;

function docker(...args: string[]) {
  return eng.docker(args);
}

before(async () => {
  eng = await startEngine();
  dockerode = new Docker({ socketPath: eng.socket });
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
});
after(async () => {
  await eng?.stop();
});

test(
  '20 containers survive a berthd SIGKILL: adopted running, logs complete and in order, exit codes right',
  { skip: !existsSync(DOCKER) && 'no docker CLI' },
  async () => {
    const sig = join(eng.dir, 'sig');
    mkdirSync(sig);
    // Each writes a numbered line every 50 ms until /sig/go appears, then ten more and an end line.
    const script = (n: number) =>
      `i=0; while [ ! -e /sig/go ]; do i=$((i+1)); echo "c${n} $i"; sleep 0.05; done; ` +
      `for j in 1 2 3 4 5 6 7 8 9 10; do i=$((i+1)); echo "c${n} $i"; done; echo "c${n} end"; exit ${10 + n}`;
    const cs = await Promise.all(
      Array.from({ length: N }, (_, n) =>
        dockerode.createContainer({
          Image: 'busybox',
          name: `adopt${n}`,
          Cmd: ['sh', '-c', script(n)],
          HostConfig: { Binds: [`${sig}:/sig:ro`] },
        }),
      ),
    );
    for (let i = 0; i < N; i += 5) await Promise.all(cs.slice(i, i + 5).map((c) => c.start()));
    const pids = new Map<string, number>();
    for (const c of cs) pids.set(c.id, (await c.inspect()).State.Pid);
    await until(async () =>
      (await Promise.all(cs.map(async (c) => (await eng.api('GET', `/containers/${c.id}/logs?stdout=1&tail=1`)).body.length > 0))).every(
        Boolean,
      ),
    );

    let down = 0,
      up = 0;
    await eng.restart('SIGKILL', async () => {
      down = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
      up = Date.now();
    });

    // All 20 still running, under the same processes, listed by docker ps.
    const ps = docker('ps', '--format', '{{.ID}} {{.Names}} {{.Status}}');
    assert.equal(ps.status, 0, ps.stderr);
    const rows = ps.stdout.trim().split('\n');
    assert.equal(rows.length, N, ps.stdout);
    for (const r of rows) assert.match(r, /^[0-9a-f]{12} adopt\d+ Up /);
    for (const c of cs) {
      const st = (await c.inspect()).State;
      assert.equal(st.Status, 'running');
      assert.equal(st.Pid, pids.get(c.id));
    }

    writeFileSync(join(sig, 'go'), '');
    const codes = await Promise.all(cs.map((c) => c.wait()));
    assert.deepEqual(
      codes.map((w) => w.StatusCode),
      Array.from({ length: N }, (_, n) => 10 + n),
    );
    for (const [n, c] of cs.entries()) {
      assert.equal((await c.inspect()).State.ExitCode, 10 + n);
      assert.equal(docker('wait', `adopt${n}`).stdout.trim(), String(10 + n));
      const logs = docker('logs', '-t', `adopt${n}`);
      assert.equal(logs.status, 0, logs.stderr);
      const lines = logs.stdout
        .trim()
        .split('\n')
        .map((l) => {
          const sp = l.indexOf(' ');
          return { t: Date.parse(l.slice(0, sp)), text: l.slice(sp + 1) };
        });
      const last = lines.pop()!;
      assert.equal(last.text, `c${n} end`);
      assert.deepEqual(
        lines.map((l) => l.text),
        lines.map((_, k) => `c${n} ${k + 1}`),
        `adopt${n}: every line, in order`,
      );
      // The monitor kept writing while no berthd was there.
      assert.ok(
        lines.some((l) => l.t > down && l.t < up),
        `adopt${n}: lines written while berthd was down`,
      );
    }
    assert.equal(docker('rm', ...cs.map((_, n) => `adopt${n}`)).status, 0);
  },
);
