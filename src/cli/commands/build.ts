// `berth build [OPTIONS] PATH | URL | -`: POST /build with the context packed here and filtered
// by .dockerignore (api/build-context.ts), as the docker CLI's classic builder sends it: `-f` inside
// the context, outside it or `-` (stdin), a URL as `remote=` for berthd to fetch, `-` a tar or a
// lone Dockerfile on stdin. Secrets (`--secret id=…,src=…|env=…`) travel in the request's
// `X-Berth-Build-Secrets` header, never in the context or the query, and berthd keeps them in
// memory only. The RUN steps' limits (--memory, --cpu-*, --shm-size, --ulimit, --cgroup-parent)
// go in the query as the docker CLI sends them. The flags of docker's builder that berthd's does
// not apply are refused by name.

import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { ApiClient } from '../../api/client.js';
import { BerthError, invalid, unsupported } from '../../errors.js';
import { parseCommand, type CommandSpec, type FlagSpec } from '../args.js';
import { packContext } from '../../api/build-context.js';
import { showBuild } from '../build-progress.js';
import { extraHost, int, label, ramBytes, ulimit } from '../flag-values.js';
import { formatBytes } from '../progress.js';
import { TarWriter } from '../../tar/index.js';

const refused = (desc: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({
  type: 'string',
  desc: `${desc} (not supported by berth)`,
  ...extra,
});

const check = (parse: (s: string) => unknown) => (s: string) => void parse(s);

const BUILD: CommandSpec = {
  path: 'build',
  use: '[OPTIONS] PATH | URL | -',
  about: 'Build an image from a Dockerfile',
  aliases: ['berth image build', 'berth build', 'berth builder build'],
  args: { min: 1, max: 1 },
  flags: {
    'add-host': { type: 'list', desc: 'Add a custom host-to-IP mapping ("host:ip")', check: (v) => void extraHost(v) },
    'build-arg': { type: 'list', desc: 'Set build-time variables' },
    'cache-from': { type: 'list', arg: 'strings', desc: 'Images to consider as cache sources' },
    compress: { type: 'bool', desc: 'Compress the build context using gzip' },
    'disable-content-trust': { type: 'bool', desc: 'Skip image verification (berth has none to do)', dflt: 'true' },
    file: { short: 'f', type: 'string', desc: 'Name of the Dockerfile (Default is "PATH/Dockerfile")' },
    'force-rm': { type: 'bool', desc: 'Always remove intermediate containers (berth always does)' },
    iidfile: { type: 'string', desc: 'Write the image ID to the file' },
    isolation: { type: 'string', desc: 'Container isolation technology (only "default")' },
    label: { type: 'list', desc: 'Set metadata for an image', check: (v) => void label(v) },
    network: { type: 'string', desc: 'Set the networking mode for the RUN instructions during build', dflt: '"default"' },
    'no-cache': { type: 'bool', desc: 'Do not use cache when building the image' },
    platform: { type: 'string', desc: 'Set platform if server is multi-platform capable' },
    progress: { type: 'string', desc: 'Set type of progress output (auto, plain, tty)', dflt: '"auto"' },
    pull: { type: 'bool', desc: 'Always attempt to pull a newer version of the image' },
    quiet: { short: 'q', type: 'bool', desc: 'Suppress the build output and print image ID on success' },
    rm: { type: 'bool', desc: 'Remove intermediate containers after a successful build', dflt: 'true' },
    secret: {
      type: 'list',
      arg: 'stringArray',
      desc: 'Secret to expose to the build (format: "id=mysecret[,src=/local/secret]" or "id=X,env=VAR")',
    },
    tag: { short: 't', type: 'list', desc: 'Name and optionally a tag in the "name:tag" format' },
    target: { type: 'string', desc: 'Set the target build stage to build.' },
    // The RUN steps' limits, checked as docker build checks them.
    'cgroup-parent': { type: 'string', desc: 'Set the parent cgroup for the "RUN" instructions during build' },
    'cpu-period': { type: 'string', arg: 'int', desc: 'Limit the CPU CFS (Completely Fair Scheduler) period', check: check(int) },
    'cpu-quota': { type: 'string', arg: 'int', desc: 'Limit the CPU CFS (Completely Fair Scheduler) quota', check: check(int) },
    'cpu-shares': { short: 'c', type: 'string', arg: 'int', desc: 'CPU shares (relative weight)', check: check(int) },
    'cpuset-cpus': { type: 'string', desc: 'CPUs in which to allow execution (0-3, 0,1)' },
    'cpuset-mems': { type: 'string', desc: 'MEMs in which to allow execution (0-3, 0,1)' },
    memory: { short: 'm', type: 'string', arg: 'bytes', desc: 'Memory limit', check: check(ramBytes) },
    'memory-swap': {
      type: 'string',
      arg: 'bytes',
      desc: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap',
      check: (s) => void (s === '-1' || ramBytes(s)),
    },
    'shm-size': { type: 'string', arg: 'bytes', desc: 'Size of "/dev/shm"', check: check(ramBytes) },
    ulimit: { type: 'list', arg: 'ulimit', desc: 'Ulimit options', check: check(ulimit) },
    // docker build's flags that berthd's builder does not apply: each refused by name.
    'security-opt': refused('Security options', { type: 'list', arg: 'strings' }),
    squash: { type: 'bool', desc: 'Squash newly built layers into a single new layer (not supported by berth)' },
    // docker buildx build's own flags.
    allow: refused('Allow extra privileged entitlement', { type: 'list', arg: 'stringArray' }),
    annotation: refused('Add annotation to the image', { type: 'list', arg: 'stringArray' }),
    attest: refused('Attestation parameters', { type: 'list', arg: 'stringArray' }),
    'build-context': refused('Additional build contexts (e.g., name=path)', { type: 'list', arg: 'stringArray' }),
    builder: refused('Override the configured builder instance'),
    'cache-to': refused('Cache export destinations', { type: 'list', arg: 'stringArray' }),
    call: refused('Set method for evaluating build ("check", "outline", "targets")'),
    check: { type: 'bool', desc: 'Shorthand for "--call=check" (not supported by berth)' },
    load: { type: 'bool', desc: 'Shorthand for "--output=type=docker" (berth always does)' },
    'metadata-file': refused('Write build result metadata to a file'),
    'no-cache-filter': refused('Do not cache specified stages', { type: 'list', arg: 'stringArray' }),
    output: refused('Output destination (format: "type=local,dest=path")', { short: 'o', type: 'list', arg: 'stringArray' }),
    provenance: refused('Shorthand for "--attest=type=provenance"'),
    push: { type: 'bool', desc: 'Shorthand for "--output=type=registry" (not supported by berth)' },
    sbom: refused('Shorthand for "--attest=type=sbom"'),
    ssh: refused('SSH agent socket or keys to expose to the build', { type: 'list', arg: 'stringArray' }),
  },
};

/** Why each refused flag is refused. */
const REFUSED: Record<string, string> = {
  'security-opt': 'RUN steps run with the default security profile',
  squash: 'berth keeps every layer (squash is an experimental dockerd feature)',
  allow: 'RUN steps run with the default security profile',
  annotation: 'berth builds one image in its own store',
  attest: 'berth makes no attestations',
  'build-context': 'the build has one context',
  builder: 'berthd is the one builder',
  'cache-to': 'the cache stays in berthd',
  call: 'berth builds images only',
  check: 'berth builds images only',
  'metadata-file': 'berth writes the image ID only (--iidfile)',
  'no-cache-filter': 'use --no-cache',
  output: "berth builds into berthd's image store only",
  provenance: 'berth makes no attestations',
  push: 'build, then berth push',
  sbom: 'berth makes no attestations',
  ssh: 'berthd does not forward an SSH agent',
};

/** The most bytes of one secret, as BuildKit's limit. */
const MAX_SECRET = 500 * 1024;

/** `id=X,src=PATH` / `id=X,env=VAR` / `id=X` (the file or variable named X) → the secret's bytes. */
async function readSecret(spec: string): Promise<[string, Buffer]> {
  const fields: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const i = part.indexOf('=');
    if (i < 1) throw invalid(`invalid secret ${JSON.stringify(spec)}: ${JSON.stringify(part)} is not key=value`);
    const key = part.slice(0, i).toLowerCase();
    if (!['id', 'src', 'source', 'env', 'type'].includes(key))
      throw invalid(`invalid secret ${JSON.stringify(spec)}: unexpected key ${JSON.stringify(key)}`);
    fields[key === 'source' ? 'src' : key] = part.slice(i + 1);
  }
  if (fields.type && !['file', 'env'].includes(fields.type))
    throw invalid(`invalid secret ${JSON.stringify(spec)}: type must be file or env`);
  const id = fields.id ?? (fields.src ? fields.src.split('/').pop()! : fields.env);
  if (!id) throw invalid(`invalid secret ${JSON.stringify(spec)}: id is required`);
  const env = fields.env ?? (fields.type === 'env' ? (fields.src ?? id) : undefined);
  if (env !== undefined) {
    const v = process.env[env];
    if (v === undefined) throw invalid(`secret ${id}: environment variable ${env} is not set`);
    return [id, Buffer.from(v)];
  }
  const path = fields.src ?? id;
  const st = await stat(path);
  if (st.size > MAX_SECRET) throw invalid(`secret ${id}: ${path} is larger than ${MAX_SECRET} bytes`);
  return [id, await readFile(path)];
}

