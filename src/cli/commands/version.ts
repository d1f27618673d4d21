// `berth version`: the client's version, then the daemon's (GET /version).

import type { ApiClient } from '../../api/client.js';
import { API_VERSION, BERTH_VERSION } from '../../api/version.js';
import { errorMessage } from '../../errors.js';

export async function version(client: ApiClient): Promise<number> {
  process.stdout.write(`Client:\n Version:           ${BERTH_VERSION}\n API version:       ${API_VERSION}\n Node.js version:   ${process.version}\n OS/Arch:           linux/${process.arch}\n\n`);
  try {
    const v = await client.json('GET', '/version');
    process.stdout.write(`Server: ${v.Platform?.Name ?? ''}\n Engine:\n  Version:          ${v.Version}\n  API version:      ${v.ApiVersion} (minimum version ${v.MinAPIVersion})\n  OS/Arch:          ${v.Os}/${v.Arch}\n  Kernel:           ${v.KernelVersion}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${errorMessage(e)}\n`);
    return 1;
  }
}
