// The layer rules on their own (no disk): what each entry means, what is refused, and
// checkLayer over a whole stream (plain, gzip) writing nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readTar } from '../tar/index.js';
import { checkLayer, LayerCheck } from './layer-check.js';
import { packTar, type TarEntry } from './tar.js';

async function headers(entries: TarEntry[]) {
  const out = [];
  for await (const e of readTar(Readable.from([await packTar(entries)]))) out.push(e.header);
  return out;
}

test('plans: parents to make, what an entry replaces, whiteouts and opaque markers', async () => {
  const c = new LayerCheck();
  const [f, wh, opq, dir, again] = await headers([
    { header: { name: 'a/b/f' }, body: 'x' },
    { header: { name: 'a/.wh.f' } },
    { header: { name: 'a/b/.wh..wh..opq' } },
    { header: { name: 'a/b', type: 'directory' } },
    { header: { name: 'a/b/f' }, body: 'y' },
  ]);
  assert.deepEqual(c.entry(f), { step: { op: 'file', path: 'a/b/f' }, parents: ['a', 'a/b'], existing: undefined });
  assert.deepEqual(c.entry(wh), { step: { op: 'whiteout', path: 'a/f' }, parents: [], existing: undefined });
  assert.deepEqual(c.entry(opq), { step: { op: 'opaque', dir: 'a/b' }, parents: [] });
  assert.deepEqual(c.entry(dir), { step: { op: 'directory', path: 'a/b' }, parents: [], existing: 'dir' });
  assert.deepEqual(c.entry(again), { step: { op: 'file', path: 'a/b/f' }, parents: [], existing: 'file' });
  assert.deepEqual([...c.opaque], ['a/b']);
});

test('refusals: escapes, symlinks the layer made, hard links, whiteouts of . and ..', async () => {
  const cases: [TarEntry[], RegExp][] = [
    [[{ header: { name: '../x' }, body: '' }], /"\.\." in path/],
    [[{ header: { name: '/x' }, body: '' }], /absolute/],
    [[{ header: { name: 's', type: 'symlink', linkname: '/' } }, { header: { name: 's/etc/passwd' }, body: '' }], /through symlink "s"/],
    [
      [
        { header: { name: 's', type: 'symlink', linkname: '.' } },
        { header: { name: 's/x', type: 'character-device', devmajor: 1, devminor: 1 } },
      ],
      /through symlink "s"/,
    ],
    [
      [{ header: { name: 's', type: 'symlink', linkname: '/etc' } }, { header: { name: 'h', type: 'link', linkname: 's/passwd' } }],
      /through symlink "s"/,
    ],
    [[{ header: { name: 'h', type: 'link', linkname: '../../etc/passwd' } }], /hard link "h" → target.*"\.\."/],
    [[{ header: { name: 'd', type: 'directory' } }, { header: { name: 'h', type: 'link', linkname: 'd' } }], /hard link to a directory/],
    [
      [
        { header: { name: 'f' }, body: '' },
        { header: { name: 'f/x' }, body: '' },
      ],
      /parent "f" is not a directory/,
    ],
    [[{ header: { name: 'd/.wh...' } }], /whiteout of "\.\."/],
    [[{ header: { name: '.wh..' } }], /whiteout of "\."/],
    [[{ header: { name: 'x', xattrs: { 'trusted.overlay.opaque': Buffer.from('y') } }, body: '' }], /trusted\.overlay\.opaque/],
  ];
  for (const [entries, re] of cases) {
    const c = new LayerCheck();
    const hs = await headers(entries);
    assert.throws(
      () => {
        for (const h of hs) c.entry(h);
      },
      (e: Error & { kind?: string }) => e.kind === 'invalid' && re.test(e.message),
      re.source,
    );
  }
});

test('without whiteouts (docker cp), .wh. names are plain files and messages say "archive"', async () => {
  const c = new LayerCheck({ whiteouts: false, scope: 'archive' });
  const [wh, bad] = await headers([
    { header: { name: '.wh...' }, body: '' },
    { header: { name: 'a/../../x' }, body: '' },
  ]);
  assert.deepEqual(c.entry(wh).step, { op: 'file', path: '.wh...' });
  assert.throws(() => c.entry(bad), /archive entry "a\/\.\.\/\.\.\/x"/);
});

test('checkLayer reads a whole plain or gzip layer, gives its diff ID, and refuses what unpack refuses', async () => {
  const good = await packTar([{ header: { name: 'a' }, body: 'a' }]);
  const r = await checkLayer(Readable.from([gzipSync(good)]));
  assert.equal(r.entries, 1);
  assert.equal(r.size, good.length);
  assert.match(r.diffID, /^sha256:[0-9a-f]{64}$/);
  const evil = await packTar([{ header: { name: 'l', type: 'symlink', linkname: '/etc' } }, { header: { name: 'l/shadow' }, body: 'x' }]);
  await assert.rejects(checkLayer(Readable.from([evil])), /through symlink "l"/);
});
