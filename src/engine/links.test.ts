// Unit tests: dockerd's parsing of a link and the environment and hosts names a link gives, held
// to what dockerd 20.10 wrote for the same container (seen side by side, test/engine-links.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkEnv, linkHostNames, parseLink } from './links.js';

test('parseLink: name:alias, a name alone, and the /name:/parent/alias form inspect shows', () => {
  assert.deepEqual(parseLink('db:data'), { name: 'db', alias: 'data' });
  assert.deepEqual(parseLink('db'), { name: 'db', alias: 'db' });
  assert.deepEqual(parseLink('/db:/web/data'), { name: 'db', alias: 'data' });
  assert.deepEqual(parseLink('db:'), { name: 'db', alias: '' });
  assert.throws(() => parseLink(''), { message: 'empty string specified for links' });
  assert.throws(() => parseLink('a:b:c'), /bad format for links: a:b:c/);
});

test("linkEnv: dockerd 20.10's variables for ports (a range of three too), name and env, with its repeats", () => {
  const ip = '10.241.7.2';
  const env = linkEnv('/c2/my-alias', {
    ip,
    env: ['PATH=/bin', 'FOO=bar', 'SP=a b', 'HOME=/root', 'NOVALUE'],
    exposed: ['80/tcp', '53/udp', '7000/tcp', '7001/tcp', '7002/tcp', '9000/udp'],
  });
  const port = (n: number, proto: string) => {
    const k = `MY_ALIAS_PORT_${n}_${proto.toUpperCase()}`;
    return [`${k}=${proto}://${ip}:${n}`, `${k}_ADDR=${ip}`, `${k}_PORT=${n}`, `${k}_PROTO=${proto}`];
  };
  const range = 'MY_ALIAS_PORT_7000_TCP';
  assert.deepEqual(env, [
    `MY_ALIAS_PORT=udp://${ip}:53`,
    `${range}_START=tcp://${ip}:7000`,
    `${range}_ADDR=${ip}`,
    `${range}_PROTO=tcp`,
    `${range}_PORT_START=7000`,
    `${range}_END=tcp://${ip}:7002`,
    `${range}_PORT_END=7002`,
    ...port(53, 'udp'),
    ...port(80, 'tcp'),
    ...port(7000, 'tcp'),
    ...port(7001, 'tcp'),
    ...port(7002, 'tcp'),
    ...port(9000, 'udp'),
    'MY_ALIAS_NAME=/c2/my-alias',
    'MY_ALIAS_ENV_FOO=bar',
    'MY_ALIAS_ENV_SP=a b',
  ]);
  // TCP before UDP on the same number; two ports in a row are no range.
  assert.deepEqual(
    linkEnv('/p/a', { ip, env: [], exposed: ['81/udp', '81/tcp'] }).filter((e) => /^A_PORT(=|_81_[A-Z]+=)/.test(e)),
    [`A_PORT=tcp://${ip}:81`, `A_PORT_81_TCP=tcp://${ip}:81`, `A_PORT_81_UDP=udp://${ip}:81`],
  );
  assert.deepEqual(linkEnv('/p/a', { ip, env: [], exposed: [] }), ['A_NAME=/p/a']);
});

test("linkHostNames: the alias, the linked container's hostname, and its name when that is not the alias", () => {
  assert.equal(linkHostNames('my-alias', '1fd0d6db25f2', 'c1'), 'my-alias 1fd0d6db25f2 c1');
  assert.equal(linkHostNames('c1', '1fd0d6db25f2', 'c1'), 'c1 1fd0d6db25f2');
});
