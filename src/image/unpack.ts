// Layer unpack: one layer tar (plain, gzip or zstd) streamed into a new directory in the form
// overlayfs reads as a lower layer: OCI whiteouts become 0/0 character devices, opaque markers
// become `trusted.overlay.opaque=y` (`user.overlay.opaque` in a rootless berthd's user namespace). Every entry is first checked against the layer's rules
// (layer-check.ts: `..`, absolute names, writes through a symlink, hard links out of the layer,
// whiteouts of `.` or `..` are refused as `invalid` errors naming the entry), then written where
// its plan says. It unpacks into a temp directory renamed into place only on success, so a
// refused or broken layer leaves nothing behind. It never reads the tar twice.

import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { conflict, invalid } from '../errors.js';
import type { Digest, LayerCompression } from '../oci/image.js';
import { readTar, unpackedBytes, type TarHeader } from '../tar/index.js';
import { decompress } from './decompress.js';
import { errno } from '../common/errno.js';
import { LayerCheck, type LayerCheckOptions, type Plan } from './layer-check.js';
import { overlayXattrs } from './mount.js';
import { mknod, setXattr } from './xattr.js';

export { cleanEntryPath, WHITEOUT_OPAQUE, WHITEOUT_PREFIX } from './layer-check.js';
export { createZstdDecompress, decompress, detectCompression } from './decompress.js';
/** overlayfs' opaque marker: in trusted.* on the host, in user.* in a user namespace (mount.ts' overlayXattrs). */
export const opaqueXattr = () => `${overlayXattrs()}opaque`;

export interface UnpackOptions {
  /** How the stream is compressed; `auto` (the default) looks at its first bytes. */
  compression?: LayerCompression | 'auto';
  /** When given, the uncompressed tar must have this digest (the config's `diff_ids` entry). */
  diffID?: Digest;
  /** The entries' rules: off `whiteouts` and a `scope` for an archive that is no layer (a build context). */
  check?: LayerCheckOptions;
  /** Refuse devices and FIFOs (a build context is files, directories and links). */
  noDevices?: boolean;
  /** Hash each regular file as it is written: the result's `files` (a build context's COPY digests). */
  fileDigests?: boolean;
}

/** A regular file as unpacking left it: its sha256 and the stat fields that identify that version of it. */
export interface UnpackedFile {
  /** Relative to the unpacked root. */
  path: string;
  sha256: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface UnpackResult {
  /** sha256 of the uncompressed tar. */
  diffID: Digest;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** Bytes of the unpacked layer as dockerd's overlay2 counts them (files, symlinks' targets): the layer size Docker shows. */
  contentSize: number;
  entries: number;
  /** Bytes of regular files' content written. */
  fileBytes: number;
  /** With `fileDigests`: every regular file that is there at the end. */
  files?: UnpackedFile[];
}

/**
 * Unpacks a layer into `dest`, which must not exist. On any error `dest` still does not exist
 * and no temp directory is left.
 */
