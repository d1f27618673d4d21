import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goErrnoText, mountErrorText, mountSource, needsMount, parseMountOptions, validateVolumeOptions } from './volume-options.js';
import { MS } from '../runtime/mount-options.js';

test("the local driver's options: dockerd's keys, the ones each needs, its words", () => {
  const ok = (o: Record<string, string> | null) => assert.doesNotThrow(() => validateVolumeOptions(o));
  const refused = (o: Record<string, string>, msg: string) =>
    assert.throws(
      () => validateVolumeOptions(o),
      (e: Error & { kind?: string }) => e.message === msg && e.kind === 'invalid',
    );
  ok(null);
  ok({});
  ok({ type: 'tmpfs', device: 'tmpfs' });
  ok({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m,uid=1000' });
  ok({ type: 'none', device: '/srv/data', o: 'bind' });
  ok({ type: 'cifs', device: '//server/share', o: 'port=445' });
  ok({ size: '0' });
  refused({ bogus: '1' }, 'invalid option: "bogus"');
  refused({ '': 'x' }, 'invalid option: ""');
  refused({ type: 'tmpfs' }, 'missing required option: "device"');
  refused({ device: 'tmpfs' }, 'missing required option: "type"');
  refused({ o: 'size=1m' }, 'missing required option: "device"');
  refused({ o: 'size=1m', device: 'tmpfs' }, 'missing required option: "type"');
  refused({ type: 'cifs', device: '//server:445/share' }, "port not allowed in CIFS device URL, include 'port' in 'o='");
  refused({ size: '1g' }, 'quota size requested but no quota support');
  refused({ size: 'lots' }, "invalid size: 'lots'");
  assert.equal(needsMount({ type: 'tmpfs', device: 'tmpfs' }), true);
  assert.equal(needsMount({ size: '0' }), false);
  assert.equal(needsMount(null), false);
});

test("`o` becomes mount(2) flags and data as moby/sys/mount's table reads it", () => {
  assert.deepEqual(parseMountOptions('size=1m,uid=1000,gid=1000'), { flags: 0, data: 'size=1m,uid=1000,gid=1000' });
  assert.deepEqual(parseMountOptions('bind'), { flags: MS.BIND, data: '' });
  assert.deepEqual(parseMountOptions('rbind,ro,noexec'), { flags: MS.BIND | MS.REC | MS.RDONLY | MS.NOEXEC, data: '' });
  assert.deepEqual(parseMountOptions('ro,rw,addr=10.0.0.1,nfsvers=4'), { flags: 0, data: 'addr=10.0.0.1,nfsvers=4' });
  // "defaults" sets no flag, so moby passes it on as data.
  assert.deepEqual(parseMountOptions('defaults'), { flags: 0, data: 'defaults' });
  assert.deepEqual(parseMountOptions(''), { flags: 0, data: '' });
});

test('nfs and cifs addresses are resolved before the mount, as dockerd resolves them', async () => {
  const asked: string[] = [];
  const resolve = async (h: string) => {
    asked.push(h);
    if (h === 'nas.example') return '192.0.2.7';
    throw new Error(`lookup ${h}: no such host`);
  };
  assert.deepEqual(await mountSource({ type: 'nfs', device: ':/export', o: 'addr=nas.example,rw' }, resolve), {
    device: ':/export',
    o: 'addr=192.0.2.7,rw',
  });
  assert.deepEqual(await mountSource({ type: 'nfs', device: ':/export', o: 'addr=192.0.2.1' }, resolve), {
    device: ':/export',
    o: 'addr=192.0.2.1',
  });
  assert.deepEqual(await mountSource({ type: 'cifs', device: '//nas.example/share%20x', o: 'username=u' }, resolve), {
    device: '//192.0.2.7/share x',
    o: 'username=u',
  });
  // Not for other types.
  assert.deepEqual(await mountSource({ type: 'tmpfs', device: 'tmpfs', o: 'addr=nas.example' }, resolve), {
    device: 'tmpfs',
    o: 'addr=nas.example',
  });
  await assert.rejects(
    mountSource({ type: 'nfs', device: ':/x', o: 'addr=gone.invalid' }, resolve),
    /^Error: error resolving passed in network volume address: lookup gone.invalid: no such host$/,
  );
  assert.deepEqual(asked, ['nas.example', 'nas.example', 'gone.invalid']);
});

test("a mount's error in moby/sys's words, errnos as Go writes them", () => {
  const enoent = Object.assign(new Error('mount /x /y: no such file or directory'), { code: 'ENOENT' });
  assert.equal(
    mountErrorText('mount', '/srv/none', '/v/_data', MS.BIND, '', enoent),
    'mount /srv/none:/v/_data, flags: 0x1000: no such file or directory',
  );
  assert.equal(
    mountErrorText('mount', 'tmpfs', '/v/_data', 0, 'size=bad', Object.assign(new Error('x: invalid argument'), { code: 'EINVAL' })),
    'mount tmpfs:/v/_data, data: size=bad: invalid argument',
  );
  assert.equal(goErrnoText(Object.assign(new Error('mount a: resource busy or locked'), { code: 'EBUSY' })), 'device or resource busy');
});
