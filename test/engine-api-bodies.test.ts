// Request bodies against a real berthd: wrong types, null, deep nesting and bad escapes are 400s
// that make nothing; a 100 MB body is a 413 and berthd's memory stays where it was; names past
// berth's limits are refused at create; an image loaded beside its pulled self is removed by ID;
// and a seeded fuzz of the create body never gets a 5xx, only a 201 whose fields inspect shows,
// or a 4xx.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startEngine, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
  eng.dockerOk(['pull', 'busybox']);
});
after(async () => {
  await eng?.stop();
});

/** A request with a body of exactly `text` (no JSON encoding of ours). */
function raw(method: string, path: string, text?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = text === undefined ? undefined : Buffer.from(text);
    const req = request(
      {
        socketPath: eng.socket,
        agent: false,
        method,
        path,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
      },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const json = async (path: string) => JSON.parse((await eng.api('GET', path)).body);
const volumeDirs = () => {
  try {
    return readdirSync(join(eng.dir, 'data', 'volumes'));
  } catch {
    return [];
  }
};
/** What berthd has made that a refused request must not add to. */
const made = async () => ({
  containers: (await json('/containers/json?all=1')).map((c: { Id: string }) => c.Id),
  networks: (await json('/networks')).map((n: { Name: string }) => n.Name).sort(),
  volumes: (await json('/volumes')).Volumes.map((v: { Name: string }) => v.Name),
  volumeDirs: volumeDirs(),
});

const deep = (n: number) => '{"a":'.repeat(n) + '{}' + '}'.repeat(n);

/** [method, path, body text, what the 400's message says] */
const REFUSED: [string, string, string, RegExp][] = [
  [
    'POST',
    '/containers/create',
    '{"Image":"busybox","HostConfig":{"Privileged":"false"}}',
    /^json: cannot unmarshal string into Go struct field HostConfig\.HostConfig\.Privileged of type bool$/,
  ],
  ['POST', '/containers/create', '{"Image":"busybox","WorkingDir":5}', /Go struct field CreateRequest\.WorkingDir of type string/],
  [
    'POST',
    '/containers/create',
    '{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":5}]}}}',
    /PortBinding\.HostConfig\.PortBindings\.HostPort of type string/,
  ],
  ['POST', '/containers/create', '{"Image":"busybox","Env":"A=1"}', /CreateRequest\.Env of type \[\]string/],
  ['POST', '/containers/create', '{"Image":"busybox","Labels":{"a":1}}', /CreateRequest\.Labels of type string/],
  ['POST', '/containers/create', '{"Image":"busybox","Tty":"true"}', /CreateRequest\.Tty of type bool/],
  ['POST', '/containers/create', '{"Image":"busybox","HostConfig":{"Memory":"1g"}}', /HostConfig\.HostConfig\.Memory of type int64/],
  [
    'POST',
    '/containers/create',
    '{"Image":"busybox","HostConfig":{"CpuShares":1.5}}',
    /number 1\.5 into Go struct field HostConfig\.HostConfig\.CpuShares of type int64/,
  ],
  ['POST', '/containers/create', '{"Image":"busybox","HostConfig":{"CapAdd":[1]}}', /HostConfig\.HostConfig\.CapAdd/],
  [
    'POST',
    '/containers/create',
    '{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"sometimes"}}}',
    /^invalid restart policy: unknown policy 'sometimes'/,
  ],
  [
    'POST',
    '/containers/create',
    '{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"nfs","Target":"/x"}]}}',
    /^invalid mount config for type "nfs": mount type unknown$/,
  ],
  [
    'POST',
    '/containers/create',
    '{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"/x","ReadOnly":"no"}]}}',
    /Mount\.HostConfig\.Mounts\.ReadOnly of type bool/,
  ],
  ['POST', '/containers/create', '{"Image":"busybox","ExposedPorts":["80/tcp"]}', /CreateRequest\.ExposedPorts of type nat\.PortSet/],
  [
    'POST',
    '/containers/create',
    '{"Image":"busybox","NetworkingConfig":{"EndpointsConfig":{"bridge":{"Aliases":"a"}}}}',
    /EndpointSettings\.NetworkingConfig\.EndpointsConfig\.Aliases of type \[\]string/,
  ],
  ['POST', '/containers/create', 'null', /request body is null/],
  ['POST', '/containers/create', '[]', /Go value of type container\.CreateRequest/],
  ['POST', '/containers/create', '{"Image":', /invalid JSON/],
  ['POST', '/containers/create', deep(100_000), /exceeded max depth/],
  ['POST', '/volumes/create', `{"Name":"deepvol","Labels":${deep(100_000)}}`, /exceeded max depth/],
  ['POST', '/volumes/create', '{"Name":"v1","Labels":{"a":{"b":1}}}', /CreateOptions\.Labels of type string/],
  ['POST', '/volumes/create', 'null', /request body is null/],
  ['POST', '/volumes/create', `{"Name":"${'v'.repeat(300)}"}`, /the volume name has 300 characters, berth's limit is 255/],
  ['POST', '/networks/create', '{"Name":"n1","Internal":"yes"}', /CreateRequest\.Internal of type bool/],
  ['POST', '/networks/create', '{"Name":"n1","IPAM":{"Config":[{"Subnet":10}]}}', /IPAMConfig\.IPAM\.Config\.Subnet of type string/],
  ['POST', '/networks/create', 'null', /request body is null/],
  ['POST', '/containers/%ff/start', '', /invalid escape in the request path/],
  ['GET', '/containers/%ff/json', '', /invalid escape in the request path/],
];

test('wrong-type, null, malformed and too-deep bodies are 400s that name the field and make nothing', async () => {
  const before = await made();
  for (const [method, path, body, re] of REFUSED) {
    const r = await raw(method, path, body);
    assert.equal(r.status, 400, `${method} ${path} ${body.slice(0, 80)}: ${r.status} ${r.body}`);
    assert.match(JSON.parse(r.body).message, re, `${method} ${path} ${body.slice(0, 80)}`);
  }
  assert.deepEqual(await made(), before);
});

test('the other bodies are typed too: update, exec create/start, connect, commit, auth', async () => {
  const id = JSON.parse((await raw('POST', '/containers/create', '{"Image":"busybox","Cmd":["sleep","30"]}')).body).Id;
  try {
    const cases: [string, string, RegExp][] = [
      [`/containers/${id}/update`, '{"Memory":"64m"}', /UpdateConfig\.Memory of type int64/],
      [
        `/containers/${id}/update`,
        '{"RestartPolicy":{"Name":5}}',
        /RestartPolicy\.RestartPolicy\.Name of type container\.RestartPolicyMode/,
      ],
      [`/containers/${id}/exec`, '{"Cmd":"true"}', /ExecOptions\.Cmd of type \[\]string/],
      [`/containers/${id}/exec`, '{"Cmd":["true"],"Privileged":"false"}', /ExecOptions\.Privileged of type bool/],
      [
        '/networks/bridge/connect',
        `{"Container":"${id}","EndpointConfig":{"Aliases":[1]}}`,
        /EndpointSettings\.EndpointConfig\.Aliases of type string/,
      ],
      ['/networks/bridge/disconnect', `{"Container":"${id}","Force":"yes"}`, /DisconnectOptions\.Force of type bool/],
      [`/commit?container=${id}`, '{"Env":"A=1"}', /Config\.Env of type \[\]string/],
      ['/auth', '{"username":1}', /AuthConfig\.username of type string/],
    ];
    for (const [path, body, re] of cases) {
      const r = await raw('POST', path, body);
      assert.equal(r.status, 400, `${path} ${body}: ${r.status} ${r.body}`);
      assert.match(JSON.parse(r.body).message, re, `${path} ${body}`);
    }
    assert.ok(!(await json(`/containers/${id}/json`)).ExecIDs?.length, 'a refused exec was made');
    const exec = JSON.parse((await raw('POST', `/containers/${id}/exec`, '{"Cmd":["true"]}')).body).Id;
    const r = await raw('POST', `/exec/${exec}/start`, '{"Detach":"true"}');
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).message, /ExecStartOptions\.Detach of type bool/);
    // A null body to commit is an empty config, as old clients send it.
    const commit = await raw('POST', `/commit?container=${id}&repo=committed`, 'null');
    assert.equal(commit.status, 201, commit.body);
    assert.equal((await raw('DELETE', '/images/committed')).status, 200);
  } finally {
    await raw('DELETE', `/containers/${id}?force=1`);
  }
});

const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** Sends `size` bytes (a JSON label that never ends) in 1 MiB chunks, with or without a Content-Length. */
function sendHuge(size: number, declare: boolean): Promise<{ status?: number; body: string; sent: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    let status: number | undefined;
    let body = '';
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json' };
    if (declare) headers['Content-Length'] = size;
    const req = request({ socketPath: eng.socket, agent: false, method: 'POST', path: '/containers/create', headers }, (res) => {
      status = res.statusCode;
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => {
        req.destroy();
        resolve({ status, body, sent });
      });
    });
    // The server closes once it has refused: the rest of the upload fails, which is expected.
    req.on('error', (e) => resolve({ status, body: body || e.message, sent }));
    const chunk = Buffer.alloc(1 << 20, 'a');
    const pump = () => {
      while (sent < size && status === undefined) {
        const first = sent === 0;
        sent += chunk.length;
        const ok = req.write(first ? Buffer.concat([Buffer.from('{"Image":"busybox","Labels":{"big":"'), chunk.subarray(36)]) : chunk);
        if (!ok) {
          req.once('drain', pump);
          return;
        }
      }
      if (sent >= size) req.end();
    };
    pump();
  });
}

