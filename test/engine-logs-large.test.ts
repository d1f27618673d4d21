// A container writes a ~700 MB json-file log; berthd reads it incrementally: `logs --tail 5`
// answers at once (blocks read backwards from the end), `--since` streams the whole file and
// `--until` stops early, with berthd's resident memory (VmRSS) bounded throughout — the whole
// log was once read into one string ("Invalid string length", 1.7 GB of RSS). Disk: ~0.7 GB in
// the test's temp dir, removed at the end.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { startEngine, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
before(async () => {
  eng = await startEngine();
  eng.dockerOk(['pull', 'busybox']);
});
after(async () => {
  await eng?.stop();
});

const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${eng.pid()}/status`, 'utf8'))![1]) * 1024;
const MB = 1 << 20;
/** More than berthd needs for a request (its baseline is well under this), far less than the log. */
const RSS_BOUND = 80 * MB;

/** GET on the socket, counting the body's bytes and keeping only its last 4 KiB. */
function stream(path: string): Promise<{ status: number; bytes: number; tail: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: eng.socket, path }, (res) => {
      let bytes = 0;
      let tail = Buffer.alloc(0);
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        tail = Buffer.concat([tail, c]).subarray(-4096);
      });
      res.on('end', () => resolve({ status: res.statusCode!, bytes, tail: tail.toString('latin1') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test("a 700 MB log: --tail answers at once, --since streams it, --until stops early; berthd's memory stays bounded", async (t) => {
  // 172,500 lines of 4,000 bytes (690 MB of output, ~700 MB of json-file log), then one marker line.
  // (awk rather than `yes | head`: no pipeline whose end hangs on SIGPIPE, and ~50 MB/s here.)
  const id = eng.dockerOk([
    'run',
    '-d',
    '--name',
    'biglog',
    'busybox',
    'awk',
    'BEGIN { s = sprintf("%03999d", 0); for (i = 0; i < 172500; i++) print s; print "end-of-log" }',
  ]);
  for (let i = 0; i < 240; i++) {
    if (JSON.parse((await eng.api('GET', `/containers/${id}/json`)).body).State.Status === 'exited') break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const state = JSON.parse((await eng.api('GET', `/containers/${id}/json`)).body).State;
  assert.equal(state.Status, 'exited');
  assert.equal(state.ExitCode, 0);
  const logPath = JSON.parse((await eng.api('GET', `/containers/${id}/json`)).body).LogPath as string;
  assert.ok(statSync(logPath).size > 690_000_000, `log of ${statSync(logPath).size} bytes`);

  const base = rss();
  const t0 = Date.now();
  const tail = eng.docker(['logs', '--tail', '5', 'biglog']);
  const took = Date.now() - t0;
  assert.equal(tail.status, 0, tail.stderr);
  const lines = tail.stdout.split('\n');
  assert.deepEqual(lines.slice(-2), ['end-of-log', '']);
  assert.equal(lines.length, 6);
  for (const l of lines.slice(0, 4)) assert.equal(l, '0'.repeat(3999));
  assert.ok(took < 10_000, `--tail 5 took ${took} ms (a sanity bound: it reads a few blocks)`);
  t.diagnostic(
    `log ${statSync(logPath).size} bytes; --tail 5 in ${took} ms; berthd RSS ${(base / MB).toFixed(1)} MB before, ${(rss() / MB).toFixed(1)} MB after`,
  );
  assert.ok(rss() - base < RSS_BOUND, `RSS grew from ${base} to ${rss()} bytes on --tail`);

  // --tail with timestamps gives the last entry's time; --since from the second before streams the whole file through the filter
  const last = eng.dockerOk(['logs', '--tail', '1', '--timestamps', 'biglog']);
  const when = Date.parse(last.split(' ')[0]) / 1000;
  const since = await stream(`/containers/${id}/logs?stdout=1&since=${Math.floor(when) - 1}`);
  assert.equal(since.status, 200);
  assert.match(since.tail, /end-of-log\n$/);
  t.diagnostic(`--since streamed ${since.bytes} bytes; berthd RSS ${(rss() / MB).toFixed(1)} MB after`);
  assert.ok(rss() - base < RSS_BOUND, `RSS grew from ${base} to ${rss()} bytes on --since`);

  // --until before the first entry: nothing, and read no further than the first entry
  const started = Date.parse(state.StartedAt) / 1000;
  const until = await stream(`/containers/${id}/logs?stdout=1&until=${Math.floor(started) - 1}`);
  assert.equal(until.status, 200);
  assert.equal(until.bytes, 0);

  // -f on a stopped container: the tail, then the end
  const follow = eng.docker(['logs', '-f', '--tail', '1', 'biglog']);
  assert.equal(follow.stdout, 'end-of-log\n');
  assert.ok(rss() - base < RSS_BOUND, `RSS grew from ${base} to ${rss()} bytes`);
  eng.dockerOk(['rm', 'biglog']);
});
