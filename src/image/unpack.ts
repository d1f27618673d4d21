// Layer unpack: one layer tar (plain, gzip or zstd) streamed into a new directory in the form
// overlayfs reads as a lower layer: OCI whiteouts become 0/0 character devices, opaque markers
// become `trusted.overlay.opaque=y`. It keeps every entry inside the target: `..`, absolute
// names, writes through a symlink and hard links out of the layer are refused as `invalid`
// errors naming the entry. It unpacks into a temp directory renamed into place only on
// success, so a refused or broken layer leaves nothing behind. It never reads the tar twice.

import { createHash } from 'node:crypto';
import { chmodSync, closeSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import './tar.js'; // binary-safe pax xattr values
import { Decompress } from 'fzstd';
import { BerthError, conflict, invalid, unsupported } from '../errors.js';
import type { Digest, LayerCompression } from '../oci/image.js';
import { errno } from './fsutil.js';
import { mknod, setXattr } from './xattr.js';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface UnpackOptions {
  /** How the stream is compressed; `auto` (the default) looks at its first bytes. */
  compression?: LayerCompression | 'auto';
  /** When given, the uncompressed tar must have this digest (the config's `diff_ids` entry). */
  diffID?: Digest;
}

export interface UnpackResult {
  /** sha256 of the uncompressed tar. */
  diffID: Digest;
  /** Bytes of the uncompressed tar. */
  size: number;
  entries: number;
}

/**
 * Unpacks a layer into `dest`, which must not exist. On any error `dest` still does not exist
 * and no temp directory is left.
 */
export async function unpackLayer(source: AsyncIterable<Uint8Array> | Readable, dest: string,
  opts: UnpackOptions = {}): Promise<UnpackResult> {
  try {
    await lstat(dest);
    throw conflict(`unpack into ${dest}: already exists`);
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw e;
  }
  const tmp = `${dest}.unpack-${randomBytes(6).toString('hex')}`;
  await mkdir(dirname(dest), { recursive: true });
  await mkdir(tmp, { mode: 0o755 });
  try {
    const r = await unpackInto(source, tmp, opts);
    await rename(tmp, dest);
    return r;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Sniffs the compression from the magic number. */
export function detectCompression(head: Uint8Array): LayerCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** A Transform that decompresses zstd with fzstd (pure JavaScript). */
export function createZstdDecompress(): Transform {
  let d: Decompress;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try { d.push(chunk); cb(); } catch (e) { cb(invalid(`zstd: ${(e as Error).message}`)); }
    },
    flush(cb: TransformCallback) {
      try { d.push(new Uint8Array(0), true); cb(); } catch (e) { cb(invalid(`zstd: ${(e as Error).message}`)); }
    },
  });
  d = new Decompress((data) => { t.push(Buffer.from(data.buffer, data.byteOffset, data.length)); });
  return t;
}

/** Decompresses a layer stream; `auto` sniffs the first bytes. */
export function decompress(source: AsyncIterable<Uint8Array> | Readable, compression: LayerCompression | 'auto' = 'auto'): Readable {
  const out = new PassThrough();
  (async () => {
    const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    let first = await it.next();
    while (!first.done && first.value.length === 0) first = await it.next();
    const head = first.done ? new Uint8Array(0) : first.value;
    const c = compression === 'auto' ? detectCompression(head) : compression;
    async function* all() {
      if (!first.done) yield first.value;
      for (;;) { const n = await it.next(); if (n.done) return; yield n.value; }
    }
    const src = Readable.from(all());
    if (c === 'gzip') await pipeline(src, createGunzip(), out);
    else if (c === 'zstd') await pipeline(src, createZstdDecompress(), out);
    else if (c === 'none') await pipeline(src, out);
    else throw unsupported(`unsupported layer compression "${c}"`);
  })().catch((e) => {
    const msg = (e as NodeJS.ErrnoException).code?.startsWith('Z_') ? invalid(`layer is not valid gzip: ${(e as Error).message}`) : e;
    out.destroy(msg);
  });
  return out;
}

type Header = Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null };

/** Cleans an entry name to a relative path inside the layer, or refuses it. */
export function cleanEntryPath(name: string, what = 'entry'): string {
  if (name.includes('\0')) throw invalid(`layer ${what} "${name}": NUL in path`);
  if (name.startsWith('/')) throw invalid(`layer ${what} "${name}": absolute path refused`);
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw invalid(`layer ${what} "${name}": ".." in path refused`);
    parts.push(p);
  }
  return parts.join('/');
}

