// Unit tests of the build context on disk: tars plain and compressed unpacked with their modes,
// links and times; the Dockerfile found (and its lower-case fallback) or dockerd's error; every
// escape refused with nothing left; a remote tarball or plain Dockerfile over loopback HTTP;
// leftovers of a killed berthd removed; a plain context indexed and written only on demand, its
// index giving COPY the digests the files on disk give. Runs as root (owners are kept).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { tarBuffer } from '../tar/index.js';
import { digestSources, digestTree, findSources, globRegex } from '../build/copy.js';
import { BuildContexts, remoteKind } from './build-context.js';

let root: string;
let contexts: BuildContexts;
const mtime = new Date('2024-03-04T05:06:07Z');
const left = () => readdirSync(join(root, 'tmp')).filter((n) => n.startsWith('build-context-'));

before(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-unit-build-context-'));
  contexts = new BuildContexts(join(root, 'tmp'), root);
});
after(() => rmSync(root, { recursive: true, force: true }));

const ctxTar = () =>
  tarBuffer([
    { header: { name: 'Dockerfile', mode: 0o644, mtime }, body: 'FROM scratch\n' },
    { header: { name: 'src/', type: 'directory', mode: 0o750, mtime } },
    { header: { name: 'src/run.sh', mode: 0o755, uid: 1000, gid: 1001, mtime }, body: '#!/bin/sh\n' },
    { header: { name: 'src/link', type: 'symlink', linkname: '/etc/passwd', mtime } },
    { header: { name: 'src/hard', type: 'link', linkname: 'src/run.sh' } },
  ]);

test('a plain and a gzip tar unpack with modes, owners, times, symlinks and hard links', async () => {
  for (const body of [await ctxTar(), gzipSync(await ctxTar())]) {
    const c = await contexts.fromArchive(Readable.from([body]));
    assert.deepEqual(c.dockerfile, { name: 'Dockerfile', text: 'FROM scratch\n' });
    const st = statSync(join(c.dir, 'src/run.sh'));
    assert.equal(st.mode & 0o7777, 0o755);
    assert.deepEqual([st.uid, st.gid], [1000, 1001]);
    assert.equal(st.mtime.getTime(), mtime.getTime());
    assert.equal(statSync(join(c.dir, 'src')).mode & 0o7777, 0o750);
    assert.equal(statSync(join(c.dir, 'src')).mtime.getTime(), mtime.getTime());
    // A symlink out of the context is kept as a link (the builder resolves it inside the context).
    assert.equal(readlinkSync(join(c.dir, 'src/link')), '/etc/passwd');
    assert.equal(statSync(join(c.dir, 'src/hard')).ino, st.ino);
    assert.equal(c.size, '#!/bin/sh\n'.length + 'FROM scratch\n'.length);
    await c.remove();
    assert.equal(existsSync(c.dir), false);
  }
  assert.deepEqual(left(), []);
});

test('the Dockerfile: a path in the context, the lower-case fallback, or dockerd error', async () => {
  const t = (entries: Parameters<typeof tarBuffer>[0]) => tarBuffer(entries).then((b) => Readable.from([b]));
  const sub = await contexts.fromArchive(await t([{ header: { name: 'build/Other.df' }, body: 'FROM a\n' }]), './build/Other.df');
  assert.deepEqual(sub.dockerfile, { name: 'build/Other.df', text: 'FROM a\n' });
  await sub.remove();
  const lower = await contexts.fromArchive(await t([{ header: { name: 'dockerfile' }, body: 'FROM b\n' }]));
  assert.deepEqual(lower.dockerfile, { name: 'dockerfile', text: 'FROM b\n' });
  await lower.remove();
  await assert.rejects(
    contexts.fromArchive(await t([{ header: { name: 'x' }, body: '' }])),
    /^BerthError: Cannot locate specified Dockerfile: Dockerfile$/,
  );
  await assert.rejects(contexts.fromArchive(Readable.from([])), /Cannot locate specified Dockerfile: Dockerfile/);
  // A Dockerfile that is a symlink out of the context is not read.
  await assert.rejects(
    contexts.fromArchive(await t([{ header: { name: 'Dockerfile', type: 'symlink', linkname: '/etc/hostname' } }])),
    /Cannot locate specified Dockerfile/,
  );
  await assert.rejects(
    contexts.fromArchive(await t([{ header: { name: 'Dockerfile' }, body: '' }]), '../x'),
    /Cannot locate specified Dockerfile: \.\.\/x/,
  );
  assert.deepEqual(left(), []);
});

