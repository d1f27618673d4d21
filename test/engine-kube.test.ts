// `berth kube` against a berthd of the test's own (issue 15): a Deployment of 2 replicas (busybox
// httpd serving its hostname and a ConfigMap's greeting), a NodePort Service and a ConfigMap,
// played on a network of the test's subnet 10.213.88.0/24; both replicas answer through the
// NodePort from the host, and the Service's name resolves inside a pod; `kube down` leaves no
// pod, container, volume, balancer or iptables chain. `kube generate` of a played pod plays
// back. A Job that succeeds, and one that fails past its backoffLimit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BERTH, startEngine, until, type EngineFixture } from './engine-fixture.js';

const SUBNET = '10.213.88.0/24';
const GATEWAY = '10.213.88.1';
const NET = 'kube-test-net';
const NODE_PORT = 31888;

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
  eng.dockerOk(['network', 'create', '--subnet', SUBNET, '--gateway', GATEWAY, NET]);
});
after(async () => {
  if (!eng) return;
  // What a failed test left: pods, balancers (their rules outlive berthd), then the network and its bridge.
  for (const p of JSON.parse((await eng.api('GET', '/pods/json')).body) as { Name: string }[])
    await eng.api('DELETE', `/pods/${p.Name}?force=1`);
  for (const b of JSON.parse((await eng.api('GET', '/balancers')).body) as { Id: string }[]) await eng.api('DELETE', `/balancers/${b.Id}`);
  for (const c of JSON.parse((await eng.api('GET', '/containers/json?all=1')).body) as { Id: string }[])
    await eng.api('DELETE', `/containers/${c.Id}?force=1`);
  eng.dockerOk(['network', 'rm', NET]);
  await eng.stop();
});

