// Unit tests of the context `berth build` sends: .dockerignore applied as the docker CLI applies
// it (exceptions, the Dockerfile and .dockerignore always sent), owners 0:0, links kept, and a
// Dockerfile from elsewhere added under a random name its .dockerignore names.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar } from '../tar/index.js';
import { packContext } from './build-context.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-unit-cli-context-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function entries(stream: AsyncIterable<Uint8Array>): Promise<Map<string, { type: string; uid: number; text: string; link: string }>> {
  const out = new Map<string, { type: string; uid: number; text: string; link: string }>();
  for await (const e of readTar(stream)) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    out.set(e.header.name, { type: e.header.type, uid: e.header.uid, text: Buffer.concat(parts).toString(), link: e.header.linkname });
  }
  return out;
}

test('.dockerignore leaves files out; exceptions, the Dockerfile and .dockerignore are sent', async () => {
  mkdirSync(join(dir, 'src/keep'), { recursive: true });
  mkdirSync(join(dir, 'node_modules/x'), { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
  writeFileSync(join(dir, '.dockerignore'), '# comment\nnode_modules\n*.log\nDockerfile\n.dockerignore\nsrc\n!src/keep\n');
  writeFileSync(join(dir, 'a.log'), 'log');
  writeFileSync(join(dir, 'app.js'), 'js');
  writeFileSync(join(dir, 'node_modules/x/i.js'), 'dep');
  writeFileSync(join(dir, 'src/drop.c'), 'c');
  writeFileSync(join(dir, 'src/keep/k.c'), 'k');
  symlinkSync('/etc/passwd', join(dir, 'link'));
  linkSync(join(dir, 'app.js'), join(dir, 'hard.js'));
  const packed = await packContext(dir, {});
  assert.equal(packed.dockerfile, 'Dockerfile');
  const got = await entries(packed.stream);
  assert.deepEqual([...got.keys()].sort(), ['.dockerignore', 'Dockerfile', 'app.js', 'hard.js', 'link', 'src/keep/', 'src/keep/k.c']);
  assert.equal(got.get('link')!.link, '/etc/passwd');
  assert.equal(got.get('app.js')!.text, 'js');
  assert.equal(got.get('hard.js')!.type, 'link');
  assert.ok([...got.values()].every((e) => e.uid === 0));
});

test('a Dockerfile from stdin or outside goes in under a random name that .dockerignore names', async () => {
  const packed = await packContext(dir, { extraDockerfile: 'FROM outside\n' });
  assert.match(packed.dockerfile, /^\.dockerfile\.[0-9a-f]{20}$/);
  const got = await entries(packed.stream);
  assert.equal(got.get(packed.dockerfile)!.text, 'FROM outside\n');
  // The user's .dockerignore, the random name added.
  assert.match(got.get('.dockerignore')!.text, new RegExp(`^# comment\\n[^]*!src/keep\\n\\n${packed.dockerfile}\\n$`));
  // Its own Dockerfile is now an ordinary file, ignored as .dockerignore says.
  assert.equal(got.has('Dockerfile'), false);
  const bare = mkdtempSync(join(tmpdir(), 'berth-unit-cli-context-bare-'));
  try {
    const p = await packContext(bare, { extraDockerfile: 'FROM x\n' });
    assert.equal((await entries(p.stream)).get('.dockerignore')!.text, `.dockerignore\n${p.dockerfile}\n`);
  } finally {
    rmSync(bare, { recursive: true, force: true });
  }
});

test('a large file goes in pieces, byte for byte, and the stream hands out chunks as the walk goes', async () => {
  const big = mkdtempSync(join(tmpdir(), 'berth-unit-cli-context-big-'));
  try {
    const data = Buffer.alloc((3 << 20) + 123);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    writeFileSync(join(big, 'big.bin'), data);
    for (let i = 0; i < 300; i++) writeFileSync(join(big, `f${i}.txt`), `file ${i}\n`.repeat(200));
    const p = await packContext(big, {});
    let chunks = 0;
    const counted = (async function* () {
      for await (const c of p.stream) {
        chunks++;
        yield c as Uint8Array;
      }
    })();
    const got = await entries(counted);
    assert.equal(got.get('big.bin')!.text, data.toString());
    assert.equal(got.get('f299.txt')!.text, 'file 299\n'.repeat(200));
    assert.ok(chunks > 4, `${chunks} chunks`);
  } finally {
    rmSync(big, { recursive: true, force: true });
  }
});
