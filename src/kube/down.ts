// `kube down`: what the manifest's objects made, found by the owner label kube play put on it
// (labels.ts), taken away — the balancers first (no connection goes to a pod on its way out),
// the pods with their containers, the volumes kube play made (a claim's volume, a pod's
// emptyDirs; a volume that was there before carries no label and stays), and the network when
// kube play made it and no container is left on it.

import type { ApiClient } from '../api/client.js';
import * as berthd from './berthd.js';
import { KL, ownerOf } from './labels.js';
import type { Manifest } from './manifest.js';

export interface DownOptions {
  network: string;
  log: (line: string) => void;
}

export async function teardown(client: ApiClient, m: Manifest, opts: DownOptions): Promise<void> {
  const owners = m.objects.map((o) => ({ o, label: `${KL.owner}=${ownerOf(o.kind, o.name)}` }));
  for (const { label } of owners) {
    for (const b of await berthd.balancersLabelled(client, [label])) {
      await berthd.removeBalancer(client, b.Id);
      opts.log(`Balancer ${b.Name}: removed`);
    }
  }
  for (const { label } of owners) {
    for (const p of await berthd.podsLabelled(client, [label])) {
      await berthd.removePod(client, p.Name);
      opts.log(`Pod ${p.Name}: removed`);
    }
    // Containers of a pod whose create failed half way (the pod removal takes the others).
    for (const c of await berthd.containersLabelled(client, [label])) await berthd.removeContainer(client, c.Id);
  }
  for (const { label } of owners) {
    for (const v of await berthd.volumesLabelled(client, [label])) {
      await berthd.removeVolume(client, v.Name);
      opts.log(`Volume ${v.Name}: removed`);
    }
  }
  if (await berthd.removeNetworkIfIdle(client, opts.network)) opts.log(`Network ${opts.network}: removed`);
}
