// `delete`: remove everything `create` made — processes (with --force), cgroups, state — and
// run the poststop hooks.
import { conflict } from '../errors.js';
import { openContainer } from './container.js';
import { removeContainer } from './create.js';

export async function deleteContainer(root: string, id: string, opts: { force?: boolean } = {}): Promise<void> {
  const c = openContainer(root, id);
  if (c.status !== 'stopped' && c.status !== 'created' && !opts.force)
    throw conflict(`cannot delete container ${id} that is not stopped: ${c.status}`);
  if (c.status === 'paused') c.cgroups.thaw();
  await removeContainer(c.dirs, c.rec, c.cgroups, c.status === 'stopped' ? 0 : c.rec.pid);
}