class Unpacker {
  private readonly dirs = new Set<string>(['']);
  private readonly dirMeta: { rel: string; h: Header }[] = [];
  private readonly opaque = new Set<string>();
  /** Every non-directory path this layer has written. */
  private readonly made = new Set<string>();

  constructor(private readonly root: string) {}

  /** Makes sure every parent of `rel` is a real directory inside the root; creates missing ones. */
  private parents(rel: string, entry: string): void {
    const parts = rel.split('/');
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i++) {
      prefix = prefix ? `${prefix}/${parts[i]}` : parts[i];
      if (this.dirs.has(prefix)) continue;
      const p = join(this.root, prefix);
      try {
        const st = lstatSync(p);
        if (st.isSymbolicLink()) throw invalid(`layer entry "${entry}": path goes through symlink "${prefix}", refused`);
        if (!st.isDirectory()) throw invalid(`layer entry "${entry}": parent "${prefix}" is not a directory`);
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
        mkdirSync(p, { mode: 0o755 });
      }
      this.dirs.add(prefix);
    }
  }

  /**
   * Removes whatever is at `rel` (unless it is a directory and `keepDir`). The layer starts
   * empty, so a path this layer has not made yet is known to be free without asking the disk.
   */
  private clear(rel: string, keepDir: boolean): boolean {
    if (!this.made.has(rel) && !this.dirs.has(rel)) return false;
    const p = join(this.root, rel);
    try {
      const st = lstatSync(p);
      if (st.isDirectory()) {
        if (keepDir) return true;
        rmSync(p, { recursive: true, force: true });
      } else {
        unlinkSync(p);
      }
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    this.made.delete(rel);
    this.dirs.delete(rel);
    for (const d of this.dirs) if (d.startsWith(`${rel}/`)) this.dirs.delete(d);
    for (const d of this.made) if (d.startsWith(`${rel}/`)) this.made.delete(d);
    return false;
  }

  async entry(h: Header, body: AsyncIterable<Uint8Array>): Promise<void> {
    const name = h.name;
    const rel = cleanEntryPath(name);
    const base = rel.split('/').pop() ?? '';
    if (rel === '') {
      // The layer's root itself: only its metadata applies.
      if (h.type === 'directory') this.dirMeta.push({ rel, h });
      return drain(body);
    }
    this.parents(rel, name);
    const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    if (base === WHITEOUT_OPAQUE) {
      this.opaque.add(dir);
      return drain(body);
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const target = (dir ? `${dir}/` : '') + base.slice(WHITEOUT_PREFIX.length);
      if (target === dir || base === WHITEOUT_PREFIX) throw invalid(`layer entry "${name}": empty whiteout name`);
      this.clear(target, false);
      const p = join(this.root, target);
      await mknod(p, 'c', 0o000, 0, 0);
      lchownSync(p, h.uid ?? 0, h.gid ?? 0);
      this.made.add(target);
      return drain(body);
    }
    const p = join(this.root, rel);
    const mode = (h.mode ?? 0o644) & 0o7777;
    switch (h.type) {
      case 'directory': {
        const existed = this.clear(rel, true);
        if (!existed) mkdirSync(p, { mode: 0o700 });
        this.dirs.add(rel);
        this.dirMeta.push({ rel, h });
        await drain(body);
        return; // ownership, mode and times at the end, once children are in
      }
      case 'file': case 'contiguous-file': case undefined: {
        this.clear(rel, false);
        // Synchronous writes: a layer is thousands of small files, and a thread-pool round trip
        // per call costs more than the write itself.
        const fd = openSync(p, 'wx', 0o600);
        this.made.add(rel);
        try {
          for await (const chunk of body) {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          }
        } finally {
          closeSync(fd);
        }
        break;
      }
      case 'symlink':
        this.clear(rel, false);
        symlinkSync(h.linkname ?? '', p);
        this.made.add(rel);
        await drain(body);
        break;
      case 'link': {
        const target = cleanEntryPath(h.linkname ?? '', `hard link "${name}" → target`);
        if (target === '') throw invalid(`layer entry "${name}": hard link to the layer root refused`);
        this.parents(target, name);
        let st;
        try { st = lstatSync(join(this.root, target)); } catch (e) {
          if (errno(e) === 'ENOENT') throw invalid(`layer entry "${name}": hard link target "${h.linkname}" is not in the layer`);
          throw e;
        }
        if (st.isDirectory()) throw invalid(`layer entry "${name}": hard link to a directory refused`);
        if (target === rel) return drain(body);
        this.clear(rel, false);
        linkSync(join(this.root, target), p);
        this.made.add(rel);
        await drain(body);
        return; // a hard link shares the target's inode: its metadata is the target's
      }
      case 'character-device': case 'block-device': case 'fifo': {
        this.clear(rel, false);
        const t = h.type === 'fifo' ? 'p' : h.type === 'block-device' ? 'b' : 'c';
        await mknod(p, t, mode, h.devmajor ?? 0, h.devminor ?? 0);
        this.made.add(rel);
        await drain(body);
        break;
      }
      default:
        throw unsupported(`layer entry "${name}": unsupported tar entry type "${h.type}"`);
    }
    await this.meta(p, h, h.type === 'symlink');
  }

  /** Ownership, then mode (chown clears setuid/setgid), xattrs, then times. */
  private async meta(p: string, h: Header, isLink: boolean): Promise<void> {
    lchownSync(p, h.uid ?? 0, h.gid ?? 0);
    if (!isLink) chmodSync(p, (h.mode ?? 0o644) & 0o7777);
    for (const [k, v] of Object.entries(h.pax ?? {})) {
      let name: string;
      let value: Buffer;
      if (k.startsWith('SCHILY.xattr.')) { name = k.slice('SCHILY.xattr.'.length); value = Buffer.from(v, 'latin1'); }
      else if (k.startsWith('LIBARCHIVE.xattr.')) { name = decodeURIComponent(k.slice('LIBARCHIVE.xattr.'.length)); value = Buffer.from(v, 'base64'); }
      else continue;
      // overlayfs reads its own trusted.overlay.* xattrs in lower layers (redirects, metacopy,
      // opaque): a layer may only say those things with OCI whiteouts, never directly.
      if (name.startsWith('trusted.overlay.')) throw invalid(`layer entry "${h.name}": xattr ${name} refused (overlayfs metadata comes from whiteouts only)`);
      await setXattr(p, name, value);
    }
    const mtime = h.pax?.mtime ? Number(h.pax.mtime) : (h.mtime ? h.mtime.getTime() / 1000 : 0);
    const atime = h.pax?.atime ? Number(h.pax.atime) : mtime;
    lutimesSync(p, atime, mtime);
  }

  async finish(): Promise<void> {
    for (const dir of this.opaque) {
      const p = join(this.root, dir);
      if (!this.dirs.has(dir)) this.parents(`${dir}/x`, `${dir}/${WHITEOUT_OPAQUE}`);
      await setXattr(p, OPAQUE_XATTR, 'y');
    }
    // Directories last, deepest first, so that writing children does not change their times.
    const seen = new Set<string>();
    for (const { rel, h } of this.dirMeta.reverse()) {
      if (seen.has(rel)) continue;
      seen.add(rel);
      try {
        const st = lstatSync(join(this.root, rel));
        if (!st.isDirectory()) continue;
      } catch { continue; }
      await this.meta(join(this.root, rel), h, false);
    }
  }
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of body) { /* skip */ }
}

