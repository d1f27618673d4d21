import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manifestOf } from './manifest.js';
import { expand, planPod, podNames } from './pod-plan.js';
import { serviceAliases, serviceBalancers } from './services.js';
import { parseManifest } from './source.js';

const load = (text: string) => manifestOf('app.yaml', parseManifest('app.yaml', text));

const APP = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: hello, port: "8080"}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data: {password: c2VjcmV0}
stringData: {user: admin}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: httpd
        image: busybox:1.36
        command: [httpd, -f, -p, $(PORT)]
        envFrom: [{configMapRef: {name: cfg}, prefix: CFG_}]
        env:
        - {name: PORT, valueFrom: {configMapKeyRef: {name: cfg, key: port}}}
        - {name: PASS, valueFrom: {secretKeyRef: {name: sec, key: password}}}
        - {name: URL, value: "http://localhost:$(PORT)/$$(PORT)"}
        ports: [{containerPort: 8080, name: http, hostPort: 18080}]
        resources:
          limits: {memory: 64Mi, cpu: 500m}
          requests: {cpu: 250m}
        volumeMounts:
        - {name: conf, mountPath: /etc/conf}
        - {name: creds, mountPath: /etc/user, subPath: user}
        - {name: data, mountPath: /data}
        - {name: scratch, mountPath: /scratch}
        livenessProbe:
          httpGet: {port: http, path: healthz}
          periodSeconds: 5
      volumes:
      - {name: conf, configMap: {name: cfg, items: [{key: greeting, path: hello.txt, mode: 0400}]}}
      - {name: creds, secret: {secretName: sec, defaultMode: 0600}}
      - {name: data, persistentVolumeClaim: {claimName: pvc1}}
      - {name: scratch, emptyDir: {}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 8080, targetPort: http, nodePort: 30080}]
`;

test('$(VAR) is expanded as the kubelet does', () => {
  const env = new Map([['A', '1']]);
  assert.equal(expand('$(A)-$(B)-$$(A)-$$', env), '1-$(B)-$(A)-$');
});

test('a Deployment runs a pod per replica, each with its containers as create bodies', () => {
  const m = load(APP);
  const web = m.objects[2];
  assert.deepEqual(podNames(web), ['web-1', 'web-2']);
  const plan = planPod(m, web, 'web-1');
  assert.equal(plan.hostname, 'web-1');
  assert.deepEqual(plan.portBindings, { '8080/tcp': [{ HostIp: '', HostPort: '18080' }] });
  assert.deepEqual(plan.podVolumes, ['web-1-scratch']);
  assert.deepEqual(plan.claims, ['pvc1']);
  const c = plan.containers[0];
  assert.equal(c.name, 'web-1-httpd');
  assert.equal(c.pullPolicy, 'IfNotPresent');
  const b = c.body;
  assert.deepEqual(b.Entrypoint, ['httpd', '-f', '-p', '8080']);
  assert.equal(b.Cmd, undefined);
  assert.deepEqual(b.Env, ['CFG_greeting=hello', 'CFG_port=8080', 'PORT=8080', 'PASS=secret', 'URL=http://localhost:8080/$(PORT)']);
  assert.equal(b.Labels.app, 'web');
  assert.equal(b.Labels['io.berth.kube.owner'], 'Deployment/web');
  assert.equal(b.Labels['io.berth.kube.pod'], 'web-1');
  assert.equal(b.StopTimeout, 5);
  assert.deepEqual(b.HostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  assert.equal(b.HostConfig.Memory, 64 * 2 ** 20);
  assert.equal(b.HostConfig.MemoryReservation, 64 * 2 ** 20);
  assert.equal(b.HostConfig.NanoCpus, 5e8);
  assert.equal(b.HostConfig.CpuShares, 256);
  assert.deepEqual(b.HostConfig.Mounts, [
    { Type: 'volume', Source: 'pvc1', Target: '/data', ReadOnly: false },
    { Type: 'volume', Source: 'web-1-scratch', Target: '/scratch', ReadOnly: false },
  ]);
  assert.deepEqual(b.Healthcheck.Test, [
    'CMD-SHELL',
    "wget -q -O /dev/null 'http://127.0.0.1:8080/healthz' || curl -fsS -o /dev/null 'http://127.0.0.1:8080/healthz'",
  ]);
  assert.equal(b.Healthcheck.Interval, 5e9);
  // A liveness probe's failure ends the container (its restartPolicy then decides).
  assert.equal(b.HealthOnFailure, 'kill');
  assert.deepEqual(
    c.files.map((f) => [f.path, f.data.toString(), f.mode.toString(8)]),
    [
      ['/etc/conf/hello.txt', 'hello', '400'],
      ['/etc/user', 'admin', '600'],
    ],
  );
});

test('a Service names its pods and balances its NodePort over them', () => {
  const m = load(APP);
  const plans = ['web-1', 'web-2'].map((n) => planPod(m, m.objects[2], n));
  assert.deepEqual(serviceAliases(m, plans[0]), ['web', 'web.default', 'web.default.svc', 'web.default.svc.cluster.local']);
  const [b] = serviceBalancers(m, plans);
  assert.deepEqual(b.create, {
    Name: 'default-web-30080-tcp',
    Labels: { 'io.berth.kube.owner': 'Service/web', 'io.berth.kube.namespace': 'default' },
    Protocol: 'tcp',
    HostPort: 30080,
    Backends: [
      { Container: 'web-1-httpd', Port: 8080 },
      { Container: 'web-2-httpd', Port: 8080 },
    ],
  });
});

test('a missing ConfigMap or key is told with its path', () => {
  const m = load(APP.replace('configMapKeyRef: {name: cfg, key: port}', 'configMapKeyRef: {name: cfg, key: nope}'));
  assert.throws(
    () => planPod(m, m.objects[2], 'web-1'),
    /containers\[0\].env\[0\].valueFrom: couldn't find key nope in ConfigMap default\/cfg/,
  );
  const m2 = load(APP.replace('configMapRef: {name: cfg}', 'configMapRef: {name: other}'));
  assert.throws(() => planPod(m2, m2.objects[2], 'web-1'), /envFrom\[0\]: configmap "other" not found in app.yaml/);
});

test("a Job's OnFailure is on-failure with backoffLimit retries", () => {
  const m = load(`apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: OnFailure
      containers: [{name: c, image: busybox, args: [sh, -c, "exit 1"]}]
`);
  const plan = planPod(m, m.objects[0], podNames(m.objects[0])[0]);
  assert.equal(plan.name, 'j-1');
  assert.deepEqual(plan.containers[0].body.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  assert.deepEqual(plan.containers[0].body.Cmd, ['sh', '-c', 'exit 1']);
  assert.equal(plan.containers[0].pullPolicy, 'Always');
});
