// Exec and attach over SPDY, as kubelet's remotecommand serves them: the client opens a stream
// for each channel it uses, named by its streamType header (error, stdin, stdout, stderr,
// resize); the server waits for those the request needs, then serves the same Channels as over
// a WebSocket (channel-conn.ts), so remotecommand.ts serves both. The client ends its stdin with
// that stream's FIN; window sizes come as JSON objects one after another on the resize stream.

import type { Readable } from 'node:stream';
import type { Channels } from './channel-conn.js';
import { CLOSE, ERROR, RESIZE, STDERR, STDIN, STDOUT, type ChannelProtocol } from './channels.js';
import { RstStatus, type SpdySession, type SpdyStream } from './spdy.js';
import type { StreamLog, StreamRequest } from './stream-request.js';

/** How long the client has to open its streams, as kubelet's default stream creation timeout. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

const CHANNEL_OF: Record<string, number> = { stdin: STDIN, stdout: STDOUT, stderr: STDERR, error: ERROR, resize: RESIZE };

/** The streams a request needs: error always, the standard streams asked for, resize with a terminal from v3 on. */
export function expectedStreams(req: StreamRequest, proto: ChannelProtocol): string[] {
  const types = ['error'];
  if (req.stdin) types.push('stdin');
  if (req.stdout) types.push('stdout');
  if (req.stderr) types.push('stderr');
  if (req.tty && /^v[3-9]\./.test(proto.name)) types.push('resize');
  return types;
}

/**
 * Takes the client's streams as they come, each answered; resolves once those the request needs
 * are there. A stream of a type not needed, or one given twice, is refused (RST_STREAM); the
 * client's not opening them all in time, or going, rejects.
 */
export function acceptStreams(
  session: SpdySession,
  req: StreamRequest,
  proto: ChannelProtocol,
  log: StreamLog,
  timeoutMs = STREAM_CREATION_TIMEOUT_MS,
): Promise<SpdyChannels> {
  const want = expectedStreams(req, proto);
  const got = new Map<number, SpdyStream>();
  return new Promise((resolve, reject) => {
    const done = (e?: Error) => {
      clearTimeout(timer);
      session.off('stream', onStream);
      session.off('close', onClose);
      if (e) return reject(e);
      // Streams opened after these are not part of the request.
      session.on('stream', (s: SpdyStream) => refuse(s, 'after the request had its streams'));
      resolve(new SpdyChannels(session, proto, got));
    };
    const refuse = (s: SpdyStream, why: string) => {
      log('warn', `streaming: SPDY stream ${s.id} (streamType ${JSON.stringify(s.header('streamtype') ?? '')}) refused: ${why}`);
      s.reset(RstStatus.RefusedStream);
    };
    const onStream = (s: SpdyStream) => {
      const type = s.header('streamtype') ?? '';
      if (!want.includes(type)) return refuse(s, `the request needs ${want.join(', ')}`);
      if (got.has(CHANNEL_OF[type])) return refuse(s, 'a second stream of its type');
      s.reply();
      got.set(CHANNEL_OF[type], s);
      if (got.size === want.length) done();
    };
    const onClose = () => done(new Error('the client went before opening its streams'));
    const timer = setTimeout(
      () => done(new Error(`timed out waiting for client to create streams (${want.filter((t) => !got.has(CHANNEL_OF[t])).join(', ')})`)),
      timeoutMs,
    );
    session.on('stream', onStream);
    session.once('close', onClose);
  });
}

export class SpdyChannels implements Channels {
  private closing = false;

  constructor(
    readonly session: SpdySession,
    readonly proto: ChannelProtocol,
    private readonly streams: Map<number, SpdyStream>,
  ) {}

  /** An empty message has nothing to say over SPDY: the replies told the client its streams are up. */
  send(channel: number, data: Buffer): boolean {
    if (!data.length) return true;
    const s = this.streams.get(channel);
    return !!s?.writable && s.write(data);
  }

  relay(from: Readable, channel: number): Promise<void> {
    const to = this.streams.get(channel);
    return new Promise((resolve) => {
      from.on('data', (d: Buffer) => {
        if (to?.writable && !to.write(d)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.once('end', resolve);
      from.once('close', resolve);
      // A failed source ends the relay; the caller learns why from the process it belongs to.
      from.once('error', () => resolve());
    });
  }

  onMessage(handler: (channel: number, data: Buffer) => void): void {
    for (const [channel, s] of this.streams) {
      if (channel === STDIN) {
        s.on('data', (d: Buffer) => handler(STDIN, d));
        s.once('end', () => handler(CLOSE, Buffer.from([STDIN])));
      } else if (channel === RESIZE) {
        const objects = new JsonObjects();
        s.on('data', (d: Buffer) => objects.push(d.toString('utf8')).forEach((o) => handler(RESIZE, Buffer.from(o))));
      } else {
        // The client writes nothing on these; reading them lets their FIN be seen.
        s.resume();
      }
    }
  }

  onClose(handler: () => void): void {
    if (this.session.closed) handler();
    else this.session.once('close', handler);
  }

  /** Ends every stream (FIN after what is queued on it), then GOAWAY and the socket's end. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    const ended = [...this.streams.values()].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.writableFinished || s.destroyed) return resolve();
          s.once('finish', resolve);
          s.once('close', resolve);
          s.end();
        }),
    );
    void Promise.all(ended).then(() => this.session.goAway());
  }
}

/** Whole JSON objects out of text that carries them one after another (Go's json.Encoder writes them so). */
export class JsonObjects {
  private buf = '';

  push(text: string): string[] {
    this.buf += text;
    const out: string[] = [];
    let depth = 0;
    let inString = false;
    let start = -1;
    let consumed = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') {
        if (depth++ === 0) start = i;
      } else if (c === '}' && depth > 0 && --depth === 0) {
        out.push(this.buf.slice(start, i + 1));
        consumed = i + 1;
      } else if (depth === 0 && !/\s/.test(c)) {
        // Not an object: hand it on whole, for the resize handler to refuse by name.
        out.push(this.buf.slice(i).trim());
        consumed = this.buf.length;
        break;
      }
    }
    this.buf = this.buf.slice(consumed);
    return out;
  }
}
