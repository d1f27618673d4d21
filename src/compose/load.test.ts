import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadProject, normalizeProjectName, type ProjectOptions } from './project.js';
import { substitute } from './interpolate.js';
import { parseDotenv } from './dotenv.js';

/** A temporary project directory with `files`, removed after `fn`. */
async function withDir<T>(files: Record<string, string>, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-compose-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function load(dir: string, opts: Partial<ProjectOptions> = {}, warnings: string[] = []) {
  return loadProject({ cwd: dir, env: {}, warn: (m) => warnings.push(m), ...opts });
}

/** Each broken file and the one error it gets: file, line, column, key path and what was expected. */
const BROKEN: [string, string, string][] = [
  ['a wrong type', 'services:\n  web:\n    image: 3\n', 'compose.yaml:3:12: services.web.image: expected a string, got an integer'],
  [
    'an unknown key',
    'services:\n  web:\n    image: busybox\n    imgae: x\n',
    'compose.yaml:4:5: services.web.imgae: unknown key "imgae" in service web',
  ],
  ['an unknown top-level key', 'servces:\n  web: {}\n', 'compose.yaml:1:1: servces: unknown key "servces"'],
  [
    'a missing image',
    'services:\n  web:\n    command: ["true"]\n',
    'compose.yaml:2:3: services.web: service "web" has neither an image nor a build context specified',
  ],
  [
    'a cycle in depends_on',
    'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n',
    'compose.yaml:4:17: services.a.depends_on: dependency cycle detected: a -> b -> a',
  ],
  [
    'an undefined dependency',
    'services:\n  a:\n    image: x\n    depends_on:\n      db: {condition: service_healthy}\n',
    'compose.yaml:5:7: services.a.depends_on: service "a" depends on undefined service "db"',
  ],
  [
    'a condition not allowed',
    'services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: healthy}\n  b:\n    image: x\n',
    'compose.yaml:5:22: services.a.depends_on.b.condition: "healthy" is not allowed: expected "service_started", "service_healthy" or "service_completed_successfully"',
  ],
  [
    'a list item of the wrong type',
    'services:\n  a:\n    image: x\n    environment: [1]\n',
    'compose.yaml:4:19: services.a.environment[0]: expected a string, got an integer',
  ],
  [
    'a mapping where a list is wanted',
    'services:\n  a:\n    image: x\n    cap_add: {NET_ADMIN: true}\n',
    'compose.yaml:4:14: services.a.cap_add: expected a list, got a mapping',
  ],
  [
    'a bad port',
    'services:\n  a:\n    image: x\n    ports: ["80:http"]\n',
    'compose.yaml:4:13: services.a.ports[0]: invalid port "http": expected a number or a range N-M',
  ],
  [
    'an undefined volume',
    'services:\n  a:\n    image: x\n    volumes: ["data:/data"]\n',
    'compose.yaml:4:15: services.a.volumes[0]: service "a" refers to undefined volume "data"',
  ],
  [
    'an undefined network',
    'services:\n  a:\n    image: x\n    networks: [front]\n',
    'compose.yaml:4:15: services.a.networks: service "a" refers to undefined network "front"',
  ],
  [
    'network_mode of an undefined service',
    'services:\n  a:\n    image: x\n    network_mode: "service:b"\n',
    'compose.yaml:4:19: services.a.network_mode: service "a" refers to undefined service "b"',
  ],
  [
    'top-level models',
    'services:\n  a:\n    image: x\nmodels:\n  llm: {model: ai/smollm2}\n',
    'compose.yaml:4:1: models: "models": berth compose cannot run AI models (Docker Model Runner)',
  ],
  [
    'an env_file format',
    'services:\n  a:\n    image: x\n    env_file: [{path: a.env, format: raw}]\n',
    'compose.yaml:4:38: services.a.env_file[0].format: env file format "raw": berth compose reads the dotenv format only',
  ],
  [
    'a required variable',
    'services:\n  a:\n    image: ${IMAGE:?set IMAGE to the image}\n',
    'compose.yaml:3:12: services.a.image: required variable IMAGE is missing a value: set IMAGE to the image',
  ],
  [
    'a bad substitution',
    'services:\n  a:\n    image: "${IMAGE"\n',
    'compose.yaml:3:12: services.a.image: invalid interpolation format in "${IMAGE": write a literal $ as $$, a variable as $VAR or ${VAR}',
  ],
  [
    'YAML that does not parse',
    'services:\n  a: [\n',
    'compose.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ],
  ['a duplicate key', 'services:\n  a:\n    image: x\n    image: y\n', 'compose.yaml:4:5: Map keys must be unique'],
  ['a bad project name', 'name: My-App\nservices: {}\n', 'compose.yaml:1:7: name: "My-App" does not match ^[a-z0-9][a-z0-9_-]*$'],
  [
    'an extends cycle',
    'services:\n  a:\n    image: x\n    extends: b\n  b:\n    extends: a\n',
    'compose.yaml:4:14: services.a.extends: extends cycle: a -> b -> a',
  ],
  [
    'an extends of nothing',
    'services:\n  a:\n    image: x\n    extends: {service: nope}\n',
    'compose.yaml:4:14: services.a.extends: cannot extend service "nope": no such service in DIR/compose.yaml',
  ],
  [
    'scale and replicas that differ',
    'services:\n  a:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n',
    'compose.yaml:4:12: services.a.scale: "scale" (2) and "deploy.replicas" (3) differ: give one',
  ],
];

for (const [what, text, error] of BROKEN) {
  test(`a broken file gets one error naming file, line and key: ${what}`, async () => {
    await withDir({ 'compose.yaml': text }, async (dir) => {
      await assert.rejects(load(dir), (e: Error) => {
        assert.equal(e.message.replaceAll(dir, 'DIR').split('\n')[0], `DIR/${error}`.replace('DIR/DIR', 'DIR'));
        return true;
      });
    });
  });
}

test('substitution: ${VAR}, :- and -, :? and ?, :+ and +, $VAR, $$, nested defaults', () => {
  const env: Record<string, string> = { SET: 'v', EMPTY: '' };
  const unset: string[] = [];
  const s = (t: string) =>
    substitute(
      t,
      (n) => env[n],
      [],
      (n) => unset.push(n),
    );
  assert.equal(s('${SET}-$SET-$$SET-$${SET}'), 'v-v-$SET-${SET}');
  assert.equal(s('${EMPTY:-d}|${EMPTY-d}|${NONE-d}|${NONE:-${SET}x}'), 'd||d|vx');
  assert.equal(s('${SET:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${NONE+alt}'), 'alt||alt|');
  assert.equal(s('${EMPTY?}'), '');
  assert.throws(() => s('${EMPTY:?no}'), /required variable EMPTY is missing a value: no/);
  assert.throws(() => s('${NONE?}'), /^Error: required variable NONE is missing a value$/);
  assert.throws(() => s('${}'), /invalid interpolation format/);
  assert.throws(() => s('a $ b'), /invalid interpolation format/);
  assert.equal(s('${NONE}'), '');
  assert.deepEqual(unset, ['NONE']);
});

test('.env: export, comments, quotes, escapes, substitution from lines above', () => {
  const env = parseDotenv(
    `# comment\nexport A=1\nB = two words # note\nC='lit $A # kept'\nD="x\\ny $A"\nE=\${A}\${NOPE:-d}\nF="multi\nline"\nG=\n`,
    'f',
  );
  assert.deepEqual(Object.fromEntries(env), { A: '1', B: 'two words', C: 'lit $A # kept', D: 'x\ny 1', E: '1d', F: 'multi\nline', G: '' });
  assert.throws(() => parseDotenv("A='open\n", 'f'), /f:1: A: the ' quote is not closed/);
});

test('values come from the shell over .env, which --env-file replaces; a substituted boolean or number is cast', async () => {
  const files = {
    'compose.yaml':
      'services:\n  a:\n    image: "busybox:${TAG}"\n    init: ${INIT}\n    scale: ${N:-1}\n    environment: [FROM_SHELL, FROM_DOTENV]\n',
    '.env': 'TAG=dotenv\nINIT=true\nFROM_DOTENV=yes\n',
    'other.env': 'TAG=other\nINIT=false\nN=2\n',
  };
  await withDir(files, async (dir) => {
    let p = await load(dir, { env: { TAG: 'shell', FROM_SHELL: 's' } });
    assert.equal(p.services.a.image, 'busybox:shell');
    assert.equal(p.services.a.init, true);
    assert.deepEqual(p.services.a.environment, { FROM_SHELL: 's', FROM_DOTENV: 'yes' });
    p = await load(dir, { envFiles: ['other.env'] });
    assert.equal(p.services.a.image, 'busybox:other');
    assert.equal(p.services.a.init, false);
    assert.equal(p.services.a.scale, 2);
  });
});

test("version: is obsolete, ignored with Compose v2's warning", async () => {
  await withDir({ 'compose.yaml': 'version: "3.8"\nservices:\n  a:\n    image: busybox\n' }, async (dir) => {
    const warnings: string[] = [];
    const p = await load(dir, {}, warnings);
    assert.equal(p.services.a.image, 'busybox');
    assert.deepEqual(warnings, [
      `${join(dir, 'compose.yaml')}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`,
    ]);
  });
});

test('an unset variable warns once and is blank', async () => {
  await withDir({ 'compose.yaml': 'services:\n  a:\n    image: "busybox${T}"\n    command: ["$T"]\n' }, async (dir) => {
    const warnings: string[] = [];
    const p = await load(dir, {}, warnings);
    assert.equal(p.services.a.image, 'busybox');
    assert.deepEqual(warnings, ['The "T" variable is not set. Defaulting to a blank string.']);
  });
});

test('several -f files merge as Compose v2 merges them', async () => {
  const files = {
    'compose.yaml': `services:
  web:
    image: busybox
    command: [sh, -c, "one"]
    environment: {A: "1", B: "1"}
    ports: ["80:80"]
    volumes: ["/a:/data", "/b:/logs"]
    labels: [x=1]
    depends_on: [db]
    logging: {driver: json-file, options: {max-size: 1m}}
  db:
    image: busybox
`,
    'override.yaml': `services:
  web:
    command: two
    environment: [B=2, C=3]
    ports: ["81:81"]
    volumes: ["/c:/data"]
    labels: {y: "2"}
    logging: {options: {max-file: "3"}}
  extra:
    image: busybox
`,
  };
  await withDir(files, async (dir) => {
    const p = await load(dir, { files: ['compose.yaml', 'override.yaml'] });
    const web = p.services.web;
    assert.deepEqual(web.command, ['two']);
    assert.deepEqual(web.environment, { A: '1', B: '2', C: '3' });
    assert.deepEqual(
      web.ports.map((x: any) => x.published),
      ['80', '81'],
    );
    assert.deepEqual(
      web.volumes.map((v: any) => `${v.source}:${v.target}`),
      ['/c:/data', '/b:/logs'],
    );
    assert.deepEqual(web.labels, { x: '1', y: '2' });
    assert.deepEqual(web.logging, { driver: 'json-file', options: { 'max-size': '1m', 'max-file': '3' } });
    assert.deepEqual(Object.keys(p.services), ['db', 'extra', 'web']);
    assert.deepEqual(p.configFiles, [join(dir, 'compose.yaml'), join(dir, 'override.yaml')]);
  });
});

test('the default files: compose.yaml and its override, found from a sub-directory; COMPOSE_FILE instead', async () => {
  const files = {
    'compose.yaml': 'services:\n  a:\n    image: one\n',
    'compose.override.yaml': 'services:\n  a:\n    image: two\n',
    'alt.yaml': 'services:\n  b:\n    image: three\n',
    'sub/x': '',
  };
  await withDir(files, async (dir) => {
    const p = await load(join(dir, 'sub'));
    assert.equal(p.services.a.image, 'two');
    assert.equal(p.workingDir, dir);
    const q = await load(dir, { env: { COMPOSE_FILE: 'alt.yaml:compose.yaml' } });
    assert.deepEqual(Object.keys(q.services), ['a', 'b']);
    assert.equal(q.services.a.image, 'one');
  });
});

test("-f -: the file from standard input, named - in errors; the project directory is the current one, or a later file's", async () => {
  const files = {
    '.env': 'TAG=dotenv\n',
    'common.yaml': 'services:\n  base:\n    image: base\n',
    'sub/over.yaml': 'services:\n  web:\n    command: [over]\n',
  };
  const fromStdin =
    'services:\n  web:\n    image: "busybox:${TAG}"\n    volumes: ["./data:/data"]\n  api:\n    extends: {file: common.yaml, service: base}\n';
  await withDir(files, async (dir) => {
    let reads = 0;
    const stdin = async () => (reads++, fromStdin);
    const p = await load(dir, { files: ['-'], stdin });
    assert.equal(p.workingDir, dir);
    assert.equal(p.name, normalizeProjectName(basename(dir)));
    assert.equal(p.services.web.image, 'busybox:dotenv', "the current directory's .env");
    assert.equal(p.services.web.volumes[0].source, join(dir, 'data'));
    assert.equal(p.services.api.image, 'base', 'extends.file relative to the current directory');
    assert.deepEqual(p.configFiles, ['-', join(dir, 'common.yaml')]);
    assert.equal(reads, 1);
    // A later file's directory is the project's, as Compose v2 takes it.
    const q = await load(dir, { files: ['-', 'sub/over.yaml'], stdin: async () => fromStdin.replace(/  api:[^]*/, '') });
    assert.equal(q.workingDir, join(dir, 'sub'));
    assert.deepEqual(q.services.web.command, ['over']);
    assert.equal(q.services.web.volumes[0].source, join(dir, 'sub/data'));
    assert.deepEqual(q.configFiles, ['-', join(dir, 'sub/over.yaml')]);
    await assert.rejects(load(dir, { files: ['-'], stdin: async () => 'services:\n  web:\n    image: 3\n' }), {
      message: '-:3:12: services.web.image: expected a string, got an integer',
    });
    await assert.rejects(load(dir, { files: ['-'], stdin: async () => 'services:\n  web: [\n' }), (e: Error) =>
      e.message.startsWith('-:3:1: '),
    );
  });
});

test('extends: from the same file and another, own keys over the base, base paths relative to its file', async () => {
  const files = {
    'compose.yaml': `services:
  base:
    image: busybox
    environment: {A: "1"}
  web:
    extends: base
    environment: {B: "2"}
  api:
    extends: {file: common/common.yaml, service: svc}
    command: [own]
`,
    'common/common.yaml': 'services:\n  svc:\n    image: other\n    volumes: ["./data:/data"]\n    command: [base]\n',
  };
  await withDir(files, async (dir) => {
    const p = await load(dir);
    assert.equal(p.services.web.image, 'busybox');
    assert.deepEqual(p.services.web.environment, { A: '1', B: '2' });
    assert.equal(p.services.web.extends, undefined);
    assert.equal(p.services.api.image, 'other');
    assert.deepEqual(p.services.api.command, ['own']);
    assert.equal(p.services.api.volumes[0].source, join(dir, 'common/data'));
  });
});

test('include: another project, its own directory and .env; redefining an included service is an error', async () => {
  const files = {
    'compose.yaml': 'include: [db/compose.yaml]\nservices:\n  web:\n    image: busybox\n    depends_on: [db]\n',
    'db/compose.yaml': 'services:\n  db:\n    image: "db:${DBTAG}"\n    volumes: [./state:/state]\n',
    'db/.env': 'DBTAG=7\n',
  };
  await withDir(files, async (dir) => {
    const p = await load(dir);
    assert.equal(p.services.db.image, 'db:7');
    assert.equal(p.services.db.volumes[0].source, join(dir, 'db/state'));
    assert.ok(p.configFiles.includes(join(dir, 'db/compose.yaml')));
  });
  await withDir({ ...files, 'compose.yaml': 'include: [db/compose.yaml]\nservices:\n  db:\n    image: busybox\n' }, async (dir) => {
    await assert.rejects(load(dir), /compose\.yaml:3:3: services\.db: service "db" is also defined by an included file/);
  });
});

test('x- extensions are allowed anywhere a mapping is; anchors and merge keys resolve', async () => {
  const text = 'x-base: &b\n  image: busybox\nservices:\n  a:\n    <<: *b\n    x-note: hi\n';
  await withDir({ 'compose.yaml': text }, async (dir) => {
    const p = await load(dir);
    assert.equal(p.services.a.image, 'busybox');
  });
});

test('profiles: off unless active (--profile, COMPOSE_PROFILES, "*"), or named on the command line with what they depend on', async () => {
  const text = `services:
  web:
    image: x
  debug:
    image: x
    profiles: [dev]
    depends_on: [tool]
  tool:
    image: x
    profiles: [tools]
`;
  await withDir({ 'compose.yaml': text }, async (dir) => {
    assert.deepEqual(Object.keys((await load(dir)).services), ['web']);
    assert.deepEqual(Object.keys((await load(dir, { profiles: ['tools'] })).services), ['tool', 'web']);
    assert.deepEqual(Object.keys((await load(dir, { env: { COMPOSE_PROFILES: 'dev,tools' } })).services), ['debug', 'tool', 'web']);
    assert.deepEqual(Object.keys((await load(dir, { profiles: ['*'] })).services), ['debug', 'tool', 'web']);
    assert.deepEqual(Object.keys((await load(dir, { services: ['debug'] })).services), ['debug', 'tool', 'web']);
    await assert.rejects(
      load(dir, { profiles: ['dev'] }),
      /services\.debug\.depends_on: service "debug" depends on service "tool", which its profiles \["tools"\] leave out/,
    );
  });
});

test('project name: -p, then COMPOSE_PROJECT_NAME, then name:, then the directory normalized; resources named after it', async () => {
  await withDir(
    { 'My.App_1/compose.yaml': 'services:\n  a:\n    image: x\n    volumes: [data:/d]\nvolumes:\n  data:\n  ext:\n    external: true\n' },
    async (dir) => {
      const sub = join(dir, 'My.App_1');
      assert.equal((await load(sub)).name, 'myapp_1');
      assert.equal((await load(sub, { env: { COMPOSE_PROJECT_NAME: 'env' } })).name, 'env');
      const p = await load(sub, { projectName: 'flag', env: { COMPOSE_PROJECT_NAME: 'env' } });
      assert.equal(p.name, 'flag');
      assert.equal(p.volumes.data.name, 'flag_data');
      assert.equal(p.volumes.ext.name, 'ext');
      assert.equal(p.networks.default.name, 'flag_default');
      await assert.rejects(load(sub, { projectName: 'Bad' }), /invalid project name "Bad" \(-p\): must consist only of lowercase/);
    },
  );
  assert.equal(normalizeProjectName('-_Foo Bar.baz'), 'foobarbaz');
});

test('canonical forms: long ports and volumes, command lists, healthcheck test, ulimits, depends_on mapping', async () => {
  const text = `services:
  a:
    image: x
    command: sh -c 'echo "a b"'
    ports: ["127.0.0.1:8000-8001:80-81/udp", 9000, {target: 53, published: "5353", protocol: udp}]
    volumes: [/host:/c:ro, /anon, {type: tmpfs, target: /t}]
    healthcheck: {test: "curl -f x", interval: 1s}
    ulimits: {nofile: 1024, nproc: {soft: 1, hard: 2}}
    expose: [80, "90"]
    extra_hosts: ["h:1.2.3.4", "v6=::1"]
`;
  await withDir({ 'compose.yaml': text }, async (dir) => {
    const a = (await load(dir)).services.a;
    assert.deepEqual(a.command, ['sh', '-c', 'echo "a b"']);
    assert.deepEqual(a.ports, [
      { mode: 'ingress', target: 80, protocol: 'udp', host_ip: '127.0.0.1', published: '8000' },
      { mode: 'ingress', target: 81, protocol: 'udp', host_ip: '127.0.0.1', published: '8001' },
      { mode: 'ingress', target: 9000, protocol: 'tcp' },
      { mode: 'ingress', target: 53, published: '5353', protocol: 'udp' },
    ]);
    assert.deepEqual(a.volumes, [
      { type: 'bind', source: '/host', target: '/c', read_only: true, bind: { create_host_path: true } },
      { type: 'volume', target: '/anon', volume: {} },
      { type: 'tmpfs', target: '/t' },
    ]);
    assert.deepEqual(a.healthcheck, { test: ['CMD-SHELL', 'curl -f x'], interval: '1s' });
    assert.deepEqual(a.ulimits, { nofile: { soft: 1024, hard: 1024 }, nproc: { soft: 1, hard: 2 } });
    assert.deepEqual(a.expose, ['80', '90']);
    assert.deepEqual(a.extra_hosts, { h: '1.2.3.4', v6: '::1' });
    assert.deepEqual(a.networks, { default: null });
  });
});
