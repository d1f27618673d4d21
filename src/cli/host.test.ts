import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HOST, daemonHost } from './host.js';

test('the daemon is found from -H, then BERTH_HOST, then DOCKER_HOST, then the default socket', () => {
  const env = { BERTH_HOST: 'unix:///b.sock', DOCKER_HOST: 'tcp://127.0.0.1:2375' };
  assert.equal(daemonHost('unix:///flag.sock', env), 'unix:///flag.sock');
  assert.equal(daemonHost(undefined, env), 'unix:///b.sock');
  assert.equal(daemonHost(undefined, { DOCKER_HOST: 'tcp://127.0.0.1:2375' }), 'tcp://127.0.0.1:2375');
  assert.equal(daemonHost(undefined, { BERTH_HOST: '', DOCKER_HOST: '' }, true), DEFAULT_HOST);
  assert.equal(daemonHost('/run/x.sock', {}), 'unix:///run/x.sock');
});

test("an ordinary user's default is its own rootless berthd: $XDG_RUNTIME_DIR/berth, else /tmp/berth-<uid>/berth", () => {
  assert.equal(daemonHost(undefined, { XDG_RUNTIME_DIR: '/run/user/1000' }, false), 'unix:///run/user/1000/berth/berth.sock');
  assert.equal(daemonHost(undefined, {}, false), `unix:///tmp/berth-${process.getuid!()}/berth/berth.sock`);
  assert.equal(daemonHost(undefined, { DOCKER_HOST: 'unix:///d.sock' }, false), 'unix:///d.sock');
});
