// The containers' output, each line prefixed with its container's name padded to the longest
// (`proj-web-1  | line`), as Compose prints it for `up` (attached) and `logs`; the streams come
// from GET /containers/{id}/logs, demultiplexed unless the container has a terminal.

import type { ApiClient } from '../api/client.js';
import { FrameReader } from '../api/stdcopy.js';

export interface LogTarget {
  id: string;
  name: string;
  tty: boolean;
}

export interface LogOptions {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
  since?: string;
  until?: string;
  noPrefix?: boolean;
  /** Called when a target's stream has ended (following: its container stopped), after its last line. */
  onEnd?: (t: LogTarget) => Promise<void> | void;
}

/** Streams the logs of `targets` to `out` until each ends (or, following, the container stops). */
export async function streamLogs(client: ApiClient, targets: LogTarget[], opts: LogOptions, out: NodeJS.WritableStream): Promise<void> {
  const width = Math.max(0, ...targets.map((t) => t.name.length));
  await Promise.all(
    targets.map(async (t) => {
      const prefix = opts.noPrefix ? '' : `${t.name.padEnd(width)}  | `;
      const res = await client.stream('GET', `/containers/${t.id}/logs`, {
        query: {
          stdout: true,
          stderr: true,
          follow: opts.follow,
          tail: opts.tail,
          timestamps: opts.timestamps,
          since: opts.since,
          until: opts.until,
        },
      });
      let rest = '';
      const text = (data: Buffer) => {
        rest += data.toString();
        const lines = rest.split('\n');
        rest = lines.pop()!;
        if (lines.length) out.write(lines.map((l) => `${prefix}${l}\n`).join(''));
      };
      const frames = new FrameReader((_stream, data) => text(data));
      for await (const chunk of res) {
        if (t.tty) text(chunk as Buffer);
        else frames.push(chunk as Buffer);
      }
      if (rest) out.write(`${prefix}${rest}\n`);
      await opts.onEnd?.(t);
    }),
  );
}
