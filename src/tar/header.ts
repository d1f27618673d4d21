// One tar header block (512 bytes) in and out: ustar fields, GNU's base-256 numbers, and the
// PAX extended records (`path`, `linkpath`, `size`, ids, times, `SCHILY.xattr.*` with binary
// values). Pure functions over buffers; the reader and writer beside it own the streaming.

import { invalid } from '../errors.js';

export const BLOCK = 512;

/** What an entry is (the names tar-stream and Go's archive/tar use, spelled out). */
export type TarType =
  | 'file'
  | 'link'
  | 'symlink'
  | 'character-device'
  | 'block-device'
  | 'directory'
  | 'fifo'
  | 'contiguous-file'
  | 'pax-header'
  | 'pax-global-header'
  | 'gnu-long-name'
  | 'gnu-long-link-name'
  | 'unsupported';

/** A header as a reader returns it and a writer takes it (optional fields default to 0 / ''). */
export interface TarHeader {
  name: string;
  type: TarType;
  /** Permission and setuid/setgid/sticky bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of the entry's body (0 for everything but files). */
  size: number;
  /** Seconds since the epoch; fractional when a PAX `mtime` record gave more. */
  mtime: number;
  /** Seconds; only from a PAX `atime` record. */
  atime?: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes (`SCHILY.xattr.<name>` or libarchive's `LIBARCHIVE.xattr.<name>`), values as bytes. */
  xattrs: Map<string, Buffer>;
  /** Every other PAX record, as UTF-8 strings (`GNU.sparse.*`, `SCHILY.fflags`, …). */
  pax: Record<string, string>;
  /** The raw typeflag character, for messages about entries of a type berth does not take. */
  typeflag: string;
}

export type TarHeaderInput = Partial<Omit<TarHeader, 'name' | 'mtime' | 'xattrs'>> & {
  name: string;
  mtime?: number | Date;
  xattrs?: Map<string, Buffer> | Record<string, Buffer>;
};

const TYPES: Record<string, TarType> = {
  '0': 'file',
  '\0': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  '7': 'contiguous-file',
  x: 'pax-header',
  g: 'pax-global-header',
  L: 'gnu-long-name',
  K: 'gnu-long-link-name',
};
const FLAGS: Partial<Record<TarType, string>> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
  'contiguous-file': '7',
  'pax-header': 'x',
  'pax-global-header': 'g',
  'gnu-long-name': 'L',
  'gnu-long-link-name': 'K',
};

/** A NUL-terminated (or full-width) string field. */
function str(buf: Buffer, off: number, len: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end === -1 || end > off + len ? off + len : end);
}

/** A numeric field: octal text (spaces and NULs around it), or GNU's base-256 when the high bit is set. */
function num(buf: Buffer, off: number, len: number, field: string): number {
  if (buf[off] & 0x80) {
    if (buf[off] === 0xff) throw invalid(`tar header: negative ${field}`);
    let v = buf[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + buf[off + i];
    if (!Number.isSafeInteger(v)) throw invalid(`tar header: ${field} too large`);
    return v;
  }
  const text = buf
    .toString('latin1', off, off + len)
    .replace(/\0.*$/s, '')
    .trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw invalid(`tar header: ${field} "${text}" is not an octal number`);
  return parseInt(text, 8);
}

/** The header checksum: the unsigned sum of all bytes with the checksum field as spaces. */
function checksum(block: Buffer): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 32 : block[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return { unsigned, signed };
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Decodes one header block (checksum verified). PAX and GNU long names are applied by the reader. */
export function decodeHeader(block: Buffer): TarHeader {
  const sum = num(block, 148, 8, 'checksum');
  const c = checksum(block);
  if (sum !== c.unsigned && sum !== c.signed) throw invalid('tar header: checksum mismatch (not a tar archive, or a damaged one)');
  const magic = block.toString('latin1', 257, 263);
  const gnu = magic === 'ustar ' && block[263] === 0x20;
  const ustar = magic === 'ustar\0';
  const typeflag = String.fromCharCode(block[156]);
  let name = str(block, 0, 100);
  // ustar's prefix; GNU keeps other fields (atime, ctime) there, so only ustar has one.
  if (ustar && block[345] !== 0) name = `${str(block, 345, 155)}/${name}`;
  let type = TYPES[typeflag] ?? 'unsupported';
  // Pre-POSIX archives mark a directory only by its trailing slash.
  if (type === 'file' && typeflag !== '0' && name.endsWith('/')) type = 'directory';
  return {
    name,
    type,
    typeflag,
    mode: num(block, 100, 8, 'mode') & 0o7777,
    uid: num(block, 108, 8, 'uid'),
    gid: num(block, 116, 8, 'gid'),
    size: num(block, 124, 12, 'size'),
    mtime: num(block, 136, 12, 'mtime'),
    linkname: str(block, 157, 100),
    uname: ustar || gnu ? str(block, 265, 32) : '',
    gname: ustar || gnu ? str(block, 297, 32) : '',
    devmajor: ustar || gnu ? num(block, 329, 8, 'devmajor') : 0,
    devminor: ustar || gnu ? num(block, 337, 8, 'devminor') : 0,
    xattrs: new Map(),
    pax: {},
  };
}

/** Parses PAX extended records (`<len> <key>=<value>\n`), keeping xattr values as bytes. */
export function decodePax(buf: Buffer): { records: Record<string, string>; xattrs: Map<string, Buffer> } {
  const records: Record<string, string> = {};
  const xattrs = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) break; // some writers pad the records with NULs
    const sp = buf.indexOf(0x20, off);
    const len = sp === -1 ? NaN : Number(buf.toString('latin1', off, sp));
    if (!Number.isInteger(len) || len <= sp - off + 1 || off + len > buf.length || buf[off + len - 1] !== 0x0a) {
      throw invalid('tar: malformed PAX extended header record');
    }
    const rec = buf.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw invalid('tar: malformed PAX extended header record');
    const key = rec.toString('utf8', 0, eq);
    const value = rec.subarray(eq + 1);
    if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), Buffer.from(value));
    else if (key.startsWith('LIBARCHIVE.xattr.'))
      xattrs.set(decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(value.toString('latin1'), 'base64'));
    else records[key] = value.toString('utf8');
    off += len;
  }
  return { records, xattrs };
}

