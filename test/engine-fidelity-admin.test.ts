// Side by side with dockerd 20.10, the docker 28 CLI against each (and the berth CLI against
// berthd): the housekeeping commands — prune filters (until, label, label!, what each prune
// refuses), a broken archive to load, network names and an ambiguous ID prefix — with the same
// output, the same survivors and the same refusals; and system df, where the docker CLI does the formatting, the berth CLI beside it.
// Then what a side-by-side probe found: attach's detach keys, events (exec, resize, none and host), JSON bodies'
// Content-Type, connect and disconnect of none and host, a volume at /etc, top's and cp's refusals, the storage driver's name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';
import { berthCli, IMAGE, show, sideBySide } from './helpers/side-by-side.js';

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));

type Run = (a: string[]) => CliResult;
// berthd answers API 1.50, where a volume prune without `all` keeps named volumes; dockerd 20.10
// answers 1.41, where it takes them: the docker CLI asks berthd for 1.41 too.
const engines = (): [string, Run, string][] => [
  ['dockerd', (a) => d.docker(a), '10.227'],
  ['berthd', (a) => eng.docker(a, { env: { DOCKER_API_VERSION: '1.41' } }), '10.228'],
];
const ok = (who: string, run: Run, args: string[]) => {
  const r = run(args);
  assert.equal(r.status, 0, show(`${who} ${args.join(' ')}`, r));
  return r.stdout;
};
const berth = (args: string[]): CliResult => berthCli(eng, args);
const lines = (s: string) => s.split('\n').filter(Boolean).sort();

test('prune filters: until, label and label! select as dockerd; refusals in its words, through the CLIs', { skip }, () => {
  const got: unknown[][] = [];
  for (const [who, run, net] of engines()) {
    const seen: unknown[] = [];
    const names = () => lines(ok(who, run, ['ps', '-a', '--format', '{{.Names}}']));
    ok(who, run, ['create', '--network', 'none', '--label', 'keep=1', '--name', 'p-keep', IMAGE, 'true']);
    ok(who, run, ['create', '--network', 'none', '--name', 'p-drop', IMAGE, 'true']);
    ok(who, run, ['create', '--network', 'none', '--label', 'keep=2', '--name', 'p-two', IMAGE, 'true']);
    for (const f of ['until=1h', 'until=2000-01-01T00:00:00Z', 'label=keep=2', 'label!=keep']) {
      const r = run(['container', 'prune', '-f', '--filter', f]);
      seen.push([f, r.status, r.stderr, names()]);
    }
    ok(who, run, ['network', 'create', '--subnet', `${net}.1.0/24`, '--label', 'a=1', 'p-n1']);
    ok(who, run, ['network', 'create', '--subnet', `${net}.2.0/24`, 'p-n2']);
    // This dockerd runs with no default bridge: berthd's is left out.
    const nets = (f: string) =>
      lines(ok(who, run, ['network', 'ls', '--filter', f, '--format', '{{.Name}}'])).filter((n) => n !== 'bridge');
    seen.push(nets('dangling=true'), nets('dangling=false'), nets('label=a'));
    seen.push(ok(who, run, ['network', 'prune', '-f', '--filter', 'label=a=1']));
    seen.push(ok(who, run, ['network', 'prune', '-f', '--filter', 'label!=a']));
    ok(who, run, ['volume', 'create', '--label', 'a=1', 'p-v1']);
    ok(who, run, ['volume', 'create', 'p-v2']);
    seen.push(ok(who, run, ['volume', 'prune', '-f', '--filter', 'label=a=1']));
    seen.push(lines(ok(who, run, ['volume', 'ls', '--format', '{{.Name}}'])));
    ok(who, run, ['volume', 'rm', 'p-v2']);
    // system prune: containers, networks, images and build cache under the one filter.
    const sys = run(['system', 'prune', '-f', '--filter', 'label=keep=1']);
    seen.push([sys.status, sys.stderr, names()]);
    for (const args of [
      ['container', 'prune', '-f', '--filter', 'until=abc'],
      ['container', 'prune', '-f', '--filter', 'foo=bar'],
      ['image', 'prune', '-f', '--filter', 'until=abc'],
      ['network', 'prune', '-f', '--filter', 'dangling=true'],
      ['volume', 'prune', '-f', '--filter', 'until=1h'],
      ['volume', 'ls', '--filter', 'foo=bar'],
      ['network', 'ls', '--filter', 'foo=bar'],
      ['network', 'ls', '--filter', 'dangling=maybe'],
      ['network', 'ls', '--filter', 'label!=a'],
      ['ps', '--filter', 'exited=abc'],
      ['ps', '--filter', 'is-task=maybe'],
    ]) {
      const r = run(args);
      seen.push([args.join(' '), r.status, r.stdout, r.stderr]);
    }
    got.push(seen);
  }
  assert.deepEqual(got[1], got[0]);
  assert.deepEqual(got[0][2], ['label=keep=2', 0, '', ['p-drop', 'p-keep']]);
  assert.deepEqual(
    got[0].find((x) => Array.isArray(x) && x[0] === 'volume prune -f --filter until=1h'),
    ['volume prune -f --filter until=1h', 1, '', "Error response from daemon: Invalid filter 'until'\n"],
  );
  // The berth CLI: the same words.
  for (const [args, words] of [
    [['container', 'prune', '-f', '--filter', 'until=abc'], 'failed to parse value as time or duration: "abc"'],
    [['volume', 'prune', '-f', '--filter', 'foo=bar'], "Invalid filter 'foo'"],
  ] as const) {
    const b = berth([...args]);
    assert.equal(b.status, 1, show('berth', b));
    assert.equal(b.stderr, `Error response from daemon: ${words}\n`);
  }
});

