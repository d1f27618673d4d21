// Side by side with dockerd 20.10, the docker 28 CLI against each: a `--network container:X`
// joiner sees X's /etc/hosts, /etc/resolv.conf and /etc/hostname (bound, not copies of its own:
// a change X's engine makes shows in both) and X's hostname, as dockerd's initializeNetworking gives
// it at the joiner's start; and /etc/hosts of `--network none` and `host` containers, byte for byte.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { IMAGE, show, sideBySide } from './helpers/side-by-side.js';

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));

type Run = (a: string[]) => CliResult;
const ok = (who: string, run: Run, args: string[]) => {
  const r = run(args);
  assert.equal(r.status, 0, show(`${who} ${args.join(' ')}`, r));
  return r.stdout;
};
/** Each engine by name, with the docker 28 CLI against it. */
const engines = (): [string, Run][] => [
  ['dockerd', (a) => d.docker(a)],
  ['berthd', (a) => eng.docker(a)],
];
const READ = 'cat /etc/hosts /etc/resolv.conf /etc/hostname; hostname; stat -c %i /etc/hosts /etc/resolv.conf /etc/hostname';

test("a container: joiner binds its donor's hosts, resolv.conf and hostname, as dockerd's", { skip }, () => {
  const seen: Record<string, string> = {};
  for (const [who, run] of engines()) {
    try {
      ok(who, run, [
        'run',
        '-d',
        '--name',
        'donor',
        '--network',
        'none',
        '--hostname',
        'donorhost',
        '--dns',
        '10.9.9.9',
        '--dns-search',
        'example.test',
        '--add-host',
        'h1:10.1.2.3',
        IMAGE,
        'sleep',
        '60',
      ]);
      const own = ok(who, run, ['exec', 'donor', 'sh', '-c', READ]);
      const joiner = ok(who, run, ['run', '--rm', '--network', 'container:donor', IMAGE, 'sh', '-c', READ]);
      // The same files (the same inodes: bound, not copied) and the donor's hostname.
      assert.equal(joiner, own, who);
      assert.match(own, /^donorhost$/m, who);
      // inspect names the donor's files as the joiner's.
      ok(who, run, ['run', '-d', '--name', 'joiner', '--network', 'container:donor', IMAGE, 'sleep', '60']);
      const paths = (c: string) =>
        ok(who, run, ['inspect', '-f', '{{.HostnamePath}} {{.HostsPath}} {{.ResolvConfPath}} {{.Config.Hostname}}', c]);
      assert.equal(paths('joiner'), paths('donor'), who);
      assert.match(own, /^nameserver 10\.9\.9\.9$/m, who);
      assert.match(own, /^10\.1\.2\.3\s+h1$/m, who);
      seen[who] = own.replace(/^\d+$/gm, 'INODE');
    } finally {
      run(['rm', '-f', 'joiner', 'donor']);
    }
  }
  assert.equal(seen.berthd, seen.dockerd);
});

test("a joiner created before its donor runs shows its own hostname until its start, then the donor's", { skip }, () => {
  for (const [who, run] of engines()) {
    try {
      ok(who, run, [
        'create',
        '--name',
        'donor',
        '--network',
        'none',
        '--hostname',
        'donorhost',
        '--domainname',
        'dom.test',
        IMAGE,
        'sleep',
        '60',
      ]);
      const id = ok(who, run, [
        'create',
        '--name',
        'joiner',
        '--network',
        'container:donor',
        IMAGE,
        'sh',
        '-c',
        'hostname; echo $HOSTNAME',
      ]).trim();
      const names = () => ok(who, run, ['inspect', '-f', '{{.Config.Hostname}} {{.Config.Domainname}}', 'joiner']).trim();
      assert.equal(names(), `${id.slice(0, 12)}`, who);
      ok(who, run, ['start', 'donor']);
      assert.equal(ok(who, run, ['start', '-a', 'joiner']), 'donorhost\ndonorhost\n', who);
      assert.equal(names(), 'donorhost dom.test', who);
    } finally {
      run(['rm', '-f', 'joiner', 'donor']);
    }
  }
});

test("/etc/hosts of --network none and host: no line for the hostname; the host's file unless --add-host", { skip }, () => {
  const seen: Record<string, string[]> = {};
  for (const [who, run] of engines()) {
    seen[who] = [
      ['--network', 'none'],
      ['--network', 'none', '--hostname', 'a.b', '--domainname', 'c.test', '--add-host', 'h1:10.1.2.3'],
      ['--network', 'host'],
      ['--network', 'host', '--add-host', 'h1:10.1.2.3'],
    ].map((flags) => ok(who, run, ['run', '--rm', ...flags, IMAGE, 'cat', '/etc/hosts']));
  }
  assert.equal(seen.berthd[2], readFileSync('/etc/hosts', 'utf8'));
  assert.deepEqual(seen.berthd, seen.dockerd);
});
