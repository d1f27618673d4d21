// The web server the gateway-mode suites reach from outside: a busybox container serving its
// /etc over HTTP on port 80 (the one they publish) and on 81 (never published).

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
