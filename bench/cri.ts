// The CRI's pod start, as kubelet drives it: the time from RunPodSandbox to a running container
// (RunPodSandbox, CreateContainer, StartContainer of a busybox `sleep`), through whole CRI
// runtimes side by side in one run — berthd's CRI server, and Debian's containerd 1.6 with its
// CRI plugin and runc v2 shim running runc, and running berth-runtime (a second handler of the
// same containerd). Every pod gets an address on a bridge and a cgroup parent, as kubelet's do:
// containerd's from a CNI config of the bench's (bridge + portmap); berthd's on berth's own
// bridge network, which berthd's CRI server uses for pods (made by berthd through netlink
// since 2026-12-07, before that with the same CNI bridge plugin). Images (busybox and the pause image, berth's pause program) are pulled before
// timing, from a private docker-registry on 127.0.0.1. The peers take turns within each
// iteration; each pod is stopped and removed, untimed, before the next.
//
//   npm run build && npm run bench:cri     (as root; BENCH_N=20 for more; default 10)
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTIME } from '../test/helpers/bundle.js';
import { bridgeConflist, startContainerd } from '../test/helpers/containerd.js';
import { CriClient, type PodSandboxConfig, type Req } from '../test/helpers/cri-client.js';
import { cgroupParents, removeNewCgroups } from '../test/helpers/dockerd.js';
import { pushPodImages } from '../test/helpers/pod-images.js';
import { startRegistry } from '../test/helpers/registry.js';
import { BenchRun, percentile, sh, startBerthd, which } from './common.js';

const N = Math.max(1, Number(process.env.BENCH_N ?? 10) || 10);
const WARMUP = 1;

interface Peer {
  name: string;
  includes: string;
  cri?: CriClient;
  /** The CRI runtime handler ('' for the default). */
  handler: string;
  cgroupParent: string;
  skip?: string;
  times: number[];
}

