// berthd's configuration as dockerd takes it: its flags, and its daemon.json (`--config-file`,
// default /etc/berth/daemon.json; a missing default file is no error) with the keys of dockerd's
// that apply. A setting given both as a flag and in the file is an error, as dockerd's. Pure but
// for reading the file and the group database.

import { readFileSync } from 'node:fs';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isErrno } from '../../common/errno.js';
import { rootlessDataRoot, rootlessExecRoot, rootlessHost } from '../../common/rootless.js';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';
export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';
export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  hosts: string[];
  insecureRegistries: string[];
  registryMirrors: string[];
  logLevel: Level;
  /** The default `bridge` network's gateway address and prefix (`--bip`, e.g. 10.99.0.1/24); undefined: a free subnet. */
  bip?: string;
  /** The unix sockets' group (name or number); undefined: `docker` if it exists, else root. */
  group?: string;
  /** Other OCI runtimes by name (`runtimes`, `--add-runtime name=path`); `berth` and `runc` are berth-runtime's. */
  runtimes: Record<string, { path: string; runtimeArgs?: string[] }>;
  /** The runtime of a container that names none (`default-runtime`). */
  defaultRuntime?: string;
  /** The CRI's socket (`--cri-socket`, default <exec-root>/cri.sock); '' serves no CRI. */
  criSocket: string;
  /** `--userns-remap` (`default`, USER[:GROUP], UID[:GID]): resolved at start by the engine's loadRemap. */
  usernsRemap?: string;
  /** The realtime budget of the containers' parent cgroups, µs (`--cpu-rt-period`, `--cpu-rt-runtime`); 0: none given. */
  cpuRtPeriod: number;
  cpuRtRuntime: number;
  /** CNI network configs for the CRI's pods (`--cni-conf-dir`, kubelet's node's, default /etc/cni/net.d). */
  cniConfDir: string;
  /** ip6tables rules for IPv6 networks and ports published on IPv6 addresses (`ip6tables`, `--ip6tables`; true unless false, as dockerd 28). */
  ip6tables: boolean;
  /** The default `bridge` network has IPv6 (`ipv6`, `--ipv6`). */
  ipv6: boolean;
  /** Its IPv6 subnet (`fixed-cidr-v6`, applied with `ipv6` true); undefined: the next /64 of the host's ULA pool, as dockerd 28. */
  fixedCidrV6?: string;
  /** An ordinary user's berthd, in a user namespace of its own (rootless.ts): its defaults are the user's (common/rootless.ts). */
  rootless: boolean;
  help?: boolean;
}

/** A rootless berthd's daemon.json, as rootless dockerd's ~/.config/docker/daemon.json. */
export function rootlessConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'berth/daemon.json');
}

/** The host uid `rootless` defaults are made for (the user whose berthd this is). */
export interface RootlessContext {
  uid: number;
  env?: NodeJS.ProcessEnv;
}

export const USAGE = `Usage: berthd [OPTIONS]

A container engine serving the Docker Engine API. Started by a user other than root, it is that
user's rootless berthd, in a user namespace of its /etc/subuid and /etc/subgid ranges, and its
defaults are the user's: $XDG_RUNTIME_DIR/berth (else /tmp/berth-UID/berth) for the socket and
exec root, ~/.local/share/berth for data, ~/.config/berth/daemon.json.

Options:
      --add-runtime runtime        Register an additional OCI compatible runtime (default [])
      --bip string                 The default bridge network's gateway address and prefix (e.g. 10.99.0.1/24)
      --cni-conf-dir string        CNI network configs of the CRI's pods (default "/etc/cni/net.d")
      --config-file string         Daemon configuration file (default "${DEFAULT_CONFIG_FILE}")
      --cpu-rt-period int          Limit the CPU real-time period in microseconds for the parent cgroup for all containers
      --cpu-rt-runtime int         Limit the CPU real-time runtime in microseconds for the parent cgroup for all containers
      --cri-socket string          Serve the Kubernetes CRI on this unix socket; "" for none (default "<exec-root>/cri.sock")
      --data-root string           Root of persistent state (default "/var/lib/berth")
  -D, --debug                      Enable debug mode (log level debug)
      --default-runtime string     Default OCI runtime for containers (default "berth")
      --exec-root string           Root of runtime state (default "/run/berth")
  -G, --group string               Group for the unix socket(s) (default "docker" if it exists, else root)
  -H, --host list                  Socket(s) to listen on: unix:///path or tcp://host:port (default ${DEFAULT_HOST})
      --insecure-registry list     Registries reached over plain HTTP
      --ip6tables                  Enable addition of ip6tables rules (default true)
      --ipv6                       Enable IPv6 networking on the default bridge network
      --fixed-cidr-v6 string       IPv6 subnet of the default bridge network (with --ipv6)
  -l, --log-level string           debug, info, warn, error (default "info")
      --registry-mirror list       Mirrors of docker.io
      --userns-remap string        User/Group setting for user namespaces ("default": the berthremap user, made if missing)
`;

