// Side by side: the docker 28 CLI against Debian's dockerd 20.10 and against berthd (and the
// berth CLI where it has the flag) run the same container with the same flag, and the effect is
// read inside it (ulimit -n, the namespace links, the device node, id -G, oom_score_adj, the size
// of /dev/shm, HOME, /etc/hosts); all must agree. Exec and start failures give dockerd's codes and words. Each refusal must leave no container behind.
// dockerd runs with no bridge of its own, so cases that need one are berthd's alone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { berthCli, IMAGE, show, sideBySide } from './helpers/side-by-side.js';

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));

const berth = (args: string[]): CliResult => berthCli(eng, args);

/** Runs `sh -c script` with `flags` on each engine; all must succeed with the same output, which is returned. */
function same(flags: string[], script: string, opts: { berthCli?: boolean } = {}): string {
  const args = ['run', '--rm', '--network', 'none', ...flags, IMAGE, 'sh', '-c', script];
  const want = d.docker(args);
  assert.equal(want.status, 0, show('docker → dockerd', want));
  const got = eng.docker(args);
  assert.equal(got.status, 0, show('docker → berthd', got));
  assert.equal(got.stdout, want.stdout, `docker → berthd and docker → dockerd differ for ${flags.join(' ')}`);
  if (opts.berthCli) {
    const b = berth(args);
    assert.equal(b.status, 0, show('berth', b));
    assert.equal(b.stdout, want.stdout, `berth and docker → dockerd differ for ${flags.join(' ')}`);
  }
  return want.stdout;
}

const containers = (run: (a: string[]) => CliResult) => run(['ps', '-aq']).stdout.split('\n').filter(Boolean).length;

/** Both refuse `args` with the same words and leave no container behind. */
function bothRefuse(args: string[], words: RegExp): void {
  const before = [containers(d.docker), containers(eng.docker)];
  const want = d.docker(args);
  const got = eng.docker(args);
  assert.notEqual(want.status, 0, show('docker → dockerd', want));
  assert.equal(got.status, want.status, show('docker → berthd', got));
  assert.match(want.stderr, words);
  assert.match(got.stderr, words);
  assert.equal(containers(eng.docker), before[1], 'berthd left a container behind');
}

test('--ulimit, --sysctl, --oom-score-adj, --shm-size and --group-add take effect as under dockerd', { skip }, () => {
  assert.equal(same(['--ulimit', 'nofile=1024:2048'], 'ulimit -n; ulimit -Hn'), '1024\n2048\n');
  assert.equal(
    same(
      ['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.msgmax=4096'],
      'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax',
    ),
    '1\n4096\n',
  );
  assert.equal(same(['--oom-score-adj', '500'], 'cat /proc/self/oom_score_adj'), '500\n');
  assert.equal(same(['--shm-size', '1m'], "df -k /dev/shm | tail -n 1 | awk '{print $2}'"), '1024\n');
  assert.equal(same([], "df -k /dev/shm | tail -n 1 | awk '{print $2}'"), '65536\n');
  assert.equal(same(['--group-add', '10', '--group-add', 'nogroup'], 'id -G'), '0 10 65534\n');
  bothRefuse(
    ['run', '--rm', '--network', 'none', '--group-add', 'nosuchgroup', IMAGE, 'true'],
    /Unable to find group nosuchgroup: no matching entries in group file/,
  );
  bothRefuse(
    ['run', '--rm', '--network', 'none', '--oom-score-adj', '2000', IMAGE, 'true'],
    /Invalid value 2000, range for oom score adj is \[-1000, 1000\]/,
  );
});