/** `KEY=VAL`, or a bare `KEY` taken from the environment (null when unset: berthd warns it was not consumed). */
function buildArgs(list: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const a of list) {
    const i = a.indexOf('=');
    if (i === 0) throw invalid(`invalid argument "${a}" for "--build-arg" flag: invalid environment variable: ${a}`);
    if (i > 0) out[a.slice(0, i)] = a.slice(i + 1);
    else out[a] = process.env[a] ?? null;
  }
  return out;
}

function labels(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    out[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  return out;
}

/** The first bytes of stdin tell a tar (any compression) from a Dockerfile. */
function looksLikeArchive(head: Buffer): boolean {
  const magic = [
    [0x1f, 0x8b],
    [0x42, 0x5a, 0x68],
    [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
    [0x28, 0xb5, 0x2f, 0xfd],
  ];
  if (magic.some((m) => m.every((b, i) => head[i] === b))) return true;
  return head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar';
}

async function readAllStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The request's body and `dockerfile` parameter, from PATH, URL or `-`. */
async function context(source: string, file: string | undefined): Promise<{ body?: Readable; dockerfile?: string; remote?: string }> {
  // A URL, a git repository's among them, is fetched by berthd (the API's `remote`).
  if (/^(https?:\/\/|git:\/\/|git@|github\.com\/)/.test(source)) {
    if (file === '-') throw invalid('cannot use a remote context with a Dockerfile from stdin');
    return { remote: source, dockerfile: file };
  }
  if (source === '-') {
    if (file === '-') throw invalid("invalid argument: can't use stdin for both build context and dockerfile");
    const data = await readAllStdin();
    if (looksLikeArchive(data)) return { body: Readable.from([data]), dockerfile: file };
    // A lone Dockerfile: the context is empty, as docker's.
    const packed = await packEmpty(data.toString('utf8'));
    return { body: packed.stream, dockerfile: packed.dockerfile };
  }
  const dir = resolve(source);
  const st = await stat(dir).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? invalid(`unable to prepare context: path "${source}" not found`) : e;
  });
  if (!st.isDirectory()) throw invalid(`unable to prepare context: context must be a directory: ${dir}`);
  if (file === '-') {
    const packed = await packContext(dir, { extraDockerfile: (await readAllStdin()).toString('utf8') });
    return { body: packed.stream, dockerfile: packed.dockerfile };
  }
  const df = file === undefined ? resolve(dir, 'Dockerfile') : isAbsolute(file) ? file : resolve(file);
  const rel = relative(dir, df);
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    // Outside the context: its text goes in under a random name, as the docker CLI does.
    const text = await readFile(df, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'ENOENT'
        ? invalid(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${df}: no such file or directory`)
        : e;
    });
    const packed = await packContext(dir, { extraDockerfile: text });
    return { body: packed.stream, dockerfile: packed.dockerfile };
  }
  await stat(df).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT'
      ? invalid(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${df}: no such file or directory`)
      : e;
  });
  const packed = await packContext(dir, { dockerfile: rel.split(sep).join('/') });
  return { body: packed.stream, dockerfile: packed.dockerfile };
}

