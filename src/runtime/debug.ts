// `--debug`: timestamped steps on stderr, to see where a command spends its time.
let on = false;
export function enableDebug(): void {
  on = true;
}
export function debug(msg: string): void {
  if (on) process.stderr.write(`debug ${performance.now().toFixed(1)}ms ${msg}\n`);
}
