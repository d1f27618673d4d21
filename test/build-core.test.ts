// The builder in an engine of the test's own (temp roots, in-process, no berthd): Dockerfiles
// over a busybox image the test stores itself, built into images whose config and history are
// checked against what the classic Docker builder writes, run as containers; the cache hit and
// missed step by step after one file of the context changes, and kept across a new engine on
// the same roots; a failing RUN and a missing COPY source leave no container, snapshot or mount.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/index.js';
import type { BuildEvent, BuildRequest } from '../src/engine/index.js';
import { ImageStore } from '../src/image/index.js';
import { makeRootfs } from './helpers/bundle.js';
import { storeImage } from './helpers/images.js';

let dir: string;
let engine: Engine;
let ctx: string;

const roots = () => ({ dataRoot: join(dir, 'data'), execRoot: join(dir, 'exec') });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-test-build-'));
  const rootfs = join(dir, 'rootfs');
  makeRootfs(rootfs);
  const tar = execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
  await storeImage(new ImageStore(join(roots().dataRoot, 'image')), 'busybox:latest', [tar]);
  rmSync(rootfs, { recursive: true, force: true });
  engine = new Engine(roots());
  ctx = join(dir, 'ctx');
  mkdirSync(join(ctx, 'src/sub'), { recursive: true });
  writeFileSync(join(ctx, 'a.txt'), 'alpha\n');
  writeFileSync(join(ctx, 'src/one.c'), 'one\n');
  writeFileSync(join(ctx, 'src/sub/two.c'), 'two\n');
  writeFileSync(join(ctx, 'run.sh'), '#!/bin/sh\necho ran "$@"\n', { mode: 0o755 });
});

after(async () => {
  await engine?.close();
  // Whatever a test left mounted under the roots would make this fail loudly rather than leak.
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(dir));
  for (const m of mounts.reverse()) execFileSync('umount', ['-l', m.split(' ')[4]]);
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(mounts, [], 'mounts left under the test roots');
});

function request(dockerfile: string, extra: Partial<BuildRequest> = {}): BuildRequest {
  return {
    contextDir: ctx,
    dockerfile: { text: dockerfile, name: 'Dockerfile' },
    tags: [],
    buildArgs: {},
    labels: {},
    noCache: false,
    pull: false,
    cacheFrom: [],
    network: 'none',
    secrets: {},
    ...extra,
  };
}

async function build(dockerfile: string, extra: Partial<BuildRequest> = {}) {
  const events: BuildEvent[] = [];
  const times: number[] = [];
  const r = await engine.build(request(dockerfile, extra), (e) => {
    events.push(e);
    times.push(Date.now());
  });
  const output = events
    .filter((e): e is Extract<BuildEvent, { kind: 'output' }> => e.kind === 'output')
    .map((e) => e.data.toString())
    .join('');
  // The steps that hit the cache, in step order: independent stages run side by side, so their hits come in either order.
  const cached = events
    .filter((e) => e.kind === 'cached')
    .map((e) => (e as { index: number }).index)
    .sort((a, b) => a - b);
  const steps = events.filter((e) => e.kind === 'step').map((e) => (e as { index: number }).index);
  /** When the event of `kind` for step `index` came. */
  const at = (kind: string, index: number) => times[events.findIndex((e) => e.kind === kind && (e as { index?: number }).index === index)];
  return { ...r, events, output, cached, steps, at };
}

/** Runs `cmd` in a container of `image`; its output. */
async function runIn(image: string, cmd: string[]): Promise<string> {
  const c = await engine.containers.create({ Image: image, Cmd: cmd }, { NetworkMode: 'none' });
  try {
    await engine.containers.start(c.Id);
    assert.equal(await engine.containers.wait(c.Id), 0);
    let out = '';
    for await (const e of engine.containers.logs(c.Id, { stdout: true, stderr: true } as never)) out += e.log;
    return out;
  } finally {
    await engine.containers.remove(c.Id, { force: true, volumes: true });
  }
}

async function nothingLeft(): Promise<void> {
  assert.deepEqual(
    engine.containers.list().map((c) => c.Name),
    [],
    'no step container is left',
  );
  assert.deepEqual(await engine.snapshots.list(), [], 'no snapshot is left');
  for (const i of await engine.images.list()) {
    const { config } = await engine.images.inspect(i.id);
    assert.ok(!config.history?.some((h) => h.created_by?.startsWith('berth build step')), `step image ${i.id} is left`);
  }
}