test("--pid, --ipc and --uts host share the host's namespaces; container: joins a running donor's", { skip }, () => {
  const host = ['pid', 'ipc', 'uts'].map((n) => readlinkSync(`/proc/self/ns/${n}`)).join('\n') + `\n${hostname()}\n`;
  assert.equal(
    same(['--pid', 'host', '--ipc', 'host', '--uts', 'host'], 'for n in pid ipc uts; do readlink /proc/self/ns/$n; done; hostname'),
    host,
  );
  assert.notEqual(same([], 'readlink /proc/self/ns/pid'), `${readlinkSync('/proc/self/ns/pid')}\n`);
  // The donor's processes and its /dev/shm are seen from the joiner.
  const donors = [d.docker, eng.docker].map((run) => {
    const r = run(['run', '-d', '--network', 'none', '--ipc', 'shareable', IMAGE, 'sh', '-c', 'touch /dev/shm/from-donor; exec sleep 300']);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  });
  const outs = [d.docker, eng.docker].map((run, i) => {
    const r = run([
      'run',
      '--rm',
      '--network',
      'none',
      '--pid',
      `container:${donors[i]}`,
      '--ipc',
      `container:${donors[i]}`,
      IMAGE,
      'sh',
      '-c',
      'ps -o comm | grep -qx sleep && echo sees-sleep; ls /dev/shm',
    ]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  });
  assert.equal(outs[1], outs[0]);
  assert.equal(outs[0], 'sees-sleep\nfrom-donor\n');
  for (const [i, run] of [d.docker, eng.docker].entries()) assert.equal(run(['rm', '-f', donors[i]]).status, 0);
  bothRefuse(
    ['run', '--rm', '--network', 'none', '--uts', 'host', '-h', 'foo', IMAGE, 'true'],
    /conflicting options: hostname and the UTS mode/,
  );
  bothRefuse(['run', '--rm', '--network', 'none', '--pid', 'container:nosuch', IMAGE, 'true'], /No such container: nosuch/);
});

test('--device makes the node with its cgroup permission; --device-cgroup-rule allows more', { skip }, () => {
  assert.equal(
    same(['--device', '/dev/null:/dev/xnull'], "stat -c '%F %t:%T %a' /dev/xnull; echo hi > /dev/xnull && echo written"),
    'character special file 1:3 666\nwritten\n',
  );
  // Read-only in the devices cgroup (a node none of Docker's defaults allows): reads open, writes are refused.
  assert.equal(
    same(['--device', '/dev/loop-control:/dev/lc:r'], '(exec 3</dev/lc) && echo read; (exec 3>/dev/lc) 2>/dev/null || echo write-refused'),
    'read\nwrite-refused\n',
  );
  // /dev/loop-control is none of Docker's default devices: opening a node of it needs the rule.
  const open = 'mknod /tmp/l c 10 237 && (exec 3</tmp/l) 2>/dev/null && echo opened || echo refused';
  assert.equal(same(['--device-cgroup-rule', 'c 10:237 r'], open), 'opened\n');
  assert.equal(same([], open), 'refused\n');
  bothRefuse(
    ['run', '--rm', '--network', 'none', '--device', '/dev/nosuch', IMAGE, 'true'],
    /error gathering device information while adding custom device "\/dev\/nosuch": no such file or directory/,
  );
});

test("HOME comes from the user's passwd entry, or /; a bind-mounted /etc/passwd is the one read", { skip }, () => {
  assert.equal(same([], 'echo $HOME', { berthCli: true }), '/root\n');
  assert.equal(same(['-u', 'nobody'], 'echo $HOME', { berthCli: true }), '/\n');
  assert.equal(same(['-u', '1234'], 'echo $HOME', { berthCli: true }), '/\n');
  const etc = join(eng.dir, 'fidelity-etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:4000:4000::/home/app:/bin/sh\n');
  try {
    // dockerd 20.10 reads the image's passwd (`unable to find user app`); runc, and so berthd, the one mounted.
    const args = [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${etc}/passwd:/etc/passwd:ro`,
      '-u',
      'app',
      IMAGE,
      'sh',
      '-c',
      'id -u; echo $HOME',
    ];
    assert.equal(eng.dockerOk(args), '4000\n/home/app');
    const b = berth(args);
    assert.equal(b.status, 0, show('berth', b));
    assert.equal(b.stdout, '4000\n/home/app\n');
  } finally {
    rmSync(etc, { recursive: true, force: true });
  }
});

test('log drivers: none keeps nothing and logs say so, local reads back, others are refused', { skip }, () => {
  const logs = [d.docker, eng.docker].map((run) => {
    const none = run(['run', '--network', 'none', '--log-driver', 'none', IMAGE, 'echo', 'x']);
    assert.equal(none.status, 0, none.stderr);
    const id = run(['ps', '-lq']).stdout.trim();
    const l = run(['logs', id]);
    run(['rm', id]);
    const local = run(['run', '--network', 'none', '--log-driver', 'local', IMAGE, 'echo', 'y']);
    assert.equal(local.status, 0, local.stderr);
    const lid = run(['ps', '-lq']).stdout.trim();
    const ll = run(['logs', lid]);
    run(['rm', lid]);
    return [l.status, l.stderr, ll.status, ll.stdout];
  });
  assert.deepEqual(logs[1], logs[0]);
  assert.deepEqual(logs[0], [1, 'Error response from daemon: configured logging driver does not support reading\n', 0, 'y\n']);
  bothRefuse(
    ['run', '--rm', '--network', 'none', '--log-driver', 'bogus', IMAGE, 'true'],
    /error looking up logging plugin bogus: plugin "bogus" not found/,
  );
  // dockerd fails to reach a syslog socket; berthd has no driver that ships logs elsewhere.
  const syslog = eng.docker(['run', '--rm', '--network', 'none', '--log-driver', 'syslog', IMAGE, 'true']);
  assert.equal(syslog.status, 125);
  assert.match(syslog.stderr, /logging driver "syslog" is not supported by berthd/);
});

test('--stop-signal NOPE is refused at create; --platform of another architecture is not the local image', { skip }, () => {
  bothRefuse(['run', '--rm', '--network', 'none', '--stop-signal', 'NOPE', IMAGE, 'true'], /Invalid signal: NOPE/);
  // A missing network is no missing image: the CLI must not go off to pull.
  bothRefuse(['run', '--rm', '--network', 'nosuchnet', IMAGE, 'true'], /network nosuchnet not found/);
  assert.doesNotMatch(eng.docker(['run', '--rm', '--network', 'nosuchnet', IMAGE, 'true']).stderr, /Unable to find image/);
  // dockerd 28's 404 sends the CLI to pull that platform, which neither registry has.
  const before = containers(eng.docker);
  const r = eng.docker(['run', '--rm', '--network', 'none', '--platform', 'linux/arm64', IMAGE, 'true']);
  assert.equal(r.status, 125, r.stderr);
  assert.match(r.stderr, /Unable to find image 'busybox:latest' locally/);
  assert.equal(containers(eng.docker), before);
  const api = eng.api('POST', '/containers/create?platform=linux/arm64', { Image: IMAGE, Cmd: ['true'] });
  return api.then((res) => {
    assert.equal(res.status, 404);
    assert.equal(
      JSON.parse(res.body).message,
      'image with reference busybox was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64',
    );
  });
});

test("--add-host NAME:host-gateway names the default bridge's gateway (berthd; this dockerd has no bridge)", { skip }, () => {
  const gw = eng.dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge']);
  assert.match(gw, /^\d+\.\d+\.\d+\.\d+$/);
  const out = eng.dockerOk(['run', '--rm', '--add-host', 'gw:host-gateway', IMAGE, 'grep', 'gw$', '/etc/hosts']);
  assert.equal(out, `${gw}\tgw`);
});

test("swarm and plugin endpoints answer as dockerd's on a node in no swarm", { skip }, async () => {
  const sock = join(d.dir, 'docker.sock');
  for (const [method, path] of [
    ['GET', '/swarm'],
    ['GET', '/services'],
    ['GET', '/nodes'],
    ['GET', '/tasks'],
    ['GET', '/secrets'],
    ['GET', '/configs'],
    ['GET', '/services/x'],
    ['POST', '/secrets/create'],
    ['GET', '/plugins'],
    ['GET', '/plugins/foo/json'],
  ]) {
    const want = spawnSync(
      'curl',
      [
        '-s',
        '-w',
        ' %{http_code}',
        '--unix-socket',
        sock,
        '-X',
        method,
        ...(method === 'POST' ? ['-H', 'Content-Type: application/json', '-d', '{}'] : []),
        `http://x${path}`,
      ],
      { encoding: 'utf8' },
    ).stdout;
    const got = await eng.api(method, path, method === 'POST' ? {} : undefined);
    assert.equal(`${got.body.trim()} ${got.status}`, want.replace(/\n/g, ''), `${method} ${path}`);
  }
  // A build with no context: dockerd's status and words.
  const build = await eng.api('POST', '/build');
  assert.equal(build.status, 500);
  assert.equal(JSON.parse(build.body).message, 'Cannot locate specified Dockerfile: Dockerfile');
  // Cluster volumes (API 1.42, after dockerd 20.10): dockerd 28's answers on a node in no swarm.
  const put = await eng.api('PUT', '/v1.43/volumes/x?version=1', {});
  assert.equal(put.status, 503);
  assert.equal(JSON.parse(put.body).message, 'volume update only valid for cluster volumes, but swarm is unavailable');
  const cluster = await eng.api('POST', '/v1.43/volumes/create', { Name: 'fid-cv', ClusterVolumeSpec: {} });
  assert.equal(cluster.status, 503);
  assert.match(JSON.parse(cluster.body).message, /This node is not a swarm manager/);
  // Before 1.42 dockerd ignores the spec and makes a local volume; berthd refuses it.
  assert.equal((await eng.api('POST', '/v1.41/volumes/create', { Name: 'fid-cv', ClusterVolumeSpec: {} })).status, 400);
  assert.equal((await eng.api('GET', '/volumes/fid-cv')).status, 404);
  // docker swarm's own commands read the 503 as dockerd's.
  const ls = [d.docker, eng.docker].map((run) => run(['service', 'ls']));
  assert.equal(ls[1].stderr, ls[0].stderr);
  assert.equal(ls[1].status, ls[0].status);
});