test('escapes are refused and leave nothing: .., absolute names, writes through a symlink, outside hard links, devices', async () => {
  const outside = join(root, 'outside');
  mkdirSync(outside);
  const cases: [string, Parameters<typeof tarBuffer>[0], RegExp][] = [
    ['dotdot', [{ header: { name: '../evil' }, body: 'x' }], /build context entry "\.\.\/evil": "\.\." in path refused/],
    ['absolute', [{ header: { name: '/evil' }, body: 'x' }], /absolute path refused/],
    [
      'through a symlink',
      [{ header: { name: 'l', type: 'symlink', linkname: outside } }, { header: { name: 'l/evil' }, body: 'x' }],
      /path goes through symlink "l", refused/,
    ],
    ['hard link out', [{ header: { name: 'h', type: 'link', linkname: '../../etc/passwd' } }], /"\.\." in path refused/],
    ['device', [{ header: { name: 'null', type: 'character-device', devmajor: 1, devminor: 3 } }], /not accepted in a build context/],
  ];
  for (const [what, entries, want] of cases) {
    await assert.rejects(
      contexts.fromArchive(Readable.from([await tarBuffer([{ header: { name: 'Dockerfile' }, body: 'FROM a\n' }, ...entries])])),
      want,
      what,
    );
  }
  assert.deepEqual(readdirSync(outside), []);
  assert.deepEqual(left(), []);
  await assert.rejects(contexts.fromArchive(Readable.from([Buffer.from('not a tar '.repeat(100))])), /tar/);
  assert.deepEqual(left(), []);
});

