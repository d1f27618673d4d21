// The native binding against the real kernel (needs root): xattrs in the user and trusted
// namespaces, device nodes and FIFOs, tmpfs and overlay mounts (relative lowerdirs through
// `cwd`), and the Node-style errors. Every mount and temp dir is removed.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { closeSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as native from './binding.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs.splice(0)) {
    const info = await readFile('/proc/self/mountinfo', 'utf8');
    const mounts = info
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m) => m && (m === d || m.startsWith(`${d}/`)));
    for (const m of mounts.sort((a, b) => b.length - a.length)) native.umount2(m, native.MNT_DETACH);
    await rm(d, { recursive: true, force: true });
  }
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'berth-binding-'));
  dirs.push(d);
  return d;
}

function throwsErrno(fn: () => unknown, code: string, syscall: string, message: RegExp) {
  assert.throws(fn, (e: NodeJS.ErrnoException) => {
    assert.equal(e.code, code);
    assert.equal(e.syscall, syscall);
    assert.equal(typeof e.errno, 'number');
    assert.match(e.message, message);
    return true;
  });
}

test('xattrs: set, list, get, remove, on a symlink itself, binary and empty values', async () => {
  const d = await tempDir();
  const f = join(d, 'f');
  await writeFile(f, 'x');
  const bin = Buffer.from([0, 1, 2, 255, 0]);
  native.lsetxattr(f, 'trusted.overlay.opaque', 'y');
  native.lsetxattr(f, 'user.bin', bin);
  native.lsetxattr(f, 'user.empty', Buffer.alloc(0));
  native.lsetxattr(f, 'user.view', new Uint8Array(bin.buffer, bin.byteOffset + 1, 2));
  const big = Buffer.alloc(3000, 7);
  native.lsetxattr(f, 'trusted.big', big);
  assert.deepEqual(native.llistxattr(f).sort(), ['trusted.big', 'trusted.overlay.opaque', 'user.bin', 'user.empty', 'user.view']);
  assert.deepEqual(native.lgetxattr(f, 'trusted.overlay.opaque'), Buffer.from('y'));
  assert.deepEqual(native.lgetxattr(f, 'user.bin'), bin);
  assert.deepEqual(native.lgetxattr(f, 'user.empty'), Buffer.alloc(0));
  assert.deepEqual(native.lgetxattr(f, 'user.view'), Buffer.from([1, 2]));
  assert.deepEqual(native.lgetxattr(f, 'trusted.big'), big);
  native.lremovexattr(f, 'trusted.big');
  assert.ok(!native.llistxattr(f).includes('trusted.big'));
  throwsErrno(
    () => native.lremovexattr(f, 'trusted.big'),
    'ENODATA',
    'lremovexattr',
    new RegExp(`^lremovexattr ${f} trusted\\.big: no data available$`),
  );

  // many long names: the list outgrows the binding's first buffer (1 KiB)
  const g = join(d, 'g');
  await writeFile(g, '');
  const names = Array.from({ length: 30 }, (_, i) => `trusted.${'n'.repeat(30)}${i}`);
  for (const n of names) native.lsetxattr(g, n, 'v');
  assert.deepEqual(native.llistxattr(g).sort(), names.sort());

  throwsErrno(
    () => native.lsetxattr(f, 'user.bin', 'z', native.XATTR_CREATE),
    'EEXIST',
    'lsetxattr',
    new RegExp(`^lsetxattr ${f} user\\.bin: file already exists$`),
  );
  throwsErrno(() => native.lsetxattr(f, 'user.none', 'z', native.XATTR_REPLACE), 'ENODATA', 'lsetxattr', /: no data available$/);
  throwsErrno(
    () => native.lgetxattr(f, 'user.none'),
    'ENODATA',
    'lgetxattr',
    new RegExp(`^lgetxattr ${f} user\\.none: no data available$`),
  );
  throwsErrno(() => native.lsetxattr(f, 'bogus.ns', 'z'), 'ENOTSUP', 'lsetxattr', /operation not supported$/);

  // the symlink's own xattrs (trusted.* may be set on a symlink; user.* may not), never its target's
  const l = join(d, 'l');
  await symlink(f, l);
  native.lsetxattr(l, 'trusted.link', 'L');
  assert.deepEqual(native.llistxattr(l), ['trusted.link']);
  assert.ok(!native.llistxattr(f).includes('trusted.link'));
  throwsErrno(() => native.lsetxattr(l, 'user.x', 'z'), 'EPERM', 'lsetxattr', /operation not permitted$/);

  const missing = join(d, 'missing');
  throwsErrno(() => native.llistxattr(missing), 'ENOENT', 'llistxattr', new RegExp(`^llistxattr ${missing}: no such file or directory$`));
  assert.throws(
    () => native.llistxattr(missing),
    (e: NodeJS.ErrnoException) => e.path === missing && e.errno === -2,
  );
});

