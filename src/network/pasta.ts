// A rootless container's network through pasta (Debian's passt): a user-mode stack in the
// container's own network namespace that copies the host's addresses and routes there and
// carries its TCP and UDP out through the host's sockets, as podman's rootless networking does.
// Published ports are pasta's forwards (`-t`/`-u`): pasta listens on the host port and, for a
// client on another address than the host's loopback, hands the connection to the container
// from the client's own address. One pasta per container, started once its init runs and ended
// by its PID (kept in a file) when it stops.

import { constants } from 'node:fs';
import { access, readFile, rm } from 'node:fs/promises';
import { runChild } from '../native/child.js';
import { errorMessage, systemError, unsupported } from '../errors.js';
import { isErrno } from '../common/errno.js';
import type { PortMapping } from './ports.js';

const TUN = '/dev/net/tun';

/** pasta's forward spec of a mapping: `[ADDR/]HOSTPORT:CONTAINERPORT`. */
export function forwardSpec(m: PortMapping): string {
  const addr = m.hostIP && m.hostIP !== '0.0.0.0' ? `${m.hostIP}/` : '';
  return `${addr}${m.hostPort}:${m.containerPort}`;
}

/**
 * pasta's arguments for the network namespace pinned at `netns` with `ports` published. By path,
 * not the init's PID: the init waits to exec, not dumpable, and pasta keeps no capability to
 * open the namespaces of such a process; and pasta quits by itself once the pin goes.
 */
export function pastaArgs(netns: string, ports: PortMapping[], pidFile: string): string[] {
  const sctp = ports.find((p) => p.protocol === 'sctp');
  if (sctp) throw unsupported(`publishing ${sctp.containerPort}/sctp: pasta, a rootless berthd's network, carries TCP and UDP only`);
  const tcp = ports.filter((p) => p.protocol === 'tcp').map(forwardSpec);
  const udp = ports.filter((p) => p.protocol === 'udp').map(forwardSpec);
  return [
    // Root of a rootless berthd's user namespace is the user already: pasta stays it rather than
    // become nobody, who could not open the container's namespaces.
    '--runas',
    '0:0',
    '--config-net',
    '--quiet',
    '--pid',
    pidFile,
    // One option a forward: pasta takes an address for a whole option only.
    ...(tcp.length ? tcp.flatMap((f) => ['-t', f]) : ['-t', 'none']),
    ...(udp.length ? udp.flatMap((f) => ['-u', f]) : ['-u', 'none']),
    // Nothing from the container to the host's own ports unless published there.
    '-T',
    'none',
    '-U',
    'none',
    '--netns',
    netns,
  ];
}

/** Starts pasta for the container whose network namespace is pinned at `netns`; it runs on in the background until stopPasta. */
export async function startPasta(netns: string, ports: PortMapping[], pidFile: string): Promise<void> {
  const args = pastaArgs(netns, ports, pidFile);
  try {
    await access(TUN, constants.R_OK | constants.W_OK);
  } catch (e) {
    throw unsupported(
      `rootless berthd: its containers' network (pasta) needs ${TUN} readable and writable by its user (mode 0666, as udev makes it): ${errorMessage(e)}; as root: chmod 0666 ${TUN}, or run with --network none`,
    );
  }
  let r;
  try {
    r = await runChild('pasta', args);
  } catch (e) {
    if (isErrno(e, 'ENOENT'))
      throw systemError('pasta not found: a rootless berthd networks containers through it (apt-get install passt)', e);
    throw e;
  }
  if (r.code !== 0) throw systemError(`pasta ${args.join(' ')}: ${r.stderr.trim() || `exit status ${r.code ?? r.signal}`}`);
}

/** Ends the pasta whose PID `pidFile` holds (only if that PID is still pasta's) and removes the file. */
export async function stopPasta(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return;
    throw e;
  }
  try {
    // pasta runs as passt's binary (comm `passt`, `passt.avx2`) or as itself.
    if (pid > 0 && /^pas(ta|st)/.test(await readFile(`/proc/${pid}/comm`, 'utf8'))) process.kill(pid, 'SIGTERM');
  } catch (e) {
    if (!isErrno(e, 'ENOENT', 'ESRCH')) throw e; // gone already
  }
  await rm(pidFile, { force: true });
}
