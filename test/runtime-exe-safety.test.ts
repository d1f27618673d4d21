// CVE-2019-5736: while berth's helper sits in the container's namespaces, what a container
// process can reach as its /proc/PID/exe is a sealed in-memory copy, never the host binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeBundle, runtime, uniqueId } from './helpers/bundle.js';
import { helperPath } from '../src/runtime/native/helper.js';

test('the helper runs from a sealed memfd copy that cannot be written', (t) => {
  const b = makeBundle(['true']);
  t.after(() => b.cleanup());
  const out = join(b.dir, 'exe.txt');
  const proc1 = join(b.dir, 'rootfs/proc/1/exe');
  b.spec.hooks = {
    createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `readlink ${proc1} > ${out}; (echo x >> ${proc1}) 2>> ${out}; true`] }],
  };
  b.write();
  const before = statSync(helperPath()).mtimeMs;
  const r = runtime(b, ['run', '--bundle', b.dir, uniqueId('exe')]);
  assert.equal(r.status, 0, r.stderr);
  const seen = readFileSync(out, 'utf8');
  assert.match(seen, /^\/memfd:berth-nsexec \(deleted\)\n/);
  assert.match(seen, /Text file busy|Operation not permitted/);
  assert.equal(statSync(helperPath()).mtimeMs, before);
});
