// User namespaces without copies: N containers from one image, each in a user namespace of its
// own (`--userns=auto`), started one after another through each engine's CLI, in one run —
// berth CLI → berthd (--userns-remap: the image's layers reach every container through an
// idmapped mount), and podman rootless as an unprivileged user made for the run (its storage
// gives each id mapping a chowned copy of the image, as containers/storage does where it cannot
// idmap). The image: busybox plus a layer of FILLER_FILES small files, pulled from a private
// docker-registry on 127.0.0.1 before timing. Printed: the time from the first `run -d` to the
// last one returning (every container running), each run's median, and the disk each engine's
// storage took for the N containers (du -x of its root, the pulled image before subtracted).
//
// The run makes a system user for berthd's remapping and an ordinary user for podman, with
// ranges in /etc/subuid and /etc/subgid far from the usual 100000; at the end the containers go,
// podman's rootless pause process is ended by PID, the users are removed and both files are
// restored byte for byte.
//
//   npm run build && npm run bench:userns     (as root; BENCH_N containers per engine, default 10)
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageStore } from '../src/image/store.js';
import { push } from '../src/image/registry/push.js';
import { allSubIds, freeRange, RANGE_SIZE } from '../src/engine/userns.js';
import { makeRootfs } from '../test/helpers/bundle.js';
import { storeImage } from '../test/helpers/images.js';
import { startRegistry } from '../test/helpers/registry.js';
import { BenchRun, percentile, sh, startBerthd, which } from './common.js';

const N = Math.max(1, Number(process.env.BENCH_N ?? 10) || 10);
const FILLER_FILES = 2000;
const FILLER_BYTES = 8192;
const BERTH = new URL('../../bin/berth.cjs', import.meta.url).pathname;
const ID_FILES = ['/etc/subuid', '/etc/subgid'];

