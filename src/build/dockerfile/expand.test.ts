import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile, parseOnbuildTrigger } from './parse.js';
import { contextOf, expandFrom, expandInstruction } from './expand.js';
import { runShellInput } from './run-heredoc.js';
import { DockerfileError } from './errors.js';
import type { Instruction, RunInstruction } from './types.js';

const vars: Record<string, string> = {
  APP: '/srv/app',
  USR: 'app',
  PORTS: '80 443/udp',
  V: '1.2',
  EMPTY: '',
  STAGE: 'build',
  ID: 'gocache',
};
const lookup = (n: string) => (Object.hasOwn(vars, n) ? vars[n] : undefined);

function expanded(line: string, escapeDirective = '') {
  const df = parseDockerfile(`${escapeDirective}FROM scratch\n${line}`, { file: 'Dockerfile' });
  return expandInstruction(df.stages[0].instructions[0], lookup, contextOf(df));
}
const fields = (i: Instruction) => {
  const { kind: _k, line: _l, endLine: _e, original: _o, ...rest } = i;
  return rest;
};

test('which fields each instruction expands', () => {
  const cases: [string, Record<string, unknown>][] = [
    [
      'ENV A=$APP B="${V} x" C=\'$V\'',
      {
        pairs: [
          { key: 'A', value: '/srv/app' },
          { key: 'B', value: '1.2 x' },
          { key: 'C', value: '$V' },
        ],
      },
    ],
    ['ENV OLD "$APP/bin" too', { pairs: [{ key: 'OLD', value: '/srv/app/bin too' }] }],
    [
      'LABEL "v"=$V x.$USR=y',
      {
        pairs: [
          { key: 'v', value: '1.2' },
          { key: 'x.app', value: 'y' },
        ],
      },
    ],
    ['ARG A=$APP B', { args: [{ name: 'A', default: '/srv/app' }, { name: 'B' }] }],
    // an ARG's name is never expanded
    ['ARG $USR=x', { args: [{ name: '$USR', default: 'x' }] }],
    ['WORKDIR $APP/${V:-0}', { path: '/srv/app/1.2' }],
    ['USER ${USR}:${USR}', { user: 'app:app' }],
    ['STOPSIGNAL ${SIG:-SIGQUIT}', { signal: 'SIGQUIT' }],
    ['VOLUME $APP/data ${EMPTY:-/v}', { paths: ['/srv/app/data', '/v'] }],
    ['VOLUME ["$APP"]', { paths: ['/srv/app'] }],
    // one EXPOSE word may expand to several ports
    ['EXPOSE $PORTS 8080', { ports: ['80', '443/udp', '8080'] }],
    // not expanded by the builder: the shell or the child image does it
    ['RUN echo $APP', { command: { form: 'shell', text: 'echo $APP' }, heredocs: [], mounts: [], mountSpecs: [] }],
    ['CMD ["$APP"]', { command: { form: 'exec', args: ['$APP'] } }],
    ['ENTRYPOINT $APP', { command: { form: 'shell', text: '$APP' } }],
    ['SHELL ["$APP"]', { shell: ['$APP'] }],
    ['ONBUILD COPY $APP /x', { expression: 'COPY $APP /x' }],
  ];
  for (const [line, want] of cases) {
    const got = fields(expanded(line).instruction) as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `${line}: ${k}`);
  }
});

test('COPY and ADD: sources, dest, flags, heredoc bodies unless the delimiter was quoted', () => {
  const copy = expanded("COPY --from=$STAGE --chown=$USR --chmod=${MODE:-644} --exclude=$V* $APP/a 'b' ${APP}/\n").instruction;
  assert.ok(copy.kind === 'COPY');
  assert.deepEqual(
    { from: copy.from, chown: copy.chown, chmod: copy.chmod, exclude: copy.exclude, sources: copy.sources, dest: copy.dest },
    {
      from: 'build',
      chown: 'app',
      chmod: '644',
      exclude: ['1.2*'],
      sources: [
        { kind: 'path', path: '/srv/app/a' },
        { kind: 'path', path: 'b' },
      ],
      dest: '/srv/app/',
    },
  );
  // `"b c"` is two words in the shell form, and expanding `"b` alone fails, as in Docker
  assert.throws(
    () => expanded('COPY "b c" /x'),
    /Dockerfile:2: failed to process "\\"b": unexpected end of statement while looking for matching double-quote/,
  );
  const heredocs = expanded('COPY <<A <<"B" /x/\nhome=$APP "q" \\$V\nA\nkeep $APP\nB').instruction;
  assert.ok(heredocs.kind === 'COPY');
  assert.deepEqual(
    heredocs.sources.map((s) => s.kind === 'heredoc' && s.heredoc.content),
    ['home=/srv/app "q" $V\n', 'keep $APP\n'],
  );
  const add = expanded('ADD --checksum=sha256:${SUM:-abc} https://x/$V.tgz /').instruction;
  assert.ok(add.kind === 'ADD');
  assert.equal(add.checksum, 'sha256:abc');
  assert.deepEqual(add.sources, [{ kind: 'path', path: 'https://x/1.2.tgz' }]);
});

