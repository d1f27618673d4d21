import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsFile, resolvConf } from './init-files.js';

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

test("hosts: localhost, the extra hosts and the container's own name", () => {
  const out = hostsFile({ hostname: 'box', domainname: 'example.test', extraHosts: ['db:192.0.2.7', 'v6:[2001:db8::1]'] });
  assert.match(out, /^127\.0\.0\.1\tlocalhost$/m);
  assert.match(out, /^192\.0\.2\.7\tdb$/m);
  assert.match(out, /^2001:db8::1\tv6$/m);
  assert.match(out, /^127\.0\.1\.1\tbox\.example\.test box$/m);
});

test("--network host: the host's /etc/hosts with the extra hosts, and its loopback nameservers kept (reachable there)", () => {
  const hosts = hostsFile(
    { hostname: 'h', extraHosts: ['db:192.0.2.7'], hostNetwork: true },
    '127.0.0.1\tlocalhost\n10.1.2.3\tmachine\n\n',
  );
  assert.equal(hosts, '127.0.0.1\tlocalhost\n10.1.2.3\tmachine\n192.0.2.7\tdb\n');
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
