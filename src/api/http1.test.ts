import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from './http1.js';

/** A unix-socket server that records the bytes it got and answers with `answer(connectionBytesSoFar, socket)` until it returns true. */
async function withServer(
  answer: (req: string, s: Socket) => boolean,
  body: (path: string, got: () => string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-http1-'));
  const path = join(dir, 's.sock');
  let got = '';
  const server: Server = createServer((s) => {
    let done = false;
    let req = '';
    s.on('data', (d) => {
      req += d.toString('latin1');
      got += d.toString('latin1');
      if (!done) done = answer(req, s);
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  try {
    await body(path, () => got);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const text = async (r: Readable) => {
  let s = '';
  for await (const c of r) s += c.toString();
  return s;
};

test('a Content-Length answer split over writes; the request has Host and Content-Length', async () => {
  await withServer(
    (req, s) => {
      if (!req.includes('\r\n\r\n{"a":1}')) return false;
      s.write('HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"Id":');
      setTimeout(() => s.write('"x"}'), 5);
      return true;
    },
    async (path, got) => {
      const r = await request(
        { path },
        { method: 'POST', path: '/containers/create', headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"a":1}') },
      );
      assert.equal(r.upgraded, false);
      if (r.upgraded) return;
      assert.equal(r.res.statusCode, 201);
      assert.equal(r.res.headers['content-type'], 'application/json');
      assert.equal(await text(r.res), '{"Id":"x"}');
      assert.match(got(), /^POST \/containers\/create HTTP\/1\.1\r\nHost: localhost\r\n/);
      assert.match(got(), /\r\nContent-Length: 7\r\n/);
    },
  );
});

test('a chunked answer, chunks and their CRLFs cut at every byte', async () => {
  const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n';
  await withServer(
    (req, s) => {
      if (!req.includes('\r\n\r\n')) return false;
      let i = 0;
      const tick = () => {
        if (i < wire.length) {
          s.write(wire[i++]);
          setImmediate(tick);
        }
      };
      tick();
      return true;
    },
    async (path) => {
      const r = await request({ path }, { method: 'GET', path: '/x' });
      if (r.upgraded) assert.fail('upgraded');
      assert.equal(await text(r.res), 'hello, world');
    },
  );
});

test('an answer without length ends with the connection; 204 has no body', async () => {
  await withServer(
    (req, s) => {
      if (!req.includes('\r\n\r\n')) return false;
      if (req.startsWith('DELETE')) s.write('HTTP/1.1 204 No Content\r\n\r\n');
      else s.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nline 1\nline 2\n');
      return true;
    },
    async (path) => {
      const r = await request({ path }, { method: 'GET', path: '/logs' });
      if (r.upgraded) assert.fail('upgraded');
      assert.equal(await text(r.res), 'line 1\nline 2\n');
      const d = await request({ path }, { method: 'DELETE', path: '/containers/x' });
      if (d.upgraded) assert.fail('upgraded');
      assert.equal(d.res.statusCode, 204);
      assert.equal(await text(d.res), '');
    },
  );
});

test('101 hands back the socket with the bytes that came with the head, both ways', async () => {
  await withServer(
    (req, s) => {
      if (!req.includes('\r\n\r\n')) return false;
      s.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nearly ');
      s.on('data', (d) => {
        if (d.toString().includes('ping')) s.end('pong');
      });
      return true;
    },
    async (path, got) => {
      const r = await request({ path }, { method: 'POST', path: '/attach', headers: { Connection: 'Upgrade', Upgrade: 'tcp' } });
      assert.equal(r.upgraded, true);
      if (!r.upgraded) return;
      // Read later than the bytes came: nothing is lost while no one listens.
      await new Promise((res) => setTimeout(res, 20));
      r.socket.write('ping');
      assert.equal(await text(r.socket), 'early pong');
      assert.match(got(), /\r\n\r\nping$/);
    },
  );
});

test('a stream body goes chunked', async () => {
  await withServer(
    (req, s) => {
      if (!req.endsWith('0\r\n\r\n')) return false;
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      return true;
    },
    async (path, got) => {
      const r = await request(
        { path },
        { method: 'PUT', path: '/archive', body: Readable.from([Buffer.from('abc'), Buffer.from('defghijklmnopq')]) },
      );
      if (r.upgraded) assert.fail('upgraded');
      assert.equal(await text(r.res), 'ok');
      assert.match(got(), /Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\ne\r\ndefghijklmnopq\r\n0\r\n\r\n$/);
    },
  );
});

test('no daemon: the connect error keeps its code; a close before the answer is an error', async () => {
  await assert.rejects(request({ path: '/nonexistent/berth.sock' }, { method: 'GET', path: '/_ping' }), { code: 'ENOENT' });
  await withServer(
    (req, s) => {
      if (req.includes('\r\n\r\n')) s.end('HTTP/1.1 200');
      return true;
    },
    async (path) => {
      await assert.rejects(request({ path }, { method: 'GET', path: '/_ping' }), /closed the connection before answering/);
    },
  );
});
