// `docker search` side by side: the docker 28 CLI against dockerd 20.10 and against berthd, and
// the berth CLI, searching a v1 search index on loopback (a child process serving `/v1/_ping`
// and `/v1/search` with fixed results: Docker Hub's index is not reachable from tests) and the
// test's docker-registry, which has no v1 search. Both daemons must print the same table,
// formats and filters, and refuse the same inputs with the same words.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { sideBySide, berthCli, show } from './helpers/side-by-side.js';
import type { EngineFixture } from './engine-fixture.js';
import type { Dockerd } from './helpers/dockerd.js';

let eng!: EngineFixture;
let d!: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));

// The index: what it answers is the test's data; both daemons read the same.
const INDEX = `
const http = require('node:http');
const results = [
  { name: 'team/app', description: 'An app whose description is long enough to be cut at forty-five characters', star_count: 12, is_official: false, is_automated: false },
  { name: 'app', description: 'The official app\\nwith a second line', star_count: 5000, is_official: true, is_automated: false },
  { name: 'other/app', description: '', star_count: 3, is_official: false, is_automated: true },
];
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/v1/_ping') return res.end('true');
  if (u.pathname !== '/v1/search') { res.writeHead(404); return res.end(); }
  const n = Number(u.searchParams.get('n'));
  const hits = results.filter((r) => r.name.includes(u.searchParams.get('q'))).slice(0, n);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ num_results: hits.length, query: u.searchParams.get('q'), results: hits }));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

let index: ChildProcess | undefined;
let indexHost = '';
after(async () => {
  if (index && index.exitCode === null) {
    index.kill();
    await once(index, 'exit');
  }
});

test('the index starts', { skip }, async () => {
  index = spawn(process.execPath, ['-e', INDEX], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(index.stdout!, 'data')) as [Buffer];
  indexHost = `127.0.0.1:${line.toString().trim()}`;
});

const both = (args: string[]) => {
  const a = d.docker(args);
  const b = eng.docker(args);
  return { a, b };
};

test('docker search prints the same table, formats and filtered results from dockerd and berthd; the berth CLI too', { skip }, () => {
  for (const args of [
    ['search', `${indexHost}/app`],
    ['search', '--no-trunc', `${indexHost}/app`],
    ['search', '--limit', '2', `${indexHost}/app`],
    ['search', '--format', '{{.Name}}|{{.StarCount}}|{{.IsOfficial}}|{{.Description}}', `${indexHost}/app`],
    ['search', '--format', '{{json .}}', `${indexHost}/app`],
    ['search', '-f', 'is-official=true', `${indexHost}/app`],
    ['search', '-f', 'is-official=false', '-f', 'stars=10', `${indexHost}/app`],
    ['search', '-f', 'stars=100000', `${indexHost}/app`],
  ]) {
    const { a, b } = both(args);
    assert.equal(a.status, 0, show('dockerd', a));
    assert.equal(b.status, 0, show('berthd', b));
    assert.equal(b.stdout, a.stdout, `${args.join(' ')}\n${show('dockerd', a)}\n${show('berthd', b)}`);
    const c = berthCli(eng, args);
    assert.equal(c.status, 0, show('berth', c));
    assert.equal(c.stdout, a.stdout, `berth ${args.join(' ')}\n${show('berth', c)}`);
  }
  // The table itself, so that both agreeing on nothing cannot pass.
  const { a } = both(['search', `${indexHost}/app`]);
  assert.match(a.stdout, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\n/);
  assert.match(a.stdout, /\napp\s+The official app with a second line\s+5000\s+\[OK\]\n/);
  assert.match(a.stdout, /team\/app\s+An app whose description is long enough to b…\s+12/);
});

test('a registry without v1 search, a bad limit or filter and a term with a scheme are refused alike', { skip }, () => {
  for (const [args, words] of [
    [['search', `${eng.registry.host}/busybox`], /Unexpected status code 404/],
    [['search', '--limit', '101', `${indexHost}/app`], /Limit 101 is outside the range of \[1, 100\]/],
    [['search', '-f', 'bogus=1', `${indexHost}/app`], /Invalid filter 'bogus'/],
    // docker 28's search fields have no IsAutomated (Docker Hub dropped it).
    [['search', '--format', '{{.IsAutomated}}', `${indexHost}/app`], /IsAutomated/],
    [['search', '-f', 'is-official=maybe', `${indexHost}/app`], /Invalid filter 'is-official=\[maybe\]'/],
    [['search', '-f', 'stars=many', `${indexHost}/app`], /Invalid filter 'stars=many'/],
    [['search', `http://${indexHost}/app`], /Invalid repository name \(ex: "registry.domain.tld\/myrepos"\)/],
  ] as [string[], RegExp][]) {
    const { a, b } = both(args);
    assert.notEqual(a.status, 0, show('dockerd', a));
    assert.equal(b.status, a.status, `${args.join(' ')}\n${show('dockerd', a)}\n${show('berthd', b)}`);
    assert.match(a.stderr, words, show('dockerd', a));
    assert.match(b.stderr, words, show('berthd', b));
    const c = berthCli(eng, args);
    assert.notEqual(c.status, 0, show('berth', c));
    assert.match(c.stderr, words, show('berth', c));
  }
});