/** One API request over a unix socket, the body sent as it is: status and body. */
/** A request with `body` as it is, said to be `contentType` (null: no Content-Type). */
function raw(
  socketPath: string,
  method: string,
  path: string,
  body: Buffer,
  contentType: string | null = 'application/x-tar',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: { ...(contentType === null ? {} : { 'Content-Type': contentType }), 'Content-Length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test("a broken archive to load: 200 and a stream error in dockerd's words, by API and through the CLIs", { skip }, async () => {
  const archives: [string, Buffer][] = [
    ['cut short', Buffer.from('garbage\n')],
    ['no tar header', randomBytes(1024)],
    ['gzip of junk', spawnSync('gzip', ['-c'], { input: 'garbage\n' }).stdout],
  ];
  for (const [what, body] of archives) {
    const want = await raw(join(d.dir, 'docker.sock'), 'POST', '/images/load?quiet=1', body);
    const got = await raw(eng.socket, 'POST', '/images/load?quiet=1', body);
    assert.deepEqual(got, want, what);
    assert.match(want.body, /^\{"errorDetail":\{"message":"Error processing tar file\(exit status 1\): /);
    const file = join(eng.dir, 'broken.tar');
    writeFileSync(file, body);
    const cli = [d.docker, eng.docker, (a: string[]) => berth(a)].map((run) => run(['load', '-i', file]));
    assert.deepEqual(cli[1], cli[0], what);
    assert.deepEqual(cli[2], cli[0], what);
  }
  // An archive with no manifest: the same status and stream shape (dockerd's words name its temp folder).
  const empty = spawnSync('tar', ['-cf', '-', '--files-from', '/dev/null']).stdout;
  const want = await raw(join(d.dir, 'docker.sock'), 'POST', '/images/load', empty);
  const got = await raw(eng.socket, 'POST', '/images/load', empty);
  assert.equal(got.status, want.status);
  assert.equal(want.status, 200);
  assert.match(got.body, /^\{"errorDetail":\{"message":"archive: neither index.json nor manifest.json found/);
});

test("system df: the summary and -v, with docker's fields, table, json and templates, as the docker CLI prints them", { skip }, () => {
  eng.dockerOk(['create', '--network', 'none', '-v', 'df-vol:/data', '--name', 'df-box', IMAGE, 'true']);
  // Times move between the two runs: each names them its own way, so columns are compared unaligned.
  const norm = (s: string) => s.replace(/(\d+ seconds?|Less than a second|About a minute) ago/g, 'T ago').replace(/ +/g, ' ');
  for (const args of [
    [],
    ['--format', '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}'],
    ['--format', 'json'],
    ['--format', 'table {{.Type}}\t{{.Reclaimable}}'],
    ['-v'],
    ['-v', '--format', 'json'],
    ['-v', '--format', '{{range .Volumes}}{{.Name}} {{.Links}}{{end}}'],
  ]) {
    const want = eng.docker(['system', 'df', ...args]);
    const got = berth(['system', 'df', ...args]);
    assert.equal(want.status, 0, show('docker', want));
    assert.deepEqual({ ...got, stdout: norm(got.stdout) }, { ...want, stdout: norm(want.stdout) }, args.join(' '));
  }
  eng.dockerOk(['rm', '-v', 'df-box']);
  eng.dockerOk(['volume', 'rm', 'df-vol']);
});

test("network names as dockerd takes them (spaces, slashes), and an ambiguous ID prefix in dockerd's words", { skip }, async () => {
  const got: unknown[][] = [];
  for (const [who, run, net] of engines()) {
    const sock = who === 'dockerd' ? join(d.dir, 'docker.sock') : eng.socket;
    ok(who, run, ['network', 'create', '--subnet', `${net}.5.0/24`, 'my net']);
    ok(who, run, ['network', 'create', '--subnet', `${net}.6.0/24`, 'a/b']);
    const seen: unknown[] = [
      ok(who, run, ['network', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}}', 'my net']),
      ok(who, run, ['network', 'ls', '--filter', 'name=a/b', '--format', '{{.Name}}']),
    ];
    // A one-character prefix that two networks or more share: each engine's own IDs.
    const ids = lines(ok(who, run, ['network', 'ls', '-q', '--no-trunc']));
    const c = [...'0123456789abcdef'].find((x) => ids.filter((i) => i.startsWith(x)).length > 1);
    if (c) {
      const n = ids.filter((i) => i.startsWith(c)).length;
      const inspect = await raw(sock, 'GET', `/networks/${c}`, Buffer.alloc(0));
      const rm = await raw(sock, 'DELETE', `/networks/${c}`, Buffer.alloc(0));
      seen.push([inspect.status, inspect.body.replace(`${n} matches`, 'N matches').replace(`network ${c} `, 'network C ')]);
      seen.push([rm.status, rm.body.replace(`(${n} matches`, '(N matches').replace(`network ${c} `, 'network C ')]);
    }
    got.push(seen);
    if (who === 'berthd') assert.equal(eng.dockerOk(['run', '--rm', '--network', 'my net', IMAGE, 'hostname', '-i']).split('.')[0], '10');
    ok(who, run, ['network', 'rm', 'my net', 'a/b']);
  }
  assert.deepEqual(got[1].slice(0, 2), got[0].slice(0, 2));
  const want = [
    [400, '{"message":"N matches found based on ID prefix: network C is ambiguous"}\n'],
    [400, '{"message":"network C is ambiguous (N matches found based on ID prefix)"}\n'],
  ];
  for (const g of got) if (g.length > 2) assert.deepEqual(g.slice(2), want);
});

test('attach: detach keys dockerd cannot parse are its 400 before the stream, with or without a terminal', { skip }, async () => {
  const got: unknown[][] = [];
  for (const [who, run] of engines()) {
    const sock = who === 'dockerd' ? join(d.dir, 'docker.sock') : eng.socket;
    ok(who, run, ['run', '-d', '--network', 'none', '--name', 'dk-box', IMAGE, 'sleep', '100']);
    const r = await raw(sock, 'POST', '/containers/dk-box/attach?stream=1&stdout=1&detachKeys=bogus', Buffer.alloc(0));
    const cli = run(['attach', '--detach-keys', 'ctrl-', 'dk-box']);
    const missing = await raw(sock, 'POST', '/containers/nosuch/attach?stream=1&stdout=1', Buffer.alloc(0));
    got.push([r.status, r.body, cli.status, cli.stderr, missing.status, missing.body]);
    ok(who, run, ['rm', '-f', 'dk-box']);
  }
  assert.deepEqual(got[1], got[0]);
  // Its words as plain text, not JSON: dockerd writes them on the hijacked connection.
  assert.deepEqual(got[0].slice(0, 2), [400, 'Invalid detach keys (bogus) provided\r\n']);
});

test("events: exec_create's action as dockerd joins it (a trailing space with no arguments), resize with its size", { skip }, async () => {
  const got: string[][] = [];
  for (const [who, run] of engines()) {
    const sock = who === 'dockerd' ? join(d.dir, 'docker.sock') : eng.socket;
    const since = (Date.now() / 1000).toFixed(9);
    ok(who, run, ['run', '-d', '--network', 'none', '-t', '--name', 'ev-tty', IMAGE, 'sleep', '100']);
    ok(who, run, ['run', '-d', '--network', 'none', '--name', 'ev-plain', IMAGE, 'sleep', '100']);
    ok(who, run, ['exec', 'ev-plain', 'true']);
    ok(who, run, ['exec', 'ev-plain', 'sh', '-c', 'exit 0']);
    // A container without a terminal is resized too: containerd takes it as a no-op, and dockerd tells it.
    for (const c of ['ev-tty', 'ev-plain'])
      assert.equal((await raw(sock, 'POST', `/containers/${c}/resize?h=30&w=100`, Buffer.alloc(0))).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    const until = (Date.now() / 1000).toFixed(9);
    const f = [
      '--since',
      since,
      '--until',
      until,
      '--format',
      '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.height}} {{.Actor.Attributes.width}}',
    ];
    got.push(
      lines(ok(who, run, ['events', '--filter', 'event=exec_create', '--filter', 'event=exec_start', '--filter', 'event=resize', ...f])),
    );
    ok(who, run, ['rm', '-f', 'ev-tty', 'ev-plain']);
  }
  assert.deepEqual(got[1], got[0]);
  assert.deepEqual(got[0], [
    'exec_create: sh -c exit 0 ev-plain <no value> <no value>',
    'exec_create: true  ev-plain <no value> <no value>',
    'exec_start: sh -c exit 0 ev-plain <no value> <no value>',
    'exec_start: true  ev-plain <no value> <no value>',
    'resize ev-plain 30 100',
    'resize ev-tty 30 100',
  ]);
});

test("a JSON body must say it is JSON, as dockerd's CheckForJSON: its 400 otherwise, in dockerd 28's words", { skip }, async () => {
  const got: unknown[][] = [];
  for (const [who, run] of engines()) {
    const sock = who === 'dockerd' ? join(d.dir, 'docker.sock') : eng.socket;
    const body = Buffer.from(JSON.stringify({ Name: 'ct-vol' }));
    const seen: unknown[] = [];
    for (const ct of ['application/x-tar', null, 'text/plain; charset=utf-8', 'application/json; charset=utf-8', 'Application/JSON'])
      seen.push([ct, await raw(sock, 'POST', '/volumes/create', body, ct)]);
    ok(who, run, ['volume', 'rm', 'ct-vol']);
    got.push(seen);
  }
  const status = (g: unknown[]) => g.map((x) => [(x as [string, { status: number }])[0], (x as [string, { status: number }])[1].status]);
  assert.deepEqual(status(got[1]), status(got[0]));
  assert.deepEqual(
    status(got[0]).map((x) => x[1]),
    [400, 400, 400, 201, 201],
  );
  // dockerd 20.10 says `Content-Type specified (…) must be 'application/json'` for all three; berthd answers API 1.50 as dockerd 28 does.
  assert.deepEqual(
    got[1].slice(0, 3).map((x) => (x as [string, { body: string }])[1].body),
    [
      `{"message":"unsupported Content-Type header (application/x-tar): must be 'application/json'"}\n`,
      '{"message":"malformed Content-Type header (): mime: no media type"}\n',
      `{"message":"unsupported Content-Type header (text/plain; charset=utf-8): must be 'application/json'"}\n`,
    ],
  );
});

test(
  'network connect and disconnect of none and host: as dockerd allows and refuses them (400, its words), with its events',
  { skip },
  async () => {
    const got: unknown[][] = [];
    for (const [who, run, net] of engines()) {
      const sock = who === 'dockerd' ? join(d.dir, 'docker.sock') : eng.socket;
      const connect = async (n: string, c: string, how = 'connect') => {
        const r = await raw(sock, 'POST', `/networks/${n}/${how}`, Buffer.from(JSON.stringify({ Container: c })), 'application/json');
        return [n, how, c, r.status, r.body];
      };
      const nets = (c: string) =>
        ok(who, run, ['inspect', '-f', '{{.HostConfig.NetworkMode}}{{range $k, $v := .NetworkSettings.Networks}} {{$k}}{{end}}', c]).trim();
      const since = (Date.now() / 1000).toFixed(9);
      ok(who, run, ['network', 'create', '--subnet', `${net}.9.0/24`, 'nh-net']);
      ok(who, run, ['run', '-d', '--network', 'none', '--name', 'nh-none', IMAGE, 'sleep', '100']);
      ok(who, run, ['run', '-d', '--network', 'host', '--name', 'nh-host', IMAGE, 'sleep', '100']);
      ok(who, run, ['run', '-d', '--network', 'container:nh-none', '--name', 'nh-joiner', IMAGE, 'sleep', '100']);
      ok(who, run, ['create', '--network', 'nh-net', '--name', 'nh-bridge', IMAGE, 'true']);
      const seen: unknown[] = [
        await connect('nh-net', 'nh-none'),
        await connect('host', 'nh-none'),
        await connect('none', 'nh-bridge'),
        await connect('host', 'nh-bridge'),
        await connect('host', 'nh-host', 'disconnect'),
        await connect('nh-net', 'nh-host'),
        await connect('nh-net', 'nh-joiner'),
        // none is left and joined again, as any network.
        await connect('none', 'nh-none', 'disconnect'),
        nets('nh-none'),
        await connect('none', 'nh-none'),
        nets('nh-none'),
        ok(who, run, ['network', 'inspect', '-f', '{{len .Containers}}', 'none']).trim(),
      ];
      ok(who, run, ['rm', '-f', 'nh-joiner', 'nh-none', 'nh-host', 'nh-bridge']);
      ok(who, run, ['network', 'rm', 'nh-net']);
      const until = (Date.now() / 1000).toFixed(9);
      // dockerd tells a running container's disconnect twice (its disconnectFromNetwork and its caller, dockerd 28 too), berthd once
      // (engine-fidelity-probe);
      // `rm -f` of several goes in parallel, so the order at the end is the CLI's.
      const events = ok(who, run, [
        'events',
        '--since',
        since,
        '--until',
        until,
        '--filter',
        'type=network',
        '--filter',
        'network=none',
        '--filter',
        'network=host',
        '--format',
        '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}}',
      ])
        .trim()
        .split('\n');
      seen.push(events.filter((e, i) => e !== events[i - 1]).sort());
      got.push(seen);
    }
    assert.deepEqual(got[1], got[0]);
    const none = 'container cannot be connected to multiple networks with one of the networks in private (none) mode';
    const host = 'container cannot be disconnected from host network or connected to host network';
    const shared = 'container sharing network namespace with another container or host cannot be connected to any other network';
    assert.deepEqual(
      got[0].slice(0, 7).map((s) => (s as unknown[]).slice(3)),
      [none, host, none, host, host, shared, shared].map((m) => [400, `${JSON.stringify({ message: m })}\n`]),
    );
    assert.deepEqual(got[0].slice(7, 12), [
      ['none', 'disconnect', 'nh-none', 200, ''],
      'none',
      ['none', 'connect', 'nh-none', 200, ''],
      'none none',
      '1',
    ]);
    // Joined at start, left, joined again, left at the end; host's too.
    assert.deepEqual(got[0][12], [
      'connect host host',
      'connect none null',
      'connect none null',
      'disconnect host host',
      'disconnect none null',
      'disconnect none null',
    ]);
  },
);

test('a volume at /etc: the init files are bound onto it, their mount points in it, read-only too', { skip }, () => {
  const got: unknown[][] = [];
  const script = 'ls /etc | tr "\\n" " "; grep " /etc" /proc/mounts | cut -d" " -f2 | sort | tr "\\n" " "; wc -c < /etc/hostname';
  for (const [who, run] of engines()) {
    got.push([
      ok(who, run, ['run', '--rm', '--network', 'none', '-v', 'etc-rw:/etc', IMAGE, 'sh', '-c', script]),
      ok(who, run, ['run', '--rm', '--network', 'none', '-v', 'etc-ro:/etc:ro', IMAGE, 'sh', '-c', script]),
    ]);
    ok(who, run, ['volume', 'rm', 'etc-rw', 'etc-ro']);
  }
  assert.deepEqual(got[1], got[0]);
  // The new volume takes the init layer's /etc/mtab with the image's /etc, on both.
  const want = 'group hostname hosts mtab passwd resolv.conf /etc /etc/hostname /etc/hosts /etc/resolv.conf 13\n';
  assert.deepEqual(got[0], [want, want]);
});

test("top: ps's failure is dockerd's 500 with the first line of ps's stderr", { skip }, async () => {
  const got: unknown[][] = [];
  for (const [who, run] of engines()) {
    const sock = who === 'dockerd' ? join(d.dir, 'docker.sock') : eng.socket;
    ok(who, run, ['run', '-d', '--network', 'none', '--name', 'top-box', IMAGE, 'sleep', '100']);
    const r = await raw(sock, 'GET', '/containers/top-box/top?ps_args=--bogus', Buffer.alloc(0));
    got.push([r.status, r.body, run(['top', 'top-box', '--bogus'])]);
    ok(who, run, ['rm', '-f', 'top-box']);
  }
  assert.deepEqual(got[1], got[0]);
  assert.deepEqual(got[0].slice(0, 2), [500, '{"message":"ps: error: unknown gnu long option"}\n']);
});

test('cp: a path ending in / or /. names a directory, so a file there is not found (the docker CLI: no such directory)', { skip }, () => {
  const got: unknown[][] = [];
  const src = join(eng.dir, 'cp-src');
  writeFileSync(src, 'new\n');
  for (const [who, run] of engines()) {
    ok(who, run, ['run', '-d', '--network', 'none', '--name', 'cp-box', IMAGE, 'sh', '-c', 'echo old > /f; ln -s f /l; sleep 100']);
    const seen: unknown[] = [];
    for (const dest of ['cp-box:/f/', 'cp-box:/l/', 'cp-box:/f/.']) {
      const r = run(['cp', src, dest]);
      seen.push([
        dest,
        r.status,
        r.stderr
          .split('\n')
          .filter((l) => !l.startsWith('time='))
          .join('\n'),
      ]);
    }
    for (const from of ['cp-box:/f/', 'cp-box:/f/.']) seen.push([from, run(['cp', from, join(eng.dir, 'cp-out')]).status]);
    seen.push(ok(who, run, ['exec', 'cp-box', 'cat', '/f']));
    ok(who, run, ['rm', '-f', 'cp-box']);
    got.push(seen);
  }
  // dockerd's stat answers a 500 with its lstat's error and a host path; berthd a 404, in cp's words.
  assert.deepEqual(got[1], got[0]);
  assert.deepEqual(
    got[0].slice(0, 3),
    ['cp-box:/f/', 'cp-box:/l/', 'cp-box:/f/.'].map((p) => [p, 1, 'no such directory\n']),
  );
  assert.equal(got[0][5], 'old\n');
});

test("berthd's storage is overlay2's, as daemon.json's storage-driver names it: info, container and image inspect", { skip }, () => {
  // (This dockerd runs on vfs; dockerd on overlay2 reports these fields so.)
  const [driver, status] = eng.dockerOk(['info', '--format', '{{.Driver}}|{{json .DriverStatus}}']).split('|');
  assert.equal(driver, 'overlay2');
  assert.deepEqual(
    (JSON.parse(status) as string[][]).map(([k]) => k),
    ['Backing Filesystem', 'Supports d_type', 'Using metacopy', 'Native Overlay Diff', 'userxattr'],
  );
  assert.notEqual((JSON.parse(status) as string[][])[0][1], '<unknown>');
  eng.dockerOk(['create', '--network', 'none', '--name', 'drv-box', IMAGE, 'true']);
  assert.equal(eng.dockerOk(['inspect', '-f', '{{.Driver}} {{.GraphDriver.Name}}', 'drv-box']), 'overlay2 overlay2');
  assert.equal(eng.dockerOk(['image', 'inspect', '-f', '{{.GraphDriver.Name}}', IMAGE]), 'overlay2');
  eng.dockerOk(['rm', 'drv-box']);
});

test(
  "commit of a running container: paused while its layer is read, with dockerd's events (pause, image tag, commit, unpause)",
  { skip },
  () => {
    const got: string[][] = [];
    for (const [who, run] of engines()) {
      ok(who, run, ['run', '-d', '--network', 'none', '--name', 'cm-box', IMAGE, 'sleep', '100']);
      const since = (Date.now() / 1000).toFixed(9);
      // The docker 28 CLI sends the repository fully qualified (docker.io/library/cm-img).
      ok(who, run, ['commit', 'cm-box', 'cm-img']);
      ok(who, run, ['commit', '--pause=false', 'cm-box', 'cm-img:two']);
      const until = (Date.now() / 1000).toFixed(9);
      const f = '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.imageRef}}';
      got.push(ok(who, run, ['events', '--since', since, '--until', until, '--format', f]).trim().split('\n'));
      ok(who, run, ['rm', '-f', 'cm-box']);
      ok(who, run, ['rmi', 'cm-img', 'cm-img:two']);
    }
    assert.deepEqual(got[1], got[0]);
    assert.deepEqual(got[0], [
      'container pause cm-box <no value>',
      'image tag cm-img:latest <no value>',
      'container commit cm-box cm-img:latest',
      'container unpause cm-box <no value>',
      'image tag cm-img:two <no value>',
      'container commit cm-box cm-img:two',
    ]);
  },
);

test("rename to a name dockerd refuses: its allocation's words, the name with its slash", { skip }, () => {
  const got: unknown[] = [];
  for (const [who, run] of engines()) {
    ok(who, run, ['create', '--network', 'none', '--name', 'rn-box', IMAGE, 'true']);
    const r = run(['rename', 'rn-box', 'bad name']);
    got.push([r.status, r.stderr]);
    ok(who, run, ['rm', 'rn-box']);
  }
  assert.deepEqual(got[1], got[0]);
  assert.match(
    (got[0] as [number, string])[1],
    /^Error response from daemon: Error when allocating new name: Invalid container name \(\/bad name\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed\n/,
  );
});

test("kill's signals as dockerd parses them: the realtime names of its SignalMap; a number it lacks refused", { skip }, () => {
  const got: unknown[][] = [];
  for (const [who, run] of engines()) {
    const since = (Date.now() / 1000).toFixed(9);
    ok(who, run, ['run', '-d', '--network', 'none', '--name', 'sg-box', IMAGE, 'sleep', '100']);
    const seen: unknown[] = [];
    for (const s of ['SIGRTMIN+3', 'rtmax-2', 'RTMIN', 'SIGRTMAX', 'RTMIN+16', '64'])
      seen.push([s, run(['kill', '-s', s, 'sg-box']).status]);
    const r = run(['kill', '-s', '65', 'sg-box']);
    seen.push([r.status, r.stderr.replace(/Cannot kill container: sg-box: The linux/, 'the linux')]);
    seen.push(ok(who, run, ['inspect', '-f', '{{.State.Status}}', 'sg-box']));
    ok(who, run, ['rm', '-f', 'sg-box']);
    const until = (Date.now() / 1000).toFixed(9);
    seen.push(
      ok(who, run, ['events', '--since', since, '--until', until, '--filter', 'event=kill', '--format', '{{.Actor.Attributes.signal}}'])
        .trim()
        .split('\n'),
    );
    got.push(seen);
  }
  // dockerd 20.10 refuses 65 at the kill (a 500 in longer words); berthd at the parse, as dockerd 28 (a 400).
  assert.deepEqual(got[1], got[0]);
  assert.deepEqual(got[0].slice(0, 6), [
    ['SIGRTMIN+3', 0],
    ['rtmax-2', 0],
    ['RTMIN', 0],
    ['SIGRTMAX', 0],
    ['RTMIN+16', 1],
    ['64', 0],
  ]);
  assert.deepEqual(got[0][6], [1, 'Error response from daemon: the linux daemon does not support signal 65\n']);
  assert.deepEqual(got[0][8], ['37', '62', '34', '64', '64', '9']);
});

test('an exit is told as dockerd tells it: die, then the network disconnect and the volume unmount, then destroy', { skip }, () => {
  const got: string[][] = [];
  for (const [who, run] of engines()) {
    const since = (Date.now() / 1000).toFixed(9);
    ok(who, run, ['run', '--rm', '--network', 'none', '-v', 'ord-vol:/x', '--name', 'ord-box', IMAGE, 'true']);
    const until = (Date.now() / 1000).toFixed(9);
    const f = ['--since', since, '--until', until, '--format', '{{.Type}} {{.Action}}'];
    const events = ok(who, run, [
      'events',
      '--filter',
      'event=die',
      '--filter',
      'event=disconnect',
      '--filter',
      'event=unmount',
      '--filter',
      'event=destroy',
      ...f,
    ]);
    got.push(events.trim().split('\n'));
    ok(who, run, ['volume', 'rm', 'ord-vol']);
  }
  assert.deepEqual(got[1], got[0]);
  assert.deepEqual(got[0], ['container die', 'network disconnect', 'volume unmount', 'container destroy']);
});
