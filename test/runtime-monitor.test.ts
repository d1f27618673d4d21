// The per-container monitor (native/monitor.c), driven through the runtime library as berthd
// will: it owns the container's stdio, writes a json-file log, serves attach clients in
// Docker's multiplexed frames, passes their input on, and records the exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeBundle, uniqueId } from './helpers/bundle.js';
import { LocalRuntime, type RuntimeLogger } from '../src/runtime/runtime.js';

/** The library's warnings fail the test: none is expected here. */
const failOnLog: RuntimeLogger = (level, msg) => {
  if (level === 'warn' || level === 'error') assert.fail(`runtime ${level}: ${msg}`);
};
const runtime = (root: string) => new LocalRuntime(root, failOnLog);

async function waitFor(cond: () => boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Splits Docker's stdcopy frames into [stream, text] pairs. */
function frames(buf: Buffer): [number, string][] {
  const out: [number, string][] = [];
  for (let i = 0; i + 8 <= buf.length;) {
    const size = buf.readUInt32BE(i + 4);
    out.push([buf[i], buf.subarray(i + 8, i + 8 + size).toString()]);
    i += 8 + size;
  }
  return out;
}

test('a monitored container logs, serves attach, takes input and records its exit', async (t) => {
  const b = makeBundle(['sh', '-c', 'read x; echo out; echo err >&2; echo "got $x"; exit 3']);
  t.after(() => b.cleanup());
  const id = uniqueId('mon');
  const monitor = { log: join(b.dir, 'log.json'), exitFile: join(b.dir, 'exit.json'), attach: join(b.dir, 'attach.sock'), stdin: true };
  await runtime(b.root).create({ id, bundle: b.dir, monitor });
  await runtime(b.root).start(id);
  const sock = connect(monitor.attach);
  const chunks: Buffer[] = [];
  sock.on('data', (d) => chunks.push(d));
  const closed = new Promise((r) => sock.on('close', r));
  await new Promise((r) => sock.on('connect', r));
  sock.write('hello\n');
  await waitFor(() => existsSync(monitor.exitFile));
  await closed;

  const exit = JSON.parse(readFileSync(monitor.exitFile, 'utf8'));
  assert.equal(exit.exitCode, 3);
  assert.equal(exit.signal, 0);
  assert.match(exit.finishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);

  const got = frames(Buffer.concat(chunks));
  assert.deepEqual(
    got
      .filter(([s]) => s === 1)
      .map(([, x]) => x)
      .join(''),
    'out\ngot hello\n',
  );
  assert.deepEqual(
    got
      .filter(([s]) => s === 2)
      .map(([, x]) => x)
      .join(''),
    'err\n',
  );

  const log = readFileSync(monitor.log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  // Lines keep their order within a stream; stdout and stderr are separate pipes.
  assert.deepEqual(
    log.filter((e) => e.stream === 'stdout').map((e) => e.log),
    ['out\n', 'got hello\n'],
  );
  assert.deepEqual(
    log.filter((e) => e.stream === 'stderr').map((e) => e.log),
    ['err\n'],
  );
  for (const e of log) assert.match(e.time, /Z$/);

  assert.equal((await runtime(b.root).state(id)).status, 'stopped');
  await runtime(b.root).delete(id);
  await waitFor(() => !existsSync(monitor.attach));
});

test('the log rotates at its size limit and keeps max-file files', async (t) => {
  const b = makeBundle(['sh', '-c', 'i=0; while [ $i -lt 200 ]; do echo "line $i of the container output"; i=$((i+1)); done']);
  t.after(() => b.cleanup());
  const id = uniqueId('rot');
  const log = join(b.dir, 'log.json');
  const monitor = { log, exitFile: join(b.dir, 'exit.json'), attach: join(b.dir, 'attach.sock'), logMaxSize: 2000, logMaxFile: 3 };
  await runtime(b.root).create({ id, bundle: b.dir, monitor });
  await runtime(b.root).start(id);
  await waitFor(() => existsSync(monitor.exitFile));
  await waitFor(() => !existsSync(monitor.attach));
  assert.ok(existsSync(`${log}.1`) && existsSync(`${log}.2`));
  assert.ok(!existsSync(`${log}.3`));
  for (const f of [log, `${log}.1`, `${log}.2`]) assert.ok(readFileSync(f).length <= 2000, f);
  const last = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).log);
  assert.equal(last.at(-1), 'line 199 of the container output\n');
  await runtime(b.root).delete(id);
});

