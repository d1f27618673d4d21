// `berth run`/`create` flags for a container's life: --restart, the health check flags and the
// resource limits beyond --memory/--cpus/--pids-limit → the Config and HostConfig fields the
// API takes. `berth update` shares the limits and --restart. The flags are run-flags.ts's.

import { BerthError } from '../../errors.js';
import { ramBytes, uint } from '../flag-values.js';
import { durationNs } from '../units.js';

type Flags = Record<string, boolean | string | string[] | undefined>;

const int = (f: Flags, name: string): number | undefined => {
  const v = f[name] as string | undefined;
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v))
    throw new BerthError('invalid', `invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
};

/** `no`, `always`, `unless-stopped`, `on-failure[:N]` → the API's RestartPolicy. */
export function restartPolicy(s: string): { Name: string; MaximumRetryCount: number } {
  const [name, max] = s.split(':', 2);
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name))
    throw new BerthError('invalid', `invalid restart policy format: ${s}`);
  if (max !== undefined && !/^\d+$/.test(max))
    throw new BerthError('invalid', `invalid restart policy format: maximum retry count must be an integer`);
  return { Name: name, MaximumRetryCount: max === undefined ? 0 : Number(max) };
}

/** The HostConfig limits and restart policy the flags give (absent flags: absent fields). */
export function resourceFields(f: Flags): Record<string, unknown> {
  const size = (name: string) => {
    const v = f[name] as string | undefined;
    return v === undefined ? undefined : v === '-1' ? -1 : ramBytes(v);
  };
  return {
    MemorySwap: size('memory-swap'),
    MemoryReservation: size('memory-reservation'),
    CpuShares: int(f, 'cpu-shares'),
    CpuQuota: int(f, 'cpu-quota'),
    CpuPeriod: int(f, 'cpu-period'),
    CpuRealtimePeriod: int(f, 'cpu-rt-period'),
    CpuRealtimeRuntime: int(f, 'cpu-rt-runtime'),
    BlkioWeight: f['blkio-weight'] === undefined ? undefined : uint(f['blkio-weight'] as string, 16),
    CpusetCpus: f['cpuset-cpus'] as string | undefined,
    CpusetMems: f['cpuset-mems'] as string | undefined,
    RestartPolicy: f.restart === undefined ? undefined : restartPolicy(f.restart as string),
  };
}

/** Config's stop settings and Healthcheck from the flags, as the docker CLI builds it (CMD-SHELL for --health-cmd, NONE for --no-healthcheck). */
export function lifecycleConfig(f: Flags): Record<string, unknown> {
  return { StopSignal: f['stop-signal'] as string | undefined, StopTimeout: int(f, 'stop-timeout'), ...healthcheckField(f) };
}

function healthcheckField(f: Flags): { Healthcheck?: Record<string, unknown> } {
  const d = (name: string) => (f[name] === undefined ? undefined : durationNs(f[name] as string));
  const given = ['health-cmd', 'health-interval', 'health-timeout', 'health-retries', 'health-start-period', 'health-start-interval'].some(
    (k) => f[k] !== undefined,
  );
  if (f['no-healthcheck']) {
    if (given) throw new BerthError('invalid', '--no-healthcheck conflicts with --health-* options');
    return { Healthcheck: { Test: ['NONE'] } };
  }
  if (!given) return {};
  return {
    Healthcheck: {
      Test: f['health-cmd'] === undefined ? undefined : ['CMD-SHELL', f['health-cmd'] as string],
      Interval: d('health-interval'),
      Timeout: d('health-timeout'),
      StartPeriod: d('health-start-period'),
      StartInterval: d('health-start-interval'),
      Retries: int(f, 'health-retries'),
    },
  };
}