test('mknod: whiteout 0/0 char device, devices with numbers, FIFO', async () => {
  const d = await tempDir();
  native.mknod(join(d, 'wh'), native.S_IFCHR | 0o000, 0, 0);
  let st = await lstat(join(d, 'wh'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, 0);
  native.mknod(join(d, 'null'), native.S_IFCHR | 0o644, 1, 3);
  st = await lstat(join(d, 'null'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, (1 << 8) | 3);
  native.mknod(join(d, 'big'), native.S_IFBLK | 0o600, 259, 70000);
  st = await lstat(join(d, 'big'));
  assert.ok(st.isBlockDevice());
  // glibc's makedev: minor's low 8 bits, major's 12, then the minor's high bits
  assert.equal(st.rdev, (70000 & 0xff) | (259 << 8) | ((70000 & ~0xff) << 12));
  native.mknod(join(d, 'fifo'), native.S_IFIFO | 0o600);
  st = await lstat(join(d, 'fifo'));
  assert.ok(st.isFIFO());
  assert.equal(st.mode & 0o777, 0o600);

  throwsErrno(() => native.mknod(join(d, 'fifo'), native.S_IFIFO | 0o600), 'EEXIST', 'mknod', /: file already exists$/);
  throwsErrno(
    () => native.mknod(join(d, 'no/such'), native.S_IFIFO),
    'ENOENT',
    'mknod',
    new RegExp(`^mknod ${d}/no/such: no such file or directory$`),
  );
  throwsErrno(() => native.mknod(join(d, 'bad'), 0o070755), 'EINVAL', 'mknod', /invalid argument$/);
});

test('arguments are checked before any system call', () => {
  assert.throws(() => native.mknod('/tmp/a\0b', native.S_IFIFO), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => native.umount2('/x', 1.5), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => native.mknod('/x', -1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => native.llistxattr(42 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => native.lsetxattr('/x', 'user.a', [1] as unknown as Uint8Array), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('mount and umount2: tmpfs, overlay with relative lowerdirs, errors', async () => {
  const d = await tempDir();
  const t = join(d, 'tmpfs');
  await mkdir(t);
  native.mount('berth-test', t, 'tmpfs', 0, 'size=1m,mode=0700');
  try {
    assert.equal((await lstat(t)).mode & 0o777, 0o700);
    throwsErrno(
      () => native.mount('berth-test', join(d, 'none'), 'tmpfs'),
      'ENOENT',
      'mount',
      new RegExp(`^mount berth-test on ${d}/none: no such file or directory$`),
    );
    throwsErrno(() => native.mount('x', t, 'no-such-fs'), 'ENODEV', 'mount', /: no such device$/);
    const mi = await readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(mi.includes(` ${t} `) && mi.includes('tmpfs berth-test'));

    // overlay, lowerdirs relative to `cwd` (which this process never enters)
    for (const n of ['l1', 'l2', 'up', 'work', 'merged']) await mkdir(join(t, n));
    await writeFile(join(t, 'l1/a'), 'top');
    await writeFile(join(t, 'l2/a'), 'bottom');
    await writeFile(join(t, 'l2/b'), 'b');
    const cwd = process.cwd();
    native.mount('overlay', join(t, 'merged'), 'overlay', 0, 'lowerdir=l1:l2,upperdir=up,workdir=work', t);
    assert.equal(process.cwd(), cwd);
    assert.equal(await readFile(join(t, 'merged/a'), 'utf8'), 'top');
    assert.equal(await readFile(join(t, 'merged/b'), 'utf8'), 'b');
    await writeFile(join(t, 'merged/c'), 'new');
    assert.equal(await readFile(join(t, 'up/c'), 'utf8'), 'new');
    throwsErrno(() => native.umount2(t), 'EBUSY', 'umount2', new RegExp(`^umount2 ${t}: resource busy or locked$`));
    native.umount2(join(t, 'merged'), native.UMOUNT_NOFOLLOW);
    throwsErrno(
      () => native.mount('overlay', join(t, 'merged'), 'overlay', 0, 'lowerdir=nope', t),
      'ENOENT',
      'mount',
      /^mount overlay on /,
    );
    throwsErrno(
      () => native.mount('overlay', 'merged', 'overlay', 0, 'lowerdir=l1', join(d, 'gone')),
      'ENOENT',
      'chdir',
      new RegExp(`^chdir ${d}/gone: no such file or directory$`),
    );
    // UMOUNT_NOFOLLOW refuses a symlink to a mount point
    await symlink(t, join(d, 'link'));
    throwsErrno(() => native.umount2(join(d, 'link'), native.UMOUNT_NOFOLLOW), 'EINVAL', 'umount2', /invalid argument$/);
  } finally {
    try {
      native.umount2(t);
    } catch {
      /* still busy after a failure: after() detaches it */
    }
  }
  throwsErrno(() => native.umount2(t), 'EINVAL', 'umount2', /: invalid argument$/);
  throwsErrno(() => native.umount2(join(d, 'none')), 'ENOENT', 'umount2', /: no such file or directory$/);
  assert.ok(!(await readFile('/proc/self/mountinfo', 'utf8')).includes(` ${t} `));
});

test('openInRoot resolves symlinks and ".." inside the root, never on the host', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-test-oir-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/hostname'), 'inside\n');
  symlinkSync('/etc/hostname', join(root, 'etc/passwd')); // absolute: the root's own /etc/hostname
  symlinkSync('../../../../etc/hostname', join(root, 'etc/up')); // ".." stops at the root
  for (const p of ['etc/passwd', '/etc/up']) {
    const fd = native.openInRoot(root, p);
    try {
      assert.equal(readFileSync(fd, 'utf8'), 'inside\n');
    } finally {
      closeSync(fd);
    }
  }
  assert.throws(() => native.openInRoot(root, 'etc/shadow'), { code: 'ENOENT' });
});

test('spawnDetached: a process in a session of its own, stdio on /dev/null, fd 3 a socket to us; reap', async () => {
  // The child answers on fd 3 with its session id, and what its fd 0 and 1 are.
  const script = 'printf "%s %s %s" "$(cut -d" " -f6 /proc/$$/stat)" "$(readlink /proc/$$/fd/0)" "$(readlink /proc/$$/fd/1)" >&3';
  const s = await native.spawnDetached('/bin/sh', ['sh', '-c', script], { PATH: '/usr/bin:/bin' });
  assert.ok(s && s.pid > 0 && s.fd > 2);
  const { Socket } = await import('node:net');
  const sock = new Socket({ fd: s.fd, readable: true, writable: true });
  let out = '';
  sock.on('data', (b: Buffer) => {
    out += b.toString();
  });
  await new Promise((r) => sock.on('close', r));
  const [sid, fd0, fd1] = out.split(' ');
  assert.equal(Number(sid), s.pid); // its own session: it leads it
  assert.equal(fd0, '/dev/null');
  assert.equal(fd1, '/dev/null');
  for (let i = 0; !native.reap(s.pid); i++) {
    assert.ok(i < 500, 'not reaped');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.throws(() => process.kill(s.pid, 0), /ESRCH/);
  await assert.rejects(
    native.spawnDetached('/no/such/binary', ['x'], {}),
    (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.syscall === 'posix_spawn',
  );
});

test('loopbackUp: lo up in a pinned network namespace; errors name the call', async () => {
  const d = await tempDir();
  const pin = join(d, 'netns');
  writeFileSync(pin, '');
  // A namespace of its own, pinned as berthd pins a container's, its process then gone.
  const made = spawnSync('unshare', ['--net', 'sh', '-c', `mount --bind /proc/self/ns/net ${pin}`], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  // (ip reads the namespace through netlink; /sys/class/net is the host's sysfs.)
  const loUp = () =>
    /[<,]UP[,>]/.test(spawnSync('nsenter', [`--net=${pin}`, 'ip', '-o', 'link', 'show', 'lo'], { encoding: 'utf8' }).stdout);
  assert.ok(!loUp(), 'lo starts down');
  assert.equal(await native.loopbackUp(pin), true);
  assert.ok(loUp(), 'lo is up');
  await native.loopbackUp(pin); // again: nothing to do
  await assert.rejects(native.loopbackUp(join(d, 'missing')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.syscall === 'open');
  await assert.rejects(native.loopbackUp(d), (e: NodeJS.ErrnoException) => e.code === 'EINVAL' && e.syscall === 'setns');
});

test('bridgeAttach: the bridge, a veth pair on it with hairpin, the peer in the namespace with its addresses, sysctls and routes; setDefaultRoutes; linkDelete', async () => {
  const d = await tempDir();
  const pin = join(d, 'netns');
  writeFileSync(pin, '');
  const made = spawnSync('unshare', ['--net', 'sh', '-c', `mount --bind /proc/self/ns/net ${pin}`], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const suffix = process.pid.toString(16).slice(-6);
  const bridge = `nbtbr${suffix}`,
    host = `nbtv${suffix}`;
  const ip = (args: string[], ns = true) =>
    spawnSync(ns ? 'nsenter' : 'ip', [...(ns ? [`--net=${pin}`, 'ip'] : []), ...args], { encoding: 'utf8' }).stdout;
  try {
    const a: native.BridgeAttach = {
      netns: pin,
      bridge,
      bridgeMac: '02:42:0a:fe:00:01',
      host,
      ifName: 'eth3',
      mac: '02:42:0a:fe:00:05',
      mtu: 1400,
      gateways: ['10.254.99.1/24', 'fd00:fe99::1/64'],
      addresses: ['10.254.99.5/24', 'fd00:fe99::5/64', '169.254.9.9/16'],
      routes: ['0.0.0.0/0 10.254.99.1', '::/0 fd00:fe99::1'],
      sysctls: ['/proc/sys/net/ipv4/conf/eth3/log_martians=1', '/proc/sys/net/ipv6/conf/eth3/accept_ra=2'],
    };
    await native.bridgeAttach(a);
    const sysctl = (p: string) => spawnSync('nsenter', [`--net=${pin}`, 'cat', p], { encoding: 'utf8' }).stdout.trim();
    assert.equal(sysctl('/proc/sys/net/ipv4/conf/eth3/log_martians'), '1');
    assert.equal(sysctl('/proc/sys/net/ipv6/conf/eth3/accept_ra'), '2');
    assert.equal(sysctl('/proc/sys/net/ipv4/conf/all/log_martians'), '0', 'only the interface');
    assert.match(ip(['-o', 'link', 'show', bridge], false), /UP.*mtu 1400.*link\/ether 02:42:0a:fe:00:01/);
    assert.match(ip(['-o', 'addr', 'show', bridge], false), /inet 10\.254\.99\.1\/24 brd 10\.254\.99\.255/);
    assert.match(ip(['-d', '-o', 'link', 'show', host], false), new RegExp(`master ${bridge} .*hairpin on`));
    assert.match(ip(['-o', 'link', 'show', 'eth3']), /UP.*mtu 1400.*link\/ether 02:42:0a:fe:00:05/);
    const addrs = ip(['-o', 'addr', 'show', 'eth3']);
    for (const re of [
      /inet 10\.254\.99\.5\/24 brd 10\.254\.99\.255/,
      /inet 169\.254\.9\.9\/16/,
      /inet6 fd00:fe99::5\/64 scope global nodad/,
    ])
      assert.match(addrs, re);
    assert.match(ip(['-4', 'route']), /default via 10\.254\.99\.1 dev eth3/);
    assert.match(ip(['-6', 'route']), /default via fd00:fe99::1 dev eth3/);
    // The gateway moves: every default route goes, those given come.
    await native.setDefaultRoutes(pin, ['::/0 fd00:fe99::1 eth3']);
    assert.doesNotMatch(ip(['-4', 'route']), /default/);
    assert.match(ip(['-6', 'route']), /default via fd00:fe99::1 dev eth3/);
    await native.setDefaultRoutes(pin, ['0.0.0.0/0 10.254.99.1 eth3']);
    assert.match(ip(['-4', 'route']), /^default via 10\.254\.99\.1 dev eth3/m);
    assert.doesNotMatch(ip(['-6', 'route']), /default/);
    await assert.rejects(native.setDefaultRoutes(pin, ['0.0.0.0/0 10.254.99.1 eth9']), (e: NodeJS.ErrnoException) =>
      /find eth9/.test(e.message),
    );
    // The peer's name is taken now: the error says what failed.
    await assert.rejects(
      native.bridgeAttach({ ...a, host: `${host}b` }),
      (e: NodeJS.ErrnoException) => e.code === 'EEXIST' && /create veth .*eth3/.test(e.message),
    );
    assert.equal(await native.linkDelete(`${host}b`), false);
    // A sysctl the interface lacks: dockerd's words, and the interface stays down.
    await assert.rejects(
      native.bridgeAttach({ ...a, host: `${host}b`, ifName: 'eth4', routes: [], sysctls: ['/proc/sys/net/ipv4/conf/eth4/nope=1'] }),
      (e: NodeJS.ErrnoException) => /\/proc\/sys\/net\/ipv4\/conf\/eth4\/nope is not a sysctl file/.test(e.message),
    );
    assert.doesNotMatch(ip(['-o', 'link', 'show', 'eth4']), /[<,]UP[,>]/);
    assert.equal(await native.linkDelete(`${host}b`), true);
    assert.equal(await native.linkDelete(host), true);
    assert.equal(ip(['-o', 'link', 'show', 'eth3']), '', 'the peer went with it');
    assert.equal(await native.linkDelete(host), false);
  } finally {
    await native.linkDelete(`${host}b`);
    await native.linkDelete(host);
    await native.linkDelete(bridge);
  }
});

test('prioritizeThread: the calling thread runs at the nice asked; processes and threads it makes after start at 0', () => {
  // In a Node of its own: the test runner's own thread keeps its priority.
  const script = `
    const native = await import(${JSON.stringify(new URL('./binding.js', import.meta.url).href)});
    const { execFileSync } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const { Worker } = await import('node:worker_threads');
    const nice = (stat) => Number(stat.split(') ')[1].split(' ')[16]);
    native.prioritizeThread(-7);
    const child = nice(execFileSync('cat', ['/proc/self/stat'], { encoding: 'utf8' }));
    const worker = await new Promise((resolve, reject) => {
      const w = new Worker("import { parentPort } from 'node:worker_threads'; import { readFileSync } from 'node:fs';" +
        "parentPort.postMessage(readFileSync('/proc/thread-self/stat', 'utf8'))", { eval: true });
      w.once('message', (m) => { resolve(nice(m)); void w.terminate(); });
      w.once('error', reject);
    });
    console.log(JSON.stringify({ self: nice(readFileSync('/proc/thread-self/stat', 'utf8')), child, worker }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout) as unknown, { self: -7, child: 0, worker: 0 });
  assert.throws(() => native.prioritizeThread(-21), /nice must be an integer from -20 to 19/);
});

test('writeAtomic: the file replaced whole, durable or not, its mode; the temp file gone on a failure; Node-style errors', async () => {
  const d = await tempDir();
  const w = native.writeAtomic()!;
  const f = join(d, 'record.json');
  await w(join(d, '.record.json.tmp-1'), f, Buffer.from('{"a":1}'), 0o600, true);
  await w(join(d, '.record.json.tmp-2'), f, Buffer.from('{"a":2}'), 0o644, false);
  assert.equal(readFileSync(f, 'utf8'), '{"a":2}');
  assert.equal((await lstat(f)).mode & 0o777, 0o644 & ~process.umask());
  writeFileSync(join(d, 'taken'), '');
  // An existing temp name is refused (O_EXCL) and left as it was; a missing folder is ENOENT.
  await assert.rejects(w(join(d, 'taken'), f, Buffer.from('x'), 0o600, true), { code: 'EEXIST', syscall: 'open', path: join(d, 'taken') });
  await assert.rejects(w(join(d, 'no/t'), join(d, 'no/f'), Buffer.from('x'), 0o600, true), { code: 'ENOENT', syscall: 'open' });
  // A rename that fails (onto a non-empty folder) removes the temp file.
  mkdirSync(join(d, 'full/x'), { recursive: true });
  await assert.rejects(w(join(d, '.t'), join(d, 'full'), Buffer.from('x'), 0o600, false), { code: 'EISDIR', syscall: 'rename' });
  assert.deepEqual(readdirSync(d).sort(), ['full', 'record.json', 'taken']);
});

test('sealedCopy: a memfd of the file that nothing can write or reseal', () => {
  const fd = native.sealedCopy('/bin/true', 'berth-test')!;
  try {
    assert.equal(readFileSync(`/proc/self/fd/${fd}`).compare(readFileSync('/bin/true')), 0);
    assert.match(spawnSync('readlink', [`/proc/${process.pid}/fd/${fd}`], { encoding: 'utf8' }).stdout, /^\/memfd:berth-test/);
    assert.throws(() => writeFileSync(`/proc/self/fd/${fd}`, 'x'), { code: 'EPERM' });
    assert.equal(spawnSync(`/proc/self/fd/${fd}`).status, 0, 'runs');
  } finally {
    closeSync(fd);
  }
});