test("--cgroupns host shares the host's cgroup namespace; a field berthd does not apply is refused at create", { skip }, () => {
  assert.equal(same(['--cgroupns', 'host'], 'readlink /proc/self/ns/cgroup'), `${readlinkSync('/proc/self/ns/cgroup')}\n`);
  const before = containers(eng.docker);
  for (const [flags, words] of [
    [['--cgroup-parent', 'relative'], /berth takes an absolute cgroup path/],
    [['--cgroup-parent', '/a/../b'], /may not hold empty, \. or \.\. parts/],
    [['--runtime', 'kata'], /Unknown runtime specified kata/],
  ] as const) {
    const r = eng.docker(['run', '--rm', '--network', 'none', ...flags, IMAGE, 'true']);
    assert.equal(r.status, 125, r.stderr);
    assert.match(r.stderr, words);
  }
  assert.equal(containers(eng.docker), before, 'a refusal left a container');
});

test('--cgroup-parent places the container below that cgroup; dockerd takes it too', { skip }, () => {
  const parent = `/berth-test-cgparent-${process.pid}`;
  // Hybrid and v1 machines: the pids controller's hierarchy; pure v2: the unified one.
  const root = existsSync('/sys/fs/cgroup/pids/cgroup.procs') ? '/sys/fs/cgroup/pids' : '/sys/fs/cgroup';
  try {
    for (const run of [d.docker, eng.docker]) {
      const r = run(['run', '-d', '--network', 'none', '--cgroup-parent', parent, IMAGE, 'sleep', '100']);
      assert.equal(r.status, 0, r.stderr);
      const id = r.stdout.trim();
      try {
        assert.equal(run(['inspect', '-f', '{{.HostConfig.CgroupParent}}', id]).stdout, `${parent}\n`);
        // (This test's dockerd keeps its cgroups where its own driver puts them: berth's are read.)
        if (run !== eng.docker) continue;
        const procs = readFileSync(`${root}${parent}/${id}/cgroup.procs`, 'utf8').trim().split('\n');
        assert.equal(procs.length, 1, procs.join(' '));
      } finally {
        run(['rm', '-f', id]);
      }
    }
  } finally {
    // dockerd leaves the parent it made in every hierarchy; berth removes its own when empty.
    for (const c of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', c, parent);
      if (existsSync(dir)) rmdirSync(dir);
    }
    if (existsSync(join('/sys/fs/cgroup', parent))) rmdirSync(join('/sys/fs/cgroup', parent));
  }
});

