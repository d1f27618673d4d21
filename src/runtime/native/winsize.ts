// Window sizes for a pty that berth-nsexec holds: a monitor's (over its control socket, which
// outlives berthd) and a foreground exec relay's (over a socket it inherits). One record is two
// native-endian u16, rows then columns; the last whole record read wins (monitor.c, terminal.c).
import { connect } from 'node:net';
import { endianness } from 'node:os';
import { invalid, systemError } from '../../errors.js';

export function winsizeRecord(rows: number, cols: number): Buffer {
  for (const v of [rows, cols]) if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw invalid(`bad terminal size ${rows}x${cols}`);
  const b = Buffer.alloc(4);
  if (endianness() === 'LE') {
    b.writeUInt16LE(rows, 0);
    b.writeUInt16LE(cols, 2);
  } else {
    b.writeUInt16BE(rows, 0);
    b.writeUInt16BE(cols, 2);
  }
  return b;
}

/** Sets the window size of a monitor's pty; resolves once the monitor has applied it (it closes the connection). */
export function resizeMonitor(controlPath: string, rows: number, cols: number): Promise<void> {
  const record = winsizeRecord(rows, cols);
  return new Promise((resolve, reject) => {
    const s = connect(controlPath);
    s.on('connect', () => s.end(record));
    s.on('error', (e) => reject(systemError(`resize the terminal through ${controlPath}: ${e.message}`, e)));
    s.on('close', (hadError) => {
      if (!hadError) resolve();
    });
    s.resume();
  });
}
