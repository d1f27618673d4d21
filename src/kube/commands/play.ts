// `berth kube play [--network NAME] [--replace] FILE|-`: the manifest's objects made and started;
// exits 1 when a Job failed.

import type { KubeCommand } from '../cli.js';
import { teardown } from '../down.js';
import { loadManifest } from '../manifest.js';
import { play as playManifest } from '../play.js';

export const DEFAULT_NETWORK = 'kube';

export const play: KubeCommand = {
  spec: {
    path: 'play',
    use: '[OPTIONS] FILE',
    about: 'Create pods, services, volumes and jobs from a Kubernetes manifest (- reads standard input)',
    args: { min: 1, max: 1 },
    flags: {
      network: {
        type: 'string',
        desc: `Network the pods join (made when missing, then removed by kube down with its last pod)`,
        dflt: `"${DEFAULT_NETWORK}"`,
      },
      replace: { type: 'bool', desc: 'Take down what an earlier play of the file made first' },
    },
  },
  async run(ctx, { flags, args }) {
    const m = await loadManifest(args[0], ctx.stdin);
    const network = (flags.network as string | undefined) ?? DEFAULT_NETWORK;
    const log = (line: string) => ctx.out.write(`${line}\n`);
    if (flags.replace) await teardown(ctx.client, m, { network, log });
    const result = await playManifest(ctx.client, m, { network, log });
    return result.jobs.every((j) => j.succeeded) ? 0 : 1;
  },
};
