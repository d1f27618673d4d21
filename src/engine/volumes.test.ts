import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Volumes } from './volumes.js';

async function withRoot(fn: (dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-volumes-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await delay(10);
  assert.ok(ok(), what);
}

test('a new volume is seen at once and durable when `durable` resolves; a second create of the name returns it', () =>
  withRoot(async (dir) => {
    const vs = new Volumes(dir, () => new Map());
    const v = vs.create({ Name: 'data', Labels: { a: 'b' } });
    assert.equal(vs.get('data').Mountpoint, v.Mountpoint);
    assert.deepEqual(vs.create({ Name: 'data' }).Labels, { a: 'b' });
    await vs.durable(['data']);
    assert.equal(JSON.parse(readFileSync(join(dir, 'volumes/data/volume.json'), 'utf8')).Name, 'data');
    assert.deepEqual(readdirSync(join(dir, 'volumes/data')).sort(), ['_data', 'volume.json'], 'no temp file left beside the record');
  }));

test("a removed volume's name is free at once and its files go off the event loop; a killed daemon's leftovers go at the next start", () =>
  withRoot(async (dir) => {
    const events: string[] = [];
    const vs = new Volumes(
      dir,
      () => new Map(),
      (action, name) => events.push(`${action} ${name}`),
    );
    const v = vs.create({ Name: 'big' });
    for (let i = 0; i < 200; i++) writeFileSync(join(v.Mountpoint, `f${i}`), 'x');
    await vs.durable(['big']);
    const removing = vs.remove('big');
    assert.throws(() => vs.get('big'), { kind: 'not-found' });
    assert.deepEqual(vs.list(), []);
    assert.equal(vs.create({ Name: 'big' }).Name, 'big', 'the name can be taken again before the old files are gone');
    assert.equal(readdirSync(vs.create({ Name: 'big' }).Mountpoint).length, 0, "the new volume has none of the old one's files");
    await removing;
    assert.deepEqual(
      readdirSync(join(dir, 'volumes')).filter((n) => n.startsWith('.removing-')),
      [],
      'the old folder is deleted when remove resolves',
    );
    // The second create of the new 'big' finds it and tells its create again, as dockerd.
    assert.deepEqual(events, ['create big', 'destroy big', 'create big', 'create big']);

    mkdirSync(join(dir, 'volumes/.removing-0123456789abcdef/_data/sub'), { recursive: true });
    new Volumes(dir, () => new Map());
    await until("a killed berthd's half-deleted folder is gone", () => !existsSync(join(dir, 'volumes/.removing-0123456789abcdef')));
    assert.ok(existsSync(join(dir, 'volumes/big/volume.json')), 'volumes are left alone');
  }));

test('a volume in use is not removed, nor pruned', () =>
  withRoot(async (dir) => {
    const vs = new Volumes(dir, () => new Map([['used', ['c1']]]));
    vs.create({ Name: 'used', Labels: { 'com.docker.volume.anonymous': '' } });
    await assert.rejects(vs.remove('used'), { kind: 'conflict' });
    assert.deepEqual((await vs.prune()).VolumesDeleted, []);
    assert.ok(existsSync(join(dir, 'volumes/used/_data')));
  }));

test("a volume removed while its record's fsync is under way stays removed (the fsync writes nothing anew)", () =>
  withRoot(async (dir) => {
    const vs = new Volumes(dir, () => new Map());
    vs.create({ Name: 'brief' });
    const durable = vs.durable(['brief']);
    await vs.remove('brief');
    await durable;
    assert.throws(() => vs.get('brief'), { kind: 'not-found' });
    assert.deepEqual(readdirSync(join(dir, 'volumes')), []);
  }));

test("a volume's options are checked as dockerd's local driver checks them and shown as given; a volume of the name is returned as it is", () =>
  withRoot(async (dir) => {
    const vs = new Volumes(dir, () => new Map());
    const v = vs.create({ Name: 'tmp', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' }, Labels: { x: 'y' } });
    assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
    assert.deepEqual(vs.get('tmp').Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
    assert.deepEqual(vs.create({ Name: 'plain' }).Options, null);
    assert.throws(() => vs.create({ Name: 'bad', DriverOpts: { bogus: '1' } }), {
      kind: 'invalid',
      message: 'create bad: invalid option: "bogus"',
    });
    assert.throws(() => vs.get('bad'), { kind: 'not-found' }, 'a refused create makes nothing');
    assert.deepEqual(
      vs.create({ Name: 'tmp', DriverOpts: { bogus: '1' } }).Options,
      v.Options,
      "dockerd's store returns the volume it has",
    );
    await vs.durable(['tmp', 'plain']);
  }));
