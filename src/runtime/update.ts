// `update`: change a running container's resources (docker update reaches the runtime here).
import { conflict } from '../errors.js';
import type { LinuxResources } from '../oci/runtime-spec.js';
import { openContainer } from './container.js';

export async function update(root: string, id: string, resources: LinuxResources): Promise<void> {
  const c = openContainer(root, id);
  if (c.status === 'stopped') throw conflict(`cannot update a stopped container`);
  await c.cgroups.update(resources);
  const linux = (c.rec.config.linux ??= {});
  const merged = (linux.resources ??= {});
  for (const [k, v] of Object.entries(resources) as [keyof LinuxResources, unknown][]) {
    const cur = merged[k];
    (merged as Record<string, unknown>)[k] =
      cur && typeof cur === 'object' && !Array.isArray(cur) && v && typeof v === 'object' && !Array.isArray(v) ? { ...cur, ...v } : v;
  }
  await c.dirs.save(c.rec);
}