/** One API request over a unix socket: status and the raw body. */
function raw(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        socketPath,
        method,
        path,
        agent: false,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

test("exec start: the start's Tty says raw or framed, streamed or not; Detach answers at once", { skip }, async () => {
  const answers = [];
  for (const [sock, run] of [
    [join(d.dir, 'docker.sock'), d.docker],
    [eng.socket, eng.docker],
  ] as const) {
    const id = run(['run', '-d', '--network', 'none', IMAGE, 'sleep', '300']).stdout.trim();
    const exec = async (tty: boolean, start: Record<string, unknown>) => {
      const c = await raw(sock, 'POST', `/containers/${id}/exec`, {
        AttachStdout: true,
        AttachStderr: true,
        Tty: tty,
        Cmd: ['echo', 'hi'],
      });
      const eid = JSON.parse(c.body.toString()).Id as string;
      const r = await raw(sock, 'POST', `/exec/${eid}/start`, start);
      return [r.status, r.body.toString('hex')];
    };
    answers.push([
      await exec(true, { Detach: false, Tty: true }),
      await exec(true, { Detach: false, Tty: false }),
      await exec(false, { Detach: false, Tty: false }),
      await exec(false, { Detach: true }),
    ]);
    run(['rm', '-f', id]);
  }
  assert.deepEqual(answers[1], answers[0]);
  assert.deepEqual(answers[0][0], [200, Buffer.from('hi\r\n').toString('hex')]);
});

test("exec of a command that cannot start: exit 126 and dockerd's words, attached, with a tty, detached and by API", { skip }, async () => {
  const answers = [];
  for (const [sock, run] of [
    [join(d.dir, 'docker.sock'), d.docker],
    [eng.socket, eng.docker],
  ] as const) {
    const id = run(['run', '-d', '--network', 'none', IMAGE, 'sleep', '300']).stdout.trim();
    const seen: unknown[] = [];
    for (const cmd of ['nosuchcmd', '/nosuch/x', '/etc']) {
      for (const flags of [[], ['-t'], ['-d']]) {
        const r = run(['exec', ...flags, id, cmd]);
        seen.push([r.status, r.stdout, r.stderr]);
      }
      const c = await raw(sock, 'POST', `/containers/${id}/exec`, { AttachStdout: true, AttachStderr: true, Cmd: [cmd] });
      const eid = JSON.parse(c.body.toString()).Id as string;
      const started = await raw(sock, 'POST', `/exec/${eid}/start`, {});
      const inspected = JSON.parse((await raw(sock, 'GET', `/exec/${eid}/json`)).body.toString());
      seen.push([started.status, started.body.toString('hex'), inspected.ExitCode, inspected.Running]);
    }
    // run of the same: the exit code only (dockerd's words name its shim and runc).
    seen.push(['nosuchcmd', '/etc'].map((cmd) => run(['run', '--rm', '--network', 'none', IMAGE, cmd]).status));
    run(['rm', '-f', id]);
    answers.push(seen);
  }
  assert.deepEqual(answers[1], answers[0]);
  assert.deepEqual(answers[0][0], [
    126,
    'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown\r\n',
    '',
  ]);
  assert.deepEqual(answers[0].at(-1), [127, 126]);
  const id = eng.dockerOk(['run', '-d', '--network', 'none', IMAGE, 'sleep', '300']);
  const b = berth(['exec', id, 'nosuchcmd']);
  assert.equal(b.status, 126, show('berth', b));
  assert.match(b.stdout + b.stderr, /^OCI runtime exec failed: .*"nosuchcmd": executable file not found in \$PATH: unknown/);
  eng.dockerOk(['rm', '-f', id]);
});

test(
  'networks, volumes, kill and commit answer as dockerd: overlapping pool, swarm scopes, unknown volume driver, a stopped container',
  { skip },
  async () => {
    const answers = [];
    for (const [sock, run, net] of [
      [join(d.dir, 'docker.sock'), d.docker, '10.213.0'],
      [eng.socket, eng.docker, '10.214.0'],
    ] as const) {
      const api = async (method: string, path: string, body?: unknown) => {
        const r = await raw(sock, method, path, body);
        const text = r.body.toString();
        return [r.status, r.status < 300 ? '' : JSON.parse(text).message];
      };
      const made = await raw(sock, 'POST', '/networks/create', { Name: 'fid-a', IPAM: { Config: [{ Subnet: `${net}.0/24` }] } });
      assert.equal(made.status, 201, made.body.toString());
      const st = run(['create', '--name', 'fid-st', '--network', 'none', IMAGE, 'sleep', '100']).stdout.trim();
      answers.push([
        await api('POST', '/networks/create', { Name: 'fid-b', IPAM: { Config: [{ Subnet: `${net}.0/25` }] } }),
        await api('POST', '/networks/create', { Name: 'fid-a', CheckDuplicate: true }),
        await api('POST', '/networks/create', { Name: 'fid-c', Ingress: true }),
        await api('POST', '/networks/create', { Name: 'fid-d', Scope: 'swarm' }),
        await api('POST', '/volumes/create', { Name: 'fid-v', Driver: 'bogus' }),
        (await api('POST', '/containers/fid-st/kill')).map((x) => String(x).replace(st, 'ID')),
        (await api('POST', '/commit?container=fid-st&repo=fid-committed'))[0],
      ]);
      await raw(sock, 'DELETE', '/networks/fid-a');
      run(['rm', '-f', 'fid-st']);
      run(['rmi', 'fid-committed']);
    }
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[0][0], [403, 'Pool overlaps with other one on this address space']);
  },
);

