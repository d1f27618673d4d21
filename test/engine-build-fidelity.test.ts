// POST /build side by side: the docker 28 CLI's classic builder against dockerd 20.10 and berthd
// (and `berth build` against berthd) on the same contexts, each case asserting the two engines
// agree: the RUN steps' resource limits seen from inside the step (/dev/shm, the cgroup's
// memory, CPU and cpuset files, ulimit -n) and the refusals of bad ones; `--network
// container:<name>`; the step lines dockerd writes (ARGs before FROM, a --target's count, a LABEL
// step per --label, ONBUILD triggers under FROM's step); SHELL kept in the image config and used
// by a build FROM it; the words of COPY, EXPOSE and ADD failures; an empty continuation line's
// warning, a --build-arg with no value that an ARG declares, and ENTRYPOINT [].

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { berthCli, show, sideBySide } from './helpers/side-by-side.js';

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));

let work: string | undefined;
let n = 0;
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});
/** A fresh context directory with these files. */
function context(files: Record<string, string>): string {
  work ??= mkdtempSync(join(tmpdir(), 'berth-test-build-fidelity-'));
  const dir = join(work, `c${n++}`);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

/** The same `docker build` (classic builder, no cache) on both engines. */
function both(args: string[]): { dockerd: CliResult; berthd: CliResult } {
  const a = ['build', '--no-cache', ...args];
  // dockerd's CLI has no buildx either: it takes the classic builder with DOCKER_BUILDKIT unset.
  return { dockerd: d.docker(a), berthd: eng.docker(a, { env: { DOCKER_BUILDKIT: '0' } }) };
}

/** A build's output as both engines can agree on it: no IDs, no intermediate-container lines, no colour. */
const normal = (s: string) =>
  s
    .replace(/^Sending build context to .*[\r\n]+/m, '')
    .replace(/^ ---> Running in [0-9a-f]{12}\n/gm, '')
    .replace(/^Removing intermediate container [0-9a-f]{12}\n/gm, '')
    .replace(/\x1b\[\d+m/g, '')
    .replace(/[0-9a-f]{12}/g, 'ID');

/** The last line of stderr: the build's error, past the CLI's deprecation notice. */
const lastError = (r: CliResult) => r.stderr.trim().split('\n').pop();

function agree(r: { dockerd: CliResult; berthd: CliResult }): string {
  assert.equal(r.berthd.status, r.dockerd.status, `${show('dockerd', r.dockerd)}\n${show('berthd', r.berthd)}`);
  assert.equal(normal(r.berthd.stdout), normal(r.dockerd.stdout), `${show('dockerd', r.dockerd)}\n${show('berthd', r.berthd)}`);
  return normal(r.berthd.stdout);
}

test("the RUN steps' resource limits are applied as dockerd applies them; bad ones refused in its words", { skip }, () => {
  // Each file as the step's own cgroup shows it (v1 names, or v2's where the machine has v2).
  const probe = [
    'df -k /dev/shm | tail -1',
    'ulimit -n',
    'for f in memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes cpu/cpu.shares cpu/cpu.cfs_period_us cpu/cpu.cfs_quota_us cpuset/cpuset.cpus cpuset/cpuset.mems memory.max memory.swap.max cpu.weight cpu.max cpuset.cpus cpuset.mems; do [ -f /sys/fs/cgroup/$f ] && echo "$f=$(cat /sys/fs/cgroup/$f)"; done; true',
  ].join('; ');
  const dir = context({ Dockerfile: `FROM busybox\nRUN ${probe}\n` });
  const limits = ['-m', '64m', '--memory-swap', '128m', '--shm-size', '100m', '--cpu-shares', '512', '--cpu-period', '50000'];
  limits.push('--cpu-quota', '25000', '--cpuset-cpus', '0', '--cpuset-mems', '0', '--ulimit', 'nofile=100:200');
  const out = agree(both([...limits, dir]));
  assert.match(out, /^shm +102400 /m, out);
  assert.match(out, /^100$/m, out);
  assert.match(out, /^(memory\/memory\.limit_in_bytes|memory\.max)=67108864$/m, out);
  // `berth build`'s flags carry the same limits.
  const b = berthCli(eng, ['build', '--no-cache', '--progress', 'plain', ...limits, dir]);
  assert.equal(b.status, 0, show('berth build', b));
  assert.equal(normal(b.stdout), out);

  // Refused at the step's create, in dockerd's words, by both.
  for (const bad of [
    ['-m', '1m'],
    ['-m', '64m', '--memory-swap', '32m'],
    ['--ulimit', 'bogus=1'],
    ['--cpuset-cpus', '99'],
  ]) {
    const r = both([...bad, context({ Dockerfile: 'FROM busybox\nRUN true\n' })]);
    assert.notEqual(r.berthd.status, 0, show('berthd', r.berthd));
    agree(r);
    assert.equal(lastError(r.berthd), lastError(r.dockerd), bad.join(' '));
  }
});

test('--network container:<name> is the RUN steps\' network mode: a missing container is dockerd\'s "No such container"', { skip }, () => {
  const r = both(['--network', 'container:nosuch', context({ Dockerfile: 'FROM busybox\nRUN true\n' })]);
  agree(r);
  assert.equal(lastError(r.berthd), 'No such container: nosuch');
  assert.equal(lastError(r.dockerd), lastError(r.berthd));
  // A running container's network namespace is the step's: its hostname's interfaces, no new one.
  eng.dockerOk(['run', '-d', '--name', 'netowner', '--network', 'none', 'busybox', 'sleep', '60']);
  try {
    const b = berthCli(eng, [
      'build',
      '--progress',
      'plain',
      '--network',
      'container:netowner',
      context({ Dockerfile: 'FROM busybox\nRUN ip -o link | cut -d: -f2\n' }),
    ]);
    assert.equal(b.status, 0, show('berth build', b));
    assert.match(b.stdout, /^ lo$/m);
    assert.doesNotMatch(b.stdout, /eth0/);
  } finally {
    eng.dockerOk(['rm', '-f', 'netowner']);
  }
});

test("step lines as dockerd's: ARGs before FROM, a --target's count, a LABEL step per --label, ONBUILD under FROM", { skip }, () => {
  agree(both(['--build-arg', 'A=1', context({ Dockerfile: 'ARG B=pre\nARG A\nFROM busybox\nARG A\nARG B\nRUN echo "A=$A B=$B"\n' })]));
  const target = agree(
    both([
      '--target',
      'one',
      '--label',
      'z=last',
      '--label',
      'a=first',
      '-t',
      'fid-target',
      context({ Dockerfile: 'FROM busybox AS one\nRUN echo one\nFROM busybox\nRUN echo two\n' }),
    ]),
  );
  assert.match(target, /^Step 3\/4 : LABEL a=first\n(.*\n)*Step 4\/4 : LABEL z=last$/m);
  const labels = (r: CliResult) => r.stdout.trim();
  assert.equal(
    labels(eng.docker(['inspect', '-f', '{{json .Config.Labels}}', 'fid-target'])),
    labels(d.docker(['inspect', '-f', '{{json .Config.Labels}}', 'fid-target'])),
  );
  agree(both(['-t', 'fid-onbuild', context({ Dockerfile: 'FROM busybox\nONBUILD RUN echo triggered\n' })]));
  agree(both([context({ Dockerfile: 'FROM fid-onbuild\nRUN echo after\n' })]));
});

test('SHELL is kept in the image config, and a build FROM that image runs its shell form with it', { skip }, () => {
  agree(both(['-t', 'fid-shell', context({ Dockerfile: 'FROM busybox\nSHELL ["/bin/sh", "-ec"]\nRUN true\n' })]));
  const shell = (r: CliResult) => r.stdout.trim();
  assert.equal(shell(eng.docker(['inspect', '-f', '{{json .Config.Shell}}', 'fid-shell'])), '["/bin/sh","-ec"]');
  assert.equal(shell(d.docker(['inspect', '-f', '{{json .Config.Shell}}', 'fid-shell'])), '["/bin/sh","-ec"]');
  // -e: the first failing command ends the step, where /bin/sh -c would go on to exit 0.
  const r = both([context({ Dockerfile: 'FROM fid-shell\nRUN false; echo went-on\n' })]);
  assert.equal(r.berthd.status, 1, show('berthd', r.berthd));
  agree(r);
  assert.equal(lastError(r.berthd), lastError(r.dockerd));
});

test("COPY, EXPOSE and ADD failures in dockerd's words", { skip }, async () => {
  const server: ChildProcess = spawn(process.execPath, [
    '-e',
    "require('http').createServer((q, r) => { r.statusCode = 404; r.end('gone'); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); })",
  ]);
  try {
    const port = await new Promise<string>((res) => server.stdout!.once('data', (b) => res(String(b).trim())));
    for (const [df, want] of [
      ['FROM busybox\nCOPY nomatch* /n/\n', 'COPY failed: no source files were specified'],
      ['FROM busybox\nEXPOSE 80/xyz\n', 'Invalid proto: xyz'],
      [
        `FROM busybox\nADD http://127.0.0.1:${port}/nope /u/\n`,
        `ADD failed: failed to GET http://127.0.0.1:${port}/nope with status 404 Not Found: gone`,
      ],
    ]) {
      const r = both([context({ Dockerfile: df, 'a.txt': '' })]);
      agree(r);
      assert.equal(lastError(r.dockerd), want);
      assert.equal(lastError(r.berthd), want);
    }
  } finally {
    server.kill();
  }
});

test("an empty continuation line's warning, a declared --build-arg with no value, ENTRYPOINT [] (null)", { skip }, () => {
  const warned = agree(both([context({ Dockerfile: 'FROM busybox\nRUN echo a \\\n\n  && echo b\n' })]));
  assert.match(warned, /^\[WARNING\]: Empty continuation line found in:\n {4}RUN echo a {3}&& echo b\n/m);
  // The CLI sends a --build-arg whose variable is unset as null: declared by an ARG, it is consumed.
  const r = both(['--build-arg', 'FID_UNSET', context({ Dockerfile: 'FROM busybox\nARG FID_UNSET\nRUN echo "[$FID_UNSET]"\n' })]);
  assert.doesNotMatch(agree(r), /not consumed/);
  agree(both(['-t', 'fid-ep', context({ Dockerfile: 'FROM busybox\nCMD ["x"]\nENTRYPOINT []\n' })]));
  const ep = (c: CliResult) => c.stdout.trim();
  const args = ['inspect', '-f', '{{json .Config.Entrypoint}} {{json .Config.Cmd}}', 'fid-ep'];
  assert.equal(ep(eng.docker(args)), 'null ["x"]');
  assert.equal(ep(d.docker(args)), 'null ["x"]');
});
