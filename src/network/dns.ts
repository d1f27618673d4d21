// The embedded DNS server of a user-defined network: in berthd, on port 53 of a bridge network's
// gateway address, UDP and TCP, or, for a container that cannot reach that (on a macvlan or
// ipvlan network, which cannot reach the host through its parent, or on a bridge with no IPv4
// address), on 127.0.0.11:53, UDP and TCP, inside the container's network namespace, as
// dockerd's resolver (the sockets made there by the native binding and served here, on berthd's
// event loop). It answers A and AAAA queries for the names its `resolve` callback knows
// (container names, short IDs and aliases) and relays every other query, unchanged, to the
// upstream servers `upstream` gives for the asker (the container's --dns, else the host's
// resolvers, which berthd, on the host, can reach even when they are on loopback); a query that
// came over TCP is relayed over TCP. An answer of its own too long for the asker's UDP size is
// cut and marked truncated, as dockerd's, so the client asks again over TCP.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { closeSync } from 'node:fs';
import { connect, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { errno } from '../common/errno.js';
import { dnsSockets } from '../native/binding.js';
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

/** The UDP size a query allows: its EDNS0 OPT record's (RFC 6891), else (or below it) 512 bytes, as dockerd's resolver reads it. */
export function udpSize(msg: Buffer, q: DnsQuestion): number {
  // The OPT record, first of the additional section of a query with no answers: root name, type 41, the size as class.
  const opt = msg.readUInt16BE(10) >= 1 && msg.length >= q.end + 5 && msg[q.end] === 0 && msg.readUInt16BE(q.end + 1) === 41;
  return Math.max(512, opt ? msg.readUInt16BE(q.end + 3) : 0);
}

/** An authoritative answer to `query` with these addresses, A or AAAA as the question asks (none: NOERROR without answers; rcode 3: NXDOMAIN). */
export function answer(query: Buffer, q: DnsQuestion, ips: string[], rcode = 0, max = Infinity): Buffer {
  const header = Buffer.alloc(12);
  const size = (n: number) => 12 + (q.end - 12) + n * (12 + (ips[0]?.includes(':') ? 16 : 4));
  // Too long for `max`: the last records go until it fits, and TC says so (dockerd's truncateResp).
  let n = ips.length;
  while (n > 0 && size(n) > max) n--;
  const tc = n < ips.length ? 0x0200 : 0;
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(0x8000 | 0x0400 | tc | ((query[2] & 0x01) << 8) | 0x0080 | rcode, 2); // QR AA TC RD(copied) RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(n, 6);
  const rrs = ips.slice(0, n).map((ip) => {
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
  /** The pinned network namespace to answer in; unset: on the host's `address` (UDP and TCP both ways). */
  netns?: string;
  /** The addresses of a name for the container at `from`; undefined when it is none it knows. */
  resolve: (name: string, from: string) => Addresses | undefined;
  /** Servers to relay other names to, for the container at `from`. */
  upstream: (from: string) => string[];
  /** Whether `from` is an asker this server is for; any other gets REFUSED (unset: all are). */
  serves?: (from: string) => boolean;
  log?: (msg: string) => void;
}

/** How long a TCP client may keep a connection without a whole query (as a stub resolver's own timeouts). */
const TCP_IDLE_MS = 10_000;

export class DnsServer {
  private sock?: Socket;
  private tcp?: Server;
  private closed = false;
  constructor(private readonly opts: DnsServerOptions) {}

  private where(): string {
    return this.opts.netns ? `${this.opts.address} in ${this.opts.netns}` : this.opts.address;
  }

  /**
   * Binds UDP and TCP port 53 of the address (which must be on a host interface by now), or,
   * with `netns`, has the binding make both sockets there; a close meanwhile closes what it made.
   */
  async listen(): Promise<void> {
    let at: { udp: { port: number; address: string } | { fd: number }; tcp: { port: number; host: string } | { fd: number } };
    if (this.opts.netns) {
      const fds = await dnsSockets(this.opts.netns, this.opts.address, 53);
      if (this.closed) {
        // Two sockets of the container's, no data on them: close(2) does not wait.
        closeSync(fds.udp);
        closeSync(fds.tcp);
        return;
      }
      // Node owns each fd once handed over (its close closes the fd).
      at = { udp: { fd: fds.udp }, tcp: { fd: fds.tcp } };
    } else at = { udp: { port: 53, address: this.opts.address }, tcp: { port: 53, host: this.opts.address } };
    const udp = this.bindUdp(at.udp).catch((e: Error) => e);
    const tcp = createServer((conn) => this.serveTcp(conn));
    this.tcp = tcp;
    const listening = new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(at.tcp, () => {
        tcp.off('error', reject);
        tcp.on('error', (e) => this.opts.log?.(`dns ${this.where()} (tcp): ${e.message}`));
        resolve();
      });
    });
    const [u] = await Promise.all([udp, listening]);
    if (u) throw u;
  }

  private bindUdp(at: { port: number; address: string } | { fd: number }): Promise<void> {
    const sock = createSocket('udp4');
    this.sock = sock;
    sock.on('message', (msg, from) => {
      void this.handle(msg, from);
    });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(at, () => {
        sock.off('error', reject);
        sock.on('error', (e) => this.opts.log?.(`dns ${this.where()}: ${e.message}`));
        resolve();
      });
    });
  }

  close(): void {
    this.closed = true;
    try {
      this.sock?.close();
    } catch (e) {
      if (errno(e) !== 'ERR_SOCKET_DGRAM_NOT_RUNNING') throw e; // closed already
    }
    this.sock = undefined;
    this.tcp?.close();
    this.tcp = undefined;
  }

  /** The reply to a query: an answer of the names `resolve` knows, else the upstream's (SERVFAIL when none answered); none for what is no query. */
  private async reply(msg: Buffer, from: string, tcp: boolean): Promise<Buffer | undefined> {
    const q = parseQuery(msg);
    if (!q) return undefined;
    if (this.opts.serves && !this.opts.serves(from)) return answer(msg, q, [], 5);
    const ips = q.cls === CLASS_IN && (q.type === TYPE_A || q.type === TYPE_AAAA) ? this.opts.resolve(q.name, from) : undefined;
    if (ips) return answer(msg, q, q.type === TYPE_A ? ips.a : ips.aaaa, 0, tcp ? 0xffff : udpSize(msg, q));
    const relayed = await (tcp ? relayTcp : relay)(msg, this.opts.upstream(from));
    return relayed ?? answer(msg, q, [], 2);
  }

  private async handle(msg: Buffer, from: RemoteInfo): Promise<void> {
    const b = await this.reply(msg, from.address, false);
    if (b) this.sock?.send(b, from.port, from.address);
  }

  /** A TCP client's queries, each a 2-byte length and the message (RFC 1035 4.2.2), answered in order. */
  private serveTcp(conn: TcpSocket): void {
    let buf = Buffer.alloc(0);
    let queue = Promise.resolve();
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    // A client that resets its connection ends only that connection; the server goes on.
    conn.on('error', (e) => this.opts.log?.(`dns ${this.where()} (tcp client): ${e.message}`));
    conn.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        queue = queue
          .then(async () => {
            const b = await this.reply(msg, conn.remoteAddress ?? '', true);
            if (!b) return void conn.destroy();
            const len = Buffer.alloc(2);
            len.writeUInt16BE(b.length);
            if (!conn.destroyed) conn.write(Buffer.concat([len, b]));
          })
          .catch((e: Error) => {
            this.opts.log?.(`dns ${this.where()} (tcp): ${e.message}`);
            conn.destroy();
          });
      }
    });
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

/** Sends the query over TCP to each server in turn (2 s each) and returns the first whole answer with its ID. */
async function relayTcp(msg: Buffer, servers: string[]): Promise<Buffer | undefined> {
  for (const server of servers) {
    const got = await new Promise<Buffer | undefined>((resolve) => {
      const s = connect({ host: server, port: 53 });
      let buf = Buffer.alloc(0);
      const done = (b?: Buffer) => {
        clearTimeout(t);
        s.destroy();
        resolve(b);
      };
      const t = setTimeout(() => done(), 2000);
      // A server that refuses or resets is one that did not answer: the next is asked.
      s.on('error', () => done());
      s.on('close', () => done());
      s.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        const b = buf.subarray(2, 2 + buf.readUInt16BE(0));
        done(b.length >= 2 && b.readUInt16BE(0) === msg.readUInt16BE(0) ? b : undefined);
      });
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      s.write(Buffer.concat([len, msg]));
    });
    if (got) return got;
  }
  return undefined;
}