test("a 100 MB body is refused with a 413 while it is read, and berthd's memory stays at its baseline", async () => {
  for (let i = 0; i < 20; i++) await raw('GET', '/containers/json?all=1'); // warm up
  const pid = eng.pid();
  const base = rss(pid);
  const before = await made();
  for (const declare of [true, false]) {
    const r = await sendHuge(100 << 20, declare);
    assert.equal(r.status, 413, `declare ${declare}: ${r.status} ${r.body} ${eng.daemonLog().slice(-1200)}`);
    assert.match(JSON.parse(r.body).message, /larger than berthd's limit of 1048576 bytes/);
  }
  const t = Date.now();
  assert.equal((await raw('GET', '/_ping')).status, 200);
  const ping = Date.now() - t;
  assert.deepEqual(await made(), before);
  const grown = rss(pid) - base;
  process.stderr.write(
    `berthd RSS before ${(base / 2 ** 20).toFixed(1)} MiB, after two refused 100 MB bodies ${(rss(pid) / 2 ** 20).toFixed(1)} MiB; _ping ${ping} ms\n`,
  );
  assert.ok(grown < 16 << 20, `berthd grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(ping < 500, `_ping took ${ping} ms`);
});

test("names at berth's limits are created and removed; past them refused; a removed network takes its IPAM folder", async () => {
  const long = 'n'.repeat(255);
  assert.equal((await eng.api('POST', '/networks/create', { Name: long })).status, 201);
  assert.equal((await eng.api('DELETE', `/networks/${long}`)).status, 204);
  assert.equal((await eng.api('GET', `/networks/${long}`)).status, 404);
  const vol = 'v'.repeat(255);
  assert.equal((await eng.api('POST', '/volumes/create', { Name: vol })).status, 201);
  assert.equal((await eng.api('DELETE', `/volumes/${vol}`)).status, 204);
  assert.equal((await eng.api('GET', `/volumes/${'v'.repeat(300)}`)).status, 404);
  assert.deepEqual(volumeDirs(), []);
});

test('an image and its copy loaded from save share one ID, and rmi by that ID removes both', async () => {
  const tar = join(eng.dir, 'saved.tar');
  eng.dockerOk(['tag', 'busybox', 'copy:1']);
  eng.dockerOk(['save', '-o', tar, 'copy:1']);
  eng.dockerOk(['rmi', 'copy:1']);
  eng.dockerOk(['load', '-i', tar]);
  rmSync(tar);
  const id = eng.dockerOk(['image', 'inspect', '--format', '{{.Id}}', 'busybox']);
  assert.equal(eng.dockerOk(['image', 'inspect', '--format', '{{.Id}}', 'copy:1']), id);
  // Two manifests (pulled, loaded) of one config: two rows of one ID.
  assert.equal(
    eng
      .dockerOk(['images', '-q', '--no-trunc'])
      .split('\n')
      .filter((l) => l === id).length,
    2,
  );
  const r = eng.docker(['rmi', '-f', id.slice(7, 19)]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(eng.docker(['image', 'inspect', 'copy:1']).status, 1);
  assert.equal(eng.docker(['image', 'inspect', 'busybox']).status, 1);
  assert.equal(eng.dockerOk(['images', '-q', '--no-trunc']).includes(id), false);
  eng.dockerOk(['pull', 'busybox']);
});

/** mulberry32: a small seeded generator, so a failing case can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bools = [true, false];
/** Fields the fuzz sets, where inspect shows them, and values of the right type (half the cases use one). */
const FIELDS: [string, 'Config' | 'HostConfig', unknown[]][] = [
  ['Hostname', 'Config', ['box', 'a-b.c']],
  ['User', 'Config', ['root', '1000', 'nobody']],
  ['Env', 'Config', [['A=1'], ['A=1', 'B=two']]],
  ['Cmd', 'Config', ['true', ['sh', '-c', 'true']]],
  ['Entrypoint', 'Config', ['/bin/sh', ['env']]],
  ['WorkingDir', 'Config', ['/work', '/tmp/x']],
  ['Labels', 'Config', [{ k: 'v' }, { 'a.b': '' }]],
  ['Tty', 'Config', bools],
  ['OpenStdin', 'Config', bools],
  ['StopSignal', 'Config', ['SIGTERM', 'SIGKILL']],
  ['Privileged', 'HostConfig', bools],
  ['ReadonlyRootfs', 'HostConfig', bools],
  ['Memory', 'HostConfig', [6 << 20, 64 << 20, 1 << 30]],
  ['CpuShares', 'HostConfig', [2, 512, 1024]],
  ['PidsLimit', 'HostConfig', [1, 100]],
  ['CapAdd', 'HostConfig', ['NET_ADMIN', ['CHOWN', 'SYS_TIME']]],
  ['Dns', 'HostConfig', [['1.1.1.1'], ['192.0.2.1', '192.0.2.2']]],
  ['ExtraHosts', 'HostConfig', [['h:192.0.2.4']]],
  ['Init', 'HostConfig', bools],
  ['RestartPolicy', 'HostConfig', [{ Name: 'always' }, { Name: 'on-failure', MaximumRetryCount: 3 }, { Name: 'no' }]],
  ['AutoRemove', 'HostConfig', bools],
  ['NetworkMode', 'HostConfig', ['none', 'host', 'bridge']],
];

function randomValue(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * (depth > 2 ? 7 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor(r() * 2000) - 1000;
    case 3:
      return [0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e300, 64 << 20][Math.floor(r() * 7)];
    case 4:
      return [
        '',
        'a',
        '/work',
        'SIGKILL',
        'no',
        'always',
        'bridge',
        'host',
        'none',
        'CHOWN',
        'A=1',
        'h:1.2.3.4',
        '1.1.1.1',
        'x'.repeat(300),
        '\u0000',
        '%ff',
      ][Math.floor(r() * 16)];
    case 5:
      return 'r' + Math.floor(r() * 1e6).toString(36);
    case 6:
      return [];
    case 7:
      return Array.from({ length: 1 + Math.floor(r() * 3) }, () => randomValue(r, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: 1 + Math.floor(r() * 3) }, (_, i) => [
          ['Name', 'MaximumRetryCount', 'a', 'b.c'][i],
          randomValue(r, depth + 1),
        ]),
      );
  }
}

test('fuzz (seeded, bounded): each create body is a 201 whose fields inspect shows, or a 4xx — never a 5xx', async () => {
  const seed = Number(process.env.BERTH_FUZZ_SEED ?? 12);
  const r = rng(seed);
  const cases = 150;
  let created = 0;
  for (let i = 0; i < cases; i++) {
    const body: Record<string, any> = { Image: 'busybox', Cmd: ['true'], HostConfig: {} };
    const set: [string, 'Config' | 'HostConfig', unknown][] = [];
    for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
      const [field, where, good] = FIELDS[Math.floor(r() * FIELDS.length)];
      const value = r() < 0.5 ? good[Math.floor(r() * good.length)] : randomValue(r);
      if (where === 'Config') body[field] = value;
      else body.HostConfig[field] = value;
      set.push([field, where, value]);
    }
    const text = JSON.stringify(body);
    const res = await raw('POST', '/containers/create', text);
    const what = `seed ${seed} case ${i}: ${text.slice(0, 300)} → ${res.status} ${res.body}`;
    assert.ok(res.status === 201 || (res.status >= 400 && res.status < 500), what);
    if (res.status !== 201) continue;
    created++;
    const id = JSON.parse(res.body).Id;
    const c = await json(`/containers/${id}/json`);
    for (const [field, where] of set) {
      const sent = where === 'Config' ? body[field] : body.HostConfig[field];
      if (sent === null || sent === '') continue; // unset, as Go decodes it
      const shown = c[where][field];
      const want = (field === 'Cmd' || field === 'Entrypoint' || field === 'CapAdd') && typeof sent === 'string' ? [sent] : sent;
      if (field === 'Env')
        for (const e of sent as string[]) assert.ok(shown.includes(e), `${what}: Env ${e} not in ${JSON.stringify(shown)}`);
      else if (field === 'Labels') for (const [k, v] of Object.entries(sent as object)) assert.equal(shown[k], v, `${what}: label ${k}`);
      else if (field === 'RestartPolicy') assert.equal(shown.Name, (sent as { Name?: string }).Name || 'no', what);
      else if (field === 'NetworkMode') assert.equal(shown, sent || 'bridge', what);
      else if (Array.isArray(want) && !want.length)
        assert.ok(shown === null || (Array.isArray(shown) && !shown.length), `${what}: ${field} shows ${JSON.stringify(shown)}`);
      else assert.deepEqual(shown, want, `${what}: ${field} shows ${JSON.stringify(shown)}`);
    }
    assert.equal((await raw('DELETE', `/containers/${id}?force=1`)).status, 204, what);
  }
  process.stderr.write(
    `fuzz seed ${seed}: ${cases} create bodies, ${created} created and checked, ${cases - created} refused with a 4xx\n`,
  );
  assert.ok(created > 5 && created < cases, `the fuzz should both create and refuse (created ${created} of ${cases})`);
});
