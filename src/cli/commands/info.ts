// `berth info`: GET /info, the main lines of it.

import type { ApiClient } from '../../api/client.js';

export async function info(client: ApiClient): Promise<number> {
  const i = await client.json('GET', '/info');
  const lines = [
    'Server:',
    ` Containers: ${i.Containers}`, `  Running: ${i.ContainersRunning}`, `  Paused: ${i.ContainersPaused}`, `  Stopped: ${i.ContainersStopped}`,
    ` Images: ${i.Images}`, ` Server Version: ${i.ServerVersion}`, ` Storage Driver: ${i.Driver}`, ` Logging Driver: ${i.LoggingDriver}`,
    ` Cgroup Driver: ${i.CgroupDriver}`, ` Cgroup Version: ${i.CgroupVersion}`, ` Default Runtime: ${i.DefaultRuntime}`,
    ` Kernel Version: ${i.KernelVersion}`, ` Operating System: ${i.OperatingSystem}`, ` OSType: ${i.OSType}`, ` Architecture: ${i.Architecture}`,
    ` CPUs: ${i.NCPU}`, ` Total Memory: ${(i.MemTotal / 2 ** 30).toFixed(2)}GiB`, ` Name: ${i.Name}`, ` ID: ${i.ID}`,
    ` Root Dir: ${i.DockerRootDir}`, ...(i.RegistryConfig?.Mirrors?.length ? [' Registry Mirrors:', ...i.RegistryConfig.Mirrors.map((m: string) => `  ${m}`)] : []),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
