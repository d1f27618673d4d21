import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { decodeBody } from './body-decode.js';
import { checkDepth, MAX_JSON_BODY, parseBody, readBounded } from './body-read.js';
import { registryAuth } from './auth.js';
import type { Context } from './router.js';
import { ContainerCreate, ContainerUpdate, ExecCreate, NetworkCreate, VolumeCreate, CommitConfig } from './body-types.js';

const refused = (body: unknown, re: RegExp, type = ContainerCreate) =>
  assert.throws(
    () => decodeBody(type, body),
    (e: Error & { kind?: string }) => {
      assert.equal(e.kind, 'invalid', e.message);
      assert.match(e.message, re);
      return true;
    },
  );

test('wrong JSON types are refused in dockerd words, naming the field', () => {
  refused(
    { Image: 'x', HostConfig: { Privileged: 'false' } },
    /^json: cannot unmarshal string into Go struct field HostConfig\.HostConfig\.Privileged of type bool$/,
  );
  refused({ Image: 'x', WorkingDir: 5 }, /^json: cannot unmarshal number into Go struct field CreateRequest\.WorkingDir of type string$/);
  refused({ Image: 'x', Env: 'A=1' }, /Go struct field CreateRequest\.Env of type \[\]string/);
  refused({ Image: 'x', Env: [5] }, /cannot unmarshal number into Go struct field CreateRequest\.Env of type string/);
  refused({ Image: 'x', Labels: { a: 1 } }, /CreateRequest\.Labels of type string/);
  refused(
    { Image: 'x', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 5 }] } } },
    /Go struct field PortBinding\.HostConfig\.PortBindings\.HostPort of type string/,
  );
  refused({ Image: 'x', HostConfig: { Memory: '1g' } }, /HostConfig\.HostConfig\.Memory of type int64/);
  refused(
    { Image: 'x', HostConfig: { Memory: 1.5 } },
    /cannot unmarshal number 1\.5 into Go struct field HostConfig\.HostConfig\.Memory of type int64/,
  );
  refused({ Image: 'x', HostConfig: { BlkioWeight: 70000 } }, /number 70000 .* of type uint16/);
  refused(
    { Image: 'x', HostConfig: { Mounts: [{ Type: 'bind', ReadOnly: 'yes' }] } },
    /Go struct field Mount\.HostConfig\.Mounts\.ReadOnly of type bool/,
  );
  refused({ Image: 'x', HostConfig: { ConsoleSize: [1, 2, 3] } }, /array of 3 .* of type \[2\]uint/);
  refused(
    { Image: 'x', HostConfig: [] },
    /cannot unmarshal array into Go struct field CreateRequest\.HostConfig of type container\.HostConfig/,
  );
  refused(
    { Image: 'x', NetworkingConfig: { EndpointsConfig: { n: { Aliases: 'a' } } } },
    /EndpointSettings\.NetworkingConfig\.EndpointsConfig\.Aliases of type \[\]string/,
  );
  refused([], /^json: cannot unmarshal array into Go value of type container\.CreateRequest$/);
  refused('x', /into Go value of type/);
  refused({ Cmd: 5 }, /CreateRequest\.Cmd of type strslice\.StrSlice/);
  refused({ Memory: true }, /UpdateConfig\.Memory of type int64/, ContainerUpdate);
  refused({ Tty: 'true' }, /ExecOptions\.Tty of type bool/, ExecCreate);
  refused({ Name: 'n', Internal: 1 }, /CreateRequest\.Internal of type bool/, NetworkCreate);
  refused({ Name: 'v', Labels: { a: {} } }, /CreateOptions\.Labels of type string/, VolumeCreate);
});

test('enumerations: unknown values refused, dockerd words where it has them; empty means unset', () => {
  refused({ HostConfig: { RestartPolicy: { Name: 'sometimes' } } }, /^invalid restart policy: unknown policy 'sometimes'; use one of/);
  refused({ HostConfig: { Mounts: [{ Type: 'nfs' }] } }, /^invalid mount config for type "nfs": mount type unknown$/);
  refused(
    { HostConfig: { Mounts: [{ Type: 'bind', BindOptions: { Propagation: 'weird' } }] } },
    /HostConfig\.Mounts\.BindOptions\.Propagation "weird"/,
  );
  assert.deepEqual(decodeBody(ContainerUpdate, { RestartPolicy: { Name: '' } }), { RestartPolicy: { Name: '' } });
});

