// `berth events [--since T] [--until T] [-f k=v]... [--format '{{json .}}']`: GET /events,
// one line per event as the docker CLI prints it (`<time> <type> <action> <id> (k=v, …)`).

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { apiTimestamp } from '../units.js';

interface Message { Type: string; Action: string; Actor: { ID: string; Attributes?: Record<string, string> }; time: number; timeNano: number }

/** The docker CLI's default line; the nanoseconds come from the raw JSON (a double cannot hold them). */
function line(m: Message, nanoText: string): string {
  const secs = BigInt(nanoText) / 1_000_000_000n, frac = (BigInt(nanoText) % 1_000_000_000n).toString().padStart(9, '0');
  const time = `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}.${frac}Z`;
  const attrs = Object.entries(m.Actor.Attributes ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
  return `${time} ${m.Type} ${m.Action} ${m.Actor.ID}${attrs.length ? ` (${attrs.join(', ')})` : ''}\n`;
}

export async function events(client: ApiClient, argv: string[]): Promise<number> {
  const { flags: f, args } = parseArgs(argv, { since: { type: 'string' }, until: { type: 'string' }, filter: { short: 'f', type: 'list' }, format: { type: 'string' } });
  if (args.length) throw new BerthError('invalid', '"berth events" accepts no arguments');
  const format = f.format as string | undefined;
  if (format !== undefined && !['{{json .}}', 'json'].includes(format)) throw new BerthError('invalid', `unsupported format "${format}": berth events takes --format '{{json .}}'`);
  const filters: Record<string, string[]> = {};
  for (const kv of (f.filter as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new BerthError('invalid', `bad format of filter (expected name=value): ${kv}`);
    (filters[kv.slice(0, i)] ??= []).push(kv.slice(i + 1));
  }
  const res = await client.stream('GET', '/events', {
    query: {
      since: f.since === undefined ? undefined : apiTimestamp(f.since as string),
      until: f.until === undefined ? undefined : apiTimestamp(f.until as string),
      filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined,
    },
  });
  let buf = '';
  for await (const chunk of res) {
    buf += (chunk as Buffer).toString('utf8');
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
      const text = buf.slice(0, i);
      if (!text.trim()) continue;
      process.stdout.write(format ? `${text}\n` : line(JSON.parse(text) as Message, /"timeNano":(\d+)/.exec(text)?.[1] ?? '0'));
    }
  }
  return 0;
}
