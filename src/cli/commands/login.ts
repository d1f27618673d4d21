// `berth login [-u USER] [-p PASSWORD | --password-stdin] [SERVER]` and `berth logout [SERVER]`:
// berthd checks the credentials against the registry (POST /auth); the CLI keeps them in
// berth's config file (../credentials.ts), as docker keeps them in its own.

import { createInterface } from 'node:readline';
import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseCommand } from '../args.js';
import { DOCKER_HUB, serverKey, storeCredentials } from '../credentials.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks on the terminal; the answer is not echoed when `secret`. */
async function prompt(question: string, secret: boolean): Promise<string> {
  if (!process.stdin.isTTY) throw new BerthError('invalid', 'cannot perform an interactive login from a non TTY device');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (secret)
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s) => {
      if (s.includes(question)) process.stdout.write(s);
    };
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
    if (secret) process.stdout.write('\n');
  }
}

export async function login(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(
    {
      path: 'login',
      use: '[OPTIONS] [SERVER]',
      about: 'Log in to a registry (Docker Hub when no server is given)',
      args: { max: 1 },
      flags: {
        password: { short: 'p', type: 'string', desc: 'Password or personal access token' },
        'password-stdin': { type: 'bool', desc: 'Read the password or token from stdin' },
        username: { short: 'u', type: 'string', desc: 'Username' },
      },
    },
    argv,
  );
  let password = flags.password as string | undefined;
  if (password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (flags['password-stdin']) {
    if (password !== undefined) throw new BerthError('invalid', '--password and --password-stdin are mutually exclusive');
    if (!flags.username) throw new BerthError('invalid', 'Must provide --username with --password-stdin');
    password = (await readStdin()).replace(/\r?\n$/, '');
  }
  const key = serverKey(args[0]);
  const username = (flags.username as string | undefined) ?? (await prompt('Username: ', false)).trim();
  if (!username) throw new BerthError('invalid', 'Username is required');
  if (password === undefined) password = await prompt('Password: ', true);
  if (!password) throw new BerthError('invalid', 'Password is required');
  const r = await client.json<{ Status: string; IdentityToken?: string }>('POST', '/auth', {
    body: { username, password, serveraddress: key === DOCKER_HUB ? DOCKER_HUB : key },
  });
  await storeCredentials(key, r.IdentityToken ? { username, password: '', identityToken: r.IdentityToken } : { username, password });
  process.stdout.write(`${r.Status || 'Login Succeeded'}\n`);
  return 0;
}

export async function logout(_client: ApiClient, argv: string[]): Promise<number> {
  const { args } = parseCommand(
    { path: 'logout', use: '[SERVER]', about: 'Log out from a registry (Docker Hub when no server is given)', args: { max: 1 }, flags: {} },
    argv,
  );
  const key = serverKey(args[0]);
  const had = await storeCredentials(key, undefined);
  process.stdout.write(had ? `Removing login credentials for ${key}\n` : `Not logged in to ${key}\n`);
  return 0;
}
