// `berth stats [-a] [--no-stream] [--no-trunc] [--format F] [CONTAINER...]`: GET
// /containers/{id}/stats for each container (all running ones when none is named), the figures
// worked out as the docker CLI does (CPU % from the delta against precpu_stats; memory less the
// inactive file cache; network bytes summed over the interfaces), as a table refreshed each second or once.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { formatRows } from '../template.js';

interface Stats {
  name: string;
  id: string;
  read: string;
  cpu_stats: Cpu;
  precpu_stats: Cpu;
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats: { io_service_bytes_recursive: { op: string; value: number }[] | null };
  pids_stats: { current?: number };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}
interface Cpu {
  cpu_usage: { total_usage: number; percpu_usage?: number[] };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** One row's fields, named as docker's --format names them. */
interface Row {
  Container: string;
  Name: string;
  ID: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

const HEADERS: Record<keyof Row, string> = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};
const DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

/** Go's %.Ng with unit prefixes (go-units' BytesSize: 1024-based, HumanSizeWithPrecision: 1000-based). */
function units(n: number, base: 1000 | 1024, digits: number): string {
  const names = base === 1024 ? ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] : ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= base && i < names.length - 1) {
    n /= base;
    i++;
  }
  return `${Number(n.toPrecision(digits))}${names[i]}`;
}

export function row(s: Stats, container: string, noTrunc: boolean): Row {
  const running = !s.read.startsWith('0001');
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 0;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
  const m = s.memory_stats;
  // Page cache that could be dropped does not count (cgroup v1: total_inactive_file, v2: inactive_file).
  const inactive = m.stats?.total_inactive_file ?? m.stats?.inactive_file ?? 0;
  const used = Math.max(0, (m.usage ?? 0) - (inactive < (m.usage ?? 0) ? inactive : 0));
  const limit = m.limit ?? 0;
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats.io_service_bytes_recursive ?? []) {
    if (/^r/i.test(e.op)) read += e.value;
    else if (/^w/i.test(e.op)) write += e.value;
  }
  const nets = Object.values(s.networks ?? {});
  const rx = nets.reduce((a, n) => a + n.rx_bytes, 0),
    tx = nets.reduce((a, n) => a + n.tx_bytes, 0);
  const id = noTrunc ? s.id : s.id.slice(0, 12);
  return {
    Container: container,
    Name: s.name.replace(/^\//, '') || '--',
    ID: id,
    CPUPerc: running ? `${cpu.toFixed(2)}%` : '0.00%',
    MemUsage: `${units(used, 1024, 4)} / ${units(limit, 1024, 4)}`,
    MemPerc: `${(limit ? (used / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${units(rx, 1000, 3)} / ${units(tx, 1000, 3)}`,
    BlockIO: `${units(read, 1000, 3)} / ${units(write, 1000, 3)}`,
    PIDs: String(s.pids_stats.current ?? 0),
  };
}

/** The rows through --format (the shared Go-template subset); `{{json .}}` as docker marshals a row. */
export function render(format: string, rows: Row[]): string {
  const sorted = (r: Row) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));
  return formatRows(
    format,
    rows.map((r) => ({ ...r, toJSON: () => sorted(r) })),
    { defaultTable: DEFAULT_FORMAT.slice(6), headers: HEADERS },
  );
}

const STATS: CommandSpec = {
  path: 'stats',
  use: '[OPTIONS] [CONTAINER...]',
  about: 'Display a live stream of container(s) resource usage statistics',
  aliases: ['berth container stats', 'berth stats'],
  flags: {
    all: { short: 'a', type: 'bool', desc: 'Show all containers (only running ones without it)' },
    format: { type: 'string', desc: "Format the output: 'table', 'table TEMPLATE', 'json' or a Go template" },
    'no-stream': { type: 'bool', desc: 'Print the first figures and stop' },
    'no-trunc': { type: 'bool', desc: 'Do not truncate the output' },
  },
};

export async function stats(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(STATS, argv);
  const format = (flags.format as string | undefined) || DEFAULT_FORMAT;
  const noTrunc = !!flags['no-trunc'];
  let names = args;
  if (!names.length) {
    const list = await client.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: flags.all ? true : undefined } });
    names = list.map((c) => c.Id.slice(0, 12));
  }
  if (flags['no-stream']) {
    const all = await Promise.all(
      names.map((n) => client.json<Stats>('GET', `/containers/${encodeURIComponent(n)}/stats`, { query: { stream: false } })),
    );
    process.stdout.write(
      render(
        format,
        all.map((s, i) => row(s, names[i], noTrunc)),
      ),
    );
    return 0;
  }
  const latest = new Map<string, Row>();
  await Promise.all(
    names.map(async (n) => {
      const res = await client.stream('GET', `/containers/${encodeURIComponent(n)}/stats`, { query: { stream: true } });
      let buf = '';
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim()) latest.set(n, row(JSON.parse(line) as Stats, n, noTrunc));
        }
      });
      res.on('end', () => latest.delete(n));
    }),
  );
  for (;;) {
    const rows = names.filter((n) => latest.has(n)).map((n) => latest.get(n)!);
    process.stdout.write(`\x1b[2J\x1b[H${render(format, rows)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