test('what comes out: declared fields only, canonical names, null unset, StrSlice lists, no coercion', () => {
  const out = decodeBody(ContainerCreate, {
    Image: 'busybox',
    Cmd: 'sh',
    Bogus: { deep: [[[1]]] },
    privileged: true,
    Env: null,
    Labels: { a: 'b', __proto__x: 'c' },
    HostConfig: { privileged: true, Memory: null, Binds: [null], ConsoleSize: null },
    ExposedPorts: { '80/tcp': { anything: 1 } },
  });
  assert.deepEqual(out, {
    Image: 'busybox',
    Cmd: ['sh'],
    Labels: { a: 'b', __proto__x: 'c' },
    HostConfig: { Privileged: true, Binds: [''] },
    ExposedPorts: { '80/tcp': {} },
  });
  // A `null` after a value leaves the value (Go's no-op), a later case-folded key wins.
  assert.deepEqual(decodeBody(ContainerCreate, { HostConfig: { Privileged: true, privileged: null } }), {
    HostConfig: { Privileged: true },
  });
  assert.deepEqual(decodeBody(ContainerCreate, { HostConfig: { Privileged: true, privileged: false } }), {
    HostConfig: { Privileged: false },
  });
  // `__proto__` as a label key stays a key, never a prototype.
  const p = decodeBody(ContainerCreate, JSON.parse('{"Labels": {"__proto__": "x"}}'));
  assert.equal(Object.getPrototypeOf(p.Labels), Object.prototype);
  assert.equal(p.Labels.__proto__, 'x');
  assert.deepEqual(decodeBody(CommitConfig, null), {});
});

test('bodies: empty is {}, null refused unless allowed, bad JSON and deep nesting are 400s', () => {
  assert.deepEqual(parseBody(ContainerCreate, Buffer.from('')), {});
  assert.throws(() => parseBody(ContainerCreate, Buffer.from('null')), /request body is null/);
  assert.deepEqual(parseBody(CommitConfig, Buffer.from('null'), { allowNull: true }), {});
  assert.throws(() => parseBody(ContainerCreate, Buffer.from('{"Image": ')), /invalid JSON: Unexpected end/);
  const deep = '{"Labels":'.repeat(100_000) + '1' + '}'.repeat(100_000);
  assert.throws(() => parseBody(ContainerCreate, Buffer.from(deep)), /exceeded max depth/);
  // Brackets inside strings are not nesting.
  checkDepth(JSON.stringify({ Labels: { a: '['.repeat(1000) + '\\"{{{' } }));
  assert.throws(() => checkDepth('['.repeat(101)), /exceeded max depth/);
  checkDepth('['.repeat(100) + ']'.repeat(100));
});

test('readBounded: a declared or counted length over the cap is a 413, found before the whole body is read', async () => {
  await assert.rejects(
    readBounded(Readable.from([Buffer.alloc(10)]), String(MAX_JSON_BODY + 1)),
    (e: Error & { kind?: string }) => e.kind === 'too-large',
  );
  let pulled = 0;
  const endless = new Readable({
    read() {
      pulled++;
      this.push(Buffer.alloc(64 * 1024));
    },
  });
  await assert.rejects(readBounded(endless, undefined, 256 * 1024), /larger than berthd's limit of 262144 bytes/);
  assert.ok(pulled < 10, `read ${pulled} chunks`);
  endless.destroy();
  assert.equal((await readBounded(Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]), undefined)).toString(), '{"a":1}');
});

test('X-Registry-Auth is decoded as AuthConfig too: a wrong type is a 400, not credentials', () => {
  const ctx = (a: unknown) =>
    ({ req: { headers: { 'x-registry-auth': Buffer.from(JSON.stringify(a)).toString('base64url') } } }) as unknown as Context;
  assert.throws(() => registryAuth(ctx({ username: 5, password: 'p' })), /AuthConfig\.username of type string/);
  assert.deepEqual(registryAuth(ctx({ Username: 'u', password: 'p' })), { username: 'u', password: 'p' });
  assert.equal(registryAuth(ctx({})), undefined);
});
