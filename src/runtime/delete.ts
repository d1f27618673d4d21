// `delete`: remove everything `create` made — processes (with --force), cgroups, state — and
// run the poststop hooks.
import { conflict, errorMessage } from '../errors.js';
import { openContainer } from './container.js';
import { teardown } from './create.js';
import { runHooks } from './hooks.js';
import { ociState } from './state.js';

export async function deleteContainer(root: string, id: string, opts: { force?: boolean } = {}): Promise<void> {
  const c = openContainer(root, id);
  if (c.status !== 'stopped' && c.status !== 'created' && !opts.force)
    throw conflict(`cannot delete container ${id} that is not stopped: ${c.status}`);
  if (c.status === 'paused') c.cgroups.thaw();
  teardown(c.dirs, c.rec, c.cgroups, c.status === 'stopped' ? 0 : c.rec.pid);
  try {
    await runHooks('poststop', c.rec.config.hooks?.poststop, ociState(c.rec, 'stopped'));
  } catch (e) {
    process.stderr.write(`warning: ${errorMessage(e)}\n`);
  }
}