function berth(args: string[], input?: string) {
  const r = spawnSync(BERTH, args, {
    encoding: 'utf8',
    timeout: 120_000,
    input,
    env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function kubeOk(...args: string[]): string {
  const r = berth(['kube', ...args]);
  assert.equal(r.status, 0, `berth kube ${args.join(' ')}: ${r.out}`);
  return r.out;
}

function get(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The hostnames that answer on `host:port` within `tries` requests (retrying while the servers start). */
async function answering(host: string, port: number, want: number, tries = 60): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < tries && seen.size < want; i++) {
    try {
      seen.add((await get(host, port)).split('\n')[0]);
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return seen;
}

const natChains = () =>
  execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /BERTH-SVC|BERTH-SERVICES/.test(l));

const APP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: site
data:
  greeting: hello from a ConfigMap
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
        command: [sh, -c, 'mkdir -p /www && { hostname; cat /etc/site/greeting; echo; echo "$GREETING"; } > /www/index.html && exec httpd -f -p 8080 -h /www']
        env:
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: site, key: greeting}}
        ports:
        - {containerPort: 8080, name: http}
        resources:
          limits: {memory: 64Mi, cpu: 500m}
        volumeMounts:
        - {name: site, mountPath: /etc/site}
        - {name: data, mountPath: /data}
      volumes:
      - name: site
        configMap: {name: site}
      - name: data
        persistentVolumeClaim: {claimName: web-data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: web-data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {port: 8080, targetPort: http, nodePort: ${NODE_PORT}}
`;

test('a Deployment of 2 replicas behind a NodePort Service, with a ConfigMap: both answer from the host, kube down leaves nothing', async () => {
  const file = join(eng.dir, 'app.yaml');
  writeFileSync(file, APP);
  const out = kubeOk('play', '--network', NET, file);
  assert.match(out, /Pod web-1 \(Deployment "web"\): started/);
  assert.match(out, new RegExp(`Service web: NodePort ${NODE_PORT}/tcp to 2 pod`));

  for (const host of [GATEWAY, '127.0.0.1']) {
    const seen = await answering(host, NODE_PORT, 2);
    assert.deepEqual([...seen].sort(), ['web-1', 'web-2'], `both replicas answer on ${host}:${NODE_PORT}`);
  }
  const page = await get(GATEWAY, NODE_PORT);
  assert.match(page, /^web-\d\nhello from a ConfigMap\nhello from a ConfigMap\n$/);

  // The Service's name resolves on the pods' network to both pods.
  const inside = eng.dockerOk(['exec', 'web-1-httpd', 'nslookup', 'web.default.svc.cluster.local']);
  const ips = [...inside.matchAll(/^Address: (10\.213\.88\.\d+)$/gm)].map((m) => m[1]);
  assert.equal(new Set(ips).size, 2, inside);
  assert.match(eng.dockerOk(['exec', 'web-2-httpd', 'wget', '-qO-', 'http://web:8080/']), /^web-\d/);

  // Limits reached the cgroup.
  const hc = JSON.parse(eng.dockerOk(['inspect', 'web-1-httpd']))[0].HostConfig;
  assert.equal(hc.Memory, 64 * 2 ** 20);
  assert.equal(hc.NanoCpus, 5e8);

  // Played twice: refused, nothing changed.
  const again = berth(['kube', 'play', '--network', NET, file]);
  assert.equal(again.status, 1);
  assert.match(again.out, /Deployment "web" is already played here/);

  kubeOk('down', '--network', NET, file);
  assert.deepEqual(JSON.parse((await eng.api('GET', '/pods/json')).body), []);
  assert.equal(eng.dockerOk(['ps', '-aq']), '');
  assert.equal(eng.dockerOk(['volume', 'ls', '-q']), '');
  assert.deepEqual(JSON.parse((await eng.api('GET', '/balancers')).body), []);
  assert.deepEqual(natChains(), []);
});

test("a readinessProbe keeps a pod out of its Service's NodePort until it passes, and takes it out when it fails", async () => {
  const port = NODE_PORT + 1;
  const file = join(eng.dir, 'ready.yaml');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Pod
metadata:
  name: gated
  labels: {app: gated}
spec:
  containers:
  - name: httpd
    image: busybox
    command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www']
    ports:
    - {containerPort: 8080}
    readinessProbe:
      exec: {command: [test, -e, /tmp/ready]}
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata:
  name: gated
spec:
  type: NodePort
  selector: {app: gated}
  ports:
  - {port: 8080, nodePort: ${port}}
`,
  );
  kubeOk('play', '--network', NET, file);
  try {
    const serves = async () => (await answering(GATEWAY, port, 1, 5)).size === 1;
    // Running, but not ready: no connection reaches it.
    assert.equal(await serves(), false, 'an unready pod got a connection');
    eng.dockerOk(['exec', 'gated-httpd', 'touch', '/tmp/ready']);
    await until(serves, 20_000);
    eng.dockerOk(['exec', 'gated-httpd', 'rm', '/tmp/ready']);
    await until(async () => !(await serves()), 20_000);
    // Not ready is not dead: the container runs on (a readinessProbe restarts nothing).
    assert.equal(JSON.parse(eng.dockerOk(['inspect', 'gated-httpd']))[0].RestartCount, 0);
  } finally {
    kubeOk('down', '--network', NET, file);
  }
  assert.deepEqual(natChains(), []);
});