const DOCKERFILE = `FROM busybox
ENV GREETING="hello world" EMPTY=
LABEL org.example.name=demo "other label"=x
WORKDIR /app
COPY a.txt ./
COPY src/ /app/src/
RUN echo "$GREETING from $(pwd)" > out.txt && cat out.txt
USER nobody
EXPOSE 80 53/udp 8000-8001
VOLUME /data
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5m --timeout=3s CMD cat /app/out.txt
ONBUILD RUN echo child
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/out.txt"]
`;

test('one path end to end: FROM, ENV, LABEL, WORKDIR, COPY, RUN and the config steps; the image runs', async () => {
  const r = await build(DOCKERFILE, { tags: ['demo:1', 'demo:latest'] });
  assert.match(r.output, /hello world from \/app/);
  assert.deepEqual(r.steps, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  const img = await engine.images.inspect('demo:1');
  assert.equal(img.id, r.id);
  assert.deepEqual(img.repoTags.sort(), ['docker.io/library/demo:1', 'docker.io/library/demo:latest']);
  const c = img.config.config!;
  assert.deepEqual(c.Env, ['PATH=/bin', 'GREETING=hello world', 'EMPTY=']);
  assert.deepEqual(c.Labels, { 'org.example.name': 'demo', 'other label': 'x' });
  assert.equal(c.WorkingDir, '/app');
  assert.equal(c.User, 'nobody');
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} });
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'cat /app/out.txt'], Interval: 300e9, Timeout: 3e9 });
  assert.deepEqual(c.OnBuild, ['RUN echo child']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(c.Cmd, ['cat /app/out.txt']);
  // History as the classic builder writes it: one line per step, empty_layer for config steps.
  const h = img.config.history!.slice(1);
  assert.deepEqual(
    h.map((e) => [e.created_by!.replace(/(file|dir):[0-9a-f]{64}/, '$1:H'), !!e.empty_layer]),
    [
      ['/bin/sh -c #(nop)  ENV GREETING=hello world EMPTY=', true],
      ['/bin/sh -c #(nop)  LABEL org.example.name=demo other label=x', true],
      ['/bin/sh -c #(nop) WORKDIR /app', false],
      ['/bin/sh -c #(nop) COPY file:H in ./ ', false],
      ['/bin/sh -c #(nop) COPY dir:H in /app/src/ ', false],
      ['/bin/sh -c echo "$GREETING from $(pwd)" > out.txt && cat out.txt', false],
      ['/bin/sh -c #(nop)  USER nobody', true],
      ['/bin/sh -c #(nop)  EXPOSE 53/udp 80 8000-8001', true],
      ['/bin/sh -c #(nop)  VOLUME [/data]', true],
      ['/bin/sh -c #(nop)  STOPSIGNAL SIGINT', true],
      ['/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "cat /app/out.txt"] "5m0s" "3s" "0s" \'\\x00\'}', true],
      ['/bin/sh -c #(nop)  ONBUILD RUN echo child', true],
      ['/bin/sh -c #(nop)  ENTRYPOINT ["/bin/sh" "-c"]', true],
      ['/bin/sh -c #(nop)  CMD ["cat /app/out.txt"]', true],
    ],
  );
  assert.equal(img.config.rootfs.diff_ids.length, 5, 'base, WORKDIR, two COPYs and RUN');
  assert.equal(
    await runIn('demo:1', ['cat /app/out.txt /app/a.txt /app/src/sub/two.c; id -u']),
    'hello world from /app\nalpha\ntwo\n65534\n',
  );
  await nothingLeft();
});