test("GET /distribution/NAME/json: the registry's descriptor and platforms, as dockerd answers", { skip }, async () => {
  const path = `/distribution/${eng.directImage}/json`;
  const want = await raw(join(d.dir, 'docker.sock'), 'GET', path);
  const got = await raw(eng.socket, 'GET', path);
  assert.equal(want.status, 200, want.body.toString());
  assert.equal(got.status, 200, got.body.toString());
  const norm = (b: Buffer) => {
    const j = JSON.parse(b.toString());
    return {
      Descriptor: { mediaType: j.Descriptor.mediaType, digest: j.Descriptor.digest, size: j.Descriptor.size },
      Platforms: j.Platforms,
    };
  };
  assert.deepEqual(norm(got.body).Descriptor, norm(want.body).Descriptor);
  // dockerd 20.10 reads the platform from a Docker schema 2 manifest's config only (null for
  // this OCI manifest); berthd reads it from either, as later dockerd versions do.
  assert.deepEqual(norm(got.body).Platforms, [{ architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux' }]);
  // A short name goes to the mirror, as a pull would.
  const short = await raw(eng.socket, 'GET', '/distribution/busybox/json');
  assert.equal(short.status, 200, short.body.toString());
  assert.equal(JSON.parse(short.body.toString()).Descriptor.digest, norm(got.body).Descriptor.digest);
  assert.equal((await raw(eng.socket, 'GET', `/distribution/${eng.registry.host}/test/nosuch/json`)).status, 404);
});

test("kill (SIGKILL) answers once the container has exited, so the state read next is the exit's, as dockerd's", { skip }, async () => {
  for (const [who, sock, run] of [
    ['dockerd', join(d.dir, 'docker.sock'), d.docker],
    ['berthd', eng.socket, eng.docker],
  ] as const) {
    const id = run(['run', '-d', '--network', 'none', IMAGE, 'sleep', '600']).stdout.trim();
    // The raw API, so that nothing comes between the kill's answer and the inspect.
    const kill = await raw(sock, 'POST', `/containers/${id}/kill`);
    const state = JSON.parse((await raw(sock, 'GET', `/containers/${id}/json`)).body.toString()).State;
    assert.equal(kill.status, 204, who);
    assert.deepEqual([state.Status, state.Running, state.ExitCode], ['exited', false, 137], who);
    assert.equal(run(['rm', id]).status, 0, who);
  }
});

test('network option com.docker.network.driver.mtu: the interface has that MTU, as under dockerd; a bad value refused', { skip }, () => {
  const got = [];
  for (const [run, net] of [
    [d.docker, '10.242.1.0/24'],
    [eng.docker, '10.242.2.0/24'],
  ] as const) {
    const c = run(['network', 'create', '--subnet', net, '-o', 'com.docker.network.driver.mtu=1400', 'mtu-net']);
    assert.equal(c.status, 0, show('network create', c));
    const r = run(['run', '--rm', '--network', 'mtu-net', IMAGE, 'cat', '/sys/class/net/eth0/mtu']);
    run(['network', 'rm', 'mtu-net']);
    got.push([r.status, r.stdout]);
  }
  assert.deepEqual(got, [
    [0, '1400\n'],
    [0, '1400\n'],
  ]);
  const bad = eng.docker(['network', 'create', '-o', 'com.docker.network.driver.mtu=abc', 'mtu-bad']);
  assert.equal(bad.status, 1, show('berthd', bad));
  assert.match(bad.stderr, /failed to parse com\.docker\.network\.driver\.mtu value: abc/);
});

test(
  "--entrypoint '', supplementary groups, --read-only's init files and create's checks agree with dockerd (found by a side-by-side probe)",
  { skip },
  async () => {
    assert.equal(same(['--entrypoint', ''], 'echo hi'), 'hi\n');
    // dockerd gives the primary group as a supplementary one too (GHSA-rc4r-wh2q-q6c4).
    assert.equal(same(['-u', '1000:1000'], 'cat /proc/self/status | grep ^Groups'), 'Groups:\t1000 \n');
    assert.equal(same(['-u', '1000', '--group-add', '5'], 'cat /proc/self/status | grep ^Groups'), 'Groups:\t0 5 \n');
    assert.equal(
      same(['--read-only'], 'for f in hosts hostname resolv.conf; do touch /etc/$f 2>/dev/null && echo $f writable; done; echo done'),
      'done\n',
    );
    bothRefuse(
      ['run', '--rm', '--network', 'none', '-w', 'rel', IMAGE, 'pwd'],
      /the working directory 'rel' is invalid, it needs to be an absolute path/,
    );
    bothRefuse(
      ['run', '--rm', '--network', 'none', '--cpuset-cpus', '999', IMAGE, 'true'],
      /Requested CPUs are not available - requested 999, available: /,
    );
    bothRefuse(
      ['run', '--rm', '--network', 'none', '--cpuset-mems', '99', IMAGE, 'true'],
      /Requested memory nodes are not available - requested 99, available: /,
    );
    // A 400, not a 404 the CLI would take for a missing image (and try to pull).
    bothRefuse(
      ['run', '--rm', '--network', 'none', '--volumes-from', 'nosuch', IMAGE, 'true'],
      /^docker: Error response from daemon: No such container: nosuch/,
    );
    bothRefuse(['rmi', 'nosuch'], /No such image: nosuch:latest/);
    const answers = [];
    for (const [sock, run] of [
      [join(d.dir, 'docker.sock'), d.docker],
      [eng.socket, eng.docker],
    ] as const) {
      const id = run(['run', '-d', '--network', 'none', '--name', 'fid-probe', IMAGE, 'sleep', '300']).stdout.trim();
      const seen: unknown[] = [
        run(['kill', '-s', 'NOPE', 'fid-probe']).stderr,
        (({ status, stdout, stderr }) => ({ status, stdout, stderr }))(run(['exec', '-w', '/nonexist', 'fid-probe', 'pwd'])),
      ];
      run(['pause', 'fid-probe']);
      seen.push(run(['exec', 'fid-probe', 'true']).stderr);
      run(['unpause', 'fid-probe']);
      // Conflicts of rename and update, in dockerd's words (IDs aside).
      const other = run(['create', '--network', 'none', '--name', 'fid-other', IMAGE, 'true']).stdout.trim();
      seen.push(run(['rename', 'fid-other', 'fid-probe']).stderr.replaceAll(id, 'ID'));
      run(['update', '--cpus', '0.5', 'fid-probe']);
      seen.push(run(['update', '--cpu-quota', '50000', 'fid-probe']).stderr.replaceAll(id, 'ID'));
      run(['rm', '-f', other]);
      const net = await raw(sock, 'POST', '/networks/create', { Name: 'fid-ov', Driver: 'overlay' });
      seen.push([net.status, JSON.parse(net.body.toString()).message]);
      run(['rm', '-f', id]);
      answers.push(seen);
    }
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[0].slice(0, 2), [
      'Error response from daemon: Invalid signal: NOPE\n',
      {
        status: 126,
        stdout:
          'OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd ("/nonexist") set in config.json failed: no such file or directory: unknown\r\n',
        stderr: '',
      },
    ]);
  },
);