test('RUN --mount values expand, and are checked once expanded', () => {
  const run = expanded('RUN --mount=type=cache,id=$ID,target=$APP/.cache --mount=type=${T:-tmpfs},target=/t,size=${SIZE:-1k} make')
    .instruction as RunInstruction;
  assert.deepEqual(run.mounts, [
    { type: 'cache', target: '/srv/app/.cache', id: 'gocache', sharing: 'shared', readonly: false },
    { type: 'tmpfs', target: '/t', size: 1024 },
  ]);
  assert.throws(() => expanded('RUN --mount=type=cache,target=/c,uid=$USR make'), /Dockerfile:2: invalid value app for uid/);
  assert.throws(() => expanded('VOLUME /a $EMPTY'), { message: 'Dockerfile:2: VOLUME specified can not be an empty string' });
  // `from` may not hold a variable at all, as in Docker
  assert.throws(
    () => expanded('RUN --mount=from=$STAGE,target=/x make'),
    /Dockerfile:2: 'from' doesn't support variable expansion, define alias stage instead/,
  );
});

test('an ARG given by a build arg keeps its default unexpanded and unchecked, as Docker skips it', () => {
  const df = parseDockerfile('FROM scratch\nARG A=${NEED:?required} B=$APP', { file: 'Dockerfile' });
  const arg = df.stages[0].instructions[0];
  assert.throws(() => expandInstruction(arg, lookup, contextOf(df)), {
    message: 'Dockerfile:2: failed to process "${NEED:?required}": NEED: required',
  });
  const r = expandInstruction(arg, lookup, contextOf(df), { argGiven: (n) => n === 'A' });
  assert.deepEqual((r.instruction as { args: unknown }).args, [
    { name: 'A', default: '${NEED:?required}' },
    { name: 'B', default: '/srv/app' },
  ]);
});

test('the variables read are reported, set and unset apart', () => {
  const r = expanded('ENV A=$APP B=${NOPE:-x} C=$APP');
  assert.deepEqual(r.used, ['APP']);
  assert.deepEqual(r.unset, ['NOPE']);
  assert.deepEqual(expanded('RUN echo $APP').used, []);
});

test('the escape directive holds in expansion', () => {
  assert.equal((expanded('WORKDIR c:\\$V`$x', '# escape=`\n').instruction as { path: string }).path, 'c:\\1.2$x');
});

test('expansion faults name the file and the instruction line', () => {
  const df = parseDockerfile('FROM scratch\n\nENV A="${NOPE:?must be given}"', { file: 'build/Dockerfile.dev' });
  assert.throws(
    () => expandInstruction(df.stages[0].instructions[0], lookup, contextOf(df)),
    (err: unknown) =>
      err instanceof DockerfileError &&
      err.line === 3 &&
      err.message === 'build/Dockerfile.dev:3: failed to process "\\"${NOPE:?must be given}\\"": NOPE: must be given',
  );
});

test('FROM: image and platform with the global ARGs; a blank name is refused', () => {
  const df = parseDockerfile('ARG V\nFROM --platform=$BUILDPLATFORM alpine:${V:-3} AS x\nFROM $EMPTY', { file: 'Dockerfile' });
  const ctx = contextOf(df);
  const first = expandFrom(df.stages[0].from, (n) => ({ BUILDPLATFORM: 'linux/amd64', V: '3.20' })[n], ctx);
  assert.equal(first.instruction.image, 'alpine:3.20');
  assert.equal(first.instruction.platform, 'linux/amd64');
  assert.deepEqual(first.used.sort(), ['BUILDPLATFORM', 'V']);
  assert.throws(() => expandFrom(df.stages[1].from, lookup, ctx), { message: 'Dockerfile:3: base name ($EMPTY) should not be blank' });
});

test('a RUN heredoc reaches the shell as BuildKit gives it', () => {
  const run = (text: string) =>
    parseDockerfile('FROM scratch\n' + text, { file: 'Dockerfile' }).stages[0].instructions[0] as RunInstruction;
  const cases: [string, unknown][] = [
    ['RUN echo hi', { kind: 'text', text: 'echo hi' }],
    ['RUN ["echo", "hi"]', undefined],
    // a RUN that is only a heredoc runs its body
    ['RUN <<EOF\necho a\necho b\nEOF', { kind: 'text', text: 'echo a\necho b\n' }],
    ['RUN <<-EOF\n\techo a\n\tEOF', { kind: 'text', text: 'echo a\n' }],
    // with a #! line the body is a file of its own, run by its interpreter
    [
      'RUN <<run.py\n#!/usr/bin/env python3\nprint(1)\nrun.py',
      { kind: 'file', path: '/dev/pipes/run.py', content: '#!/usr/bin/env python3\nprint(1)\n' },
    ],
    // anything else: the line and the bodies as one script, the shell reads the heredocs
    ['RUN python3 <<EOF\nprint(1)\nEOF', { kind: 'text', text: 'python3 <<EOF\nprint(1)\nEOF' }],
    ['RUN cat <<A <<B > f\na\nA\nb\nB', { kind: 'text', text: 'cat <<A <<B > f\na\nA\nb\nB' }],
  ];
  for (const [text, want] of cases) assert.deepEqual(runShellInput(run(text)), want, text);
});

