// A container's log driver (HostConfig.LogConfig), as dockerd takes it: `json-file` and `local`
// keep the output for `docker logs` (berth's monitor writes both in the json-file format, which
// is invisible through the API), `none` keeps nothing and `docker logs` says so. Drivers that
// ship logs to another service are refused with a line that says berth has none; a name no
// driver has gets dockerd's plugin lookup error. Options are checked as each driver does.

import { invalid, unsupported } from '../errors.js';
import type { HostConfig } from './types.js';

/** dockerd's drivers that send logs elsewhere; berth has none of them. */
const REMOTE_DRIVERS = ['syslog', 'journald', 'gelf', 'fluentd', 'awslogs', 'splunk', 'etwlogs', 'gcplogs', 'logentries'];

/** The options each driver berth has takes. */
const OPTIONS: Record<string, string[]> = {
  'json-file': ['max-size', 'max-file'],
  local: ['max-size', 'max-file', 'compress'],
  none: [],
  // berth's own, for the CRI: the Kubernetes log format, at the path kubelet reads (`path`, required).
  cri: ['path'],
};

/** dockerd's driver when the request names none. */
export const DEFAULT_LOG_DRIVER = 'json-file';

/** What `docker logs` answers for a container whose driver keeps nothing (dockerd's words). */
export const NO_READING = 'configured logging driver does not support reading';

/** True when `docker logs` can read the container's output (a CRI container's too, from kubelet's file). */
export function readsLogs(hc: Pick<HostConfig, 'LogConfig'>): boolean {
  return (hc.LogConfig?.Type || DEFAULT_LOG_DRIVER) !== 'none';
}

/** Where and how the monitor writes the container's output: its json-file log, kubelet's CRI log, or nowhere. */
export function monitorLog(hc: Pick<HostConfig, 'LogConfig'>, jsonFile: string): { log: string; logFormat?: 'cri' } {
  if (hc.LogConfig?.Type === 'cri') return { log: hc.LogConfig.Config!.path, logFormat: 'cri' };
  return { log: readsLogs(hc) ? jsonFile : '/dev/null' };
}

/** Checks LogConfig at create, with dockerd's words where dockerd has them. */
export function checkLogConfig(lc: HostConfig['LogConfig']): void {
  const type = lc?.Type || DEFAULT_LOG_DRIVER;
  if (REMOTE_DRIVERS.includes(type)) {
    throw unsupported(`logging driver "${type}" is not supported by berthd: it keeps logs on the host only (json-file, local or none)`);
  }
  const known = OPTIONS[type];
  if (!known) throw invalid(`error looking up logging plugin ${type}: plugin "${type}" not found`);
  if (type === 'cri' && !lc?.Config?.path) throw invalid("the cri log driver needs log opt 'path'");
  for (const [k, v] of Object.entries(lc?.Config ?? {})) {
    if (['labels', 'labels-regex', 'env', 'env-regex', 'tag'].includes(k) && type === 'json-file') {
      throw unsupported(`log opt '${k}' of the json-file log driver is not supported by berthd (it records no attributes)`);
    }
    if (k === 'compress' && type === 'json-file' && v === 'true') {
      throw unsupported("log opt 'compress' of the json-file log driver is not supported by berthd (rotated files stay uncompressed)");
    }
    if (!known.includes(k) && !(k === 'compress' && type === 'json-file')) throw invalid(`unknown log opt '${k}' for ${type} log driver`);
    if (k === 'path' && !v.startsWith('/'))
      throw invalid(`log opt 'path' of the cri log driver must be an absolute path, not ${JSON.stringify(v)}`);
    if (k === 'max-size' && !/^\d+(\.\d+)?\s*([kmgtp]i?)?b?$/i.test(v))
      throw invalid(`failed to initialize logging driver: invalid size: '${v}'`);
    if (k === 'max-file' && (!/^-?\d+$/.test(v) || Number(v) < 1))
      throw invalid(Number(v) < 1 ? 'max-file cannot be less than 1' : `strconv.Atoi: parsing "${v}": invalid syntax`);
  }
}

/** The limits of the log the monitor writes: `local`'s defaults are dockerd's (20 MB, 5 files). */
export function logLimitsOf(lc: HostConfig['LogConfig']): { maxSize?: string; maxFile?: string } {
  const c = lc?.Config ?? {};
  if (lc?.Type === 'local') return { maxSize: c['max-size'] ?? '20m', maxFile: c['max-file'] ?? '5' };
  return { maxSize: c['max-size'], maxFile: c['max-file'] };
}
