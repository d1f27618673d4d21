// Images through berthd with the real docker CLI (28.x), the berth CLI and dockerode: login
// (success and failure) against a registry with htpasswd auth, push and pull with those
// credentials, save/load round trips, import with --change and --message, tag/rmi (Docker's
// Untagged/Deleted lines, 409 while a container uses the image), history, inspect, list
// filters, image/container/system prune and system df.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { makeRootfs } from './helpers/bundle.js';
import { startFake, startRegistry, type TestRegistry } from './helpers/registry.js';
import { BERTH, DOCKER, startEngine, type EngineFixture } from './engine-fixture.js';

const USER = 'berth';
const PASSWORD = 's3cret-pw';
const noDocker = !existsSync(DOCKER) && 'no docker CLI';

let eng: EngineFixture;
let reg: TestRegistry;
let rootfsTar: string;
before(async () => {
  eng = await startEngine();
  reg = await startRegistry({ auth: { username: USER, password: PASSWORD } });
  const rootfs = join(eng.dir, 'import-rootfs');
  makeRootfs(rootfs);
  rootfsTar = join(eng.dir, 'rootfs.tar');
  execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', rootfsTar, '.']);
});
after(async () => {
  await reg?.stop();
  await eng?.stop();
});

type Result = { status: number | null; stdout: string; stderr: string };

function docker(args: string[], o: { config?: string; input?: string } = {}): Result {
  return eng.docker(args, o);
}

