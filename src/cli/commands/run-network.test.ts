import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvRecord } from '../csv.js';
import { macOk, networkFields, parseNetworkOpt, type SimpleFlags } from './run-network.js';

const none = { aliases: [], links: [], linkLocalIPs: [] };
const ep = (more: Record<string, unknown> = {}) => ({
  IPAMConfig: null,
  Links: null,
  Aliases: null,
  MacAddress: '',
  DriverOpts: null,
  GwPriority: 0,
  ...more,
});

test("Go's csv: quotes, doubled quotes, and its ParseError words and columns", () => {
  assert.deepEqual(csvRecord('a,"b,c",d'), ['a', 'b,c', 'd']);
  assert.deepEqual(csvRecord('"a""b",'), ['a"b', '']);
  assert.throws(() => csvRecord('name=foo,"alias=a'), {
    message: 'parse error on line 1, column 18: extraneous or missing " in quoted-field',
  });
  assert.throws(() => csvRecord('na"me=foo'), { message: 'parse error on line 1, column 3: bare " in non-quoted-field' });
  assert.throws(() => csvRecord('"a"b'), { message: 'parse error on line 1, column 3: extraneous or missing " in quoted-field' });
});

test('--network values as docker 28 reads them: a plain name, or the advanced form lowercased', () => {
  assert.equal(parseNetworkOpt('foo,bar').Target, 'foo,bar');
  assert.equal(parseNetworkOpt('x=').Target, 'x=');
  assert.equal(parseNetworkOpt('name= foo ').Target, 'name= foo ');
  assert.equal(parseNetworkOpt(' name=foo').Target, 'foo');
  const n = parseNetworkOpt(
    'name=MyNet,alias=A,alias=b,ip=10.1.1.2,ip6=fd00::2,mac-address=02:42:AC:11:00:02,link-local-ip=169.254.1.1,driver-opt=K.X=V=W,gw-priority=+5',
  );
  assert.deepEqual(n, {
    Target: 'mynet',
    Aliases: ['a', 'b'],
    DriverOpts: { 'k.x': 'v=w' },
    Links: [],
    IPv4Address: '10.1.1.2',
    IPv6Address: 'fd00::2',
    LinkLocalIPs: ['169.254.1.1'],
    MacAddress: '02:42:ac:11:00:02',
    GwPriority: 5,
  });
  assert.deepEqual(parseNetworkOpt('name=foo,"alias=a,b"').Aliases, ['a,b']);
  for (const [v, msg] of [
    ['alias=x', 'network name/id is not specified'],
    ['name=foo,bogus=1', 'invalid field key bogus'],
    ['a=b', 'invalid field key a'],
    ['name=foo,nokey', 'invalid field nokey'],
    ['name=foo,=v', 'invalid field =v'],
    ['name=foo,gw-priority=x', 'invalid gw-priority (x): invalid syntax'],
    ['name=foo,gw-priority=', 'invalid gw-priority (): invalid syntax'],
    ['name=foo,gw-priority=99999999999999999999', 'invalid gw-priority (99999999999999999999): value out of range'],
    ['name=foo,driver-opt=novalue', 'invalid key value pair format in driver options'],
    ['name=foo,driver-opt==v', 'invalid key value pair format in driver options'],
  ])
    assert.throws(() => parseNetworkOpt(v), { message: msg }, v);
});

test("net.ParseMAC's forms", () => {
  for (const m of ['02:42:ac:11:00:02', '02-42-AC-11-00-02', '0242.ac11.0002', '02:00:5e:10:00:00:00:01']) assert.ok(macOk(m), m);
  for (const m of ['zz', '02:42:ac:11:00', '02:42-ac:11:00:02', '0242.ac11']) assert.ok(!macOk(m), m);
});

test("NetworkMode and EndpointsConfig as docker 28's CLI sends them", () => {
  assert.deepEqual(networkFields([], none), { NetworkMode: 'default', NetworkingConfig: { EndpointsConfig: { default: ep() } } });
  assert.deepEqual(networkFields(['foo'], none), { NetworkMode: 'foo', NetworkingConfig: { EndpointsConfig: {} } });
  assert.deepEqual(networkFields(['bridge', 'host'], none).NetworkingConfig.EndpointsConfig, { bridge: ep(), host: ep() });
  // The simple flags go on the first network only.
  const two = networkFields(['name=foo', 'name=bar,alias=x'], { ...none, aliases: ['y'], ip: '10.0.0.5', links: ['a:b'] });
  assert.equal(two.NetworkMode, 'foo');
  assert.deepEqual(two.NetworkingConfig.EndpointsConfig, {
    foo: ep({ IPAMConfig: { IPv4Address: '10.0.0.5', IPv6Address: undefined, LinkLocalIPs: undefined }, Aliases: ['y'], Links: ['a:b'] }),
    bar: ep({ Aliases: ['x'] }),
  });
  // A link on the default bridge is a legacy link (HostConfig.Links), not the endpoint's.
  assert.deepEqual(networkFields(['bridge'], { ...none, links: ['a:b'] }).NetworkingConfig.EndpointsConfig, {});
  assert.deepEqual(
    networkFields([], { ...none, mac: '02:42:ac:11:00:09' }).NetworkingConfig.EndpointsConfig.default.MacAddress,
    '02:42:ac:11:00:09',
  );
  for (const [nets, simple, msg] of [
    [['name=foo,alias=a'], { aliases: ['x'] }, 'conflicting options: cannot specify both --network-alias and per-network alias'],
    [['name=foo,ip=1.2.3.4'], { ip: '10.0.0.2' }, 'conflicting options: cannot specify both --ip and per-network IPv4 address'],
    [['name=foo,ip6=fd::1'], { ip6: 'fd::2' }, 'conflicting options: cannot specify both --ip6 and per-network IPv6 address'],
    [
      ['name=foo,mac-address=02:42:ac:11:00:02'],
      { mac: '02:42:ac:11:00:03' },
      'conflicting options: cannot specify both --mac-address and per-network MAC address',
    ],
    [
      ['name=foo,link-local-ip=169.254.1.1'],
      { linkLocalIPs: ['169.254.1.2'] },
      'conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses',
    ],
    [['foo', 'foo'], {}, 'network "foo" is specified multiple times'],
    [['host', 'foo'], {}, 'conflicting options: cannot attach both user-defined and non-user-defined network-modes'],
    [['container:x', 'foo'], {}, 'conflicting options: cannot attach both user-defined and non-user-defined network-modes'],
    [['name=foo,mac-address=zz'], {}, 'zz is not a valid mac address'],
    [['name=bridge,alias=x'], {}, 'network-scoped aliases are only supported for user-defined networks'],
    [[], { aliases: ['x'] }, 'network-scoped aliases are only supported for user-defined networks'],
    [['none'], { aliases: ['x'] }, 'network-scoped aliases are only supported for user-defined networks'],
    [[''], {}, 'no name set for network'],
  ] as [string[], Partial<SimpleFlags>, string][])
    assert.throws(() => networkFields(nets, { ...none, ...simple }), { message: msg }, nets.join(' '));
});
