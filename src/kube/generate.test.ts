import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsLabel, splitLabels } from './generate.js';

test('names become DNS labels a cluster accepts', () => {
  assert.equal(dnsLabel('My_App.1'), 'my-app-1');
  assert.equal(dnsLabel('--x--'), 'x');
  assert.equal(dnsLabel('a'.repeat(70)).length, 63);
  assert.equal(dnsLabel('___'), 'x');
});

test("labels Kubernetes refuses go to the annotations; berth kube's own are left out", () => {
  assert.deepEqual(
    splitLabels({
      app: 'web',
      'com.docker.compose.project': 'demo',
      'com.docker.compose.project.config_files': '/srv/demo/compose.yaml',
      'io.berth.kube.owner': 'Deployment/web',
      'example.com/tier': 'front',
    }),
    {
      labels: { app: 'web', 'com.docker.compose.project': 'demo', 'example.com/tier': 'front' },
      annotations: { 'com.docker.compose.project.config_files': '/srv/demo/compose.yaml' },
    },
  );
});
