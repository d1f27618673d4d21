// `berth info [-f FORMAT]`: GET /info, the main lines of it, or a template over it.

import type { ApiClient } from '../../api/client.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { compile } from '../template.js';

const INFO: CommandSpec = {
  path: 'info',
  use: '[OPTIONS]',
  about: 'Display system-wide information',
  aliases: ['berth system info', 'berth info'],
  args: { max: 0 },
  flags: { format: { short: 'f', type: 'string', desc: "Format the output: 'json' or a Go template" } },
};

export async function info(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(INFO, argv);
  const i = await client.json('GET', '/info');
  if (flags.format !== undefined) {
    process.stdout.write(`${compile(flags.format === 'json' ? '{{json .}}' : (flags.format as string)).render(i)}\n`);
    return 0;
  }
  const lines = [
    'Server:',
    ` Containers: ${i.Containers}`,
    `  Running: ${i.ContainersRunning}`,
    `  Paused: ${i.ContainersPaused}`,
    `  Stopped: ${i.ContainersStopped}`,
    ` Images: ${i.Images}`,
    ` Server Version: ${i.ServerVersion}`,
    ` Storage Driver: ${i.Driver}`,
    ` Logging Driver: ${i.LoggingDriver}`,
    ` Cgroup Driver: ${i.CgroupDriver}`,
    ` Cgroup Version: ${i.CgroupVersion}`,
    ` Default Runtime: ${i.DefaultRuntime}`,
    ...securityLines(i.SecurityOptions ?? []),
    ` Kernel Version: ${i.KernelVersion}`,
    ` Operating System: ${i.OperatingSystem}`,
    ` OSType: ${i.OSType}`,
    ` Architecture: ${i.Architecture}`,
    ` CPUs: ${i.NCPU}`,
    ` Total Memory: ${(i.MemTotal / 2 ** 30).toFixed(2)}GiB`,
    ` Name: ${i.Name}`,
    ` ID: ${i.ID}`,
    ` Root Dir: ${i.DockerRootDir}`,
    ...(i.RegistryConfig?.Mirrors?.length ? [' Registry Mirrors:', ...i.RegistryConfig.Mirrors.map((m: string) => `  ${m}`)] : []),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  // The daemon's warnings go to stderr, each on its own line, as the docker CLI prints them.
  for (const w of i.Warnings ?? []) process.stderr.write(`${w}\n`);
  return 0;
}

/** `name=seccomp,profile=builtin` → `  seccomp` and `   Profile: builtin`, as the docker CLI prints them. */
function securityLines(opts: string[]): string[] {
  if (!opts.length) return [];
  const out = [' Security Options:'];
  for (const opt of opts) {
    for (const kv of opt.split(',')) {
      const [k, v = ''] = kv.split('=', 2);
      if (k === 'name') out.push(`  ${v}`);
      else out.push(`   ${k.charAt(0).toUpperCase()}${k.slice(1)}: ${v}`);
    }
  }
  return out;
}
