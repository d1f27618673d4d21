// Pull of a large multi-layer image from a private registry on 127.0.0.1: berth against skopeo,
// podman and docker, side by side in one run. The image is a Debian root file system made by
// `debootstrap` (minbase + perl + python3) split into four gzip layers; it is built once and
// kept under `.bench/pull/` (git-ignored). Each run starts Debian's docker-registry with a
// config of its own, pushes the image there with berth's push, then times, N times in turn,
// a pull of it into an empty store by each peer. Everything the run starts (registry,
// containerd, dockerd) is stopped by PID, mounts under its temp dir are unmounted, the temp
// dir is removed; the cache stays.
//
//   npx tsc -p . && npm run bench:pull      (BENCH_N=10 for more iterations; default 5)
//   BENCH_PEERS=berth,skopeo                (only these peers)
//
// Needs root, debootstrap (first run only, through apt's configured Debian mirror; without it
// the layers are cut from the host's own /usr), docker-registry; peers where installed:
// skopeo, podman, dockerd + containerd + docker CLI.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageStore } from '../src/image/store.js';
import { Snapshotter } from '../src/image/snapshot.js';
import { pull } from '../src/image/registry/pull.js';
import { push } from '../src/image/registry/push.js';
import { MediaType, digestOf, type Descriptor, type ImageConfig } from '../src/oci/image.js';
import { startRegistry } from '../test/helpers/registry.js';
import { BenchRun, podmanSetup, sh, startDockerd, unmountAll, which } from './common.js';

const N = Math.max(1, Number(process.env.BENCH_N ?? 5) || 5);
const WARMUP = 1;
const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const CACHE = process.env.BENCH_CACHE ?? join(REPO_ROOT, '.bench', 'pull');
const IMAGE_NAME = 'bench/debian:pull';
const SUITE = 'bookworm';
const SELF = new URL(import.meta.url).pathname;

// ---------------------------------------------------------------- worker: one berth pull

/** `node pull.js --berth-worker <root> <ref> <0|1>`: one pull into a fresh store; prints JSON. */
async function worker(root: string, ref: string, unpack: boolean): Promise<void> {
  const t0 = process.hrtime.bigint();
  const store = new ImageStore(join(root, 'images'));
  const snap = unpack ? new Snapshotter(join(root, 'snapshots')) : undefined;
  const r = await pull(store, ref, { unpack: snap });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ ms, fetched: r.fetched, layers: r.image.manifest.layers.length }) + '\n');
}

// ---------------------------------------------------------------- the image, built once

interface Built {
  layers: number;
  compressed: number;
  uncompressed: number;
  source: string;
}