/** A context of nothing but a Dockerfile (`berth build - < Dockerfile`). */
async function packEmpty(text: string) {
  const tar = new TarWriter();
  const done = (async () => {
    await tar.add({ name: 'Dockerfile', mode: 0o600 }, text);
    await tar.end();
  })();
  done.catch((e: Error) => tar.destroy(e));
  return { stream: tar.stream, dockerfile: 'Dockerfile' };
}

/** The RUN steps' limits as POST /build's query carries them (the docker CLI's names and forms). */
function resourceQuery(flags: Record<string, unknown>): Record<string, string | undefined> {
  const str = (name: string) => flags[name] as string | undefined;
  const bytes = (name: string) => (str(name) === undefined ? undefined : String(str(name) === '-1' ? -1 : ramBytes(str(name)!)));
  const ulimits = (flags.ulimit as string[] | undefined) ?? [];
  return {
    memory: bytes('memory'),
    memswap: bytes('memory-swap'),
    shmsize: bytes('shm-size'),
    cpushares: str('cpu-shares'),
    cpuperiod: str('cpu-period'),
    cpuquota: str('cpu-quota'),
    cpusetcpus: str('cpuset-cpus'),
    cpusetmems: str('cpuset-mems'),
    cgroupparent: str('cgroup-parent'),
    ulimits: ulimits.length ? JSON.stringify(ulimits.map(ulimit)) : undefined,
  };
}

