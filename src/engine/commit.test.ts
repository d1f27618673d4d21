// Unit tests: commit's image config from a container's, and the `changes` instructions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, imageConfigOf } from './commit.js';

test('the image config keeps what Docker keeps of the container config', () => {
  const c = imageConfigOf({
    Hostname: 'abc',
    Image: 'busybox',
    Env: ['A=1'],
    Cmd: ['sh'],
    Entrypoint: null,
    WorkingDir: '/w',
    User: 'u',
    Labels: {},
    StopSignal: 'SIGINT',
  });
  assert.deepEqual(c, { Env: ['A=1'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '/w', User: 'u', StopSignal: 'SIGINT' });
});

test('changes: every instruction commit allows', () => {
  const base = { Env: ['PATH=/bin', 'A=1'], Cmd: ['sh'] };
  const c = applyChanges(base, [
    'CMD ["cat", "/x"]',
    'ENV A=2 B="two words"',
    'ENV C 3 4',
    'WORKDIR /srv',
    'WORKDIR sub',
    'USER 1000:1000',
    'LABEL k=v "with space"=yes',
    'EXPOSE 80 53/udp',
    'VOLUME ["/data", "/logs"]',
    'VOLUME /more',
    'STOPSIGNAL SIGQUIT',
  ]);
  assert.deepEqual(c.Cmd, ['cat', '/x']);
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=2', 'B=two words', 'C=3 4']);
  assert.equal(c.WorkingDir, '/srv/sub');
  assert.equal(c.User, '1000:1000');
  assert.deepEqual(c.Labels, { k: 'v', 'with space': 'yes' });
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Volumes, { '/data': {}, '/logs': {}, '/more': {} });
  assert.equal(c.StopSignal, 'SIGQUIT');
  assert.deepEqual(base.Env, ['PATH=/bin', 'A=1'], 'the base is left alone');
});

test('changes: shell forms, ENTRYPOINT dropping the inherited CMD, newline-joined values, refusals', () => {
  assert.deepEqual(applyChanges({}, ['CMD echo hi']).Cmd, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(applyChanges({ Cmd: ['x'] }, ['ENTRYPOINT ["/e"]']), { Cmd: null, Entrypoint: ['/e'] });
  assert.deepEqual(applyChanges({ Cmd: ['x'] }, ['CMD ["y"]\nENTRYPOINT ["/e"]']), { Cmd: ['y'], Entrypoint: ['/e'] });
  assert.throws(() => applyChanges({}, ['RUN true']), /run is not a valid change command/);
  assert.throws(() => applyChanges({}, ['FROM busybox']), /from is not a valid change command/);
  assert.throws(() => applyChanges({}, ['EXPOSE eighty']), /invalid containerPort/);
  assert.throws(() => applyChanges({}, ['ENV =x']), /names can not be blank/);
});
