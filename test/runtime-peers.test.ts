// Other engines drive berth-runtime through runc's command line: podman (through conmon) and
// dockerd (through its managed containerd and containerd-shim-runc-v2). Each engine runs with
// roots of its own in a temp dir, on an image imported from the busybox root file system, with
// no network. Each test stops the processes it started (by pid), unmounts what they mounted
// under its temp dir and removes the cgroups and run folders they made.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  createReadStream,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../src/image/store.js';
import { loadImages } from '../src/image/archive.js';
import { makeRootfs, RUNTIME, uniqueId } from './helpers/bundle.js';
import {
  alive,
  cgroupParents,
  endProcesses,
  missing,
  newDirs,
  pidsNaming,
  removeIfEmpty,
  removeNewCgroups,
  unmountUnder,
} from './helpers/dockerd.js';

const BERTH = realpathSync(RUNTIME);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Out {
  status: number | null;
  stdout: string;
  stderr: string;
}
const out = (r: SpawnSyncReturns<string>): Out => ({ status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' });
const show = (r: Out) => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** A busybox image as a tar of its root file system. */
function rootfsTar(tmp: string): string {
  const dir = join(tmp, 'rootfs');
  makeRootfs(dir);
  const tar = join(tmp, 'rootfs.tar');
  assert.equal(spawnSync('tar', ['-C', dir, '-cf', tar, '.']).status, 0);
  rmSync(dir, { recursive: true, force: true });
  return tar;
}

/** berth-runtime's containers under `root` (its default root when undefined). */
function berthIds(root?: string): string[] {
  const r = spawnSync(BERTH, [...(root ? ['--root', root] : []), 'list', '-q'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

// --- podman --------------------------------------------------------------------------------

test(
  'podman runs, execs into, stops and removes containers with berth-runtime through conmon',
  { skip: missing('podman', 'conmon'), timeout: 120000 },
  async (t: TestContext) => {
    const tmp = mkdtempSync(join(tmpdir(), 'berth-test-podman-'));
    const cgBefore = cgroupParents(['libpod_parent']);
    // containers/image keeps root's blob-info cache here whatever --root says (skopeo shares it):
    // removed if this test made it.
    const made = newDirs(['/var/lib/containers', '/var/lib/containers/cache']).reverse();
    const cache = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';
    const cacheNew = !existsSync(cache);
    t.after(async () => {
      const p = podman(['ps', '-aq'], 30000);
      for (const id of p.stdout.split('\n').filter(Boolean)) podman(['rm', '-f', '-t', '0', id], 30000);
      // conmon and the `podman container cleanup` it starts when a container exits.
      await endProcesses(pidsNaming(tmp), 15000);
      unmountUnder(tmp);
      await removeNewCgroups(cgBefore, ['libpod_parent']);
      rmSync(tmp, { recursive: true, force: true });
      if (cacheNew) rmSync(cache, { force: true });
      removeIfEmpty(made);
    });

    // Podman's settings, all in the temp dir. nofile and nproc: podman's defaults (1048576)
    // are above this machine's hard limits, and nothing here may raise a hard limit. The cni
    // backend makes nothing on the host for --network none (netavark makes /etc/containers/networks
    // and /run/containers/networks). berth-runtime writes its errors as JSON to --log, as runc.
    const conf = join(tmp, 'containers.conf');
    writeFileSync(
      conf,
      `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[network]
network_backend = "cni"
network_config_dir = "${tmp}/cni"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${tmp}/events.log"
tmp_dir = "${tmp}/run"
volume_path = "${tmp}/volumes"
image_copy_tmp_dir = "${tmp}/tmp"
runtime_supports_json = ["berth-runtime", "runc", "crun"]
`,
    );
    mkdirSync(join(tmp, 'tmp'));
    const env = { ...process.env, CONTAINERS_CONF: conf, TMPDIR: join(tmp, 'tmp') };
    function podman(args: string[], timeout = 60000): Out {
      return out(
        spawnSync(
          'podman',
          ['--root', join(tmp, 'root'), '--runroot', join(tmp, 'runroot'), '--storage-driver', 'vfs', '--runtime', BERTH, ...args],
          { env, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      );
    }

    const imp = podman(['import', rootfsTar(tmp), 'localhost/berth-peer:latest']);
    assert.equal(imp.status, 0, show(imp));

    // podman run --rm: conmon calls create (--bundle --pid-file, --log --log-format=json), start, delete --force.
    let r = podman(['run', '--rm', '--network', 'none', 'localhost/berth-peer', 'sh', '-c', 'echo hi from pid $$']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, 'hi from pid 1\n');

    // run -d, exec (exec --process --detach --pid-file), exec with a terminal (--console-socket), stop, rm.
    const name = uniqueId('berth-peer');
    r = podman(['run', '-d', '--network', 'none', '--name', name, 'localhost/berth-peer', 'sleep', '300']);
    assert.equal(r.status, 0, show(r));
    const id = r.stdout.trim();
    assert.ok(berthIds().includes(id), "the container is in berth-runtime's default root");
    r = podman(['exec', name, 'sh', '-c', 'echo exec in $(cat /proc/1/cmdline | tr "\\0" " "); exit 3']);
    assert.equal(r.status, 3, show(r));
    assert.equal(r.stdout, 'exec in sleep 300\n');
    r = podman(['exec', '-t', name, 'tty']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\n$/);
    r = podman(['inspect', '-f', '{{.State.Status}}', name]);
    assert.equal(r.stdout.trim(), 'running');
    r = podman(['stop', '-t', '1', name]);
    assert.equal(r.status, 0, show(r));
    r = podman(['rm', name]);
    assert.equal(r.status, 0, show(r));
    assert.ok(!berthIds().includes(id), 'podman rm deleted the container from berth-runtime');

    // A setup failure reaches the user as berth-runtime's one line, with runc's exit code.
    r = podman(['run', '--rm', '--network', 'none', 'localhost/berth-peer', '/bin/nope']);
    assert.equal(r.status, 127, show(r));
    assert.match(r.stderr, /exec: "\/bin\/nope": stat \/bin\/nope: no such file or directory/);
  },
);

// --- dockerd -------------------------------------------------------------------------------

test(
  'dockerd runs, execs into, stops and removes containers with --runtime berth',
  { skip: missing('dockerd', 'docker', 'containerd', 'containerd-shim-runc-v2'), timeout: 150000 },
  async (t: TestContext) => {
    const tmp = mkdtempSync(join(tmpdir(), 'berth-test-dockerd-'));
    const cgBefore = cgroupParents(['docker']);
    // Paths dockerd 20.10 and containerd 1.6 make whatever their roots: the shim's socket folder
    // and the plugin socket folder.
    const made = newDirs(['/run/containerd', '/run/containerd/s', '/run/docker', '/run/docker/plugins']).reverse();
    const sock = join(tmp, 'docker.sock');
    const execRoot = join(tmp, 'exec');
    const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(tmp, 'cli') };
    const docker = (args: string[], timeout = 60000): Out =>
      out(spawnSync('docker', args, { env, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] }));

    // deprecated-key-path: else dockerd 20.10 writes /etc/docker/key.json.
    writeFileSync(join(tmp, 'daemon.json'), JSON.stringify({ 'deprecated-key-path': join(tmp, 'key.json') }));
    const log = openSync(join(tmp, 'dockerd.log'), 'a');
    const dockerd = spawn(
      'dockerd',
      [
        '--data-root',
        join(tmp, 'data'),
        '--exec-root',
        execRoot,
        '-H',
        `unix://${sock}`,
        '--pidfile',
        join(tmp, 'dockerd.pid'),
        '--config-file',
        join(tmp, 'daemon.json'),
        '--bridge=none',
        '--iptables=false',
        '--ip6tables=false',
        '--storage-driver',
        'vfs',
        '--add-runtime',
        `berth=${BERTH}`,
      ],
      { env, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    const exited = new Promise<void>((res) => dockerd.on('exit', () => res()));

    t.after(async () => {
      if (alive(dockerd.pid!)) {
        const ps = docker(['ps', '-aq'], 20000);
        for (const id of ps.stdout.split('\n').filter(Boolean)) docker(['rm', '-f', id], 20000);
        dockerd.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 20000).unref())]);
      }
      // dockerd's managed containerd and any shim left: every one names our exec root.
      await endProcesses(pidsNaming(tmp), 5000);
      unmountUnder(tmp);
      await removeNewCgroups(cgBefore, ['docker']);
      rmSync(tmp, { recursive: true, force: true });
      removeIfEmpty(made);
    });

    for (let i = 0; ; i++) {
      if (docker(['version', '--format', '{{.Server.Version}}'], 5000).status === 0) break;
      assert.ok(
        i < 300 && dockerd.exitCode === null,
        `dockerd did not start:\n${readFileSync(join(tmp, 'dockerd.log'), 'utf8').slice(-3000)}`,
      );
      await sleep(100);
    }

    const imp = docker(['import', rootfsTar(tmp), 'berth-peer:latest']);
    assert.equal(imp.status, 0, show(imp));

    // What `docker save` writes, berth loads (issue 4): same image, same layer.
    const saved = join(tmp, 'saved.tar');
    const save = docker(['save', '-o', saved, 'berth-peer:latest']);
    assert.equal(save.status, 0, show(save));
    const store = new ImageStore(join(tmp, 'berth-images'));
    const loaded = await loadImages(store, createReadStream(saved));
    assert.deepEqual(loaded.names, ['docker.io/library/berth-peer:latest']);
    const img = await store.resolve('berth-peer');
    assert.equal(img.manifest.layers.length, 1);
    const dockerId = docker(['inspect', '-f', '{{.Id}}', 'berth-peer:latest']).stdout.trim();
    assert.equal(img.manifest.config.digest, dockerId);
    // containerd-shim-runc-v2 keeps runc's state in <exec-root>/runtime-runc/moby and passes it as --root.
    const stateRoot = join(execRoot, 'runtime-runc', 'moby');

    // The shim calls --root … --log … --log-format json create --bundle … --pid-file …, start, delete.
    let r = docker(['run', '--runtime', 'berth', '--rm', '--network', 'none', 'berth-peer', 'sh', '-c', 'echo hi from pid $$']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, 'hi from pid 1\n');

    // docker run -t: the pty master reaches the shim through --console-socket.
    r = docker(['run', '--runtime', 'berth', '--rm', '-t', '--network', 'none', 'berth-peer', 'tty']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\n$/);

    const name = uniqueId('berth-peer');
    r = docker(['run', '-d', '--runtime', 'berth', '--network', 'none', '--name', name, 'berth-peer', 'sleep', '300']);
    assert.equal(r.status, 0, show(r));
    const id = r.stdout.trim();
    assert.deepEqual(berthIds(stateRoot), [id]);
    r = docker(['exec', name, 'sh', '-c', 'echo exec in $(cat /proc/1/cmdline | tr "\\0" " "); exit 3']);
    assert.equal(r.status, 3, show(r));
    assert.equal(r.stdout, 'exec in sleep 300\n');
    r = docker(['exec', '-t', name, 'tty']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\n$/);
    // docker top (ps), pause/unpause (pause/resume), update (update --resources -).
    r = docker(['top', name]);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /sleep 300/);
    assert.equal(docker(['pause', name]).status, 0);
    assert.equal(docker(['inspect', '-f', '{{.State.Status}}', name]).stdout.trim(), 'paused');
    assert.equal(docker(['unpause', name]).status, 0);
    r = docker(['update', '--memory', '64m', '--memory-swap', '128m', name]);
    assert.equal(r.status, 0, show(r));
    r = docker(['stop', '-t', '1', name]);
    assert.equal(r.status, 0, show(r));
    r = docker(['rm', name]);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(berthIds(stateRoot), []);

    // A setup failure reaches the user as berth-runtime's one line, through the shim's log.json.
    r = docker(['run', '--runtime', 'berth', '--rm', '--network', 'none', 'berth-peer', '/bin/nope']);
    assert.notEqual(r.status, 0, show(r));
    assert.match(r.stderr, /exec: "\/bin\/nope": stat \/bin\/nope: no such file or directory/);
    assert.deepEqual(berthIds(stateRoot), []);
  },
);
