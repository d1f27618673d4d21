// `berth kube COMMAND`: play, down and generate, one module per verb in commands/, loaded when
// it runs. Bundled apart from the CLI (dist/bundle/berth-kube.cjs) as compose is, so that the
// YAML parser and the schema validator cost `berth`'s start-up nothing.

import { ApiClient, DaemonError } from '../api/client.js';
import { ArgCountError, commandHelp, FlagError, HelpRequest, parseCommand, type CommandSpec, type Parsed } from '../cli/args.js';
import { errorMessage } from '../errors.js';

export interface KubeContext {
  client: ApiClient;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Standard input, read whole (`kube play -`). */
  stdin: () => Promise<string>;
}

export type KubeCommand = { spec: CommandSpec; run: (ctx: KubeContext, p: Parsed) => Promise<number> };

const COMMANDS: Record<string, () => Promise<KubeCommand>> = {
  play: () => import('./commands/play.js').then((m) => m.play),
  down: () => import('./commands/down.js').then((m) => m.down),
  generate: () => import('./commands/generate.js').then((m) => m.generate),
};

const ABOUT: Record<string, string> = {
  play: 'Create pods, services, volumes and jobs from a Kubernetes manifest',
  down: 'Remove what kube play made from a Kubernetes manifest',
  generate: 'Print a Kubernetes Pod manifest of a container or pod',
};

const USAGE = `Usage:  berth kube COMMAND

Play Kubernetes manifests on berth

Commands:
${Object.keys(COMMANDS)
  .map((c) => `  ${c.padEnd(10)}${ABOUT[c]}`)
  .join('\n')}

Run 'berth kube COMMAND --help' for more information on a command.
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The entry `berth kube` calls; it reports its own errors (its bundle's classes are not the CLI's). */
export async function kube(client: ApiClient, argv: string[]): Promise<number> {
  try {
    const [name, ...rest] = argv;
    if (!name || name === '--help' || name === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    const load = COMMANDS[name];
    if (!load) {
      process.stderr.write(`unknown berth kube command: ${JSON.stringify(name)}\n\nRun 'berth kube --help' for the commands\n`);
      return 1;
    }
    const cmd = await load();
    const parsed = parseCommand({ ...cmd.spec, path: `kube ${cmd.spec.path}` }, rest);
    // A client of this bundle's own classes, so that its errors are this module's DaemonErrors.
    return await cmd.run({ client: new ApiClient(client.opts), out: process.stdout, err: process.stderr, stdin: readStdin }, parsed);
  } catch (e) {
    if (e instanceof HelpRequest) {
      process.stdout.write(commandHelp(e.command!));
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
