// Legacy links side by side with dockerd 20.10 (the docker 28 CLI against each, and the berth CLI
// against berthd). dockerd runs here on a bridge of the test's own (berthlk0, 10.241.7.0/24), so
// links on the default bridge work on both. On the default bridge: the linking container's
// /etc/hosts and its raw environment (/proc/1/environ: ALIAS_PORT…, ranges, ALIAS_NAME,
// ALIAS_ENV_…), inspect's HostConfig.Links, ps's NAMES (truncated and not), a running parent's
// hosts line after the linked container's restart, `rm --link`, and every refusal in the same
// words (a start's, with the exit code and error it leaves). On a user-defined network: no
// hosts line and no variables, and the alias resolves to the linked container through the
// embedded DNS, for the linking container alone. IPs, IDs and hostnames are masked before comparing.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { type CliResult, type EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { berthCli, IMAGE, show, sideBySide } from './helpers/side-by-side.js';

const BRIDGE = 'berthlk0';
let eng: EngineFixture;
let d: Dockerd;
const ip = (args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
// dockerd takes a bridge that is there (-b) and leaves it; the test makes it and removes it.
before(() => {
  ip(['link', 'del', BRIDGE]);
  for (const a of [
    ['link', 'add', BRIDGE, 'type', 'bridge'],
    ['addr', 'add', '10.241.7.1/24', 'dev', BRIDGE],
    ['link', 'set', BRIDGE, 'up'],
  ]) {
    const r = ip(a);
    assert.equal(r.status, 0, `ip ${a.join(' ')}: ${r.stderr}`);
  }
});
const skip = sideBySide((p) => ({ eng, d } = p), { dockerd: ['--bridge', BRIDGE], needs: ['ip'] });
after(() => {
  const r = ip(['link', 'del', BRIDGE]);
  assert.equal(r.status, 0, `ip link del ${BRIDGE}: ${r.stderr}`);
});

type Run = (a: string[]) => CliResult;
const clients = (): [string, Run][] => [
  ['docker → dockerd', (a) => d.docker(a)],
  ['docker → berthd', (a) => eng.docker(a)],
  ['berth → berthd', (a) => berthCli(eng, a)],
];
const ok = (who: string, run: Run, args: string[]) => {
  const r = run(args);
  assert.equal(r.status, 0, show(`${who}: ${args.join(' ')}`, r));
  return r.stdout;
};
/** Addresses and IDs (the hostnames are IDs here) masked. */
const mask = (s: string) => s.replace(/\b(10|172|192)\.\d+\.\d+\.\d+\b/g, 'IP').replace(/\b[0-9a-f]{12}\b/g, 'ID');
/** The process's own environment, sorted; less PATH, which the two busybox images set apart (berthd's is the registry's, with ENV PATH=/bin). */
const ENV = 'tr "\\0" "\\n" < /proc/1/environ | grep -v ^PATH= | sort';
/** A refusal: its exit code and its first line of stderr (the CLI's name masked). */
const refusal = (who: string, run: Run, args: string[]) => {
  const r = run(args);
  assert.notEqual(r.status, 0, show(`${who}: ${args.join(' ')}`, r));
  return [r.status, r.stderr.split('\n')[0].replace(/^(docker|berth): /, 'CLI: ')];
};

test('the default bridge: hosts, variables, inspect, NAMES, rm --link and refusals as dockerd', { skip }, () => {
  const seen: [string, unknown[]][] = [];
  for (const [who, run] of clients()) {
    const got: unknown[] = [];
    ok(who, run, [
      'run',
      '-d',
      '--name',
      'lk-db',
      '--expose',
      '80',
      '--expose',
      '53/udp',
      '--expose',
      '7000-7002',
      '-e',
      'FOO=bar',
      '-e',
      'SP=a b',
      IMAGE,
      'sleep',
      '300',
    ]);
    const script = `cat /etc/hosts; echo ---; ${ENV}`;
    const out = mask(
      ok(who, run, ['run', '--rm', '--name', 'lk-web', '--link', 'lk-db:my-db', '--link', 'lk-db', IMAGE, 'sh', '-c', script]),
    );
    // The hosts lines sorted once masked: dockerd writes a container's links in a Go map's order, which changes from run to run.
    const [hostsText, envText] = out.split('---\n');
    got.push(`${hostsText.split('\n').filter(Boolean).sort().join('\n')}\n---\n${envText}`);
    // A variable of the container's own wins over the link's.
    got.push(mask(ok(who, run, ['run', '--rm', '--link', 'lk-db:x', '-e', 'X_NAME=mine', IMAGE, 'sh', '-c', 'echo $X_NAME'])));
    ok(who, run, ['run', '-d', '--name', 'lk-app', '--link', '/lk-db:/other/al', IMAGE, 'sleep', '300']);
    got.push(ok(who, run, ['inspect', '-f', '{{json .HostConfig.Links}}', 'lk-app']));
    got.push(ok(who, run, ['inspect', '-f', '{{json .HostConfig.Links}}', 'lk-db']));
    got.push(ok(who, run, ['ps', '--no-trunc', '--format', '{{.Names}}']));
    got.push(ok(who, run, ['ps', '--format', '{{.Names}}']));
    // The linked container restarted: the running parent's hosts line follows its address (the same one or a new one).
    ok(who, run, ['restart', '-t', '0', 'lk-db']);
    const dbIp = ok(who, run, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'lk-db']).trim();
    const hosts = ok(who, run, ['exec', 'lk-app', 'cat', '/etc/hosts']);
    assert.match(hosts, new RegExp(`^${dbIp.replace(/\./g, '\\.')}\tal `, 'm'), `${who}: lk-app's line for al after lk-db's restart`);
    got.push(refusal(who, run, ['rm', '--link', 'lk-db']));
    got.push(refusal(who, run, ['rm', '--link', 'lk-app/nosuch']));
    got.push(ok(who, run, ['rm', '--link', '/lk-app/al']));
    got.push(ok(who, run, ['inspect', '-f', '{{json .HostConfig.Links}}', 'lk-app']));
    got.push(refusal(who, run, ['rm', '--link', 'lk-app/al']));
    got.push(refusal(who, run, ['run', '--rm', '--link', 'nosuch:a', IMAGE, 'true']));
    got.push(refusal(who, run, ['run', '--rm', '--link', ':a', IMAGE, 'true']));
    got.push(refusal(who, run, ['create', '--network', 'host', '--link', 'lk-db:a', IMAGE, 'true']));
    got.push(refusal(who, run, ['create', '--network', 'container:lk-db', '--link', 'lk-db:a', IMAGE, 'true']));
    got.push(refusal(who, run, ['run', '--rm', '--link', 'a:b:c', IMAGE, 'true']));
    got.push(refusal(who, run, ['run', '--rm', '--link', '', IMAGE, 'true']));
    // A linked container that does not run: the start fails (a stopped one under network none does not).
    ok(who, run, ['create', '--name', 'lk-late', '--link', 'lk-db:a', IMAGE, 'true']);
    ok(who, run, ['create', '--name', 'lk-none', '--network', 'none', '--link', 'lk-db:a', IMAGE, 'true']);
    ok(who, run, ['stop', '-t', '0', 'lk-db']);
    got.push(refusal(who, run, ['start', 'lk-late']));
    got.push(ok(who, run, ['inspect', '-f', '{{.State.ExitCode}} {{.State.Error}}', 'lk-late']));
    // (Its State.Status differs: dockerd's is created, berthd's exited, as after any failed first start.)
    got.push(ok(who, run, ['start', '-a', 'lk-none']));
    ok(who, run, ['rm', '-f', 'lk-db', 'lk-app', 'lk-late', 'lk-none']);
    seen.push([who, got]);
  }
  const [[, want], ...rest] = seen;
  for (const [who, got] of rest)
    for (const [i, g] of got.entries()) assert.deepEqual(g, want[i], `${who} differs from docker → dockerd (${i})`);
  // What the comparison stands on: the lines dockerd wrote.
  const text = want[0] as string;
  assert.match(text, /^IP\tmy-db ID lk-db$/m);
  assert.match(text, /^IP\tlk-db ID$/m);
  assert.match(text, /^MY_DB_PORT_7000_TCP_PORT_END=7002$/m);
  assert.match(text, /^LK_DB_ENV_SP=a b$/m);
  assert.equal(want[2], '["/lk-db:/lk-app/al"]\n');
});

