// `berth kube generate [-f FILE] CONTAINER|POD`: a Pod manifest of it, on standard output or in FILE.

import { writeFile } from 'node:fs/promises';
import type { KubeCommand } from '../cli.js';
import { generate as generatePod } from '../generate.js';

export const generate: KubeCommand = {
  spec: {
    path: 'generate',
    use: '[OPTIONS] CONTAINER|POD',
    about: 'Print a Kubernetes Pod manifest of a container or pod',
    args: { min: 1, max: 1 },
    flags: {
      filename: { short: 'f', type: 'string', desc: 'Write the manifest to this file' },
    },
  },
  async run(ctx, { flags, args }) {
    const { yaml, notes } = await generatePod(ctx.client, args[0]);
    for (const n of notes) ctx.err.write(`WARN: ${n}\n`);
    if (flags.filename) await writeFile(flags.filename as string, yaml);
    else ctx.out.write(yaml);
    return 0;
  },
};
