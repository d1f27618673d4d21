import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultRoute4, defaultRoute6, forwardSpec, pastaArgs, randomMac, type PastaNet } from './pasta.js';

const NET: PastaNet = {
  v4: { address: '192.0.2.2', prefixLen: 24, gateway: '192.0.2.1' },
  v6: { address: 'fd00::2', prefixLen: 64, gateway: 'fd00::1' },
  mac: '02:42:c0:00:02:02',
};

test("pasta's arguments: the container's pinned network namespace, its published ports as forwards, nothing else of the host's", () => {
  assert.equal(forwardSpec({ hostIP: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }), '8080:80');
  assert.equal(forwardSpec({ hostIP: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }), '127.0.0.1/8080:80');
  assert.deepEqual(
    pastaArgs(
      '/run/ns/c1',
      [
        { hostIP: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIP: '127.0.0.1', hostPort: 8443, containerPort: 443, protocol: 'tcp' },
        { hostIP: '0.0.0.0', hostPort: 5353, containerPort: 53, protocol: 'udp' },
      ],
      '/x/pasta.pid',
      NET,
    ),
    [
      '--runas',
      '0:0',
      '--config-net',
      '--quiet',
      '--pid',
      '/x/pasta.pid',
      '-t',
      '8080:80',
      '-t',
      '127.0.0.1/8443:443',
      '-u',
      '5353:53',
      '-T',
      'none',
      '-U',
      'none',
      '-a',
      '192.0.2.2',
      '-n',
      '24',
      '-g',
      '192.0.2.1',
      '-a',
      'fd00::2',
      '-g',
      'fd00::1',
      '--ns-mac-addr',
      '02:42:c0:00:02:02',
      '--netns',
      '/run/ns/c1',
    ],
  );
  assert.deepEqual(pastaArgs('/n', [], '/p', { v4: NET.v4, mac: NET.mac }).slice(6), [
    '-t',
    'none',
    '-u',
    'none',
    '-T',
    'none',
    '-U',
    'none',
    '-a',
    '192.0.2.2',
    '-n',
    '24',
    '-g',
    '192.0.2.1',
    '-4',
    '--ns-mac-addr',
    '02:42:c0:00:02:02',
    '--netns',
    '/n',
  ]);
  assert.throws(
    () => pastaArgs('/n', [{ hostIP: '', hostPort: 1, containerPort: 1, protocol: 'sctp' }], '/p', NET),
    /1\/sctp: pasta, .* TCP and UDP only/,
  );
});

test("the host's uplink as pasta reads it: the default route of least metric, its gateway in the kernel's byte order", () => {
  const route = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'down0\t00000000\t0100000A\t0002\t0\t0\t0\t00000000\t0\t0\t0',
  ].join('\n');
  assert.deepEqual(defaultRoute4(route), { ifname: 'eth0', gateway: '192.0.2.1' });
  assert.equal(defaultRoute4(route.split('\n').slice(0, 1).join('\n')), undefined);
  const route6 = [
    'fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0',
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0',
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
  ].join('\n');
  assert.deepEqual(defaultRoute6(route6), { ifname: 'eth0', gateway: 'fd00::1' });
  assert.equal(defaultRoute6(route6.split('\n')[0]), undefined);
  const mac = randomMac();
  assert.match(mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.equal(parseInt(mac.slice(0, 2), 16) & 0x03, 0x02, 'locally administered, unicast');
});
