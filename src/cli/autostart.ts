// When no berthd answers on the unix socket berth was pointed at, berth starts one (detached,
// its log in <exec-root>/berthd.log) and waits for the socket, so a fresh install needs no
// other step. BERTH_NO_AUTOSTART=1 turns this off; BERTH_DATA_ROOT and BERTH_EXEC_ROOT choose
// the new daemon's roots (berthd's defaults otherwise: for an ordinary user, its own rootless
// berthd's, common/rootless.ts, whose log is then <runtime dir>/berth/berthd.log). It runs only when a connection has
// found no daemon (the API client's onNoDaemon), so a running daemon costs no probe, and
// node:child_process loads only then.
import { createRequire } from 'node:module';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePrivateRuntimeDir, isRoot, rootlessExecRoot } from '../common/rootless.js';
import { socketAnswers } from '../common/socket-alive.js';
import { systemError } from '../errors.js';

const START_TIMEOUT_MS = 15000;

/** bin/berthd.js of this package, found upwards from this module (or its bundle). */
function berthdPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'bin/berthd.js');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw systemError('cannot find bin/berthd.js to start berthd');
    dir = up;
  }
}

export async function ensureDaemon(host: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!host.startsWith('unix://') || env.BERTH_NO_AUTOSTART) return;
  // By require, not import(): see bin/berth.cjs (the bundle runs as a vm script).
  const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  const socket = host.slice('unix://'.length);
  if (await socketAnswers(socket)) return;
  if (!isRoot() && !env.BERTH_EXEC_ROOT) ensurePrivateRuntimeDir(env);
  const execRoot = env.BERTH_EXEC_ROOT ?? (isRoot() ? '/run/berth' : rootlessExecRoot(env));
  mkdirSync(execRoot, { recursive: true, mode: 0o711 });
  const logPath = join(execRoot, 'berthd.log');
  const log = openSync(logPath, 'a');
  const args = [
    '-H',
    host,
    ...(env.BERTH_DATA_ROOT ? ['--data-root', env.BERTH_DATA_ROOT] : []),
    ...(env.BERTH_EXEC_ROOT ? ['--exec-root', env.BERTH_EXEC_ROOT] : []),
  ];
  // berthd makes TLS calls (registries): it gets back the CA bundle berth's shebang set aside.
  const { BERTH_SAVED_CA, ...daemonEnv } = env;
  if (BERTH_SAVED_CA) daemonEnv.NODE_EXTRA_CA_CERTS = BERTH_SAVED_CA;
  // The bin itself, not node with it: its shebang carries berthd's Node flags.
  const child = spawn(berthdPath(), args, { detached: true, stdio: ['ignore', log, log], env: daemonEnv });
  closeSync(log);
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? 1;
  });
  child.unref();
  process.stderr.write(`berth: started berthd (pid ${child.pid}, log ${logPath})\n`);
  for (const end = Date.now() + START_TIMEOUT_MS; Date.now() < end;) {
    if (await socketAnswers(socket)) return;
    if (exited !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const tail = (() => {
    try {
      return readFileSync(logPath, 'utf8').trim().split('\n').slice(-3).join(' | ');
    } catch {
      return '';
    }
  })();
  throw systemError(`berthd did not start on ${host}${tail ? `: ${tail}` : ''} (log: ${logPath})`);
}
