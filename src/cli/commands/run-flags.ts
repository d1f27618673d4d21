// Every flag of docker 28's `run` and `create`, as berth's: its kind, its help line, and the check
// of its value that docker's CLI makes while parsing (docker's reason when it refuses). The body
// they make is run-options.ts's; run-only flags (-d, --detach-keys, --sig-proxy) are RUN_ONLY.

import type { FlagSpec } from '../args.js';
import * as v from '../flag-values.js';
import { durationNs } from '../units.js';
import { parseNetworkOpt } from './run-network.js';

const check = (parse: (s: string) => unknown) => (s: string) => {
  parse(s);
};
const str = (desc: string, more: Partial<FlagSpec> = {}): FlagSpec => ({ type: 'string', desc, ...more });
const list = (desc: string, more: Partial<FlagSpec> = {}): FlagSpec => ({ type: 'list', desc, ...more });
const bool = (desc: string, more: Partial<FlagSpec> = {}): FlagSpec => ({ type: 'bool', desc, ...more });
const int = (desc: string, more: Partial<FlagSpec> = {}): FlagSpec => ({ type: 'string', arg: 'int', desc, check: check(v.int), ...more });
const bytes = (desc: string): FlagSpec => ({ type: 'string', arg: 'bytes', desc, check: check(v.ramBytes) });
const duration = (desc: string): FlagSpec => ({ type: 'string', arg: 'duration', desc, dflt: '0s', check: check(durationNs) });

/** The resource limits `update` shares with run and create. */
export const RESOURCE_FLAGS = {
  memory: { short: 'm', ...bytes('Memory limit') },
  'memory-swap': {
    ...bytes("Memory plus swap limit: '-1' for unlimited swap"),
    check: (s: string) => {
      if (s !== '-1') v.ramBytes(s);
    },
  },
  'memory-reservation': bytes('Memory soft limit'),
  'kernel-memory': bytes('Kernel memory limit'),
  cpus: str('Number of CPUs', { arg: 'decimal', check: check(v.nanoCpus) }),
  'cpu-shares': { short: 'c', ...int('CPU shares (relative weight)') },
  'cpu-period': int('Limit the CPU CFS (Completely Fair Scheduler) period'),
  'cpu-quota': int('Limit the CPU CFS (Completely Fair Scheduler) quota'),
  'cpu-rt-period': int('Limit the CPU real-time period, in microseconds'),
  'cpu-rt-runtime': int('Limit the CPU real-time runtime, in microseconds'),
  'cpuset-cpus': str('CPUs the container may run on (0-3, 0,1)'),
  'cpuset-mems': str('Memory nodes the container may use (0-3, 0,1)'),
  'blkio-weight': str('Block IO relative weight, 10 to 1000, or 0 to leave it unset', {
    arg: 'uint16',
    dflt: '0',
    check: check((s) => v.uint(s, 16)),
  }),
  'pids-limit': int('Limit the number of processes (-1 for unlimited)'),
  restart: str('Restart policy when the container exits (no, always, unless-stopped, on-failure[:max-retries])', { dflt: '"no"' }),
} as const satisfies Record<string, FlagSpec>;

