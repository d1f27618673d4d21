// The CRI's streaming server: the URLs berthd's Exec, Attach and PortForward answer with, and the
// HTTP server behind them. Each URL holds a single-use token that expires after a minute
// (stream-tokens.ts), as kubelet's own streaming server; the client opens it with an upgrade,
// either to WebSocket, speaking Kubernetes' channel protocols (channels.ts), or to SPDY/3.1
// (spdy.ts), with a stream a channel (spdy-channels.ts, spdy-portforward.ts), which is how the
// API server reaches kubelet and kubelet the runtime. Either way exec, attach and port forwarding
// go through the engine's public module.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/index.js';
import { errorMessage, invalid } from '../errors.js';
import { ChannelConn } from './channel-conn.js';
import {
  EXEC_PROTOCOLS,
  PORT_FORWARD_PROTOCOLS,
  SPDY_EXEC_PROTOCOLS,
  SPDY_PORT_FORWARD_PROTOCOLS,
  negotiate,
  type ChannelProtocol,
} from './channels.js';
import { servePortForward } from './portforward.js';
import { serveAttach, serveExec } from './remotecommand.js';
import { SpdySession } from './spdy.js';
import { acceptStreams } from './spdy-channels.js';
import { serveSpdyPortForward } from './spdy-portforward.js';
import type { StreamLog, StreamRequest } from './stream-request.js';
import { TokenCache } from './stream-tokens.js';
import { acceptWebSocket, handshakeError, offeredProtocols } from '../common/websocket.js';

export type { StreamLog, StreamRequest } from './stream-request.js';

const PATH = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/;

/** `host:port` (an IPv6 host in brackets); port 0 picks a free one. */
function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw invalid(`streaming server address ${JSON.stringify(address)}: want host:port (port 0 for any)`);
  return { host: m[1] ?? m[2], port };
}

/** The CRI's checks of a request before it gets a URL, in kubelet's words. */
function check(req: StreamRequest): void {
  if (req.kind === 'portforward') {
    if (!req.podSandboxId) throw invalid('missing required pod_sandbox_id');
    for (const p of req.ports ?? []) if (!Number.isInteger(p) || p < 1 || p > 65535) throw invalid(`invalid port ${p}`);
    return;
  }
  if (!req.containerId) throw invalid('missing required container_id');
  if (req.kind === 'exec' && !req.cmd?.length) throw invalid('cmd must not be empty');
  if (req.tty && req.stderr) throw invalid('tty and stderr cannot both be true');
  if (!req.stdin && !req.stdout && !req.stderr) throw invalid('one of stdin, stdout, or stderr must be set');
}

