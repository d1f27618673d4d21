// Exec, Attach and PortForward: each answers with a single-use URL of the streaming server
// (streaming.ts), which the client then opens; the IDs are checked to be the CRI's here, so a
// bad one fails the RPC rather than the later upgrade.

import type { Engine } from '../engine/index.js';
import { criContainer } from './containers.js';
import { sandboxId } from './sandboxes.js';
import type { StreamingServer } from './streaming.js';

interface StdioRequest {
  container_id?: string;
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export function streamService(engine: Engine, streaming: StreamingServer) {
  const stdio = (req: StdioRequest) => ({
    containerId: criContainer(engine, req.container_id).Id,
    tty: req.tty,
    stdin: req.stdin,
    stdout: req.stdout,
    stderr: req.stderr,
  });
  return {
    async Exec(req: StdioRequest & { cmd?: string[] }) {
      return { url: streaming.url({ kind: 'exec', cmd: req.cmd, ...stdio(req) }) };
    },
    async Attach(req: StdioRequest) {
      return { url: streaming.url({ kind: 'attach', ...stdio(req) }) };
    },
    async PortForward(req: { pod_sandbox_id?: string; port?: number[] }) {
      return { url: streaming.url({ kind: 'portforward', podSandboxId: sandboxId(engine, req.pod_sandbox_id), ports: req.port }) };
    },
  };
}
