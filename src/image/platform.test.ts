import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlatform, parsePlatform, selectManifest } from './platform.js';
import type { Descriptor } from '../oci/image.js';

const d = (arch: string, variant?: string, os = 'linux'): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${(arch + (variant ?? '') + os).padEnd(64, '0').replace(/[^a-f0-9]/g, 'a')}`,
  size: 1,
  platform: { os, architecture: arch, ...(variant ? { variant } : {}) },
});

test('parses and normalises platforms', () => {
  assert.equal(formatPlatform(parsePlatform('linux/amd64')), 'linux/amd64');
  assert.equal(formatPlatform(parsePlatform('linux/aarch64')), 'linux/arm64/v8');
  assert.equal(formatPlatform(parsePlatform('arm64')), 'linux/arm64/v8');
  assert.equal(formatPlatform(parsePlatform('linux/arm')), 'linux/arm/v7');
  assert.equal(formatPlatform(parsePlatform('linux/x86_64')), 'linux/amd64');
  assert.throws(() => parsePlatform('linux//x'), { kind: 'invalid' });
});

test('selects the best manifest', () => {
  const list = [d('amd64'), d('arm64', 'v8'), d('arm', 'v6'), d('arm', 'v7'), d('unknown', undefined, 'unknown')];
  assert.equal(selectManifest(list, parsePlatform('linux/amd64')), list[0]);
  assert.equal(selectManifest(list, parsePlatform('linux/arm64')), list[1]);
  assert.equal(selectManifest(list, parsePlatform('linux/arm/v7')), list[3]);
  assert.equal(selectManifest(list, parsePlatform('linux/arm/v6')), list[2]);
  assert.equal(selectManifest([d('arm', 'v6')], parsePlatform('linux/arm/v7')).platform?.variant, 'v6', 'v7 runs v6');
  assert.equal(selectManifest([d('arm64')], parsePlatform('linux/arm64/v8')).platform?.architecture, 'arm64', 'no variant means v8');
  assert.throws(() => selectManifest([d('arm', 'v7')], parsePlatform('linux/arm/v6')), {
    kind: 'not-found',
    message: /linux\/arm\/v6.*has: linux\/arm\/v7/,
  });
});
