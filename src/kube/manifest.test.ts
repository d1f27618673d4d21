import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manifestOf, defaultPullPolicy } from './manifest.js';
import { parseManifest } from './source.js';

const load = (text: string) => manifestOf('app.yaml', parseManifest('app.yaml', text));

const DEPLOY = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "1"}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: httpd
        image: busybox
        ports:
        - containerPort: 80
        resources:
          limits: {memory: 64Mi}
`;

test('documents are read with Kubernetes defaults', () => {
  const m = load(DEPLOY);
  assert.deepEqual(
    m.objects.map((o) => `${o.kind}/${o.name}/${o.namespace}`),
    ['ConfigMap/cfg/default', 'Deployment/web/default'],
  );
  const spec = m.objects[1].value.spec.template.spec;
  assert.equal(spec.restartPolicy, 'Always');
  assert.equal(spec.containers[0].imagePullPolicy, 'Always');
  assert.equal(spec.containers[0].ports[0].protocol, 'TCP');
  assert.deepEqual(spec.containers[0].resources.requests, { memory: '64Mi' });
});

test('imagePullPolicy defaults by the tag', () => {
  assert.equal(defaultPullPolicy('busybox'), 'Always');
  assert.equal(defaultPullPolicy('busybox:latest'), 'Always');
  assert.equal(defaultPullPolicy('localhost:5000/busybox'), 'Always');
  assert.equal(defaultPullPolicy('localhost:5000/busybox:1.36'), 'IfNotPresent');
  assert.equal(defaultPullPolicy('busybox@sha256:abc'), 'IfNotPresent');
});

test('an unsupported field names the file, line, document, kind, name and path', () => {
  const text = DEPLOY.replace('        ports:', '        lifecycle: {}\n        ports:');
  assert.throws(
    () => load(text),
    (e: Error) =>
      e.message ===
      'app.yaml:21:9: document 1 (Deployment "web"): spec.template.spec.containers[0].lifecycle: field "lifecycle" is not supported by berth kube (or is not a field of Deployment)',
  );
});

test('an unsupported kind is refused with the kinds berth plays', () => {
  assert.throws(
    () => load('apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\n'),
    /^BerthError: app.yaml:2:7: document 0 \(Ingress "x"\): kind: kind "Ingress" is not supported by berth kube: it plays Pod, Deployment/,
  );
});

test('a selector that does not match the template labels is the API server error', () => {
  assert.throws(
    () => load(DEPLOY.replace('matchLabels: {app: web}', 'matchLabels: {app: other}')),
    /spec.template.metadata.labels: Invalid value: \{"app":"web"\}: `selector` does not match template `labels`/,
  );
});

test("a Job's restartPolicy must be Never or OnFailure", () => {
  const job = `apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  template:
    spec:
      containers: [{name: c, image: busybox}]
`;
  assert.throws(() => load(job), /spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"/);
  const m = load(job.replace('containers:', 'restartPolicy: Never\n      containers:'));
  assert.equal(m.objects[0].value.spec.backoffLimit, 6);
});

test('wrong types, enums and apiVersions are told with their path', () => {
  assert.throws(() => load(DEPLOY.replace('replicas: 2', 'replicas: two')), /spec.replicas: expected an integer, got a string/);
  assert.throws(
    () => load(DEPLOY.replace('containerPort: 80', 'containerPort: 80\n          protocol: SCTP')),
    /ports\[0\].protocol: Unsupported value: "SCTP": supported values: "TCP", "UDP"/,
  );
  assert.throws(() => load(DEPLOY.replace('apps/v1', 'apps/v1beta1')), /apiVersion: "apps\/v1beta1": berth kube supports only "apps\/v1"/);
  assert.throws(() => load(DEPLOY.replace('name: httpd', 'name: Httpd')), /containers\[0\].name: Invalid value: "Httpd"/);
});

test('a YAML syntax error names the file and line', () => {
  assert.throws(() => load('kind: Pod\n---\nmetadata: [a\n'), /^BerthError: app.yaml:\d+:\d+: document 1: /);
});

test('a Service port must equal its targetPort; nodePort needs type NodePort', () => {
  const svc = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;
  assert.throws(() => load(svc), /spec.ports\[0\].targetPort: berth kube resolves a Service's name/);
  assert.throws(
    () => load(svc.replace('targetPort: 8080', 'nodePort: 30080')),
    /nodePort: Forbidden: may not be used when `type` is 'ClusterIP'/,
  );
  const ok = load(svc.replace('targetPort: 8080', 'nodePort: 30080').replace('spec:', 'spec:\n  type: NodePort'));
  assert.deepEqual(ok.objects[0].value.spec.ports[0], { port: 80, nodePort: 30080, protocol: 'TCP', targetPort: 80 });
});

test('the same object twice is refused', () => {
  assert.throws(() => load(`${DEPLOY}---\n${DEPLOY.split('---\n')[0]}`), /ConfigMap "cfg" is also defined by document 0/);
});
