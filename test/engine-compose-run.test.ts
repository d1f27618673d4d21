// `berth compose` beyond the three-service app: `up --wait` returning only once every service
// with a healthcheck is healthy (and failing, with the container named, when one never is);
// attached `up` (each line prefixed with its container's name, SIGINT stopping the services,
// returning when all have exited, --abort-on-container-exit and --exit-code-from); `network_mode:
// service:NAME` sharing NAME's network namespace (the subnet 10.213.72.0/24 is this file's);
// secrets and configs from files mounted read-only where Compose mounts them; `compose events`,
// text and --json, of the project's containers only; and depends_on's restart and required.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
});
after(async () => {
  await eng?.stop();
});

const env = () => ({ ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' });

/**
 * Project `name`: a folder under the test's directory with `files` (compose.yaml among them), given
 * to `fn`; then `down` (after the global flags `global`), and nothing of the project may be left.
 */
async function withProject(name: string, files: Record<string, string>, fn: (dir: string) => Promise<void>, global: string[] = []) {
  const dir = join(eng.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  try {
    await fn(dir);
  } finally {
    composeOk(dir, ...global, 'down');
  }
  assertGone(name);
}

const compose = (dir: string, ...args: string[]) =>
  spawnSync(BERTH, ['compose', ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: env() });

function composeOk(dir: string, ...args: string[]) {
  const r = compose(dir, ...args);
  assert.equal(r.status, 0, `berth compose ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** A long-running `berth compose` whose output is collected; `exit` settles with its status. */
function background(dir: string, ...args: string[]) {
  const child: ChildProcess = spawn(BERTH, ['compose', ...args], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c) => (out.stdout += c));
  child.stderr!.on('data', (c) => (out.stderr += c));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ? null : code)));
  return { child, out, exit };
}

/** Kills a background child still running (a failed test) by its PID. */
function reap(b: ReturnType<typeof background>) {
  if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill('SIGKILL');
}

const inspect = (name: string) => JSON.parse(eng.dockerOk(['inspect', name]))[0];

/** The project's resources are gone. */
function assertGone(name: string) {
  assert.doesNotMatch(eng.dockerOk(['ps', '-a', '--format', '{{.Names}}']), new RegExp(`^${name}-`, 'm'), 'no container');
  assert.doesNotMatch(eng.dockerOk(['network', 'ls', '--format', '{{.Name}}']), new RegExp(`^${name}_`, 'm'), 'no network');
}

test('up --wait returns once each service with a healthcheck is healthy; one never healthy fails it, named', async () => {
  // `slow` turns healthy only once its marker appears, 4 s after it starts.
  await withProject(
    'bcwait',
    {
      'compose.yaml': `services:
  slow:
    image: busybox
    command: ["sh", "-c", "sleep 4; touch /tmp/ready; exec sleep 3600"]
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ready"], interval: 1s, retries: 60}
    stop_grace_period: 1s
  plain:
    image: busybox
    command: ["sleep", "3600"]
    stop_grace_period: 1s
  sick:
    image: busybox
    command: ["sleep", "3600"]
    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 2}
    stop_grace_period: 1s
    profiles: [sick]
  pending:
    image: busybox
    command: ["sleep", "3600"]
    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1000}
    stop_grace_period: 1s
    profiles: [pending]
`,
    },
    async (dir) => {
      const up = composeOk(dir, 'up', '--wait');
      // Read at once: had up returned early, slow would still be starting.
      const slow = inspect('bcwait-slow-1');
      assert.equal(slow.State.Health.Status, 'healthy', 'slow is healthy when up --wait returns');
      assert.equal(eng.docker(['exec', 'bcwait-slow-1', 'test', '-f', '/tmp/ready']).status, 0, 'its marker is there');
      assert.equal(inspect('bcwait-plain-1').State.Running, true);
      assert.match(up.stderr, /Container bcwait-slow-1 {2}Healthy/);
      assert.match(up.stderr, /Container bcwait-plain-1 {2}Running/);

      // A service that turns unhealthy: up --wait fails, naming it.
      const sick = compose(dir, '--profile', 'sick', 'up', '--wait');
      assert.notEqual(sick.status, 0, 'up --wait fails');
      assert.match(sick.stderr, /container bcwait-sick-1 is unhealthy/);
      assert.equal(inspect('bcwait-sick-1').State.Health.Status, 'unhealthy');

      // One that stays "starting": --wait-timeout ends the wait with an error.
      const pending = compose(dir, '--profile', 'pending', 'up', '--wait', '--wait-timeout', '3', 'pending');
      assert.notEqual(pending.status, 0, 'up --wait --wait-timeout fails');
      assert.match(pending.stderr, /timeout waiting for the services to be running\|healthy \(3s\)/);
      assert.equal(inspect('bcwait-pending-1').State.Health.Status, 'starting');
    },
    ['--profile', '*'],
  );
});

test('attached up: prefixed output, SIGINT stops the services; up returns when all exit; --abort-on-container-exit, --exit-code-from', async () => {
  await withProject(
    'bcatt',
    {
      'compose.yaml': `services:
  talker:
    image: busybox
    command: ["sh", "-c", "trap 'echo talker-stopping; exit 0' TERM; echo talker-hello; while :; do sleep 0.2; done"]
  ticker:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; echo tick-1; echo tick-2; while :; do sleep 0.2; done"]
`,
    },
    async (dir) => {
      const b = background(dir, 'up');
      try {
        await until(() => /talker-hello/.test(b.out.stdout) && /tick-2/.test(b.out.stdout), 60_000).catch((e) => {
          throw new Error(`${e.message}: ${JSON.stringify(b.out)}`);
        });
        // Compose v2's prefix: the name padded to the longest, two spaces, a bar.
        assert.match(b.out.stdout, /^bcatt-talker-1 {2}\| talker-hello$/m);
        assert.match(b.out.stdout, /^bcatt-ticker-1 {2}\| tick-1\nbcatt-ticker-1 {2}\| tick-2$/m);
        assert.equal(inspect('bcatt-talker-1').State.Running, true);
        b.child.kill('SIGINT');
        assert.equal(await b.exit, 130, `up exits 130 on SIGINT: ${JSON.stringify(b.out)}`);
        assert.match(b.out.stderr, /Gracefully stopping\.\.\./);
        assert.match(b.out.stdout, /^bcatt-talker-1 {2}\| talker-stopping$/m, 'the service got SIGTERM');
        for (const c of ['bcatt-talker-1', 'bcatt-ticker-1']) {
          const st = inspect(c).State;
          assert.equal(st.Status, 'exited', `${c} is stopped, not removed`);
          assert.equal(st.ExitCode, 0);
        }
        // Up again: the output since then only, as Compose v2 attaches; SIGTERM (a supervisor's stop) stops as SIGINT does.
        const t = background(dir, 'up');
        try {
          await until(() => /talker-hello/.test(t.out.stdout), 60_000);
          assert.doesNotMatch(t.out.stdout, /talker-stopping/, "not the last run's output");
          assert.equal(t.out.stdout.match(/talker-hello/g)!.length, 1);
          t.child.kill('SIGTERM');
          assert.equal(await t.exit, 130, JSON.stringify(t.out));
          assert.equal(inspect('bcatt-talker-1').State.Status, 'exited');
        } finally {
          reap(t);
        }
      } finally {
        reap(b);
      }
    },
  );

  // Services that end by themselves: up returns when the last has exited, each exit told.
  await withProject(
    'bcdone',
    {
      'compose.yaml': `services:
  quick:
    image: busybox
    command: ["sh", "-c", "echo quick-done"]
  later:
    image: busybox
    command: ["sh", "-c", "sleep 2; echo later-done; exit 3"]
  long:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]
    profiles: [long]
`,
    },
    async (done) => {
      const r = compose(done, 'up');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^bcdone-quick-1 {2}\| quick-done$/m);
      assert.match(r.stdout, /^bcdone-later-1 {2}\| later-done$/m);
      assert.match(r.stdout, /^bcdone-quick-1 exited with code 0$/m);
      assert.match(r.stdout, /^bcdone-later-1 exited with code 3$/m);
      assert.ok(r.stdout.indexOf('exited with code 3') > r.stdout.indexOf('later-done'), 'the exit after its last line');

      // --abort-on-container-exit: quick's exit stops long; the status is quick's (0).
      const abort = compose(done, '--profile', 'long', 'up', '--abort-on-container-exit', 'quick', 'long');
      assert.equal(abort.status, 0, abort.stderr);
      assert.match(abort.stderr, /Aborting on container exit\.\.\./);
      assert.equal(inspect('bcdone-long-1').State.Status, 'exited', 'long was stopped');
      // --exit-code-from later: its 3, once it exits and the others are stopped.
      const from = compose(done, '--profile', 'long', 'up', '--exit-code-from', 'later', 'later', 'long');
      assert.equal(from.status, 3, from.stderr);
      assert.equal(inspect('bcdone-long-1').State.Status, 'exited');
      const bad = compose(done, 'up', '-d', '--abort-on-container-exit');
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /--detach cannot be combined with --abort-on-container-exit/);
      assert.match(compose(done, 'up', '--exit-code-from', 'nope').stderr, /no such service: nope/);
    },
    ['--profile', 'long'],
  );
});

test("network_mode service:NAME shares NAME's network namespace: same interfaces and address", async () => {
  await withProject(
    'bcnet',
    {
      'compose.yaml': `services:
  side:
    image: busybox
    command: ["sleep", "3600"]
    network_mode: "service:owner"
    stop_grace_period: 1s
  owner:
    image: busybox
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    networks:
      n: {ipv4_address: 10.213.72.5}
networks:
  n:
    ipam: {config: [{subnet: 10.213.72.0/24}]}
`,
    },
    async (dir) => {
      // side depends on owner implicitly, as in Compose v2: it starts after, in the same up.
      composeOk(dir, 'up', '-d');
      const owner = inspect('bcnet-owner-1');
      const side = inspect('bcnet-side-1');
      assert.equal(side.HostConfig.NetworkMode, `container:${owner.Id}`);
      const ns = (c: string) => eng.dockerOk(['exec', c, 'readlink', '/proc/self/ns/net']);
      assert.match(ns('bcnet-side-1'), /^net:\[\d+\]$/);
      assert.equal(ns('bcnet-side-1'), ns('bcnet-owner-1'), 'one network namespace');
      const addrs = (c: string) => eng.dockerOk(['exec', c, 'ip', '-4', 'addr', 'show']).replace(/\s+/g, ' ');
      assert.match(addrs('bcnet-side-1'), /inet 10\.213\.72\.5\/24/);
      assert.equal(addrs('bcnet-side-1'), addrs('bcnet-owner-1'));
      // owner changes and is recreated: side, joined to the container replaced, is recreated on the new one.
      const file = join(dir, 'compose.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('  owner:\n', '  owner:\n    environment: {V: "2"}\n'));
      composeOk(dir, 'up', '-d');
      const owner2 = inspect('bcnet-owner-1');
      const side2 = inspect('bcnet-side-1');
      assert.notEqual(owner2.Id, owner.Id, 'owner recreated');
      assert.notEqual(side2.Id, side.Id, 'side recreated');
      assert.equal(side2.HostConfig.NetworkMode, `container:${owner2.Id}`);
      assert.equal(ns('bcnet-side-1'), ns('bcnet-owner-1'), 'one network namespace again');
    },
  );
});

test("a service's networks in docker compose's order: the highest priority is the NetworkMode, the others connected after by priority, ties by name", async () => {
  await withProject(
    'bcprio',
    {
      'compose.yaml': `services:
  app:
    image: busybox
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    networks:
      zlow: {}
      high: {priority: 100}
      alow: {}
networks:
  zlow: {ipam: {config: [{subnet: 10.213.83.0/24}]}}
  high: {ipam: {config: [{subnet: 10.213.81.0/24}]}}
  alow: {ipam: {config: [{subnet: 10.213.82.0/24}]}}
`,
    },
    async (dir) => {
      composeOk(dir, 'up', '-d');
      const app = inspect('bcprio-app-1');
      assert.equal(app.HostConfig.NetworkMode, 'bcprio_high');
      assert.deepEqual(Object.keys(app.NetworkSettings.Networks).sort(), ['bcprio_alow', 'bcprio_high', 'bcprio_zlow']);
      // Connected in that order: eth0 on high, eth1 on alow, eth2 on zlow.
      const addr = (i: string) => eng.dockerOk(['exec', 'bcprio-app-1', 'sh', '-c', `ip -4 -o addr show ${i} | grep -o 'inet [0-9.]*'`]);
      assert.match(addr('eth0'), /^inet 10\.213\.81\./);
      assert.match(addr('eth1'), /^inet 10\.213\.82\./);
      assert.match(addr('eth2'), /^inet 10\.213\.83\./);
    },
  );
});

test("secrets and configs from files: mounted read-only at /run/secrets/NAME, /NAME or the target, with the files' contents", async () => {
  await withProject(
    'bcsec',
    {
      'token.txt': 's3cret-token\n',
      'app.conf': 'listen=8080\n',
      'compose.yaml': `services:
  app:
    image: busybox
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    secrets:
      - token
      - {source: token, target: other_token}
    configs:
      - app_conf
      - {source: app_conf, target: /etc/app.conf}
secrets:
  token: {file: ./token.txt}
configs:
  app_conf: {file: ./app.conf}
`,
    },
    async (dir) => {
      composeOk(dir, 'up', '-d');
      const cat = (p: string) => eng.dockerOk(['exec', 'bcsec-app-1', 'cat', p]);
      assert.equal(cat('/run/secrets/token'), 's3cret-token');
      assert.equal(cat('/run/secrets/other_token'), 's3cret-token');
      assert.equal(cat('/app_conf'), 'listen=8080');
      assert.equal(cat('/etc/app.conf'), 'listen=8080');
      const w = eng.docker(['exec', 'bcsec-app-1', 'sh', '-c', 'echo x > /run/secrets/token']);
      assert.notEqual(w.status, 0, 'a secret is read-only');
      assert.match(w.stderr, /Read-only file system/);
      assert.notEqual(eng.docker(['exec', 'bcsec-app-1', 'sh', '-c', 'echo x > /etc/app.conf']).status, 0, 'a config is read-only');
    },
  );
});

test("compose events: the project's container events, as text and --json, and no other container's", async () => {
  await withProject(
    'bcev',
    {
      'compose.yaml': `services:
  svc:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]
    labels: {tier: backend}
`,
    },
    async (dir) => {
      composeOk(dir, 'up', '-d');
      const id = inspect('bcev-svc-1').Id;
      const text = background(dir, 'events');
      const json = background(dir, 'events', '--json');
      try {
        // The streams are open once a first event of the project reaches them; restart until it does.
        await until(() => {
          composeOk(dir, 'restart');
          return /container start /.test(text.out.stdout) && /"action":"start"/.test(json.out.stdout);
        }, 60_000);
        const outsider = eng.dockerOk(['run', '-d', '--name', 'bcev-outsider', 'busybox', 'sleep', '30']);
        composeOk(dir, 'stop');
        await until(() => /container stop /.test(text.out.stdout) && /"action":"stop"/.test(json.out.stdout), 30_000);
        eng.dockerOk(['rm', '-f', outsider]);
        // Compose v2's line: date, time with microseconds, container, the action, the ID, the attributes but Compose's labels.
        assert.match(
          text.out.stdout,
          new RegExp(
            `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} container stop ${id} \\(image=busybox, name=bcev-svc-1, tier=backend\\)$`,
            'm',
          ),
        );
        const events = json.out.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l));
        const stop = events.find((e) => e.action === 'stop');
        assert.deepEqual(
          { type: stop.type, id: stop.id, service: stop.service, attributes: stop.attributes },
          { type: 'container', id, service: 'svc', attributes: { name: 'bcev-svc-1', image: 'busybox', tier: 'backend' } },
        );
        assert.ok(!Number.isNaN(Date.parse(stop.time)));
        assert.ok(
          events.every((e) => e.id === id),
          'only the project container',
        );
        assert.doesNotMatch(text.out.stdout, new RegExp(outsider.slice(0, 12)), 'not the outsider');
        text.child.kill('SIGINT');
        json.child.kill('SIGINT');
        assert.equal(await text.exit, 0);
        assert.equal(await json.exit, 0);
      } finally {
        reap(text);
        reap(json);
        eng.docker(['rm', '-f', 'bcev-outsider']);
      }
    },
  );
});

test('depends_on restart: true restarts the dependent when its dependency is recreated or restarted; required: false only warns', async () => {
  const loop = `["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]`;
  const file = (v: string) => `services:
  base:
    image: busybox
    command: ${loop}
    environment: {V: "${v}"}
  tied:
    image: busybox
    command: ${loop}
    depends_on:
      base: {condition: service_started, restart: true}
  loose:
    image: busybox
    command: ${loop}
    depends_on: [base]
  broken:
    image: busybox
    command: ["sh", "-c", "exit 4"]
  optional:
    image: busybox
    command: ${loop}
    depends_on:
      broken: {condition: service_completed_successfully, required: false}
`;
  await withProject('bcdeps', { 'compose.yaml': file('1') }, async (dir) => {
    const state = (c: string) => {
      const i = inspect(`bcdeps-${c}-1`);
      return { id: i.Id, started: Date.parse(i.State.StartedAt), running: i.State.Running };
    };
    const up = composeOk(dir, 'up', '-d');
    assert.match(up.stderr, /WARN optional dependency "broken" is not running or is unhealthy: .*didn't complete successfully: exit 4/);
    assert.equal(state('optional').running, true, 'a dependency not required that fails does not stop its dependent');
    const base = state('base');
    const tied = state('tied');
    const loose = state('loose');
    // base changes: it is recreated, tied (restart: true) is stopped before and started after, loose is left alone.
    writeFileSync(join(dir, 'compose.yaml'), file('2'));
    const again = composeOk(dir, 'up', '-d');
    assert.notEqual(state('base').id, base.id, 'base recreated');
    const tied2 = state('tied');
    assert.equal(tied2.id, tied.id, 'tied kept');
    assert.ok(tied2.running && tied2.started > tied.started, `tied restarted: ${tied.started} -> ${tied2.started}`);
    assert.ok(again.stderr.indexOf('Container bcdeps-tied-1  Stopped') < again.stderr.indexOf('Container bcdeps-base-1  Recreate'));
    assert.deepEqual(state('loose'), loose, 'loose left running');
    // compose restart base restarts tied too, not loose.
    composeOk(dir, 'restart', 'base');
    const tied3 = state('tied');
    assert.ok(tied3.running && tied3.started > tied2.started, 'tied restarted with base');
    assert.deepEqual(state('loose'), loose, 'loose not restarted');
  });
});
