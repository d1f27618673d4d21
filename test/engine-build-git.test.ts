// Builds from a git repository, which berthd clones (the API's `remote`, as `berth build URL`
// sends it): a repository of the test's own served on loopback by `git daemon` (git://) and as
// static files (a "dumb" HTTP server, which takes no shallow fetch), with `#REF:SUBDIR` choosing
// the commit and the context's folder; a subdir that is a symlink out of the checkout and a ref
// that is not there are refused with their reasons, and no context is left behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { BERTH, startEngine, until, type EngineFixture } from './engine-fixture.js';

let eng: EngineFixture;
let work: string;
let daemon: ChildProcess | undefined;
let http: Server | undefined;
let gitUrl: string;
let httpUrl: string;

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' });

before(async () => {
  eng = await startEngine();
  work = mkdtempSync(join(tmpdir(), 'berth-git-'));
  const src = join(work, 'src');
  mkdirSync(join(src, 'app'), { recursive: true });
  git(work, 'init', '-q', '-b', 'main', src);
  writeFileSync(join(src, 'app', 'Dockerfile'), 'FROM busybox\nCOPY hello /hello\nCMD ["cat", "/hello"]\n');
  writeFileSync(join(src, 'app', 'hello'), 'v1\n');
  symlinkSync('/etc', join(src, 'out'));
  git(src, 'add', '.');
  git(src, 'commit', '-q', '-m', 'one');
  git(src, 'tag', 'v1');
  writeFileSync(join(src, 'app', 'hello'), 'from git\n');
  git(src, 'commit', '-q', '-am', 'two');
  const bare = join(work, 'repo.git');
  git(work, 'clone', '-q', '--bare', src, bare);
  git(bare, 'update-server-info'); // the files a dumb HTTP client reads
  const port = 20000 + Math.floor(Math.random() * 20000);
  daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${work}`, '--listen=127.0.0.1', `--port=${port}`, work], {
    stdio: 'ignore',
  });
  gitUrl = `git://127.0.0.1:${port}/repo.git`;
  await until(() => spawnSync('git', ['ls-remote', gitUrl], { stdio: 'ignore' }).status === 0, 10_000);
  http = createServer((req, res) => {
    const file = normalize(join(work, decodeURIComponent(new URL(req.url!, 'http://x').pathname)));
    if (!file.startsWith(bare) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r));
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/repo.git`;
});
after(async () => {
  daemon?.kill();
  http?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  await eng?.stop();
});

/** `berth ARGS`, run while this process goes on serving the HTTP repository. */
function berth(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const c = spawn(BERTH, args, { env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' } });
  let stdout = '',
    stderr = '';
  c.stdout.on('data', (d) => (stdout += d));
  c.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => c.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    c.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}

/** The build contexts under berthd's data root (none once a build has answered). */
const contexts = () => {
  const tmp = join(eng.dir, 'data', 'tmp');
  return existsSync(tmp) ? readdirSync(tmp).filter((n) => n.startsWith('build-context-')) : [];
};

test('berth build of git:// and dumb-HTTP repositories, with #REF:SUBDIR', async () => {
  for (const [remote, tag, want] of [
    [`${gitUrl}#:app`, 'gitctx:head', 'from git'],
    [`${gitUrl}#v1:app`, 'gitctx:v1', 'v1'],
    [`${httpUrl}#main:app`, 'gitctx:http', 'from git'],
  ]) {
    const b = await berth('build', '-q', '-t', tag, remote);
    assert.equal(b.status, 0, `build ${remote}: ${b.stderr}`);
    const r = await berth('run', '--rm', tag);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${want}\n`, remote);
  }
  const out = await berth('build', '-q', `${gitUrl}#main:out`);
  assert.notEqual(out.status, 0);
  assert.match(out.stderr, /error setting git context, "out" not within git root/);
  const missingRef = await berth('build', '-q', `${gitUrl}#nosuch:app`);
  assert.notEqual(missingRef.status, 0);
  assert.match(missingRef.stderr, /error fetching git:\/\/127\.0\.0\.1:\d+\/repo\.git: .*nosuch/);
  assert.deepEqual(contexts(), []);
  assert.equal((await berth('rmi', 'gitctx:head', 'gitctx:v1', 'gitctx:http')).status, 0);
});