test('kube generate of a played pod is a Pod a cluster accepts, and it plays back', async () => {
  const file = join(eng.dir, 'gen-src.yaml');
  writeFileSync(file, APP.replace('replicas: 2', 'replicas: 1'));
  kubeOk('play', '--network', NET, file);
  const yaml = kubeOk('generate', 'web-1');
  kubeOk('down', '--network', NET, file);
  const doc = parse(yaml);
  assert.equal(doc.apiVersion, 'v1');
  assert.equal(doc.kind, 'Pod');
  assert.equal(doc.metadata.name, 'web-1');
  assert.deepEqual(doc.metadata.labels, { app: 'web' });
  assert.equal(doc.status, undefined);
  const c = doc.spec.containers[0];
  assert.equal(c.name, 'httpd');
  assert.equal(c.image, 'busybox');
  assert.deepEqual(c.resources.limits, { memory: '64Mi', cpu: '500m' });
  assert.deepEqual(c.ports, [{ containerPort: 8080, protocol: 'TCP' }]);
  assert.deepEqual(c.volumeMounts, [{ name: 'web-data', mountPath: '/data' }]);
  // Played back (its claim now a volume made for the test).
  eng.dockerOk(['volume', 'create', 'web-data']);
  const gen = join(eng.dir, 'generated.yaml');
  writeFileSync(gen, yaml);
  kubeOk('play', '--network', NET, gen);
  const st = JSON.parse(eng.dockerOk(['inspect', 'web-1-httpd']))[0];
  assert.equal(st.State.Status, 'running');
  assert.equal(st.HostConfig.Memory, 64 * 2 ** 20);
  kubeOk('down', '--network', NET, gen);
  assert.equal(eng.dockerOk(['ps', '-aq']), '');
  // A volume that was there before the play stays.
  assert.equal(eng.dockerOk(['volume', 'ls', '-q']), 'web-data');
  eng.dockerOk(['volume', 'rm', 'web-data']);
});

const job = (name: string, script: string, extra = '') => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
${extra}  template:
    spec:
      restartPolicy: Never
      containers:
      - name: task
        image: busybox
        command: [sh, -c, '${script}']
`;

test('a Job that succeeds and a Job that fails past its backoffLimit', () => {
  const ok = join(eng.dir, 'job-ok.yaml');
  writeFileSync(ok, job('works', 'echo done'));
  assert.match(kubeOk('play', '--network', NET, ok), /Job works: succeeded \(pod works-1\)/);
  assert.match(eng.dockerOk(['logs', 'works-1-task']), /done/);
  kubeOk('down', '--network', NET, ok);

  const bad = join(eng.dir, 'job-bad.yaml');
  writeFileSync(bad, job('fails', 'exit 3', '  backoffLimit: 1\n'));
  const r = berth(['kube', 'play', '--network', NET, bad]);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /Job fails: pod fails-1 failed \(container fails-1-task exited with code 3\); trying again/);
  assert.match(r.out, /Job fails: failed: BackoffLimitExceeded: container fails-2-task exited with code 3 \(pods fails-1, fails-2\)/);
  kubeOk('down', '--network', NET, bad);
  assert.equal(eng.dockerOk(['ps', '-aq']), '');

  // OnFailure: one pod, its container restarted in place backoffLimit times; the manifest from standard input.
  const retry = job('retry', 'exit 4', '  backoffLimit: 2\n').replace('restartPolicy: Never', 'restartPolicy: OnFailure');
  const r2 = berth(['kube', 'play', '--network', NET, '-'], retry);
  assert.equal(r2.status, 1, r2.out);
  assert.match(r2.out, /Job retry: failed: BackoffLimitExceeded: container retry-1-task exited with code 4 \(pods retry-1\)/);
  assert.equal(eng.dockerOk(['inspect', '-f', '{{.RestartCount}} {{.State.ExitCode}}', 'retry-1-task']), '2 4');
  assert.equal(berth(['kube', 'down', '--network', NET, '-'], retry).status, 0);
  assert.equal(eng.dockerOk(['ps', '-aq']), '');
});

test('an unsupported field is refused with the file, line, document and path, before anything is made', () => {
  const file = join(eng.dir, 'bad.yaml');
  writeFileSync(file, APP.replace('        ports:\n', '        stdinOnce: true\n        ports:\n'));
  const r = berth(['kube', 'play', file]);
  assert.equal(r.status, 1);
  assert.equal(
    r.out.trim(),
    `${file}:27:9: document 1 (Deployment "web"): spec.template.spec.containers[0].stdinOnce: field "stdinOnce" is not supported by berth kube (or is not a field of Deployment)`,
  );
  assert.equal(eng.dockerOk(['ps', '-aq']), '');
});