function berth(args: string[], o: { config?: string; input?: string } = {}): Result {
  const config = o.config ?? join(eng.dir, 'berth-config');
  const r = spawnSync(BERTH, args, {
    encoding: 'utf8',
    timeout: 60_000,
    input: o.input,
    env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '', BERTH_CONFIG: config, DOCKER_CONFIG: join(eng.dir, 'no-docker-config') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A shell pipeline with berthd as both CLIs' daemon. */
function sh(script: string): Result {
  const r = spawnSync('sh', ['-c', script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      DOCKER_HOST: eng.host,
      BERTH_HOST: eng.host,
      DOCKER_CONFIG: join(eng.dir, 'docker-config'),
      BERTH_CONFIG: join(eng.dir, 'berth-config'),
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The manifest of `repo:tag` as the auth registry serves it, fetched with basic auth. */
async function registryManifest(repo: string, tag: string): Promise<number> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
      accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  await res.body?.cancel();
  return res.status;
}

const json = <T = any>(r: { status: number; body: string }): T => JSON.parse(r.body) as T;

test('docker CLI: login refused then accepted, push needs the credentials, pull back with them', { skip: noDocker }, async () => {
  assert.equal(docker(['pull', 'busybox']).status, 0);
  const target = `${reg.host}/team/bb:1`;
  assert.equal(docker(['tag', 'busybox', target]).status, 0);

  const anon = docker(['push', target]);
  assert.notEqual(anon.status, 0, 'push without login must fail');
  assert.match(anon.stderr + anon.stdout, /unauthorized|authentication required/i);

  const bad = docker(['login', '-u', USER, '--password-stdin', reg.host], { input: 'wrong\n' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, new RegExp(`login attempt to http://${reg.host}/v2/ failed with status: 401 Unauthorized`));

  const ok = docker(['login', '-u', USER, '--password-stdin', reg.host], { input: `${PASSWORD}\n` });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /Login Succeeded/);
  const cfg = JSON.parse(readFileSync(join(eng.dir, 'docker-config', 'config.json'), 'utf8'));
  assert.equal(Buffer.from(cfg.auths[reg.host].auth, 'base64').toString(), `${USER}:${PASSWORD}`);

  const p = docker(['push', target]);
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, new RegExp(`The push refers to repository \\[${reg.host}/team/bb\\]`));
  assert.match(p.stdout, /[0-9a-f]{12}: Pushed/);
  assert.match(p.stdout, /1: digest: sha256:[0-9a-f]{64} size: \d+/);
  assert.equal(await registryManifest('team/bb', '1'), 200);

  // Again: every layer is there already.
  const again = docker(['push', target]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /Layer already exists/);

  const rmi = docker(['rmi', target]);
  assert.equal(rmi.status, 0, rmi.stderr);
  assert.match(rmi.stdout, new RegExp(`Untagged: ${target}`));
  const back = docker(['pull', target]);
  assert.equal(back.status, 0, back.stderr);
  assert.match(back.stdout, /Digest: sha256:[0-9a-f]{64}/);
  const insp = docker(['image', 'inspect', '--format', '{{json .RepoTags}} {{len .RepoDigests}}', target]);
  assert.match(insp.stdout, new RegExp(`"${target}"`));

  const out = docker(['logout', reg.host]);
  assert.equal(out.status, 0, out.stderr);
  assert.equal(docker(['rmi', target]).status, 0);
  const denied = docker(['pull', target]);
  assert.notEqual(denied.status, 0);
});

test('berth CLI: login stores docker-format auths in BERTH_CONFIG; push and pull send them; logout', async () => {
  assert.equal(berth(['pull', 'busybox']).status, 0);
  const config = join(eng.dir, 'berth-config');
  const bad = berth(['login', '-u', USER, '-p', 'nope', reg.host]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /401 Unauthorized/);
  assert.equal(existsSync(join(config, 'config.json')), false, 'a refused login stores nothing');

  const ok = berth(['login', '-u', USER, '--password-stdin', reg.host], { input: `${PASSWORD}\n` });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, 'Login Succeeded\n');
  const file = join(config, 'config.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const cfg = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(Buffer.from(cfg.auths[reg.host].auth, 'base64').toString(), `${USER}:${PASSWORD}`);

  const target = `${reg.host}/berth/bb:2`;
  assert.equal(berth(['tag', 'busybox', target]).status, 0);
  const p = berth(['push', target]);
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /2: digest: sha256:[0-9a-f]{64} size: \d+/);
  // The layers came from team/bb of the same registry (the docker test pushed them there).
  if (!noDocker) assert.match(p.stdout, /Mounted from team\/bb/);
  assert.equal(await registryManifest('berth/bb', '2'), 200);
  assert.match(berth(['rmi', target]).stdout, new RegExp(`Untagged: ${target}`));
  const back = berth(['pull', target]);
  assert.equal(back.status, 0, back.stderr);

  const out = berth(['logout', reg.host]);
  assert.equal(out.stdout, `Removing login credentials for ${reg.host}\n`);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).auths, {});
  const denied = berth(['push', target]);
  assert.notEqual(denied.status, 0);
  assert.match(denied.stderr, /unauthorized|authentication required/i);
  assert.equal(berth(['rmi', target]).status, 0);
});

test('save and load: docker -o/-i, docker save | berth load, berth save | docker load', { skip: noDocker }, () => {
  assert.equal(docker(['pull', 'busybox']).status, 0);
  assert.equal(docker(['tag', 'busybox', 'saved:one']).status, 0);
  const id = docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox']).stdout.trim();
  const file = join(eng.dir, 'saved.tar');
  const s = docker(['save', '-o', file, 'saved:one', 'busybox']);
  assert.equal(s.status, 0, s.stderr);
  const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' });
  assert.match(listing, /^manifest\.json$/m);
  assert.match(listing, /^index\.json$/m);
  assert.equal(docker(['rmi', 'saved:one']).status, 0);
  const l = docker(['load', '-i', file]);
  assert.equal(l.status, 0, l.stderr);
  assert.match(l.stdout, /Loaded image: saved:one/);
  assert.match(l.stdout, /Loaded image: busybox:latest/);
  assert.equal(docker(['image', 'inspect', '-f', '{{.Id}}', 'saved:one']).stdout.trim(), id);

  assert.equal(docker(['rmi', 'saved:one']).status, 0);
  const piped = sh(`${DOCKER} tag busybox saved:one && ${DOCKER} save saved:one | ${BERTH} load`);
  assert.equal(piped.status, 0, piped.stderr);
  assert.match(piped.stdout, /Loaded image: saved:one/);

  assert.equal(docker(['rmi', 'saved:one']).status, 0);
  assert.equal(berth(['tag', 'busybox', 'saved:two']).status, 0);
  const back = sh(`${BERTH} save saved:two | ${DOCKER} load && ${BERTH} rmi saved:two`);
  assert.equal(back.status, 0, back.stderr);
  assert.match(back.stdout, /Loaded image: saved:two/);
  assert.match(back.stdout, /Untagged: saved:two/);

  const refused = docker(['save', 'no-such:image']);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /No such image: no-such:image/);
  const junk = sh(`echo not a tar | ${BERTH} load`);
  assert.notEqual(junk.status, 0);
});

