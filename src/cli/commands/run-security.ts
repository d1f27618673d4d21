// `berth run`/`create` flags that set a container's security (--privileged, --cap-add,
// --cap-drop, --security-opt, --read-only, --init) → the HostConfig fields the API takes. As
// the docker CLI does, `--security-opt seccomp=<file>` sends the file's JSON, not its path.

import { readFileSync } from 'node:fs';
import { BerthError } from '../../errors.js';

export function securityFields(f: Record<string, boolean | string | string[] | undefined>): Record<string, unknown> {
  const opts = ((f['security-opt'] as string[] | undefined) ?? []).map((o) => {
    const m = /^seccomp[=:](.+)$/.exec(o);
    if (!m || m[1] === 'unconfined' || m[1] === 'builtin' || m[1]!.trimStart().startsWith('{')) return o;
    let text: string;
    try {
      text = readFileSync(m[1]!, 'utf8');
    } catch (e) {
      throw new BerthError('invalid', `opening seccomp profile (${m[1]}) failed: ${(e as Error).message}`);
    }
    try {
      return `seccomp=${JSON.stringify(JSON.parse(text))}`;
    } catch (e) {
      throw new BerthError('invalid', `compacting json for seccomp profile (${m[1]}) failed: ${(e as Error).message}`);
    }
  });
  return {
    Privileged: !!f.privileged,
    ReadonlyRootfs: !!f['read-only'],
    Init: f.init ? true : undefined,
    CapAdd: f['cap-add'],
    CapDrop: f['cap-drop'],
    SecurityOpt: opts.length ? opts : undefined,
  };
}
