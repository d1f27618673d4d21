// The confinement rules of a layer, without touching the disk: a model of the tree the layer
// has made so far says, for each entry, what writing it means (which parents to create, what
// it replaces) or refuses it. Unpack follows these plans; load and import run the same rules
// over a whole layer before anything is named, so an escaping layer is refused up front.
// Every node — file, directory, link, device, FIFO, whiteout — lands at its own path inside
// the layer, reached only through directories the layer made.

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { invalid, unsupported } from '../errors.js';
import type { Digest, LayerCompression } from '../oci/image.js';
import { readTar, type TarHeader } from '../tar/index.js';
import { decompress } from './decompress.js';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
/** AUFS's own metadata names (`.wh..wh.plnk`, …): carried by some old layers, meaningless to overlayfs. */
const WHITEOUT_META = '.wh..wh.';

/** What a path in the layer is. */
type Kind = 'dir' | 'file' | 'symlink' | 'node';

/** One entry's effect, for the unpacker to carry out. */
export type Step =
  | { op: 'root' } // the layer root itself: only a directory's metadata applies
  | { op: 'skip' } // nothing to write
  | { op: 'opaque'; dir: string }
  | { op: 'whiteout'; path: string }
  | { op: 'directory' | 'file' | 'symlink' | 'device'; path: string }
  | { op: 'link'; path: string; target: string };

export interface Plan {
  step: Step;
  /** Directories to create first, outermost first (none exists yet). */
  parents: string[];
  /** What is at the step's path now: the unpacker removes it first (a directory entry keeps a directory). */
  existing?: Kind;
}

/** Cleans an entry name to a relative path inside the layer, or refuses it. */
export function cleanEntryPath(name: string, what = 'layer entry'): string {
  if (name.includes('\0')) throw invalid(`${what} "${name}": NUL in path`);
  if (name.startsWith('/')) throw invalid(`${what} "${name}": absolute path refused`);
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw invalid(`${what} "${name}": ".." in path refused`);
    parts.push(p);
  }
  return parts.join('/');
}

export interface LayerCheckOptions {
  /** Read `.wh.` names as OCI whiteouts (layers); off, they are plain names (`docker cp`). Default on. */
  whiteouts?: boolean;
  /** What the entries are called in messages: `layer` (default) or `archive`. */
  scope?: string;
}

export class LayerCheck {
  private readonly kinds = new Map<string, Kind>([['', 'dir']]);
  /** Directories with an opaque marker. */
  readonly opaque = new Set<string>();
  private readonly whiteouts: boolean;
  private readonly scope: string;

  constructor(opts: LayerCheckOptions = {}) {
    this.whiteouts = opts.whiteouts ?? true;
    this.scope = opts.scope ?? 'layer';
  }

