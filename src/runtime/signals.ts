// Signal names and numbers as runc accepts them: "KILL", "SIGKILL" or "9".
import { constants } from 'node:os';
import { invalid } from '../errors.js';

export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw invalid(`invalid signal: ${s}`);
    return n;
  }
  const name = (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`) as keyof typeof constants.signals;
  const n = constants.signals[name];
  if (n === undefined) throw invalid(`invalid signal: ${s}`);
  return n;
}
