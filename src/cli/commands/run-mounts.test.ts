import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMount } from './run-mounts.js';

test('--mount type=image: the body the docker 28 CLI sends (no ReadOnly unless given; image-subpath as ImageOptions.Subpath)', () => {
  assert.deepEqual(parseMount('type=image,source=busybox,target=/x'), { Type: 'image', Source: 'busybox', Target: '/x' });
  assert.deepEqual(parseMount('type=image,src=busybox,dst=/x,image-subpath=bin'), {
    Type: 'image',
    Source: 'busybox',
    Target: '/x',
    ImageOptions: { Subpath: 'bin' },
  });
  assert.deepEqual(parseMount('type=image,source=busybox,target=/x,readonly'), {
    Type: 'image',
    Source: 'busybox',
    Target: '/x',
    ReadOnly: true,
  });
  // No source: sent as it is, dockerd refuses it.
  assert.deepEqual(parseMount('type=image,target=/x'), { Type: 'image', Target: '/x' });
});

test("--mount: one type's options with another type, in the docker CLI's words", () => {
  const refused = (spec: string, words: string) =>
    assert.throws(
      () => parseMount(spec),
      (e: Error) => e.message === `invalid argument "${spec}" for "--mount" flag: ${words}`,
    );
  refused('type=image,source=busybox,target=/x,volume-nocopy', "cannot mix 'volume-*' options with mount type 'image'");
  refused('type=image,source=busybox,target=/x,bind-propagation=shared', "cannot mix 'bind-*' options with mount type 'image'");
  refused('type=image,source=busybox,target=/x,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'image'");
  refused('type=volume,source=v,target=/x,image-subpath=a', "cannot mix 'image-*' options with mount type 'volume'");
  refused('source=v,target=/x,image-subpath=a', "cannot mix 'image-*' options with mount type 'volume'");
  refused('type=image,source=busybox', 'target is required');
});