test('a line is one log entry however reads cut it; a line over 16 kB is cut into 16 kB entries; an unended one is kept', async (t) => {
  // 3000 lines of 100 bytes (the monitor reads 32 kB at a time), then 40000 bytes of one line and
  // 10 more with no newline at all.
  const b = makeBundle([
    'sh',
    '-c',
    `awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "%099d\\n", i; for (i = 0; i < 40000; i++) printf "y"; printf "\\n"; printf "0123456789" }'`,
  ]);
  t.after(() => b.cleanup());
  const id = uniqueId('lines');
  const monitor = { log: join(b.dir, 'log.json'), exitFile: join(b.dir, 'exit.json'), attach: join(b.dir, 'attach.sock') };
  await runtime(b.root).create({ id, bundle: b.dir, monitor });
  await runtime(b.root).start(id);
  await waitFor(() => existsSync(monitor.exitFile));
  await waitFor(() => !existsSync(monitor.attach));
  const logs = readFileSync(monitor.log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).log as string);
  assert.equal(logs.length, 3000 + 3 + 1);
  for (let i = 1; i <= 3000; i++) if (logs[i - 1] !== `${String(i).padStart(99, '0')}\n`) assert.fail(`entry ${i}: ${logs[i - 1]}`);
  assert.deepEqual(
    logs.slice(3000).map((l) => l.length),
    [16384, 16384, 40001 - 2 * 16384, 10],
  );
  assert.equal(logs[3002].at(-1), '\n');
  assert.equal(logs[3003], '0123456789');
  await runtime(b.root).delete(id);
});

test('the container outlives its caller, and its output never waits for a reader', async (t) => {
  const b = makeBundle(['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done; exit 5']);
  t.after(() => b.cleanup());
  const id = uniqueId('orphan');
  const monitor = { log: join(b.dir, 'log.json'), exitFile: join(b.dir, 'exit.json'), attach: join(b.dir, 'attach.sock') };
  // A caller that creates and starts the container, then is killed like a crashed berthd.
  const script = join(b.dir, 'caller.mjs');
  writeFileSync(
    script,
    `
    import { LocalRuntime } from ${JSON.stringify(new URL('../src/runtime/runtime.js', import.meta.url).href)};
    const rt = new LocalRuntime(${JSON.stringify(b.root)}, (level, msg) => process.stderr.write(level + ': ' + msg + '\\n'));
    await rt.create(${JSON.stringify({ id, bundle: b.dir, monitor })});
    await rt.start(${JSON.stringify(id)});
    process.kill(process.pid, 'SIGKILL');
  `,
  );
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  await waitFor(() => existsSync(monitor.exitFile));
  assert.equal(JSON.parse(readFileSync(monitor.exitFile, 'utf8')).exitCode, 5);
  await waitFor(() => !existsSync(monitor.attach));
  const lines = readFileSync(monitor.log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).log);
  assert.equal(lines.length, 3000);
  assert.equal(lines[2999], 'line 2999\n');
  await runtime(b.root).delete(id);
});

test('10 MB sent to a container that never reads its stdin: its output keeps reaching the log, and the sender is held back', async (t) => {
  const b = makeBundle(['sh', '-c', 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.05; done']);
  t.after(() => b.cleanup());
  const id = uniqueId('stdin');
  const monitor = { log: join(b.dir, 'log.json'), exitFile: join(b.dir, 'exit.json'), attach: join(b.dir, 'attach.sock'), stdin: true };
  await runtime(b.root).create({ id, bundle: b.dir, monitor });
  await runtime(b.root).start(id);
  const sock = connect(monitor.attach);
  sock.on('data', () => {});
  try {
    await new Promise((r) => sock.on('connect', r));
    const lines = () => readFileSync(monitor.log, 'utf8').split('\n').filter(Boolean).length;
    sock.write(Buffer.alloc(10 << 20, 'x'));
    await new Promise((r) => setTimeout(r, 1000));
    const atSend = lines();
    await waitFor(() => lines() >= atSend + 10, 5000);
    // The monitor holds a bounded buffer (64 kB), the pipe and the socket a few hundred kB more:
    // the rest waits in the sender, the monitor does not take it all in.
    assert.ok(sock.writableLength > 8 << 20, `only ${sock.writableLength} bytes left unsent`);
    assert.ok(!existsSync(monitor.exitFile));
  } finally {
    sock.destroy();
    await runtime(b.root).delete(id, { force: true });
  }
});
