// Version, Status and UpdateRuntimeConfig: what berthd is, whether it can run pods (the runtime
// always; the network once the CNI config dir holds a network), and the pod CIDR kubelet hands
// down, kept to be shown by Status (the pods take their addresses from that network's own IPAM).

import { BERTH_VERSION } from '../common/version.js';
import type { Engine } from '../engine/index.js';
import { refuseUnapplied } from './fields.js';

/** The runtime.v1 API this server speaks. */
export const CRI_API_VERSION = 'v1';

export interface RuntimeInfoOptions {
  /** Where kubelet's node keeps CNI network configs (`--cni-conf-dir`). */
  cniConfDir: string;
}

export function runtimeInfo(engine: Engine, opts: RuntimeInfoOptions) {
  let podCidr = '';
  return {
    async Version() {
      return { version: '0.1.0', runtime_name: 'berth', runtime_version: BERTH_VERSION, runtime_api_version: CRI_API_VERSION };
    },

    async Status(req: { verbose?: boolean }) {
      const { files, notReady } = await engine.containers.networks.cniConfigStatus(opts.cniConfDir);
      const network = notReady
        ? { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: notReady }
        : { type: 'NetworkReady', status: true };
      return {
        status: { conditions: [{ type: 'RuntimeReady', status: true }, network] },
        info: req.verbose ? { config: JSON.stringify({ cniConfDir: opts.cniConfDir, cniConfigs: files, podCidr }) } : {},
      };
    },

    async UpdateRuntimeConfig(req: { runtime_config?: { network_config?: { pod_cidr?: string } } }) {
      refuseUnapplied('UpdateRuntimeConfig', req, { runtime_config: { network_config: { pod_cidr: true } } });
      podCidr = req.runtime_config?.network_config?.pod_cidr ?? '';
      return {};
    },
  };
}
