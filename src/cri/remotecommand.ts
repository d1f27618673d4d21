// Exec and attach over a streaming connection, as kubelet's remotecommand serves them: an empty
// message on the lowest output channel says the stream is up; stdin, stdout and stderr on their
// channels; window sizes on the resize channel; the end told on the error channel (a v4 Status
// with the exit code, or the error's text) before the connection closes. Both go through the
// engine's public module: exec through engine.execs, attach through the container's monitor.

import { PassThrough, type Readable } from 'node:stream';
import type { Engine } from '../engine/index.js';
import { errorMessage as messageOf } from '../errors.js';
import type { Channels } from './channel-conn.js';
import { CLOSE, ERROR, RESIZE, STDERR, STDIN, STDOUT, errorMessage, exitMessage, parseResize } from './channels.js';
import type { StreamLog, StreamRequest } from './stream-request.js';

/** Tells the client the streams are up: an empty message on the lowest channel it reads. */
function announce(conn: Channels, req: StreamRequest): void {
  conn.send(req.stdout ? STDOUT : req.stderr ? STDERR : ERROR, Buffer.alloc(0));
}

function fail(conn: Channels, message: string): void {
  conn.send(ERROR, errorMessage(conn.proto, message));
  conn.close();
}

export async function serveExec(engine: Engine, conn: Channels, req: StreamRequest, log: StreamLog): Promise<void> {
  const cmd = req.cmd!;
  // The streams are up before the command starts, as kubelet's: its failure comes on the error channel.
  announce(conn, req);
  let id: string;
  let streams;
  try {
    id = engine.execs.create(req.containerId!, {
      Cmd: cmd,
      Tty: !!req.tty,
      AttachStdin: !!req.stdin,
      AttachStdout: !!req.stdout,
      AttachStderr: !!req.stderr,
    }).ID;
    streams = await engine.execs.start(id);
  } catch (e) {
    return fail(conn, `error executing command in container: ${messageOf(e)}`);
  }
  const { stdin, stdout, stderr } = streams;
  conn.onMessage((channel, data) => {
    if (channel === STDIN) stdin?.write(data);
    else if (channel === CLOSE && conn.proto.closeSignal && data[0] === STDIN) stdin?.end();
    else if (channel === RESIZE) {
      try {
        const { rows, cols } = parseResize(data);
        engine.execs.resize(id, rows, cols);
      } catch (e) {
        log('warn', `exec ${id.slice(0, 12)} in ${req.containerId}: ${messageOf(e)}`);
      }
    }
  });
  // The client has gone: the process reads EOF and its writes fail, as kubelet's streams do.
  conn.onClose(() => [stdin, stdout, stderr].forEach((s) => s?.destroy()));
  const relayed = Promise.all([stdout && conn.relay(stdout, STDOUT), stderr && conn.relay(stderr, STDERR)]);
  let code: number;
  try {
    code = await streams.exit;
  } catch (e) {
    return fail(conn, `error executing command in container: ${messageOf(e)}`);
  }
  await relayed;
  const msg = exitMessage(conn.proto, cmd, code);
  if (msg) conn.send(ERROR, msg);
  conn.close();
}

export async function serveAttach(engine: Engine, conn: Channels, req: StreamRequest, log: StreamLog): Promise<void> {
  const id = req.containerId!;
  announce(conn, req);
  let stream;
  try {
    stream = await engine.containers.attach(id);
  } catch (e) {
    return fail(conn, messageOf(e));
  }
  if (!stream) return fail(conn, `container ${id} is not running`);
  const { socket, tty } = stream;
  conn.onMessage((channel, data) => {
    if (channel === STDIN && req.stdin) socket.write(data);
    else if (channel === CLOSE && conn.proto.closeSignal && data[0] === STDIN) socket.end();
    else if (channel === RESIZE) {
      try {
        const { rows, cols } = parseResize(data);
        engine.containers.resize(id, rows, cols).catch((e: unknown) => log('warn', `attach to ${id}: resize: ${messageOf(e)}`));
      } catch (e) {
        log('warn', `attach to ${id}: ${messageOf(e)}`);
      }
    }
  });
  conn.onClose(() => socket.destroy());
  socket.on('error', (e) => log('debug', `attach to ${id}: ${e.message}`));
  const relays: Promise<void>[] = [];
  if (tty) relays.push(req.stdout ? conn.relay(socket, STDOUT) : drain(socket));
  else {
    // Without a terminal the monitor sends Docker's frames: stdout and stderr apart.
    const d = demux(socket);
    relays.push(req.stdout ? conn.relay(d.stdout, STDOUT) : drain(d.stdout));
    relays.push(req.stderr ? conn.relay(d.stderr, STDERR) : drain(d.stderr));
  }
  await Promise.all(relays);
  const msg = exitMessage(conn.proto, [], 0);
  if (msg) conn.send(ERROR, msg);
  conn.close();
}

function drain(r: Readable): Promise<void> {
  r.resume();
  return new Promise((resolve) => r.once('close', resolve));
}

/**
 * Docker's multiplexed frames (8 bytes: stream, three zeros, big-endian length; then the data)
 * as two streams. The socket's pauses follow the slower of the two.
 */
export function demux(socket: Readable): { stdout: PassThrough; stderr: PassThrough } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let buf: Buffer = Buffer.alloc(0);
  const resume = () => socket.resume();
  stdout.on('drain', resume);
  stderr.on('drain', resume);
  socket.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 8) {
      const len = buf.readUInt32BE(4);
      if (buf.length < 8 + len) break;
      const to = buf[0] === 2 ? stderr : stdout;
      if (!to.write(buf.subarray(8, 8 + len))) socket.pause();
      buf = buf.subarray(8 + len);
    }
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    stdout.end();
    stderr.end();
  };
  socket.once('end', end);
  socket.once('close', end);
  return { stdout, stderr };
}