/** The settings, by daemon.json key, with their flags. */
const SETTINGS = {
  'data-root': { flags: ['--data-root'], list: false },
  'exec-root': { flags: ['--exec-root'], list: false },
  hosts: { flags: ['-H', '--host'], list: true },
  'insecure-registries': { flags: ['--insecure-registry'], list: true },
  'registry-mirrors': { flags: ['--registry-mirror'], list: true },
  'log-level': { flags: ['-l', '--log-level'], list: false },
  debug: { flags: ['-D', '--debug'], list: false },
  group: { flags: ['-G', '--group'], list: false },
  bip: { flags: ['--bip'], list: false },
  runtimes: { flags: ['--add-runtime'], list: true },
  'default-runtime': { flags: ['--default-runtime'], list: false },
  'cri-socket': { flags: ['--cri-socket'], list: false },
  'cni-conf-dir': { flags: ['--cni-conf-dir'], list: false },
  'userns-remap': { flags: ['--userns-remap'], list: false },
  'cpu-rt-period': { flags: ['--cpu-rt-period'], list: false, int: true },
  'cpu-rt-runtime': { flags: ['--cpu-rt-runtime'], list: false, int: true },
  ip6tables: { flags: ['--ip6tables'], list: false, bool: true },
  ipv6: { flags: ['--ipv6'], list: false, bool: true },
  'fixed-cidr-v6': { flags: ['--fixed-cidr-v6'], list: false },
} as const;
/**
 * dockerd's keys for what berthd always does one way: given with that value they change nothing
 * and are taken; any other value, and any other key berthd does not apply, refuses the start.
 */
const FIXED: Record<string, unknown> = {
  'live-restore': true, // containers outlive berthd always
  'userland-proxy': false, // published ports are kernel NAT, never a proxy process
  iptables: true,
  'ip-forward': true,
  'ip-masq': true,
  icc: true,
  'selinux-enabled': false,
  'storage-driver': 'overlay2', // layers on overlayfs, as dockerd's overlay2
};

/** The settings whose value is an integer (a number in daemon.json, parsed from a flag's text). */
const isInt = (k: Key) => 'int' in SETTINGS[k];
/** The settings that are booleans (JSON's in daemon.json; a flag alone is true, `--flag=v` as Go's ParseBool reads v). */
const isBool = (k: Key) => 'bool' in SETTINGS[k];
type Key = keyof typeof SETTINGS;
type Runtimes = DaemonConfig['runtimes'];
/** A setting's value: a flag's text, a list, -D's boolean, daemon.json's number, or its `runtimes`. */
type Value = string | string[] | boolean | number | Runtimes;