/** Unpacks into an existing empty directory (no temp-and-rename; `unpackLayer` adds that). */
export async function unpackInto(source: AsyncIterable<Uint8Array> | Readable, root: string,
  opts: UnpackOptions = {}): Promise<UnpackResult> {
  const hash = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) { hash.update(chunk); size += chunk.length; cb(null, chunk); },
  });
  const extract = tar.extract();
  const feeding = pipeline(decompress(source, opts.compression), hasher, extract);
  feeding.catch(() => {}); // awaited below; this keeps an early failure from counting as unhandled
  const u = new Unpacker(root);
  let entries = 0;
  try {
    for await (const e of extract) {
      entries++;
      await u.entry(e.header as Header, e as AsyncIterable<Uint8Array>);
    }
    await feeding;
  } catch (e) {
    extract.destroy();
    await feeding.catch(() => {});
    if (e instanceof BerthError) throw e;
    const msg = (e as Error).message;
    if (/Unexpected end|Invalid tar header|invalid header|unexpected end/i.test(msg)) {
      throw invalid(`layer is not a valid tar: ${msg}`);
    }
    throw e;
  }
  await u.finish();
  const diffID = `sha256:${hash.digest('hex')}`;
  if (opts.diffID && opts.diffID !== diffID) {
    throw invalid(`layer diff ID mismatch: expected ${opts.diffID}, got ${diffID}`);
  }
  return { diffID, size, entries };
}
