// POST /build through real clients: the docker 28 CLI's classic builder (DOCKER_BUILDKIT=0, and
// unset: without buildx it falls back to the same endpoint), dockerode's buildImage (a gzip
// context) and `berth build`, against a private berthd; the same Dockerfile built by dockerd
// 20.10 with the image configs compared; failures (a syntax error naming its line, a missing
// COPY source, a failing RUN's exit code, a symlink out of the context, an archive that writes
// through a symlink, a client that goes away mid-RUN) each with a clear error and nothing left
// behind: no container, no build context under the data root, no new snapshot.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { tarBuffer } from '../src/tar/index.js';
import { BERTH, startEngine, type CliResult, type EngineFixture } from './engine-fixture.js';
import { missing, startDockerd, type Dockerd } from './helpers/dockerd.js';
import { makeRootfs } from './helpers/bundle.js';

const noDockerd = missing('dockerd', 'containerd', 'containerd-shim-runc-v2');
let eng: EngineFixture;
let d: Dockerd | undefined;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'berth-test-build-api-'));
  eng = await startEngine();
  if (noDockerd) return;
  try {
    d = await startDockerd();
    // dockerd's busybox: the same root, with the config berthd's mirror gives it.
    makeRootfs(join(d.dir, 'rootfs'));
    assert.equal(spawnSync('tar', ['-C', join(d.dir, 'rootfs'), '-cf', join(d.dir, 'rootfs.tar'), '.']).status, 0);
    const imp = d.docker(['import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh"]', join(d.dir, 'rootfs.tar'), 'busybox']);
    assert.equal(imp.status, 0, imp.stderr);
  } catch (e) {
    await eng.stop();
    throw e;
  }
});

after(async () => {
  await d?.stop();
  await eng?.stop();
  rmSync(work, { recursive: true, force: true });
});

