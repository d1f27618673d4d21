// The builder's RUN steps as the engine's own containers (build/step-runner.ts): created from
// the step's image with the default security profile, on the build's network, with the init
// files; their output read from the attach socket, their layer committed by the builder while
// the container exists, and the container removed (snapshot, mounts, cgroups, anonymous
// volumes) whatever happened. Also the engine's face of the builder for the API server.

import type { Socket } from 'node:net';
import { errorMessage } from '../errors.js';
import type { StepOutcome, StepRun, StepRunner } from '../build/step-runner.js';
import type { ContainerFiles } from './container-files.js';
import type { Containers } from './containers/index.js';
import type { ApiMount } from './types.js';

export class ContainerStepRunner implements StepRunner {
  constructor(
    private readonly containers: Containers,
    private readonly files: ContainerFiles,
    private readonly log?: (level: 'warn', msg: string) => void,
  ) {}

  async run<T>(step: StepRun, commit: (key: string, engineMade: (path: string) => boolean) => Promise<T>): Promise<StepOutcome<T>> {
    const mounts: ApiMount[] = step.mounts.map((m) =>
      m.type === 'bind'
        ? { Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readonly }
        : { Type: 'tmpfs', Target: m.target, ...(m.size ? { TmpfsOptions: { SizeBytes: m.size } } : {}) },
    );
    const rec = await this.containers.create(
      {
        Image: step.image,
        Cmd: step.args,
        Entrypoint: [],
        Env: step.env,
        User: step.user,
        WorkingDir: step.workdir,
        AttachStdout: true,
        AttachStderr: true,
      },
      {
        NetworkMode: step.network === 'default' ? 'bridge' : step.network,
        Mounts: mounts,
        ExtraHosts: step.extraHosts.length ? step.extraHosts : null,
        // The build's limits, checked and applied as any container's (dockerd's builder does the same).
        ...step.resources,
        // The output goes to the build's stream only.
        LogConfig: { Type: 'none', Config: {} },
      },
    );
    let socket: Socket | undefined;
    try {
      const attaching = this.containers.attach(rec.Id);
      await this.containers.start(rec.Id);
      const stream = await attaching;
      socket = stream?.socket;
      let last = Date.now();
      const drained = socket
        ? demux(socket, (d) => {
            last = Date.now();
            step.onOutput(d);
          })
        : Promise.resolve();
      const kill = () => {
        this.containers.kill(rec.Id).catch((e) => this.log?.('warn', `killing build step ${rec.Id.slice(0, 12)}: ${errorMessage(e)}`));
      };
      step.signal?.addEventListener('abort', kill);
      if (step.signal?.aborted) kill();
      const exitCode = await this.containers.wait(rec.Id).finally(() => step.signal?.removeEventListener('abort', kill));
      if (step.signal?.aborted) throw step.signal.reason;
      // The monitor relays what the process wrote before its exit is recorded, but does not
      // always close the connection then (not yet understood): once it has been quiet for
      // 150 ms (2 s at most) the connection is closed here, so that no step waits on it.
      const exited = Date.now();
      let ended = false;
      void drained.then(
        () => (ended = true),
        () => (ended = true),
      );
      while (!ended && Date.now() - exited < 2000 && Date.now() - Math.max(last, exited) < 150) {
        await Promise.race([drained, new Promise((r) => setTimeout(r, 50))]);
      }
      if (exitCode !== 0) return { exitCode };
      const engineMade = await this.files.engineMade(rec.Id);
      return { exitCode: 0, result: await commit(rec.Id, (p) => engineMade.has(p)) };
    } finally {
      socket?.destroy();
      await this.containers.remove(rec.Id, { force: true, volumes: true }).catch((e) => {
        this.log?.('warn', `removing build step container ${rec.Id.slice(0, 12)}: ${errorMessage(e)}`);
        throw e;
      });
    }
  }
}

/** Reads Docker's multiplexed frames (8-byte header: stream, 0, 0, 0, size) and hands on their payload. */
function demux(socket: Socket, onData: (b: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 8) {
        const size = buf.readUInt32BE(4);
        if (buf.length < 8 + size) break;
        onData(buf.subarray(8, 8 + size));
        buf = buf.subarray(8 + size);
      }
    });
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
    socket.once('error', reject);
  });
}