function aptSource(): string | undefined {
  // The first Debian URI of apt's own configuration: the only mirror this machine may reach.
  for (const f of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    try {
      const t = readFileSync(f, 'utf8');
      const m = /^URIs:\s*(\S+\/debian)\s*$/m.exec(t) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s/m.exec(t);
      if (m) return m[1];
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** A root file system in `.bench/pull/rootfs`, from debootstrap; undefined when it cannot be made. */
function rootfs(): { dir: string; source: string } | undefined {
  const dir = join(CACHE, 'rootfs');
  if (existsSync(join(dir, '.complete'))) return { dir, source: readFileSync(join(dir, '.complete'), 'utf8').trim() };
  if (!which('debootstrap')) {
    console.log('debootstrap is not installed (apt-get install debootstrap); using host directories');
    return undefined;
  }
  const mirror = aptSource();
  if (!mirror) {
    console.log('apt has no Debian source configured; using host directories');
    return undefined;
  }
  const tmp = join(CACHE, 'rootfs.tmp');
  rmSync(tmp, { recursive: true, force: true });
  console.log(`debootstrap --variant=minbase --include=perl,python3 ${SUITE} from ${mirror} (once; cached in ${dir}) ...`);
  const r = sh('debootstrap', ['--variant=minbase', '--include=perl,python3', SUITE, tmp, mirror], { timeout: 30 * 60_000 });
  if (r.status !== 0) {
    console.log(
      `debootstrap failed (exit ${r.status}): ${(r.stdout + r.stderr).trim().split('\n').slice(-2).join(' | ')}; using host directories`,
    );
    rmSync(tmp, { recursive: true, force: true });
    return undefined;
  }
  // apt's downloaded .debs are not part of a root file system an image ships.
  rmSync(join(tmp, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(join(tmp, 'var/cache/apt/archives/partial'), { recursive: true });
  const source = `debootstrap --variant=minbase --include=perl,python3 ${SUITE} (${mirror})`;
  writeFileSync(join(tmp, '.complete'), source + '\n');
  sh('mv', [tmp, dir]);
  return { dir, source };
}

/** Tar (GNU tar, numeric owners, xattrs) of `paths` under `dir`, minus `exclude`. */
function tarOf(dir: string, paths: string[], exclude: string[] = []): Buffer {
  const args = [
    '-C',
    dir,
    '--numeric-owner',
    '--xattrs',
    '--xattrs-include=*',
    '--sort=name',
    '--anchored',
    ...exclude.map((e) => `--exclude=${e}`),
    '-cf',
    '-',
    ...paths,
  ];
  const r = spawnSync('tar', args, { maxBuffer: 2 ** 31 });
  if (r.status !== 0) throw new Error(`tar ${paths.join(' ')}: ${r.stderr.toString().trim()}`);
  return r.stdout;
}

/** Paths under `root/rel` in sorted walk order (directories included) until `cap` bytes of files. */
function capped(root: string, rel: string, cap: number): string[] {
  const out: string[] = [];
  let total = 0;
  const walk = (r: string): boolean => {
    out.push(r);
    for (const e of readdirSync(join(root, r), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const c = `${r}/${e.name}`;
      if (e.isDirectory()) {
        if (!walk(c)) return false;
        continue;
      }
      const st = lstatSync(join(root, c));
      if (total + st.size > cap) return false;
      total += st.size;
      out.push(c);
    }
    return true;
  };
  walk(rel);
  return out;
}

function tarOfList(dir: string, paths: string[]): Buffer {
  const list = join(CACHE, 'tar-list.tmp');
  writeFileSync(list, paths.join('\n') + '\n');
  try {
    const r = spawnSync('tar', ['-C', dir, '--numeric-owner', '--xattrs', '--xattrs-include=*', '--no-recursion', '-cf', '-', '-T', list], {
      maxBuffer: 2 ** 31,
    });
    if (r.status !== 0) throw new Error(`tar: ${r.stderr.toString().trim()}`);
    return r.stdout;
  } finally {
    rmSync(list, { force: true });
  }
}

async function buildImage(): Promise<Built> {
  const store = new ImageStore(join(CACHE, 'store'));
  const marker = join(CACHE, 'image.json');
  if (existsSync(marker)) {
    try {
      await store.resolve(IMAGE_NAME);
      return JSON.parse(readFileSync(marker, 'utf8')) as Built;
    } catch {
      /* rebuild */
    }
  }
  mkdirSync(CACHE, { recursive: true });
  const fs = rootfs();
  let tars: { name: string; tar: () => Buffer }[];
  let source: string;
  if (fs) {
    source = fs.source;
    const top = readdirSync(fs.dir).filter((n) => n !== '.complete');
    const big = ['usr/lib/x86_64-linux-gnu', 'usr/lib', 'usr/share', 'usr/bin', 'usr/sbin'];
    tars = [
      { name: 'base (all but /usr/lib, /usr/share, /usr/bin, /usr/sbin)', tar: () => tarOf(fs.dir, top, big) },
      { name: '/usr/lib/x86_64-linux-gnu', tar: () => tarOf(fs.dir, ['usr/lib/x86_64-linux-gnu']) },
      { name: '/usr/lib (rest: perl, python3, ...)', tar: () => tarOf(fs.dir, ['usr/lib'], ['usr/lib/x86_64-linux-gnu']) },
      { name: '/usr/share, /usr/bin, /usr/sbin', tar: () => tarOf(fs.dir, ['usr/share', 'usr/bin', 'usr/sbin']) },
    ];
  } else {
    source = "the host's /usr/bin, /usr/lib/x86_64-linux-gnu, /usr/share, capped (no debootstrap)";
    // Capped, so that a fat host still gives an image of about 200 MB of tar.
    tars = [
      { name: '/usr/bin (first 40 MB)', tar: () => tarOfList('/', capped('/', 'usr/bin', 40e6)) },
      { name: '/usr/lib/x86_64-linux-gnu (first 80 MB)', tar: () => tarOfList('/', capped('/', 'usr/lib/x86_64-linux-gnu', 80e6)) },
      { name: '/usr/share (first 80 MB)', tar: () => tarOfList('/', capped('/', 'usr/share', 80e6)) },
    ];
  }
  const layers: Descriptor[] = [];
  const diffIDs: string[] = [];
  let uncompressed = 0;
  for (const t of tars) {
    const tar = t.tar();
    const gz = gzipSync(tar, { level: 6 });
    const desc: Descriptor = { mediaType: MediaType.LayerGzip, digest: digestOf(gz), size: gz.length };
    await store.content.put(gz, desc);
    layers.push(desc);
    diffIDs.push(digestOf(tar));
    uncompressed += tar.length;
    console.log(`  layer ${t.name}: ${(tar.length / 1e6).toFixed(1)} MB tar, ${(gz.length / 1e6).toFixed(1)} MB gzip`);
  }
  const config: ImageConfig = {
    created: new Date().toISOString(),
    os: 'linux',
    architecture: 'amd64',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/bash'] },
    rootfs: { type: 'layers', diff_ids: diffIDs },
    history: tars.map((t) => ({ created: new Date().toISOString(), created_by: `berth bench: ${t.name}` })),
  };
  await store.createImage(IMAGE_NAME, config, layers);
  const built: Built = { layers: layers.length, compressed: layers.reduce((a, l) => a + l.size, 0), uncompressed, source };
  writeFileSync(marker, JSON.stringify(built, null, 1) + '\n');
  return built;
}

// ---------------------------------------------------------------- peers

interface Peer {
  name: string;
  /** What one timed pull includes. */
  includes: string;
  /** Whether a pull leaves the layers unpacked (compared with berth+unpack) or only the blobs (with berth). */
  unpacks: boolean;
  skip?: string;
  /** One pull into an empty store; returns its wall time in ms. */
  pull(i: number): number;
  /** Empties the store again (not timed). */
  reset(i: number): void;
  times: number[];
  extra?: number[];
  /** Pulls that failed and were retried. */
  failures?: number;
}

function timed(what: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): { ms: number; out: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: env ?? process.env, maxBuffer: 64 << 20, timeout: 600_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0)
    throw new Error(
      `${what}: exit ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(0, 3).join(' | ')}`,
    );
  return { ms, out: r.stdout };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) console.log('note: not root; podman, docker and berth unpack need root');
  const only = process.env.BENCH_PEERS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const want = (n: string) => !only || only.includes(n);
  const built = await buildImage();
  const bench = new BenchRun('pull');
  const dir = bench.dir;
  const children = bench.children;
  try {
    const registry = (bench.registry = await startRegistry());
    const ref = `${registry.host}/${IMAGE_NAME}`;
    const src = new ImageStore(join(CACHE, 'store'));
    const pushed = await push(src, IMAGE_NAME, ref);
    const img = await src.resolve(IMAGE_NAME);
    // What goes over the wire: manifest, config and layers.
    const wire = img.manifest.layers.reduce((a, l) => a + l.size, 0) + img.manifest.config.size + pushed.size;

    const peers: Peer[] = [];
    const fresh = (name: string, i: number) => join(dir, `${name}-${i}`);

    // berth: the library in a child Node.js process, as a CLI would run it (Node start counted).
    for (const unpack of [false, true]) {
      const name = unpack ? 'berth+unpack' : 'berth';
      const p: Peer = {
        name,
        times: [],
        extra: [],
        unpacks: unpack,
        includes: unpack
          ? 'download, verify, store blobs + unpack each layer into an overlayfs-ready dir while it downloads; Node start'
          : 'download, verify (sha256), fsync blobs into a content store, name the image; Node start',
        pull(i) {
          const r = timed(name, process.execPath, [SELF, '--berth-worker', fresh(name, i), ref, unpack ? '1' : '0']);
          this.extra!.push(JSON.parse(r.out.trim().split('\n').pop()!).ms);
          return r.ms;
        },
        reset(i) {
          rmSync(fresh(name, i), { recursive: true, force: true });
        },
      };
      if (!want(name)) p.skip = 'not in BENCH_PEERS';
      peers.push(p);
    }

    // skopeo: copy into an OCI layout (blobs verified, written as they are; no unpack).
    {
      const p: Peer = {
        name: 'skopeo',
        times: [],
        unpacks: false,
        includes: 'download, verify, write blobs into an OCI layout dir (no unpack)',
        pull(i) {
          return timed('skopeo copy', 'skopeo', [
            'copy',
            '-q',
            '--src-tls-verify=false',
            `docker://${ref}`,
            `oci:${fresh('skopeo', i)}:pull`,
          ]).ms;
        },
        reset(i) {
          rmSync(fresh('skopeo', i), { recursive: true, force: true });
        },
      };
      if (!which('skopeo')) p.skip = 'skopeo is not installed (apt-get install skopeo)';
      else if (!want('skopeo')) p.skip = 'not in BENCH_PEERS';
      peers.push(p);
    }

    // podman: its own storage (overlay), runroot, containers.conf; rmi between runs.
    {
      let pm: ReturnType<typeof podmanSetup> | undefined;
      let pmErr: string | undefined;
      try {
        if (want('podman')) pm = podmanSetup(join(dir, 'podman'), registry.host);
      } catch (e) {
        pmErr = (e as Error).message;
      }
      const env = pm?.env ?? process.env;
      const args = (...a: string[]) => (pm ? pm.argv(...a).slice(1) : a);
      const p: Peer = {
        name: 'podman',
        times: [],
        unpacks: true,
        includes: 'download, verify, decompress + apply each layer into containers/storage (overlay driver)',
        pull() {
          return timed('podman pull', 'podman', args('pull', '-q', '--tls-verify=false', ref), env).ms;
        },
        reset() {
          timed('podman rmi', 'podman', args('rmi', '-f', ref), env);
        },
      };
      if (!want('podman')) p.skip = 'not in BENCH_PEERS';
      else if (pmErr) p.skip = pmErr;
      else {
        // On exit: every image gone, then whatever the overlay driver mounted under its root.
        bench.whileUp(() => {
          sh('podman', args('rmi', '-a', '-f'), { env });
          unmountAll(join(dir, 'podman'));
        });
        const r = sh('podman', args('info', '--format', '{{.Store.GraphDriverName}}'), { env });
        if (r.status !== 0) p.skip = `podman refuses this machine: ${r.stderr.trim().split('\n').pop()}`;
        else p.includes += ` [driver: ${r.stdout.trim()}]`;
      }
      peers.push(p);
    }

    // docker: a dockerd of our own (and the containerd it needs), overlay2; rmi between runs.
    {
      const env: NodeJS.ProcessEnv = { ...process.env };
      const p: Peer = {
        name: 'docker',
        times: [],
        unpacks: true,
        includes: 'download, verify, decompress + apply each layer into overlay2 (dockerd 20.10 graph driver)',
        pull() {
          return timed('docker pull', 'docker', ['pull', '-q', ref], env).ms;
        },
        reset() {
          timed('docker rmi', 'docker', ['rmi', '-f', ref], env);
          sh('docker', ['image', 'prune', '-f'], { env });
        },
      };
      if (!which('docker')) p.skip = 'docker is not installed (apt-get install docker.io)';
      else if (!want('docker')) p.skip = 'not in BENCH_PEERS';
      else {
        try {
          Object.assign(env, (await startDockerd(join(dir, 'docker'), registry.host, children)).env);
          bench.whileUp(() => {
            sh('docker', ['rmi', '-f', ref], { env });
          });
          p.includes += ` [driver: ${sh('docker', ['info', '--format', '{{.Driver}}'], { env }).stdout.trim()}]`;
        } catch (e) {
          p.skip = `docker: ${(e as Error).message}`;
        }
      }
      peers.push(p);
    }

    // Peers take turns within each iteration, so that drift in the machine's load hits all alike.
    const active = () => peers.filter((p) => !p.skip);
    for (let i = 0; i < WARMUP + N; i++) {
      for (const p of active()) {
        let ms: number;
        try {
          ms = p.pull(i);
        } catch (e) {
          // One retry, said aloud: a pull that fails twice in a row drops the peer.
          process.stderr.write(`${p.name} failed, retrying once: ${(e as Error).message}\n`);
          p.failures = (p.failures ?? 0) + 1;
          try {
            p.reset(i);
          } catch {
            /* best effort */
          }
          try {
            ms = p.pull(i);
          } catch (e2) {
            p.skip = `failed twice: ${(e2 as Error).message}`;
            continue;
          }
        }
        if (i >= WARMUP) p.times.push(ms);
        else if (p.extra) p.extra.length = 0;
        try {
          p.reset(i);
        } catch (e) {
          p.skip = `reset failed: ${(e as Error).message}`;
        }
      }
      process.stderr.write(`iteration ${i + 1 - WARMUP}/${N}${i < WARMUP ? ' (warm-up)' : ''} done\n`);
    }

    // ------------------------------------------------------------ report
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    };
    const mb = (b: number) => (b / 1e6).toFixed(1);
    const ver = (cmd: string, args: string[]) => {
      const r = sh(cmd, args);
      return r.status === 0 ? r.stdout.trim().split('\n')[0] : '?';
    };
    console.log('');
    console.log(`pull bench: ${N} iterations (+${WARMUP} warm-up), each into an empty store; peers take turns`);
    console.log(
      `image: ${built.source}; ${built.layers} gzip layers, ${mb(wire)} MB over the wire (compressed), ${mb(built.uncompressed)} MB of tar`,
    );
    console.log(
      `registry: Debian docker-registry (${ver('/usr/bin/docker-registry', ['--version'])}) on ${registry.host}, plain HTTP; MB = 10^6 bytes; MB/s = compressed bytes / median time`,
    );
    console.log(
      `versions: node ${process.version}; ${ver('skopeo', ['--version'])}; ${ver('podman', ['--version'])}; docker ${ver('dockerd', ['--version'])}`,
    );
    console.log('');
    console.log(
      `${'peer'.padEnd(13)}${'median s'.padStart(10)}${'min s'.padStart(8)}${'max s'.padStart(8)}${'MB/s'.padStart(8)}${'berth/peer'.padStart(12)}   includes`,
    );
    const byName = (n: string) => peers.find((p) => p.name === n && !p.skip && p.times.length);
    for (const p of peers) {
      if (p.skip || !p.times.length) {
        console.log(`${p.name.padEnd(13)}skipped: ${p.skip ?? 'no times'}`);
        continue;
      }
      const m = median(p.times);
      // The like-for-like berth: download only against download only, unpack against unpack.
      const base = byName(p.unpacks ? 'berth+unpack' : 'berth');
      const ratio = base && base !== p ? (median(base.times) / m).toFixed(2) : '';
      console.log(
        `${p.name.padEnd(13)}${(m / 1000).toFixed(2).padStart(10)}${(Math.min(...p.times) / 1000).toFixed(2).padStart(8)}` +
          `${(Math.max(...p.times) / 1000).toFixed(2).padStart(8)}${(wire / 1e6 / (m / 1000)).toFixed(1).padStart(8)}${ratio.padStart(12)}   ${p.includes}`,
      );
    }
    for (const p of peers.filter((x) => x.failures))
      console.log(`(${p.name}: ${p.failures} failed pull(s) retried; see the messages above)`);
    for (const p of peers.filter((x) => x.extra?.length && !x.skip)) {
      console.log(`(${p.name}: median ${(median(p.extra!) / 1000).toFixed(2)} s inside the worker, without Node's start and module load)`);
    }
    console.log('');
    console.log(
      "berth/peer: berth's median over the peer's (below 1: berth faster); download-only peers (skopeo) against berth, unpacking peers (podman, docker) against berth+unpack",
    );
  } finally {
    await bench.cleanup();
  }
}

if (process.argv[2] === '--berth-worker') {
  worker(process.argv[3], process.argv[4], process.argv[5] === '1').catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
