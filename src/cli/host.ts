// Where the daemon is: `-H`, then BERTH_HOST, then DOCKER_HOST, then the default socket: root's
// berthd for root, the user's own rootless berthd for anyone else (common/rootless.ts).
import { isRoot, rootlessHost } from '../common/rootless.js';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export function daemonHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, root = isRoot()): string {
  const h = flag || env.BERTH_HOST || env.DOCKER_HOST || (root ? DEFAULT_HOST : rootlessHost(env));
  return h.startsWith('/') ? `unix://${h}` : h;
}
