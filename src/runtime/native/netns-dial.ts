// A TCP connection to 127.0.0.1:PORT inside another network namespace (a pod's, for the CRI's
// port forwarding), as a Duplex. Node.js cannot setns (it is multithreaded), so berth-nsexec's
// netns-dial mode enters the namespace, connects and relays; this wraps that child's pipes. Its
// failure (no such namespace, connection refused) destroys the stream with the helper's line.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { helperPath } from './helper.js';

class NetnsConnection extends Duplex {
  private readonly stderr: Buffer[] = [];

  constructor(private readonly child: ChildProcessByStdio<Writable, Readable, Readable>) {
    super();
    child.stdout.on('data', (d: Buffer) => {
      if (!this.push(d)) child.stdout.pause();
    });
    child.stderr.on('data', (d: Buffer) => this.stderr.push(d));
    // EPIPE once the helper has gone: its exit status says why, below.
    child.stdin.on('error', (e) => this.stderr.push(Buffer.from(`${e.message}\n`)));
    child.on('error', (e) => this.destroy(e));
    // 'close' follows the last of stdout: everything read has been pushed.
    child.on('close', (code, signal) => {
      if (code === 0) this.push(null);
      else this.destroy(new Error(Buffer.concat(this.stderr).toString().trim() || `netns-dial ended by ${signal ?? `status ${code}`}`));
    });
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.child.stdin.writable) this.child.stdin.write(chunk, cb);
    else cb(); // the helper has ended: its close destroys this stream with the reason
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.child.stdin.end(cb);
  }

  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    cb(e);
  }
}

/** Connects to 127.0.0.1:`port` in the network namespace at `netns` (a /proc/PID/ns/net path or a pin). */
export function dialInNetns(netns: string, port: number): Duplex {
  return new NetnsConnection(spawn(helperPath(), ['netns-dial', netns, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] }));
}
