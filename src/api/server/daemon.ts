// berthd: parses dockerd's flags that apply, opens the engine and serves the API until SIGTERM
// or SIGINT. Containers keep running under their monitors when it stops.

import { mkdirSync } from 'node:fs';
import { errorMessage } from '../../errors.js';
import { Engine } from '../../engine/index.js';
import { createApiServer, listen } from './server.js';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

interface Flags {
  dataRoot: string;
  execRoot: string;
  hosts: string[];
  insecure: string[];
  mirrors: string[];
  logLevel: string;
  help?: boolean;
}

const USAGE = `Usage: berthd [OPTIONS]

A container engine serving the Docker Engine API.

Options:
      --data-root string           Root of persistent state (default "/var/lib/berth")
      --exec-root string           Root of runtime state (default "/run/berth")
  -H, --host list                  Socket(s) to listen on (default ${DEFAULT_HOST})
      --insecure-registry list     Registries reached over plain HTTP
      --registry-mirror list       Mirrors of docker.io
  -l, --log-level string           debug, info, warn, error (default "info")
`;

function parseFlags(argv: string[]): Flags {
  const f: Flags = { dataRoot: '/var/lib/berth', execRoot: '/run/berth', hosts: [], insecure: [], mirrors: [], logLevel: 'info' };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i], v: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
    const value = () => {
      if (v !== undefined) return v;
      if (i + 1 >= argv.length) throw new Error(`flag needs an argument: ${a}`);
      return argv[++i];
    };
    switch (a) {
      case '--data-root': f.dataRoot = value(); break;
      case '--exec-root': f.execRoot = value(); break;
      case '-H': case '--host': f.hosts.push(value()); break;
      case '--insecure-registry': f.insecure.push(value()); break;
      case '--registry-mirror': f.mirrors.push(value()); break;
      case '-l': case '--log-level': f.logLevel = value(); break;
      case '-h': case '--help': f.help = true; break;
      default: throw new Error(`unknown flag: ${a}`);
    }
  }
  if (!f.hosts.length) f.hosts.push(DEFAULT_HOST);
  return f;
}

const LEVELS = ['debug', 'info', 'warn', 'error'];

export async function main(argv: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(argv);
  } catch (e) {
    process.stderr.write(`berthd: ${errorMessage(e)}\n${USAGE}`);
    return 125;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!LEVELS.includes(flags.logLevel)) {
    process.stderr.write(`berthd: unknown log level "${flags.logLevel}": give one of ${LEVELS.join(', ')}\n`);
    return 125;
  }
  const min = Math.max(0, LEVELS.indexOf(flags.logLevel));
  const log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => {
    if (LEVELS.indexOf(level) >= min) process.stderr.write(`${new Date().toISOString()} ${level} ${msg}\n`);
  };
  mkdirSync(flags.dataRoot, { recursive: true, mode: 0o710 });
  mkdirSync(flags.execRoot, { recursive: true, mode: 0o700 });
  const engine = new Engine({
    dataRoot: flags.dataRoot, execRoot: flags.execRoot, insecureRegistries: flags.insecure, registryMirrors: flags.mirrors, log,
  });
  // Containers that ran on are watched again; restart policies apply to those that ended.
  engine.containers.adopt();
  // One server per address: a node server listens on one.
  const servers = flags.hosts.map(() => createApiServer(engine, { log }));
  const closers: (() => void)[] = [];
  try {
    for (const [i, h] of flags.hosts.entries()) closers.push(await listen(servers[i], h));
  } catch (e) {
    log('error', errorMessage(e));
    for (const c of closers) c();
    return 1;
  }
  log('info', `berthd listening on ${flags.hosts.join(', ')}`);
  await new Promise<void>((resolve) => {
    for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => resolve());
  });
  log('info', 'shutting down; containers keep running');
  engine.close();
  for (const c of closers) c();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  return 0;
}
