import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { confirm } from './prompt.js';

async function ask(answer: string | null): Promise<{ yes: boolean; shown: string }> {
  const input = new PassThrough(),
    output = new PassThrough();
  let shown = '';
  output.on('data', (d) => {
    shown += d;
  });
  const p = confirm('Sure?', input, output);
  if (answer === null) input.end();
  else input.write(answer);
  return { yes: await p, shown };
}

test('only y or Y (spaces around allowed) is yes; the question ends in [y/N]', async () => {
  assert.deepEqual(await ask('y\n'), { yes: true, shown: 'Sure? [y/N] ' });
  assert.equal((await ask('Y\n')).yes, true);
  assert.equal((await ask('  y \n')).yes, true);
  for (const no of ['n\n', 'yes\n', '\n', 'N\n', 'x y\n']) assert.equal((await ask(no)).yes, false, JSON.stringify(no));
});

test('the end of stdin, with or without a partial line, is no unless that line is y', async () => {
  assert.equal((await ask(null)).yes, false);
  const input = new PassThrough();
  const p = confirm('Sure?', input, new PassThrough());
  input.end('y');
  assert.equal(await p, true);
  const input2 = new PassThrough();
  const p2 = confirm('Sure?', input2, new PassThrough());
  input2.end('n');
  assert.equal(await p2, false);
});
