// An archive read without unpacking it (a build context): every entry checked against the layer
// rules as unpacking would check it, each regular file hashed, a few named files kept in memory,
// and the uncompressed tar written whole to one spool file, so that it can be unpacked later if
// it is needed at all (a build whose every step hits the cache never needs the files). Tells
// whether the archive is "plain" — directories and regular files only, each path once, every
// parent an entry of its own before its children — the form in which the index says exactly
// what unpacking it would leave on disk.

import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { invalid } from '../errors.js';
import { readTar } from '../tar/index.js';
import { decompress } from './decompress.js';
import { LayerCheck, type LayerCheckOptions } from './layer-check.js';

export interface IndexOptions {
  check?: LayerCheckOptions;
  /** Regular files whose content the result carries (a Dockerfile, a .dockerignore), up to `captureMax` bytes each. */
  capture?: string[];
  captureMax?: number;
}

/** One entry of a plain archive: a directory or a regular file. */
export interface IndexedEntry {
  /** Relative to the root, no trailing slash. */
  path: string;
  type: 'dir' | 'file';
  /** Permission bits (and setuid, setgid, sticky). */
  mode: number;
  size: number;
  /** A file's sha256, hex. */
  sha256?: string;
}

export interface ArchiveIndex {
  /** False when the archive holds anything but directories and files, a path twice, or a parent not given as an entry. */
  plain: boolean;
  /** Every entry (when `plain`), in archive order. */
  entries: IndexedEntry[];
  /** The root's own mode, when the archive has an entry for `.`. */
  rootMode?: number;
  /** The `capture` files found (regular files within `captureMax`), by path, as UTF-8 text. */
  captured: Record<string, string>;
  /** Sizes of the `capture` paths that are regular files, captured or not. */
  capturedSizes: Record<string, number>;
  /** Bytes of regular files' content. */
  fileBytes: number;
}

/** Reads `source` (any compression), writing its uncompressed tar to `spool` (which must not exist). */
export async function indexArchive(
  source: AsyncIterable<Uint8Array> | Readable,
  spool: string,
  opts: IndexOptions = {},
): Promise<ArchiveIndex> {
  const check = new LayerCheck(opts.check);
  const scope = opts.check?.scope ?? 'layer';
  const capture = new Set(opts.capture ?? []);
  const max = opts.captureMax ?? 1 << 20;
  const out: ArchiveIndex = { plain: true, entries: [], captured: {}, capturedSizes: {}, fileBytes: 0 };
  const fd = openSync(spool, 'wx', 0o600);
  try {
    // Synchronous writes of whole chunks: one call each, on this (worker) thread.
    async function* spooled() {
      for await (const c of decompress(source) as AsyncIterable<Buffer>) {
        let off = 0;
        while (off < c.length) off += writeSync(fd, c, off, c.length - off);
        yield c;
      }
    }
    for await (const e of readTar(spooled())) {
      const h = e.header;
      const plan = check.entry(h);
      const { step } = plan;
      if (step.op === 'device') throw invalid(`${scope} entry "${h.name}": a ${h.type} is not accepted in a ${scope}`);
      if (step.op === 'root') out.rootMode = h.mode & 0o7777;
      const plainStep = step.op === 'root' || step.op === 'directory' || step.op === 'file';
      if (!plainStep || plan.parents.length || plan.existing) out.plain = false;
      if (step.op === 'file') {
        const hash = createHash('sha256');
        const keep = capture.has(step.path) && h.size <= max ? ([] as Buffer[]) : undefined;
        for await (const c of e.body) {
          hash.update(c);
          keep?.push(c);
        }
        out.fileBytes += h.size;
        if (capture.has(step.path)) out.capturedSizes[step.path] = h.size;
        if (keep) out.captured[step.path] = Buffer.concat(keep).toString('utf8');
        if (out.plain) out.entries.push({ path: step.path, type: 'file', mode: h.mode & 0o7777, size: h.size, sha256: hash.digest('hex') });
        continue;
      }
      for await (const _ of e.body) {
        /* (no body but a file's is read) */
      }
      if (step.op === 'directory' && out.plain) out.entries.push({ path: step.path, type: 'dir', mode: h.mode & 0o7777, size: 0 });
    }
  } finally {
    closeSync(fd);
  }
  if (!out.plain) out.entries = [];
  return out;
}
