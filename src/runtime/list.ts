// `list` and `state`: what runc prints about containers, from the state directory.
import { openContainer } from './container.js';
import { StateDir } from './state.js';

interface ListEntry {
  ociVersion: string;
  id: string;
  pid: number;
  status: string;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

export function state(root: string, id: string): string {
  return JSON.stringify(openContainer(root, id).state, null, '  ') + '\n';
}

export function list(root: string, format: 'table' | 'json', quiet: boolean): string {
  const entries: ListEntry[] = [];
  for (const id of new StateDir(root).ids()) {
    try {
      const c = openContainer(root, id);
      entries.push({
        ociVersion: c.state.ociVersion,
        id,
        pid: c.status === 'stopped' ? 0 : c.rec.pid,
        status: c.status,
        bundle: c.rec.bundle,
        rootfs: c.rec.rootfs,
        created: c.rec.created,
        annotations: c.rec.config.annotations,
        owner: 'root',
      });
    } catch {
      continue; // a container being created or deleted right now
    }
  }
  if (quiet) return entries.map((e) => e.id + '\n').join('');
  if (format === 'json') return JSON.stringify(entries) + '\n';
  const rows = [
    ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
    ...entries.map((e) => [e.id, String(e.pid), e.status, e.bundle, e.created, e.owner]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] + 3) : c)).join('')).join('\n') + '\n';
}
