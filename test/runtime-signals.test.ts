// A container's process starts as under runc, whatever the runtime, the monitor or a hook left
// in the process that becomes it: every signal at its default disposition, none blocked
// (SigIgn and SigBlk of 0 in /proc/PID/status). The monitor ignores SIGHUP and SIGPIPE for
// itself, and running startContainer hooks made the init ignore SIGPIPE; here through
// berth-runtime's run and exec, and under the monitor as berthd runs containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../src/oci/runtime-spec.js';
import { makeBundle, runtime, uniqueId, waitFor } from './helpers/bundle.js';
import { LocalRuntime, type RuntimeLogger } from '../src/runtime/runtime.js';

/**
 * Prints the masks, then shows them at work: `yes` dies of SIGPIPE once `head` has its bytes (it
 * spins for ever where SIGPIPE is ignored), and a child sent SIGHUP dies of it (129) rather than
 * sleeping on to 0.
 */
const PROBE =
  'grep -E "^Sig(Ign|Blk)" /proc/self/status; yes | head -c 1000 >/dev/null; echo piped; sleep 5 & kill -HUP $!; wait $!; echo "hup $?"';
const EXPECTED = 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\npiped\nhup 129\n';
/** A startContainer hook: it runs inside the container, from the init-to-be. */
const withHook = (s: Spec) => {
  s.hooks = { startContainer: [{ path: '/bin/true' }] };
};

test('berth-runtime run and exec: no signal ignored or blocked, SIGPIPE and SIGHUP kill', (t) => {
  const b = makeBundle(['sh', '-c', PROBE], withHook);
  t.after(() => b.cleanup());
  const r = runtime(b, ['run', '--bundle', b.dir, uniqueId('sig')], { timeout: 20_000 });
  assert.equal(r.stdout, EXPECTED, `exit ${r.status}: ${r.stderr}`);
  assert.equal(r.status, 0);

  const d = makeBundle(['sleep', '60'], withHook);
  t.after(() => d.cleanup());
  const id = uniqueId('sigx');
  assert.equal(runtime(d, ['run', '-d', '--bundle', d.dir, id]).status, 0);
  const x = runtime(d, ['exec', id, 'sh', '-c', PROBE], { timeout: 20_000 });
  assert.equal(x.stdout, EXPECTED, `exit ${x.status}: ${x.stderr}`);
  const init = runtime(d, ['exec', id, 'grep', '-E', '^Sig(Ign|Blk)', '/proc/1/status']).stdout;
  assert.equal(init, 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
});

/** The library's warnings fail the test: none is expected here. */
const failOnLog: RuntimeLogger = (level, msg) => {
  if (level === 'warn' || level === 'error') assert.fail(`runtime ${level}: ${msg}`);
};

test('under the monitor (as berthd runs containers): no signal ignored or blocked', async (t) => {
  const b = makeBundle(['sh', '-c', PROBE]);
  t.after(() => b.cleanup());
  const id = uniqueId('sigmon');
  const monitor = { log: join(b.dir, 'log.json'), exitFile: join(b.dir, 'exit.json'), attach: join(b.dir, 'attach.sock'), stdin: true };
  const rt = new LocalRuntime(b.root, failOnLog);
  await rt.create({ id, bundle: b.dir, monitor });
  await rt.start(id);
  try {
    assert.ok(
      waitFor(() => existsSync(monitor.exitFile), 20_000),
      `no exit; log: ${readFileSync(monitor.log, 'utf8')}`,
    );
    // stdout only: the shell reports its job's death on stderr ("Hangup").
    const out = readFileSync(monitor.log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.stream === 'stdout')
      .map((e) => e.log)
      .join('');
    assert.equal(out, EXPECTED);
  } finally {
    await rt.delete(id, { force: true });
  }
});
