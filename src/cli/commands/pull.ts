// `berth pull IMAGE`: POST /images/create, printing the progress stream a line per step.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseArgs } from '../args.js';

/** Pulls `image`, writing progress to `out`; throws the stream's error. */
export async function pullImage(client: ApiClient, image: string, out: NodeJS.WritableStream): Promise<void> {
  const at = image.lastIndexOf('@');
  const colon = image.lastIndexOf(':');
  const [fromImage, tag] = at > 0 ? [image.slice(0, at), image.slice(at + 1)]
    : colon > image.lastIndexOf('/') ? [image.slice(0, colon), image.slice(colon + 1)] : [image, 'latest'];
  const res = await client.stream('POST', '/images/create', { query: { fromImage, tag } });
  let rest = '';
  for await (const chunk of res) {
    const lines = (rest + chunk.toString()).split(/\r?\n/);
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      const m = JSON.parse(line);
      if (m.error) throw new BerthError('system', m.error);
      if (m.status === 'Downloading') continue;
      out.write(m.id ? `${m.id}: ${m.status}\n` : `${m.status}\n`);
    }
  }
}

export async function pull(client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseArgs(argv, { quiet: { short: 'q', type: 'bool' } });
  if (args.length !== 1) throw new BerthError('invalid', '"berth pull" requires exactly 1 argument: berth pull IMAGE[:TAG|@DIGEST]');
  await pullImage(client, args[0], process.stdout);
  const ref = args[0].includes(':') || args[0].includes('@') ? args[0] : `${args[0]}:latest`;
  process.stdout.write(`${ref}\n`);
  return 0;
}
