// Unit tests: the events log (legacy fields, order, bounds, replay windows) and moby's filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Events, checkEventFilters, eventJSON, matches, parseEventTime } from './events.js';

test('container and image events carry the legacy status/id/from; others do not', () => {
  const ev = new Events();
  const c = ev.emit('container', 'start', 'abc', { image: 'busybox', name: 'x' });
  assert.equal(c.status, 'start');
  assert.equal(c.id, 'abc');
  assert.equal(c.from, 'busybox');
  assert.equal(c.scope, 'local');
  assert.equal(BigInt(c.time) * 1_000_000_000n <= c.timeNano, true);
  const i = ev.emit('image', 'pull', 'busybox:latest', { name: 'busybox:latest' });
  assert.equal(i.id, 'busybox:latest');
  assert.equal(i.from, undefined);
  const v = ev.emit('volume', 'create', 'v1', { driver: 'local' });
  assert.equal(v.status, undefined);
  assert.equal(v.id, undefined);
});

test('timeNano increases strictly and is written as an exact integer', () => {
  const ev = new Events();
  const a = ev.emit('container', 'create', 'a');
  const b = ev.emit('container', 'start', 'a');
  assert.ok(b.timeNano > a.timeNano);
  const json = eventJSON(b);
  assert.match(json, new RegExp(`"timeNano":${b.timeNano}}$`));
  assert.equal(JSON.parse(json).Action, 'start');
});

test('replay: nothing without since/until; the window is inclusive; the log is bounded', () => {
  const ev = new Events(3);
  const msgs = ['a', 'b', 'c', 'd'].map((id) => ev.emit('container', 'create', id));
  const seen: string[] = [];
  const none = ev.subscribe({}, (e) => seen.push(e.Actor.ID));
  assert.deepEqual(none.past, []);
  const win = ev.subscribe({ since: msgs[1].timeNano, until: msgs[2].timeNano }, () => {});
  assert.deepEqual(
    win.past.map((e) => e.Actor.ID),
    ['b', 'c'],
  );
  assert.deepEqual(
    ev.subscribe({ since: 0n }, () => {}).past.map((e) => e.Actor.ID),
    ['b', 'c', 'd'],
  );
  ev.emit('container', 'start', 'e');
  none.unsubscribe();
  ev.emit('container', 'start', 'f');
  assert.deepEqual(seen, ['e']);
});

test('filters as moby: type, container by name or ID prefix, image with or without tag, event with suffixes, labels', () => {
  const ev = new Events();
  const c = ev.emit('container', 'health_status: healthy', 'abcdef', { image: 'reg:5000/busybox:1', name: 'web', tier: 'front' });
  const img = ev.emit('image', 'tag', 'sha256:123', { name: 'busybox:latest' });
  assert.ok(matches(c, { type: ['container'] }));
  assert.ok(!matches(img, { type: ['container'] }));
  assert.ok(matches(c, { container: ['web'] }) && matches(c, { container: ['abc'] }) && !matches(c, { container: ['bcd'] }));
  assert.ok(!matches(img, { container: ['sha256'] }));
  assert.ok(
    matches(c, { image: ['reg:5000/busybox'] }) && matches(c, { image: ['reg:5000/busybox:1'] }) && !matches(c, { image: ['reg'] }),
  );
  assert.ok(matches(img, { image: ['busybox'] }) && matches(img, { image: ['sha256:123'] }));
  assert.ok(
    matches(c, { event: ['health_status'] }) && matches(c, { event: ['health_status: healthy'] }) && !matches(c, { event: ['health'] }),
  );
  assert.ok(matches(c, { event: ['die', 'health_status'] }));
  assert.ok(matches(c, { label: ['tier'] }) && matches(c, { label: ['tier=front'] }) && !matches(c, { label: ['tier=back'] }));
  assert.ok(!matches(c, { label: ['tier', 'zone'] }));
  assert.throws(() => checkEventFilters({ colour: ['red'] }), /Invalid filter 'colour'/);
});

test('event times: seconds with optional nanoseconds', () => {
  assert.equal(parseEventTime('1700000000'), 1_700_000_000_000_000_000n);
  assert.equal(parseEventTime('1700000000.5'), 1_700_000_000_500_000_000n);
  assert.equal(parseEventTime('1700000000.000000001'), 1_700_000_000_000_000_001n);
  assert.throws(() => parseEventTime('yesterday'), /invalid timestamp/);
});
