// The escape suite (issue 16): each case is a real attempt, from inside a busybox container run
// by berth (berthd through the docker CLI), to change or read something of the host's; each is
// asserted blocked, inside (the attempt's own error) and, where the host can see it, outside
// (hostname, clock, core_pattern, release_agent, a host folder, a host process, the runtime
// binaries). The same case runs under a peer dockerd 20.10 (runc through containerd, Docker's
// defaults) and under runc alone (`runc run` on a bundle of berth-runtime's default spec: no seccomp filter, runc's
// three capabilities), and their results are asserted as recorded in the README's table.
// Not here: a layer or archive writing outside its directory — src/image/unpack.test.ts
// (`..`, nested `..`, writes and hard links through symlinks, whiteouts of `..`) and
// engine/build-context tests cover it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEngine, type CliResult, type EngineFixture } from '../engine-fixture.js';
import { makeBundle, makeRootfs, uniqueId } from '../helpers/bundle.js';
import { missing, startDockerd, type Dockerd } from '../helpers/dockerd.js';
import type { Spec } from '../../src/oci/runtime-spec.js';

type Verdict = 'blocked' | 'not blocked' | 'n/a';
type EngineName = 'berth' | 'runc' | 'dockerd';

/** Limits a case asks for, as `docker run` flags and as the OCI spec's resources. */
interface Limits {
  pids?: number;
  memory?: number;
}

interface Runner {
  name: EngineName;
  skip: string | false;
  /** Runs `script` with busybox sh in a new container, to its end. */
  run(script: string, limits?: Limits): CliResult;
  /** The engine's docker CLI and its busybox image, for cases of engine verbs (exec, cp). */
  docker?: (args: string[]) => CliResult;
  image?: string;
}

let eng: EngineFixture;
let peer: Dockerd | undefined;
const noDockerd = missing('dockerd');
const noRunc = missing('runc');
const PEER_IMAGE = 'escape-busybox';

