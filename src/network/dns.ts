// The embedded DNS server of a user-defined network: in berthd, on UDP port 53 of the network's
// gateway address. It answers A and AAAA queries for the names its `resolve` callback knows
// (container names, short IDs and aliases on that network) and relays every other query, unchanged, to
// the upstream servers `upstream` gives for the asking address (the container's --dns, else
// the host's resolvers, which berthd, on the host, can reach even when they are on loopback).

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { errno } from '../common/errno.js';
import { parseIp6 } from './ip6.js';

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const TTL = 600;

export interface DnsQuestion {
  id: number;
  name: string;
  type: number;
  cls: number;
  /** Offset just past the question. */ end: number;
}

/** The first question of a query; undefined for anything else (a response, a truncated packet). */
export function parseQuery(msg: Buffer): DnsQuestion | undefined {
  if (msg.length < 12 || msg[2] & 0x80 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  while (off < msg.length) {
    const len = msg[off];
    if (len === 0) {
      off++;
      break;
    }
    if (len & 0xc0 || off + 1 + len > msg.length) return undefined; // no compression in a question
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return undefined;
  return {
    id: msg.readUInt16BE(0),
    name: labels.join('.').toLowerCase(),
    type: msg.readUInt16BE(off),
    cls: msg.readUInt16BE(off + 2),
    end: off + 4,
  };
}

/** A name's addresses: IPv4 for A, IPv6 for AAAA. */
export interface Addresses {
  a: string[];
  aaaa: string[];
}

/** The record data of an address: 4 bytes for IPv4, 16 for IPv6. */
function rdata(ip: string): Buffer {
  if (!ip.includes(':')) return Buffer.from(ip.split('.').map(Number));
  const b = Buffer.alloc(16);
  const n = parseIp6(ip);
  for (let i = 0; i < 16; i++) b[i] = Number((n >> BigInt(120 - 8 * i)) & 0xffn);
  return b;
}

/** An authoritative answer to `query` with these addresses, A or AAAA as the question asks (none: NOERROR without answers; rcode 3: NXDOMAIN). */
export function answer(query: Buffer, q: DnsQuestion, ips: string[], rcode = 0): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(0x8000 | 0x0400 | ((query[2] & 0x01) << 8) | 0x0080 | rcode, 2); // QR AA RD(copied) RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(ips.length, 6);
  const rrs = ips.map((ip) => {
    const data = rdata(ip);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(data.length === 4 ? TYPE_A : TYPE_AAAA, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(TTL, 6);
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header, query.subarray(12, q.end), ...rrs]);
}

export interface DnsServerOptions {
  address: string;
  /** The addresses of a name for the container at `from`; undefined when it is none it knows. */
  resolve: (name: string, from: string) => Addresses | undefined;
  /** Servers to relay other names to, for the container at `from`. */
  upstream: (from: string) => string[];
  log?: (msg: string) => void;
}

export class DnsServer {
  private sock?: Socket;
  constructor(private readonly opts: DnsServerOptions) {}

  /** Binds port 53 of the address (which must be on a host interface by now). */
  listen(): Promise<void> {
    const sock = createSocket('udp4');
    this.sock = sock;
    sock.on('message', (msg, from) => {
      void this.handle(msg, from);
    });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(53, this.opts.address, () => {
        sock.off('error', reject);
        sock.on('error', (e) => this.opts.log?.(`dns ${this.opts.address}: ${e.message}`));
        resolve();
      });
    });
  }

  close(): void {
    try {
      this.sock?.close();
    } catch (e) {
      if (errno(e) !== 'ERR_SOCKET_DGRAM_NOT_RUNNING') throw e; // closed already
    }
    this.sock = undefined;
  }

  private async handle(msg: Buffer, from: RemoteInfo): Promise<void> {
    const q = parseQuery(msg);
    if (!q) return;
    const reply = (b: Buffer) => this.sock?.send(b, from.port, from.address);
    const ips = q.cls === CLASS_IN && (q.type === TYPE_A || q.type === TYPE_AAAA) ? this.opts.resolve(q.name, from.address) : undefined;
    if (ips) return reply(answer(msg, q, q.type === TYPE_A ? ips.a : ips.aaaa));
    const relayed = await relay(msg, this.opts.upstream(from.address));
    reply(relayed ?? answer(msg, q, [], 2)); // SERVFAIL when no upstream answered
  }
}

/** Sends the query to each server in turn (2 s each) and returns the first answer with its ID. */
async function relay(msg: Buffer, servers: string[]): Promise<Buffer | undefined> {
  for (const server of servers) {
    const got = await new Promise<Buffer | undefined>((resolve) => {
      const s = createSocket(server.includes(':') ? 'udp6' : 'udp4');
      const done = (b?: Buffer) => {
        clearTimeout(t);
        s.close();
        resolve(b);
      };
      const t = setTimeout(() => done(), 2000);
      s.on('error', () => done());
      s.on('message', (b) => {
        if (b.length >= 2 && b.readUInt16BE(0) === msg.readUInt16BE(0)) done(b);
      });
      s.send(msg, 53, server);
    });
    if (got) return got;
  }
  return undefined;
}
