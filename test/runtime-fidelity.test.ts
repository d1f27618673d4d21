// berth-runtime beside runc 1.1.5 (a peer in tests, never called by berth's code), each on its
// own copy of the same bundle: the OCI validation cases where they differed (no mount
// namespace, a uts namespace joined by path with a hostname, user namespace maps through create
// and start, an unknown capability or rlimit, namespaces read through the pid `state` reports,
// joined by path), CRI's Bidirectional mount propagation, and `kill --all` on a stopped
// container. Each test asserts that both agree, and removes what both made: containers, mounts
// (runc's without a mount namespace stay in a throwaway namespace), the processes holding
// namespaces, the bundles.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../src/oci/runtime-spec.js';
import { makeBundle, RUNTIME, uniqueId, waitFor, type Bundle, type Result } from './helpers/bundle.js';

const noRunc = spawnSync('runc', ['--version']).status === 0 ? false : 'runc is not installed (apt-get install runc)';
type Which = 'runc' | 'berth';
const BOTH: Which[] = ['runc', 'berth'];
const BIN: Record<Which, string> = { runc: 'runc', berth: RUNTIME };
const NS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts'];

const rootOf = (b: Bundle, which: Which) => join(b.dir, `state-${which}`);

/** `which` with the bundle's state root for it. Stdio goes to files: a created container inherits them. */
function rt(which: Which, b: Bundle, args: string[]): Result {
  const io = mkdtempSync(join(tmpdir(), 'berth-test-io-'));
  const out = openSync(join(io, 'out'), 'w+'),
    err = openSync(join(io, 'err'), 'w+');
  try {
    const r = spawnSync(BIN[which], ['--root', rootOf(b, which), ...args], { timeout: 30000, stdio: ['ignore', out, err] });
    return { status: r.status, stdout: readFileSync(join(io, 'out'), 'utf8'), stderr: readFileSync(join(io, 'err'), 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(io, { recursive: true, force: true });
  }
}

function ok(which: Which, r: Result, what: string): string {
  assert.equal(r.status, 0, `${which} ${what}: exit ${r.status}; stderr: ${r.stderr}`);
  return r.stdout;
}

interface State {
  status: string;
  pid?: number;
}
const stateOf = (which: Which, b: Bundle, id: string) => JSON.parse(ok(which, rt(which, b, ['state', id]), 'state')) as State;

/**
 * One bundle per runtime from the same edit, 0755 (a mapped root must reach its rootfs) with a
 * world-writable /tmp where the container writes what it saw. Containers left are deleted.
 */
function bundles(t: TestContext, args: string[], edit: (s: Spec) => void): Record<Which, Bundle> {
  const out = {} as Record<Which, Bundle>;
  for (const which of BOTH) {
    const b = makeBundle(args, (s) => {
      s.root!.readonly = false;
      edit(s);
    });
    chmodSync(b.dir, 0o755);
    chmodSync(join(b.dir, 'rootfs/tmp'), 0o1777);
    out[which] = b;
    t.after(() => {
      for (const id of rt(which, b, ['list', '-q']).stdout.split('\n').filter(Boolean)) rt(which, b, ['delete', '--force', id]);
      rmSync(b.dir, { recursive: true, force: true });
    });
  }
  return out;
}

const result = (b: Bundle, name = 'out') => readFileSync(join(b.dir, 'rootfs/tmp', name), 'utf8');
const nsLink = (pid: number | string, ns: string) => readlinkSync(`/proc/${pid}/ns/${ns}`);

/** create, start, and wait until the process has exited. */
function runToEnd(which: Which, b: Bundle, id: string): void {
  ok(which, rt(which, b, ['create', '--bundle', b.dir, id]), 'create');
  ok(which, rt(which, b, ['start', id]), 'start');
  assert.ok(
    waitFor(() => stateOf(which, b, id).status === 'stopped'),
    `${which}: the process ends`,
  );
}

/** A process holding new namespaces (`unshare` with `flags`), killed by pid when the test ends. */
function holder(t: TestContext, flags: string[]): ChildProcess & { pid: number } {
  const p = spawn('unshare', [...flags, '--kill-child', 'sleep', '120'], { stdio: 'ignore' }) as ChildProcess & { pid: number };
  t.after(() => {
    p.kill('SIGKILL');
  });
  return p;
}

/** The mounts of the calling process whose mount point is `dir` or below it. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => {
      const p = l.split(' ')[4];
      return p === dir || p?.startsWith(dir + '/');
    });
}

const gone = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return true;
  }
};

test("no mount namespace: the container shares the caller's, chroots into its root, and delete leaves no mount", { skip: noRunc }, (t) => {
  const noMountNs = (s: Spec) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    delete s.linux!.maskedPaths;
    delete s.linux!.readonlyPaths;
  };
  const bs = bundles(t, ['sh', '-c', 'ls / > /tmp/out; grep -c " /proc " /proc/self/mountinfo >> /tmp/out'], noMountNs);
  const seen: Record<Which, string> = { runc: '', berth: '' };

  // runc makes the caller's / rslave and leaves its mounts behind: it runs in a throwaway
  // mount namespace of its own, which is the one its container must share.
  const b = bs.runc,
    id = uniqueId('fid-nomnt');
  const R = `runc --root ${rootOf(b, 'runc')}`;
  const script = `${R} create --bundle ${b.dir} ${id} </dev/null >/dev/null 2>&1 || exit 1
pid=$(${R} state ${id} | sed -n 's/.*"pid": \\([0-9]*\\).*/\\1/p')
[ "$(readlink /proc/$pid/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ] && echo shared
${R} start ${id} || exit 1
for i in $(seq 100); do ${R} state ${id} | grep -q '"stopped"' && break; sleep 0.05; done
${R} delete ${id}`;
  const r = spawnSync('unshare', ['-m', '--propagation', 'unchanged', 'sh', '-c', script], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, `runc: ${r.stderr}`);
  assert.equal(r.stdout, 'shared\n');
  seen.runc = result(b);

  // berth-runtime in this process's namespace: its mounts are here while the container lives.
  const bb = bs.berth,
    bid = uniqueId('fid-nomnt');
  const rootfs = join(bb.dir, 'rootfs');
  const rootLine = () =>
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === '/');
  const rootBefore = rootLine();
  ok('berth', rt('berth', bb, ['create', '--bundle', bb.dir, bid]), 'create');
  const pid = stateOf('berth', bb, bid).pid!;
  assert.equal(nsLink(pid, 'mnt'), nsLink('self', 'mnt'));
  assert.ok(
    mountsUnder(rootfs).some((l) => l.split(' ')[4] === join(rootfs, 'proc')),
    'its /proc is mounted in our namespace',
  );
  ok('berth', rt('berth', bb, ['start', bid]), 'start');
  assert.ok(waitFor(() => stateOf('berth', bb, bid).status === 'stopped'));
  ok('berth', rt('berth', bb, ['delete', bid]), 'delete');
  assert.deepEqual(mountsUnder(rootfs), [], 'delete unmounted what create mounted');
  assert.equal(rootLine(), rootBefore, 'the propagation of / is left alone');
  seen.berth = result(bb);

  assert.equal(seen.berth, seen.runc);
  assert.match(seen.berth, /^bin\n.*\n1\n$/s);
});

test("no mount namespace with masked paths: both refuse in runc's words", { skip: noRunc }, (t) => {
  const bs = bundles(t, ['true'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
  });
  for (const which of BOTH) {
    const r = rt(which, bs[which], ['create', '--bundle', bs[which].dir, uniqueId('fid-mask')]);
    assert.equal(r.status, 1, which);
    assert.match(r.stderr, /unable to restrict sys entries without a private MNT namespace/, which);
    assert.equal(rt(which, bs[which], ['list', '-q']).stdout, '', `${which} leaves nothing`);
  }
});

test('a uts namespace joined by path takes the hostname, as under runc', { skip: noRunc }, (t) => {
  const h = holder(t, ['--uts']);
  assert.ok(waitFor(() => nsLink(h.pid, 'uts') !== nsLink('self', 'uts')));
  const host = hostname();
  const bs = bundles(t, ['sh', '-c', 'hostname > /tmp/out'], (s) => {
    s.hostname = 'joined-uts';
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'uts' ? { type: 'uts', path: `/proc/${h.pid}/ns/uts` } : n));
  });
  for (const which of BOTH) {
    assert.equal(spawnSync('nsenter', ['-t', String(h.pid), '-u', 'hostname', 'before']).status, 0);
    const b = bs[which],
      id = uniqueId('fid-uts');
    ok(which, rt(which, b, ['create', '--bundle', b.dir, id]), 'create');
    assert.equal(nsLink(stateOf(which, b, id).pid!, 'uts'), nsLink(h.pid, 'uts'), which);
    ok(which, rt(which, b, ['start', id]), 'start');
    assert.ok(waitFor(() => stateOf(which, b, id).status === 'stopped'));
    assert.equal(result(b), 'joined-uts\n', which);
    assert.equal(spawnSync('nsenter', ['-t', String(h.pid), '-u', 'hostname'], { encoding: 'utf8' }).stdout, 'joined-uts\n', which);
    ok(which, rt(which, b, ['delete', id]), 'delete');
  }
  assert.equal(hostname(), host, "the host's name is untouched");
});

test("uid and gid maps through create and then start, and the namespaces `state`'s pid shows", { skip: noRunc }, (t) => {
  // runtime-tools' linux_ns_nopath: every namespace new, a user namespace with maps.
  const bs = bundles(t, ['sh', '-c', 'id -u > /tmp/out; id -g >> /tmp/out; cat /proc/self/uid_map /proc/self/gid_map >> /tmp/out'], (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 2000 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 3000 }];
  });
  const seen = {} as Record<Which, string>;
  for (const which of BOTH) {
    const b = bs[which],
      id = uniqueId('fid-user');
    ok(which, rt(which, b, ['create', '--bundle', b.dir, id]), 'create');
    const st = stateOf(which, b, id);
    assert.equal(st.status, 'created', which);
    // The pid is the container's init as we see it, and its namespaces are readable and new.
    assert.match(readFileSync(`/proc/${st.pid}/status`, 'utf8'), new RegExp(`^NSpid:\\s+${st.pid}\\s+1$`, 'm'), which);
    for (const ns of NS) assert.notEqual(nsLink(st.pid!, ns), nsLink('self', ns), `${which}: a new ${ns} namespace`);
    ok(which, rt(which, b, ['start', id]), 'start');
    assert.ok(
      waitFor(() => stateOf(which, b, id).status === 'stopped'),
      which,
    );
    seen[which] = result(b).replace(/[ \t]+/g, ' ');
    ok(which, rt(which, b, ['delete', id]), 'delete');
  }
  assert.equal(seen.berth, seen.runc);
  assert.equal(seen.berth, '0\n0\n 0 100000 2000\n 0 100000 3000\n');
});

test("namespaces joined by path (pid_for_children, mount) are the ones `state`'s pid is in", { skip: noRunc }, (t) => {
  for (const which of BOTH) {
    // Holders of their own for each runtime: pivot_root in a joined mount namespace moves its root.
    const pidHolder = holder(t, ['--pid', '--fork']);
    const mntHolder = holder(t, ['--mount', '--propagation', 'private']);
    assert.ok(
      waitFor(
        () =>
          existsSync(`/proc/${pidHolder.pid}/ns/pid_for_children`) &&
          nsLink(pidHolder.pid, 'pid_for_children') !== nsLink('self', 'pid') &&
          nsLink(mntHolder.pid, 'mnt') !== nsLink('self', 'mnt'),
      ),
    );
    const b = bundles(t, ['sleep', '60'], (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
        n.type === 'pid'
          ? { type: 'pid', path: `/proc/${pidHolder.pid}/ns/pid_for_children` }
          : n.type === 'mount'
            ? { type: 'mount', path: `/proc/${mntHolder.pid}/ns/mnt` }
            : n,
      );
    })[which];
    const id = uniqueId('fid-join');
    ok(which, rt(which, b, ['create', '--bundle', b.dir, id]), 'create');
    const pid = stateOf(which, b, id).pid!;
    assert.equal(nsLink(pid, 'pid'), nsLink(pidHolder.pid, 'pid_for_children'), which);
    assert.equal(nsLink(pid, 'mnt'), nsLink(mntHolder.pid, 'mnt'), which);
    ok(which, rt(which, b, ['delete', '--force', id]), 'delete');
  }
});

test("an unknown capability is a warning and left out; an unknown rlimit is refused in runc's words", { skip: noRunc }, (t) => {
  const caps = bundles(t, ['sh', '-c', 'grep -E "^Cap(Bnd|Eff|Prm)" /proc/self/status > /tmp/out'], (s) => {
    for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_NOPE');
  });
  const seen = {} as Record<Which, string>;
  for (const which of BOTH) {
    const b = caps[which],
      id = uniqueId('fid-cap');
    const r = rt(which, b, ['create', '--bundle', b.dir, id]);
    assert.equal(r.status, 0, `${which}: ${r.stderr}`);
    assert.match(r.stderr, /ignoring unknown or unavailable capabilities: \[CAP_NOPE\]/, which);
    ok(which, rt(which, b, ['start', id]), 'start');
    assert.ok(waitFor(() => stateOf(which, b, id).status === 'stopped'));
    seen[which] = result(b);
    ok(which, rt(which, b, ['delete', id]), 'delete');
  }
  assert.equal(seen.berth, seen.runc);
  assert.equal(rt('berth', caps.berth, ['list', '-q']).stdout, '');

  const limits = bundles(t, ['true'], (s) => {
    s.process!.rlimits!.push({ type: 'RLIMIT_NOPE', soft: 1, hard: 1 });
  });
  for (const which of BOTH) {
    const r = rt(which, limits[which], ['create', '--bundle', limits[which].dir, uniqueId('fid-rlimit')]);
    assert.equal(r.status, 1, which);
    assert.match(r.stderr, /wrong rlimit value: RLIMIT_NOPE/, which);
    assert.equal(rt(which, limits[which], ['list', '-q']).stdout, '', `${which} leaves nothing`);
  }
});

test(
  "Bidirectional propagation: an rbind,rshared volume under rootfsPropagation rshared stays in the host's peer group",
  { skip: noRunc },
  (t) => {
    const vol = mkdtempSync(join(tmpdir(), 'berth-test-prop-'));
    t.after(() => {
      for (const p of mountsUnder(vol)
        .map((l) => l.split(' ')[4])
        .reverse())
        spawnSync('umount', ['-l', p]);
      rmSync(vol, { recursive: true, force: true });
    });
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'berth-test-prop', vol]).status, 0);
    assert.equal(spawnSync('mount', ['--make-shared', vol]).status, 0);
    const group = /shared:(\d+)/.exec(mountsUnder(vol)[0])![1];
    const admin = 'CAP_SYS_ADMIN';
    const bs = bundles(
      t,
      [
        'sh',
        '-c',
        'grep " /vol " /proc/self/mountinfo > /tmp/out; mkdir -p /vol/sub && mount -t tmpfs inside /vol/sub && echo hi > /vol/sub/f; sleep 60',
      ],
      (s) => {
        s.mounts!.push({ destination: '/vol', type: 'bind', source: vol, options: ['rbind', 'rshared'] });
        s.linux!.rootfsPropagation = 'rshared';
        for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push(admin);
      },
    );
    for (const which of BOTH) {
      const b = bs[which],
        id = uniqueId('fid-prop');
      ok(which, rt(which, b, ['create', '--bundle', b.dir, id]), 'create');
      ok(which, rt(which, b, ['start', id]), 'start');
      // What the container mounts in the volume appears here.
      assert.ok(
        waitFor(() => existsSync(join(vol, 'sub/f'))),
        `${which}: the container's mount reaches the host`,
      );
      assert.equal(readFileSync(join(vol, 'sub/f'), 'utf8'), 'hi\n');
      assert.ok(mountsUnder(join(vol, 'sub')).length === 1, which);
      assert.match(result(b), new RegExp(` /vol \\S+ shared:${group} - `), `${which}: /vol is in the host's peer group`);
      ok(which, rt(which, b, ['delete', '--force', id]), 'delete');
      assert.equal(spawnSync('umount', ['-l', join(vol, 'sub')]).status, 0);
    }
  },
);

test('kill --all on a stopped container signals what its init left, and is accepted with nothing left', { skip: noRunc }, (t) => {
  // No pid namespace: the init's exit leaves its background child running in the cgroup.
  const bs = bundles(t, ['sh', '-c', 'sleep 60 & echo $! > /tmp/child'], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
  });
  for (const which of BOTH) {
    const b = bs[which],
      id = uniqueId('fid-killall');
    runToEnd(which, b, id);
    const child = Number(result(b, 'child'));
    t.after(() => {
      if (!gone(child)) process.kill(child, 'SIGKILL');
    });
    assert.ok(!gone(child), `${which}: the child outlived the init`);
    assert.equal(rt(which, b, ['kill', id, 'KILL']).status, 1, `${which}: a plain kill of a stopped container is refused`);
    ok(which, rt(which, b, ['kill', '--all', id, 'KILL']), 'kill --all');
    assert.ok(
      waitFor(() => gone(child)),
      `${which}: kill --all ended the child`,
    );
    ok(which, rt(which, b, ['kill', '--all', id, 'KILL']), 'kill --all with nothing left');
    ok(which, rt(which, b, ['delete', id]), 'delete');
  }
});
