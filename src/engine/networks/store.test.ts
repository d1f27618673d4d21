import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { formatCidr6, formatIp6, ulaPool } from '../../network/ip6.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AmbiguousNetwork,
  blankEndpoint,
  bridgeHasV4,
  bridgeHasV6,
  gatewayMode4,
  gatewayMode6,
  trustedInterfaces,
  checkEndpoint,
  cniName,
  endpointSysctlErrors,
  endpointSysctls,
  gatewayOf,
  IFNAME_OPT,
  ifNameError,
  NetworkStore,
  SYSCTLS_OPT,
  v4Config,
  v6Config,
} from './store.js';

async function withStore(fn: (s: NetworkStore, dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-test-'));
  try {
    await fn(new NetworkStore(dir), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a network's CNI name: its own where CNI takes it, else its ID", () => {
  const Id = 'f'.repeat(64);
  assert.equal(cniName({ Name: 'web_net-1.x', Id }), 'web_net-1.x');
  assert.equal(cniName({ Name: 'my net', Id }), Id);
  assert.equal(cniName({ Name: 'a/b', Id }), Id);
  assert.equal(cniName({ Name: '-x', Id }), Id);
  assert.equal(cniName({ Name: 'n'.repeat(256), Id }), Id);
});

test("an ambiguous prefix is the caller's 400 in dockerd's words", () => {
  const e = new AmbiguousNetwork('2', 3);
  assert.equal(e.kind, 'invalid');
  assert.equal(e.message, 'network 2 is ambiguous (3 matches found based on ID prefix)');
});

test('IPAM configs as dockerd shows them: a Gateway only where given or picked with the subnet; IPv6 beside IPv4', () =>
  withStore(async (st) => {
    assert.deepEqual((await st.create({ Name: 'a', IPAM: { Config: [{ Subnet: '10.231.2.0/24' }] } })).IPAM.Config, [
      { Subnet: '10.231.2.0/24' },
    ]);
    const auto = (await st.create({ Name: 'b' })).IPAM.Config;
    assert.equal(auto.length, 1);
    assert.equal(auto[0].Gateway, gatewayOf({ Subnet: auto[0].Subnet }));
    const dual = await st.create({
      Name: 'c',
      EnableIPv6: true,
      IPAM: {
        Config: [
          { Subnet: 'fd4b:e47f:0002::/64', Gateway: 'fd4b:e47f:2::fe' },
          { Subnet: '10.231.1.0/24', Gateway: '10.231.1.1' },
        ],
      },
    });
    assert.equal(dual.EnableIPv6, true);
    assert.deepEqual(dual.IPAM.Config, [
      { Subnet: '10.231.1.0/24', Gateway: '10.231.1.1' },
      { Subnet: 'fd4b:e47f:2::/64', Gateway: 'fd4b:e47f:2::fe' },
    ]);
    const v6only = await st.create({ Name: 'd', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd4b:e47f:1::/64' }] } });
    assert.equal(v4Config(v6only)!.Gateway, gatewayOf(v4Config(v6only)!));
    assert.equal(gatewayOf(v6Config(v6only)!), 'fd4b:e47f:1::1');
    // A v6 subnet without --ipv6 is kept and shown, and unused (as dockerd's): it takes no pool.
    const off = await st.create({ Name: 'e', IPAM: { Config: [{ Subnet: 'fd4b:e47f:1::/80' }] } });
    assert.equal(v6Config(off), undefined);
    assert.equal(off.IPAM.Config[1].Subnet, 'fd4b:e47f:1::/80');
  }));

test("dockerd's refusals of IPv6 networks: statuses and words", () =>
  withStore(async (st) => {
    await st.create({ Name: 'dual', EnableIPv6: true, IPAM: { Config: [{ Subnet: '10.231.1.0/24' }, { Subnet: 'fd4b:e47f:2::/64' }] } });
    const refused = (req: Parameters<NetworkStore['create']>[0], kind: string, message: string | RegExp) =>
      assert.rejects(st.create(req), { kind, message });
    await refused(
      { Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd4b:e47f:2::/72' }] } },
      'forbidden',
      'Pool overlaps with other one on this address space',
    );
    await refused(
      { Name: 'x', IPAM: { Config: [{ Subnet: '10.231.1.0/26' }] } },
      'forbidden',
      'Pool overlaps with other one on this address space',
    );
    await refused(
      { Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd4b:e47f:3::/64' }, { Subnet: 'fd4b:e47f:4::/64' }] } },
      'forbidden',
      "bridge driver doesn't support multiple subnets",
    );
    await refused(
      { Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd4b:e47f:5::/64', Gateway: 'fd4b:e47f:6::1' }] } },
      'invalid',
      'no matching subnet for gateway fd4b:e47f:6::1',
    );
    await refused(
      { Name: 'x', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd4b:e47f:9::/129' }] } },
      'invalid',
      'invalid CIDR address: fd4b:e47f:9::/129',
    );
  }));

test('endpoint addresses checked against the network: --ip6, link-local IPs', () =>
  withStore(async (st) => {
    const dual = await st.create({
      Name: 'dual',
      EnableIPv6: true,
      IPAM: { Config: [{ Subnet: '10.231.1.0/24' }, { Subnet: 'fd4b:e47f:2::/64' }] },
    });
    const v4 = await st.create({ Name: 'v4', IPAM: { Config: [{ Subnet: '10.231.2.0/24' }] } });
    const check = (n: typeof dual, IPAMConfig: object) => () => checkEndpoint(n, { IPAMConfig }, 'c');
    check(dual, { IPv6Address: 'fd4b:e47f:2::10', LinkLocalIPs: ['169.254.9.9', 'fe80::99'] })();
    assert.throws(check(v4, { IPv6Address: 'fd4b:e47f:2::10' }), {
      kind: 'invalid',
      message: 'user specified IP address is supported only when connecting to networks with user configured subnets',
    });
    assert.throws(check(dual, { IPv6Address: 'fd4b:e47f:8::11' }), {
      message: "Invalid address fd4b:e47f:8::11: It does not belong to any of this network's subnets",
    });
    assert.throws(check(dual, { IPv6Address: '10.231.1.9' }), { message: 'invalid IPv6 address: 10.231.1.9' });
    assert.throws(check(dual, { LinkLocalIPs: ['nonsense'] }), { message: 'Invalid link-local IP address: [nonsense]' });
    assert.throws(check(dual, { LinkLocalIPs: ['10.1.1.1'] }), { message: 'invalid link local IP address: 10.1.1.1' });
    assert.throws(check(st.byName('bridge')!, { IPv6Address: 'fd4b:e47f:2::10' }), {
      message: 'user specified IP address is supported on user defined networks only',
    });
    assert.deepEqual(blankEndpoint(dual.Id, { IPAMConfig: { IPv6Address: 'fd4b:e47f:2::10', IPv4Address: '' } }).IPAMConfig, {
      IPv6Address: 'fd4b:e47f:2::10',
    });
  }));

test("a bridge endpoint's driver options: ifname and sysctls checked as dockerd checks them, dockerd 20.10's typed ones in its words, others refused", () =>
  withStore(async (st) => {
    const n = await st.create({ Name: 'opts', IPAM: { Config: [{ Subnet: '10.231.3.0/24' }] } });
    checkEndpoint(n, { DriverOpts: {} }, 'c');
    checkEndpoint(
      n,
      { DriverOpts: { [IFNAME_OPT]: 'foo0', [SYSCTLS_OPT]: 'net.ipv4.conf.IFNAME.log_martians=1,net.ipv6.conf.ifname.accept_ra=2' } },
      'c',
    );
    assert.throws(() => checkEndpoint(n, { DriverOpts: { foo: 'bar' } }, 'c'), {
      kind: 'invalid',
      message: /^endpoint driver option foo on network opts: berth's bridge driver applies no endpoint options but/,
    });
    assert.throws(() => checkEndpoint(n, { DriverOpts: { 'com.docker.network.endpoint.macaddress': '02:42:ac:11:00:99' } }, 'c'), {
      kind: 'invalid',
      message: 'failed to create endpoint c on network opts: trying to create an endpoint with an invalid endpoint configuration',
    });
    // moby's words: a create names the network, a connect does not; several errors are a list.
    const bad =
      "unrecognised network interface sysctl 'net.ipv4.conf.eth0.forwarding=0'; represent 'net.X.Y.ethN.Z=V' as 'net.X.Y.IFNAME.Z=V', 'X' must be 'ipv4', 'ipv6' or 'mpls'";
    assert.throws(() => checkEndpoint(n, { DriverOpts: { [SYSCTLS_OPT]: 'net.ipv4.conf.eth0.forwarding=0' } }, 'c'), {
      kind: 'invalid',
      message: `invalid config for network opts: invalid endpoint settings:\n${bad}`,
    });
    assert.throws(() => checkEndpoint(n, { DriverOpts: { [SYSCTLS_OPT]: 'net.ipv4.conf.eth0.forwarding=0' } }, 'c', false), {
      message: `invalid endpoint settings:\n${bad}`,
    });
    assert.throws(
      () => checkEndpoint(n, { DriverOpts: { [SYSCTLS_OPT]: 'net.ipv4.conf.eth0.forwarding=0', [IFNAME_OPT]: 'a/b' } }, 'c', false),
      {
        message: `invalid endpoint settings:\n* ${bad}\n* invalid ${IFNAME_OPT} "a/b": an interface name has no /, :, % or white space`,
      },
    );
  }));

test("endpoint sysctls: moby's checks at create, then what dockerd finds only at start; the files they become", () => {
  assert.deepEqual(endpointSysctlErrors('net.ipv4.conf.IFNAME.log_martians=1,net.mpls.conf.ifname.input=1'), []);
  for (const sc of ['kernel.shmmax=1', 'net.ipv4.conf.eth0.x=1', 'net.core.conf.IFNAME.x=1', 'net.ipv4.conf.IFNAME'])
    assert.match(endpointSysctlErrors(sc)[0], new RegExp(`^unrecognised network interface sysctl '${sc.replace(/\./g, '\\.')}'`));
  assert.deepEqual(endpointSysctlErrors('net.ipv4.conf.IFNAME.log_martians'), [
    "expected sysctl 'net.ipv4.conf.IFNAME.log_martians' to have format name=value",
  ]);
  assert.deepEqual(endpointSysctlErrors('net.ipv4.conf.IFNAME.a.b=1'), [
    "expected sysctl 'net.ipv4.conf.IFNAME.a.b=1' to have format net.X.Y.IFNAME.Z",
  ]);
  assert.deepEqual(endpointSysctls('net.ipv4.conf.IFNAME.log_martians=1,net.ipv6.conf.ifname.accept_ra=2', 'foo0'), [
    '/proc/sys/net/ipv4/conf/foo0/log_martians=1',
    '/proc/sys/net/ipv6/conf/foo0/accept_ra=2',
  ]);
  assert.deepEqual(endpointSysctls(undefined, 'eth0'), []);
});

test('interface names: what the kernel takes', () => {
  for (const ok of ['foo0', 'eth1', 'a', 'x'.repeat(15), 'wan-1.2']) assert.equal(ifNameError(ok), undefined, ok);
  for (const bad of ['', 'x'.repeat(16), '.', '..', 'a/b', 'a:b', 'a b', 'eth%d', 'lo']) assert.ok(ifNameError(bad), bad);
});

test('a network is durable when create resolves and gone from the disk when delete resolves; the name is taken from the first instant', () =>
  withStore(async (st) => {
    const first = st.create({ Name: 'n1', IPAM: { Config: [{ Subnet: '10.231.5.0/24' }] } });
    await assert.rejects(st.create({ Name: 'n1' }), { kind: 'conflict', message: 'network with name n1 already exists' });
    const n = await first;
    const file = join(st['root'], `${n.Id}.json`);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).Name, 'n1');
    await st.delete(n);
    assert.equal(existsSync(file), false);
    assert.equal(st.byName('n1'), undefined);
  }));

test("gateway mode, inhibit_ipv4, host_ipv4, trusted_host_interfaces: dockerd 28's readings, words and statuses", () =>
  withStore(async (st) => {
    const refused = async (opts: Record<string, string>, internal: boolean, kind: string, msg: string) =>
      assert.rejects(st.create({ Name: 'x', Internal: internal, Options: opts }), (e: BerthErrorLike) => {
        assert.equal(e.kind, kind);
        assert.equal(e.message, msg);
        return true;
      });
    const GW = 'com.docker.network.bridge.gateway_mode_ipv4';
    await refused({ [GW]: 'bridged' }, false, 'invalid', `failed to parse ${GW} value: bridged (unknown gateway mode bridged)`);
    await refused({ [GW]: '' }, false, 'invalid', `failed to parse ${GW} value:  (unknown gateway mode )`);
    await refused({ [GW]: 'isolated' }, false, 'system', "gateway mode 'isolated' can only be used for an internal network");
    await refused(
      { 'com.docker.network.bridge.inhibit_ipv4': 'yes' },
      false,
      'invalid',
      'failed to parse com.docker.network.bridge.inhibit_ipv4 value: yes (strconv.ParseBool: parsing "yes": invalid syntax)',
    );
    await refused(
      { 'com.docker.network.host_ipv4': '1.2.3' },
      false,
      'invalid',
      'failed to parse com.docker.network.host_ipv4 value: 1.2.3 (nil ip)',
    );
    await refused(
      { 'com.docker.network.host_ipv4': '::1' },
      false,
      'invalid',
      'com.docker.network.host_ipv4 ::1: the source address of IPv4 traffic must be an IPv4 address',
    );
    await refused(
      { 'com.docker.network.bridge.trusted_host_interfaces': 'eth0:averyveryverylongname' },
      false,
      'invalid',
      'com.docker.network.bridge.trusted_host_interfaces: "averyveryverylongname" is not an interface name iptables takes (1 to 15 bytes, no white space or quotes)',
    );
    // IPv6's: its gateway mode and SNAT address, read the same way.
    const GW6 = 'com.docker.network.bridge.gateway_mode_ipv6';
    await refused({ [GW6]: 'bridged' }, false, 'invalid', `failed to parse ${GW6} value: bridged (unknown gateway mode bridged)`);
    await refused({ [GW6]: 'isolated' }, false, 'system', "gateway mode 'isolated' can only be used for an internal network");
    await refused(
      { 'com.docker.network.host_ipv6': 'fd00::x' },
      false,
      'invalid',
      'failed to parse com.docker.network.host_ipv6 value: fd00::x (nil ip)',
    );
    await refused(
      { 'com.docker.network.host_ipv6': '192.0.2.1' },
      false,
      'invalid',
      'com.docker.network.host_ipv6 192.0.2.1: the source address of IPv6 traffic must be an IPv6 address',
    );
    const v6 = await st.create({ Name: 'v6r', EnableIPv6: true, Options: { [GW6]: 'routed', 'com.docker.network.host_ipv6': 'fd00::7' } });
    assert.deepEqual([gatewayMode4(v6), gatewayMode6(v6), bridgeHasV6(v6)], ['nat', 'routed', true]);
    const iso6 = await st.create({ Name: 'v6i', EnableIPv6: true, Internal: true, Options: { [GW6]: 'isolated' } });
    assert.deepEqual([bridgeHasV4(iso6), bridgeHasV6(iso6)], [true, false]);

    const routed = await st.create({
      Name: 'r',
      Options: { [GW]: 'routed', 'com.docker.network.bridge.trusted_host_interfaces': ':eth3::vx.1:' },
    });
    assert.equal(gatewayMode4(routed), 'routed');
    assert.deepEqual(trustedInterfaces(routed), ['eth3', 'vx.1']);
    assert.ok(bridgeHasV4(routed));
    assert.equal(gatewayMode4(await st.create({ Name: 'n' })), 'nat');
    // No gateway from IPAM for an isolated network, nor for an internal one with inhibit_ipv4 (GetSkipGwAlloc); a given one stays.
    const iso = await st.create({ Name: 'i', Internal: true, Options: { [GW]: 'isolated' } });
    assert.equal(iso.IPAM.Config[0].Gateway, undefined);
    assert.ok(!bridgeHasV4(iso));
    const inhibitInternal = await st.create({ Name: 'ii', Internal: true, Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true' } });
    assert.equal(inhibitInternal.IPAM.Config[0].Gateway, undefined);
    const inhibit = await st.create({ Name: 'ih', Options: { 'com.docker.network.bridge.inhibit_ipv4': '1' } });
    assert.ok(inhibit.IPAM.Config[0].Gateway);
    assert.ok(!bridgeHasV4(inhibit));
    const given = await st.create({
      Name: 'ig',
      Internal: true,
      Options: { [GW]: 'isolated' },
      IPAM: { Config: [{ Subnet: '10.231.9.0/24', Gateway: '10.231.9.254' }] },
    });
    assert.equal(given.IPAM.Config[0].Gateway, '10.231.9.254');
  }));

type BerthErrorLike = { kind: string; message: string };

test('fixed-cidr-v6 gives the default bridge its IPv6 subnet and gateway (the first address); none takes it away; in use, it stays', () =>
  withStore(async (s) => {
    const deleted: string[] = [];
    const log: string[] = [];
    const apply = (cidr: string | undefined, inUse = false) =>
      s.applyDefaultV6(
        !!cidr,
        cidr,
        () => inUse,
        (m) => log.push(m),
        (dev) => deleted.push(dev),
      );
    const bridge = () => s.get('bridge');
    apply(undefined);
    assert.equal(bridge().EnableIPv6, false);
    assert.deepEqual(deleted, []);
    apply('fd42:b3:7::/64');
    assert.equal(bridge().EnableIPv6, true);
    assert.deepEqual(v6Config(bridge()), { Subnet: 'fd42:b3:7::/64', Gateway: 'fd42:b3:7::1' });
    assert.equal(deleted.length, 1);
    apply('fd42:b3:7::/64');
    assert.equal(deleted.length, 1, 'unchanged: the bridge stays');
    apply('fd42:b3:8::/64', true);
    assert.equal(v6Config(bridge())!.Subnet, 'fd42:b3:7::/64');
    assert.match(log[0], /ipv6 \(fd42:b3:8::\/64\): the bridge network keeps fd42:b3:7::\/64 while containers are on it/);
    await s.create({ Name: 'v6', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd42:b3:9::/64' }] } });
    assert.throws(() => apply('fd42:b3:9::/80'), /fixed-cidr-v6 fd42:b3:9::\/80 overlaps network v6/);
    apply(undefined);
    assert.equal(bridge().EnableIPv6, false);
    assert.equal(v6Config(bridge()), undefined);
    assert.equal(bridge().IPAM.Config.length, 1);
  }));

test("IPv6 with no subnet: the /64s of the host's ULA /48 in order, derived from the engine's ID as moby derives it", () =>
  withStore(async (st, dir) => {
    writeFileSync(join(dir, 'engine-id'), 'berth-test-host\n');
    const a = await st.create({ Name: 'a', EnableIPv6: true });
    const b = await st.create({ Name: 'b', EnableIPv6: true, IPAM: { Config: [{ Subnet: '10.231.6.0/24' }] } });
    const v6 = (n: typeof a) => n.IPAM.Config.find((c) => c.Subnet.includes(':'))!.Subnet;
    const base = ulaPool('berth-test-host');
    assert.equal(v6(a), formatCidr6({ addr: base.addr, bits: 64 }));
    assert.equal(v6(b), formatCidr6({ addr: base.addr + (1n << 64n), bits: 64 }));
    assert.equal(b.IPAM.Config[0].Subnet, '10.231.6.0/24');
  }));

test("ipv6 without fixed-cidr-v6: the default bridge takes the first free /64 of the host's ULA pool and keeps it", () =>
  withStore(async (st, dir) => {
    writeFileSync(join(dir, 'engine-id'), 'berth-test-host\n');
    const base = ulaPool('berth-test-host');
    const nth = (i: bigint) => formatCidr6({ addr: base.addr + (i << 64n), bits: 64 });
    const deleted: string[] = [];
    const apply = (ipv6: boolean, cidr?: string, inUse = false) =>
      st.applyDefaultV6(
        ipv6,
        cidr,
        () => inUse,
        () => {},
        (dev) => deleted.push(dev),
      );
    await st.create({ Name: 'a', EnableIPv6: true });
    apply(true);
    const bridge = () => st.get('bridge');
    assert.equal(bridge().EnableIPv6, true);
    assert.deepEqual(v6Config(bridge()), { Subnet: nth(1n), Gateway: formatIp6(base.addr + (1n << 64n) + 1n) });
    // A network made after it takes the next; a restart keeps the bridge's.
    assert.equal((await st.create({ Name: 'b', EnableIPv6: true })).IPAM.Config[1].Subnet, nth(2n));
    await st.delete(st.get('a'));
    apply(true);
    assert.equal(v6Config(bridge())!.Subnet, nth(1n));
    assert.equal(deleted.length, 1);
    // fixed-cidr-v6 replaces it; back to the pool, the first free /64.
    apply(true, 'fd42:b3:7::/64');
    assert.equal(v6Config(bridge())!.Subnet, 'fd42:b3:7::/64');
    apply(true);
    assert.equal(v6Config(bridge())!.Subnet, nth(0n));
    // In use, a change waits.
    apply(false, undefined, true);
    assert.equal(bridge().EnableIPv6, true);
    apply(false);
    assert.equal(bridge().EnableIPv6, false);
  }));