test('the cache: a rebuild is all hits and the same image; one edited file rebuilds from the COPY that reads it', async () => {
  const df = 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo first\nCOPY src /src\nRUN cat /src/one.c\nCMD ["true"]\n';
  const cold = await build(df, { tags: ['cache:1'] });
  const warm = await build(df, { tags: ['cache:1'] });
  assert.equal(warm.id, cold.id, 'a fully cached build makes the same image');
  assert.deepEqual(warm.cached, [2, 3, 4, 5, 6]);
  assert.equal(warm.output, '');
  writeFileSync(join(ctx, 'src/one.c'), 'one, edited\n');
  try {
    const edited = await build(df, { tags: ['cache:1'] });
    assert.deepEqual(edited.cached, [2, 3], 'hits before the COPY that reads the file, misses from it on');
    assert.match(edited.output, /one, edited/);
    assert.notEqual(edited.id, cold.id);
    // A new engine on the same roots (a berthd restart) still has the cache.
    await engine.close();
    engine = new Engine(roots());
    const again = await build(df, { tags: ['cache:1'] });
    assert.deepEqual(again.cached, [2, 3, 4, 5, 6]);
    assert.equal(again.id, edited.id);
    const nocache = await build(df, { noCache: true });
    assert.deepEqual(nocache.cached, []);
  } finally {
    writeFileSync(join(ctx, 'src/one.c'), 'one\n');
  }
  // The cache is counted and pruned.
  const records = await engine.builder.records();
  assert.ok(records.length >= 5);
  const pruned = await engine.builder.prune();
  assert.equal(pruned.deleted.length, records.length);
  assert.deepEqual(await engine.builder.records(), []);
  await nothingLeft();
});

test('build args: ARG defaults, --build-arg, ENV over ARG, the |N prefix of RUN lines', async () => {
  const r = await build('ARG BASE=busybox\nFROM $BASE\nARG WHO=nobody\nARG UNSET\nENV WHERE=/w\nRUN echo "$WHO in $WHERE"\n', {
    buildArgs: { WHO: 'alice', EXTRA: 'x' },
  });
  assert.match(r.output, /alice in \/w/);
  const h = (await engine.images.inspect(r.id)).config.history!;
  assert.equal(h.at(-1)!.created_by, '|1 WHO=alice /bin/sh -c echo "$WHO in $WHERE"');
  assert.ok(r.events.some((e) => e.kind === 'note' && /build-args \[EXTRA\] were not consumed/.test(e.text)));
  await engine.images.remove(r.id, { force: true });
});

test('a failing RUN reports its command and exit code, and leaves nothing behind', async () => {
  await assert.rejects(
    build('FROM busybox\nRUN echo about to fail && exit 3\n'),
    /The command '\/bin\/sh -c echo about to fail && exit 3' returned a non-zero code: 3/,
  );
  await nothingLeft();
});

test('a missing COPY source and a symlink out of the context are errors that leave nothing behind', async () => {
  await assert.rejects(build('FROM busybox\nCOPY nope.txt /\n'), /file not found in build context.*nope\.txt/);
  symlinkSync('/etc/passwd', join(ctx, 'escape'));
  try {
    await assert.rejects(build('FROM busybox\nCOPY escape /x\n'), /points outside the build context/);
  } finally {
    rmSync(join(ctx, 'escape'));
  }
  await nothingLeft();
});

test('FROM scratch with COPY; a RUN that changes nothing is an empty layer', async () => {
  const r = await build('FROM scratch\nCOPY a.txt /\n');
  const img = await engine.images.inspect(r.id);
  assert.equal(img.config.rootfs.diff_ids.length, 1);
  const e = await build('FROM busybox\nRUN true\n');
  const h = (await engine.images.inspect(e.id)).config.history!;
  assert.equal(h.at(-1)!.empty_layer, true);
  await engine.images.remove(r.id, { force: true });
  await engine.images.remove(e.id, { force: true });
  await nothingLeft();
});

test('multi-stage: AS names, COPY --from a stage and an image, --target, only the stages needed, in parallel', async () => {
  const df = `FROM busybox AS one
RUN sleep 1 && echo one > /one.txt
FROM busybox AS two
RUN sleep 1 && echo two > /two.txt
FROM busybox AS unused
RUN exit 9
FROM scratch
COPY --from=one /one.txt /
COPY --from=1 /two.txt /
COPY --from=busybox /etc/passwd /passwd
`;
  const r = await build(df);
  assert.ok(!r.events.some((e) => e.kind === 'step' && e.stage === 'unused'), 'the unused stage is not built');
  const img = await engine.images.inspect(r.id);
  assert.equal(img.config.rootfs.diff_ids.length, 3);
  // The two stages' RUN steps (2 and 4) ran side by side: each began before the other ended.
  assert.ok(r.at('step', 4) < r.at('done', 2) && r.at('step', 2) < r.at('done', 4), 'independent stages run in parallel');
  const t = await build(df, { target: 'two' });
  assert.ok(t.events.every((e) => e.kind !== 'step' || e.stage === 'two'));
  await assert.rejects(build(df, { target: 'nope' }), /failed to reach build target nope in Dockerfile/);
  await engine.images.remove(r.id, { force: true });
  await engine.images.remove(t.id, { force: true });
  await nothingLeft();
});