test('a user-defined network: the alias is a name its DNS answers for the linking container, and nothing else', { skip }, () => {
  const seen: [string, unknown[]][] = [];
  for (const [who, run, subnet] of clients().map(([w, r], i): [string, Run, string] => [w, r, `10.241.${8 + i}.0/24`])) {
    const got: unknown[] = [];
    ok(who, run, ['network', 'create', '--subnet', subnet, 'lknet']);
    ok(who, run, ['run', '-d', '--name', 'lk-u1', '--network', 'lknet', '-e', 'FOO=bar', '--expose', '80', IMAGE, 'sleep', '300']);
    const addr = ok(who, run, ['inspect', '-f', '{{.NetworkSettings.Networks.lknet.IPAddress}}', 'lk-u1']).trim();
    const answer = (name: string) => `nslookup ${name} | sed -n 's/^Address: \\([0-9.]*\\)$/\\1/p'`;
    const script = `cat /etc/hosts; echo ---; ${ENV}; echo ---; ${answer('ua')}; ${answer('lk-u1')}`;
    const out = ok(who, run, ['run', '--rm', '--network', 'lknet', '--link', 'lk-u1:ua', IMAGE, 'sh', '-c', script]);
    assert.equal(out.split('---\n')[2], `${addr}\n${addr}\n`, `${who}: ua and lk-u1 resolve to lk-u1's address`);
    got.push(mask(out));
    ok(who, run, ['run', '-d', '--name', 'lk-u3', '--network', 'lknet', '--link', 'lk-u1:ua', IMAGE, 'sleep', '300']);
    got.push(ok(who, run, ['inspect', '-f', '{{json .HostConfig.Links}} {{json .NetworkSettings.Networks.lknet.Links}}', 'lk-u3']));
    got.push(ok(who, run, ['ps', '--no-trunc', '--format', '{{.Names}}']));
    ok(who, run, ['rm', '-f', 'lk-u1', 'lk-u3']);
    ok(who, run, ['network', 'rm', 'lknet']);
    seen.push([who, got]);
  }
  const [[, want], ...rest] = seen;
  for (const [who, got] of rest)
    for (const [i, g] of got.entries()) assert.deepEqual(g, want[i], `${who} differs from docker → dockerd (${i})`);
  assert.equal(want[1], 'null ["lk-u1:ua"]\n');
});