/** A flag's integer, as dockerd's flag parsing takes it (its words for a bad one). */
function intOfFlag(flag: string, v: string): number {
  if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new ConfigError(`invalid argument "${v}" for "${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** The names berth-runtime answers to: a configured runtime may take neither (dockerd reserves `runc`). */
const RESERVED_RUNTIMES = ['berth', 'runc'];

/** daemon.json's `runtimes`: { name: { path, runtimeArgs? } }, as dockerd 20.10 takes it. */
function runtimesOfFile(file: string, v: unknown): Runtimes {
  const bad = (why: string) => new ConfigError(`unable to configure the daemon with file ${file}: runtimes: ${why}`);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad('must be an object of runtimes by name');
  const out: Runtimes = {};
  for (const [name, r] of Object.entries(v as Record<string, unknown>)) {
    if (RESERVED_RUNTIMES.includes(name)) throw new ConfigError(`runtime name '${name}' is reserved`);
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw bad(`${name} must be an object with a path`);
    const { path, runtimeArgs, ...rest } = r as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length) throw bad(`${name}: berthd does not apply ${unknown.join(', ')} (path and runtimeArgs only)`);
    if (typeof path !== 'string' || !path) throw bad(`${name}: path must be a non-empty string`);
    if (runtimeArgs !== undefined && !(Array.isArray(runtimeArgs) && runtimeArgs.every((a) => typeof a === 'string')))
      throw bad(`${name}: runtimeArgs must be a list of strings`);
    out[name] = { path, ...(runtimeArgs?.length ? { runtimeArgs: runtimeArgs as string[] } : {}) };
  }
  return out;
}

/** `--add-runtime name=path`, each; dockerd's words for a bad one. */
function runtimesOfFlags(values: string[]): Runtimes {
  const out: Runtimes = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const name = v.slice(0, eq).trim();
    const path = v.slice(eq + 1).trim();
    if (eq < 0 || !name || !path) throw new ConfigError(`invalid argument "${v}" for "--add-runtime" flag: invalid runtime argument: ${v}`);
    if (RESERVED_RUNTIMES.includes(name))
      throw new ConfigError(`invalid argument "${v}" for "--add-runtime" flag: runtime name '${name}' is reserved`);
    if (out[name]) throw new ConfigError(`invalid argument "${v}" for "--add-runtime" flag: runtime '${name}' was already defined`);
    out[name] = { path };
  }
  return out;
}

/** A boolean flag's `=value`, as Go's flag package reads it (strconv.ParseBool), in its words. */
function boolOfFlag(flag: string, v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new ConfigError(`invalid argument "${v}" for "${flag}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

export class ConfigError extends Error {}

/**
 * `fixed-cidr-v6` checked as dockerd 28's bridge.ValidateFixedCIDRV6 checks it (netip.ParsePrefix,
 * then an IPv6, non-multicast subnet clear of fe80::/64), in its words; '' is none.
 */
function checkFixedCidrV6(val: string): void {
  if (!val) return;
  const bad = (why: string) => new ConfigError(`invalid fixed-cidr-v6: ${why}`);
  const slash = val.lastIndexOf('/');
  if (slash < 0) throw bad(`netip.ParsePrefix(${JSON.stringify(val)}): no '/'`);
  const [addr, bits] = [val.slice(0, slash), val.slice(slash + 1)];
  const v6 = isIPv6(addr);
  if (!v6 && !isIPv4(addr)) throw bad(`netip.ParsePrefix(${JSON.stringify(val)}): ParseAddr(${JSON.stringify(addr)}): unable to parse IP`);
  if (!/^\d{1,3}$/.test(bits) || (bits.length > 1 && bits[0] === '0'))
    throw bad(`netip.ParsePrefix(${JSON.stringify(val)}): bad bits after slash: ${JSON.stringify(bits)}`);
  if (Number(bits) > (v6 ? 128 : 32)) throw bad(`netip.ParsePrefix(${JSON.stringify(val)}): prefix length out of range`);
  if (!v6 || /^::ffff:\d/i.test(addr)) throw bad(`'${val}' is not a valid IPv6 subnet`);
  const within = (net: string, netBits: number, ip: string) => {
    const b = new BlockList();
    b.addSubnet(net, netBits, 'ipv6');
    return b.check(ip, 'ipv6');
  };
  if (within('ff00::', 8, addr)) throw bad(`multicast subnet '${val}' is not allowed`);
  const n = Number(bits);
  const overlaps = n >= 64 ? within('fe80::', 64, addr) : within(addr, n, 'fe80::');
  if (overlaps && !(n === 64 && within('fe80::', 64, addr))) throw bad(`'${val}' clashes with the Link-Local prefix 'fe80::/64'`);
}

/** Flags by daemon.json key (lists as arrays, -D as true), and the config file asked for. */
function parseFlags(argv: string[]): {
  set: Partial<Record<Key, string | string[] | boolean | number>>;
  configFile?: string;
  help: boolean;
} {
  const set: Partial<Record<Key, string | string[] | boolean | number>> = {};
  let configFile: string | undefined,
    help = false;
  const byFlag = new Map<string, Key>();
  for (const [k, s] of Object.entries(SETTINGS)) for (const f of s.flags) byFlag.set(f, k as Key);
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i],
      v: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const value = () => {
      if (v !== undefined) return v;
      if (i + 1 >= argv.length) throw new ConfigError(`flag needs an argument: ${a}`);
      return argv[++i];
    };
    if (a === '-h' || a === '--help') {
      help = true;
      continue;
    }
    if (a === '--config-file') {
      configFile = value();
      continue;
    }
    const key = byFlag.get(a);
    if (!key) throw new ConfigError(`unknown flag: ${a}`);
    if (key === 'debug') set.debug = v === undefined ? true : !['false', '0'].includes(v);
    else if (isBool(key)) set[key] = v === undefined ? true : boolOfFlag(a, v);
    else if (isInt(key)) set[key] = intOfFlag(a, value());
    else if (SETTINGS[key].list) set[key] = [...((set[key] as string[] | undefined) ?? []), value()];
    else set[key] = value();
  }
  return { set, configFile, help };
}

