// `berth kube down [--network NAME] FILE|-`: what `kube play` of the file made, removed.

import type { KubeCommand } from '../cli.js';
import { teardown } from '../down.js';
import { loadManifest } from '../manifest.js';
import { DEFAULT_NETWORK } from './play.js';

export const down: KubeCommand = {
  spec: {
    path: 'down',
    use: '[OPTIONS] FILE',
    about: 'Remove the pods, services, volumes and jobs kube play made from a Kubernetes manifest (- reads standard input)',
    args: { min: 1, max: 1 },
    flags: {
      network: {
        type: 'string',
        desc: 'Network the pods joined (removed when kube play made it and it is left empty)',
        dflt: `"${DEFAULT_NETWORK}"`,
      },
    },
  },
  async run(ctx, { flags, args }) {
    const m = await loadManifest(args[0], ctx.stdin);
    await teardown(ctx.client, m, {
      network: (flags.network as string | undefined) ?? DEFAULT_NETWORK,
      log: (l) => ctx.out.write(`${l}\n`),
    });
    return 0;
  },
};
