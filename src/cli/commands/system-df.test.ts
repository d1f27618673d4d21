import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderDiskUsage, type DiskUsage } from './system-df.js';

const du: DiskUsage = {
  LayersSize: 3_187_930,
  Images: [{ Id: `sha256:${'a'.repeat(64)}`, RepoTags: ['busybox:latest'], Created: 0, Size: 1_057_605, SharedSize: 0, Containers: 1 }],
  Containers: [],
  Volumes: [{ Name: 'v', Driver: 'local', Mountpoint: '/m', Scope: 'local', Labels: null, UsageData: { Size: 2_000_000, RefCount: 0 } }],
  BuildCache: [
    {
      ID: 'b'.repeat(25),
      Type: 'regular',
      Description: 'd',
      InUse: true,
      Shared: false,
      Size: 500,
      CreatedAt: '2026-01-01T00:00:00Z',
      UsageCount: 2,
    },
  ],
};

test("the summary as docker's: 4-digit sizes, a floored percent only where the total is not 0", () => {
  assert.equal(
    renderDiskUsage(du, undefined, false),
    [
      'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE',
      'Images          1         1         3.188MB   2.13MB (66%)',
      'Containers      0         0         0B        0B',
      'Local Volumes   1         0         2MB       2MB (100%)',
      'Build Cache     1         1         500B      0B',
      '',
    ].join('\n'),
  );
  assert.equal(
    renderDiskUsage(du, 'json', false).split('\n')[0],
    '{"Active":"1","Reclaimable":"2.13MB (66%)","Size":"3.188MB","TotalCount":"1","Type":"Images"}',
  );
  assert.throws(() => renderDiskUsage(du, 'raw', false), /not supported/);
});

test('-v: the four tables, the in-use cache record starred; json is one object with no newline', () => {
  const out = renderDiskUsage(du, undefined, true);
  assert.match(out, /^Images space usage:\n\nREPOSITORY {3}TAG {7}IMAGE ID {7}CREATED/);
  assert.match(out, /\nbusybox {6}latest {4}aaaaaaaaaaaa {3}\S.* ago {3}1\.06MB {4}0B {12}1\.058MB {7}1\n/);
  assert.match(out, /\nBuild cache usage: 500B\n\nCACHE ID {8}CACHE TYPE/);
  assert.match(out, /\nbbbbbbbbbbbb\* {3}regular {6}500B/);
  const json = renderDiskUsage(du, 'json', true);
  assert.ok(!json.endsWith('\n'));
  assert.deepEqual(Object.keys(JSON.parse(json)), ['Images', 'Containers', 'Volumes', 'BuildCache']);
  assert.equal(renderDiskUsage(du, '{{range .Volumes}}{{.Name}}:{{.Size}}{{end}}', true), 'v:2MB');
});
