// What the CRI keeps of a sandbox or container beside the engine's record: its metadata, its
// annotations, its log path and the image as kubelet named it, as labels under `berth.cri.`
// (one store: `berth ps` and `berth pod ls` show kubelet's labels, the CRI reads them back).
// A pod or container without CRI metadata is berth's own, and the CRI does not list it.

export const CRI_LABEL = {
  metadata: 'berth.cri.metadata',
  annotations: 'berth.cri.annotations',
  logDirectory: 'berth.cri.log-directory',
  logPath: 'berth.cri.log-path',
  image: 'berth.cri.image',
} as const;

const PREFIX = 'berth.cri.';

/** Kubelet's labels with what the CRI keeps beside them. */
export function criLabels(
  labels: Record<string, string> | undefined,
  kept: Partial<Record<keyof typeof CRI_LABEL, unknown>>,
): Record<string, string> {
  const out: Record<string, string> = { ...labels };
  for (const [k, v] of Object.entries(kept)) {
    if (v === undefined || v === '') continue;
    out[CRI_LABEL[k as keyof typeof CRI_LABEL]] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** Kubelet's own labels, the CRI's taken out. */
export function kubeletLabels(labels: Record<string, string> | null | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => !k.startsWith(PREFIX)));
}

/** A kept value of JSON (metadata, annotations), or undefined for an object the CRI did not make. */
export function keptJSON<T>(labels: Record<string, string> | null | undefined, key: keyof typeof CRI_LABEL): T | undefined {
  const v = labels?.[CRI_LABEL[key]];
  return v === undefined ? undefined : (JSON.parse(v) as T);
}
