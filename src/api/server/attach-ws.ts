// `GET /containers/{id}/attach/ws`: a container's streams over a WebSocket, as dockerd's
// wsContainersAttach: output unframed (stdout and stderr in the same messages, no multiplexing
// header, with or without a terminal), binary messages from API 1.28 and text before it, each
// message the client sends written to the container's stdin, the detach keys honoured with a
// terminal. `stdin`, `stdout` and `stderr` select streams from API 1.42; before it all three are
// on, as dockerd.

import type { Engine } from '../../engine/index.js';
import { invalid } from '../../errors.js';
import { acceptWebSocket, handshakeError, type Message } from '../../common/websocket.js';
import { DEFAULT_DETACH_KEYS, DetachMatcher, inputForwarder, parseDetachKeys } from '../detach-keys.js';
import { FrameReader } from '../stdcopy.js';
import { apiOlder, boolParam } from './http.js';
import type { Router } from './router.js';

export function attachWebSocketRoute(router: Router, engine: Engine): void {
  const cs = engine.containers;
  router.on('GET', '/containers/:id/attach/ws', async (ctx) => {
    const bad = ctx.socket ? handshakeError(ctx.req) : 'the request must ask to upgrade to a WebSocket';
    if (bad || !ctx.socket) throw invalid(`attach/ws: ${bad}`);
    const q = ctx.query;
    // Checked before the upgrade, so that a missing container is dockerd's plain 404.
    const c = cs.get(ctx.params.id);
    const tty = !!c.Config.Tty;
    const all = apiOlder(ctx.version, '1.42');
    const want = {
      stdin: all || boolParam(q, 'stdin'),
      stdout: all || boolParam(q, 'stdout'),
      stderr: all || boolParam(q, 'stderr'),
    };
    const detach = tty ? new DetachMatcher(parseDetachKeys(q.get('detachKeys') || DEFAULT_DETACH_KEYS)) : undefined;
    const ws = acceptWebSocket(ctx.req, ctx.socket, ctx.head);
    const text = apiOlder(ctx.version, '1.28');
    let open = true;
    ws.on('close', () => (open = false));
    const selected = (stream: number) => tty || (stream === 1 ? want.stdout : want.stderr);
    if (boolParam(q, 'logs')) {
      for await (const e of cs.logs(c.Id)) {
        if (!open) break;
        if (selected(e.stream === 'stdout' ? 1 : 2)) ws.send(Buffer.from(e.log), text);
      }
    }
    const stream = boolParam(q, 'stream') && open ? await cs.attach(c.Id) : undefined;
    if (!stream) {
      ws.close(1000);
      return;
    }
    const reader = new FrameReader((id, data) => {
      if (selected(id)) ws.send(data, text);
    });
    stream.socket.on('data', (d: Buffer) => reader.push(d));
    // The container's end (or the monitor's) ends the WebSocket with a normal closure.
    const end = () => ws.close(1000);
    stream.socket.on('close', end);
    stream.socket.on('error', end);
    ws.on('close', () => stream.socket.destroy());
    if (!want.stdin) return;
    const forward = inputForwarder(ws.socket, stream.socket, detach, () => {
      stream.socket.removeListener('close', end);
      stream.socket.destroy();
      ws.close(1000);
    });
    ws.on('message', (m: Message) => forward(m.data));
  });
}