export const CREATE_FLAGS = {
  ...RESOURCE_FLAGS,
  'add-host': list('Add a host-to-IP entry to /etc/hosts (host:ip)', { check: check(v.extraHost) }),
  annotation: list('Add an annotation to the container, passed to the OCI runtime', {
    arg: 'map',
    check: check((s) => v.keyValue(s, `bad format for annotation: ${s}`)),
  }),
  attach: {
    short: 'a',
    ...list('Attach to STDIN, STDOUT or STDERR', {
      check: (s) => {
        if (!/^(stdin|stdout|stderr)$/i.test(s)) throw new Error('valid streams are STDIN, STDOUT and STDERR');
      },
    }),
  },
  'blkio-weight-device': list('Block IO weight of a device (path:weight)', { check: check(v.weightDevice) }),
  'cap-add': list('Add Linux capabilities'),
  'cap-drop': list('Drop Linux capabilities'),
  'cgroup-parent': str('Parent cgroup of the container'),
  cgroupns: str("Cgroup namespace: 'host' (the host's) or 'private' (its own); empty: the daemon's default", { check: v.MODES.cgroupns }),
  cidfile: str("Write the container's ID to this file"),
  'cpu-count': int('CPU count (Windows only)'),
  'cpu-percent': int('CPU percent (Windows only)'),
  device: list('Add a host device to the container (host[:container][:rwm])', { check: check(v.device) }),
  'device-cgroup-rule': list("Add a rule to the cgroup's allowed devices list", { check: check(v.deviceCgroupRule) }),
  'device-read-bps': list('Limit the read rate from a device, in bytes per second (path:rate)', {
    check: check((s) => v.throttleDevice(s, false)),
  }),
  'device-read-iops': list('Limit the read rate from a device, in IO per second (path:rate)', {
    check: check((s) => v.throttleDevice(s, true)),
  }),
  'device-write-bps': list('Limit the write rate to a device, in bytes per second (path:rate)', {
    check: check((s) => v.throttleDevice(s, false)),
  }),
  'device-write-iops': list('Limit the write rate to a device, in IO per second (path:rate)', {
    check: check((s) => v.throttleDevice(s, true)),
  }),
  'disable-content-trust': bool('Skip image signature verification (berth has none to do)', { dflt: 'true' }),
  dns: list('Set custom DNS servers', { check: check(v.ipAddress) }),
  'dns-option': list('Set DNS options'),
  'dns-search': list('Set custom DNS search domains'),
  domainname: str('Container NIS domain name'),
  entrypoint: str("Override the image's ENTRYPOINT"),
  env: { short: 'e', ...list('Set environment variables', { check: check(v.envVar) }) },
  'env-file': list('Read environment variables from a file'),
  expose: list('Expose a port or a range of ports'),
  gpus: str("GPU devices to add ('all' for every GPU)", { arg: 'gpu-request', check: check(v.gpus) }),
  'group-add': list('Add supplementary groups to join'),
  'health-cmd': str('Command to run to check health'),
  'health-interval': duration('Time between checks (ms|s|m|h)'),
  'health-retries': int('Consecutive failures before the container is unhealthy'),
  'health-start-interval': duration('Time between checks during the start period (ms|s|m|h)'),
  'health-start-period': duration('Time the container has to start before failures count (ms|s|m|h)'),
  'health-timeout': duration('Longest time one check may run (ms|s|m|h)'),
  hostname: { short: 'h', ...str('Container host name') },
  init: bool('Run an init process in the container that forwards signals and reaps processes'),
  interactive: { short: 'i', ...bool('Keep STDIN open even when not attached') },
  'io-maxbandwidth': bytes('Maximum IO bandwidth of the system drive (Windows only)'),
  'io-maxiops': str('Maximum IOps of the system drive (Windows only)', { arg: 'uint', check: check(v.uint) }),
  ip: str('IPv4 address (e.g. 172.30.100.104)', { check: check(v.ipAddress) }),
  ip6: str('IPv6 address (e.g. 2001:db8::33)', { check: check(v.ipAddress) }),
  ipc: str('IPC namespace to use'),
  isolation: str('Container isolation technology'),
  label: { short: 'l', ...list('Set metadata on the container', { check: check(v.label) }) },
  'label-file': list('Read labels from a file of lines'),
  link: list('Add a link to another container', { check: check(v.link) }),
  'link-local-ip': list('Link-local IPv4/IPv6 addresses of the container', { check: check(v.ipAddress) }),
  'log-driver': str('Logging driver of the container'),
  'log-opt': list('Log driver options'),
  'mac-address': str('Container MAC address (e.g. 92:d0:c6:0a:29:33)', { check: check(v.macAddress) }),
  'memory-swappiness': int('Memory swappiness of the container (0 to 100)', { dflt: '-1' }),
  mount: list('Attach a filesystem mount to the container', { arg: 'mount' }),
  name: str('Assign a name to the container'),
  network: list('Connect the container to a network', { arg: 'network', check: check(parseNetworkOpt) }),
  'network-alias': list('Add a network-scoped alias for the container'),
  'no-healthcheck': bool("Disable the image's HEALTHCHECK"),
  'oom-kill-disable': bool('Disable the OOM killer'),
  'oom-score-adj': int("Tune the host's OOM preference for the container (-1000 to 1000)"),
  pid: str('PID namespace to use', { check: v.MODES.pid }),
  pod: str("Join a pod: its network, IPC and UTS namespaces (berth's, as podman's)"),
  platform: str('Set the platform when the server is multi-platform capable'),
  privileged: bool('Give extended privileges to the container'),
  publish: { short: 'p', ...list("Publish a container's port(s) to the host") },
  'publish-all': { short: 'P', ...bool('Publish all exposed ports to random ports') },
  pull: str('Pull the image before creating ("always", "missing", "never")', {
    dflt: '"missing"',
    check: (s) => {
      if (!['always', 'missing', 'never'].includes(s))
        throw new Error(`invalid pull option: '${s}': must be one of "always", "missing" or "never"`);
    },
  }),
  quiet: { short: 'q', ...bool('Suppress the pull output') },
  'read-only': bool("Mount the container's root filesystem read-only"),
  rm: bool('Remove the container and its anonymous volumes when it exits'),
  runtime: str('Runtime to use for the container'),
  'security-opt': list('Security options'),
  'shm-size': bytes('Size of /dev/shm'),
  'stop-signal': str('Signal to stop the container'),
  'stop-timeout': int('Seconds to wait for the container to stop before it is killed'),
  'storage-opt': list('Storage driver options of the container'),
  sysctl: list('Sysctl options', { arg: 'map', check: check(v.sysctl) }),
  tmpfs: list('Mount a tmpfs directory'),
  tty: { short: 't', ...bool('Allocate a pseudo-TTY') },
  ulimit: list('Ulimit options', { arg: 'ulimit', check: check(v.ulimit) }),
  'use-api-socket': bool("Bind-mount the daemon's API socket and the registry credentials it needs"),
  user: { short: 'u', ...str('Username or UID (format: <name|uid>[:<group|gid>])') },
  userns: str("User namespace to use: 'host', or 'auto' (a range of its own; under --userns-remap)", { check: v.MODES.userns }),
  uts: str('UTS namespace to use', { check: v.MODES.uts }),
  volume: { short: 'v', ...list('Bind mount a host path or mount a volume') },
  'volume-driver': str('Volume driver of the container'),
  'volumes-from': list('Mount the volumes of the given container(s)'),
  workdir: { short: 'w', ...str('Working directory inside the container') },
} as const satisfies Record<string, FlagSpec>;

export const RUN_ONLY = {
  detach: { short: 'd', ...bool('Run the container in the background and print its ID') },
  'detach-keys': str('Override the key sequence for detaching from the container'),
  'sig-proxy': bool('Proxy the signals berth receives to the process', { dflt: 'true' }),
} as const satisfies Record<string, FlagSpec>;
