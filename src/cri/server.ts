// berthd's CRI server: runtime.v1's RuntimeService and ImageService over gRPC, on the connections
// socket.ts accepts on <exec-root>/cri.sock. socket.ts imports this module when the first client
// connects, so neither berthd's start-up nor the berth CLI load gRPC otherwise. RPCs not listed
// answer UNIMPLEMENTED with their name (grpc-js does so for every method not given).

import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/index.js';
import { errorMessage } from '../errors.js';
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

export interface CriServer {
  /** Serves gRPC on a connection the socket accepted. */
  inject(conn: Duplex): void;
  close(): Promise<void>;
}

/** Serves the CRI for `engine` on the connections given to `inject`, until `close`. */
export async function serveCri(engine: Engine, opts: CriServerOptions): Promise<CriServer> {
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
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  return {
    inject: (conn) => injector.injectConnection(conn),
    async close() {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await streaming.close();
    },
  };
}
