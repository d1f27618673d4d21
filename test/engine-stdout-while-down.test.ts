// A container writing to stdout never blocks while berthd is down (containerd#9342): berthd is
// killed (SIGKILL), two containers then write 20 MB each to stdout and exit; they finish while no
// berthd runs, and a new berthd adopts them with their exit codes and their logs — all of it
// without rotation, the newest max-file files of at most max-size with rotation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
});
after(async () => {
  await eng?.stop();
});

const LINES = 200_000;
const PAD = 'x'.repeat(91);
/** Line i (from 1) as the container prints it: 101 bytes with the newline, 20.2 MB in all. */
const line = (i: number) => `${String(i).padStart(8, '0')} ${PAD}\n`;
const inspect = async (id: string) => JSON.parse((await eng.api('GET', `/containers/${id}/json`)).body);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const entries = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { log: string; stream: string });

test('containers write 20 MB to stdout while berthd is down, finish, and are adopted with their logs', async () => {
  const script = `while [ ! -e /tmp/go ]; do sleep 0.05; done; awk 'BEGIN { for (i = 1; i <= ${LINES}; i++) printf "%08d %s\\n", i, "${PAD}" }'; echo done; exit 7`;
  const ids: string[] = [];
  for (const LogConfig of [undefined, { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '3' } }]) {
    const r = await eng.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', script], HostConfig: { LogConfig } });
    assert.equal(r.status, 201, r.body);
    ids.push(JSON.parse(r.body).Id);
  }
  try {
    for (const id of ids) assert.equal((await eng.api('POST', `/containers/${id}/start`)).status, 204);
    const pids: number[] = [];
    for (const id of ids) pids.push((await inspect(id)).State.Pid);

    await eng.restart('SIGKILL', async () => {
      // No berthd: the containers start writing, and must run to their end.
      for (const pid of pids) execFileSync('nsenter', ['-t', String(pid), '-m', 'touch', '/tmp/go']);
      await until(() => !pids.some(alive), 120_000);
    });

    for (const id of ids) {
      const waited = JSON.parse((await eng.api('POST', `/containers/${id}/wait`)).body);
      assert.equal(waited.StatusCode, 7);
    }
    // Without rotation: every line, in order, on stdout.
    const [plain, rotated] = await Promise.all(ids.map(inspect));
    const all = entries(plain.LogPath);
    assert.equal(all.length, LINES + 1);
    for (let i = 1; i <= LINES; i++) if (all[i - 1].log !== line(i)) assert.fail(`entry ${i}: ${JSON.stringify(all[i - 1])}`);
    assert.equal(all[LINES].log, 'done\n');
    assert.ok(all.every((e) => e.stream === 'stdout'));

    // With max-size=1m, max-file=3: three files of at most 1 MiB, holding the newest lines, unbroken.
    const files = [`${rotated.LogPath}.2`, `${rotated.LogPath}.1`, rotated.LogPath];
    for (const f of files) assert.ok(statSync(f).size <= 1024 * 1024, `${f}: ${statSync(f).size} bytes`);
    assert.ok(!existsSync(`${rotated.LogPath}.3`));
    const kept = files.flatMap(entries);
    assert.equal(kept.at(-1)!.log, 'done\n');
    const first = Number(kept[0].log.slice(0, 8));
    assert.ok(first > 1 && kept.length > 10_000, `kept ${kept.length} entries from line ${first}`);
    kept.slice(0, -1).forEach((e, k) => {
      if (e.log !== line(first + k)) assert.fail(`kept entry ${k}: ${JSON.stringify(e)}`);
    });
    assert.equal(first + kept.length - 2, LINES);
    // And the new berthd serves them.
    const tail = (await eng.api('GET', `/containers/${ids[1]}/logs?stdout=1&tail=2`)).body;
    assert.match(tail, new RegExp(`${String(LINES).padStart(8, '0')} x+\\n[\\s\\S]*done\\n`));
  } finally {
    for (const id of ids) await eng.api('DELETE', `/containers/${id}?force=1`);
  }
});
