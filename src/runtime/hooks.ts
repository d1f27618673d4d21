// Runs OCI hooks in the runtime's namespaces (prestart, createRuntime, poststart, poststop):
// each gets the container's state as JSON on stdin; a timeout kills it.
import { spawn } from 'node:child_process';
import { systemError } from '../errors.js';
import type { Hook, State } from '../oci/runtime-spec.js';

export function runHook(kind: string, index: number, hook: Hook, state: State): Promise<void> {
  return new Promise((resolve, reject) => {
    const [argv0, ...args] = hook.args?.length ? hook.args : [hook.path];
    const child = spawn(hook.path, args, {
      argv0,
      env: Object.fromEntries(
        (hook.env ?? []).map((e) => {
          const i = e.indexOf('=');
          return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
        }),
      ),
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    let timedOut = false;
    const timer = hook.timeout
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, hook.timeout * 1000)
      : undefined;
    child.stdin!.on('error', () => {});
    child.stdin!.end(JSON.stringify(state));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(systemError(`${kind} hook #${index} (${hook.path}): ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(systemError(`${kind} hook #${index} (${hook.path}) timed out after ${hook.timeout}s`));
      else if (code !== 0)
        reject(systemError(`${kind} hook #${index} (${hook.path}) failed: ${signal ? `signal ${signal}` : `exit status ${code}`}`));
      else resolve();
    });
  });
}

export async function runHooks(kind: string, hooks: Hook[] | undefined, state: State): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) await runHook(kind, i, h, state);
}
