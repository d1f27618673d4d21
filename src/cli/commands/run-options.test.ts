import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBody, parseCreate } from './run-options.js';

const body = (...argv: string[]) => {
  const { flags, image, cmd } = parseCreate('run', argv);
  return createBody(flags, image, cmd, false) as { Labels: Record<string, string>; ExposedPorts?: object; HostConfig: Record<string, any>; [k: string]: any };
};

test('-p and --expose: ExposedPorts and PortBindings as the docker CLI sends them', () => {
  const b = body('-p', '8080:80', '-p', '127.0.0.1:9000:9000/udp', '-p', '127.0.0.1::53', '-p', '443', '--expose', '7000-7001', 'img');
  assert.deepEqual(b.ExposedPorts, { '7000-7001/tcp': {}, '80/tcp': {}, '9000/udp': {}, '53/tcp': {}, '443/tcp': {} });
  assert.deepEqual(b.HostConfig.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }], '9000/udp': [{ HostIp: '127.0.0.1', HostPort: '9000' }],
    '53/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '443/tcp': [{ HostIp: '', HostPort: '' }],
  });
  assert.equal(body('-P', 'img').HostConfig.PublishAllPorts, true);
  assert.throws(() => body('-p', 'a:b:c:d', 'img'), /invalid publish opts/);
});

test('labels and log options go in key order (as Go sends a map); the command and image split at the first operand', () => {
  const b = body('-l', 'z=1', '-l', 'a', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', 'img', 'sh', '-l');
  assert.deepEqual(Object.keys(b.Labels), ['a', 'z']);
  assert.deepEqual(b.Labels, { a: '', z: '1' });
  assert.deepEqual(Object.keys(b.HostConfig.LogConfig.Config), ['max-file', 'max-size']);
  assert.equal(b.Image, 'img');
  assert.deepEqual(b.Cmd, ['sh', '-l']);
  assert.throws(() => body('--rm', '--restart', 'always', 'img'), /cannot specify both --restart and --rm/);
  assert.throws(() => body('--log-opt', 'nokey', 'img'), /invalid key value pair/);
  assert.throws(() => parseCreate('create', ['--rm']), /requires at least 1 argument/);
});