/** Applies PAX records over a header's own fields (POSIX: the records win). */
export function applyPax(h: TarHeader, records: Record<string, string>, xattrs: Map<string, Buffer>): void {
  const int = (key: string): number => {
    const v = records[key];
    if (!/^\d+$/.test(v)) throw invalid(`tar: PAX record ${key}="${v}" is not a number`);
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw invalid(`tar: PAX record ${key} too large`);
    return n;
  };
  const time = (key: string): number => {
    const v = records[key];
    if (!/^-?\d+(\.\d+)?$/.test(v)) throw invalid(`tar: PAX record ${key}="${v}" is not a time`);
    return Number(v);
  };
  for (const key of Object.keys(records)) {
    switch (key) {
      case 'path':
        h.name = records[key];
        break;
      case 'linkpath':
        h.linkname = records[key];
        break;
      case 'size':
        h.size = int(key);
        break;
      case 'uid':
        h.uid = int(key);
        break;
      case 'gid':
        h.gid = int(key);
        break;
      case 'uname':
        h.uname = records[key];
        break;
      case 'gname':
        h.gname = records[key];
        break;
      case 'mtime':
        h.mtime = time(key);
        break;
      case 'atime':
        h.atime = time(key);
        break;
      case 'ctime':
        break;
      default:
        h.pax[key] = records[key];
    }
  }
  for (const [k, v] of xattrs) h.xattrs.set(k, v);
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let digits = String(body.length).length;
  if (body.length + digits >= 10 ** digits) digits++;
  return Buffer.concat([Buffer.from(String(body.length + digits)), body]);
}

const MAX_OCTAL = { 8: 0o7777777, 12: 0o77777777777 } as const;

function writeStr(block: Buffer, off: number, len: number, s: string): void {
  block.write(s, off, len, 'utf8');
}

function writeOctal(block: Buffer, off: number, len: 8 | 12, v: number): void {
  block.write(
    `${Math.max(0, Math.floor(v))
      .toString(8)
      .padStart(len - 1, '0')}\0`,
    off,
    len,
    'latin1',
  );
}

/** Splits a long name into ustar's prefix (≤155 bytes) and name (≤100 bytes) at a slash, or says it cannot. */
function splitName(name: string): [string, string] | undefined {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) > 155) return undefined;
    if (rest !== '' && Buffer.byteLength(rest) <= 100) return [prefix, rest];
  }
  return undefined;
}

const ascii = (s: string) => /^[\x01-\x7f]*$/.test(s);