export async function build(client: ApiClient, argv: string[]): Promise<number> {
  const { flags, args } = parseCommand(BUILD, argv);
  for (const [name, why] of Object.entries(REFUSED)) {
    const v = flags[name];
    if (v !== undefined && v !== false && !(Array.isArray(v) && !v.length))
      throw unsupported(`berth build --${name} is not supported: ${why}`);
  }
  if (flags['disable-content-trust'] === false)
    throw unsupported('berth does not verify image signatures: --disable-content-trust=false is not supported');
  if (flags.rm === false)
    throw unsupported("berth build --rm=false is not supported: berthd removes each step's container when the step ends");
  const isolation = flags.isolation as string | undefined;
  if (isolation && isolation !== 'default') throw unsupported(`berth build --isolation ${isolation} is not supported: only "default"`);
  const progress = (flags.progress as string | undefined) ?? 'auto';
  if (!['auto', 'plain', 'tty'].includes(progress))
    throw invalid(`invalid progress mode ${JSON.stringify(progress)}: use auto, plain or tty`);
  const iidfile = flags.iidfile as string | undefined;
  // As docker: an old ID file is removed first, so a failed build leaves none.
  if (iidfile) await rm(iidfile, { force: true });

  const secrets: Record<string, string> = {};
  for (const s of (flags.secret as string[] | undefined) ?? []) {
    const [id, data] = await readSecret(s);
    secrets[id] = data.toString('base64');
  }
  const ctx = await context(args[0], flags.file as string | undefined);
  let sent = 0;
  let body: Readable | undefined = ctx.body;
  if (body) {
    // Counted as it passes: a 'data' listener would start the flow before the request is
    // connected to read it, and what flowed until then would be lost.
    const counter = new Transform({
      transform(c: Buffer, _enc, done) {
        sent += c.length;
        done(null, c);
      },
    });
    body.on('error', (e) => counter.destroy(e));
    body = flags.compress ? body.pipe(createGzip()).pipe(counter) : body.pipe(counter);
  }
  const quiet = !!flags.quiet;
  const headers: Record<string, string> = { 'Content-Type': 'application/x-tar' };
  if (Object.keys(secrets).length) headers['X-Berth-Build-Secrets'] = Buffer.from(JSON.stringify(secrets)).toString('base64url');
  const hosts = ((flags['add-host'] as string[] | undefined) ?? []).map(extraHost);
  const res = await client.stream('POST', '/build', {
    query: {
      dockerfile: ctx.dockerfile,
      remote: ctx.remote,
      t: flags.tag as string[] | undefined,
      target: flags.target as string | undefined,
      q: quiet || undefined,
      nocache: flags['no-cache'] ? true : undefined,
      pull: flags.pull ? true : undefined,
      forcerm: flags['force-rm'] ? true : undefined,
      networkmode: flags.network as string | undefined,
      platform: flags.platform as string | undefined,
      extrahosts: hosts.length ? hosts : undefined,
      buildargs: flags['build-arg'] ? JSON.stringify(buildArgs(flags['build-arg'] as string[])) : undefined,
      labels: flags.label ? JSON.stringify(labels(flags.label as string[])) : undefined,
      cachefrom: flags['cache-from'] ? JSON.stringify((flags['cache-from'] as string[]).flatMap((c) => c.split(','))) : undefined,
      version: '1',
      ...resourceQuery(flags),
    },
    body: body ?? Buffer.alloc(0),
    headers,
  });
  const tty = progress === 'tty' || (progress === 'auto' && !!process.stdout.isTTY);
  if (body && !quiet) process.stdout.write(`Sending build context to berthd  ${formatBytes(sent)}\n`);
  const outcome = await showBuild(res, process.stdout, tty && !quiet);
  if (outcome.error) {
    process.stderr.write(`${outcome.error.message}\n`);
    return outcome.error.code || 1;
  }
  if (!outcome.id) throw new BerthError('system', 'berthd ended the build without an image ID');
  if (iidfile) await writeFile(iidfile, outcome.id);
  return 0;
}
