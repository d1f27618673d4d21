// Unit tests of POST /build's query: each parameter applied to the builder's request, or refused
// with dockerd's words (captured from dockerd 20.10) or berth's where berth refuses more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildQuery, eventWriter } from './build.js';

const q = (s: string) => buildQuery(new URLSearchParams(s));

test('the parameters the docker CLI and dockerode send reach the request', () => {
  const b = q(
    't=x:1&t=y&t=x:1&dockerfile=sub/Dockerfile.dev&target=final&nocache=1&pull=true&q=1&rm=1&forcerm=1&version=1' +
      '&buildargs=' +
      encodeURIComponent('{"A":"1","B":null}') +
      '&labels=' +
      encodeURIComponent('{"l":"v"}') +
      '&cachefrom=' +
      encodeURIComponent('["base:1"]') +
      '&networkmode=none&platform=Linux/AMD64&extrahosts=db:10.0.0.2&extrahosts=' +
      encodeURIComponent('h=::1') +
      '&memory=0&isolation=default&outputs=' +
      encodeURIComponent('[{"Type":"moby"}]') +
      '&buildid=b1',
  );
  assert.deepEqual(b, {
    request: {
      tags: ['docker.io/library/x:1', 'docker.io/library/y:latest'],
      target: 'final',
      buildArgs: { A: '1', B: null },
      labels: { l: 'v' },
      noCache: true,
      pull: true,
      cacheFrom: ['base:1'],
      network: 'none',
      platform: 'linux/amd64',
      secrets: {},
      extraHosts: ['db:10.0.0.2', 'h:::1'],
    },
    dockerfile: 'sub/Dockerfile.dev',
    remote: undefined,
    quiet: true,
    buildId: 'b1',
  });
  assert.deepEqual(q('').request.network, 'default');
  assert.deepEqual(q('networkmode=container:abc').request.network, 'container:abc');
  assert.equal(q('').dockerfile, 'Dockerfile');
});

test("the RUN steps' limits reach the request under their HostConfig names", () => {
  const b = q(
    'memory=67108864&memswap=-1&cpushares=512&cpuperiod=50000&cpuquota=25000&shmsize=1048576' +
      '&cpusetcpus=0-1&cpusetmems=0&cgroupparent=cg&ulimits=' +
      encodeURIComponent('[{"Name":"nofile","Hard":200,"Soft":100}]'),
  );
  assert.deepEqual(b.request.resources, {
    Memory: 67108864,
    MemorySwap: -1,
    CpuShares: 512,
    CpuPeriod: 50000,
    CpuQuota: 25000,
    ShmSize: 1048576,
    CpusetCpus: '0-1',
    CpusetMems: '0',
    CgroupParent: 'cg',
    Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }],
  });
  // Zero and empty are no limit, as dockerd reads them.
  assert.equal(q('memory=0&shmsize=&cpusetcpus=').request.resources, undefined);
});

test('refusals, in dockerd words where dockerd refuses too', () => {
  const refused: [string, RegExp][] = [
    ['version=2', /^buildkit is not enabled on daemon$/],
    ['version=3', /^invalid version "3"$/],
    ['squash=1', /^squash is only supported with experimental mode$/],
    ['isolation=foo', /^Unsupported isolation: "foo"$/],
    ['securityopt=x', /^The daemon on this platform does not support setting security options on build$/],
    ['buildargs=notjson', /^error reading build args: /],
    ['buildargs=' + encodeURIComponent('{"A":1}'), /^error reading build args: .* is not a JSON object of strings/],
    ['labels=' + encodeURIComponent('[1]'), /^error reading labels: /],
    ['cachefrom=x', /^error reading cache-from: /],
    ['ulimits=bad', /^error reading ulimit settings: /],
    ['ulimits=' + encodeURIComponent('[{"Name":1}]'), /^error reading ulimit settings: .* is not a JSON array of ulimits/],
    ['outputs=' + encodeURIComponent('[{"Type":"local","Attrs":{"dest":"/x"}}]'), /build output .* is not supported/],
    ['shmsize=abc', /invalid value for shmsize: strconv.ParseInt: parsing "abc": invalid syntax/],
    ['memory=abc', /invalid value for memory/],
    ['rm=0', /rm=0 \(keep them\) is not supported/],
    ['session=abc', /no BuildKit session endpoint/],
    ['extrahosts=foo', /^bad format for add-host: "foo"$/],
    ['t=' + encodeURIComponent('x@sha256:' + 'a'.repeat(64)), /^build tag cannot contain a digest$/],
    ['t=UPPER', /must be lowercase/],
    ['platform=foo/bar/baz/x', /cannot parse platform specifier/],
    ['remote=foo', /^remoteURL \(foo\) could not be recognized as URL$/],
    ['remote=client-session', /experimental session with v1 builder is no longer supported/],
    ['remote=' + encodeURIComponent('git://h/x.git#-x'), /^invalid refspec: -x$/],
  ];
  for (const [query, want] of refused)
    assert.throws(
      () => q(query),
      (e: Error) => want.test(e.message),
      query,
    );
});

test("eventWriter: side-by-side stages' steps come out as blocks, each line under its own Step", () => {
  const out: string[] = [];
  const w = eventWriter((m) => out.push((m as { stream: string }).stream));
  const id = 'sha256:' + '1'.repeat(64);
  w.onEvent({ kind: 'step', stage: 'a', index: 2, total: 5, instruction: 'RUN a' });
  w.onEvent({ kind: 'step', stage: 'b', index: 4, total: 5, instruction: 'RUN b' });
  w.onEvent({ kind: 'cached', stage: 'b', index: 4 });
  w.onEvent({ kind: 'output', stage: 'a', index: 2, data: Buffer.from('from a\n') });
  w.onEvent({ kind: 'done', stage: 'b', index: 4, id, ms: 1 });
  w.onEvent({ kind: 'step', stage: 'b', index: 5, total: 5, instruction: 'CMD b' });
  w.onEvent({ kind: 'output', stage: 'b', index: 5, data: Buffer.from('from b\n') });
  w.onEvent({ kind: 'done', stage: 'a', index: 2, id, ms: 1 });
  w.onEvent({ kind: 'step', stage: 'a', index: 3, total: 5, instruction: 'RUN a2' });
  w.flush();
  assert.equal(
    out.join(''),
    'Step 2/5 : RUN a\nfrom a\n ---> 111111111111\n' +
      'Step 4/5 : RUN b\n ---> Using cache\n ---> 111111111111\n' +
      'Step 5/5 : CMD b\nfrom b\n' +
      'Step 3/5 : RUN a2\n',
  );
});
