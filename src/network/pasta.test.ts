import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardSpec, pastaArgs } from './pasta.js';

test("pasta's arguments: the container's pinned network namespace, its published ports as forwards, nothing else of the host's", () => {
  assert.equal(forwardSpec({ hostIP: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }), '8080:80');
  assert.equal(forwardSpec({ hostIP: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }), '127.0.0.1/8080:80');
  assert.deepEqual(
    pastaArgs(
      '/run/ns/c1',
      [
        { hostIP: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIP: '127.0.0.1', hostPort: 8443, containerPort: 443, protocol: 'tcp' },
        { hostIP: '0.0.0.0', hostPort: 5353, containerPort: 53, protocol: 'udp' },
      ],
      '/x/pasta.pid',
    ),
    [
      '--runas',
      '0:0',
      '--config-net',
      '--quiet',
      '--pid',
      '/x/pasta.pid',
      '-t',
      '8080:80',
      '-t',
      '127.0.0.1/8443:443',
      '-u',
      '5353:53',
      '-T',
      'none',
      '-U',
      'none',
      '--netns',
      '/run/ns/c1',
    ],
  );
  assert.deepEqual(pastaArgs('/n', [], '/p').slice(6), ['-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none', '--netns', '/n']);
  assert.throws(
    () => pastaArgs('/n', [{ hostIP: '', hostPort: 1, containerPort: 1, protocol: 'sctp' }], '/p'),
    /1\/sctp: pasta, .* TCP and UDP only/,
  );
});
