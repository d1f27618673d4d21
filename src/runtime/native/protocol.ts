// The wire format between berth-runtime and native/berth-nsexec: records of a u32 length
// (little-endian), a u16 type and NUL-terminated string fields. `Op` mirrors the enum in
// native/berth.h; protocol.test.ts fails on any difference in a name or a number.

export enum Op {
  Mode = 1,
  NsClone,
  NsJoin,
  UidMap,
  GidMap,
  ConsoleSocket,
  Terminal,
  ExecFifo,
  Rootfs,
  Mount,
  Device,
  Symlink,
  NoPivot,
  RootfsPropagation,
  Mask,
  Readonly,
  RootReadonly,
  Hostname,
  Domainname,
  Sysctl,
  Rlimit,
  OomScoreAdj,
  Personality,
  Caps,
  User,
  Umask,
  NoNewPrivs,
  Seccomp,
  Cwd,
  Env,
  Arg,
  Hook,
  PreserveFds,
  TimeOffset,
  End,
  MsgPid = 100,
  MsgReady,
  MsgError,
  MsgContinue = 200,
}

export interface Record_ {
  type: Op;
  fields: string[];
}

export const rec = (type: Op, ...fields: (string | number | bigint)[]): Record_ => ({ type, fields: fields.map(String) });

export function encode(records: Record_[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of records) {
    const body = Buffer.from(r.fields.map((f) => f + '\0').join(''), 'utf8');
    for (const f of r.fields) if (f.includes('\0')) throw new Error(`a plan field holds a NUL byte: ${JSON.stringify(f)}`);
    const head = Buffer.alloc(6);
    head.writeUInt32LE(body.length + 2, 0);
    head.writeUInt16LE(r.type, 4);
    parts.push(head, body);
  }
  return Buffer.concat(parts);
}

/** Splits a byte stream into records; keeps what is incomplete for the next chunk. */
export class Decoder {
  private pending: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Record_[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Record_[] = [];
    while (this.pending.length >= 4) {
      const len = this.pending.readUInt32LE(0);
      if (this.pending.length < 4 + len) break;
      const type = this.pending.readUInt16LE(4) as Op;
      const body = this.pending.subarray(6, 4 + len).toString('utf8');
      const fields = body.length ? body.split('\0').slice(0, -1) : [];
      out.push({ type, fields });
      this.pending = this.pending.subarray(4 + len);
    }
    return out;
  }
}