const show = (who: string, r: CliResult) => `${who}: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const classic = { env: { DOCKER_BUILDKIT: '0' } };

function berth(args: string[], input?: string): CliResult {
  const r = spawnSync(BERTH, args, {
    encoding: 'utf8',
    timeout: 120_000,
    input,
    env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A context directory with these files. */
function context(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

const dataRoot = () => join(eng.dir, 'data');
const contextsLeft = () => {
  const tmp = join(dataRoot(), 'tmp');
  return existsSync(tmp) ? readdirSync(tmp).filter((n) => n.startsWith('build-context-')) : [];
};
const snapshots = () => {
  const dir = join(dataRoot(), 'snapshots');
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).length : 0;
};
const containers = () => eng.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);

/** Nothing of a failed build is left: no container, no context, no new snapshot. */
async function nothingLeft(snapsBefore: number): Promise<void> {
  for (let i = 0; i < 100 && (containers().length || contextsLeft().length); i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(containers(), [], 'a build step container was left');
  assert.deepEqual(contextsLeft(), [], 'a build context was left under the data root');
  assert.equal(snapshots(), snapsBefore, 'a snapshot was left');
}

const DOCKERFILE = `FROM busybox
ARG V=1
ENV APP=/app MODE=test
LABEL org.example.name="berth test" version=$V
WORKDIR $APP
COPY f.txt sub/ ./
RUN echo built-$V > made.txt && mkdir -p /data
USER 1000:1000
EXPOSE 8080 53/udp
VOLUME /data
HEALTHCHECK --interval=5s --timeout=2s --retries=2 CMD true
STOPSIGNAL SIGTERM
ONBUILD RUN echo child
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat made.txt"]
`;

test('docker 28 (classic builder) → berthd: steps, cache, tags, a runnable image; the same config as dockerd 20.10 makes', async () => {
  const dir = context('cmp', { Dockerfile: DOCKERFILE, 'f.txt': 'file\n', 'sub/g.txt': 'g\n' });
  const b = eng.docker(['build', '-t', 'cmp:1', '-t', 'cmp:2', '--build-arg', 'V=2', dir], classic);
  assert.equal(b.status, 0, show('docker → berthd', b));
  assert.match(b.stdout, /^Sending build context to Docker daemon/m);
  assert.match(b.stdout, /^Step 1\/15 : FROM busybox\n(Pulling busybox\n)? ---> [0-9a-f]{12}\n/m);
  assert.match(b.stdout, /^Step 7\/15 : RUN echo built-\$V > made\.txt && mkdir -p \/data\n/m);
  assert.match(b.stdout, /^Successfully built [0-9a-f]{12}\nSuccessfully tagged cmp:1\nSuccessfully tagged cmp:2\n$/m);
  assert.equal(eng.docker(['run', '--rm', '--user', '0', 'cmp:1']).stdout, 'built-2\n');
  assert.equal(eng.docker(['run', '--rm', '--entrypoint', 'cat', 'cmp:1', '/app/f.txt', '/app/g.txt']).stdout, 'file\ng\n');

  // Again, with DOCKER_BUILDKIT unset: without buildx the docker CLI takes the classic builder too.
  const again = eng.docker(['build', '-t', 'cmp:1', '--build-arg', 'V=2', dir]);
  assert.equal(again.status, 0, show('docker → berthd, no DOCKER_BUILDKIT', again));
  assert.match(again.stderr, /legacy builder is deprecated/);
  assert.equal((again.stdout.match(/ ---> Using cache\n/g) ?? []).length, 14, again.stdout);
  const id = (r: CliResult) => /Successfully built ([0-9a-f]{12})/.exec(r.stdout)?.[1];
  assert.equal(id(again), id(b));
  assert.deepEqual(containers(), []);
  assert.deepEqual(contextsLeft(), []);

  // system df counts the cache; docker builder prune -a empties it, and the next build runs every step.
  const cache = async () => JSON.parse((await eng.api('GET', '/system/df?type=build-cache')).body).BuildCache as { Size: number }[];
  assert.ok((await cache()).length >= 14, 'system df lists the build cache');
  const pruned = eng.docker(['builder', 'prune', '-af']);
  assert.equal(pruned.status, 0, show('docker builder prune', pruned));
  assert.match(pruned.stdout, /Total:|Total reclaimed space:/);
  assert.deepEqual(await cache(), []);
  const cold = eng.docker(['build', '-t', 'cmp:1', '--build-arg', 'V=2', dir], classic);
  assert.equal(cold.status, 0, show('after prune', cold));
  assert.doesNotMatch(cold.stdout, /Using cache/);

  if (!d) return;
  // (dockerd 20.10 advertises no BuildKit: the docker CLI takes its classic builder.)
  const want = d.docker(['build', '-t', 'cmp:1', '--build-arg', 'V=2', dir]);
  assert.equal(want.status, 0, show('docker → dockerd', want));
  const config = (run: (a: string[]) => CliResult) => JSON.parse(run(['image', 'inspect', '--format', '{{json .Config}}', 'cmp:1']).stdout);
  const [gotC, wantC] = [config((a) => eng.docker(a)), config((a) => d!.docker(a))];
  for (const k of [
    'Env',
    'Cmd',
    'Entrypoint',
    'WorkingDir',
    'User',
    'ExposedPorts',
    'Volumes',
    'Labels',
    'Healthcheck',
    'StopSignal',
    'OnBuild',
  ])
    assert.deepEqual(gotC[k], wantC[k], `Config.${k}`);
});

test("the history's created_by and sizes (0B for a layer of no file content, as WORKDIR's) match dockerd 20.10's", () => {
  if (!d) return;
  const history = (run: (a: string[]) => CliResult) =>
    run(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'cmp:1'])
      .stdout.trim()
      .split('\n')
      .slice(0, 14)
      .map((l) => l.replace(/(file|dir|multi):[0-9a-f]{64}/g, 'file:…').replace(/\|.*$/, (s) => (s === '|0B' ? '|empty' : '|layer')));
  assert.deepEqual(
    history((a) => eng.docker(a)),
    history((a) => d!.docker(a)),
  );
});

test('docker 28 → berthd, one file changed: only the steps from the COPY that reads it run; side-by-side stages print each line under its own Step', () => {
  const dir = context('changed', {
    Dockerfile:
      'FROM busybox AS one\nRUN echo one > /one\nFROM busybox AS two\nCOPY b.txt /b.txt\nRUN cat /b.txt\n' +
      'FROM busybox\nCOPY --from=one /one /one\nCOPY a.txt /a.txt\nRUN cat /a.txt\nCOPY --from=two /b.txt /b.txt\nCMD ["true"]\n',
    'a.txt': 'a\n',
    'b.txt': 'b\n',
  });
  /** Each step's block of the classic builder's output, by step number. */
  const blocks = (out: string) =>
    new Map(
      out
        .split(/^Step /m)
        .slice(1)
        .map((b) => [Number(/^(\d+)\//.exec(b)![1]), b]),
    );
  const ran = (out: string) =>
    [...blocks(out)].filter(([, b]) => !/^\d+\/\d+ : FROM /.test(b) && !b.includes(' ---> Using cache')).map(([n]) => n);
  const cold = eng.docker(['build', '-t', 'changed:1', dir], classic);
  assert.equal(cold.status, 0, show('cold', cold));
  assert.deepEqual(
    ran(cold.stdout).sort((x, y) => x - y),
    [2, 4, 5, 7, 8, 9, 10, 11],
    cold.stdout,
  );
  assert.match(blocks(cold.stdout).get(5)!, /^5\/11 : RUN cat \/b\.txt\nb\n ---> [0-9a-f]{12}\n$/, cold.stdout);
  writeFileSync(join(dir, 'a.txt'), 'a, edited\n');
  const edited = eng.docker(['build', '-t', 'changed:1', dir], classic);
  assert.equal(edited.status, 0, show('edited', edited));
  assert.deepEqual(
    ran(edited.stdout).sort((x, y) => x - y),
    [8, 9, 10, 11],
    edited.stdout,
  );
  assert.match(blocks(edited.stdout).get(9)!, /\na, edited\n/);
  assert.deepEqual(containers(), []);
});

test('dockerode buildImage: a gzip context, the JSON stream with aux ID, tags; q=1 answers the ID alone', async () => {
  const docker = new Docker({ socketPath: eng.socket });
  const dir = context('dockerode', { Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt\n', 'a.txt': 'from dockerode\n' });
  const messages = async (stream: NodeJS.ReadableStream) =>
    new Promise<any[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: any[]) => (err ? reject(err) : resolve(out))),
    );
  const out = await messages(await docker.buildImage({ context: dir, src: ['Dockerfile', 'a.txt'] }, { t: 'dockerode:1' }));
  const text = out.map((m) => m.stream ?? '').join('');
  assert.match(text, /Step 3\/3 : RUN cat \/a\.txt\n/);
  assert.match(text, /^from dockerode$/m);
  const aux = out.find((m) => m.aux)?.aux.ID;
  assert.match(aux, /^sha256:[0-9a-f]{64}$/);
  assert.equal((await docker.getImage('dockerode:1').inspect()).Id, aux);
  const quiet = await messages(await docker.buildImage({ context: dir, src: ['Dockerfile', 'a.txt'] }, { q: true }));
  assert.deepEqual(quiet, [{ stream: `${aux}\n` }]);
});

/** A build through the raw API (for bodies no client sends). */
function rawBuild(query: string, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: eng.socket, method: 'POST', path: `/v1.41/build${query}`, headers: { 'Content-Type': 'application/x-tar' } },
      (res) => {
        const c: Buffer[] = [];
        res.on('data', (x) => c.push(x));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(c).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('failures say what failed and leave nothing behind', async () => {
  eng.docker(['pull', 'busybox']);
  const snaps = snapshots();
  const fail = (name: string, files: Record<string, string>, want: RegExp, status = 1) => {
    const r = eng.docker(['build', context(name, files)], classic);
    assert.equal(r.status, status, show(name, r));
    assert.match(r.stderr, want, name);
  };
  fail('syntax', { Dockerfile: 'FROM busybox\nRUN true\nFOO bar\n' }, /Dockerfile:3: unknown instruction: FOO|line 3/);
  await nothingLeft(snaps);
  fail('nocopy', { Dockerfile: 'FROM busybox\nCOPY missing.txt /x\n' }, /missing\.txt/);
  await nothingLeft(snaps);
  fail(
    'runfail',
    { Dockerfile: 'FROM busybox\nRUN echo out; exit 3\n' },
    /The command '\/bin\/sh -c echo out; exit 3' returned a non-zero code: 3/,
    3,
  );
  await nothingLeft(snaps);
  // A symlink to the host's /etc: COPY through it finds nothing of the host's.
  const esc = context('escape', { Dockerfile: 'FROM busybox\nCOPY etc/passwd /stolen\n' });
  symlinkSync('/etc', join(esc, 'etc'));
  const r = eng.docker(['build', esc], classic);
  assert.notEqual(r.status, 0, show('escape', r));
  assert.doesNotMatch(r.stdout, /Successfully built/);
  await nothingLeft(snaps);
  // An archive that writes through a symlink it made is refused before any step.
  const crafted = await tarBuffer([
    { header: { name: 'Dockerfile' }, body: 'FROM busybox\n' },
    { header: { name: 'l', type: 'symlink', linkname: work } },
    { header: { name: 'l/evil' }, body: 'x' },
  ]);
  const raw = await rawBuild('', crafted);
  assert.equal(raw.status, 400, raw.body);
  assert.match(JSON.parse(raw.body).message, /build context entry "l\/evil": path goes through symlink "l", refused/);
  assert.equal(existsSync(join(work, 'evil')), false);
  const v2 = await rawBuild('?version=2', crafted);
  assert.deepEqual([v2.status, JSON.parse(v2.body).message], [400, 'buildkit is not enabled on daemon']);
  await nothingLeft(snaps);
});

test('a client that goes away mid-RUN cancels the build: its container and context are removed', async () => {
  const snaps = snapshots();
  const body = await tarBuffer([{ header: { name: 'Dockerfile' }, body: 'FROM busybox\nRUN echo started; sleep 30\n' }]);
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { socketPath: eng.socket, method: 'POST', path: '/build', headers: { 'Content-Type': 'application/x-tar' } },
      (res) => {
        res.on('data', (c: Buffer) => {
          if (c.toString().includes('started')) {
            req.destroy();
            resolve();
          }
        });
        res.on('error', () => undefined);
      },
    );
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end(body);
  });
  try {
    await nothingLeft(snaps);
  } finally {
    // Whatever the builder did, the next test starts once this build is over.
    for (let i = 0; i < 400 && (containers().length || contextsLeft().length); i++) await new Promise((r) => setTimeout(r, 100));
  }
});

test('berth build: .dockerignore, -f outside the context and from stdin, -q, --iidfile, labels, args, a remote tarball', async () => {
  const dir = context('berth', {
    Dockerfile: 'FROM busybox\nARG WHO\nCOPY . /ctx/\nLABEL who=$WHO\nRUN ls -a /ctx | sort | tr "\\n" " "; echo\n',
    '.dockerignore': 'secret.txt\n*.log\n',
    'secret.txt': 'no',
    'a.log': 'no',
    'keep.txt': 'yes',
  });
  const iid = join(work, 'iid');
  const b = berth(['build', '--progress', 'plain', '-t', 'bb:1', '--build-arg', 'WHO=me', '--label', 'extra=1', '--iidfile', iid, dir]);
  assert.equal(b.status, 0, show('berth build', b));
  assert.match(b.stdout, /\. \.\. \.dockerignore Dockerfile keep\.txt \n/);
  const id = readFileSync(iid, 'utf8');
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  const labels = JSON.parse(eng.docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', 'bb:1']).stdout);
  assert.deepEqual(labels, { who: 'me', extra: '1' });
  // -q: the ID alone.
  const q = berth(['build', '-q', '--build-arg', 'WHO=me', '--label', 'extra=1', dir]);
  assert.equal(q.status, 0, show('berth build -q', q));
  assert.equal(q.stdout, `${id}\n`);
  // -f outside the context, and from stdin: the Dockerfile is never copied in.
  writeFileSync(join(work, 'Outside.df'), 'FROM busybox\nCOPY . /ctx/\nRUN ls -a /ctx | sort | tr "\\n" " "; echo\n');
  for (const [args, input] of [
    [['-f', join(work, 'Outside.df')], undefined],
    [['-f', '-'], readFileSync(join(work, 'Outside.df'), 'utf8')],
  ] as const) {
    const r = berth(['build', '--progress', 'plain', ...args, dir], input);
    assert.equal(r.status, 0, show(`berth build ${args.join(' ')}`, r));
    assert.match(r.stdout, /\. \.\. \.dockerignore Dockerfile keep\.txt \n/);
  }
  // --add-host reaches a RUN step's /etc/hosts.
  const hosts = berth(
    ['build', '--progress', 'plain', '--add-host', 'db.test:10.1.2.3', '-f', '-', dir],
    'FROM busybox\nRUN grep db.test /etc/hosts\n',
  );
  assert.equal(hosts.status, 0, show('berth build --add-host', hosts));
  assert.match(hosts.stdout, /^10\.1\.2\.3\s+db\.test$/m);
  // A failing RUN: berth exits with its code.
  const bad = berth(['build', '-f', '-', dir], 'FROM busybox\nRUN exit 7\n');
  assert.equal(bad.status, 7, show('failing RUN', bad));
  assert.match(bad.stderr, /returned a non-zero code: 7/);
  // A remote tarball on loopback, fetched by berthd.
  const tar = await tarBuffer([{ header: { name: 'Dockerfile' }, body: 'FROM busybox\nLABEL remote=yes\n' }]);
  const server = createServer((_req, res) => res.end(tar));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ctx.tar`;
    // (spawned, not spawnSync: this process serves the tarball meanwhile)
    const r = await new Promise<CliResult>((resolve) => {
      const c = spawn(BERTH, ['build', '-t', 'remote:1', url], { env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' } });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (x) => (stdout += x));
      c.stderr.on('data', (x) => (stderr += x));
      c.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    assert.equal(r.status, 0, show('berth build URL', r));
    assert.equal(eng.docker(['image', 'inspect', '--format', '{{.Config.Labels.remote}}', 'remote:1']).stdout.trim(), 'yes');
  } finally {
    server.close();
  }
  assert.deepEqual(contextsLeft(), []);
});
