import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../errors.js';
import { FakeRuntime } from './fake.js';

const kind = (k: string) => (e: unknown) => e instanceof BerthError && e.kind === k;

function bundle(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fake-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ ociVersion: '1.2.0', process: { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } } }),
  );
  return dir;
}

test("the fake keeps the runtime's statuses and refusals, and records each call", async (t) => {
  const rt = new FakeRuntime();
  const b = bundle(t);
  const exitFile = join(b, 'exit.json');
  const { pid } = await rt.create({ id: 'c1', bundle: b, monitor: { log: join(b, 'log'), exitFile, attach: join(b, 'a.sock') } });
  assert.ok(pid > 0);
  await assert.rejects(() => rt.create({ id: 'c1', bundle: b }), kind('conflict'));
  assert.equal((await rt.state('c1')).status, 'created');
  await rt.start('c1');
  await assert.rejects(() => rt.start('c1'), kind('conflict'));
  await rt.pause('c1');
  assert.equal((await rt.state('c1')).status, 'paused');
  await assert.rejects(() => rt.delete('c1'), kind('conflict'));
  await rt.resume('c1');
  await rt.kill('c1', 'SIGTERM');
  await rt.idle();
  assert.equal((await rt.state('c1')).status, 'stopped');
  assert.deepEqual(JSON.parse(readFileSync(exitFile, 'utf8')).exitCode, 143);
  await rt.delete('c1');
  await assert.rejects(() => rt.state('c1'), kind('not-found'));
  await rt.delete('c1', { force: true });
  assert.deepEqual(rt.log(), [
    'create c1',
    'create c1',
    'state c1',
    'start c1',
    'start c1',
    'pause c1',
    'state c1',
    'delete c1',
    'resume c1',
    'kill c1',
    'state c1',
    'delete c1',
    'state c1',
    'delete c1',
  ]);
});

test('a queued failure rejects the next call of its verb only; an ignored signal leaves the process running', async (t) => {
  const rt = new FakeRuntime();
  const b = bundle(t);
  rt.failNext('start', new Error('exec format error'));
  await rt.create({ id: 'c2', bundle: b });
  await assert.rejects(() => rt.start('c2'), /exec format error/);
  await rt.start('c2');
  rt.ignored.add(15);
  await rt.kill('c2', 15);
  await rt.idle();
  assert.equal((await rt.state('c2')).status, 'running');
  await rt.delete('c2', { force: true });
  assert.equal(existsSync(join(b, 'exit.json')), false, 'no monitor: no exit file');
});
