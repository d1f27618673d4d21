// The JSON schemas of the manifests berth kube plays, one per kind: written from the Kubernetes
// API reference (core/v1, apps/v1, batch/v1), and holding only the fields berth applies. A field
// that is not here, whether Kubernetes defines it or not, fails validation (validate.ts) and is
// refused with its file, document and line — never dropped.

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const strList: Schema = { type: 'array', items: str };
const strMap: Schema = { type: 'object', additionalProperties: str };
/** A port given as a number or by a container port's name. */
const intOrStr: Schema = { type: ['integer', 'string'] };
/** A resource quantity: `128Mi`, `0.5`, `500m`, or a bare number. */
const quantity: Schema = { type: ['string', 'number'] };

/** A mapping with exactly these keys. */
function obj(properties: Record<string, Schema>, required?: string[]): Schema {
  return { type: 'object', properties, additionalProperties: false, ...(required ? { required } : {}) };
}

const list = (items: Schema): Schema => ({ type: 'array', items });

const metadata = obj(
  {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 },
    namespace: str,
    labels: strMap,
    annotations: strMap,
  },
  ['name'],
);

/** A pod template's metadata: no name of its own (the pods are named after their owner). */
const templateMetadata = obj({ labels: strMap, annotations: strMap });

const keyRef = obj({ name: str, key: str, optional: bool }, ['key']);

const env = obj(
  {
    name: str,
    value: str,
    valueFrom: obj({ configMapKeyRef: keyRef, secretKeyRef: keyRef }),
  },
  ['name'],
);

const envFrom = obj({
  prefix: str,
  configMapRef: obj({ name: str, optional: bool }),
  secretRef: obj({ name: str, optional: bool }),
});

const containerPort = obj(
  {
    name: str,
    containerPort: int,
    hostPort: int,
    hostIP: str,
    protocol: { enum: ['TCP', 'UDP'] },
  },
  ['containerPort'],
);

const resourceList = obj({ cpu: quantity, memory: quantity });

const probe = obj({
  exec: obj({ command: strList }),
  httpGet: obj({ path: str, port: intOrStr, host: str, scheme: { enum: ['HTTP'] } }, ['port']),
  tcpSocket: obj({ port: intOrStr, host: str }, ['port']),
  initialDelaySeconds: int,
  periodSeconds: int,
  timeoutSeconds: int,
  failureThreshold: int,
  successThreshold: int,
});

const container = obj(
  {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    image: str,
    imagePullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
    command: strList,
    args: strList,
    workingDir: str,
    env: list(env),
    envFrom: list(envFrom),
    ports: list(containerPort),
    resources: obj({ limits: resourceList, requests: resourceList }),
    volumeMounts: list(obj({ name: str, mountPath: str, readOnly: bool, subPath: str }, ['name', 'mountPath'])),
    livenessProbe: probe,
    readinessProbe: probe,
    securityContext: obj({
      runAsUser: int,
      runAsGroup: int,
      privileged: bool,
      readOnlyRootFilesystem: bool,
      capabilities: obj({ add: strList, drop: strList }),
    }),
    stdin: bool,
    tty: bool,
  },
  ['name', 'image'],
);

const keyToPath = obj({ key: str, path: str, mode: int }, ['key', 'path']);

const volume = obj(
  {
    name: str,
    configMap: obj({ name: str, items: list(keyToPath), defaultMode: int, optional: bool }),
    secret: obj({ secretName: str, items: list(keyToPath), defaultMode: int, optional: bool }),
    persistentVolumeClaim: obj({ claimName: str, readOnly: bool }, ['claimName']),
    emptyDir: obj({ medium: { enum: ['', 'Memory'] }, sizeLimit: quantity }),
    hostPath: obj({ path: str, type: { enum: ['', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate'] } }, ['path']),
  },
  ['name'],
);

const podSpec = obj(
  {
    containers: { ...list(container), minItems: 1 },
    restartPolicy: { enum: ['Always', 'OnFailure', 'Never'] },
    volumes: list(volume),
    hostname: str,
    terminationGracePeriodSeconds: int,
  },
  ['containers'],
);

const template = obj({ metadata: templateMetadata, spec: podSpec }, ['spec']);

const selector = obj({ matchLabels: strMap });

const top = (apiVersion: string, kind: string, props: Record<string, Schema>, required: string[] = []): Schema =>
  obj({ apiVersion: { const: apiVersion }, kind: { const: kind }, metadata, ...props }, ['apiVersion', 'kind', 'metadata', ...required]);

/** Each kind berth kube plays, by `kind`, with the apiVersion it is read in. */
export const KIND_SCHEMAS: Record<string, Schema> = {
  Pod: top('v1', 'Pod', { spec: podSpec }, ['spec']),
  Deployment: top('apps/v1', 'Deployment', { spec: obj({ replicas: int, selector, template }, ['selector', 'template']) }, ['spec']),
  ReplicaSet: top('apps/v1', 'ReplicaSet', { spec: obj({ replicas: int, selector, template }, ['selector', 'template']) }, ['spec']),
  Job: top(
    'batch/v1',
    'Job',
    { spec: obj({ template, backoffLimit: int, completions: { const: 1 }, parallelism: { const: 1 } }, ['template']) },
    ['spec'],
  ),
  Service: top(
    'v1',
    'Service',
    {
      spec: obj({
        type: { enum: ['ClusterIP', 'NodePort'] },
        selector: strMap,
        ports: {
          ...list(obj({ name: str, protocol: { enum: ['TCP', 'UDP'] }, port: int, targetPort: intOrStr, nodePort: int }, ['port'])),
          minItems: 1,
        },
      }),
    },
    ['spec'],
  ),
  ConfigMap: top('v1', 'ConfigMap', { data: strMap, binaryData: strMap, immutable: bool }),
  Secret: top('v1', 'Secret', { type: { enum: ['Opaque'] }, data: strMap, stringData: strMap, immutable: bool }),
  PersistentVolumeClaim: top('v1', 'PersistentVolumeClaim', {
    spec: obj({
      accessModes: list({ enum: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] }),
      resources: obj({ requests: obj({ storage: quantity }) }),
    }),
  }),
};
