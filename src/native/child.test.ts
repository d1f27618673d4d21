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

test('runChild: output past maxBuffer ends the child and rejects; a child that writes before it reads does not wait forever', async () => {
  await assert.rejects(
    runChild('yes', [], { maxBuffer: 100_000 }),
    (e: NodeJS.ErrnoException) => e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER',
  );
  // 1 MB out before reading 1 MB in: both pipes fill unless the two are served together.
  const big = 'x'.repeat(1 << 20);
  const r = await runChild('sh', ['-c', 'head -c 1048576 /dev/zero; wc -c'], { input: big });
  assert.equal(r.code, 0);
  assert.equal(r.stdout.length, (1 << 20) + String(1 << 20).length + 1);
  assert.ok(r.stdout.endsWith(`${1 << 20}\n`));
});

test('runChild: a name without a slash is found on the PATH of the child', async () => {
  const r = await runChild('sh', ['-c', 'echo ok'], { env: { PATH: '/nonexistent:/bin:/usr/bin' } });
  assert.equal(r.stdout, 'ok\n');
  await assert.rejects(runChild('sh', [], { env: { PATH: '/nonexistent' } }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});
