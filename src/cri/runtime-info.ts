// Version, Status and UpdateRuntimeConfig: what berthd is, whether it can run pods (the runtime
// always; the network once the CNI config dir holds a network), and the pod CIDR kubelet hands
// down, kept to be shown by Status (berth's pods take their addresses from the CNI network's own IPAM).

import { readdir } from 'node:fs/promises';
import { BERTH_VERSION } from '../common/version.js';
import { isErrno } from '../common/errno.js';
import { refuseUnapplied } from './fields.js';

/** The runtime.v1 API this server speaks. */
export const CRI_API_VERSION = 'v1';

export interface RuntimeInfoOptions {
  /** Where kubelet's node keeps CNI network configs (`--cni-conf-dir`). */
  cniConfDir: string;
}

/** libcni's config file names, in the order it picks the first. */
export async function cniConfigFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
}

export function runtimeInfo(opts: RuntimeInfoOptions) {
  let podCidr = '';
  return {
    async Version() {
      return { version: '0.1.0', runtime_name: 'berth', runtime_version: BERTH_VERSION, runtime_api_version: CRI_API_VERSION };
    },

    async Status(req: { verbose?: boolean }) {
      const files = await cniConfigFiles(opts.cniConfDir);
      const network = files.length
        ? { type: 'NetworkReady', status: true }
        : { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: `no CNI network config in ${opts.cniConfDir}` };
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