/** An answer on a socket that has not been upgraded: status, text, and the socket ends. */
function refuse(socket: Duplex, status: number, text: string, headers: string[] = []): void {
  const reason = status === 404 ? 'Not Found' : status === 403 ? 'Forbidden' : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text) + 1}\r\n` +
      headers.map((h) => `${h}\r\n`).join('') +
      `Connection: close\r\n\r\n${text}\n`,
  );
}

/** The client's X-Stream-Protocol-Version offers, in its order (the header may come several times). */
function offeredSpdyProtocols(req: IncomingMessage): string[] {
  const raw = req.headers['x-stream-protocol-version'];
  return (Array.isArray(raw) ? raw : [raw ?? ''])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

export class StreamingServer {
  private readonly tokens = new TokenCache<StreamRequest>();
  private readonly server: Server;
  private readonly sockets = new Set<Duplex>();
  private readonly log: StreamLog;
  private base?: string;

  constructor(
    private readonly engine: Engine,
    private readonly opts: { address: string },
  ) {
    this.log = engine.options.log ?? (() => undefined);
    this.server = createServer((_req, res) => {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end("berth's streaming server serves WebSocket and SPDY/3.1 upgrades only\n");
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  async start(): Promise<void> {
    const { host, port } = parseAddress(this.opts.address);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const actual = (this.server.address() as AddressInfo).port;
    this.base = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
  }

  /** Stops listening and ends every stream still open. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
  }

  /** The URL a CRI client opens to get this stream; `invalid` errors for what the CRI refuses. */
  url(req: StreamRequest): string {
    if (!this.base) throw new Error('the streaming server has not been started');
    check(req);
    return `${this.base}/${req.kind}/${this.tokens.insert(req)}`;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', (e) => this.log('debug', `streaming connection: ${e.message}`));
    const url = new URL(req.url ?? '/', 'http://streaming');
    const m = PATH.exec(url.pathname);
    if (!m) return refuse(socket, 404, 'no such stream');
    if (/^spdy\/3\.1$/i.test(req.headers.upgrade ?? '')) return this.upgradeSpdy(req, socket, head, m[1], m[2]);
    const bad = handshakeError(req);
    if (bad) return refuse(socket, 400, bad);
    const sreq = this.tokens.consume(m[2]);
    if (!sreq || sreq.kind !== m[1]) return refuse(socket, 404, 'unknown or expired stream token');
    const supported = sreq.kind === 'portforward' ? PORT_FORWARD_PROTOCOLS : EXEC_PROTOCOLS;
    const proto = negotiate(offeredProtocols(req), supported);
    if (!proto) {
      const offered = offeredProtocols(req).join(', ');
      return refuse(
        socket,
        400,
        `requested protocol(s) are not supported: ${offered}; supports ${supported.map((p) => p.name).join(', ')}`,
      );
    }
    // Port forwarding's ports: the CRI request's, else the URL's (?port=N, as kubelet reads them).
    const ports = sreq.ports?.length ? sreq.ports : url.searchParams.getAll('port').map(Number);
    if (sreq.kind === 'portforward' && (!ports.length || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)))
      return refuse(socket, 400, 'port forwarding needs one or more ports (1-65535) in the request or as ?port=N');

    const conn = new ChannelConn(acceptWebSocket(req, socket, head, proto.name), proto);
    const what = describe(sreq);
    this.log('debug', `streaming: ${what} (${proto.name || 'channel.k8s.io'})`);
    try {
      if (sreq.kind === 'portforward') servePortForward(this.engine, conn, sreq.podSandboxId!, ports, this.log);
      else
        (sreq.kind === 'exec' ? serveExec : serveAttach)(this.engine, conn, sreq, this.log).catch((e: unknown) => {
          this.log('error', `streaming: ${what}: ${errorMessage(e)}`);
          conn.close();
        });
    } catch (e) {
      this.log('error', `streaming: ${what}: ${errorMessage(e)}`);
      conn.close();
    }
  }

  /**
   * An upgrade to SPDY/3.1, as kubelet answers it: the token, then the protocol the client's
   * X-Stream-Protocol-Version headers offer (none: the oldest), refused with 403 and the accepted
   * versions when none fits; then 101 and a SPDY session.
   */
  private upgradeSpdy(req: IncomingMessage, socket: Duplex, head: Buffer, kind: string, token: string): void {
    if (req.method !== 'GET' && req.method !== 'POST') return refuse(socket, 400, 'a SPDY upgrade is a GET or a POST');
    if (!/\bupgrade\b/i.test(req.headers.connection ?? ''))
      return refuse(socket, 400, 'unable to upgrade: missing upgrade headers in request');
    const sreq = this.tokens.consume(token);
    if (!sreq || sreq.kind !== kind) return refuse(socket, 404, 'unknown or expired stream token');
    const supported = sreq.kind === 'portforward' ? SPDY_PORT_FORWARD_PROTOCOLS : SPDY_EXEC_PROTOCOLS;
    const offered = offeredSpdyProtocols(req);
    let proto: ChannelProtocol | undefined = supported[supported.length - 1];
    if (offered.length) {
      proto = negotiate(offered, supported);
      if (!proto)
        return refuse(
          socket,
          403,
          `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.map((p) => p.name).join(' ')}]`,
          supported.map((p) => `X-Accepted-Stream-Protocol-Versions: ${p.name}`),
        );
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
        (offered.length ? `X-Stream-Protocol-Version: ${proto.name}\r\n` : '') +
        '\r\n',
    );
    if (head.length) socket.unshift(head);
    const session = new SpdySession(socket);
    const what = describe(sreq);
    session.on('protocolError', (e: Error) => this.log('warn', `streaming: ${what} (SPDY): ${e.message}`));
    this.log('debug', `streaming: ${what} (SPDY/3.1, ${proto.name})`);
    if (sreq.kind === 'portforward') {
      serveSpdyPortForward(this.engine, session, sreq.podSandboxId!, sreq.ports ?? [], this.log);
      return;
    }
    const serve = sreq.kind === 'exec' ? serveExec : serveAttach;
    acceptStreams(session, sreq, proto, this.log)
      .then((conn) => serve(this.engine, conn, sreq, this.log))
      .catch((e: unknown) => {
        this.log('error', `streaming: ${what}: ${errorMessage(e)}`);
        session.goAway();
      });
  }
}

function describe(sreq: StreamRequest): string {
  return sreq.kind === 'portforward' ? `port forward to pod ${sreq.podSandboxId}` : `${sreq.kind} in ${sreq.containerId}`;
}
