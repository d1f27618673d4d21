// Attach, logs and resize: connections to a container's monitor (its attach socket sends the
// output in Docker's frames and takes input; its control socket takes window sizes) and the
// reading of its log file (logs.ts). Nothing here changes a container's state.

import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { conflict, notImplemented } from '../../errors.js';
import { NO_READING, readsLogs } from '../log-config.js';
import { resizeMonitor } from '../../runtime/native/winsize.js';
import { readLog, type LogEntry, type LogOptions } from './logs.js';
import type { ContainerTable, Live } from './table.js';

export interface AttachStream {
  socket: Socket;
  tty: boolean;
}

/**
 * A connection to the container's monitor. A created container's clients connect when it
 * starts (lifecycle's start calls `live.attachers`); a stopped one has none.
 */
export async function attach(t: ContainerTable, live: Live): Promise<AttachStream | undefined> {
  const tty = !!live.rec.Config.Tty;
  const status = live.rec.State.Status;
  t.emitFor(live.rec, 'attach');
  if (status === 'created' || status === 'exited') {
    // Docker attaches to a stopped container too and waits for its next start.
    return new Promise<AttachStream>((resolve, reject) => {
      live.attachers.push(async (path) => {
        try {
          resolve({ socket: tracked(live, await connectUnix(path)), tty });
        } catch (e) {
          reject(e);
          throw e;
        }
      });
    });
  }
  if (status !== 'running' && status !== 'paused') return undefined;
  try {
    return { socket: tracked(live, await connectUnix(t.attachPath(live.rec.Id))), tty };
  } catch {
    return undefined; // the monitor has just gone
  }
}

/** Docker's resize: the terminal's window size; 409 unless running, nothing to do without a terminal. */
export async function resize(t: ContainerTable, live: Live, rows: number, cols: number): Promise<void> {
  const rec = live.rec;
  if (!t.isRunning(live)) throw conflict(`Container ${rec.Id} is not running`);
  if (rec.Config.Tty) await resizeMonitor(t.controlPath(rec.Id), rows, cols);
  // dockerd's resize event, for a container without a terminal too (containerd takes its resize as a no-op).
  t.emitFor(rec, 'resize', { height: String(rows), width: String(cols) });
}

export function logs(t: ContainerTable, live: Live, opts: LogOptions = {}): AsyncGenerator<LogEntry> {
  const id = live.rec.Id;
  const hc = live.rec.HostConfig;
  if (!readsLogs(hc)) throw notImplemented(NO_READING);
  // A CRI container's log is where kubelet asked, in its format (engine/log-config.ts).
  const cri = hc.LogConfig?.Type === 'cri';
  return readLog(cri ? hc.LogConfig!.Config!.path : t.store.logPath(id), {
    ...opts,
    format: cri ? 'cri' : 'json-file',
    live: () => t.byId.has(id) && (t.isRunning(live) || existsSync(t.attachPath(id))),
  });
}

/**
 * The connection counts among the container's open streams until it closes, so its exit is
 * reported only after the output it carried was relayed (`streamsClosed`).
 */
function tracked(live: Live, s: Socket): Socket {
  const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
  live.streams.add(closed);
  void closed.then(() => live.streams.delete(closed));
  return s;
}

/**
 * As dockerd waits for a container's streams before it reports the exit (up to 2 s): the
 * monitor closes its attach connections once the container's pipes are drained, so a client
 * that waits for the exit and reads the attach stream (dockerode's run) has all the output.
 */
export async function streamsClosed(live: Live, ms = 2000): Promise<void> {
  if (!live.streams.size) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(live.streams), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}
