import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTAINER_DNS, hostnameLines, hostsFile, resolvConf } from './init-files.js';

test('resolv.conf: loopback servers of the host are dropped; none left is a comment, never a public server', () => {
  const host = 'nameserver 127.0.0.53\nnameserver ::1\noptions edns0 trust-ad\nsearch lan\n';
  const out = resolvConf(host, {});
  assert.doesNotMatch(out, /^nameserver/m);
  assert.match(out, /^# berth: the host names no nameserver/m);
  assert.match(out, /^# give one with --dns/m);
  assert.match(out, /^search lan$/m);
  assert.match(out, /^options edns0 trust-ad$/m);
  assert.equal(resolvConf('nameserver 127.0.0.1\nnameserver 10.0.0.2\n', {}), 'nameserver 10.0.0.2\n');
});

test("resolv.conf: --dns, --dns-search and --dns-option replace the host's", () => {
  const out = resolvConf('nameserver 10.0.0.2\nsearch lan\noptions ndots:2\n', {
    dns: ['192.0.2.1'],
    dnsSearch: ['a.test', 'b.test'],
    dnsOptions: ['ndots:5'],
  });
  assert.equal(out, 'search a.test b.test\nnameserver 192.0.2.1\noptions ndots:5\n');
});

test("hosts: localhost, the extra hosts and the container's own name at its address, FQDN first", () => {
  const out = hostsFile({
    hostname: 'box',
    domainname: 'example.test',
    extraHosts: ['db:192.0.2.7', 'v6:[2001:db8::1]'],
    addresses: ['10.1.0.2'],
  });
  assert.match(out, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(out, /^192\.0\.2\.7\tdb\n2001:db8::1\tv6\n10\.1\.0\.2\tbox\.example\.test box\n$/m);
  // A hostname with a dot is its own FQDN (moby's makeHostsRecs).
  assert.match(hostsFile({ hostname: 'a.b', addresses: ['10.1.0.2'] }), /^10\.1\.0\.2\ta\.b a$/m);
  assert.match(hostsFile({ hostname: 'a', addresses: ['10.1.0.2'] }), /^10\.1\.0\.2\ta$/m);
});

test('hosts: a line for the hostname at each address, in the order the networks were joined', () => {
  assert.match(
    hostsFile({ hostname: 'h', addresses: ['10.1.0.2', 'fd00::2', '10.2.0.3'] }),
    /ip6-allrouters\n10\.1\.0\.2\th\nfd00::2\th\n10\.2\.0\.3\th\n$/,
  );
  assert.deepEqual(hostnameLines({ hostname: 'h', domainname: 'd.test' }, ['10.3.0.4']), ['10.3.0.4\th.d.test h']);
});

test('hosts: a container with no address (--network none) has no line for its name, as dockerd writes none', () => {
  assert.equal(
    hostsFile({ hostname: 'box', extraHosts: ['db:192.0.2.7'] }),
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n' +
      'ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n192.0.2.7\tdb\n',
  );
});

test("--network host: the host's /etc/hosts as it is, or with --add-host dockerd's own lines instead; its loopback nameservers kept", () => {
  const host = '127.0.0.1\tlocalhost\n10.1.2.3\tmachine\n\n';
  assert.equal(hostsFile({ hostname: 'h', hostNetwork: true }, host), host);
  const hosts = hostsFile({ hostname: 'h', extraHosts: ['db:192.0.2.7'], hostNetwork: true }, host);
  assert.doesNotMatch(hosts, /machine/);
  assert.match(hosts, /^ff02::2\tip6-allrouters\n192\.0\.2\.7\tdb\n$/m);
  assert.equal(
    resolvConf('nameserver 127.0.0.1\nnameserver 10.0.0.2\n', { hostNetwork: true }),
    'nameserver 127.0.0.1\nnameserver 10.0.0.2\n',
  );
});

test("a rootless container's resolv.conf names the host's 127.0.0.1 resolver by the pasta gateway that reaches it; other loopback ones go", () => {
  assert.equal(
    resolvConf('nameserver 127.0.0.53\nnameserver 127.0.0.1\nnameserver 10.0.0.2\nsearch lan\n', { loopbackVia: '192.0.2.1' }),
    'search lan\nnameserver 192.0.2.1\nnameserver 10.0.0.2\n',
  );
  // --dns is the user's, as given.
  assert.equal(resolvConf('nameserver 127.0.0.1\n', { dns: ['127.0.0.1'], loopbackVia: '192.0.2.1' }), 'nameserver 127.0.0.1\n');
});

test("resolv.conf with the resolver in the container's namespace: 127.0.0.11, the IPv6 servers, ndots:0 unless one is set, as dockerd 20.10", () => {
  const host = 'nameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver 2001:db8::53\nsearch lan\noptions edns0\n';
  assert.equal(
    resolvConf(host, { embeddedDns: CONTAINER_DNS }),
    'search lan\nnameserver 127.0.0.11\nnameserver 2001:db8::53\noptions edns0 ndots:0\n',
  );
  assert.equal(resolvConf('nameserver 10.0.0.2\n', { embeddedDns: CONTAINER_DNS }), 'nameserver 127.0.0.11\noptions ndots:0\n');
  // --dns names where the resolver relays (IPv6 ones listed too); an ndots option is the user's.
  assert.equal(
    resolvConf(host, { embeddedDns: CONTAINER_DNS, dns: ['192.0.2.1', '2001:db8::1'], dnsOptions: ['ndots:3'] }),
    'search lan\nnameserver 127.0.0.11\nnameserver 2001:db8::1\noptions ndots:3\n',
  );
});

test("resolv.conf with a bridge gateway's server: laid out as dockerd 20.10's, the gateway where its 127.0.0.11 is", () => {
  const host = 'nameserver 10.0.0.2\nnameserver 2001:db8::53\noptions edns0 trust-ad\n';
  assert.equal(
    resolvConf(host, { embeddedDns: '10.213.7.1', dnsSearch: ['a.test'] }),
    'search a.test\nnameserver 10.213.7.1\nnameserver 2001:db8::53\noptions edns0 trust-ad ndots:0\n',
  );
  assert.equal(
    resolvConf(host, { embeddedDns: '10.213.7.1', dnsOptions: ['ndots:2', 'timeout:1'] }),
    'nameserver 10.213.7.1\nnameserver 2001:db8::53\noptions ndots:2 timeout:1\n',
  );
});
