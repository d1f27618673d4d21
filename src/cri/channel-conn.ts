// One streaming connection after the handshake: a WebSocket speaking a negotiated channel
// protocol (channels.ts). It sends on a channel, relays a readable to one with backpressure,
// routes the client's messages by channel, and closes once. The client may write (stdin) as
// soon as the streams are announced, before the process runs: its messages wait here until a
// handler is set, and a close that came first still reaches the close handler.

import type { Readable } from 'node:stream';
import { decodeChannel, encodeChannel, type ChannelProtocol } from './channels.js';
import type { Message, WebSocket } from '../common/websocket.js';

/** What exec and attach (remotecommand.ts) need of a connection, WebSocket or SPDY (spdy-channels.ts). */
export interface Channels {
  readonly proto: ChannelProtocol;
  /** False once the connection's buffer is full or it is closing; an empty message may say the streams are up. */
  send(channel: number, data: Buffer): boolean;
  /** Relays `from` to `channel` until it ends (or fails, or is destroyed); never rejects. */
  relay(from: Readable, channel: number): Promise<void>;
  /** The client's messages, by channel; a v5-style CLOSE message when the client ends its stdin. */
  onMessage(handler: (channel: number, data: Buffer) => void): void;
  /** Runs `handler` once the connection has closed (at once if it has). */
  onClose(handler: () => void): void;
  close(): void;
}

export class ChannelConn implements Channels {
  private early: Buffer[] | undefined = [];
  private handler?: (channel: number, data: Buffer) => void;
  private closed = false;

  constructor(
    readonly ws: WebSocket,
    readonly proto: ChannelProtocol,
  ) {
    ws.on('message', (m: Message) => (this.handler ? this.route(m.data) : this.early?.push(m.data)));
    ws.once('close', () => (this.closed = true));
  }

  /** False once the socket's buffer is full or the connection is closing. */
  send(channel: number, data: Buffer): boolean {
    const m = encodeChannel(this.proto, channel, data);
    return this.ws.send(m.data, m.text);
  }

  /** Relays `from` to `channel` until it ends (or fails, or is destroyed); never rejects. */
  relay(from: Readable, channel: number): Promise<void> {
    return new Promise((resolve) => {
      from.on('data', (d: Buffer) => {
        if (!this.send(channel, d)) {
          from.pause();
          this.ws.socket.once('drain', () => from.resume());
        }
      });
      from.once('end', resolve);
      from.once('close', resolve);
      // A failed source ends the relay; the caller learns why from the process or connection it belongs to.
      from.once('error', () => resolve());
    });
  }

  /** The client's messages, by channel, those that came before first; empty messages carry nothing and are dropped. */
  onMessage(handler: (channel: number, data: Buffer) => void): void {
    this.handler = handler;
    const early = this.early ?? [];
    this.early = undefined;
    for (const d of early) this.route(d);
  }

  /** Runs `handler` once the connection has closed (at once if it has). */
  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.ws.once('close', handler);
  }

  close(): void {
    this.ws.close(1000);
  }

  private route(msg: Buffer): void {
    const c = decodeChannel(this.proto, msg);
    if (c) this.handler!(c.channel, c.data);
  }
}
