// process.terminal: the pty master handed over --console-socket by SCM_RIGHTS (as runc does),
// received here by a tiny C program like runc's recvtty (node:net cannot receive fds); and the
// foreground relay of `run` without a console socket.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../src/oci/runtime-spec.js';
import { makeBundle, runtime, uniqueId, waitFor, type Bundle } from './helpers/bundle.js';

// Accepts one connection on argv[1], takes the fd it carries, writes argv[2] (if any) to it,
// and copies what it reads to stdout until the pty hangs up (all slave ends closed).
const RECVTTY = `
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
  alarm(10);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0) { perror("bind"); return 1; }
  int c = accept(s, NULL, NULL);
  if (c < 0) { perror("accept"); return 1; }
  char b;
  struct iovec iov = {&b, 1};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  if (recvmsg(c, &m, 0) <= 0) { perror("recvmsg"); return 1; }
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) { fprintf(stderr, "no fd received\\n"); return 1; }
  int fd;
  memcpy(&fd, CMSG_DATA(h), sizeof fd);
  close(c);
  close(s);
  unlink(argv[1]);
  if (argc > 2 && write(fd, argv[2], strlen(argv[2])) < 0) { perror("write"); return 1; }
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
  return n < 0 && errno != EIO;
}
`;

let dir = '';
let recvtty = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-test-tty-'));
  writeFileSync(join(dir, 'recvtty.c'), RECVTTY);
  recvtty = join(dir, 'recvtty');
  execFileSync('cc', ['-O', '-o', recvtty, join(dir, 'recvtty.c')]);
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts recvtty on a fresh socket; `output` resolves with all it read from the pty. */
function receiver(input?: string): { socket: string; output: Promise<{ code: number | null; text: string; err: string }> } {
  const socket = join(dir, `${uniqueId('console')}.sock`);
  const p = spawn(recvtty, input === undefined ? [socket] : [socket, input], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '',
    err = '';
  p.stdout.on('data', (d: Buffer) => {
    text += d.toString();
  });
  p.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const output = new Promise<{ code: number | null; text: string; err: string }>((resolve) =>
    p.on('close', (code) => resolve({ code, text, err })),
  );
  assert.ok(
    waitFor(() => existsSync(socket), 10000),
    'recvtty listens',
  );
  return { socket, output };
}

function terminalBundle(t: TestContext, args: string[], edit?: (s: Spec) => void): Bundle {
  const b = makeBundle(args, (s) => {
    s.process!.terminal = true;
    edit?.(s);
  });
  t.after(() => b.cleanup());
  return b;
}

test('the pty master reaches --console-socket; the process sees /dev/pts/0 of the given size', async (t) => {
  const b = terminalBundle(
    t,
    ['sh', '-c', 'tty; stty size; test -c /dev/console && echo console; test -t 0 && test -t 2 && echo all-tty'],
    (s) => {
      s.process!.consoleSize = { height: 31, width: 101 };
    },
  );
  const { socket, output } = receiver();
  const id = uniqueId('tty');
  const r = runtime(b, ['create', '--bundle', b.dir, '--console-socket', socket, id]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(runtime(b, ['start', id]).status, 0);
  const out = await output;
  assert.equal(out.err, '');
  assert.equal(out.text, '/dev/pts/0\r\n31 101\r\nconsole\r\nall-tty\r\n');
  assert.ok(waitFor(() => JSON.parse(runtime(b, ['state', id]).stdout).status === 'stopped'));
  assert.equal(runtime(b, ['delete', id]).status, 0);
});

test("what is written to the master is the process's input", async (t) => {
  const b = terminalBundle(t, ['sh']);
  const { socket, output } = receiver('echo "$((6 * 7))"; exit\n');
  const id = uniqueId('tty-in');
  const r = runtime(b, ['run', '-d', '--bundle', b.dir, '--console-socket', socket, id]);
  assert.equal(r.status, 0, r.stderr);
  const out = await output;
  // The line discipline echoes the input; the shell's answer follows.
  assert.match(out.text, /\r\n42\r\n/);
});

test("exec --tty --console-socket gives the exec'd process its own pty", async (t) => {
  const b = makeBundle(['sleep', '60']);
  t.after(() => b.cleanup());
  const id = uniqueId('tty-exec');
  assert.equal(runtime(b, ['run', '-d', '--bundle', b.dir, id]).status, 0);
  const { socket, output } = receiver();
  const r = runtime(b, ['exec', '--tty', '--detach', '--console-socket', socket, id, 'sh', '-c', 'tty; test -t 1 && echo tty']);
  assert.equal(r.status, 0, r.stderr);
  const out = await output;
  assert.match(out.text, /^\/dev\/pts\/\d+\r\ntty\r\n$/);
});

test('run with a terminal and no console socket relays the pty', (t) => {
  const b = terminalBundle(t, ['sh', '-c', 'tty; echo done; exit 5']);
  const r = runtime(b, ['run', '--bundle', b.dir, uniqueId('tty-relay')]);
  assert.equal(r.status, 5, r.stderr);
  assert.equal(r.stdout, '/dev/pts/0\r\ndone\r\n');
});

test('create with a terminal and no console socket is refused', (t) => {
  const b = terminalBundle(t, ['sh']);
  const r = runtime(b, ['create', '--bundle', b.dir, uniqueId('tty-nosock')]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'a terminal needs --console-socket when detached\n');
  assert.equal(runtime(b, ['list', '-q']).stdout, '');
});

test('exec --tty without a console socket relays the pty in the foreground', (t) => {
  const b = makeBundle(['sleep', '60']);
  t.after(() => b.cleanup());
  const id = uniqueId('tty-exec-relay');
  assert.equal(runtime(b, ['run', '-d', '--bundle', b.dir, id]).status, 0);
  // Again and again: each exec gets its pty, exits on its own, and leaves /dev/console alone
  // (an exec that mounted its pty there made the next one fail; a child that exited before
  // the relay watched for it hung the relay).
  for (let i = 0; i < 5; i++) {
    const r = runtime(b, ['exec', '-t', id, 'sh', '-c', 'tty; exit 6'], { timeout: 5000 });
    assert.equal(r.status, 6, `exec #${i}: ${r.stderr}`);
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r\n$/);
  }
  const mounts = runtime(b, ['exec', id, 'grep', '-c', ' /dev/console ', '/proc/self/mountinfo']);
  assert.equal(mounts.stdout, '0\n');
});

test('a console socket without a terminal is refused, as runc does', (t) => {
  const b = makeBundle(['true']);
  t.after(() => b.cleanup());
  const r = runtime(b, ['create', '--bundle', b.dir, '--console-socket', join(dir, 'unused.sock'), uniqueId('tty-none')]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'cannot use a console socket when process.terminal is false (no terminal is allocated)\n');
  assert.equal(runtime(b, ['list', '-q']).stdout, '');
});
