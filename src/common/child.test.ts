import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChild } from './child.js';

test('runChild: input, output, exit status and signal, whatever the status', async () => {
  const r = await runChild('sh', ['-c', 'cat; echo err >&2; exit 3'], { input: 'hello' });
  assert.deepEqual(r, { code: 3, signal: null, stdout: 'hello', stderr: 'err\n' });
  const k = await runChild('sh', ['-c', 'kill -TERM $$']);
  assert.equal(k.code, null);
  assert.equal(k.signal, 'SIGTERM');
  const env = await runChild('sh', ['-c', 'echo "$X"'], { env: { X: 'only this', PATH: '/usr/bin:/bin' } });
  assert.equal(env.stdout, 'only this\n');
});

test('runChild: a program that cannot start rejects with its errno; many run at once', async () => {
  await assert.rejects(runChild('/no/such/program', []), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  const all = await Promise.all(Array.from({ length: 20 }, (_, i) => runChild('echo', [String(i)])));
  assert.deepEqual(
    all.map((r) => r.stdout),
    Array.from({ length: 20 }, (_, i) => `${i}\n`),
  );
});
