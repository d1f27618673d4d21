// berthd's CRI server: runtime.v1's RuntimeService and ImageService over gRPC on a unix socket
// (default <exec-root>/cri.sock, mode 0600: kubelet runs as root). berthd imports this module only
// when it serves the CRI, so neither its start-up nor the berth CLI load gRPC otherwise. RPCs
// not listed answer UNIMPLEMENTED with their name (grpc-js does so for every method not given).

import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Engine } from '../engine/index.js';
import { errorMessage, systemError } from '../errors.js';
import { grpcError } from './errors.js';
import { containerService } from './containers.js';
import { eventsService } from './events.js';
import { imageService } from './images.js';
import { sandboxService } from './sandboxes.js';
import { statsService } from './stats.js';
import { streamService } from './stream-rpcs.js';
import { StreamingServer } from './streaming.js';
import { loadCriServices } from './proto.js';
import { runtimeInfo } from './runtime-info.js';

export interface CriServerOptions {
  /** The socket's path. */
  socket: string;
  /** CNI network configs (kubelet's node: /etc/cni/net.d). */
  cniConfDir: string;
  /** host:port of the streaming server Exec, Attach and PortForward answer with (port 0: any). */
  streamAddress?: string;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
}

type Handler = (req: any) => Promise<object>;

/** grpc-js handlers of async functions: a throw becomes the gRPC status of its kind (errors.ts). */
function unary(name: string, handlers: Record<string, Handler>, log: CriServerOptions['log']): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const [rpc, fn] of Object.entries(handlers)) {
    out[rpc] = (call: ServerUnaryCall<unknown, object>, cb: sendUnaryData<object>) => {
      log('debug', `cri: ${name}/${rpc}`);
      fn(call.request).then(
        (res) => cb(null, res),
        (e: unknown) => {
          const err = grpcError(e);
          log(err.code === 13 || err.code === 2 ? 'error' : 'debug', `cri: ${rpc}: ${errorMessage(e)}`);
          cb(err);
        },
      );
    };
  }
  return out;
}

/** Removes a socket left by a berthd that died (it would refuse the bind); one that answers is a live daemon's. */
async function claimSocket(path: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw systemError(`${path}: another daemon is serving the CRI on this socket`);
  await rm(path, { force: true });
}

/** Serves the CRI for `engine` until `close`. */
export async function serveCri(engine: Engine, opts: CriServerOptions): Promise<{ close(): Promise<void> }> {
  const services = loadCriServices();
  const server = new Server();
  // On loopback, as containerd's default: kubelet, on the same node, proxies the client to it.
  const streaming = new StreamingServer(engine, { address: opts.streamAddress ?? '127.0.0.1:0' });
  await streaming.start();
  const sandboxes = sandboxService(engine, { cniConfDir: opts.cniConfDir });
  const containers = containerService(engine);
  const runtime = {
    ...runtimeInfo(engine, opts),
    ...sandboxes,
    ...containers,
    ...statsService(engine),
    ...streamService(engine, streaming),
  };
  const events = eventsService(
    engine,
    {
      sandbox: (id) => sandboxes.PodSandboxStatus({ pod_sandbox_id: id }),
      container: (id) => containers.ContainerStatus({ container_id: id }),
    },
    (msg) => opts.log('warn', msg),
  );
  server.addService(services.RuntimeService, { ...unary('RuntimeService', runtime, opts.log), ...events });
  server.addService(services.ImageService, unary('ImageService', imageService(engine), opts.log));
  await mkdir(dirname(opts.socket), { recursive: true, mode: 0o700 });
  await claimSocket(opts.socket);
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(`unix://${opts.socket}`, ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))),
  );
  await chmod(opts.socket, 0o600);
  return {
    async close() {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await streaming.close();
      await rm(opts.socket, { force: true });
    },
  };
}
