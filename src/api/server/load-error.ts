// A damaged archive sent to `POST /images/load`, in dockerd 20.10's words: it untars in a child
// through Go's archive/tar, so every broken tar reads "Error processing tar file(exit status 1): "
// and then Go's "unexpected EOF" (cut short) or "archive/tar: invalid tar header" (anything else).
// Clients match these words; berth's own, more precise message stays as the cause.

import { BerthError, errorMessage } from '../../errors.js';

export function loadError(e: unknown): unknown {
  const msg = errorMessage(e);
  if (!(e instanceof BerthError) || e.kind !== 'invalid' || !/^tar( header)?: /.test(msg)) return e;
  const go = /unexpected end of archive/.test(msg) ? 'unexpected EOF' : 'archive/tar: invalid tar header';
  return new BerthError('invalid', `Error processing tar file(exit status 1): ${go}`, { cause: e });
}
