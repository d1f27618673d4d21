// Where the daemon is: `-H`, then BERTH_HOST, then DOCKER_HOST, then the default socket.
export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export function daemonHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const h = flag || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
  return h.startsWith('/') ? `unix://${h}` : h;
}
