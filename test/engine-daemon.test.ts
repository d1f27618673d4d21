// berthd's own flags and daemon.json, on private roots: a config file giving roots, hosts,
// mirrors, log level and the socket's group (mode 0660, that group), a TCP listener on
// 127.0.0.1 (plain HTTP, with a warning) that the berth and docker CLIs reach, -D, and the
// errors dockerd gives for a setting both in a flag and in the file, or a missing file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, BERTHD, DOCKER } from './engine-fixture.js';

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'berth-test-daemon-'));
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** A port free on 127.0.0.1 now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts berthd with `args`, waits until `ready(log)` holds, and returns it with its log. */
async function daemon(
  name: string,
  args: string[],
  ready: (log: string) => boolean,
): Promise<{ child: ChildProcess; log: () => string; stop: () => Promise<void> }> {
  const logPath = join(tmp, `${name}.log`);
  writeFileSync(logPath, '');
  const out = openSync(logPath, 'a');
  const child = spawn(process.execPath, [BERTHD, ...args], { stdio: ['ignore', out, out] });
  closeSync(out);
  const log = () => readFileSync(logPath, 'utf8');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    process.kill(child.pid!, 'SIGTERM');
    await gone;
  };
  for (const end = Date.now() + 15_000; !ready(log());) {
    if (child.exitCode !== null) break;
    if (Date.now() > end) {
      await stop();
      throw new Error(`berthd did not get ready: ${log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, log, stop };
}

const exited = (c: ChildProcess) =>
  new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

test('a daemon.json gives roots, hosts, mirrors, log level and the socket group; the socket is 0660 in that group', async () => {
  const sock = join(tmp, 'cfg.sock');
  const config = join(tmp, 'daemon.json');
  writeFileSync(
    config,
    JSON.stringify({
      'data-root': join(tmp, 'data'),
      'exec-root': join(tmp, 'run'),
      hosts: [`unix://${sock}`],
      'registry-mirrors': ['http://127.0.0.1:1'],
      'insecure-registries': ['127.0.0.1:1'],
      'log-level': 'debug',
      group: '4242',
      'storage-driver': 'overlay2',
    }),
  );
  const d = await daemon('cfg', ['--config-file', config], (l) => l.includes('listening'));
  try {
    const st = statSync(sock);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.gid, 4242);
    assert.equal(st.uid, 0);
    const info = spawnSync(BERTH, ['-H', `unix://${sock}`, 'info'], { encoding: 'utf8', env: { ...process.env, BERTH_NO_AUTOSTART: '1' } });
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, new RegExp(`Root Dir: ${join(tmp, 'data')}`));
    assert.match(info.stdout, /Registry Mirrors:\n {2}http:\/\/127\.0\.0\.1:1/);
    assert.match(d.log(), /debug GET \/v?[\d.]*\/?info/);
  } finally {
    await d.stop();
  }
  assert.ok(!existsSync(sock), 'the socket goes with the daemon');
});

test('without --group the socket belongs to the group docker where it exists, else root', async () => {
  const sock = join(tmp, 'grp.sock');
  const d = await daemon('grp', ['--data-root', join(tmp, 'data'), '--exec-root', join(tmp, 'run'), '-H', `unix://${sock}`], (l) =>
    l.includes('listening'),
  );
  try {
    const docker = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[0] === 'docker');
    assert.equal(statSync(sock).gid, docker ? Number(docker[2]) : 0);
  } finally {
    await d.stop();
  }
});

test('-H tcp://127.0.0.1:PORT serves plain HTTP with a warning; the berth and docker CLIs reach it; -D logs requests', async () => {
  const port = await freePort();
  const host = `tcp://127.0.0.1:${port}`;
  const d = await daemon(
    'tcp',
    [
      '--data-root',
      join(tmp, 'data'),
      '--exec-root',
      join(tmp, 'run'),
      '-H',
      host,
      '-D',
      '--config-file',
      join(tmp, 'missing-ok-only-by-default.json'),
    ],
    (l) => l.includes('listening') || l.includes('berthd:'),
  );
  try {
    // An explicit --config-file that does not exist is an error, as dockerd's.
    assert.equal(await exited(d.child), 125);
    assert.match(d.log(), /unable to configure the daemon with file .*missing-ok-only-by-default\.json: ENOENT/);
  } finally {
    await d.stop();
  }
  const t = await daemon('tcp2', ['--data-root', join(tmp, 'data'), '--exec-root', join(tmp, 'run'), '-H', host, '-D'], (l) =>
    l.includes('listening'),
  );
  try {
    assert.match(t.log(), new RegExp(`warn ${host}: the API on TCP without TLS is not authenticated`));
    const v = spawnSync(BERTH, ['-H', host, 'version'], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /Server: berth/);
    const b = spawnSync(BERTH, ['ps'], { encoding: 'utf8', env: { ...process.env, BERTH_HOST: '', DOCKER_HOST: host } });
    assert.equal(b.status, 0, b.stderr);
    if (existsSync(DOCKER)) {
      const dv = spawnSync(DOCKER, ['-H', host, 'version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' });
      assert.equal(dv.status, 0, dv.stderr);
      assert.equal(dv.stdout.trim(), '0.1.0');
    }
    assert.match(t.log(), /debug GET \/.*version/);
  } finally {
    await t.stop();
  }
});

test('a setting both as a flag and in daemon.json is an error; so is an unknown group', async () => {
  const config = join(tmp, 'conflict.json');
  writeFileSync(config, JSON.stringify({ 'data-root': join(tmp, 'data') }));
  const c = spawnSync(process.execPath, [BERTHD, '--config-file', config, '--data-root', join(tmp, 'other')], { encoding: 'utf8' });
  assert.equal(c.status, 125);
  assert.match(
    c.stderr,
    /the following directives are specified both as a flag and in the configuration file: data-root: \(from flag: .*other, from file: .*data\)/,
  );
  const g = spawnSync(
    process.execPath,
    [
      BERTHD,
      '--data-root',
      join(tmp, 'data'),
      '--exec-root',
      join(tmp, 'run'),
      '-H',
      `unix://${join(tmp, 'g.sock')}`,
      '--group',
      'no-such-group-here',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(g.status, 125);
  assert.match(g.stderr, /group no-such-group-here not found/);
  assert.ok(!existsSync(join(tmp, 'other')));
});
