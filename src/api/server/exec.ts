// Exec routes: create, start (hijacked like attach: 8-byte frames without a terminal, raw with
// one; stdin passed on when the instance attaches it), inspect and resize. Shapes and status
// codes as moby's api/swagger.yaml gives them.

import type { Duplex } from 'node:stream';
import { settled } from '../../common/promises.js';
import { errorMessage, invalid, systemError, tooLarge } from '../../errors.js';
import type { Engine, ExecConfig, ExecInstance } from '../../engine/index.js';
import { frame } from '../stdcopy.js';
import { DEFAULT_DETACH_KEYS, DetachMatcher, inputForwarder, parseDetachKeys } from '../detach-keys.js';
import { beginStream, readJSON, resizeDimensions, sendEmpty, sendJSON } from './http.js';
import type { Context, Router } from './router.js';
import { ExecCreate, ExecStart } from './body-types.js';
import { MAX_JSON_BODY, parseBody } from './body-read.js';

const RAW = 'application/vnd.docker.raw-stream';
const MUX = 'application/vnd.docker.multiplexed-stream';

/**
 * The JSON body of a hijacked request: node hands an upgraded request over with its body unread,
 * partly in `head`, the rest on the socket. Returns the body and what followed it (stdin).
 */
async function readUpgradedBody(ctx: Context): Promise<{ body: Record<string, any>; rest: Buffer }> {
  const socket = ctx.socket as Duplex;
  const len = Number(ctx.req.headers['content-length'] ?? 0);
  if (len > MAX_JSON_BODY) throw tooLarge(`request body is larger than berthd's limit of ${MAX_JSON_BODY} bytes for a JSON body`);
  let buf = ctx.head ?? Buffer.alloc(0);
  if (len > 0 && buf.length < len) {
    buf = await new Promise<Buffer>((resolve, reject) => {
      const chunks = [buf];
      let have = buf.length;
      const onData = (d: Buffer) => {
        chunks.push(d);
        have += d.length;
        if (have >= len) {
          done();
          resolve(Buffer.concat(chunks));
        }
      };
      const onEnd = () => {
        done();
        reject(invalid('the request body ended early'));
      };
      const done = () => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.pause();
      };
      socket.on('data', onData);
      socket.on('end', onEnd);
    });
  }
  return { body: parseBody(ExecStart, buf.subarray(0, len)), rest: buf.subarray(len) };
}

function inspect(e: ExecInstance) {
  const [entrypoint, ...args] = e.Config.Cmd ?? [];
  return {
    CanRemove: false,
    ContainerID: e.ContainerID,
    // dockerd keeps the keys as bytes, which its JSON writes in base64.
    DetachKeys: e.Config.DetachKeys ? Buffer.from(parseDetachKeys(e.Config.DetachKeys)).toString('base64') : '',
    ExitCode: e.ExitCode,
    ID: e.ID,
    OpenStderr: !!e.Config.AttachStderr,
    OpenStdin: !!e.Config.AttachStdin,
    OpenStdout: !!e.Config.AttachStdout,
    ProcessConfig: {
      arguments: args,
      entrypoint: entrypoint ?? '',
      privileged: !!e.Config.Privileged,
      tty: !!e.Config.Tty,
      user: e.Config.User ?? '',
    },
    Running: e.Running,
    Pid: e.Pid,
  };
}