/** daemon.json: the keys that apply, type-checked; others are listed to be warned about. */
function readConfigFile(path: string, explicit: boolean): { values: Partial<Record<Key, Value>> } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return { values: {} };
    throw new ConfigError(`unable to configure the daemon with file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`unable to configure the daemon with file ${path}: ${(e as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new ConfigError(`unable to configure the daemon with file ${path}: not a JSON object`);
  const values: Partial<Record<Key, Value>> = {};
  const refused: string[] = [];
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
    if (!(k in SETTINGS)) {
      if (!(k in FIXED)) refused.push(k);
      else if (v !== FIXED[k]) refused.push(`${k} (berthd always runs as with ${JSON.stringify(FIXED[k])})`);
      continue;
    }
    const key = k as Key;
    if (key === 'runtimes') {
      values.runtimes = runtimesOfFile(path, v);
      continue;
    }
    const ok =
      key === 'debug' || isBool(key)
        ? typeof v === 'boolean'
        : isInt(key)
          ? Number.isSafeInteger(v)
          : SETTINGS[key].list
            ? Array.isArray(v) && v.every((x) => typeof x === 'string')
            : typeof v === 'string';
    if (!ok) {
      const want =
        key === 'debug' || isBool(key) ? 'a boolean' : isInt(key) ? 'an integer' : SETTINGS[key].list ? 'a list of strings' : 'a string';
      throw new ConfigError(`unable to configure the daemon with file ${path}: ${k} must be ${want}`);
    }
    values[key] = v as Value;
  }
  // dockerd refuses a key it does not know; berthd one it does not apply, rather than run without it.
  if (refused.length)
    throw new ConfigError(
      `unable to configure the daemon with file ${path}: the following directives are not applied by berthd: ${refused.join(', ')}`,
    );
  return { values };
}

/**
 * The configuration of `argv` and its config file. Throws ConfigError with dockerd's messages.
 * `rootless`: an ordinary user's berthd, whose defaults are that user's folders and socket.
 */
export function loadConfig(argv: string[], rootless?: RootlessContext): DaemonConfig {
  const { set, configFile, help } = parseFlags(argv);
  const env = rootless?.env ?? process.env;
  const path = configFile ?? (rootless ? rootlessConfigFile(env) : DEFAULT_CONFIG_FILE);
  const file = help ? { values: {} } : readConfigFile(path, configFile !== undefined);
  const both = (Object.keys(file.values) as Key[]).filter((k) => k in set);
  if (both.length) {
    const show = (v: unknown) => (Array.isArray(v) ? `[${v.join(' ')}]` : String(v));
    throw new ConfigError(
      `unable to configure the daemon with file ${path}: the following directives are specified both as a flag and in the configuration file: ${both
        .map((k) => `${k}: (from flag: ${show(set[k])}, from file: ${show(file.values[k])})`)
        .join(', ')}`,
    );
  }
  const get = <T>(k: Key, dflt: T): T => (set[k] ?? file.values[k] ?? dflt) as T;
  const level = get<string>('log-level', 'info');
  if (!(LEVELS as readonly string[]).includes(level))
    throw new ConfigError(`unknown log level "${level}": give one of ${LEVELS.join(', ')}`);
  const hosts = get<string[]>('hosts', []).map((h) => (h.startsWith('/') ? `unix://${h}` : h));
  const runtimes = set.runtimes ? runtimesOfFlags(set.runtimes as string[]) : ((file.values.runtimes as Runtimes | undefined) ?? {});
  const defaultRuntime = get<string | undefined>('default-runtime', undefined);
  if (defaultRuntime !== undefined && !RESERVED_RUNTIMES.includes(defaultRuntime) && !runtimes[defaultRuntime])
    throw new ConfigError(`specified default runtime '${defaultRuntime}' does not exist`);
  if (rootless) {
    // What a user namespace cannot do, refused rather than half done.
    if (get<string | undefined>('group', undefined) !== undefined)
      throw new ConfigError("group: a rootless berthd's socket belongs to its user alone (mode 0600 in a private folder)");
    if (get<string | undefined>('userns-remap', undefined))
      throw new ConfigError(
        'userns-remap: a rootless berthd already runs in a user namespace of its user; remapping inside it is not supported',
      );
    if (get<number>('cpu-rt-period', 0) || get<number>('cpu-rt-runtime', 0))
      throw new ConfigError('cpu-rt-period, cpu-rt-runtime: a rootless berthd cannot give a realtime budget to cgroups it does not own');
  }
  // The default bridge's IPv6: fixed-cidr-v6, else (dockerd 27 and later) a /64 of the host's ULA pool.
  const fixedCidrV6 = get<string>('fixed-cidr-v6', '');
  checkFixedCidrV6(fixedCidrV6);
  const ipv6 = get<boolean>('ipv6', false);
  if (ipv6 && rootless)
    throw new ConfigError("ipv6: a rootless berthd's default network is pasta's, with the host's addresses; it has no bridge to give IPv6");
  const execRoot = get('exec-root', rootless ? rootlessExecRoot(env, rootless.uid) : '/run/berth');
  // A rootless berthd serves no CRI unless asked: kubelet runs as root.
  const criSocket = get<string>('cri-socket', rootless ? '' : `${execRoot}/cri.sock`);
  if (criSocket && !criSocket.startsWith('/'))
    throw new ConfigError(`cri-socket ${JSON.stringify(criSocket)} must be an absolute path, or "" for none`);
  return {
    dataRoot: get('data-root', rootless ? rootlessDataRoot(env) : '/var/lib/berth'),
    execRoot,
    hosts: hosts.length ? hosts : [rootless ? rootlessHost(env, rootless.uid) : DEFAULT_HOST],
    insecureRegistries: get('insecure-registries', []),
    registryMirrors: get('registry-mirrors', []),
    logLevel: get('debug', false) ? 'debug' : (level as Level),
    group: get<string | undefined>('group', undefined),
    bip: get<string | undefined>('bip', undefined),
    runtimes,
    defaultRuntime,
    criSocket,
    cniConfDir: get('cni-conf-dir', '/etc/cni/net.d'),
    usernsRemap: get<string | undefined>('userns-remap', undefined) || undefined,
    cpuRtPeriod: get<number>('cpu-rt-period', 0),
    cpuRtRuntime: get<number>('cpu-rt-runtime', 0),
    ip6tables: get<boolean>('ip6tables', true),
    ipv6,
    fixedCidrV6: ipv6 && fixedCidrV6 ? fixedCidrV6 : undefined,
    rootless: !!rootless,
    help,
  };
}

/**
 * The gid of the sockets' group: a number as given, a name from /etc/group. Unset: `docker`
 * where it exists (as dockerd), else 0. A group asked for that does not exist is an error.
 */
export function socketGid(group: string | undefined, groupFile = '/etc/group'): number {
  if (group !== undefined && /^\d+$/.test(group)) return Number(group);
  let lines: string[] = [];
  try {
    lines = readFileSync(groupFile, 'utf8').split('\n');
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e; // no group database: root only
  }
  const gid = lines.map((l) => l.split(':')).find((f) => f[0] === (group ?? 'docker'))?.[2];
  if (gid !== undefined) return Number(gid);
  if (group !== undefined) throw new ConfigError(`group ${group} not found: create it or give --group a group that exists`);
  return 0;
}
