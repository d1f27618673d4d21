// A container under berthd, through the docker CLI: its process starts with the signals as runc
// leaves them (none ignored, none blocked, though berthd is Node.js and the monitor ignores
// SIGHUP and SIGPIPE), in `run` and in `exec`; a `yes | head` ends and a SIGHUP kills; a large
// write under --log-opt max-size ends; and a stdin nobody reads never stops its log, while the
// input waits in the sender (backpressure through berthd to the docker CLI).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startEngine, until, DOCKER, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
  eng.dockerOk(['pull', 'busybox']);
});
after(async () => {
  await eng?.stop();
});

/** The masks, then `yes` killed by SIGPIPE once head has its bytes, and a child killed by SIGHUP (129). */
const PROBE =
  'grep -E "^Sig(Ign|Blk)" /proc/self/status; yes | head -c 1000 >/dev/null; echo piped; sleep 5 & kill -HUP $!; wait $!; echo "hup $?"';
const EXPECTED = 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\npiped\nhup 129';

test('run and exec: no signal ignored or blocked; SIGPIPE ends a pipeline and SIGHUP kills', () => {
  assert.equal(eng.dockerOk(['run', '--rm', 'busybox', 'sh', '-c', PROBE]), EXPECTED);
  eng.dockerOk(['run', '-d', '--name', 'sig', 'busybox', 'sleep', '60']);
  try {
    assert.equal(eng.dockerOk(['exec', 'sig', 'sh', '-c', PROBE]), EXPECTED);
    assert.equal(
      eng.dockerOk(['exec', 'sig', 'grep', '-E', '^Sig(Ign|Blk)', '/proc/1/status']),
      'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000',
    );
  } finally {
    eng.docker(['rm', '-f', 'sig']);
  }
});

test('a container writing 20 MB to its log through a pipe under --log-opt max-size=1m exits', () => {
  const line = 'x'.repeat(99);
  eng.dockerOk(['run', '-d', '--log-opt', 'max-size=1m', '--name', 'big', 'busybox', 'sh', '-c', `yes ${line} | head -c 20000000`]);
  try {
    const r = eng.docker(['wait', 'big']);
    assert.equal(r.stdout.trim(), '0', r.stderr);
    assert.equal(eng.dockerOk(['logs', '--tail', '1', 'big']), line);
  } finally {
    eng.docker(['rm', '-f', 'big']);
  }
});

test('10 MB sent to a container that never reads its stdin: docker logs shows lines written after, and the sender is held back', async (t) => {
  eng.dockerOk([
    'run',
    '-d',
    '-i',
    '--name',
    'deaf',
    'busybox',
    'sh',
    '-c',
    'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.05; done',
  ]);
  const attach = spawn(DOCKER, ['attach', 'deaf'], {
    env: { ...process.env, DOCKER_HOST: eng.host, DOCKER_CONFIG: `${eng.dir}/docker-config` },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const gone = new Promise((r) => attach.on('exit', r));
  t.after(async () => {
    if (attach.exitCode === null && attach.signalCode === null) process.kill(attach.pid!, 'SIGKILL');
    await gone;
    eng.docker(['rm', '-f', 'deaf']);
  });
  attach.stdin.on('error', () => {}); // killed at the end with input still unsent
  const last = () => Number(/line (\d+)\n$/.exec(eng.docker(['logs', 'deaf']).stdout)?.[1] ?? -1);
  await until(() => last() >= 0);
  attach.stdin.write(Buffer.alloc(10 << 20, 'x'));
  await new Promise((r) => setTimeout(r, 1500));
  const atSend = last();
  await until(() => last() >= atSend + 10, 5000);
  // The monitor buffers 64 kB and berthd follows its pace: most of it is still with the sender.
  assert.ok(attach.stdin.writableLength > 8 << 20, `only ${attach.stdin.writableLength} bytes left unsent`);
  assert.equal(eng.dockerOk(['inspect', '-f', '{{.State.Running}}', 'deaf']), 'true');
});
