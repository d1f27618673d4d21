// Unit tests of the layer and archive work on worker threads: jobs in a row (on the worker kept
// between them) each get their own answer; a job that fails gives its error and the next one
// still works; an archive's index says whether it is plain and hashes its files.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tarBuffer } from '../tar/index.js';
import { indexArchiveThreaded, unpackLayerThreaded } from './unpack-thread.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-unit-unpack-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('jobs in a row, a failed one between them: each gets its own answer', async () => {
  const plain = await tarBuffer([
    { header: { name: 'd/', type: 'directory', mode: 0o750 } },
    { header: { name: 'd/f', mode: 0o640 }, body: 'hello' },
    { header: { name: 'Dockerfile', mode: 0o644 }, body: 'FROM a\n' },
  ]);
  for (let i = 0; i < 3; i++) {
    const idx = await indexArchiveThreaded(Readable.from([plain]), join(dir, `spool${i}`), { capture: ['Dockerfile'] });
    assert.equal(idx.plain, true);
    assert.deepEqual(idx.entries, [
      { path: 'd', type: 'dir', mode: 0o750, size: 0 },
      { path: 'd/f', type: 'file', mode: 0o640, size: 5, sha256: sha('hello') },
      { path: 'Dockerfile', type: 'file', mode: 0o644, size: 7, sha256: sha('FROM a\n') },
    ]);
    assert.deepEqual(idx.captured, { Dockerfile: 'FROM a\n' });
    assert.deepEqual(readFileSync(join(dir, `spool${i}`)), plain);
    await assert.rejects(indexArchiveThreaded(Readable.from([Buffer.from('no tar '.repeat(200))]), join(dir, `bad${i}`)), /tar/);
    const r = await unpackLayerThreaded(Readable.from([plain]), join(dir, `unpacked${i}`));
    assert.equal(r.entries, 3);
    assert.equal(readFileSync(join(dir, `unpacked${i}/d/f`), 'utf8'), 'hello');
  }
  const linked = await tarBuffer([{ header: { name: 'a' }, body: 'a' }, { header: { name: 'l', type: 'symlink', linkname: 'a' } }]);
  assert.equal((await indexArchiveThreaded(Readable.from([linked]), join(dir, 'spool-l'))).plain, false);
});
