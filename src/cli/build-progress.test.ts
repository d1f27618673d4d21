// Unit tests of what `berth build` shows of a build stream: plain text as the docker CLI prints
// it, and on a terminal one line per step with its time or CACHED, output above it, the ID and a
// failed step's exit code returned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { Response } from '../api/client.js';
import { showBuild } from './build-progress.js';

const stream = (msgs: unknown[]) => Readable.from([msgs.map((m) => JSON.stringify(m) + '\r\n').join('')]) as unknown as Response;
const ID = 'sha256:' + 'ab'.repeat(32);
const OK = [
  { stream: 'Step 1/3 : FROM busybox' },
  { stream: '\n' },
  { stream: ' ---> 0123456789ab\n' },
  { stream: 'Step 2/3 : RUN echo hi' },
  { stream: '\n' },
  { stream: ' ---> Running in 111111111111\n' },
  { stream: 'hi\n' },
  { stream: 'Removing intermediate container 111111111111\n' },
  { stream: ' ---> 222222222222\n' },
  { stream: 'Step 3/3 : COPY a /a' },
  { stream: '\n' },
  { stream: ' ---> Using cache\n' },
  { stream: ' ---> 333333333333\n' },
  { aux: { ID } },
  { stream: 'Successfully built abababababab\n' },
  { stream: 'Successfully tagged x:latest\n' },
];

function sink(isTTY: boolean) {
  let text = '';
  return { out: { isTTY, columns: 60, write: (s: string) => (text += s) }, text: () => text };
}

test('plain: the stream as docker prints it, and the ID', async () => {
  const s = sink(false);
  const r = await showBuild(stream(OK), s.out, false);
  assert.deepEqual(r, { id: ID });
  assert.equal(
    s.text(),
    'Step 1/3 : FROM busybox\n ---> 0123456789ab\nStep 2/3 : RUN echo hi\n ---> Running in 111111111111\nhi\n' +
      'Removing intermediate container 111111111111\n ---> 222222222222\nStep 3/3 : COPY a /a\n ---> Using cache\n ---> 333333333333\n' +
      'Successfully built abababababab\nSuccessfully tagged x:latest\n',
  );
});

test('terminal: one line per step with its time or CACHED, output above', async () => {
  const s = sink(true);
  await showBuild(stream(OK), s.out, true);
  // The final state of each line: what is left after the last carriage return of each line.
  const lines = s
    .text()
    .split('\n')
    .map((l) =>
      l
        .split('\r')
        .pop()!
        .replace(/\x1b\[K/g, ''),
    )
    .filter(Boolean);
  assert.match(lines[0], /^\[1\/3\] FROM busybox +\d+\.\ds$/);
  assert.equal(lines[1], '  hi');
  assert.match(lines[2], /^\[2\/3\] RUN echo hi +\d+\.\ds$/);
  assert.match(lines[3], /^\[3\/3\] COPY a \/a +CACHED$/);
  assert.deepEqual(lines.slice(4), ['Successfully built abababababab', 'Successfully tagged x:latest']);
  assert.equal(lines[0].length, 59);
});

test('a failure: its message and the RUN step exit code', async () => {
  const s = sink(true);
  const r = await showBuild(
    stream([
      { stream: 'Step 1/1 : RUN exit 3' },
      { stream: '\n' },
      { errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: 'x' },
    ]),
    s.out,
    true,
  );
  assert.deepEqual(r, { error: { message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3", code: 3 } });
  assert.match(s.text(), /\[1\/1\] RUN exit 3 +ERROR\n$/);
  const q = await showBuild(stream([{ stream: `${ID}\n` }]), sink(false).out, false);
  assert.deepEqual(q, { id: ID });
});
