// `berth`: global flags, then one command per module in commands/. Commands only parse their
// arguments and call the API. Exit codes and messages as docker 28's: a bad flag 125 (with the
// usage), a wrong count of arguments or an unknown command 1, any other failure 1, except for
// run, whose failures before the container runs are 125.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ApiClient, DaemonError } from '../api/client.js';
import { BERTH_VERSION } from '../common/version.js';
import { errorMessage } from '../errors.js';
import { ArgCountError, commandHelp, FlagError, flagLines, HelpRequest, UsageReport, type FlagSpec } from './args.js';
import { daemonHost } from './host.js';
import { ensureDaemon } from './autostart.js';

type Command = (client: ApiClient, argv: string[]) => Promise<number>;

// Each command's module loads when it runs (esbuild keeps them in the one bundle but runs a
// module's top level, and requires the node built-ins it needs, only then): start-up pays for
// the command it runs, not for all of them.

export const COMMANDS: Record<string, () => Promise<Command>> = {
  run: () => import('./commands/run.js').then((m) => m.run),
  exec: () => import('./commands/exec.js').then((m) => m.exec),
  ps: () => import('./commands/ps.js').then((m) => m.ps),
  logs: () => import('./commands/logs.js').then((m) => m.logs),
  rm: () => import('./commands/rm.js').then((m) => m.rm),
  stop: () => import('./commands/stop.js').then((m) => m.stop),
  pull: () => import('./commands/pull.js').then((m) => m.pull),
  images: () => import('./commands/images.js').then((m) => m.images),
  version: () => import('./commands/version.js').then((m) => m.version),
  info: () => import('./commands/info.js').then((m) => m.info),
  volume: () => import('./commands/volume.js').then((m) => m.volume),
  network: () => import('./commands/network.js').then((m) => m.network),
  pod: () => import('./commands/pod.js').then((m) => m.pod),
};
Object.assign(COMMANDS, {
  create: () => import('./commands/create.js').then((m) => m.create),
  start: () => import('./commands/start.js').then((m) => m.start),
  restart: () => import('./commands/restart.js').then((m) => m.restart),
  kill: () => import('./commands/kill.js').then((m) => m.kill),
  attach: () => import('./commands/attach.js').then((m) => m.attach),
  wait: () => import('./commands/wait.js').then((m) => m.wait),
  inspect: () => import('./commands/inspect.js').then((m) => m.inspect),
  port: () => import('./commands/port.js').then((m) => m.port),
  rename: () => import('./commands/rename.js').then((m) => m.rename),
  pause: () => import('./commands/pause.js').then((m) => m.pause),
  unpause: () => import('./commands/pause.js').then((m) => m.unpause),
  update: () => import('./commands/update.js').then((m) => m.update),
  events: () => import('./commands/events.js').then((m) => m.events),
});
Object.assign(COMMANDS, {
  top: () => import('./commands/top.js').then((m) => m.top),
  stats: () => import('./commands/stats.js').then((m) => m.stats),
  cp: () => import('./commands/cp.js').then((m) => m.cp),
  diff: () => import('./commands/diff.js').then((m) => m.diff),
  commit: () => import('./commands/commit.js').then((m) => m.commit),
  export: () => import('./commands/export.js').then((m) => m.exportContainer),
});
Object.assign(COMMANDS, {
  build: () => import('./commands/build.js').then((m) => m.build),
  push: () => import('./commands/push.js').then((m) => m.push),
  tag: () => import('./commands/tag.js').then((m) => m.tag),
  rmi: () => import('./commands/rmi.js').then((m) => m.rmi),
  history: () => import('./commands/history.js').then((m) => m.history),
  search: () => import('./commands/search.js').then((m) => m.search),
  save: () => import('./commands/save.js').then((m) => m.save),
  load: () => import('./commands/load.js').then((m) => m.load),
  import: () => import('./commands/import.js').then((m) => m.importImage),
  login: () => import('./commands/login.js').then((m) => m.login),
  logout: () => import('./commands/login.js').then((m) => m.logout),
  image: () => import('./commands/image.js').then((m) => m.image),
  system: () => import('./commands/system.js').then((m) => m.system),
  container: () => import('./commands/container.js').then((m) => m.container),
  compose: loadCompose,
  kube: loadKube,
});