test('RUN --mount: cache kept across builds, bind from the context and a stage, tmpfs, secret never in the image', async () => {
  const df = `FROM busybox AS base
RUN echo from-stage > /s.txt
FROM busybox
RUN --mount=type=cache,target=/cache,id=c1 echo x >> /cache/log && wc -l < /cache/log > /count
RUN --mount=type=bind,source=src,target=/src cat /src/one.c > /copied
RUN --mount=type=bind,from=base,source=/s.txt,target=/s.txt cat /s.txt > /from-stage
RUN --mount=type=tmpfs,target=/scratch touch /scratch/f && ls /scratch > /tmpfs-ls
RUN --mount=type=secret,id=tok,required=true cat /run/secrets/tok | wc -c > /secret-len
`;
  const secrets = { tok: { data: Buffer.from('s3cr3t-value') } };
  const a = await build(df, { secrets });
  assert.equal(
    await runIn(a.id, ['sh', '-c', 'cat /count /copied /from-stage /tmpfs-ls /secret-len; ls /run/secrets/tok 2>/dev/null | wc -l']),
    '1\none\nfrom-stage\nf\n12\n0\n',
  );
  const b2 = await build(df.replace('wc -l < /cache/log', 'wc -l < /cache/log  '), { secrets });
  assert.match(await runIn(b2.id, ['cat', '/count']), /^2\n$/, 'the cache mount kept the first build’s line');
  // The secret is in no layer and no history line.
  const img = await engine.images.inspect(a.id);
  assert.ok(!JSON.stringify(img.config).includes('s3cr3t'));
  await assert.rejects(build(df.replace('RUN echo from-stage', 'RUN echo changed'), { secrets: {} }), /secret tok: not found/);
  const records = await engine.builder.records();
  assert.ok(records.some((r) => r.Type === 'exec.cachemount' && r.Size > 0));
  await engine.images.remove(a.id, { force: true });
  await engine.images.remove(b2.id, { force: true });
  await nothingLeft();
});

test('--cache-from: a step is taken from a local image whose history and layers match', async () => {
  const df = 'FROM busybox\nRUN echo layer > /l.txt\nCMD ["true"]\n';
  const a = await build(df, { tags: ['cf:src'] });
  await engine.builder.prune();
  const b2 = await build(df, { cacheFrom: ['cf:src'] });
  assert.deepEqual(b2.cached, [2]);
  assert.equal(b2.output, '');
  assert.deepEqual((await engine.images.inspect(b2.id)).config.rootfs.diff_ids, (await engine.images.inspect(a.id)).config.rootfs.diff_ids);
  await engine.images.remove('cf:src', { force: true });
  await engine.images.remove(b2.id, { force: true });
  await nothingLeft();
});

