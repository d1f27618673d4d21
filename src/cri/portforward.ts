// Port forwarding over a streaming connection, as kubelet's portforward serves it over WebSocket:
// two channels a port (data 2i, error 2i+1), each opened with the port as two little-endian
// bytes; one connection to each port on the pod's localhost, made at once inside the pod's
// network namespace (engine.pods.portForward). The WebSocket closes once every connection has
// ended; a failure is told on that port's error channel.

import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/index.js';
import { errorMessage } from '../errors.js';
import type { ChannelConn } from './channel-conn.js';
import type { StreamLog } from './stream-request.js';

export function servePortForward(engine: Engine, conn: ChannelConn, podId: string, ports: number[], log: StreamLog): void {
  let open = ports.length;
  const ended = () => {
    if (--open === 0) conn.close();
  };
  const targets: (Duplex | undefined)[] = ports.map((port, i) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(port);
    conn.send(2 * i, prefix);
    conn.send(2 * i + 1, prefix);
    const failed = (e: unknown) => {
      const msg = `error forwarding port ${port} to pod ${podId}: ${errorMessage(e)}`;
      log('info', msg);
      conn.send(2 * i + 1, Buffer.from(msg));
    };
    let target: Duplex;
    try {
      target = engine.pods.portForward(podId, port);
    } catch (e) {
      failed(e);
      ended();
      return undefined;
    }
    target.on('error', failed);
    void conn.relay(target, 2 * i).then(ended);
    return target;
  });
  conn.onMessage((channel, data) => {
    if (channel % 2 === 0) targets[channel / 2]?.write(data);
  });
  conn.onClose(() => targets.forEach((t) => t?.destroy()));
}
