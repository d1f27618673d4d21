import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { GoType } from './body-decode.js';
import { ContainerCreate } from './body-types.js';
import { CREATE_FIELDS, fieldsTable, noDeviceDriver, refuseUnsupported } from './create-fields.js';

type Struct = Extract<GoType, { kind: 'struct' }>;
const fieldsOf = (t: GoType | undefined): Record<string, GoType> => (t?.kind === 'struct' ? t.fields : {});

/** Every field a create body can carry, as body-types.ts (moby's swagger) declares them. */
function schemaFields(): string[] {
  const out: string[] = [];
  const body = (ContainerCreate as Struct).fields;
  for (const k of Object.keys(body)) if (k !== 'HostConfig' && k !== 'NetworkingConfig') out.push(`Config.${k}`);
  for (const k of Object.keys(fieldsOf(body.HostConfig))) out.push(`HostConfig.${k}`);
  const nc = fieldsOf(body.NetworkingConfig);
  for (const k of Object.keys(nc)) out.push(`NetworkingConfig.${k}`);
  const ep = nc.EndpointsConfig?.kind === 'map' ? fieldsOf(nc.EndpointsConfig.of) : {};
  for (const k of Object.keys(ep)) out.push(`EndpointSettings.${k}`);
  for (const k of Object.keys(fieldsOf(ep.IPAMConfig))) out.push(`EndpointSettings.IPAMConfig.${k}`);
  return out;
}

test('every field the API accepts at create is applied, refused, kept as dockerd keeps it, or an output field', () => {
  const schema = schemaFields();
  assert.ok(schema.length > 100, `only ${schema.length} fields read from body-types.ts`);
  const missing = schema.filter((f) => !CREATE_FIELDS[f]);
  assert.deepEqual(missing, [], 'fields of the API with no rule in create-fields.ts');
  const stale = Object.keys(CREATE_FIELDS).filter((f) => !schema.includes(f));
  assert.deepEqual(stale, [], 'rules for fields the API does not have');
});

test('a refused field set is a 400 that names it; its zero value and its default pass', () => {
  assert.throws(() => refuseUnsupported({ Image: 'x', HostConfig: { CpuCount: 2 } }), {
    kind: 'unsupported',
    message: /^HostConfig\.CpuCount is not supported by berthd: /,
  });
  // dockerd keeps it with no effect: refused, not ignored.
  assert.throws(() => refuseUnsupported({ Image: 'x', HostConfig: { Cgroup: 'container:other' } }), {
    kind: 'unsupported',
    message: /^HostConfig\.Cgroup is not supported by berthd: dockerd keeps it with no effect/,
  });
  // VolumeDriver is the volumes' to answer.
  refuseUnsupported({ Image: 'x', HostConfig: { VolumeDriver: 'nosuch' } });
  // StorageOpt is engine/storage-opt.ts' to answer, in overlay2's words: not refused here.
  refuseUnsupported({ Image: 'x', HostConfig: { StorageOpt: { size: '1G' } } });
  // DeviceRequests: dockerd's 500 when no device driver takes the request.
  assert.throws(() => refuseUnsupported({ Image: 'x', HostConfig: { DeviceRequests: [{ Count: -1, Capabilities: [['gpu']] }] } }), {
    kind: 'system',
    message: 'could not select device driver "" with capabilities: [[gpu]]',
  });
  assert.equal(
    noDeviceDriver([{ Driver: 'nvidia', Capabilities: [['gpu', 'utility'], ['compute']] }]),
    'could not select device driver "nvidia" with capabilities: [[gpu utility] [compute]]',
  );
  assert.throws(() => refuseUnsupported({ Image: 'x', HostConfig: { Isolation: 'hyperv' } }), {
    kind: 'invalid',
    message: `Invalid isolation: "hyperv" - linux only supports 'default'`,
  });
  // A runtime's name is the engine's to check (its configured runtimes): not refused here.
  refuseUnsupported({ Image: 'x', HostConfig: { Runtime: 'kata' } });
  assert.throws(() => refuseUnsupported({ Image: 'x', NetworkDisabled: true }), { message: /^NetworkDisabled is not supported/ });
  // Endpoint driver options are the network's to check (engine/networks/store.ts): not refused here.
  refuseUnsupported({ Image: 'x', NetworkingConfig: { EndpointsConfig: { n: { DriverOpts: { a: 'b' } } } } });
  // IPv6 and link-local addresses are the network's to check (engine/networks/store.ts): not refused here.
  refuseUnsupported({
    Image: 'x',
    NetworkingConfig: { EndpointsConfig: { n: { IPAMConfig: { IPv6Address: '::2', LinkLocalIPs: ['fe80::2'] } } } },
  });
  refuseUnsupported({
    Image: 'x',
    NetworkDisabled: false,
    HostConfig: {
      CgroupParent: '',
      Links: [],
      Runtime: 'runc',
      Isolation: 'default',
      VolumeDriver: 'local',
      UsernsMode: 'host',
      MemorySwappiness: -1,
      BlkioWeightDevice: [],
      StorageOpt: {},
    },
    NetworkingConfig: { EndpointsConfig: { n: { IPAMConfig: { IPv4Address: '10.0.0.2' }, IPAddress: '10.0.0.9', NetworkID: 'x' } } },
  });
});

test('docs/api-fields.md holds the table as create-fields.ts has it', () => {
  const doc = readFileSync(new URL('../../../../docs/api-fields.md', import.meta.url), 'utf8');
  assert.ok(
    doc.includes(fieldsTable()),
    'docs/api-fields.md differs from create-fields.ts: node -e "import(\'./dist/src/api/server/create-fields.js\').then((m) => console.log(m.fieldsTable()))"',
  );
});