/** berth compose's module lies beside the bundle (dist/bundle/berth-compose.cjs), so that its YAML parser and
 * schema validator are not parsed at every start (+28 ms of CPU for `berth --version` when it was inside);
 * run from tsc's output, it is imported from its own folder. */
async function loadCompose(): Promise<Command> {
  const bundled = new URL('./berth-compose.cjs', import.meta.url);
  if (existsSync(bundled)) return createRequire(import.meta.url)(fileURLToPath(bundled)).compose;
  return (await import(COMPOSE_MODULE)).compose;
}
const COMPOSE_MODULE = '../compose/cli.js';

/** berth kube's module, bundled apart for the same reason (dist/bundle/berth-kube.cjs). */
async function loadKube(): Promise<Command> {
  const bundled = new URL('./berth-kube.cjs', import.meta.url);
  if (existsSync(bundled)) return createRequire(import.meta.url)(fileURLToPath(bundled)).kube;
  return (await import(KUBE_MODULE)).kube;
}
const KUBE_MODULE = '../kube/cli.js';

const USAGE = `Usage:  berth [OPTIONS] COMMAND

A container engine. berth talks to berthd over the Docker Engine API.

Options:
  -H, --host string   Daemon socket to connect to (default: $BERTH_HOST, $DOCKER_HOST, unix:///run/berth/berth.sock)
  -h, --help          Print usage
  -v, --version       Print version information and quit

Commands:
  run         Create and run a new container from an image
  create      Create a new container
  start       Start one or more stopped containers
  exec        Execute a command in a running container
  ps          List containers
  logs        Fetch the logs of a container
  attach      Attach local standard input, output, and error streams to a running container
  wait        Block until one or more containers stop, then print their exit codes
  stop        Stop one or more running containers
  restart     Restart one or more containers
  kill        Kill one or more running containers
  pause       Pause all processes within one or more containers
  unpause     Unpause all processes within one or more containers
  rename      Rename a container
  update      Update configuration of one or more containers
  port        List port mappings or a specific mapping for the container
  rm          Remove one or more containers
  inspect     Return low-level information on containers, images or volumes
  events      Get real time events from the server
  top         Display the running processes of a container
  stats       Display a live stream of container(s) resource usage statistics
  cp          Copy files/folders between a container and the local filesystem
  diff        Inspect changes to files or directories on a container's filesystem
  commit      Create a new image from a container's changes
  export      Export a container's filesystem as a tar archive
  build       Build an image from a Dockerfile
  pull        Download an image from a registry
  push        Upload an image to a registry
  tag         Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
  images      List images
  rmi         Remove one or more images
  history     Show the history of an image
  search      Search Docker Hub for images
  save        Save one or more images to a tar archive
  load        Load an image from a tar archive or STDIN
  import      Import the contents from a tarball to create a filesystem image
  container   Manage containers
  image       Manage images
  login       Log in to a registry
  logout      Log out from a registry
  volume      Manage volumes
  network     Manage networks
  pod         Manage pods (berth's, as podman's)
  version     Show the berth version information
  info        Display system-wide information
  system      Manage berth (df, prune, info)
  compose     Define and run multi-container applications
  kube        Play Kubernetes manifests (play, down, generate)

Run 'berth COMMAND --help' for more information on a command.
`;