/** busybox and a second layer of small files, pushed to the registry; its reference. */
async function pushImage(dir: string, registryHost: string): Promise<string> {
  const ref = `${registryHost}/bench/userns:latest`;
  const rootfs = join(dir, 'seed-rootfs');
  const filler = join(dir, 'seed-filler');
  const store = new ImageStore(join(dir, 'seed-store'));
  try {
    makeRootfs(rootfs);
    mkdirSync(join(filler, 'usr/share/filler'), { recursive: true });
    const body = Buffer.alloc(FILLER_BYTES, 'x');
    for (let i = 0; i < FILLER_FILES; i++) writeFileSync(join(filler, 'usr/share/filler', `f${i}`), body);
    const tar = (d: string) => execFileSync('tar', ['-C', d, '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 256 << 20 });
    await storeImage(store, 'seed/userns:latest', [tar(rootfs), tar(filler)]);
    await push(store, 'seed/userns:latest', ref);
  } finally {
    for (const d of [rootfs, filler, join(dir, 'seed-store')]) rmSync(d, { recursive: true, force: true });
  }
  return ref;
}

/** Bytes under `dir` on its own file system (mounted container roots are not counted). */
function diskUse(dir: string): number {
  const r = sh('du', ['-sx', '--bytes', dir]);
  if (r.status !== 0) throw new Error(`du ${dir}: ${r.stderr}`);
  return Number(r.stdout.split('\t')[0]);
}

interface Peer {
  name: string;
  includes: string;
  /** Starts one detached container; throws with the CLI's words when it fails. */
  run: (i: number) => void;
  root: string;
  skip?: string;
  times: number[];
  perRun: number[];
  disk?: number;
}

function cli(bin: string, pre: string[], env: NodeJS.ProcessEnv, asUser?: string): (args: string[]) => string {
  return (args) => {
    const argv = asUser ? ['runuser', ['-u', asUser, '--', bin, ...pre, ...args]] : [bin, [...pre, ...args]];
    const r = spawnSync(argv[0] as string, argv[1] as string[], { env, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout.trim();
  };
}

/** Seconds for the N starts (first to last), each start's ms into `p.perRun`. */
function timeStarts(p: Peer): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    p.run(i);
    p.perRun.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** PIDs of the processes owned by `uid`. */
function processesOf(uid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${e}/status`, 'utf8'))?.[1] === String(uid);
      } catch {
        return false; // ended while we looked
      }
    })
    .map(Number);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:userns runs as root: it makes users and their id ranges');
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const loadBefore = load();
  const bench = new BenchRun('userns');
  const dir = bench.dir;
  chmodSync(dir, 0o711); // remapped roots and the podman user pass through it
  const saved = new Map(ID_FILES.map((f) => [f, existsSync(f) ? readFileSync(f, 'utf8') : undefined]));
  const tag = process.pid % 100000;
  const remapUser = `berth-b-remap${tag}`;
  const podUser = `berth-b-pod${tag}`;
  const users: string[] = [];
  bench.afterDown(() => {
    for (const u of users.reverse()) {
      const r = sh('userdel', [u]);
      if (r.status !== 0) console.log(`cleanup: userdel ${u}: ${r.stderr.trim()}`);
    }
    for (const [f, text] of saved) {
      if (text === undefined) rmSync(f, { force: true });
      else writeFileSync(f, text);
    }
  });
  const peers: Peer[] = [];
  try {
    const registry = (bench.registry = await startRegistry());
    const ref = await pushImage(dir, registry.host);
    // Each engine: one range for N + 1 mappings (berthd's own remapping takes the first block).
    const taken = ID_FILES.flatMap((f) => allSubIds(saved.get(f) ?? ''));
    const size = (N + 1) * RANGE_SIZE;
    const start = freeRange(taken, 2 * size, 3_000_000);
    if (start === undefined) throw new Error('no free range of subordinate ids');
    execFileSync('useradd', ['-r', '-U', '-M', '-s', '/bin/false', remapUser]);
    users.push(remapUser);
    const podHome = join(dir, 'podman-home');
    execFileSync('useradd', ['-U', '-m', '-d', podHome, '-s', '/bin/sh', podUser]);
    users.push(podUser);
    for (const f of ID_FILES) writeFileSync(f, `${saved.get(f) ?? ''}${remapUser}:${start}:${size}\n${podUser}:${start + size}:${size}\n`);

    // ------------------------------------------------------------ berth CLI → berthd
    const berth: Peer = {
      name: 'berth',
      includes: 'berth CLI → berthd --userns-remap, --userns=auto: idmapped layers',
      root: join(dir, 'berthd', 'data'),
      run: () => undefined,
      times: [],
      perRun: [],
    };
    peers.push(berth);
    try {
      const b = await startBerthd(join(dir, 'berthd'), registry.host, bench.children, process.env, ['--userns-remap', remapUser]);
      const run = cli(BERTH, [], { ...process.env, BERTH_HOST: b.host });
      bench.whileUp(() => {
        const ids = run(['ps', '-aq']).split('\n').filter(Boolean);
        if (ids.length) run(['rm', '-f', ...ids]);
      });
      run(['pull', '-q', ref]);
      berth.run = () => void run(['run', '-d', '--userns=auto', '--network', 'none', ref, 'sleep', '86400']);
    } catch (e) {
      berth.skip = (e as Error).message;
    }

    // ------------------------------------------------------------ podman rootless
    const podman: Peer = {
      name: 'podman',
      includes: 'podman 4 rootless (runc), --userns=auto: a chowned copy per mapping',
      root: join(podHome, 'storage'),
      run: () => undefined,
      times: [],
      perRun: [],
    };
    peers.push(podman);
    const uid = Number(execFileSync('id', ['-u', podUser], { encoding: 'utf8' }).trim());
    bench.whileUp(async () => {
      // Its rootless pause process and any conmon left: the user's, by PID.
      for (const pid of processesOf(uid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // ended since the listing
        }
      }
      for (let i = 0; i < 50 && processesOf(uid).length; i++) await new Promise((r) => setTimeout(r, 100));
    });
    if (!which('podman') || !which('newuidmap')) podman.skip = 'podman or newuidmap is not installed (apt-get install podman uidmap)';
    else {
      try {
        const run = podmanAs(podUser, podHome, registry.host);
        bench.whileUp(() => {
          const ids = run(['ps', '-aq']).split('\n').filter(Boolean);
          if (ids.length) run(['rm', '-f', '-t', '0', ...ids]);
        });
        run(['pull', '-q', ref]);
        podman.run = () => void run(['run', '-d', '--userns=auto', '--network', 'none', ref, 'sleep', '86400']);
      } catch (e) {
        podman.skip = (e as Error).message;
      }
    }

    for (const p of peers) {
      if (p.skip) continue;
      const before = diskUse(p.root);
      try {
        p.times.push(timeStarts(p));
        p.disk = diskUse(p.root) - before;
      } catch (e) {
        p.skip = (e as Error).message;
      }
    }

    const base = peers.find((p) => p.name === 'podman' && !p.skip);
    const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
    console.log(
      `\nuserns: ${N} containers with --userns=auto from one image (busybox + ${FILLER_FILES} files of ${FILLER_BYTES / 1024} KiB), one after another; load ${loadBefore} → ${load()}\n`,
    );
    console.log(['peer', 'all started', 'one run -d (median)', 'disk for the containers', 'vs podman (time, disk)'].join(' | '));
    for (const p of peers) {
      if (p.skip) {
        console.log(`${p.name} | skipped: ${p.skip}`);
        continue;
      }
      const ratio = !base
        ? '-'
        : p !== base
          ? `${(p.times[0] / base.times[0]).toFixed(2)}×, ${((p.disk ?? 0) / (base.disk || 1)).toFixed(3)}×`
          : '1.00';
      console.log(`${p.name} | ${p.times[0].toFixed(2)} s | ${percentile(p.perRun, 0.5).toFixed(0)} ms | ${mb(p.disk ?? 0)} | ${ratio}`);
    }
    for (const p of peers) console.log(`  ${p.name}: ${p.includes}`);
  } finally {
    await bench.cleanup();
  }
}

/** podman as `user`, rootless, with storage, run and config dirs of its own under `home`. */
function podmanAs(user: string, home: string, registryHost: string): (args: string[]) => string {
  const conf = join(home, 'conf');
  const runDir = join(home, 'xdg-run');
  for (const d of [conf, runDir, join(home, 'tmp')]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const nofile = sh('sh', ['-c', 'ulimit -Hn']).stdout.trim() || '1024';
  const nproc = sh('sh', ['-c', 'ulimit -Hu']).stdout.trim() || '1024';
  // runc: crun 1.8 refuses the hybrid layout. Without delegation (v1), a rootless runc leaves
  // the cgroups alone.
  const runtime = which('runc') ? 'runc' : 'crun';
  writeFileSync(
    join(conf, 'containers.conf'),
    `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n` +
      '\n' +
      `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "${join(home, 'events.log')}"\n` +
      `tmp_dir = "${join(home, 'tmp')}"\nruntime = "${runtime}"\n`,
  );
  writeFileSync(join(conf, 'storage.conf'), `[storage]\ndriver = "overlay"\n`);
  writeFileSync(
    join(conf, 'registries.conf'),
    `unqualified-search-registries = []\n[[registry]]\nlocation = "${registryHost}"\ninsecure = true\n`,
  );
  const ids = execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim();
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  for (const d of [home, conf, runDir, join(home, 'tmp')]) chownSync(d, Number(ids), gid);
  for (const f of readdirSync(conf)) chownSync(join(conf, f), Number(ids), gid);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    USER: user,
    XDG_RUNTIME_DIR: runDir,
    CONTAINERS_CONF: join(conf, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(conf, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: join(conf, 'registries.conf'),
    TMPDIR: join(home, 'tmp'),
  };
  // A rootless podman takes its roots from flags (storage.conf's graphroot is root's).
  return cli('podman', ['--root', join(home, 'storage'), '--runroot', join(home, 'run')], env, user);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
