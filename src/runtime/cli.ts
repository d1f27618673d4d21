// berth-runtime's command line: runc's global flags, commands and exit codes, so engines that
// drive runc (podman, dockerd, containerd) drive this too. It parses and calls the library (the
// `Runtime` of runtime.ts for the verbs it has; create's `run`, list, ps, spec, features and CRIU
// beside it) and prints what the library's logger is told, as runc does. Each command's module is
// imported only when that command runs, to keep start-up small.
import { appendFileSync, readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseSize } from '../common/size.js';
import { BERTH_VERSION } from '../common/version.js';
import { BerthError, errorMessage, invalid, unsupported } from '../errors.js';
import { OCI_VERSION, type LinuxResources, type Process } from '../oci/runtime-spec.js';
import type { RuntimeLogger } from './log.js';
import type { Runtime } from './runtime.js';
import { DEFAULT_ROOT } from './state.js';

type Options = NonNullable<ParseArgsConfig['options']>;

interface Global {
  root: string;
  criu?: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
}

const GLOBAL: Options = {
  root: { type: 'string' },
  log: { type: 'string' },
  'log-format': { type: 'string' },
  debug: { type: 'boolean' },
  'systemd-cgroup': { type: 'boolean' },
  criu: { type: 'string' },
  rootless: { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
};

/** Parses options up to the first positional argument; what follows is left as is. */
function parseUntilPositional(args: string[], options: Options, afterFirst = 0) {
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  let seen = 0;
  let cut = args.length;
  for (const t of tokens ?? []) {
    if (t.kind === 'option-terminator') {
      cut = t.index;
      break;
    }
    if (t.kind === 'positional' && seen++ === afterFirst) {
      cut = t.index + 1;
      break;
    }
  }
  const head = args.slice(0, cut);
  const rest = args[cut] === '--' ? args.slice(cut + 1) : args.slice(cut);
  try {
    const r = parseArgs({ args: head, options, strict: true, allowPositionals: true });
    return { values: r.values as Record<string, string | boolean | string[] | undefined>, positionals: r.positionals, rest };
  } catch (e) {
    throw invalid(errorMessage(e).replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** A JSON file given on the command line ('-' is stdin), with errors that name it. */
function readJson<T>(file: string): T {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw invalid(`read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : errorMessage(e)}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw invalid(`parse ${file}: ${errorMessage(e)}`);
  }
}

function needId(positionals: string[], usage: string): string {
  if (positionals.length < 1) throw invalid(`"${usage}" requires a container id`);
  return positionals[0];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw invalid(`invalid value for --${name}: ${String(v)}`);
  return n;
};

function bytes(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (v === '-1') return -1;
  try {
    return parseSize(String(v));
  } catch {
    throw invalid(`invalid value for --${name}: ${String(v)}`);
  }
}

/** The library's logger for this command: warnings and errors on stderr (and in --log), the rest with --debug. */
function logger(g: Global): RuntimeLogger {
  return (level, msg) => {
    if (level === 'warn' || level === 'error') {
      process.stderr.write(level === 'warn' ? `warning: ${msg}\n` : `${msg}\n`);
      logLine(g, level === 'warn' ? 'warning' : 'error', msg);
    } else if (g.debug) {
      process.stderr.write(`${level} ${msg}\n`);
    }
  };
}

async function runtime(g: Global): Promise<Runtime> {
  const { LocalRuntime } = await import('./runtime.js');
  return new LocalRuntime(g.root, logger(g));
}

const COMMANDS: Record<string, (g: Global, args: string[]) => Promise<number>> = {
  async spec(_g, args) {
    const { values } = parseUntilPositional(args, { bundle: { type: 'string', short: 'b' }, rootless: { type: 'boolean' } });
    const { defaultSpec } = await import('./spec-template.js');
    const { existsSync, writeFileSync } = await import('node:fs');
    const path = `${str(values.bundle) ?? '.'}/config.json`;
    if (existsSync(path)) throw invalid('File config.json exists. Remove it first');
    writeFileSync(path, JSON.stringify(defaultSpec({ rootless: values.rootless === true }), null, '\t') + '\n');
    return 0;
  },

  async create(g, args) {
    const { root: _root, detach: _detach, ...o } = createOptions(g, args);
    await (await runtime(g)).create(o);
    return 0;
  },

  async run(g, args) {
    const o = createOptions(g, args, {
      detach: { type: 'boolean', short: 'd' },
      keep: { type: 'boolean' },
      'no-subreaper': { type: 'boolean' },
    });
    const { run } = await import('./create.js');
    return run({ ...o, log: logger(g) });
  },

  async start(g, args) {
    const { positionals } = parseUntilPositional(args, {});
    await (await runtime(g)).start(needId(positionals, 'start'));
    return 0;
  },

  async state(g, args) {
    const { positionals } = parseUntilPositional(args, {});
    const { state } = await import('./list.js');
    process.stdout.write(state(g.root, needId(positionals, 'state')));
    return 0;
  },

  async kill(g, args) {
    const { values, positionals, rest } = parseUntilPositional(args, { all: { type: 'boolean', short: 'a' } });
    await (await runtime(g)).kill(needId(positionals, 'kill'), rest[0] ?? 'SIGTERM', { all: values.all === true });
    return 0;
  },

  async delete(g, args) {
    const { values, positionals } = parseUntilPositional(args, { force: { type: 'boolean', short: 'f' } });
    await (await runtime(g)).delete(needId(positionals, 'delete'), { force: values.force === true });
    return 0;
  },

  async exec(g, args) {
    const { values, positionals, rest } = parseUntilPositional(args, {
      'console-socket': { type: 'string' },
      cwd: { type: 'string' },
      env: { type: 'string', short: 'e', multiple: true },
      tty: { type: 'boolean', short: 't' },
      user: { type: 'string', short: 'u' },
      'additional-gids': { type: 'string', short: 'g', multiple: true },
      process: { type: 'string', short: 'p' },
      detach: { type: 'boolean', short: 'd' },
      'pid-file': { type: 'string' },
      'process-label': { type: 'string' },
      apparmor: { type: 'string' },
      'no-new-privs': { type: 'boolean' },
      cap: { type: 'string', short: 'c', multiple: true },
      'preserve-fds': { type: 'string' },
      cgroup: { type: 'string', multiple: true },
      'ignore-paused': { type: 'boolean' },
    });
    const id = needId(positionals, 'exec');
    const rt = await runtime(g);
    const base = (await rt.state(id)).config.process;
    let proc: Process;
    if (str(values.process)) {
      proc = readJson<Process>(str(values.process)!);
    } else {
      if (!rest.length) throw invalid('exec args cannot be empty');
      proc = { ...(base ?? { cwd: '/', user: { uid: 0, gid: 0 } }), args: rest, terminal: values.tty === true };
      delete proc.consoleSize;
      if (str(values.cwd)) proc.cwd = str(values.cwd)!;
      proc.env = [...(proc.env ?? []), ...((values.env as string[] | undefined) ?? [])];
      if (str(values.user)) {
        const [u, gid] = str(values.user)!.split(':');
        proc.user = { ...proc.user, uid: int(u, 'user')!, gid: gid === undefined ? proc.user.gid : int(gid, 'user')! };
      }
      const gids = values['additional-gids'] as string[] | undefined;
      if (gids?.length) proc.user = { ...proc.user, additionalGids: gids.map((x) => int(x, 'additional-gids')!) };
      if (values['no-new-privs']) proc.noNewPrivileges = true;
      const caps = values.cap as string[] | undefined;
      if (caps?.length && proc.capabilities) {
        const add = (l?: string[]) => [...new Set([...(l ?? []), ...caps])];
        proc.capabilities = {
          ...proc.capabilities,
          bounding: add(proc.capabilities.bounding),
          effective: add(proc.capabilities.effective),
          permitted: add(proc.capabilities.permitted),
        };
      }
      if (str(values['process-label']) || str(values.apparmor)) throw unsupported('apparmor and selinux are not enabled on this system');
    }
    if (values.cgroup) throw unsupported('exec --cgroup is not supported by berth-runtime');
    return rt.exec({
      id,
      process: proc,
      detach: values.detach === true,
      pidFile: str(values['pid-file']),
      consoleSocket: str(values['console-socket']),
      preserveFds: int(values['preserve-fds'], 'preserve-fds'),
    });
  },

  async ps(g, args) {
    const { values, positionals, rest } = parseUntilPositional(args, { format: { type: 'string', short: 'f' } });
    const format = str(values.format) ?? 'table';
    if (format !== 'table' && format !== 'json') throw invalid(`invalid format option: ${format}`);
    const { ps } = await import('./ps.js');
    process.stdout.write(await ps(g.root, needId(positionals, 'ps'), format, rest));
    return 0;
  },

  async pause(g, args) {
    const { positionals } = parseUntilPositional(args, {});
    await (await runtime(g)).pause(needId(positionals, 'pause'));
    return 0;
  },

  async resume(g, args) {
    const { positionals } = parseUntilPositional(args, {});
    await (await runtime(g)).resume(needId(positionals, 'resume'));
    return 0;
  },

  async list(g, args) {
    const { values } = parseUntilPositional(args, { format: { type: 'string', short: 'f' }, quiet: { type: 'boolean', short: 'q' } });
    const format = str(values.format) ?? 'table';
    if (format !== 'table' && format !== 'json') throw invalid(`invalid format option: ${format}`);
    process.stdout.write((await import('./list.js')).list(g.root, format, values.quiet === true));
    return 0;
  },

  async features() {
    process.stdout.write((await import('./features.js')).features());
    return 0;
  },

  async update(g, args) {
    const { values, positionals } = parseUntilPositional(args, {
      resources: { type: 'string', short: 'r' },
      'blkio-weight': { type: 'string' },
      'cpu-period': { type: 'string' },
      'cpu-quota': { type: 'string' },
      'cpu-share': { type: 'string' },
      'cpu-rt-period': { type: 'string' },
      'cpu-rt-runtime': { type: 'string' },
      'cpuset-cpus': { type: 'string' },
      'cpuset-mems': { type: 'string' },
      memory: { type: 'string' },
      'memory-reservation': { type: 'string' },
      'memory-swap': { type: 'string' },
      'kernel-memory': { type: 'string' },
      'kernel-memory-tcp': { type: 'string' },
      'pids-limit': { type: 'string' },
      'l3-cache-schema': { type: 'string' },
      'mem-bw-schema': { type: 'string' },
    });
    const id = needId(positionals, 'update');
    let r: LinuxResources;
    if (str(values.resources)) {
      const file = str(values.resources)!;
      r = readJson<LinuxResources>(file);
    } else {
      if (values['l3-cache-schema'] || values['mem-bw-schema']) throw unsupported('intelRdt is not supported by berth-runtime');
      r = {};
      const cpu = {
        period: int(values['cpu-period'], 'cpu-period'),
        quota: int(values['cpu-quota'], 'cpu-quota'),
        shares: int(values['cpu-share'], 'cpu-share'),
        realtimePeriod: int(values['cpu-rt-period'], 'cpu-rt-period'),
        realtimeRuntime: int(values['cpu-rt-runtime'], 'cpu-rt-runtime'),
        cpus: str(values['cpuset-cpus']),
        mems: str(values['cpuset-mems']),
      };
      const memory = {
        limit: bytes(values.memory, 'memory'),
        reservation: bytes(values['memory-reservation'], 'memory-reservation'),
        swap: bytes(values['memory-swap'], 'memory-swap'),
        kernel: bytes(values['kernel-memory'], 'kernel-memory'),
        kernelTCP: bytes(values['kernel-memory-tcp'], 'kernel-memory-tcp'),
      };
      const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
      if (Object.keys(defined(cpu)).length) r.cpu = defined(cpu);
      if (Object.keys(defined(memory)).length) r.memory = defined(memory);
      if (values['pids-limit'] !== undefined) r.pids = { limit: int(values['pids-limit'], 'pids-limit')! };
      if (values['blkio-weight'] !== undefined) r.blockIO = { weight: int(values['blkio-weight'], 'blkio-weight') };
    }
    await (await runtime(g)).update(id, r);
    return 0;
  },

  async events(g, args) {
    const { values, positionals } = parseUntilPositional(args, { stats: { type: 'boolean' }, interval: { type: 'string' } });
    const id = needId(positionals, 'events');
    if (values.stats) {
      process.stdout.write(JSON.stringify((await import('./events.js')).statsEvent(g.root, id)) + '\n');
      return 0;
    }
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(str(values.interval) ?? '5s');
    if (!m) throw invalid(`invalid value for --interval: ${String(values.interval)}`);
    const ms = Number(m[1]) * ({ ms: 1, s: 1000, m: 60000 }[m[2] ?? 's'] ?? 1000);
    for await (const e of (await runtime(g)).events(id, { intervalMs: ms })) process.stdout.write(JSON.stringify(e) + '\n');
    return 0;
  },

  async checkpoint(g, args) {
    const { values, positionals } = parseUntilPositional(args, { ...CRIU_OPTIONS, 'leave-running': { type: 'boolean' } });
    await (
      await import('./checkpoint.js')
    ).checkpoint(g.root, needId(positionals, 'checkpoint'), { ...criuOptions(g, values), leaveRunning: values['leave-running'] === true });
    return 0;
  },

  async restore(g, args) {
    const { values, positionals } = parseUntilPositional(args, {
      ...CRIU_OPTIONS,
      bundle: { type: 'string', short: 'b' },
      detach: { type: 'boolean', short: 'd' },
      'pid-file': { type: 'string' },
      'console-socket': { type: 'string' },
      'no-subreaper': { type: 'boolean' },
      'no-pivot': { type: 'boolean' },
    });
    if (str(values['console-socket'])) throw unsupported('restore --console-socket is not supported by berth-runtime');
    await (
      await import('./checkpoint.js')
    ).restore(g.root, needId(positionals, 'restore'), str(values.bundle) ?? '.', {
      ...criuOptions(g, values),
      detach: values.detach === true,
      pidFile: str(values['pid-file']),
    });
    return 0;
  },
};
COMMANDS.ls = COMMANDS.list;

const CRIU_OPTIONS: Options = {
  'image-path': { type: 'string' },
  'work-path': { type: 'string' },
  'tcp-established': { type: 'boolean' },
  'ext-unix-sk': { type: 'boolean' },
  'shell-job': { type: 'boolean' },
  'file-locks': { type: 'boolean' },
  'manage-cgroups-mode': { type: 'string' },
  'empty-ns': { type: 'string', multiple: true },
  'auto-dedup': { type: 'boolean' },
};

function criuOptions(g: Global, values: Record<string, unknown>) {
  if (values['empty-ns'] || values['auto-dedup']) throw unsupported('--empty-ns and --auto-dedup are not supported by berth-runtime');
  return {
    criu: g.criu,
    imagePath: str(values['image-path']) ?? 'checkpoint',
    workPath: str(values['work-path']),
    tcpEstablished: values['tcp-established'] === true,
    extUnixSk: values['ext-unix-sk'] === true,
    shellJob: values['shell-job'] === true,
    fileLocks: values['file-locks'] === true,
  };
}

function createOptions(g: Global, args: string[], extra: Options = {}) {
  const { values, positionals } = parseUntilPositional(args, {
    bundle: { type: 'string', short: 'b' },
    'console-socket': { type: 'string' },
    'pid-file': { type: 'string' },
    'no-pivot': { type: 'boolean' },
    'no-new-keyring': { type: 'boolean' },
    'preserve-fds': { type: 'string' },
    ...extra,
  });
  return {
    root: g.root,
    id: needId(positionals, 'create'),
    bundle: str(values.bundle) ?? '.',
    pidFile: str(values['pid-file']),
    consoleSocket: str(values['console-socket']),
    noPivot: values['no-pivot'] === true,
    preserveFds: int(values['preserve-fds'], 'preserve-fds'),
    detach: values.detach === true,
  };
}

/** A line in --log, in runc's text or json format. */
function logLine(g: Global, level: 'warning' | 'error', msg: string): void {
  if (!g.log) return;
  const time = new Date().toISOString();
  const line =
    g.logFormat === 'json' ? JSON.stringify({ level, msg, time }) + '\n' : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
  try {
    appendFileSync(g.log, line);
  } catch (e) {
    process.stderr.write(`write ${g.log}: ${errorMessage(e)}\n`); // stderr has the message itself too
  }
}

const USAGE = `berth-runtime: an OCI runtime with runc's command line

usage: berth-runtime [--root DIR] [--log FILE] [--log-format text|json] COMMAND [OPTIONS] [ARGS]

commands: checkpoint create delete events exec features kill list pause ps restore resume run spec start state update
`;

export async function main(argv: string[]): Promise<number> {
  const g: Global = { root: DEFAULT_ROOT, logFormat: 'text', debug: false };
  try {
    const { values, positionals, rest } = parseUntilPositional(argv, GLOBAL);
    g.root = str(values.root) ?? DEFAULT_ROOT;
    g.log = str(values.log);
    g.criu = str(values.criu);
    const lf = str(values['log-format']) ?? 'text';
    if (lf !== 'text' && lf !== 'json') throw invalid(`invalid log-format: ${lf}`);
    g.logFormat = lf;
    g.debug = values.debug === true;
    if (g.debug) (await import('./debug.js')).enableDebug();
    if (values.version) {
      process.stdout.write(`berth-runtime version ${BERTH_VERSION}\nspec: ${OCI_VERSION}\n`);
      return 0;
    }
    if (values.help || !positionals.length) {
      process.stdout.write(USAGE);
      return values.help ? 0 : 1;
    }
    if (values['systemd-cgroup']) throw unsupported('the systemd cgroup driver is not supported by berth-runtime; use cgroupfs');
    const cmd = COMMANDS[positionals[0]];
    if (!cmd) throw invalid(`No help topic for '${positionals[0]}'`);
    return await cmd(g, rest);
  } catch (e) {
    const msg = errorMessage(e);
    logLine(g, 'error', msg);
    process.stderr.write(`${msg}\n`);
    if (g.debug && !(e instanceof BerthError) && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