export async function unpackLayer(
  source: AsyncIterable<Uint8Array> | Readable,
  dest: string,
  opts: UnpackOptions = {},
): Promise<UnpackResult> {
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

class Unpacker {
  private readonly check: LayerCheck;
  private readonly dirMeta: { rel: string; h: TarHeader }[] = [];
  /** With `fileDigests`: the sha256 of each regular file by its path, the last entry of a path winning. */
  private readonly digests = new Map<string, string>();
  fileBytes = 0;

  constructor(
    private readonly root: string,
    private readonly opts: UnpackOptions,
  ) {
    this.check = new LayerCheck(opts.check);
  }

  /** Writes one entry where the layer's rules say, after they have accepted it. */
  async entry(h: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    const plan = this.check.entry(h);
    const { step } = plan;
    if (step.op === 'device' && this.opts.noDevices) {
      const scope = this.opts.check?.scope ?? 'layer';
      throw invalid(`${scope} entry "${h.name}": a ${h.type} is not accepted in a ${scope}`);
    }
    if ('path' in step) this.digests.delete(step.path);
    for (const d of plan.parents) mkdirSync(join(this.root, d), { mode: 0o755 });
    if (step.op === 'root') this.dirMeta.push({ rel: '', h });
    if (step.op === 'root' || step.op === 'skip' || step.op === 'opaque') return drain(body);
    const p = join(this.root, step.path);
    this.clear(plan, p);
    switch (step.op) {
      case 'whiteout':
        await mknod(p, 'c', 0o000, 0, 0);
        lchownSync(p, h.uid, h.gid);
        return drain(body);
      case 'directory':
        if (plan.existing !== 'dir') mkdirSync(p, { mode: 0o700 });
        this.dirMeta.push({ rel: step.path, h });
        return drain(body); // ownership, mode and times at the end, once children are in
      case 'file': {
        // Synchronous writes: a layer is thousands of small files, and a thread-pool round trip
        // per call costs more than the write itself.
        const fd = openSync(p, 'wx', 0o600);
        const hash = this.opts.fileDigests ? createHash('sha256') : undefined;
        try {
          for await (const chunk of body) {
            hash?.update(chunk);
            this.fileBytes += chunk.length;
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          }
        } finally {
          closeSync(fd);
        }
        if (hash) this.digests.set(step.path, hash.digest('hex'));
        break;
      }
      case 'symlink':
        symlinkSync(h.linkname, p);
        break;
      case 'link':
        linkSync(join(this.root, step.target), p);
        return drain(body); // a hard link shares the target's inode: its metadata is the target's
      case 'device': {
        const t = h.type === 'fifo' ? 'p' : h.type === 'block-device' ? 'b' : 'c';
        await mknod(p, t, h.mode, h.devmajor, h.devminor);
        break;
      }
    }
    await drain(body);
    await this.meta(p, h, step.op === 'symlink');
  }

  /** Removes what the plan says is at the path (a directory stays for a directory entry). */
  private clear(plan: Plan, p: string): void {
    if (!plan.existing || (plan.existing === 'dir' && plan.step.op === 'directory')) return;
    if (plan.existing === 'dir') rmSync(p, { recursive: true, force: true });
    else unlinkSync(p);
  }

  /** Ownership, then mode (chown clears setuid/setgid), xattrs, then times. */
  private async meta(p: string, h: TarHeader, isLink: boolean): Promise<void> {
    lchownSync(p, h.uid, h.gid);
    if (!isLink) chmodSync(p, h.mode);
    for (const [name, value] of h.xattrs) await setXattr(p, name, value);
    lutimesSync(p, h.atime ?? h.mtime, h.mtime);
  }

  async finish(): Promise<void> {
    for (const dir of this.check.opaque) {
      if (this.check.isDir(dir)) await setXattr(join(this.root, dir), opaqueXattr(), 'y');
    }
    // Directories last, deepest first, so that writing children does not change their times.
    const seen = new Set<string>();
    for (const { rel, h } of this.dirMeta.reverse()) {
      if (seen.has(rel)) continue;
      seen.add(rel);
      if (!this.check.isDir(rel)) continue;
      await this.meta(join(this.root, rel), h, false);
    }
  }

  /**
   * The hashed files as they are now, after every entry (a hard link made to one changed its
   * ctime; a later entry of the same path replaced it): each is stat'ed once more.
   */
  files(): UnpackedFile[] {
    const out: UnpackedFile[] = [];
    for (const [path, sha256] of this.digests) {
      let st;
      try {
        st = lstatSync(join(this.root, path));
      } catch (e) {
        if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') continue; // a later entry removed its directory
        throw e;
      }
      if (!st.isFile()) continue;
      out.push({ path, sha256, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs });
    }
    return out;
  }
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of body) {
    /* skip */
  }
}

/** Unpacks into an existing empty directory (no temp-and-rename; `unpackLayer` adds that). */
export async function unpackInto(
  source: AsyncIterable<Uint8Array> | Readable,
  root: string,
  opts: UnpackOptions = {},
): Promise<UnpackResult> {
  const hash = createHash('sha256');
  let size = 0;
  async function* hashed() {
    for await (const c of decompress(source, opts.compression) as AsyncIterable<Buffer>) {
      hash.update(c);
      size += c.length;
      yield c;
    }
  }
  const u = new Unpacker(root, opts);
  let entries = 0;
  let contentSize = 0;
  for await (const e of readTar(hashed())) {
    entries++;
    contentSize += unpackedBytes(e.header);
    await u.entry(e.header, e.body);
  }
  await u.finish();
  const diffID = `sha256:${hash.digest('hex')}`;
  if (opts.diffID && opts.diffID !== diffID) {
    throw invalid(`layer diff ID mismatch: expected ${opts.diffID}, got ${diffID}`);
  }
  return { diffID, size, contentSize, entries, fileBytes: u.fileBytes, ...(opts.fileDigests ? { files: u.files() } : {}) };
}

/**
 * A layer's unpacked size (`contentSize`) read from its blob without unpacking it: for a layer
 * whose size no unpack recorded. The stream is decompressed and its entries' headers read.
 */
export async function measureLayer(source: AsyncIterable<Uint8Array> | Readable): Promise<number> {
  let n = 0;
  for await (const e of readTar(decompress(source))) {
    n += unpackedBytes(e.header);
    await drain(e.body);
  }
  return n;
}