test('ONBUILD triggers of a parent image parse alone', () => {
  const inst = parseOnbuildTrigger('RUN <<EOF\necho hi\nEOF', { file: 'ONBUILD' });
  assert.equal(inst.kind, 'RUN');
  assert.deepEqual((inst as RunInstruction).heredocs, [{ name: 'EOF', expand: true, chomp: false, content: 'echo hi\n' }]);
  assert.equal(parseOnbuildTrigger('COPY . /app', { file: 'ONBUILD' }).kind, 'COPY');
  assert.throws(() => parseOnbuildTrigger('RUN a\nRUN b', { file: 'ONBUILD' }), {
    message: 'ONBUILD: onbuild trigger should be a single expression',
  });
  assert.throws(() => parseOnbuildTrigger('FROM x', { file: 'ONBUILD' }), {
    message: 'ONBUILD: ONBUILD trigger "FROM x": FROM isn\'t allowed as an ONBUILD trigger',
  });
});

test('constructs of real multi-stage Dockerfiles parse and expand as BuildKit reads them', () => {
  const text = [
    '# syntax=docker/dockerfile-upstream:master',
    '',
    'ARG GO_VERSION=1.21',
    'ARG DEBUG',
    'FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS base',
    'ARG DEBUG',
    'ARG GCFLAGS=${DEBUG:+"all=-N -l"}',
    'RUN --mount=from=src,src=/usr/src/x,target=. \\',
    '  --mount=target=/root/.cache,type=cache <<EOT',
    '  set -ex',
    '  go build -gcflags="${GCFLAGS}" ./...',
    'EOT',
    'COPY --link --chmod=755 <<EOF /entrypoint.sh',
    '#!/bin/sh',
    'exec app \\\\',
    '  -l 0.0.0.0:\\${PORT:-5000} -- "\\$@"',
    'EOF',
    'ENV PORT 5000',
    'FROM base as Other',
    'RUN --mount=from=base,src=/go,readwrite --mount=from=bins \\',
    '  make && \\',
    '  mv bin /out',
    'FROM base-$TARGETOS${DEBUG:+-debug} AS final',
  ].join('\n');
  const df = parseDockerfile(text, { file: 'Dockerfile' });
  assert.equal(df.directives.syntax, 'docker/dockerfile-upstream:master');
  assert.deepEqual(
    df.stages.map((s) => [s.name, s.from.line]),
    [
      ['base', 5],
      ['other', 19],
      ['final', 23],
    ],
  );
  const ctx = contextOf(df);
  const [, gc, run, copy] = df.stages[0].instructions;
  const gcflags = expandInstruction(gc, (n) => ({ DEBUG: '1' })[n], ctx).instruction;
  assert.deepEqual((gcflags as { args: unknown }).args, [{ name: 'GCFLAGS', default: 'all=-N -l' }]);
  const noDebug = expandInstruction(gc, () => undefined, ctx).instruction;
  assert.deepEqual((noDebug as { args: unknown }).args, [{ name: 'GCFLAGS', default: '' }]);
  assert.deepEqual(runShellInput(run as RunInstruction), { kind: 'text', text: '  set -ex\n  go build -gcflags="${GCFLAGS}" ./...\n' });
  assert.equal((run as RunInstruction).mounts.length, 2);
  const body = expandInstruction(copy, (n) => ({ PORT: '1' })[n], ctx).instruction;
  assert.ok(body.kind === 'COPY' && body.sources[0].kind === 'heredoc');
  assert.equal(body.sources[0].heredoc.content, '#!/bin/sh\nexec app \\\n  -l 0.0.0.0:${PORT:-5000} -- "$@"\n');
  assert.deepEqual((df.stages[1].instructions[0] as RunInstruction).mounts, [
    { type: 'bind', target: '', source: '/go', from: 'base', readonly: false },
    { type: 'bind', target: '', from: 'bins', readonly: true },
  ]);
  const last = expandFrom(df.stages[2].from, (n) => ({ TARGETOS: 'linux', DEBUG: '1' })[n], ctx);
  assert.equal(last.instruction.image, 'base-linux-debug');
});
