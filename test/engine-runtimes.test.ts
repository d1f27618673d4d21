// HostConfig.Runtime side by side: berthd with daemon.json `runtimes` and dockerd 20.10 with
// `--add-runtime`, each naming runc (the peer here, a user's choice of binary) `realrunc`. A
// container run with `--runtime realrunc` is run by that binary (its state is in the binary's
// --root under berthd's exec root, berth-runtime's has none), with logs, exit codes, a terminal,
// exec, pause, kill and update as under berth-runtime; an unknown name is dockerd's 400 on both,
// with no container left; `info` lists the runtimes on both.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { IMAGE, show, sideBySide } from './helpers/side-by-side.js';

const RUNC = '/usr/sbin/runc';
let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p), {
  engine: { daemonConfig: { runtimes: { realrunc: { path: RUNC } } } },
  dockerd: [`--add-runtime=realrunc=${RUNC}`],
  needs: [RUNC],
});

const containers = (run: (a: string[]) => CliResult) => run(['ps', '-aq']).stdout.split('\n').filter(Boolean).length;
/** runc's own view of berthd's containers under it. */
const runcState = () => join(eng.dir, 'run', 'runtimes', 'realrunc', 'state');
const runc = (args: string[]) => spawnSync(RUNC, ['--root', runcState(), ...args], { encoding: 'utf8' });

test('a container run with --runtime realrunc gives the same output and exit code on both', { skip }, () => {
  const args = [
    'run',
    '--rm',
    '--network',
    'none',
    '--runtime',
    'realrunc',
    IMAGE,
    'sh',
    '-c',
    'echo out; echo err >&2; cat /proc/1/cmdline; exit 3',
  ];
  const want = d.docker(args);
  const got = eng.docker(args);
  assert.equal(want.status, 3, show('docker → dockerd', want));
  assert.equal(got.status, 3, show('docker → berthd', got));
  assert.equal(got.stdout, want.stdout);
  assert.equal(got.stderr, want.stderr);
});

test(
  'the named runtime runs it: runc knows the container, berth-runtime does not; exec, logs, pause, update, a berthd restart, kill',
  { skip },
  async () => {
    const id = eng.dockerOk(['run', '-d', '--network', 'none', '--runtime', 'realrunc', IMAGE, 'sh', '-c', 'echo started; exec sleep 300']);
    try {
      const st = runc(['state', id]);
      assert.equal(st.status, 0, st.stderr);
      assert.equal(JSON.parse(st.stdout).status, 'running');
      assert.equal(existsSync(join(eng.dir, 'run', 'runtime', id)), false, "berth-runtime's state has the container");
      assert.equal(eng.dockerOk(['inspect', '-f', '{{.HostConfig.Runtime}}', id]), 'realrunc');
      assert.equal(eng.dockerOk(['exec', id, 'sh', '-c', 'echo in; exit 0']), 'in');
      const rc = eng.docker(['exec', id, 'sh', '-c', 'exit 7']);
      assert.equal(rc.status, 7, show('exec exit 7', rc));
      // A command that is not there: the exit code berthd gives under berth-runtime (127; dockerd
      // 20.10 says 126 for an exec, 127 for a run), with runc's words.
      const own = eng.dockerOk(['run', '-d', '--network', 'none', IMAGE, 'sleep', '300']);
      const want = eng.docker(['exec', own, 'nosuchcmd']);
      eng.dockerOk(['rm', '-f', own]);
      const got = eng.docker(['exec', id, 'nosuchcmd']);
      assert.equal(got.status, want.status, `${show('berth-runtime', want)}\n${show('realrunc', got)}`);
      assert.match(got.stdout, /runtime realrunc: exec: .*"nosuchcmd": executable file not found in \$PATH/);
      // Repeated: the terminal relay once lost a race for runc's pid file (about 1 try in 20).
      for (let i = 0; i < 15; i++) assert.equal(eng.dockerOk(['exec', '-t', id, 'sh', '-c', 'tty']), '/dev/pts/0', `try ${i}`);
      assert.equal(eng.dockerOk(['exec', '-i', id, 'cat'], { input: 'to-stdin\n' }), 'to-stdin');
      assert.equal(eng.dockerOk(['logs', id]), 'started');
      eng.dockerOk(['pause', id]);
      assert.equal(JSON.parse(runc(['state', id]).stdout).status, 'paused');
      eng.dockerOk(['unpause', id]);
      eng.dockerOk(['update', '--memory', '64m', '--memory-swap', '128m', id]);
      assert.equal(eng.dockerOk(['exec', id, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']), String(64 << 20));
      const top = eng.dockerOk(['top', id]);
      assert.match(top, /sleep 300/);
      await eng.restart(); // a berthd that starts again finds it running under its runtime
      assert.equal(eng.dockerOk(['inspect', '-f', '{{.State.Status}}', id]), 'running');
      assert.equal(JSON.parse(runc(['state', id]).stdout).status, 'running');
      eng.dockerOk(['kill', id]);
      assert.equal(eng.dockerOk(['wait', id]), '137');
      assert.equal(eng.dockerOk(['inspect', '-f', '{{.State.ExitCode}} {{.State.Running}} {{.State.OOMKilled}}', id]), '137 false false');
      eng.dockerOk(['start', id]);
      assert.equal(JSON.parse(runc(['state', id]).stdout).status, 'running');
    } finally {
      eng.dockerOk(['rm', '-f', id]);
    }
    assert.notEqual(runc(['state', id]).status, 0, 'runc still has the container after rm');
  },
);

test('a terminal under the named runtime: its pty reaches docker run -t', { skip }, () => {
  const args = ['run', '--rm', '-t', '--network', 'none', '--runtime', 'realrunc', IMAGE, 'sh', '-c', 'tty >/dev/null && echo on-a-tty'];
  const want = d.docker(args);
  const got = eng.docker(args);
  assert.equal(want.status, 0, show('docker → dockerd', want));
  assert.equal(got.status, 0, show('docker → berthd', got));
  assert.equal(got.stdout, want.stdout);
});

test('an unknown runtime is the same 400 on both and leaves no container', { skip }, () => {
  const args = ['run', '--rm', '--network', 'none', '--runtime', 'nosuch', IMAGE, 'true'];
  const before = containers(eng.docker);
  const want = d.docker(args);
  const got = eng.docker(args);
  assert.equal(want.status, 125, show('docker → dockerd', want));
  assert.equal(got.status, want.status, show('docker → berthd', got));
  assert.match(want.stderr, /Unknown runtime specified nosuch/);
  assert.match(got.stderr, /Unknown runtime specified nosuch/);
  assert.equal(containers(eng.docker), before);
});

test('info lists the configured runtime on both', { skip }, () => {
  const f = ['info', '--format', '{{range $k, $v := .Runtimes}}{{$k}}={{$v.Path}} {{end}}|{{.DefaultRuntime}}'];
  assert.match(d.docker(f).stdout, new RegExp(`realrunc=${RUNC} `));
  const got = eng.dockerOk(f);
  assert.match(got, new RegExp(`realrunc=${RUNC} `));
  assert.match(got, /\|berth$/);
});
