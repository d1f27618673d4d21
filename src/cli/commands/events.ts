// `berth events [--since T] [--until T] [-f KEY=VALUE]... [--format F]`: GET /events, one
// line per event as docker prints them (time, type, action, actor, its attributes), until
// --until or an interrupt. Times: Unix seconds, a date, or a duration before now (`10m`).

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { compile } from '../template.js';
import { apiTimestamp } from '../units.js';
import { filters } from '../filters.js';

interface EventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  time: number;
  /** Kept as the digits sent: nanoseconds since 1970 are past a double's exact integers. */
  timeNano: string | number;
}

/** docker's line: `2006-01-02T15:04:05.000000000Z type action id (k=v, …)`. */
export function eventLine(e: EventMessage): string {
  const nano = e.timeNano !== undefined ? BigInt(e.timeNano) : BigInt(e.time) * 1_000_000_000n;
  const iso = new Date(Number(nano / 1_000_000n)).toISOString().slice(0, 19);
  const attrs = Object.keys(e.Actor?.Attributes ?? {})
    .sort()
    .map((k) => `${k}=${e.Actor.Attributes![k]}`);
  return `${iso}.${String(nano % 1_000_000_000n).padStart(9, '0')}Z ${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}${attrs.length ? ` (${attrs.join(', ')})` : ''}\n`;
}

/** The event as a template sees it: with Go's field names too (.TimeNano, .ID…). */
function goNames(m: EventMessage): Record<string, unknown> {
  const e = m as EventMessage & Record<string, unknown>;
  return { ...e, Status: e.status, ID: e.id, From: e.from, Scope: e.scope, Time: e.time, TimeNano: e.timeNano };
}

const EVENTS: CommandSpec = {
  path: 'events',
  use: '[OPTIONS]',
  about: 'Get real time events from the server',
  aliases: ['berth system events', 'berth events'],
  args: { max: 0 },
  flags: {
    filter: { short: 'f', type: 'list', arg: 'filter', desc: 'Filter the output (e.g. "type=container")' },
    format: { type: 'string', desc: "Format the output: 'json' or a Go template" },
    since: { type: 'string', desc: 'Show the events since this time (Unix seconds, a date, or a duration before now)' },
    until: { type: 'string', desc: 'Stream the events until this time' },
  },
};

export async function events(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(EVENTS, argv);
  const now = Date.now();
  // JSON as the daemon sent it (its timeNano is past a double's exact integers).
  const asJSON = flags.format === 'json' || flags.format === '{{json .}}';
  const template = flags.format && !asJSON ? compile(flags.format as string) : undefined;
  const res = await client.stream('GET', '/events', {
    query: {
      since: flags.since ? apiTimestamp(flags.since as string, now) : undefined,
      until: flags.until ? apiTimestamp(flags.until as string, now) : undefined,
      filters: filters(flags.filter as string[] | undefined),
    },
  });
  let rest = '';
  for await (const chunk of res) {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) {
      if (!l.trim()) continue;
      if (asJSON) {
        process.stdout.write(`${l}\n`);
        continue;
      }
      const e = JSON.parse(l) as EventMessage;
      const nano = /"timeNano":(\d+)/.exec(l)?.[1];
      if (nano) e.timeNano = nano;
      process.stdout.write(template ? `${template.render(goNames(e))}\n` : eventLine(e));
    }
  }
  return 0;
}