test(
  'import with --change and --message; history; the container runs; unnamed imports are dangling and prune takes them',
  { skip: noDocker },
  () => {
    const i = docker([
      'import',
      '-c',
      'CMD ["/bin/echo", "imported"]',
      '-c',
      'ENV GREETING=hi',
      '-c',
      'LABEL berth.test=import',
      '-m',
      'from the test',
      rootfsTar,
      'imp:1',
    ]);
    assert.equal(i.status, 0, i.stderr);
    assert.match(i.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const run = docker(['run', '--rm', 'imp:1']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'imported\n');
    const env = docker(['run', '--rm', 'imp:1', 'sh', '-c', 'echo $GREETING']);
    assert.equal(env.stdout, 'hi\n');
    const h = docker(['history', '--no-trunc', '--format', '{{.ID}}|{{.Comment}}', 'imp:1']);
    assert.equal(h.status, 0, h.stderr);
    assert.equal(h.stdout.trim(), `${i.stdout.trim()}|from the test`);
    const labelled = docker(['images', '-q', '--filter', 'label=berth.test=import']);
    assert.equal(labelled.stdout.trim(), i.stdout.trim().slice(7, 19));

    const bi = sh(`${BERTH} import -m piped - < ${rootfsTar}`);
    assert.equal(bi.status, 0, bi.stderr);
    const dangling = bi.stdout.trim();
    assert.match(dangling, /^sha256:[0-9a-f]{64}$/);
    assert.equal(docker(['images', '-q', '--filter', 'dangling=true']).stdout.trim(), dangling.slice(7, 19));
    const bh = berth(['history', dangling.slice(7, 19)]);
    assert.match(bh.stdout.split('\n')[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(bh.stdout.split('\n')[1], /piped$/);

    const pr = docker(['image', 'prune', '-f']);
    assert.equal(pr.status, 0, pr.stderr);
    assert.match(pr.stdout, new RegExp(`deleted: ${dangling}`));
    assert.match(pr.stdout, /Total reclaimed space: [\d.]+[kM]?B/);
    assert.equal(docker(['images', '-q', '--filter', 'dangling=true']).stdout.trim(), '');
    assert.equal(docker(['rmi', 'imp:1']).status, 0);

    const url = docker(['import', 'http://127.0.0.1:1/rootfs.tar', 'nope:1']);
    assert.notEqual(url.status, 0);
  },
);

test(
  'tag and rmi: Untagged/Deleted, 409 while a container uses the only name, running and stopped users as Docker',
  { skip: noDocker },
  async () => {
    assert.equal(docker(['import', '-c', 'CMD ["sleep", "60"]', rootfsTar, 'only:1']).status, 0);
    const id = docker(['image', 'inspect', '-f', '{{.Id}}', 'only:1']).stdout.trim();
    const short = id.slice(7, 19);
    assert.equal(docker(['tag', 'only:1', 'only:2']).status, 0);
    assert.equal(docker(['rmi', 'only:2']).stdout, 'Untagged: only:2\n');

    // A running container: the only name needs force, and the image itself never goes.
    const c = docker(['run', '-d', 'only:1']);
    assert.equal(c.status, 0, c.stderr);
    const cid = c.stdout.trim();
    try {
      const refused = docker(['rmi', 'only:1']);
      assert.notEqual(refused.status, 0);
      assert.match(
        refused.stderr,
        new RegExp(
          `conflict: unable to remove repository reference "only:1" \\(must force\\) - container ${cid.slice(0, 12)} is using its referenced image ${short}`,
        ),
      );
      assert.equal((await eng.api('DELETE', '/images/only:1')).status, 409);
      const forced = docker(['rmi', '-f', 'only:1']);
      assert.equal(forced.status, 0, forced.stderr);
      assert.equal(forced.stdout, 'Untagged: only:1\n');
      assert.equal(docker(['images', '-q', '-f', 'dangling=true']).stdout.trim(), short);
      const byId = docker(['rmi', '-f', short]);
      assert.notEqual(byId.status, 0);
      assert.match(
        byId.stderr,
        new RegExp(`unable to delete ${short} \\(cannot be forced\\) - image is being used by running container ${cid.slice(0, 12)}`),
      );
    } finally {
      docker(['rm', '-f', cid]);
    }
    const gone = docker(['rmi', short]);
    assert.equal(gone.status, 0, gone.stderr);
    assert.match(gone.stdout, new RegExp(`^Deleted: ${id}$`, 'm'));
    assert.equal((await eng.api('GET', `/images/${id}/json`)).status, 404);

    // A stopped container: by ID it must be forced; forced, the image goes (the container stays).
    assert.equal(docker(['import', rootfsTar, 'only:3']).status, 0);
    const id3 = docker(['image', 'inspect', '-f', '{{.Id}}', 'only:3']).stdout.trim();
    const c3 = docker(['create', 'only:3', 'true']).stdout.trim();
    try {
      const stopped = docker(['rmi', id3.slice(7, 19)]);
      assert.match(
        stopped.stderr,
        new RegExp(
          `unable to delete ${id3.slice(7, 19)} \\(must be forced\\) - image is being used by stopped container ${c3.slice(0, 12)}`,
        ),
      );
      const forced = docker(['rmi', '-f', 'only:3']);
      assert.equal(forced.status, 0, forced.stderr);
      assert.match(forced.stdout, new RegExp(`^Untagged: only:3\nDeleted: ${id3}\n`));
    } finally {
      docker(['rm', '-f', c3]);
    }
  },
);

test('inspect, history and list filters through the API', async () => {
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
  const img = json(await eng.api('GET', '/images/busybox/json'));
  assert.deepEqual(img.RepoTags, ['busybox:latest']);
  assert.match(img.RepoDigests[0], /^busybox@sha256:[0-9a-f]{64}$/);
  assert.equal(img.Os, 'linux');
  assert.ok(img.Architecture);
  assert.ok(img.Size > 0);
  assert.equal(img.RootFS.Type, 'layers');
  assert.ok(img.RootFS.Layers.length >= 1);
  assert.deepEqual(img.Config.Cmd, ['/bin/sh']);
  const hist = json<any[]>(await eng.api('GET', '/images/busybox/history'));
  assert.equal(hist[0].Id, img.Id);
  assert.deepEqual(hist[0].Tags, ['busybox:latest']);
  assert.equal(typeof hist[0].Created, 'number');

  assert.equal((await eng.api('POST', '/images/busybox/tag?repo=filters/a&tag=x')).status, 201);
  assert.equal((await eng.api('POST', '/images/no-such/tag?repo=a&tag=b')).status, 404);
  assert.equal((await eng.api('POST', '/images/busybox/tag?repo=Bad_Name&tag=x')).status, 400);
  const q = (f: object) => eng.api('GET', `/images/json?filters=${encodeURIComponent(JSON.stringify(f))}`);
  const byRef = json<any[]>(await q({ reference: ['filters/*'] }));
  assert.deepEqual(
    byRef
      .map((i) => i.RepoTags)
      .flat()
      .filter((t: string) => t.startsWith('filters/')),
    ['filters/a:x'],
  );
  assert.equal(json<any[]>(await q({ reference: ['nothing*'] })).length, 0);
  assert.ok(json<any[]>(await q({ dangling: ['false'] })).some((i) => i.Id === img.Id));
  assert.equal((await q({ bogus: ['1'] })).status, 400);
  assert.equal((await eng.api('DELETE', '/images/filters/a:x')).status, 200);
});

test('API: push without a tag sends every tag of the repository; /images/{name}/get; refusals before any stream', async () => {
  assert.equal((await eng.api('POST', '/images/create?fromImage=busybox&tag=latest')).status, 200);
  const repo = `${eng.registry.host}/all/bb`;
  for (const t of ['a', 'b']) assert.equal((await eng.api('POST', `/images/busybox/tag?repo=${repo}&tag=${t}`)).status, 201);
  const p = await eng.api('POST', `/images/${repo}/push`);
  assert.equal(p.status, 200);
  const aux = p.body
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((m) => m.aux)
    .map((m) => m.aux.Tag);
  assert.deepEqual(aux, ['a', 'b']);
  assert.equal((await eng.api('POST', `/images/${eng.registry.host}/none/x/push?tag=1`)).status, 404);

  const file = join(eng.dir, 'one.tar');
  const g = spawnSync(
    'curl',
    ['-sf', '--unix-socket', eng.socket, '-o', file, '-w', '%{content_type}', `http://x/v1.50/images/${repo}:a/get`],
    { encoding: 'utf8' },
  );
  assert.equal(g.status, 0, g.stderr);
  assert.equal(g.stdout, 'application/x-tar');
  assert.match(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }), /^oci-layout$/m);
  const missing = await eng.api('GET', '/images/get?names=no-such:1');
  assert.equal(missing.status, 404);
  assert.match(json(missing).message, /No such image: no-such:1/);
  const url = await eng.api('POST', '/images/create?fromSrc=http%3A%2F%2F127.0.0.1%3A1%2Fx.tar&repo=u');
  assert.equal(url.status, 400);
  assert.match(json(url).message, /import from a URL is not supported/);
  for (const t of ['a', 'b']) assert.equal((await eng.api('DELETE', `/images/${repo}:${t}`)).status, 200);
});

test('container prune, system df and system prune -a (docker and berth)', { skip: noDocker }, async () => {
  assert.equal(docker(['pull', 'busybox']).status, 0);
  const w = docker(['run', '--name', 'writer', 'busybox', 'dd', 'if=/dev/zero', 'of=/big', 'bs=1024', 'count=100']);
  assert.equal(w.status, 0, w.stderr);
  const df = json(await eng.api('GET', '/system/df'));
  const writer = df.Containers.find((c: any) => c.Names.includes('/writer'));
  assert.ok(writer.SizeRw >= 102400, `SizeRw ${writer.SizeRw}`);
  // The same figures for one container (inspect --size) and in a listing (ps -s).
  const [rw, rootfs] = docker(['inspect', '--size', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'writer']).stdout.trim().split(' ').map(Number);
  assert.equal(rw, writer.SizeRw);
  assert.equal(rootfs, writer.SizeRootFs);
  assert.ok(rootfs > rw);
  assert.match(docker(['ps', '-a', '-s', '--filter', 'name=writer', '--format', '{{.Size}}']).stdout, /^10\d\.?\d*kB \(virtual /);
  assert.ok(df.LayersSize > 0);
  assert.deepEqual(df.BuildCache, []);
  assert.ok(df.Images.some((i: any) => i.RepoTags.includes('busybox:latest') && i.Containers === 1));
  assert.ok(Array.isArray(df.Volumes));
  const ddf = docker(['system', 'df']);
  assert.equal(ddf.status, 0, ddf.stderr);
  assert.match(ddf.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE/);
  assert.match(ddf.stdout, /^Containers\s+1\s+0\s+102\.4kB/m);
  const bdf = berth(['system', 'df']);
  assert.equal(bdf.status, 0, bdf.stderr);
  assert.equal(bdf.stdout, ddf.stdout);

  const cp = docker(['container', 'prune', '-f']);
  assert.equal(cp.status, 0, cp.stderr);
  assert.match(cp.stdout, new RegExp(`Deleted Containers:\\n${writer.Id}`));
  assert.match(cp.stdout, /Total reclaimed space: 102\.4kB/);

  // docker's system prune also asks for network and build-cache prunes (berthd has neither).
  assert.equal(docker(['import', rootfsTar]).status, 0);
  const dsp = docker(['system', 'prune', '-f']);
  assert.equal(dsp.status, 0, dsp.stderr);
  assert.match(dsp.stdout, /Deleted Images:\ndeleted: sha256:[0-9a-f]{64}/);
  assert.equal(docker(['images', '-q', '-f', 'dangling=true']).stdout, '');

  assert.equal(berth(['tag', 'busybox', 'unused:1']).status, 0);
  const sp = berth(['system', 'prune', '-a', '-f']);
  assert.equal(sp.status, 0, sp.stderr);
  assert.match(sp.stdout, /untagged: unused:1/);
  assert.match(sp.stdout, /deleted: sha256:[0-9a-f]{64}/);
  assert.equal(docker(['images', '-q']).stdout.trim(), '');
});

test('dockerode: checkAuth, push with authconfig, history, listImages filters, pruneImages, df', async () => {
  const d = new Docker({ socketPath: eng.socket });
  const follow = (s: NodeJS.ReadableStream) =>
    new Promise<any[]>((resolve, reject) =>
      d.modem.followProgress(s, (err: Error | null, out: any[]) => (err ? reject(err) : resolve(out))),
    );
  const auth = { username: USER, password: PASSWORD, serveraddress: reg.host };
  const ok = await d.checkAuth(auth);
  assert.equal(ok.Status, 'Login Succeeded');
  await assert.rejects(d.checkAuth({ ...auth, password: 'wrong' }), (e: any) => e.statusCode === 401);

  await follow(await d.pull('busybox'));
  const target = `${reg.host}/node/bb`;
  await d.getImage('busybox').tag({ repo: target, tag: '3' });
  const msgs = await follow(await d.getImage(`${target}:3`).push({ authconfig: auth }));
  const aux = msgs.find((m) => m.aux)?.aux;
  assert.equal(aux.Tag, '3');
  assert.match(aux.Digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(await registryManifest('node/bb', '3'), 200);
  // A failed push ends the 200 stream with an error message, as Docker's.
  const failed = await follow(await d.getImage(`${target}:3`).push({ authconfig: { ...auth, password: 'wrong' } }));
  assert.match(failed.at(-1).error, /unauthorized|authentication required/i);
  assert.equal(failed.at(-1).errorDetail.message, failed.at(-1).error);

  const hist = await d.getImage('busybox').history();
  assert.ok(hist.length >= 1);
  const listed = await d.listImages({ filters: JSON.stringify({ reference: [`${target}:3`] }) });
  assert.equal(listed.length, 1);
  const pruned = await d.pruneImages({ filters: JSON.stringify({ dangling: ['false'] }) });
  assert.ok(pruned.ImagesDeleted!.some((x: any) => x.Untagged === `${target}:3`));
  assert.deepEqual(await d.listImages(), []);
  const df = await d.df();
  assert.deepEqual(df.Images, []);
});

test('image events: pull, tag, push, save, load, import, untag, delete and prune, as Docker names them', async () => {
  const since = (Date.now() / 1000 - 1).toFixed(3);
  const d = new Docker({ socketPath: eng.socket });
  const follow = (s: NodeJS.ReadableStream) =>
    new Promise<any[]>((resolve, reject) =>
      d.modem.followProgress(s, (err: Error | null, out: any[]) => (err ? reject(err) : resolve(out))),
    );
  await follow(await d.pull('busybox'));
  const id = (await d.getImage('busybox').inspect()).Id;
  await d.getImage('busybox').tag({ repo: `${reg.host}/events/bb`, tag: '1' });
  await follow(
    await d.getImage(`${reg.host}/events/bb:1`).push({ authconfig: { username: USER, password: PASSWORD, serveraddress: reg.host } }),
  );
  const tar = await d.getImage(`${reg.host}/events/bb:1`).get();
  const chunks: Buffer[] = [];
  for await (const c of tar) chunks.push(c as Buffer);
  await d.getImage(`${reg.host}/events/bb:1`).remove();
  await follow((await d.loadImage(Buffer.from(Buffer.concat(chunks)) as any)) as any);
  const imported = await follow((await d.importImage(rootfsTar as any)) as any);
  const importedId = imported.at(-1).status;
  await d.pruneImages();
  await d.getImage('busybox').remove({ force: true });

  const r = await eng.api(
    'GET',
    `/events?since=${since}&until=${(Date.now() / 1000 + 0.001).toFixed(3)}&filters=${encodeURIComponent(JSON.stringify({ type: ['image'] }))}`,
  );
  const events = r.body
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const seen = events.map((e) => `${e.Action} ${e.Actor.ID} ${e.Actor.Attributes.name ?? e.Actor.Attributes.reclaimed}`);
  const expect = [
    'pull busybox:latest busybox',
    `tag ${id} ${reg.host}/events/bb:1`,
    `push ${reg.host}/events/bb:1 ${reg.host}/events/bb`,
    `save ${id} ${id}`,
    `untag ${id} ${id}`,
    `load ${id} ${id}`,
    `import ${importedId} ${importedId}`,
    `delete ${importedId} ${importedId}`,
  ];
  let at = 0;
  for (const e of expect) {
    const i = seen.indexOf(e, at);
    assert.ok(i >= 0, `event "${e}" missing or out of order in:\n${seen.join('\n')}`);
    at = i + 1;
  }
  assert.ok(
    seen.some((s) => /^prune {2}\d+$/.test(s)),
    seen.join('\n'),
  );
  // busybox still had the loaded name: removing it only untags.
  assert.equal(seen.at(-1), `untag ${id} ${id}`);
  await d.getImage(`${reg.host}/events/bb:1`).remove();
  assert.ok(events.every((e) => e.Type === 'image' && e.scope === 'local' && typeof e.timeNano === 'number'));
});

test('login through a token server: an identity token comes back, and logs in alone (POST /auth and berth login)', async () => {
  let realm = '';
  const fake = await startFake((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v2/') {
      if (req.headers.authorization === 'Bearer access-1') {
        res.writeHead(200);
        res.end('{}');
        return;
      }
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="fake"` });
      res.end();
      return;
    }
    if (url.pathname === '/token' && req.method === 'GET') {
      const ok = req.headers.authorization === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
      if (!ok) {
        res.writeHead(401);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ token: 'access-1', ...(url.searchParams.get('offline_token') === 'true' ? { refresh_token: 'refresh-1' } : {}) }),
      );
      return;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(body.toString());
      if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== 'refresh-1' || form.get('service') !== 'fake') {
        res.writeHead(401);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'access-1' }));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  realm = `${fake.url}/token`;
  try {
    const ok = await eng.api('POST', '/auth', { username: USER, password: PASSWORD, serveraddress: fake.host });
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(json(ok), { Status: 'Login Succeeded', IdentityToken: 'refresh-1' });
    const byToken = await eng.api('POST', '/auth', { identitytoken: 'refresh-1', serveraddress: fake.host });
    assert.equal(byToken.status, 200, byToken.body);
    const bad = await eng.api('POST', '/auth', { identitytoken: 'stale', serveraddress: fake.host });
    assert.equal(bad.status, 401);
    assert.match(json(bad).message, /token server refused/);
    const wrong = await eng.api('POST', '/auth', { username: USER, password: 'nope', serveraddress: fake.host });
    assert.equal(wrong.status, 401);

    const config = join(eng.dir, 'berth-config-token');
    // Not spawnSync: the fake token server answers from this process.
    const child = spawn(BERTH, ['login', '-u', USER, '--password-stdin', fake.host], {
      env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '', BERTH_CONFIG: config },
    });
    child.stdin.end(PASSWORD);
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
    const entry = JSON.parse(readFileSync(join(config, 'config.json'), 'utf8')).auths[fake.host];
    assert.equal(entry.identitytoken, 'refresh-1');
    assert.ok(!Buffer.from(entry.auth, 'base64').toString().includes(PASSWORD), 'the password is not kept once a token stands for it');
  } finally {
    await fake.stop();
  }
});

test(
  "Debian's docker 20.10 client (API 1.41): login, push, pull, images, history, save | load, system df, image prune",
  { skip: !existsSync('/usr/bin/docker') && 'no docker 20.10' },
  () => {
    const config = join(eng.dir, 'docker20-config');
    mkdirSync(config, { recursive: true });
    const d20 = (args: string[], input?: string) => {
      const r = spawnSync('/usr/bin/docker', args, {
        encoding: 'utf8',
        timeout: 60_000,
        input,
        env: { ...process.env, DOCKER_HOST: eng.host, DOCKER_CONFIG: config },
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    assert.equal(d20(['pull', 'busybox']).status, 0);
    const login = d20(['login', '-u', USER, '--password-stdin', reg.host], PASSWORD);
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    const target = `${reg.host}/old/bb:20`;
    assert.equal(d20(['tag', 'busybox', target]).status, 0);
    const push = d20(['push', target]);
    assert.equal(push.status, 0, push.stderr);
    assert.match(push.stdout, /20: digest: sha256:[0-9a-f]{64} size: \d+/);
    assert.equal(d20(['rmi', target]).status, 0);
    const pull = d20(['pull', target]);
    assert.equal(pull.status, 0, pull.stderr);
    const images = d20(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.match(images.stdout, new RegExp(`^${target}$`, 'm'));
    const hist = d20(['history', '-q', target]);
    assert.match(hist.stdout, /^[0-9a-f]{12}$/m);
    const rt = spawnSync('sh', ['-c', `/usr/bin/docker save ${target} | /usr/bin/docker load`], {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: eng.host, DOCKER_CONFIG: config },
    });
    assert.equal(rt.status, 0, rt.stderr);
    assert.match(rt.stdout, new RegExp(`Loaded image: ${target}`));
    const df = d20(['system', 'df']);
    assert.equal(df.status, 0, df.stderr);
    assert.match(df.stdout, /^Images\s+\d+/m);
    assert.equal(d20(['rmi', target, 'busybox']).status, 0);
    assert.equal(d20(['image', 'prune', '-af']).status, 0);
    assert.equal(d20(['images', '-q']).stdout.trim(), '');
  },
);

test("the image routes' platform, manifests and platforms parameters are applied or refused as dockerd 28 reads them", async () => {
  eng.dockerOk(['pull', 'busybox']);
  const img = JSON.parse((await eng.api('GET', '/images/busybox/json')).body) as { Os: string; Architecture: string };
  assert.ok(img.Os && img.Architecture, JSON.stringify(img));
  const own = encodeURIComponent(JSON.stringify({ os: img.Os, architecture: img.Architecture }));
  const other = encodeURIComponent(JSON.stringify({ os: 'linux', architecture: img.Architecture === 'arm64' ? 'riscv64' : 'arm64' }));
  for (const [path, since] of [
    ['/images/busybox/history', 'v1.48'],
    ['/images/busybox/get', 'v1.48'],
    ['/images/get?names=busybox&x=1', 'v1.48'],
    ['/images/busybox/json', 'v1.49'],
  ]) {
    const q = path.includes('?') ? '&' : '?';
    const hit = await eng.api('GET', `/${since}${path}${q}platform=${own}`);
    assert.equal(hit.status, 200, `${path} own platform: ${hit.body.slice(0, 300)}`);
    const miss = await eng.api('GET', `/${since}${path}${q}platform=${other}`);
    assert.equal(miss.status, 404, `${path} another platform: ${miss.body}`);
    assert.match(JSON.parse(miss.body).message, /was found but does not match the specified platform: wanted linux\/(arm64|riscv64)/);
    // Before the parameter's API version dockerd reads none, nor does berthd.
    assert.equal((await eng.api('GET', `/v1.41${path}${q}platform=${other}`)).status, 200, `${path} at 1.41`);
    const bad = await eng.api('GET', `/${since}${path}${q}platform=${encodeURIComponent('{"os":"linux"}')}`);
    assert.equal(bad.status, 400, bad.body);
    assert.equal(JSON.parse(bad.body).message, 'both OS and architecture must be provided');
  }
  const garbled = await eng.api('GET', `/v1.48/images/busybox/history?platform=linux%2Farm64`);
  assert.equal(garbled.status, 400);
  assert.match(JSON.parse(garbled.body).message, /^failed to parse platform: /);
  // manifests: berth keeps one platform per image and no manifest list to show.
  for (const path of ['/v1.47/images/json?manifests=1', '/v1.48/images/busybox/json?manifests=true']) {
    const r = await eng.api('GET', path);
    assert.ok(r.status >= 400 && r.status < 600, `${path}: ${r.status}`);
    assert.match(JSON.parse(r.body).message, /manifests is not supported by berthd/);
  }
  assert.equal((await eng.api('GET', '/v1.46/images/json?manifests=1')).status, 200);
  // DELETE with platforms is refused and removes nothing; load with a platform is refused.
  const del = await eng.api('DELETE', `/v1.50/images/busybox?platforms=${own}`);
  assert.match(JSON.parse(del.body).message, /platforms is not supported by berthd/);
  assert.equal((await eng.api('GET', '/images/busybox/json')).status, 200);
  const load = await eng.api('POST', `/v1.48/images/load?platform=${own}`);
  assert.match(JSON.parse(load.body).message, /platform is not supported by berthd's load/);
  // The docker 28 CLI and the berth CLI pass --platform as that JSON.
  const mine = `${img.Os}/${img.Architecture}`;
  for (const cli of [(a: string[]) => eng.docker(a), berth]) {
    assert.equal(cli(['history', '--platform', mine, 'busybox']).status, 0);
    const h = cli(['history', '--platform', 'linux/s390x', 'busybox']);
    assert.notEqual(h.status, 0);
    assert.match(h.stderr, /does not match the specified platform: wanted linux\/s390x/);
    assert.equal(cli(['image', 'inspect', '--platform', mine, '-f', '{{.Os}}', 'busybox']).stdout.trim(), img.Os);
    assert.notEqual(cli(['save', '--platform', 'linux/s390x', '-o', join(eng.dir, 'p.tar'), 'busybox']).status, 0);
  }
  // A network found in another scope than asked is dockerd's 404; verbose changes nothing for a local one.
  assert.equal((await eng.api('GET', '/networks/bridge?scope=swarm')).status, 404);
  const local = await eng.api('GET', '/networks/bridge?scope=local&verbose=true');
  assert.equal(local.status, 200, local.body);
  assert.equal(JSON.parse(local.body).Name, 'bridge');
});
