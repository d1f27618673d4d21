// `berth container COMMAND`: docker's `container` management group, each sub-command the
// top-level command of the same job (`container ls` is `ps`, `container rm` is `rm`), plus
// `container prune` and `container inspect` (containers only).

import type { ApiClient } from '../../api/client.js';
import { unknownSubcommand } from './volume.js';

type Command = (client: ApiClient, argv: string[]) => Promise<number>;

const USAGE = `Usage:  berth container COMMAND

Manage containers

Commands:
  attach      Attach local standard input, output, and error streams to a running container
  commit      Create a new image from a container's changes
  cp          Copy files/folders between a container and the local filesystem
  create      Create a new container
  diff        Inspect changes to files or directories on a container's filesystem
  exec        Execute a command in a running container
  export      Export a container's filesystem as a tar archive
  inspect     Display detailed information on one or more containers
  kill        Kill one or more running containers
  logs        Fetch the logs of a container
  ls          List containers
  pause       Pause all processes within one or more containers
  port        List port mappings or a specific mapping for the container
  prune       Remove all stopped containers
  rename      Rename a container
  restart     Restart one or more containers
  rm          Remove one or more containers
  run         Create and run a new container from an image
  start       Start one or more stopped containers
  stats       Display a live stream of container(s) resource usage statistics
  stop        Stop one or more running containers
  top         Display the running processes of a container
  unpause     Unpause all processes within one or more containers
  update      Update configuration of one or more containers
  wait        Block until one or more containers stop, then print their exit codes

Run 'berth container COMMAND --help' for more information on a command.
`;

const SUBCOMMANDS: Record<string, () => Promise<Command>> = {
  attach: () => import('./attach.js').then((m) => m.attach),
  commit: () => import('./commit.js').then((m) => m.commit),
  cp: () => import('./cp.js').then((m) => m.cp),
  create: () => import('./create.js').then((m) => m.create),
  diff: () => import('./diff.js').then((m) => m.diff),
  exec: () => import('./exec.js').then((m) => m.exec),
  export: () => import('./export.js').then((m) => m.exportContainer),
  inspect: () => import('./inspect.js').then((m) => (client: ApiClient, argv: string[]) => m.inspect(client, argv, 'container')),
  kill: () => import('./kill.js').then((m) => m.kill),
  logs: () => import('./logs.js').then((m) => m.logs),
  ls: () => import('./ps.js').then((m) => m.ps),
  pause: () => import('./pause.js').then((m) => m.pause),
  port: () => import('./port.js').then((m) => m.port),
  prune: () => import('./prune.js').then((m) => m.containerPrune),
  rename: () => import('./rename.js').then((m) => m.rename),
  restart: () => import('./restart.js').then((m) => m.restart),
  rm: () => import('./rm.js').then((m) => m.rm),
  run: () => import('./run.js').then((m) => m.run),
  start: () => import('./start.js').then((m) => m.start),
  stats: () => import('./stats.js').then((m) => m.stats),
  stop: () => import('./stop.js').then((m) => m.stop),
  top: () => import('./top.js').then((m) => m.top),
  unpause: () => import('./pause.js').then((m) => m.unpause),
  update: () => import('./update.js').then((m) => m.update),
  wait: () => import('./wait.js').then((m) => m.wait),
};
SUBCOMMANDS.ps = SUBCOMMANDS.list = SUBCOMMANDS.ls;
SUBCOMMANDS.remove = SUBCOMMANDS.rm;

export async function container(client: ApiClient, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const cmd = SUBCOMMANDS[sub];
  if (!cmd) return unknownSubcommand('container', sub);
  return (await cmd())(client, rest);
}
