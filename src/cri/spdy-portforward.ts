// Port forwarding over SPDY, as kubelet's portforward serves it (portforward.k8s.io): for each
// connection the client opens an error stream and a data stream, both with headers `port` and
// `requestID` (streamType error or data). Once a pair is there berthd connects to the port on
// the pod's localhost, inside its network namespace (engine.pods.portForward), and relays the
// data stream both ways; a failure is written on the error stream. The connection serves pairs
// until the client goes.

import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/index.js';
import { errorMessage } from '../errors.js';
import { STREAM_CREATION_TIMEOUT_MS } from './spdy-channels.js';
import { RstStatus, type SpdySession, type SpdyStream } from './spdy.js';
import type { StreamLog } from './stream-request.js';

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/**
 * Serves the session's pairs. `allowed`: the CRI request's ports; when it named some, a pair for
 * another port is refused on its error stream.
 */
export function serveSpdyPortForward(
  engine: Engine,
  session: SpdySession,
  podId: string,
  allowed: number[],
  log: StreamLog,
  timeoutMs = STREAM_CREATION_TIMEOUT_MS,
): void {
  const pairs = new Map<string, Pair>();
  const targets = new Set<Duplex>();
  session.on('stream', (s: SpdyStream) => {
    const type = s.header('streamtype');
    if (type !== 'data' && type !== 'error') {
      log('warn', `streaming: port forward to pod ${podId}: stream ${s.id} of type ${JSON.stringify(type ?? '')} refused`);
      return s.reset(RstStatus.RefusedStream);
    }
    s.reply();
    // Clients older than requestID pair a data stream with the error stream opened just before it.
    const requestId = s.header('requestid') ?? String(type === 'data' ? s.id - 2 : s.id);
    let pair = pairs.get(requestId);
    if (!pair) {
      const timer = setTimeout(() => {
        pairs.delete(requestId);
        log('info', `streaming: port forward to pod ${podId}: request ${requestId}: timed out waiting for its other stream`);
        pair?.data?.reset(RstStatus.Cancel);
        pair?.error?.reset(RstStatus.Cancel);
      }, timeoutMs);
      timer.unref();
      pair = { timer };
      pairs.set(requestId, pair);
    }
    if (pair[type]) return s.reset(RstStatus.ProtocolError);
    pair[type] = s;
    if (!pair.data || !pair.error) return;
    clearTimeout(pair.timer);
    pairs.delete(requestId);
    const target = forward(engine, podId, pair.data, pair.error, allowed, log);
    if (target) {
      targets.add(target);
      target.once('close', () => targets.delete(target));
    }
  });
  session.once('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    for (const t of targets) t.destroy();
  });
}

function forward(
  engine: Engine,
  podId: string,
  data: SpdyStream,
  error: SpdyStream,
  allowed: number[],
  log: StreamLog,
): Duplex | undefined {
  const portText = data.header('port') ?? '';
  const port = Number(portText);
  let told = false;
  const fail = (msg: string) => {
    log('info', msg);
    if (!told && error.writable) error.write(msg);
    told = true;
  };
  const finish = () => {
    if (!data.writableEnded) data.end();
    if (!error.writableEnded) error.end();
  };
  // What the client sends on the error stream is nothing; reading it lets its FIN be seen.
  error.resume();
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    fail(`invalid port ${JSON.stringify(portText)} in the port forward request`);
    finish();
    return undefined;
  }
  if (allowed.length && !allowed.includes(port)) {
    fail(`port ${port} is not one of the PortForward request's ports (${allowed.join(', ')})`);
    finish();
    return undefined;
  }
  let target: Duplex;
  try {
    target = engine.pods.portForward(podId, port);
  } catch (e) {
    fail(`error forwarding port ${port} to pod ${podId}: ${errorMessage(e)}`);
    finish();
    return undefined;
  }
  target.on('error', (e) => fail(`error forwarding port ${port} to pod ${podId}: ${errorMessage(e)}`));
  // The client's FIN half-closes the pod's connection; the pod's end ends the data stream, and the pair.
  data.pipe(target);
  target.on('data', (d: Buffer) => {
    if (data.writable && !data.write(d)) {
      target.pause();
      data.once('drain', () => target.resume());
    }
  });
  target.once('end', finish);
  target.once('close', finish);
  data.once('close', () => target.destroy());
  return target;
}