test('a remote context: a tarball, a gzip tarball, a plain Dockerfile, a 404; git and non-URLs refused', async () => {
  const tar = await ctxTar();
  const server: Server = createServer((req, res) => {
    if (req.url === '/ctx.tar') res.end(tar);
    else if (req.url === '/ctx.tar.gz') res.end(gzipSync(tar));
    else if (req.url === '/Dockerfile') res.end('FROM scratch\nLABEL a=b\n');
    else {
      res.statusCode = 404;
      res.end('no');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (const path of ['/ctx.tar', '/ctx.tar.gz']) {
      let seen = 0;
      const c = await contexts.fromRemote(base + path, undefined, { onProgress: (p) => (seen = p.current) });
      assert.equal(c.dockerfile.text, 'FROM scratch\n');
      assert.equal(readFileSync(join(c.dir, 'src/run.sh'), 'utf8'), '#!/bin/sh\n');
      assert.ok(seen > 0);
      await c.remove();
    }
    const df = await contexts.fromRemote(`${base}/Dockerfile`, 'my.df');
    assert.deepEqual(df.dockerfile, { name: 'my.df', text: 'FROM scratch\nLABEL a=b\n' });
    assert.deepEqual(readdirSync(df.dir), ['my.df']);
    assert.equal(lstatSync(join(df.dir, 'my.df')).isFile(), true);
    await df.remove();
    await assert.rejects(contexts.fromRemote(`${base}/nothing`), /error downloading remote context .*\/nothing: 404 Not Found/);
  } finally {
    server.close();
  }
  assert.equal(remoteKind('git://127.0.0.1/x.git'), 'git');
  assert.equal(remoteKind('https://127.0.0.1/x.git#main:sub'), 'git');
  assert.equal(remoteKind('https://127.0.0.1/x.tar'), 'url');
  assert.throws(() => remoteKind('git@h:x.git#--upload-pack=y'), /invalid refspec: --upload-pack=y/);
  assert.throws(() => remoteKind('foo'), /remoteURL \(foo\) could not be recognized as URL/);
  assert.throws(() => remoteKind('client-session'), /experimental session with v1 builder is no longer supported/);
  await assert.rejects(
    contexts.fromRemote('http://127.0.0.1:1/x.tar'),
    /error downloading remote context http:\/\/127\.0\.0\.1:1\/x\.tar: .*ECONNREFUSED/,
  );
  assert.deepEqual(left(), []);
});

test('a plain context is written only when materialized, and its index digests COPY sources as the files on disk do', async () => {
  const mk = (name: string, mode: number, body?: string) =>
    body === undefined
      ? { header: { name: `${name}/`, type: 'directory' as const, mode, mtime } }
      : { header: { name, mode, mtime }, body };
  const entries = (withRoot: boolean) => [
    ...(withRoot ? [mk('.', 0o710)] : []),
    mk('Dockerfile', 0o644, 'FROM scratch\n'),
    mk('.dockerignore', 0o644, '*.log\nDockerfile\n.dockerignore\n'),
    mk('a.txt', 0o600, 'a'),
    mk('b.log', 0o644, 'log'),
    mk('src', 0o750),
    mk('src/run.sh', 0o4755, '#!/bin/sh\n'),
    mk('src/x.c', 0o644, 'int x;'),
    mk('src/y.c', 0o644, 'int y;'),
    mk('src/deep', 0o700),
    mk('src/deep/z.c', 0o640, ''),
    mk('empty', 0o755),
  ];
  for (const withRoot of [false, true]) {
    const c = await contexts.fromArchive(Readable.from([await tarBuffer(entries(withRoot))]));
    assert.ok(c.index, 'a plain context is indexed');
    assert.equal(c.dockerfile.text, 'FROM scratch\n');
    assert.equal(existsSync(c.dir), false, 'nothing is written before a step needs it');
    const patterns = [
      '.',
      'src',
      'src/',
      '*.c',
      'src/*.c',
      'src/*',
      '*',
      'a.txt',
      'b.log',
      'src/deep/z.c',
      'missing',
      'a.txt/x',
      '*/deep',
      'empty',
      'Dockerfile',
    ];
    const fromIndex = patterns.map((p) => {
      const m = c.index!.find(p, globRegex);
      return m.length ? digestTree(c.index!, m).then((d) => d.digest) : undefined;
    });
    await c.index.materialize();
    assert.equal(statSync(join(c.dir, 'src/run.sh')).mode & 0o7777, 0o4755);
    // The .dockerignore names itself and the Dockerfile: gone from the disk as from the index.
    assert.deepEqual(readdirSync(c.dir).sort(), ['a.txt', 'b.log', 'empty', 'src']);
    for (const [i, p] of patterns.entries()) {
      const found = await findSources({ dir: c.dir, escape: 'refuse', name: 'build context' }, p);
      assert.equal(await fromIndex[i], found.length ? (await digestSources(found)).digest : undefined, `${p} (root entry: ${withRoot})`);
    }
    await c.remove();
    assert.equal(existsSync(c.dir), false);
  }
  // A symlink, or a parent not given as an entry: unpacked at once, no index.
  for (const extra of [
    [{ header: { name: 'l', type: 'symlink' as const, linkname: 'a' } }],
    [{ header: { name: 'implicit/f', mode: 0o644 }, body: 'f' }],
  ]) {
    const c = await contexts.fromArchive(Readable.from([await tarBuffer([mk('Dockerfile', 0o644, 'FROM a\n'), ...extra])]));
    assert.equal(c.index, undefined);
    assert.ok(existsSync(join(c.dir, 'Dockerfile')));
    await c.remove();
  }
  assert.deepEqual(left(), []);
});

test('clean removes the contexts a killed berthd left, and nothing else', async () => {
  mkdirSync(join(root, 'tmp', 'build-context-0123/deep'), { recursive: true });
  mkdirSync(join(root, 'tmp', 'cp-other'), { recursive: true });
  await contexts.clean();
  assert.deepEqual(readdirSync(join(root, 'tmp')), ['cp-other']);
  await new BuildContexts(join(root, 'none'), root).clean();
});