/** One pod with one running container; its time in ms (the teardown after is not timed). */
async function podStart(p: Peer, i: number, image: string, logs: string): Promise<number> {
  const cri = p.cri!;
  const config: Req<PodSandboxConfig> = {
    metadata: { name: `bench-${i}`, uid: `bench-${p.name}-${i}-${process.pid}`, namespace: 'bench', attempt: 0 },
    hostname: `bench-${i}`,
    log_directory: join(logs, `${p.name}-${i}`),
    linux: { cgroup_parent: p.cgroupParent },
  };
  const t0 = process.hrtime.bigint();
  const { pod_sandbox_id } = await cri.runtime('RunPodSandbox', { config, runtime_handler: p.handler });
  let ms: number;
  try {
    const { container_id } = await cri.runtime('CreateContainer', {
      pod_sandbox_id,
      sandbox_config: config,
      config: { metadata: { name: 'sleep', attempt: 0 }, image: { image }, command: ['sleep', '3600'], log_path: 'sleep/0.log' },
    });
    await cri.runtime('StartContainer', { container_id });
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const st = await cri.runtime('ContainerStatus', { container_id });
    if (st.status?.state !== 'CONTAINER_RUNNING') throw new Error(`${p.name}: the container is ${st.status?.state}, not running`);
    // Like for like: every runtime's pod has an address of its own on a bridge (berthd's on berth's own network, made by berthd through netlink).
    const ip = (await cri.runtime('PodSandboxStatus', { pod_sandbox_id })).status?.network?.ip ?? '';
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new Error(`${p.name}: the pod has no IP address (${JSON.stringify(ip)})`);
  } finally {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id });
  }
  return ms;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) console.log('note: not root; the runtimes need root');
  const bench = new BenchRun('cri');
  const dir = bench.dir;
  const logs = join(dir, 'pod-logs');
  const peers: Peer[] = [];
  try {
    const registry = (bench.registry = await startRegistry());
    const images = await pushPodImages(registry.host);

    // ------------------------------------------------------------ berthd's CRI server
    const berthd: Peer = {
      name: 'berthd',
      includes: "berthd: CRI server, engine pods, berth-runtime library, berth's bridge network",
      handler: '',
      cgroupParent: `/berth-bench-cri-${process.pid}`,
      times: [],
    };
    peers.push(berthd);
    const cgBefore = cgroupParents([berthd.cgroupParent.slice(1)]);
    bench.afterDown(() => removeNewCgroups(cgBefore, [berthd.cgroupParent.slice(1)]));
    try {
      const cniDir = join(dir, 'berthd-cni');
      mkdirSync(cniDir);
      const bridge = `berthcrd${process.pid % 10000}`;
      writeFileSync(join(cniDir, '10-bench.conflist'), bridgeConflist(bridge, '10.142.3.0/24', join(dir, 'berthd-ipam')));
      bench.afterDown(() => sh('ip', ['link', 'del', bridge]));
      const root = join(dir, 'berthd');
      await startBerthd(root, registry.host, bench.children, process.env, ['--cni-conf-dir', cniDir]);
      const cri = (berthd.cri = new CriClient(join(root, 'run', 'cri.sock')));
      await cri.ready();
      bench.whileUp(async () => {
        for (const p of (await cri.runtime('ListPodSandbox', {})).items) {
          await cri.runtime('StopPodSandbox', { pod_sandbox_id: p.id });
          await cri.runtime('RemovePodSandbox', { pod_sandbox_id: p.id });
        }
        cri.close();
      });
      await cri.image('PullImage', { image: { image: images.busybox } });
      const v = await cri.runtime('Version', {});
      berthd.includes += ` [${v.runtime_name} ${v.runtime_version}]`;
    } catch (e) {
      berthd.skip = `berthd: ${(e as Error).message}`;
    }

    // ------------------------------------------------------------ containerd: runc, and berth-runtime
    const runc = which('runc');
    const ctrPeers: Peer[] = [
      { name: 'containerd-runc', includes: 'containerd 1.6 CRI → shim runc v2 → runc', handler: '', cgroupParent: '', times: [] },
      {
        name: 'containerd-berth',
        includes: 'the same containerd → shim runc v2 → berth-runtime',
        handler: 'berth',
        cgroupParent: '',
        times: [],
      },
    ];
    peers.push(...ctrPeers);
    try {
      if (!runc || !which('containerd')) throw new Error('containerd or runc is not installed');
      const c = await startContainerd({
        runtimes: { runc, berth: realpathSync(RUNTIME) },
        registry: registry.host,
        sandboxImage: images.pause,
        subnet: '10.142.2.0/24',
        bridge: `berthcrc${process.pid % 10000}`,
      });
      bench.whileUp(() => c.stop());
      for (const image of [images.busybox, images.pause]) await c.cri.image('PullImage', { image: { image } });
      const v = await c.cri.runtime('Version', {});
      for (const p of ctrPeers) {
        p.cri = c.cri;
        p.cgroupParent = c.cgroupParent;
        p.includes += ` [${v.runtime_version}]`;
      }
    } catch (e) {
      for (const p of ctrPeers) p.skip = `containerd: ${(e as Error).message}`;
    }

    // ------------------------------------------------------------ pods, peers taking turns
    for (let i = 0; i < WARMUP + N; i++) {
      for (const p of peers.filter((x) => !x.skip)) {
        try {
          const ms = await podStart(p, i, images.busybox, logs);
          if (i >= WARMUP) p.times.push(ms);
        } catch (e) {
          p.skip = (e as Error).message;
        }
      }
      process.stderr.write(`pods: iteration ${i + 1 - WARMUP}/${N}${i < WARMUP ? ' (warm-up)' : ''} done\n`);
    }

    // ------------------------------------------------------------ report
    const ver = (cmd: string, args: string[]) => {
      const r = sh(cmd, args);
      return r.status === 0 ? r.stdout.trim().split('\n')[0] : '?';
    };
    console.log('');
    console.log(`cri bench: ${N} pods (+${WARMUP} warm-up) per runtime; runtimes take turns within each iteration`);
    console.log(
      'timed: RunPodSandbox → CreateContainer → StartContainer (busybox sleep), each pod with an address on a bridge and a cgroup parent',
    );
    console.log(`versions: node ${process.version}; ${ver('containerd', ['--version'])}; ${ver('runc', ['--version'])}`);
    console.log(
      `machine: ${ver('nproc', [])} CPUs, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, ${ver('uname', ['-r'])}`,
    );
    const base = peers.find((p) => p.name === 'containerd-runc' && !p.skip && p.times.length);
    const fmt = (x: number) => x.toFixed(1).padStart(9);
    console.log('');
    console.log(`${'runtime'.padEnd(18)}${'median'.padStart(9)}${'p90'.padStart(9)}${'min'.padStart(9)}${'/c-runc'.padStart(9)}   (ms)`);
    for (const p of peers) {
      if (p.skip || !p.times.length) {
        console.log(`${p.name.padEnd(18)}skipped: ${p.skip ?? 'no times'}`);
        continue;
      }
      const ratio = base ? (percentile(p.times, 0.5) / percentile(base.times, 0.5)).toFixed(2) : '';
      console.log(
        `${p.name.padEnd(18)}${fmt(percentile(p.times, 0.5))}${fmt(percentile(p.times, 0.9))}${fmt(Math.min(...p.times))}${ratio.padStart(9)}   ${p.includes}`,
      );
    }
    console.log('');
    console.log("/c-runc: the runtime's median over containerd with runc's (the aim for berthd: 0.5 or below)");
  } finally {
    await bench.cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