export async function main(argv: string[]): Promise<number> {
  // Output piped into a reader that stops early (`| head`): end quietly, as docker does.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    else throw e;
  });
  let host: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-H' || a === '--host') {
      if (i + 1 >= argv.length) return globalFlagError(`flag needs an argument: ${a === '-H' ? "'H' in -H" : '--host'}`);
      host = argv[++i];
    } else if (a.startsWith('--host=')) host = a.slice(7);
    else if (a.startsWith('-H') && a.length > 2) host = a.slice(2).replace(/^=/, '');
    else if (a === '-h' || a === '--help') return help(argv.slice(i + 1));
    else if (a === '-v' || a === '--version') {
      process.stdout.write(`berth version ${BERTH_VERSION}\n`);
      return 0;
    } else if (a === '--') {
      i++;
      break;
    } else if (a.startsWith('--')) return globalFlagError(`unknown flag: ${a.split('=')[0]}`);
    else if (a.startsWith('-') && a.length > 1) return globalFlagError(`unknown shorthand flag: '${a[1]}' in ${a}`);
    else break;
  }
  const name = argv[i];
  if (!name) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (name === 'help') return help(argv.slice(i + 1));
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`berth: unknown command: berth ${name}\n\nRun 'berth --help' for more information\n`);
    return 1;
  }
  const creates = CREATES.has(name === 'container' ? argv[i + 1] : name);
  try {
    const target = daemonHost(host);
    const client = new ApiClient({ host: target, onNoDaemon: () => ensureDaemon(target) });
    return await (
      await cmd()
    )(client, argv.slice(i + 1));
  } catch (e) {
    return failure(e, name, creates);
  }
}

/** Commands whose failures before the container runs exit 125, as `docker run` (docker 28's create exits 1 as the others). */
const CREATES = new Set(['run']);

function globalFlagError(message: string): number {
  process.stderr.write(`${message}\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more information\n`);
  return 125;
}

/** `berth help [COMMAND [SUB]]` and `berth --help COMMAND`: that command's --help. */
async function help(topic: string[]): Promise<number> {
  if (!topic.length) {
    process.stdout.write(USAGE);
    return 0;
  }
  const cmd = COMMANDS[topic[0]];
  if (!cmd) {
    process.stderr.write(`unknown help topic: ${topic.join(' ')}\n`);
    return 1;
  }
  // No daemon is asked: --help is answered before a command calls the API.
  const client = new ApiClient({ host: daemonHost(undefined) });
  try {
    return await (
      await cmd()
    )(client, [...topic.slice(1), '--help']);
  } catch (e) {
    return failure(e, topic[0], false);
  }
}

/** Reports what a command threw, as docker's CLI reports it, and gives the exit code. */
function failure(e: unknown, name: string, creates: boolean): number {
  if (e instanceof HelpRequest) {
    process.stdout.write(e.command ? commandHelp(e.command) : commandUsage(name, e.spec));
    return 0;
  }
  const path = e instanceof FlagError || e instanceof ArgCountError ? (e.command?.path ?? name) : name;
  const use =
    e instanceof FlagError || e instanceof ArgCountError
      ? e.command
        ? `${e.command.path}${e.command.use ? ` ${e.command.use}` : ''}`
        : usageLine(name)
      : '';
  if (e instanceof FlagError) {
    process.stderr.write(`${e.message}\n\nUsage:  berth ${use}\n\nRun 'berth ${path} --help' for more information\n`);
    return 125;
  }
  if (e instanceof ArgCountError) {
    process.stderr.write(`berth: ${e.message}\n\nUsage:  berth ${use}\n\n${e.see} 'berth ${path} --help' for more information\n`);
    return 1;
  }
  const message = `${e instanceof DaemonError ? 'Error response from daemon: ' : ''}${errorMessage(e)}`;
  if (creates || e instanceof UsageReport) {
    process.stderr.write(`berth: ${message}\n\nRun 'berth ${name} --help' for more information\n`);
    return 125;
  }
  process.stderr.write(`${message}\n`);
  return 1;
}

/** The usage line of a command that does not describe itself yet. */
function usageLine(name: string): string {
  return `${name} [OPTIONS]${name === 'run' || name === 'create' ? ' IMAGE [COMMAND] [ARG...]' : ''}`;
}

/** `berth CMD --help` for a command without a CommandSpec: its line from the usage above, and its flags. */
function commandUsage(name: string, spec: Record<string, FlagSpec>): string {
  const about = new RegExp(`^  ${name}\\s+(.*)$`, 'm').exec(USAGE)?.[1] ?? '';
  const flags = flagLines(spec);
  return `Usage:  berth ${usageLine(name)}\n\n${about}\n${flags ? `\nOptions:\n${flags}\n` : ''}`;
}