function headerBlock(h: TarHeaderInput, typeflag: string, size: number, mtime: number, name: [string, string], linkname: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeStr(block, 0, 100, name[1]);
  writeOctal(block, 100, 8, (h.mode ?? (h.type === 'directory' ? 0o755 : 0o644)) & 0o7777);
  writeOctal(block, 108, 8, (h.uid ?? 0) <= MAX_OCTAL[8] ? (h.uid ?? 0) : 0);
  writeOctal(block, 116, 8, (h.gid ?? 0) <= MAX_OCTAL[8] ? (h.gid ?? 0) : 0);
  writeOctal(block, 124, 12, size <= MAX_OCTAL[12] ? size : 0);
  writeOctal(block, 136, 12, mtime >= 0 && mtime <= MAX_OCTAL[12] ? mtime : 0);
  block.write(typeflag, 156, 1, 'latin1');
  writeStr(block, 157, 100, linkname);
  block.write('ustar\x0000', 257, 8, 'latin1');
  writeStr(block, 265, 32, h.uname ?? '');
  writeStr(block, 297, 32, h.gname ?? '');
  writeOctal(block, 329, 8, h.devmajor ?? 0);
  writeOctal(block, 337, 8, h.devminor ?? 0);
  writeStr(block, 345, 155, name[0]);
  block.fill(0x20, 148, 156);
  block.write(`${checksum(block).unsigned.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/**
 * Encodes an entry's header: one ustar block, preceded by a PAX extended header when a field
 * does not fit ustar (a long or non-ASCII name, large ids or size, xattrs, extra records).
 */
export function encodeHeader(h: TarHeaderInput): Buffer {
  const type = h.type ?? 'file';
  const typeflag = FLAGS[type];
  if (!typeflag || type === 'pax-header' || type === 'pax-global-header') throw invalid(`tar: cannot write an entry of type ${type}`);
  const size = type === 'file' || type === 'contiguous-file' ? (h.size ?? 0) : 0;
  const mtimeIn = h.mtime instanceof Date ? h.mtime.getTime() / 1000 : (h.mtime ?? 0);
  const mtime = Math.floor(mtimeIn);
  const linkname = h.linkname ?? '';
  const records: Buffer[] = [];
  const add = (k: string, v: string | Buffer) => records.push(paxRecord(k, typeof v === 'string' ? Buffer.from(v) : v));
  let split = ascii(h.name) ? splitName(h.name) : undefined;
  if (!split) {
    add('path', h.name);
    split = [
      '',
      Buffer.from(h.name)
        .subarray(0, 100)
        .toString('utf8')
        .replace(/\uFFFD+$/, ''),
    ];
  }
  let link = linkname;
  if (Buffer.byteLength(linkname) > 100 || !ascii(linkname)) {
    add('linkpath', linkname);
    link = '';
  }
  if ((h.uid ?? 0) > MAX_OCTAL[8]) add('uid', String(h.uid));
  if ((h.gid ?? 0) > MAX_OCTAL[8]) add('gid', String(h.gid));
  if (size > MAX_OCTAL[12]) add('size', String(size));
  if (mtime < 0 || mtime > MAX_OCTAL[12]) add('mtime', String(mtime));
  if (h.uname && (!ascii(h.uname) || h.uname.length > 32)) add('uname', h.uname);
  if (h.gname && (!ascii(h.gname) || h.gname.length > 32)) add('gname', h.gname);
  for (const [k, v] of Object.entries(h.pax ?? {})) add(k, v);
  const xattrs = h.xattrs instanceof Map ? [...h.xattrs] : Object.entries(h.xattrs ?? {});
  for (const [k, v] of xattrs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) add(`SCHILY.xattr.${k}`, v);
  const main = headerBlock(h, typeflag, size, mtime, split, link);
  if (!records.length) return main;
  const body = Buffer.concat(records);
  const base = h.name.replace(/\/+$/, '').split('/').pop() ?? '';
  const paxName = `PaxHeaders.0/${base}`.slice(0, 100);
  const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
  return Buffer.concat([
    headerBlock({ name: paxName, mode: 0o644 }, 'x', body.length, mtime, ['', paxName], ''),
    body,
    Buffer.alloc(pad),
    main,
  ]);
}

/**
 * Bytes an entry adds to its layer unpacked, as dockerd's overlay2 measures a layer (the lstat
 * sizes of what is not a directory): a file's size, a symlink's target's length; 0 for a hard
 * link (its target's inode is counted once) and everything else.
 */
export function unpackedBytes(h: Pick<TarHeaderInput, 'type' | 'size' | 'linkname'>): number {
  const type = h.type ?? 'file';
  if (type === 'file' || type === 'contiguous-file') return h.size ?? 0;
  return type === 'symlink' ? Buffer.byteLength(h.linkname ?? '') : 0;
}

/** Bytes of zero padding after a body of `size` bytes. */
export const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;
