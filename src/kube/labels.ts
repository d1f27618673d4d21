// The labels berth kube puts on what it makes (pods, containers, volumes, networks, balancers),
// so that `kube down FILE` finds exactly what the file's objects made, and `kube generate`
// tells a container's Kubernetes name from berth's.

export const KL = {
  /** `Deployment/web`: the manifest object that made it. */
  owner: 'io.berth.kube.owner',
  namespace: 'io.berth.kube.namespace',
  /** On containers: the berth pod they run in. */
  pod: 'io.berth.kube.pod',
  /** On containers: the name the manifest gives the container. */
  container: 'io.berth.kube.container',
  /** On the network kube play made (it goes with the last pod on it). */
  network: 'io.berth.kube.network',
} as const;

/** The owner label's value for an object of the manifest. */
export const ownerOf = (kind: string, name: string) => `${kind}/${name}`;
