// The web servers of the gateway-mode suites: a busybox container serving its /etc over HTTP on
// port 80 (the one they publish) and on 81 (never published), reached from outside; and the
// outside client's own, which answers with the address a connection came from.

import { spawn, type ChildProcess } from 'node:child_process';

/** `docker run` arguments for that container on `net`, with `-p` for each of `publish`. */
export const webServerArgs = (net: string, ...publish: string[]): string[] => [
  'run',
  '-d',
  '--network',
  net,
  ...publish.flatMap((p) => ['-p', p]),
  'busybox',
  'sh',
  '-c',
  'httpd -p 81 -h /etc && exec httpd -f -p 80 -h /etc',
];

/** The outside client's server in netns `ns`, on `addr` port 9000: it answers with the caller's address. */
export const addressEchoServer = (ns: string, addr: string): ChildProcess =>
  spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      '-e',
      `require('http').createServer((q, r) => r.end(q.socket.remoteAddress)).listen(9000, '${addr}')`,
    ],
    { stdio: 'ignore' },
  );