test('ADD: a local tar (plain and gzip) unpacked, a URL fetched with --checksum, COPY <<EOF, --chown, --chmod, --link', async () => {
  const src = join(dir, 'arc');
  mkdirSync(join(src, 'top/inner'), { recursive: true });
  writeFileSync(join(src, 'top/inner/f.txt'), 'in archive\n');
  execFileSync('tar', ['-C', src, '--owner=1234', '--group=4321', '-cf', join(ctx, 'a.tar'), 'top']);
  execFileSync('tar', ['-C', src, '-czf', join(ctx, 'b.tgz'), 'top']);
  const body = 'remote file\n';
  const digest = createHash('sha256').update(body).digest('hex');
  const server = createServer((req, res) => {
    if (req.url === '/files/r.txt') res.end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const r = await build(
      [
        'FROM busybox',
        'ADD a.tar /x/',
        'ADD b.tgz /y',
        `ADD --checksum=sha256:${digest} http://127.0.0.1:${port}/files/r.txt /r/`,
        'COPY <<EOT /here.txt',
        'heredoc body',
        'EOT',
        'COPY --chown=nobody:nogroup --chmod=640 a.txt /owned.txt',
        'COPY --link a.txt /linked.txt',
        '',
      ].join('\n'),
    );
    const out = await runIn(r.id, [
      'sh',
      '-c',
      'cat /x/top/inner/f.txt /y/top/inner/f.txt /r/r.txt /here.txt /linked.txt; stat -c "%u:%g %a" /x/top/inner/f.txt /r/r.txt /owned.txt',
    ]);
    assert.equal(out, 'in archive\nin archive\nremote file\nheredoc body\nalpha\n1234:4321 644\n0:0 600\n65534:65534 640\n');
    await assert.rejects(
      build(`FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} http://127.0.0.1:${port}/files/r.txt /r/\n`),
      /digest mismatch/,
    );
    await engine.images.remove(r.id, { force: true });
  } finally {
    server.close();
    rmSync(join(ctx, 'a.tar'));
    rmSync(join(ctx, 'b.tgz'));
  }
  await nothingLeft();
});

test("BuildKit's forms: COPY --exclude and --parents, RUN <<EOF with #!, bind rw, cache from=, ADD --unpack; git sources refused", async () => {
  const p = join(ctx, 'p');
  const files: Record<string, string> = {
    'x/a.txt': 'xa\n',
    'x/b.md': 'xb\n',
    'x/y/c.txt': 'xyc\n',
    'z/a.txt': 'za\n',
    'keep.md': 'md\n',
  };
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(p, f, '..'), { recursive: true });
    writeFileSync(join(p, f), text);
  }
  execFileSync('tar', ['-C', join(p, 'x'), '-cf', join(p, 't.tar'), 'a.txt']);
  const df = (excludes: string) => `FROM busybox AS seed
RUN mkdir -p /seed && echo seeded > /seed/s.txt
FROM busybox
COPY ${excludes} p/x /ex/
COPY --exclude=*.md p/*.md p/x/a.txt /wild/
COPY --parents p/x/a.txt p/z/a.txt /par/
COPY --parents p/./x/**/*.txt /piv/
RUN <<EOT
#!/bin/sh
echo "script $0" > /script.out
EOT
RUN --mount=type=bind,source=p/z,target=/m,rw echo w > /m/new && cat /m/a.txt > /rw.out
RUN --mount=type=cache,target=/c,id=seeded,from=seed,source=/seed cat /c/s.txt > /cache.out && echo more >> /c/s.txt
ADD --unpack=false p/t.tar /tars/
`;
  try {
    const a = await build(df('--exclude=*.md --exclude=y'));
    const show =
      'cd / && find ex wild par piv tars -type f | sort && cat script.out rw.out cache.out && (test -e m/new && echo leaked || echo clean)';
    assert.equal(
      await runIn(a.id, ['sh', '-c', show]),
      'ex/a.txt\npar/p/x/a.txt\npar/p/z/a.txt\npiv/x/a.txt\npiv/x/y/c.txt\ntars/t.tar\nwild/a.txt\n' +
        'script /dev/pipes/EOT\nza\nseeded\nclean\n',
    );
    // bind rw: what the step wrote is gone from the context and is in no layer.
    assert.ok(!existsSync(join(p, 'z/new')), 'a bind rw write reaches the context');
    // An excluded file is not part of the key: changing it changes nothing.
    writeFileSync(join(p, 'x/b.md'), 'xb, edited\n');
    const again = await build(df('--exclude=*.md --exclude=y'));
    assert.deepEqual(again.cached, [2, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.equal(again.id, a.id);
    // The patterns are: one fewer, and the COPY and everything after it run again; the cache
    // mount, seeded once, kept the first build's line.
    const b2 = await build(df('--exclude=*.md'));
    assert.deepEqual(b2.cached, [2]);
    assert.equal(
      await runIn(b2.id, ['sh', '-c', 'cd / && find ex -type f | sort && cat cache.out']),
      'ex/a.txt\nex/y/c.txt\nseeded\nmore\n',
    );
    for (const src of ['https://example.com/repo.git', 'git@github.com:a/b.git']) {
      await assert.rejects(build(`FROM busybox\nADD ${src} /src/\n`), /git sources are not supported by berth/);
    }
    await engine.images.remove(a.id, { force: true });
    await engine.images.remove(b2.id, { force: true });
  } finally {
    rmSync(p, { recursive: true, force: true });
  }
  await nothingLeft();
  assert.deepEqual(readdirSync(join(roots().dataRoot, 'build', 'tmp')), [], 'no bind rw overlay or script folder is left');
});
