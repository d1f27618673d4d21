import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../errors.js';
import { matches, matchesLabels, parseFilters } from '../common/filters.js';
import { filterContainers, type ContainerView } from './filters.js';

const view = (id: string, over: Partial<ContainerView> = {}): ContainerView => ({
  Id: id.padEnd(64, '0'),
  Name: `/${id}`,
  State: 'running',
  Running: true,
  ExitCode: 0,
  Started: true,
  Health: 'none',
  ImageID: 'sha256:aaa',
  Labels: {},
  Mounts: [],
  Networks: { none: 'n0ne' },
  Ports: [],
  ...over,
});
// Newest first, as the engine lists them.
const list = [
  view('e', { State: 'created', Running: false, Started: false, ExitCode: 0 }),
  view('d', { State: 'exited', Running: false, ExitCode: 3, Labels: { tier: 'db' } }),
  view('c', {
    Labels: { tier: 'web', x: '' },
    Health: 'healthy',
    Mounts: [{ Name: 'data', Source: '/v/data/_data', Destination: '/data' }],
  }),
  view('b', {
    State: 'paused',
    Labels: { tier: 'web' },
    ImageID: 'sha256:bbb',
    Ports: [{ PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }],
  }),
  view('a', { State: 'exited', Running: false, ExitCode: 0 }),
];
const find = (ref: string) => {
  const c = list.find((x) => x.Name === `/${ref}` || x.Id.startsWith(ref));
  if (!c) throw new BerthError('not-found', `No such container: ${ref}`);
  return c.Id;
};
const names = (f: Record<string, string[]>, all = false, limit = 0, ancestors?: Set<string>) =>
  filterContainers(list, f, { all, limit, findContainer: find, ancestors })
    .map((c) => c.Name.slice(1))
    .join('');

test('filters JSON: lists, the old map form, empty', () => {
  assert.deepEqual(parseFilters('{"label":["a=1","b"],"status":{"running":true,"exited":false}}'), {
    label: ['a=1', 'b'],
    status: ['running'],
  });
  assert.deepEqual(parseFilters(''), {});
  assert.deepEqual(parseFilters(null), {});
  assert.throws(() => parseFilters('{bad'), /invalid filter/);
  assert.throws(() => parseFilters('["x"]'), /invalid filter/);
});

test('Match is exact or a regular expression; labels by key or key=value, all of them', () => {
  assert.ok(matches({}, 'name', 'x'));
  assert.ok(matches({ name: ['^we'] }, 'name', 'web'));
  assert.ok(!matches({ name: ['^db'] }, 'name', 'web'));
  assert.ok(!matches({ name: ['('] }, 'name', 'web'));
  assert.ok(matchesLabels({ label: ['tier', 'x='] }, 'label', { tier: 'web', x: '' }));
  assert.ok(!matchesLabels({ label: ['tier=db'] }, 'label', { tier: 'web' }));
  assert.ok(!matchesLabels({ label: ['tier', 'y'] }, 'label', { tier: 'web' }));
});

test('running only unless all, status or a limit; limit counts what is listed', () => {
  assert.equal(names({}), 'cb');
  assert.equal(names({}, true), 'edcba');
  assert.equal(names({ status: ['exited'] }), 'da');
  assert.equal(names({ status: ['paused', 'created'] }), 'eb');
  assert.equal(names({}, false, 1), 'e');
  assert.equal(names({ label: ['tier'] }, false, 2), 'dc');
});

test('id, name (with or without /), label, exited (only containers that ran), health, volume, ancestor, network, publish', () => {
  assert.equal(names({ id: ['c000'] }, true), 'c');
  assert.equal(names({ name: ['/b', 'd'] }, true), 'db');
  assert.equal(names({ label: ['tier=web'] }, true), 'cb');
  assert.equal(names({ exited: ['0'] }, true), 'a');
  assert.equal(names({ exited: ['3', '0'] }, true), 'da');
  assert.equal(names({ health: ['healthy'] }, true), 'c');
  assert.equal(names({ health: ['none'] }, true), 'edba');
  assert.equal(names({ volume: ['data'] }, true), 'c');
  assert.equal(names({ volume: ['/data'] }, true), 'c');
  assert.equal(names({ ancestor: ['busybox'] }, true, 0, new Set(['sha256:bbb'])), 'b');
  assert.equal(names({ ancestor: ['nothing'] }, true, 0, new Set()), '');
  assert.equal(names({ network: ['none'] }, true), 'edcba');
  assert.equal(names({ network: ['bridge'] }, true), '');
  assert.equal(names({ publish: ['8080'] }, true), 'b');
  assert.equal(names({ expose: ['80/tcp'] }, true), 'b');
  assert.equal(names({ 'is-task': ['false'] }), 'cb');
  assert.equal(names({ 'is-task': ['true'] }), '');
});

test('before and since by name or ID: newer than since, older than before', () => {
  assert.equal(names({ before: ['c'] }, true), 'ba');
  assert.equal(names({ since: ['b'] }, true), 'edc');
  assert.equal(names({ since: ['a'], before: ['d'] }, true), 'cb');
  // before/since list stopped containers only with all, as Docker.
  assert.equal(names({ before: ['d'] }), 'cb');
  assert.throws(
    () => names({ before: ['zzz'] }),
    (e: BerthError) => e.kind === 'not-found',
  );
});

test("bad filters: Docker's messages, invalid (400)", () => {
  const bad = (f: Record<string, string[]>, re: RegExp) =>
    assert.throws(
      () => names(f),
      (e: BerthError) => e.kind === 'invalid' && re.test(e.message),
    );
  bad({ foo: ['x'] }, /^Invalid filter 'foo'$/);
  bad({ status: ['sleeping'] }, /^Invalid filter 'status=sleeping'$/);
  bad({ exited: ['x'] }, /^strconv.Atoi: parsing "x": invalid syntax$/);
  bad({ 'is-task': ['maybe'] }, /^Invalid filter 'is-task=\[maybe\]'$/);
  bad({ health: ['ok'] }, /^Unrecognised filter value for health: ok$/);
  bad({ publish: ['1:2'] }, /should not contain ':'/);
});