export function execRoutes(router: Router, engine: Engine): void {
  const execs = engine.execs;

  router.on('POST', '/containers/:id/exec', async (ctx) => {
    const b = await readJSON(ctx, ExecCreate);
    const config: ExecConfig = {
      AttachStdin: !!b.AttachStdin,
      AttachStdout: !!b.AttachStdout,
      AttachStderr: !!b.AttachStderr,
      Tty: !!b.Tty,
      Env: b.Env ?? null,
      Cmd: b.Cmd ?? null,
      WorkingDir: b.WorkingDir ?? '',
      User: b.User ?? '',
      Privileged: !!b.Privileged,
      DetachKeys: b.DetachKeys ?? '',
      ConsoleSize:
        Array.isArray(b.ConsoleSize) &&
        b.ConsoleSize.length === 2 &&
        b.ConsoleSize.every((x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffff)
          ? [b.ConsoleSize[0], b.ConsoleSize[1]]
          : null,
    };
    if (config.DetachKeys) {
      try {
        parseDetachKeys(config.DetachKeys);
      } catch {
        // dockerd 20.10's words and status (a plain error: 500) for keys it cannot read.
        throw systemError(`Invalid escape keys (${config.DetachKeys}) provided`);
      }
    }
    if (config.WorkingDir && !config.WorkingDir.startsWith('/'))
      throw invalid(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
    sendJSON(ctx, 201, { Id: execs.create(ctx.params.id, config).ID });
  });

  router.on('POST', '/exec/:id/start', async (ctx) => {
    const { body, rest } = ctx.socket ? await readUpgradedBody(ctx) : { body: await readJSON(ctx, ExecStart), rest: Buffer.alloc(0) };
    const inst = execs.get(ctx.params.id);
    const detach = !!body.Detach;
    // As dockerd: the start's own Tty, not the exec's, says whether the stream is raw or framed.
    const tty = !!body.Tty;
    if (detach) {
      const s = await execs.start(inst.ID, { detach: true });
      void settled(s.exit); // a failure is the engine's to log and record (ExitCode, exec_die)
      sendEmpty(ctx, 200);
      return;
    }
    // Errors before the process runs that are the caller's (404, 409) go out as a status.
    if (inst.started) await execs.start(inst.ID); // throws the 409
    const out = beginStream(ctx, tty ? RAW : MUX);
    const client = ctx.socket ?? ctx.res!;
    const write = (stream: 1 | 2, d: Buffer) => {
      if (!client.destroyed) out.write(tty ? d : frame(stream, d));
    };
    let s;
    try {
      s = await execs.start(inst.ID);
    } catch (e) {
      // As dockerd: the start's error goes to the stream; the exit code (126/127) to inspect.
      write(1, Buffer.from(`${errorMessage(e)}\r\n`));
      out.end();
      return;
    }
    const ended = Promise.all(
      [s.stdout, s.stderr].map((r) =>
        r
          ? new Promise<void>((res) => {
              r.on('end', res);
              r.on('close', res);
              r.on('error', () => res());
            })
          : Promise.resolve(),
      ),
    );
    s.stdout?.on('data', (d: Buffer) => write(1, d));
    s.stderr?.on('data', (d: Buffer) => write(2, d));
    // With a terminal the detach keys (the exec's, else ctrl-p,ctrl-q) end this client's attach
    // and leave the process running, as dockerd's copyEscapable does.
    let detached!: () => void;
    let gone = false;
    const detachedP = new Promise<'detached'>((r) => (detached = () => ((gone = true), r('detached'))));
    if (s.stdin) {
      const stdin = s.stdin;
      const input = ctx.socket ?? ctx.req;
      const matcher = inst.Config.Tty ? new DetachMatcher(parseDetachKeys(inst.Config.DetachKeys || DEFAULT_DETACH_KEYS)) : undefined;
      const onInput = inputForwarder(input, stdin, matcher, () => {
        input.off('data', onInput);
        input.off('end', onEnd);
        detached();
      });
      const onEnd = () => stdin.end();
      if (rest.length) onInput(rest);
      input.on('data', onInput);
      input.on('end', onEnd);
      input.resume();
    } else (ctx.socket ?? ctx.req).resume();
    // A client that detached leaves the process its terminal: only a hang-up ends its input.
    client.on('close', () => {
      if (!gone) s.stdin?.destroy();
    });
    // A process that failed after its launch (a working directory it cannot enter) has its error
    // in the stream too, after whatever it wrote, as dockerd's; the engine records and logs it.
    const failed = await Promise.race([
      s.exit.then(
        () => undefined,
        (e: unknown) => e,
      ),
      detachedP,
    ]);
    if (failed === 'detached') {
      out.end();
      return;
    }
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
    if (failed !== undefined) write(1, Buffer.from(`${errorMessage(failed)}\r\n`));
    out.end();
  });

  router.on('GET', '/exec/:id/json', (ctx) => {
    sendJSON(ctx, 200, inspect(execs.get(ctx.params.id)));
  });

  router.on('POST', '/exec/:id/resize', (ctx) => {
    const [h, w] = resizeDimensions(ctx.query);
    execs.resize(ctx.params.id, h, w);
    sendEmpty(ctx, 200);
  });
}
