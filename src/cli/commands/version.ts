// `berth version [-f FORMAT]`: the client's version, then the daemon's (GET /version); with
// --format, a template over docker's {Client, Server} shape.

import type { ApiClient } from '../../api/client.js';
import { API_VERSION } from '../../api/version.js';
import { BERTH_VERSION } from '../../common/version.js';
import { errorMessage } from '../../errors.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { compile } from '../template.js';

const VERSION: CommandSpec = {
  path: 'version',
  use: '[OPTIONS]',
  about: 'Show the berth version information',
  args: { max: 0 },
  flags: { format: { short: 'f', type: 'string', desc: "Format the output: 'json' or a Go template" } },
};

export async function version(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(VERSION, argv);
  const clientInfo = {
    Platform: { Name: 'berth' },
    Version: BERTH_VERSION,
    ApiVersion: API_VERSION,
    DefaultAPIVersion: API_VERSION,
    NodeVersion: process.version,
    Os: 'linux',
    Arch: process.arch === 'x64' ? 'amd64' : process.arch,
  };
  let server: Record<string, any> | undefined, failure: unknown;
  try {
    server = await client.json('GET', '/version');
  } catch (e) {
    failure = e;
  }
  if (flags.format !== undefined) {
    const f = flags.format === 'json' ? '{{json .}}' : (flags.format as string);
    // Go's field names (.Server.APIVersion) beside the JSON's (.Server.ApiVersion).
    const go = (v: Record<string, any>) => ({
      ...v,
      APIVersion: v.ApiVersion,
      ...(v.MinAPIVersion ? { MinAPIVersion: v.MinAPIVersion } : {}),
    });
    process.stdout.write(`${compile(f).render({ Client: go(clientInfo), Server: server ? go(server) : null })}\n`);
  } else {
    process.stdout.write(
      `Client:\n Version:           ${BERTH_VERSION}\n API version:       ${API_VERSION}\n Node.js version:   ${process.version}\n OS/Arch:           linux/${process.arch}\n\n`,
    );
    if (server) {
      const v = server;
      process.stdout.write(
        `Server: ${v.Platform?.Name ?? ''}\n Engine:\n  Version:          ${v.Version}\n  API version:      ${v.ApiVersion} (minimum version ${v.MinAPIVersion})\n  OS/Arch:          ${v.Os}/${v.Arch}\n  Kernel:           ${v.KernelVersion}\n`,
      );
    }
  }
  if (failure) {
    process.stderr.write(`${errorMessage(failure)}\n`);
    return 1;
  }
  return 0;
}
