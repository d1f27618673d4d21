import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cniConfigFiles, declares, defaultCniConfig, loadCniConfig } from './cni-config.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-cni-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("config files in libcni's order; a .conf is a list of its one plugin; errors name the file", async () => {
  assert.deepEqual(await cniConfigFiles(join(dir, 'missing')), []);
  assert.equal(await defaultCniConfig(dir), undefined);
  writeFileSync(join(dir, '20-b.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'b', plugins: [{ type: 'bridge' }] }));
  writeFileSync(join(dir, '10-a.conf'), JSON.stringify({ cniVersion: '0.4.0', name: 'a', type: 'ptp', ipam: { type: 'host-local' } }));
  writeFileSync(join(dir, 'README'), 'not a config');
  assert.deepEqual(await cniConfigFiles(dir), ['10-a.conf', '20-b.conflist']);
  const first = await defaultCniConfig(dir);
  assert.equal(first?.file, join(dir, '10-a.conf'));
  assert.deepEqual(first?.list, {
    cniVersion: '0.4.0',
    name: 'a',
    plugins: [{ cniVersion: '0.4.0', name: 'a', type: 'ptp', ipam: { type: 'host-local' } }],
  });
  const b = await loadCniConfig(join(dir, '20-b.conflist'));
  assert.equal(declares(b, 'portMappings'), false);
  assert.equal(
    declares({ ...b, plugins: [...b.plugins, { type: 'portmap', capabilities: { portMappings: true } }] }, 'portMappings'),
    true,
  );

  const bad = join(dir, 'bad.conflist');
  for (const [text, why] of [
    ['{', /bad\.conflist: .*JSON/],
    ['[]', /not a JSON object/],
    ['{"cniVersion":"1.0.0","plugins":[{"type":"x"}]}', /"name" is missing/],
    ['{"name":"n","plugins":[{"type":"x"}]}', /"cniVersion" is missing/],
    ['{"name":"n","cniVersion":"1.0.0","plugins":[]}', /"plugins" must be a non-empty list/],
    ['{"name":"n","cniVersion":"1.0.0","plugins":[{"bridge":"x"}]}', /plugins\[0\] has no "type"/],
  ] as const) {
    writeFileSync(bad, text);
    await assert.rejects(loadCniConfig(bad), (e: Error) => e.message.startsWith(`CNI network config ${bad}: `) && why.test(e.message));
  }
});
