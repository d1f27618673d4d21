// `berth` starts berthd when none answers on its socket, and waits for it (issue 5: a fresh
// install needs no other step); BERTH_NO_AUTOSTART=1 turns that off.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BERTH = new URL('../../bin/berth.js', import.meta.url).pathname;

/**
 * Roots of a berthd the test's `berth` will start, and their removal after the test: the daemon
 * (its PID as `started` reads it from berth's stderr) by SIGTERM, then the temp dir.
 */
function daemonRoots(t: TestContext, extraEnv: NodeJS.ProcessEnv = {}) {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-test-autostart-'));
  const env = {
    ...process.env,
    ...extraEnv,
    BERTH_DATA_ROOT: join(tmp, 'data'),
    BERTH_EXEC_ROOT: join(tmp, 'run'),
    DOCKER_HOST: '',
    BERTH_HOST: '',
  };
  let pid = 0;
  t.after(async () => {
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    rmSync(tmp, { recursive: true, force: true });
  });
  return {
    tmp,
    sock: join(tmp, 'b.sock'),
    env,
    /** The "started berthd (pid N, log PATH)" line of berth's stderr, its daemon then stopped after the test. */
    started(stderr: string) {
      const m = /started berthd \(pid (\d+), log ([^)]+)\)/.exec(stderr);
      if (m) pid = Number(m[1]);
      return m;
    },
  };
}

test('berth starts berthd on first use and reuses it after', async (t) => {
  const ca = '/etc/ssl/certs/ca-certificates.crt';
  const { tmp, sock, env, started } = daemonRoots(t, existsSync(ca) ? { NODE_EXTRA_CA_CERTS: ca } : {});

  const off = spawnSync(BERTH, ['-H', `unix://${sock}`, 'ps'], { encoding: 'utf8', env: { ...env, BERTH_NO_AUTOSTART: '1' } });
  assert.equal(off.status, 1);
  assert.match(off.stderr, /Cannot connect to the berth daemon/);
  assert.ok(!existsSync(join(tmp, 'run')));

  const first = spawnSync(BERTH, ['-H', `unix://${sock}`, 'version'], { encoding: 'utf8', env, timeout: 30000 });
  const m = started(first.stderr);
  assert.ok(m, first.stderr);
  const pid = Number(m[1]);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /Server/);
  assert.equal(m[2], join(tmp, 'run', 'berthd.log'));
  assert.ok(readFileSync(m[2], 'utf8').length > 0);
  // berth's shebang drops the CA bundle for itself; the berthd it starts gets it back.
  const daemonEnv = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  if (existsSync(ca)) assert.ok(daemonEnv.includes(`NODE_EXTRA_CA_CERTS=${ca}`));
  assert.ok(!daemonEnv.some((e) => e.startsWith('BERTH_SAVED_CA=')));
  // Started through its bin, so with the Node flags of its shebang.
  assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /--max-semi-space-size=2\0/);

  const second = spawnSync(BERTH, ['-H', `unix://${sock}`, 'ps'], { encoding: 'utf8', env, timeout: 30000 });
  assert.equal(second.status, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /started berthd/);
});

test('a first command that streams its input (import from stdin) starts berthd and sends all of it', async (t) => {
  const { tmp, sock, env, started } = daemonRoots(t);
  mkdirSync(join(tmp, 'root', 'etc'), { recursive: true });
  writeFileSync(join(tmp, 'root', 'etc', 'motd'), 'hello\n');
  const tar = execFileSync('tar', ['-C', join(tmp, 'root'), '-cf', '-', '.']);
  const r = spawnSync(BERTH, ['-H', `unix://${sock}`, 'import', '-', 'streamed:1'], { input: tar, encoding: 'utf8', env, timeout: 30000 });
  const m = started(r.stderr);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}$/m);
  assert.ok(m, r.stderr);
  const h = spawnSync(BERTH, ['-H', `unix://${sock}`, 'image', 'inspect', '--format', '{{.Size}}', 'streamed:1'], {
    encoding: 'utf8',
    env,
  });
  assert.equal(h.status, 0, h.stderr);
  assert.ok(Number(h.stdout) > 0);
});