  /** The parents of `rel` the layer must create; refuses a parent that is a symlink or not a directory. */
  private parents(rel: string, entry: string): string[] {
    const parts = rel.split('/');
    const make: string[] = [];
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i++) {
      prefix = prefix ? `${prefix}/${parts[i]}` : parts[i];
      const k = this.kinds.get(prefix);
      if (k === 'symlink') throw invalid(`${this.scope} entry "${entry}": path goes through symlink "${prefix}", refused`);
      if (k && k !== 'dir') throw invalid(`${this.scope} entry "${entry}": parent "${prefix}" is not a directory`);
      if (!k) make.push(prefix);
    }
    return make;
  }

  private set(rel: string, kind: Kind): void {
    const was = this.kinds.get(rel);
    if (was === 'dir' && kind !== 'dir') {
      for (const k of [...this.kinds.keys()]) if (k.startsWith(`${rel}/`)) this.kinds.delete(k);
      for (const d of [...this.opaque]) if (d === rel || d.startsWith(`${rel}/`)) this.opaque.delete(d);
    }
    this.kinds.set(rel, kind);
  }

  private checkXattrs(h: TarHeader): void {
    // overlayfs reads its own trusted.overlay.* xattrs in lower layers (redirects, metacopy,
    // opaque), user.overlay.* where mounted with userxattr (a rootless berthd): a layer may only
    // say those things with OCI whiteouts, never directly.
    for (const name of h.xattrs.keys()) {
      if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.'))
        throw invalid(`${this.scope} entry "${h.name}": xattr ${name} refused (overlayfs metadata comes from whiteouts only)`);
    }
  }

  /** Checks one entry against the layer so far and records its effect. */
  entry(h: TarHeader): Plan {
    const name = h.name;
    const rel = cleanEntryPath(name, `${this.scope} entry`);
    this.checkXattrs(h);
    if (rel === '') return { step: h.type === 'directory' ? { op: 'root' } : { op: 'skip' }, parents: [] };
    const parents = this.parents(rel, name);
    for (const p of parents) this.kinds.set(p, 'dir');
    const slash = rel.lastIndexOf('/');
    const dir = slash === -1 ? '' : rel.slice(0, slash);
    const base = rel.slice(slash + 1);
    if (this.whiteouts && base.startsWith(WHITEOUT_PREFIX)) {
      if (base === WHITEOUT_OPAQUE) {
        this.opaque.add(dir);
        return { step: { op: 'opaque', dir }, parents };
      }
      if (base.startsWith(WHITEOUT_META)) return { step: { op: 'skip' }, parents };
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      // The whiteout hides one name of its own directory: never the directory itself or its parent.
      if (hidden === '' || hidden === '.' || hidden === '..')
        throw invalid(`${this.scope} entry "${name}": whiteout of "${hidden}" refused`);
      const path = dir ? `${dir}/${hidden}` : hidden;
      const existing = this.kinds.get(path);
      this.set(path, 'node');
      return { step: { op: 'whiteout', path }, parents, existing };
    }
    const existing = this.kinds.get(rel);
    switch (h.type) {
      case 'directory':
        this.set(rel, 'dir');
        return { step: { op: 'directory', path: rel }, parents, existing };
      case 'file':
      case 'contiguous-file':
        this.set(rel, 'file');
        return { step: { op: 'file', path: rel }, parents, existing };
      case 'symlink':
        this.set(rel, 'symlink');
        return { step: { op: 'symlink', path: rel }, parents, existing };
      case 'character-device':
      case 'block-device':
      case 'fifo':
        this.set(rel, 'node');
        return { step: { op: 'device', path: rel }, parents, existing };
      case 'link': {
        const target = cleanEntryPath(h.linkname, `${this.scope} hard link "${name}" → target`);
        if (target === '') throw invalid(`${this.scope} entry "${name}": hard link to the ${this.scope} root refused`);
        // The target is reached the same way: through directories of this layer only.
        if (this.parents(target, name).length)
          throw invalid(`${this.scope} entry "${name}": hard link target "${h.linkname}" is not in the ${this.scope}`);
        const k = this.kinds.get(target);
        if (!k) throw invalid(`${this.scope} entry "${name}": hard link target "${h.linkname}" is not in the ${this.scope}`);
        if (k === 'dir') throw invalid(`${this.scope} entry "${name}": hard link to a directory refused`);
        if (target === rel) return { step: { op: 'skip' }, parents };
        this.set(rel, k);
        return { step: { op: 'link', path: rel, target }, parents, existing };
      }
      default:
        throw unsupported(`${this.scope} entry "${name}": unsupported tar entry type "${h.type}" (typeflag ${JSON.stringify(h.typeflag)})`);
    }
  }

  /** Whether `rel` is a directory of the layer now. */
  isDir(rel: string): boolean {
    return this.kinds.get(rel) === 'dir';
  }
}

export interface CheckResult {
  /** sha256 of the uncompressed tar. */
  diffID: Digest;
  size: number;
  entries: number;
}

/**
 * Runs the layer's rules over a whole layer stream (plain, gzip or zstd) without writing
 * anything: what unpack would refuse, this refuses.
 */
export async function checkLayer(
  source: AsyncIterable<Uint8Array> | Readable,
  compression: LayerCompression | 'auto' = 'auto',
): Promise<CheckResult> {
  const hash = createHash('sha256');
  let size = 0;
  async function* hashed() {
    for await (const c of decompress(source, compression) as AsyncIterable<Buffer>) {
      hash.update(c);
      size += c.length;
      yield c;
    }
  }
  const check = new LayerCheck();
  let entries = 0;
  for await (const e of readTar(hashed())) {
    entries++;
    check.entry(e.header);
  }
  return { diffID: `sha256:${hash.digest('hex')}`, size, entries };
}
