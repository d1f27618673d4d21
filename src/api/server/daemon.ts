// berthd: reads dockerd's flags and daemon.json keys that apply (daemon-config.ts), opens the
// engine and serves the API until SIGTERM or SIGINT. Containers keep running under their monitors when it stops.

import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensurePrivateRuntimeDir, hostUid, inUserNamespace, isRoot, rootlessRuntimeDir } from '../../common/rootless.js';
import { BerthError, errorMessage } from '../../errors.js';
import {
  checkDaemonRealtime,
  Engine,
  loadRemap,
  prioritizeEventLoop,
  RemapError,
  writeRecordsInOneTrip,
  type Remap,
} from '../../engine/index.js';
import { ConfigError, LEVELS, loadConfig, socketGid, USAGE, type DaemonConfig } from './daemon-config.js';
import { recordNamespaces, RootlessError, runInUserNamespace } from './rootless.js';
import { createApiServer, listen } from './server.js';

export { DEFAULT_HOST } from './daemon-config.js';

export async function main(argv: string[]): Promise<number> {
  let flags: DaemonConfig;
  let gid: number;
  // An ordinary user's berthd, or the one it started in its user namespace (rootless.ts).
  const rootless = !isRoot() || inUserNamespace() ? { uid: hostUid() } : undefined;
  try {
    flags = loadConfig(argv, rootless);
    gid = flags.help || rootless ? process.getgid!() : socketGid(flags.group);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`berthd: ${e.message}\n${/^(unknown flag|flag needs)/.test(e.message) ? USAGE : ''}`);
    return 125;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!isRoot()) {
    try {
      // The socket's folder must be the user's alone before berthd listens in it.
      if (flags.execRoot.startsWith(`${rootlessRuntimeDir(process.env)}/`)) ensurePrivateRuntimeDir();
      return await runInUserNamespace(argv, flags.execRoot, (m) => process.stderr.write(`${new Date().toISOString()} info ${m}\n`));
    } catch (e) {
      if (!(e instanceof RootlessError) && !(e instanceof BerthError)) throw e;
      process.stderr.write(`berthd: ${e.message}\n`);
      return 1;
    }
  }
  const min = LEVELS.indexOf(flags.logLevel);
  const log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => {
    if (LEVELS.indexOf(level) >= min) process.stderr.write(`${new Date().toISOString()} ${level} ${msg}\n`);
  };
  for (const h of flags.hosts.filter((x) => x.startsWith('tcp://'))) {
    log('warn', `${h}: the API on TCP without TLS is not authenticated; anyone who reaches this address has root on this machine`);
  }
  try {
    checkDaemonRealtime(flags.cpuRtPeriod, flags.cpuRtRuntime);
  } catch (e) {
    if (!(e instanceof BerthError)) throw e;
    process.stderr.write(`berthd: ${e.message}\n`);
    return 1;
  }
  let usernsRemap: Remap | undefined;
  if (flags.usernsRemap) {
    try {
      usernsRemap = await loadRemap(flags.usernsRemap);
      mkdirSync(flags.dataRoot, { recursive: true, mode: 0o710 });
      reachableByRemappedRoot(flags.dataRoot);
    } catch (e) {
      if (!(e instanceof RemapError)) throw e;
      process.stderr.write(`berthd: ${e.message}\n`);
      return 1;
    }
    const [u, g] = [usernsRemap.uidMappings[0], usernsRemap.gidMappings[0]];
    log(
      'info',
      `User namespaces: ID ranges will be mapped to subuid/subgid ranges of: ${usernsRemap.user} (uids ${u.hostID}+${u.size}, gids ${g.hostID}+${g.size})`,
    );
  }
  prioritizeEventLoop(log);
  writeRecordsInOneTrip(log);
  mkdirSync(flags.dataRoot, { recursive: true, mode: 0o710 });
  // A remapped container's root (an id of no group of the host's) passes through the data root to its root file system, init files and volumes; it lists nothing there.
  if (usernsRemap)
    for (const d of [flags.dataRoot, join(flags.dataRoot, 'containers')]) {
      mkdirSync(d, { recursive: true, mode: 0o711 });
      chmodSync(d, 0o711);
    }
  mkdirSync(flags.execRoot, { recursive: true, mode: 0o700 });
  if (flags.rootless) await recordNamespaces(flags.execRoot);
  const engine = new Engine({
    dataRoot: flags.dataRoot,
    execRoot: flags.execRoot,
    insecureRegistries: flags.insecureRegistries,
    registryMirrors: flags.registryMirrors,
    bip: flags.bip,
    ipv6: flags.ipv6,
    fixedCidrV6: flags.fixedCidrV6,
    ip6tables: flags.ip6tables,
    runtimes: flags.runtimes,
    defaultRuntime: flags.defaultRuntime,
    usernsRemap,
    rootless: flags.rootless,
    cpuRealtimePeriod: flags.cpuRtPeriod,
    cpuRealtimeRuntime: flags.cpuRtRuntime,
    log,
  });
  try {
    await engine.reserve.start();
  } catch (e) {
    log('error', `space reserve in ${flags.dataRoot}: ${errorMessage(e)}; stop and rm may fail when the data root is full`);
  }
  try {
    await engine.buildContexts.clean();
  } catch (e) {
    log('error', `removing the build contexts a stopped berthd left in ${flags.dataRoot}/tmp: ${errorMessage(e)}`);
  }
  // Containers that ran on are watched again; restart policies apply to those that ended; what a
  // killed berthd left half-done is finished before any request can meet it (or race it).
  await engine.containers.open();
  // One server per address: a node server listens on one.
  const servers = flags.hosts.map(() => createApiServer(engine, { log }));
  const closers: (() => void)[] = [];
  try {
    for (const [i, h] of flags.hosts.entries()) closers.push(await listen(servers[i], h, { gid }));
  } catch (e) {
    log('error', errorMessage(e));
    for (const c of closers) c();
    return 1;
  }
  log('info', `berthd listening on ${flags.hosts.join(', ')}`);
  // The CRI socket listens now; gRPC and the proto load when kubelet first connects (cri/socket.ts).
  let cri: { close(): Promise<void> } | undefined;
  if (flags.criSocket) {
    try {
      const { listenCri } = await import('../../cri/socket.js');
      cri = await listenCri(engine, { socket: flags.criSocket, cniConfDir: flags.cniConfDir, log });
      log('info', `CRI (runtime.v1) on unix://${flags.criSocket}`);
    } catch (e) {
      log('error', `CRI on ${flags.criSocket}: ${errorMessage(e)}`);
      for (const c of closers) c();
      return 1;
    }
  }
  await new Promise<void>((resolve) => {
    for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => resolve());
  });
  log('info', 'shutting down; containers keep running');
  await cri?.close();
  await engine.close();
  for (const c of closers) c();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  return 0;
}

/**
 * Every folder above the data root must let others search it, or a remapped container's root
 * could not reach its files: refused at start, in dockerd's words, rather than at each start.
 */
function reachableByRemappedRoot(dataRoot: string): void {
  for (let dir = dirname(dataRoot); ; dir = dirname(dir)) {
    if (!(statSync(dir).mode & 0o001))
      throw new RemapError(
        `a subdirectory in your graphroot path (${dataRoot}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories`,
      );
    if (dir === '/') return;
  }
}
