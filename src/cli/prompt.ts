// The confirmation a destructive command asks for (every prune), as docker's CLI asks it: the
// question and ` [y/N] ` on stdout, one line read from stdin (a terminal or a pipe); only `y` or
// `Y`, spaces around it allowed, means yes. No stdin, an empty line or its end means no.

/** Asks `question`; resolves true only for a `y`/`Y` line. */
export function confirm(
  question: string,
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stdout,
): Promise<boolean> {
  output.write(`${question} [y/N] `);
  return new Promise((resolve) => {
    let line = '';
    const done = () => {
      input.off('data', onData);
      input.off('end', done);
      input.off('error', onError);
      input.pause();
      resolve(line.split('\n')[0].trim().toLowerCase() === 'y');
    };
    const onData = (d: Buffer | string) => {
      line += String(d);
      if (line.includes('\n')) done();
    };
    // A stdin that cannot be read (closed, a directory) answers no, as its end does.
    const onError = (e: Error) => {
      process.stderr.write(`berth: reading the answer from stdin: ${e.message}\n`);
      done();
    };
    input.on('data', onData);
    input.once('end', done);
    input.once('error', onError);
    input.resume();
  });
}