before(async () => {
  eng = await startEngine();
  eng.dockerOk(['pull', 'busybox']);
  if (!noDockerd) {
    peer = await startDockerd();
    const dir = mkdtempSync(join(tmpdir(), 'berth-test-escape-img-'));
    try {
      makeRootfs(join(dir, 'rootfs'));
      assert.equal(spawnSync('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'rootfs.tar'), '.']).status, 0);
      const r = peer.docker(['import', join(dir, 'rootfs.tar'), PEER_IMAGE]);
      assert.equal(r.status, 0, r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
after(async () => {
  await peer?.stop();
  await eng?.stop();
});

const limitFlags = (l: Limits = {}) => [...(l.pids ? ['--pids-limit', String(l.pids)] : []), ...(l.memory ? ['-m', String(l.memory)] : [])];

const RUNNERS: Runner[] = [
  {
    name: 'berth',
    skip: false,
    run: (script, l) => eng.docker(['run', '--rm', '--network', 'none', ...limitFlags(l), 'busybox', 'sh', '-c', script]),
    docker: (args) => eng.docker(args),
    image: 'busybox',
  },
  {
    name: 'runc',
    skip: noRunc,
    run(script, l = {}) {
      const b = makeBundle(['sh', '-c', script], (s: Spec) => {
        const res = (s.linux!.resources ??= {});
        if (l.pids) res.pids = { limit: l.pids };
        if (l.memory) res.memory = { limit: l.memory, swap: l.memory * 2 };
      });
      const id = uniqueId('escape');
      try {
        const r = spawnSync('runc', ['--root', b.root, 'run', id], { cwd: b.dir, encoding: 'utf8', timeout: 60_000 });
        return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
      } finally {
        spawnSync('runc', ['--root', b.root, 'delete', '--force', id]);
        rmSync(b.dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'dockerd',
    skip: noDockerd,
    run: (script, l) => peer!.docker(['run', '--rm', '--network', 'none', ...limitFlags(l), PEER_IMAGE, 'sh', '-c', script]),
    docker: (args) => peer!.docker(args),
    image: PEER_IMAGE,
  },
];

/** What each engine did, case by case: the README's table is this. */
const results: Record<string, Partial<Record<EngineName, Verdict>>> = {};
after(() => {
  const lines = Object.entries(results).map(
    ([c, r]) => `${c}: berth ${r.berth}, runc ${r.runc ?? 'skipped'}, dockerd ${r.dockerd ?? 'skipped'}`,
  );
  process.stdout.write(`# escape results\n${lines.map((l) => `# ${l}`).join('\n')}\n`);
});

const show = (r: CliResult) => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/**
 * One case under every runner: `attempt` runs it and says whether it got through (an
 * `ESCAPED <what>` line in the output, or a host-side check), `expected` is what runc and
 * dockerd do on this host (berth must block every case).
 */
function escapeCase(
  name: string,
  expected: Partial<Record<EngineName, Verdict>>,
  attempt: (r: Runner) => Verdict | Promise<Verdict>,
): void {
  describe(name, () => {
    for (const r of RUNNERS) {
      const exp = r.name === 'berth' ? 'blocked' : (expected[r.name] ?? 'blocked');
      test(r.name, { skip: r.skip || (exp === 'n/a' && `${r.name} has no such verb`) }, async () => {
        lastOut = undefined;
        const v = await attempt(r);
        (results[name] ??= {})[r.name] = v;
        assert.equal(v, exp, `${name} under ${r.name}: ${lastOut ? show(lastOut) : ''}`);
      });
    }
  });
}

/** The output of the last `scripted` run, for a failure's message. */
let lastOut: CliResult | undefined;

/** Runs `script` and judges it by its ESCAPED lines; the script must reach its `DONE`. */
function scripted(r: Runner, script: string, limits?: Limits): { verdict: Verdict; out: CliResult } {
  const out = r.run(`${script}\necho DONE`, limits);
  lastOut = out;
  assert.match(out.stdout, /^DONE$/m, show(out));
  return { verdict: /^ESCAPED/m.test(out.stdout) ? 'not blocked' : 'blocked', out };
}

// --- /proc and /sys -------------------------------------------------------------------------

escapeCase('write /proc/sysrq-trigger', { runc: 'blocked', dockerd: 'blocked' }, (r) => {
  // 'h' only prints the help to the kernel log, were it to get through.
  return scripted(r, 'echo h > /proc/sysrq-trigger 2>/dev/null && echo ESCAPED sysrq-trigger').verdict;
});

escapeCase('write /proc/sys/kernel/core_pattern', {}, (r) => {
  const before = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
  const marker = `|/tmp/berth-escape-${process.pid}`;
  try {
    const { verdict } = scripted(r, `echo '${marker}' > /proc/sys/kernel/core_pattern 2>/dev/null && echo ESCAPED core_pattern`);
    const now = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    return verdict === 'blocked' && now === before ? 'blocked' : 'not blocked';
  } finally {
    if (readFileSync('/proc/sys/kernel/core_pattern', 'utf8') !== before) writeFileSync('/proc/sys/kernel/core_pattern', before);
  }
});

escapeCase('write /sys/kernel, remount /sys rw', {}, (r) => {
  // The value written is the one in force: harmless if it got through, which the exit says.
  const thp = '/sys/kernel/mm/transparent_hugepage/enabled';
  const value = existsSync(thp) ? /\[(\w+)\]/.exec(readFileSync(thp, 'utf8'))![1] : 'never';
  return scripted(
    r,
    `echo ${value} > ${thp} 2>/dev/null && echo ESCAPED ${thp}
     mount -o remount,rw /sys 2>/dev/null && echo ESCAPED remount-sys
     echo 1 > /sys/kernel/profiling 2>/dev/null && echo ESCAPED profiling`,
  ).verdict;
});

// --- devices --------------------------------------------------------------------------------

/** The host's root disk as major:minor: the device of / where it is a block device, else the first disk. */
function rootDisk(): [number, number] | undefined {
  const dev = statSync('/').dev;
  const major = Number((BigInt(dev) >> 8n) & 0xfffn),
    minor = Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & 0xfff00n));
  if (major !== 0) return [major, minor];
  const line = readFileSync('/proc/partitions', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f.length === 4 && !/^(loop|ram|zram)/.test(f[3]));
  return line ? [Number(line[0]), Number(line[1])] : undefined;
}

escapeCase('mknod the host root disk and read it', {}, (r) => {
  const disk = rootDisk();
  assert.ok(disk, 'no block device for the host root');
  return scripted(
    r,
    `mknod /tmp/disk b ${disk[0]} ${disk[1]} 2>/dev/null
     n=$(dd if=/tmp/disk bs=512 count=1 2>/dev/null | wc -c); [ "$n" -gt 0 ] && echo ESCAPED read-disk $n
     n=$(dd if=/dev/vda bs=512 count=1 2>/dev/null | wc -c); [ "$n" -gt 0 ] && echo ESCAPED read-dev-vda $n
     true`,
  ).verdict;
});

// --- cgroups: CVE-2022-0492 -----------------------------------------------------------------

escapeCase('cgroup v1 release_agent (CVE-2022-0492)', {}, (r) => {
  const agents = ['memory', 'rdma', 'pids', 'cpu'].map((c) => `/sys/fs/cgroup/${c}/release_agent`).filter(existsSync);
  const before = agents.map((a) => readFileSync(a, 'utf8'));
  try {
    const { verdict } = scripted(
      r,
      `mkdir -p /tmp/cg
       for c in memory rdma pids; do
         mount -t cgroup -o $c cgroup /tmp/cg 2>/dev/null && echo ESCAPED mount-cgroup-$c && umount /tmp/cg
       done
       for f in /sys/fs/cgroup/*/release_agent /sys/fs/cgroup/release_agent; do
         [ -e "$f" ] && echo /tmp/evil > "$f" 2>/dev/null && echo ESCAPED "$f"
       done
       echo 1 > /sys/fs/cgroup/memory/notify_on_release 2>/dev/null && echo ESCAPED notify_on_release
       unshare -UrmC sh -c 'mount -t cgroup -o rdma cgroup /tmp/cg && echo /tmp/evil > /tmp/cg/release_agent && echo ESCAPED userns-release_agent' 2>/dev/null
       true`,
    );
    const changed = agents.some((a, i) => readFileSync(a, 'utf8') !== before[i]);
    return verdict === 'blocked' && !changed ? 'blocked' : 'not blocked';
  } finally {
    agents.forEach((a, i) => {
      if (readFileSync(a, 'utf8') !== before[i]) writeFileSync(a, before[i].trim() || '\n');
    });
  }
});

// --- host clock and hostname ----------------------------------------------------------------

escapeCase('set the clock (settimeofday/clock_settime)', {}, (r) => {
  // The time set is the time it is: were it to get through, the host would see no jump, and the
  // exit status says it got through.
  const wall = Date.now(),
    mono = process.hrtime.bigint();
  // busybox date exits 0 when it cannot set the clock: its message says.
  const { verdict } = scripted(r, 'date -s "@$(date +%s)" 2>&1 | grep -q "can.t set date" || echo ESCAPED date-s');
  const drift = Date.now() - wall - Number((process.hrtime.bigint() - mono) / 1_000_000n);
  assert.ok(Math.abs(drift) < 2000, `the host clock moved ${drift} ms against the monotonic clock`);
  return verdict;
});

escapeCase('set the hostname', {}, (r) => {
  const before = hostname();
  const { verdict } = scripted(r, `hostname escape-${process.pid} 2>/dev/null && echo ESCAPED hostname; true`);
  assert.equal(hostname(), before);
  return verdict;
});

// --- namespaces, mounts, modules ------------------------------------------------------------

escapeCase('unshare, mount, load a module without privilege', { runc: 'not blocked' }, (r) => {
  return scripted(
    r,
    `unshare -m true 2>/dev/null && echo ESCAPED unshare-m
     unshare -U true 2>/dev/null && echo ESCAPED unshare-U
     mkdir -p /tmp/m; mount -t tmpfs t /tmp/m 2>/dev/null && echo ESCAPED mount-tmpfs
     echo junk > /tmp/x.ko; insmod /tmp/x.ko 2>&1 | grep -qv 'not permitted' && echo ESCAPED init_module
     true`,
  ).verdict;
});

// --- host processes: ptrace, setns ----------------------------------------------------------

escapeCase('see or enter a host process (ptrace, nsenter -t)', {}, (r) => {
  // A host process with an argument of its own, looked for by the test in what the container
  // lists (the script itself must not hold the mark: its own command line would match).
  const mark = `120.${process.pid}${Math.floor(Math.random() * 1e6)}`;
  const sleeper = spawn('sleep', [mark], { stdio: 'ignore' });
  try {
    const { verdict, out } = scripted(
      r,
      `for d in /proc/[0-9]*; do tr '\\0' ' ' < $d/cmdline 2>/dev/null; echo; done
       nsenter -t 1 -m -u -n -i -p true 2>/dev/null && echo ESCAPED nsenter-1
       nsenter -t ${sleeper.pid} -m true 2>/dev/null && echo ESCAPED nsenter-host
       true`,
    );
    return verdict === 'blocked' && !out.stdout.includes(mark) ? 'blocked' : 'not blocked';
  } finally {
    sleeper.kill('SIGKILL');
  }
});

// --- resources ------------------------------------------------------------------------------

escapeCase('fork bomb against --pids-limit 64', {}, (r) => {
  const { out } = scripted(
    r,
    // The shell gives up at the first fork refused: the bomb runs in a subshell, and the count
    // and the clean-up use builtins only (no fork is left to them).
    `(i=0; while [ $i -lt 300 ]; do sleep 30 & i=$((i+1)); done) 2>/dev/null
     n=0; for d in /proc/[0-9]*; do n=$((n+1)); done; echo procs $n
     kill -9 -1 2>/dev/null; true`,
    { pids: 64 },
  );
  const procs = Number(/^procs (\d+)$/m.exec(out.stdout)?.[1]);
  assert.ok(procs > 0, show(out));
  return procs <= 64 ? 'blocked' : 'not blocked';
});

escapeCase('memory hog against -m 32m', {}, (r) => {
  // dd's 128 MiB buffer, more than the limit and the swap Docker adds (as much again).
  // The shell survives; dd is killed (137) by the cgroup's OOM killer.
  const { out } = scripted(r, 'dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null; echo dd $?', { memory: 32 << 20 });
  return /^dd 137$/m.test(out.stdout) ? 'blocked' : 'not blocked';
});

// --- engine verbs: exec and cp --------------------------------------------------------------

/** Runs `body` with a running container (`sh -c setup; sleep`) of the runner's engine, removed after. */
function withContainer<T>(r: Runner, setup: string, body: (id: string, docker: (args: string[]) => CliResult) => T): T {
  const docker = r.docker!;
  const run = docker(['run', '-d', '--network', 'none', r.image!, 'sh', '-c', `${setup}\nexec sleep 300`]);
  assert.equal(run.status, 0, show(run));
  const id = run.stdout.trim();
  try {
    return body(id, docker);
  } finally {
    const rm = docker(['rm', '-f', id]);
    assert.equal(rm.status, 0, show(rm));
  }
}

/** keyctl-probe.c, built static (the busybox images have no C library) into a dir `after` removes. */
let probeDir: string | undefined;
function keyctlProbe(): string {
  const bin = join((probeDir ??= mkdtempSync(join(tmpdir(), 'berth-test-keyctl-'))), 'keyctl-probe');
  if (!existsSync(bin)) {
    const src = new URL('../../../test/security/keyctl-probe.c', import.meta.url).pathname;
    const cc = spawnSync('cc', ['-static', '-O2', '-o', bin, src], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `cc keyctl-probe.c: ${cc.stderr}`);
  }
  return bin;
}
after(() => probeDir && rmSync(probeDir, { recursive: true, force: true }));

escapeCase("add_key and keyctl into the host root's user keyring", { runc: 'n/a' }, (r) =>
  withContainer(r, 'true', (id, docker) => {
    const name = `berth-escape-${process.pid}-${r.name}`;
    const cp = docker(['cp', keyctlProbe(), `${id}:/keyctl-probe`]);
    assert.equal(cp.status, 0, show(cp));
    const out = docker(['exec', id, '/keyctl-probe', 'add', name]);
    lastOut = out;
    assert.match(out.stdout, /^(add_key: |ESCAPED add_key)/m, show(out));
    // Keyrings are the kernel's, not the container's: a key that got in is in /proc/keys here.
    const landed = readFileSync('/proc/keys', 'utf8')
      .split('\n')
      .filter((l) => l.includes(` ${name}:`));
    for (const l of landed) spawnSync(keyctlProbe(), ['rm', String(parseInt(l, 16))]);
    return /^ESCAPED/m.test(out.stdout) || landed.length ? 'not blocked' : 'blocked';
  }),
);

const fds = (out: CliResult) => out.stdout.split('\n').filter(Boolean).sort().join(' ');

escapeCase('leaked fds and cwd of init and exec (CVE-2024-21626)', { runc: 'n/a' }, (r) =>
  withContainer(r, 'true', (id, docker) => {
    const init = docker(['exec', id, 'ls', '/proc/1/fd']);
    const exec = docker(['exec', id, 'sh', '-c', 'ls /proc/$$/fd; true']);
    lastOut = { status: init.status, stdout: `init: ${fds(init)}\nexec: ${fds(exec)}\n`, stderr: init.stderr + exec.stderr };
    let escaped = fds(init) !== '0 1 2' || fds(exec) !== '0 1 2';
    // The working directory through a descriptor the runtime might hold while it enters the
    // container (runc's leaked cgroup directory): it must fail, as the process holds no
    // directory open then; a chdir that lands anywhere counts as a leak.
    for (let n = 3; n < 10; n++) {
      const cwd = docker(['exec', '-w', `/proc/self/fd/${n}`, id, 'pwd', '-P']);
      lastOut.stdout += `-w /proc/self/fd/${n}: exit ${cwd.status} ${cwd.stdout.trim()} ${cwd.stderr.trim()}\n`;
      if (cwd.status === 0 && !cwd.stdout.startsWith('/proc/')) escaped = true;
    }
    return escaped ? 'not blocked' : 'blocked';
  }),
);

escapeCase('cp out and in through a symlink to a host path (CVE-2018-15664)', { runc: 'n/a' }, (r) => {
  const host = mkdtempSync(join(tmpdir(), 'berth-test-escape-cp-'));
  const mark = `host-secret-${process.pid}`;
  writeFileSync(join(host, 'secret'), mark);
  writeFileSync(join(host, 'in'), 'from the host\n');
  mkdirSync(join(host, 'out'));
  try {
    return withContainer(r, `ln -s ${host} /lnk; ln -s / /rootlink`, (id, docker) => {
      const log: string[] = [];
      const tries = [
        ['cp', `${id}:/lnk/secret`, join(host, 'out', 'a')],
        ['cp', `${id}:/rootlink${host}/secret`, join(host, 'out', 'b')],
        ['cp', `${id}:/lnk/../../${host}/secret`, join(host, 'out', 'c')],
        ['cp', join(host, 'in'), `${id}:/lnk/written`],
        ['cp', join(host, 'in'), `${id}:/rootlink${host}/written2`],
      ];
      for (const t of tries) {
        const res = docker(t);
        log.push(`${t.join(' ')}: exit ${res.status} ${res.stderr.trim()}`);
      }
      // What came out is the container's (nothing: it has no such file), what went in stayed in it.
      const leaked = readdirSync(join(host, 'out')).filter((f) => readFileSync(join(host, 'out', f), 'utf8').includes(mark));
      const written = readdirSync(host).filter((f) => !['secret', 'in', 'out'].includes(f));
      lastOut = { status: 0, stdout: `${log.join('\n')}\nleaked: ${leaked}\nwritten on the host: ${written}\n`, stderr: '' };
      return leaked.length || written.length ? 'not blocked' : 'blocked';
    });
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
});

/** dev:ino of the host's runtime binaries: what a container must never open for writing. */
function runtimeBinaries(): Map<string, string> {
  const paths = [
    ...['berth-nsexec', 'berth-runtime'].map((b) => new URL(`../../../native/build/${b}`, import.meta.url).pathname),
    process.execPath,
    '/usr/sbin/runc',
    '/usr/bin/containerd-shim-runc-v2',
    '/usr/sbin/dockerd',
  ].filter(existsSync);
  return new Map(paths.map((p) => [`${statSync(p).dev}:${statSync(p).ino}`, p]));
}
const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

escapeCase('overwrite the runtime through /proc/PID/exe during exec (CVE-2019-5736)', { runc: 'n/a' }, (r) => {
  const bins = runtimeBinaries();
  const sums = new Map([...bins.values()].map((p) => [p, digest(p)]));
  const ids = [...bins.keys()].join(' ');
  // /bin/evil runs whatever execs it as its own interpreter; a watcher opens for writing (no
  // byte written) every /proc/PID/exe that is one of the host's runtime binaries.
  const setup = `printf '#!/proc/self/exe\\n' > /bin/evil; chmod +x /bin/evil
    (end=$(($(date +%s) + 8)); while [ $(date +%s) -lt $end ]; do
      for e in /proc/[0-9]*/exe; do
        id=$(stat -L -c %d:%i $e 2>/dev/null)
        case " ${ids} " in *" $id "*) echo "SEEN $id" >> /tmp/log; : 2>/dev/null >> $e && echo "ESCAPED $id" >> /tmp/log;; esac
      done
    done; echo WATCHED >> /tmp/log) &`;
  return withContainer(r, setup, (id, docker) => {
    const log: string[] = [];
    for (let i = 0; i < 5; i++) {
      const ex = docker(['exec', id, '/bin/evil']);
      log.push(`exec /bin/evil: exit ${ex.status} ${ex.stderr.trim().slice(0, 200)}`);
    }
    let watched = '';
    for (const end = Date.now() + 20_000; Date.now() < end && !watched.includes('WATCHED');)
      watched = docker(['exec', id, 'cat', '/tmp/log']).stdout;
    const changed = [...sums].filter(([p, sum]) => digest(p) !== sum).map(([p]) => p);
    lastOut = { status: 0, stdout: `${log.join('\n')}\n${watched}\nchanged on the host: ${changed}\n`, stderr: '' };
    assert.match(watched, /WATCHED/, show(lastOut));
    // Under berth the shebang reaches the runtime: the helper's sealed copy runs in the
    // container, refuses, and is all the container saw.
    if (r.name === 'berth') assert.match(lastOut.stdout, /berth-nsexec: run by berth-runtime/, show(lastOut));
    return /ESCAPED/.test(watched) || changed.length ? 'not blocked' : 'blocked';
  });
});
