// berth's tar reader and writer: round trips of every entry type and of the fields that need
// PAX or GNU extensions, archives GNU tar wrote in each of its formats, what GNU tar reads back
// from berth's writer, and damaged input refused with `invalid` errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync, linkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BerthError } from '../errors.js';
import { readTar, tarBuffer, TarWriter, type TarHeaderInput } from './index.js';

async function readAll(buf: Buffer, chunk = 7919) {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) chunks.push(buf.subarray(i, i + chunk));
  const out = [];
  for await (const e of readTar(Readable.from(chunks))) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    out.push({ header: e.header, data: Buffer.concat(parts) });
  }
  return out;
}

const longDir = `${'d'.repeat(99)}/${'e'.repeat(120)}`;
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex');

test('every entry type and the fields that need PAX survive a round trip, read in odd chunk sizes', async () => {
  const entries: { header: TarHeaderInput; body?: string }[] = [
    { header: { name: 'dir/', type: 'directory', mode: 0o1777, uid: 1, gid: 2, mtime: 1_600_000_000 } },
    {
      header: {
        name: 'dir/file',
        mode: 0o4755,
        uid: 3_000_000,
        gid: 70_000,
        mtime: 1_700_000_000,
        uname: 'u',
        gname: 'g',
        xattrs: { 'security.capability': CAP, 'user.x': Buffer.from('héllo') },
      },
      body: 'hello\n',
    },
    { header: { name: 'dir/hard', type: 'link', linkname: 'dir/file' } },
    { header: { name: 'dir/sym', type: 'symlink', linkname: `../${'t'.repeat(150)}` } },
    { header: { name: 'null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 } },
    { header: { name: 'loop', type: 'block-device', devmajor: 7, devminor: 0 } },
    { header: { name: 'fifo', type: 'fifo' } },
    { header: { name: `${longDir}/short`, mode: 0o600 }, body: 'split into prefix and name' },
    { header: { name: `${'x'.repeat(300)}/${'y'.repeat(200)}` }, body: 'pax path' },
    { header: { name: 'naïve/ファイル' }, body: 'utf-8' },
    { header: { name: 'big', size: 2 * 512 + 1 }, body: 'z'.repeat(2 * 512 + 1) },
    { header: { name: 'empty' }, body: '' },
  ];
  const buf = await tarBuffer(entries);
  assert.equal(buf.length % 512, 0);
  const got = await readAll(buf);
  assert.deepEqual(
    got.map((e) => e.header.name),
    entries.map((e) => e.header.name),
  );
  for (const [i, e] of entries.entries()) {
    const h = got[i].header;
    assert.equal(h.type, e.header.type ?? 'file', e.header.name);
    assert.equal(got[i].data.toString(), e.body ?? '', e.header.name);
    for (const k of ['mode', 'uid', 'gid', 'linkname', 'devmajor', 'devminor', 'uname', 'gname'] as const) {
      if (e.header[k] !== undefined) assert.equal(h[k], e.header[k], `${k} of ${e.header.name}`);
    }
    if (typeof e.header.mtime === 'number') assert.equal(h.mtime, e.header.mtime);
  }
  assert.deepEqual(got[1].header.xattrs.get('security.capability'), CAP, 'binary xattr value byte for byte');
  assert.equal(got[1].header.xattrs.get('user.x')?.toString(), 'héllo');
});

test('a body left unread is skipped, and a body read after the next entry is an error', async () => {
  const buf = await tarBuffer([
    { header: { name: 'a' }, body: 'A'.repeat(5000) },
    { header: { name: 'b' }, body: 'B' },
  ]);
  const names: string[] = [];
  let first: AsyncIterable<Buffer> | undefined;
  for await (const e of readTar(Readable.from([buf]))) {
    names.push(e.header.name);
    first ??= e.body;
  }
  assert.deepEqual(names, ['a', 'b']);
  await assert.rejects(async () => {
    for await (const _ of first!) {
      /* late */
    }
  }, /read after the next entry/);
});

test('what follows the end-of-archive blocks is read, so a hash of the input covers it', async () => {
  const buf = Buffer.concat([await tarBuffer([{ header: { name: 'a' }, body: 'a' }]), Buffer.alloc(8192)]);
  let seen = 0;
  async function* counted() {
    for (let i = 0; i < buf.length; i += 1000) {
      const c = buf.subarray(i, i + 1000);
      seen += c.length;
      yield c;
    }
  }
  for await (const e of readTar(counted())) assert.equal(e.header.name, 'a');
  assert.equal(seen, buf.length);
});

test('damaged archives are refused as invalid', async () => {
  const good = await tarBuffer([{ header: { name: 'a' }, body: 'x'.repeat(1000) }]);
  const bad = Buffer.from(good);
  bad[10] ^= 0xff;
  const cases: [string, Buffer, RegExp][] = [
    ['checksum', bad, /checksum/],
    ['cut in a body', good.subarray(0, 1024), /unexpected end/],
    ['cut in a header', good.subarray(0, 300), /unexpected end/],
    ['not a tar', Buffer.from('{"json": true}'.padEnd(600, ' ')), /checksum|octal/],
  ];
  for (const [what, buf, re] of cases) {
    await assert.rejects(readAll(buf), (e: unknown) => e instanceof BerthError && e.kind === 'invalid' && re.test(e.message), what);
  }
  // a PAX header that claims more than it holds
  const pax = await tarBuffer([{ header: { name: 'p', pax: { 'x.y': 'z' } }, body: '' }]);
  const broken = Buffer.from(pax);
  broken.write('99', 512, 'latin1');
  await assert.rejects(readAll(broken), /PAX|checksum/);
});

test('the writer waits for its reader (backpressure) and checks a streamed body against its size', async () => {
  const w = new TarWriter();
  let added = false;
  const big = Buffer.alloc(4 << 20);
  const adding = w.add({ name: 'big', size: big.length }, big).then(() => {
    added = true;
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(added, false, 'a 4 MiB body is not taken before anyone reads');
  const reading = (async () => {
    let n = 0;
    for await (const c of w.stream) n += (c as Buffer).length;
    return n;
  })();
  await adding;
  async function* short() {
    yield Buffer.from('abc');
  }
  await assert.rejects(w.add({ name: 's', size: 5 }, short()), /gave 3 of its 5 bytes/);
  w.destroy(new Error('stop'));
  await assert.rejects(reading, /stop/);
});

test('GNU tar archives in every format read as GNU tar wrote them; GNU tar reads what berth writes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tar-'));
  try {
    const src = join(dir, 'src');
    mkdirSync(join(src, longDir), { recursive: true });
    writeFileSync(join(src, longDir, 'f'), 'long');
    writeFileSync(join(src, 'plain'), 'p'.repeat(3000));
    linkSync(join(src, 'plain'), join(src, 'hard'));
    symlinkSync('plain', join(src, 'sym'));
    utimesSync(join(src, 'plain'), 1_650_000_000, 1_650_000_000);
    for (const format of ['gnu', 'oldgnu', 'posix', 'ustar', 'v7']) {
      const file = join(dir, `${format}.tar`);
      // ustar and v7 cannot hold the long names: they get the short files only
      const names = format === 'ustar' || format === 'v7' ? ['plain', 'hard', 'sym'] : ['.'];
      execFileSync('tar', ['-C', src, '--numeric-owner', `--format=${format}`, '-cf', file, ...names]);
      const got = await readAll(readFileSync(file));
      const byName = new Map(got.map((e) => [e.header.name.replace(/^\.\//, ''), e]));
      // the first of two hard-linked names carries the data, the second links to it
      const [data, link] = ['plain', 'hard'].map((n) => byName.get(n)!).sort((a) => (a.header.type === 'file' ? -1 : 1));
      assert.ok(data.data.toString() === 'p'.repeat(3000), format);
      assert.equal(data.header.mtime, 1_650_000_000, format);
      assert.equal(link.header.type, 'link', format);
      assert.equal(link.header.linkname.replace(/^\.\//, ''), data.header.name.replace(/^\.\//, ''), format);
      assert.equal(byName.get('sym')?.header.linkname, 'plain', format);
      if (names[0] === '.') assert.equal(byName.get(`${longDir}/f`)?.data.toString(), 'long', format);
    }
    const mine = join(dir, 'berth.tar');
    writeFileSync(
      mine,
      await tarBuffer([
        { header: { name: `${'x'.repeat(200)}/${'z'.repeat(200)}/f`, mode: 0o640 }, body: 'pax path' },
        { header: { name: 'l', type: 'symlink', linkname: 'y'.repeat(200) } },
        { header: { name: 'u', uid: 5_000_000, mode: 0o644 }, body: 'u' },
        { header: { name: 'x', xattrs: { 'user.k': Buffer.from([0, 1, 2, 255]) } }, body: 'x' },
      ]),
    );
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', mine], { encoding: 'utf8' });
    assert.match(listing, new RegExp(`${'x'.repeat(200)}/${'z'.repeat(200)}/f`));
    assert.match(listing, new RegExp(`l -> ${'y'.repeat(200)}`));
    assert.match(listing, /5000000\/0/);
    const out = join(dir, 'out');
    mkdirSync(out);
    execFileSync('tar', ['-C', out, '--xattrs', '--xattrs-include=*', '-xf', mine]);
    assert.equal(readFileSync(join(out, 'x'.repeat(200), 'z'.repeat(200), 'f'), 'utf8'), 'pax path');
    const attr = execFileSync('getfattr', ['--only-values', '-n', 'user.k', join(out, 'x')]);
    assert.deepEqual([...attr], [0, 1, 2, 255]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
