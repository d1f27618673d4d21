// `berth compose [OPTIONS] COMMAND`: Compose v2's global flags (-f, -p, --profile, --env-file,
// --project-directory), then one command module per verb in commands/, loaded when it runs.
// A command gets the loaded project (or the options to load it itself) and the API client.

import { ApiClient, DaemonError } from '../api/client.js';
import { BERTH_VERSION } from '../common/version.js';
import {
  ArgCountError,
  commandHelp,
  FlagError,
  HelpRequest,
  parseArgs,
  parseCommand,
  type CommandSpec,
  type FlagSpec,
  type Parsed,
} from '../cli/args.js';
import { errorMessage } from '../errors.js';
import { text } from 'node:stream/consumers';
import { loadProject, type Project, type ProjectOptions } from './project.js';

export interface ComposeContext {
  client: ApiClient;
  options: ProjectOptions;
  /** Loads the project; `services` named on the command line are enabled whatever their profiles. */
  project(services?: string[]): Promise<Project>;
  /** The project's name without reading the files where `-p` or COMPOSE_PROJECT_NAME gives it (down, ps… of a project whose files are gone). */
  projectName(): Promise<string>;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export type ComposeCommand = { spec: CommandSpec; run: (ctx: ComposeContext, p: Parsed) => Promise<number> };

const COMMANDS: Record<string, () => Promise<ComposeCommand>> = {
  config: () => import('./commands/config.js').then((m) => m.config),
  up: () => import('./commands/up.js').then((m) => m.up),
  down: () => import('./commands/down.js').then((m) => m.down),
  ps: () => import('./commands/ps.js').then((m) => m.ps),
  logs: () => import('./commands/logs.js').then((m) => m.logs),
  exec: () => import('./commands/exec.js').then((m) => m.exec),
  run: () => import('./commands/run.js').then((m) => m.run),
  start: () => import('./commands/lifecycle.js').then((m) => m.start),
  stop: () => import('./commands/lifecycle.js').then((m) => m.stop),
  restart: () => import('./commands/lifecycle.js').then((m) => m.restart),
  rm: () => import('./commands/rm.js').then((m) => m.rm),
  pull: () => import('./commands/pull.js').then((m) => m.pull),
  top: () => import('./commands/top.js').then((m) => m.top),
  port: () => import('./commands/port.js').then((m) => m.port),
  events: () => import('./commands/events.js').then((m) => m.events),
  ls: () => import('./commands/ls.js').then((m) => m.ls),
  build: () => import('./commands/build.js').then((m) => m.build),
};

const GLOBAL: Record<string, FlagSpec> = {
  file: { short: 'f', type: 'list', arg: 'stringArray', desc: 'Compose configuration files' },
  'project-name': { short: 'p', type: 'string', desc: 'Project name' },
  profile: { type: 'list', arg: 'stringArray', desc: 'Specify a profile to enable' },
  'env-file': { type: 'list', arg: 'stringArray', desc: 'Specify an alternate environment file' },
  'project-directory': {
    type: 'string',
    desc: 'Specify an alternate working directory (default: the path of the first specified Compose file)',
  },
  version: { short: 'v', type: 'bool', desc: 'Show the Compose version information' },
};

const ABOUT: Record<string, string> = {
  config: 'Parse, resolve and render compose file in canonical format',
  up: 'Create and start containers',
  down: 'Stop and remove containers, networks',
  ps: 'List containers',
  logs: 'View output from containers',
  exec: 'Execute a command in a running container',
  run: 'Run a one-off command on a service',
  start: 'Start services',
  stop: 'Stop services',
  restart: 'Restart service containers',
  rm: 'Removes stopped service containers',
  pull: 'Pull service images',
  top: 'Display the running processes',
  port: 'Print the public port for a port binding',
  events: 'Receive real time events from containers',
  ls: 'List running compose projects',
  build: 'Build or rebuild services',
};

function usage(): string {
  const cmds = Object.keys(COMMANDS)
    .sort()
    .map((c) => `  ${c.padEnd(12)}${ABOUT[c] ?? ''}`)
    .join('\n');
  return `${commandHelp({ path: 'compose', use: '[OPTIONS] COMMAND', about: 'Define and run multi-container applications with berth', flags: GLOBAL })}\nCommands:\n${cmds}\n\nRun 'berth compose COMMAND --help' for more information on a command.\n`;
}

/**
 * The entry `berth compose` calls. It reports its own errors, as docker's CLI would: this module
 * is bundled apart from the CLI's (cli/main.ts), so the CLI's error classes are not these.
 */
export async function compose(client: ApiClient, argv: string[]): Promise<number> {
  try {
    // A client of this bundle's own classes, so that its errors are this module's DaemonErrors.
    return await dispatch(new ApiClient(client.opts), argv);
  } catch (e) {
    if (e instanceof HelpRequest) {
      process.stdout.write(e.command?.path === 'compose' ? usage() : commandHelp(e.command!));
      return 0;
    }
    if (e instanceof FlagError || e instanceof ArgCountError) {
      const c = e.command!;
      process.stderr.write(`${e.message}\n\nUsage:  berth ${c.path} ${c.use}\n\nRun 'berth ${c.path} --help' for more information\n`);
      return e instanceof FlagError ? 125 : 1;
    }
    process.stderr.write(`${e instanceof DaemonError ? 'Error response from daemon: ' : ''}${errorMessage(e)}\n`);
    return 1;
  }
}

async function dispatch(client: ApiClient, argv: string[]): Promise<number> {
  const g = parseArgs(argv, GLOBAL, {
    stopAtOperand: true,
    command: { path: 'compose', use: '[OPTIONS] COMMAND', about: '', flags: GLOBAL },
  });
  if (g.flags.version) {
    process.stdout.write(`berth compose version ${BERTH_VERSION}\n`);
    return 0;
  }
  const [name, ...rest] = g.args;
  if (!name) {
    process.stdout.write(usage());
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`unknown berth compose command: ${JSON.stringify(name)}\n\nRun 'berth compose --help' for the commands\n`);
    return 1;
  }
  let stdin: Promise<string> | undefined;
  const options: ProjectOptions = {
    files: g.flags.file as string[] | undefined,
    projectName: g.flags['project-name'] as string | undefined,
    profiles: (g.flags.profile as string[] | undefined)?.flatMap((p) => p.split(',')),
    envFiles: g.flags['env-file'] as string[] | undefined,
    projectDirectory: g.flags['project-directory'] as string | undefined,
    cwd: process.cwd(),
    env: process.env,
    warn: (m) => process.stderr.write(`WARN[0000] ${m}\n`),
    // `-f -`: read once, for every load of this command.
    stdin: () => (stdin ??= text(process.stdin)),
  };
  const cmd = await load();
  const parsed = parseCommand({ ...cmd.spec, path: `compose ${cmd.spec.path}` }, rest);
  const ctx: ComposeContext = {
    client,
    options,
    project: (services) => loadProject({ ...options, services }),
    projectName: async () => {
      if (options.projectName) return options.projectName;
      if (process.env.COMPOSE_PROJECT_NAME) return process.env.COMPOSE_PROJECT_NAME;
      return (await loadProject(options)).name;
    },
    out: process.stdout,
    err: process.stderr,
  };
  return cmd.run(ctx, parsed);
}
