import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mountsUnder } from './shared-mounts.js';

test('mountsUnder lists the mounts at and below a folder, unescaped, in mountinfo order', () => {
  const text = [
    '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '90 26 0:50 / /b/rootfs rw - overlay overlay rw',
    '91 90 0:51 / /b/rootfs/proc rw - proc proc rw',
    '92 90 0:52 / /b/rootfs/my\\040dir rw shared:3 - tmpfs tmpfs rw',
    '93 26 0:53 / /b/rootfs2 rw - tmpfs tmpfs rw',
    '',
  ].join('\n');
  assert.deepEqual(mountsUnder(text, '/b/rootfs'), [
    { id: 90, mountPoint: '/b/rootfs' },
    { id: 91, mountPoint: '/b/rootfs/proc' },
    { id: 92, mountPoint: '/b/rootfs/my dir' },
  ]);
});
