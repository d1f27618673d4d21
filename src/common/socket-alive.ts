// Whether a unix socket left on disk still answers: a daemon's socket found at start-up is
// either a dead daemon's (removed, or the bind would fail) or a live one's (refused).

import { connect } from 'node:net';

export function socketAnswers(path: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
