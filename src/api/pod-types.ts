// The JSON of berth's pod routes (api/server/pods.ts), after podman's libpod pod API: what a
// client sends to POST /pods/create (PodSpecGenerator's fields berth applies, snake_case as
// podman's) and what GET /pods/json and /pods/{name}/json answer (ListPodsReport, PodInspect).
// A leaf shared by the server and its clients (the CLI, `berth kube`).

/** POST /pods/create. Every field is optional; a field not listed here is refused (400). */
export interface PodCreateBody {
  name?: string;
  hostname?: string;
  labels?: Record<string, string>;
  /** Namespaces shared with the infra container: net, ipc, uts, pid; `+pid` adds to the default (net, ipc, uts). */
  share?: string[];
  /** An absolute cgroupfs path the pod's containers go below. */
  cgroup_parent?: string;
  /** Published once for the whole pod. `range`: that many consecutive ports; `protocol`: tcp, udp or tcp,udp. */
  portmappings?: { container_port: number; host_port?: number; host_ip?: string; protocol?: string; range?: number }[];
  /** bridge (the default network), host or none. */
  netns?: { nsmode: string };
  /** One network to join, by name, with DNS aliases beside the pod's name: `{"app": {"aliases": ["db"]}}`. */
  Networks?: Record<string, { aliases?: string[] }>;
  dns_server?: string[];
  dns_search?: string[];
  dns_option?: string[];
  /** `name:ip` entries of /etc/hosts. */
  hostadd?: string[];
}

export type PodStatus = 'Created' | 'Running' | 'Degraded' | 'Paused' | 'Exited' | 'Stopped';

/** GET /pods/{name}/json. */
export interface PodInspectReport {
  Id: string;
  Name: string;
  Namespace: string;
  Created: string;
  State: PodStatus;
  Hostname: string;
  Labels: Record<string, string>;
  CreateCgroup: boolean;
  CgroupParent: string;
  CreateInfra: boolean;
  InfraContainerID: string;
  InfraConfig: {
    PortBindings: Record<string, { HostIp?: string; HostPort?: string }[] | null>;
    HostNetwork: boolean;
    StaticIP: string;
    StaticMAC: string;
    NoManageResolvConf: boolean;
    DNSServer: string[] | null;
    DNSSearch: string[] | null;
    DNSOption: string[] | null;
    NoManageHosts: boolean;
    HostAdd: string[] | null;
    Networks: string[];
  };
  SharedNamespaces: string[];
  NumContainers: number;
  /** The infra container first; State is the container's (running, exited, …). */
  Containers: { Id: string; Name: string; State: string }[];
}

/** One item of GET /pods/json. */
export interface PodListReport {
  Cgroup: string;
  Containers: { Id: string; Names: string; Status: string; RestartCount: number }[];
  Created: string;
  Id: string;
  InfraId: string;
  Name: string;
  Namespace: string;
  Networks: string[];
  Status: PodStatus;
  Labels: Record<string, string>;
}
