// `delete`: remove everything `create` made — processes (with --force), cgroups, state — and
// run the poststop hooks.
import { BerthError, conflict } from '../errors.js';
import { openContainer } from './container.js';
import { removeContainer } from './create.js';
import type { RuntimeLogger } from './log.js';
import { StateDir } from './state.js';

export async function deleteContainer(root: string, id: string, opts: { force?: boolean }, log: RuntimeLogger): Promise<void> {
  let c;
  try {
    c = openContainer(root, id);
  } catch (e) {
    // As runc: `delete --force` of a container that does not exist (or whose create died
    // before its state was saved) removes what is left of its folder and succeeds. Engines
    // call it after a failed create and on cleanup.
    if (!(opts.force && e instanceof BerthError && e.kind === 'not-found')) throw e;
    await new StateDir(root).remove(id);
    return;
  }
  if (c.status !== 'stopped' && c.status !== 'created' && !opts.force)
    throw conflict(`cannot delete container ${id} that is not stopped: ${c.status}`);
  if (c.status === 'paused') await c.cgroups.thaw();
  await removeContainer(c.dirs, c.rec, c.cgroups, c.status === 'stopped' ? 0 : c.rec.pid, log);
}
