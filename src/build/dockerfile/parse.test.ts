import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './parse.js';
import { DockerfileError } from './errors.js';
import type { Instruction, RunInstruction, CopyInstruction, AddInstruction, HealthcheckInstruction, OnbuildInstruction } from './types.js';

const parse = (text: string) => parseDockerfile(text, { file: 'Dockerfile' });
/** The instructions of the only stage of `FROM scratch` + `body`. */
const body = (text: string): Instruction[] => parse('FROM scratch\n' + text).stages[0].instructions;
const one = <T extends Instruction>(text: string) => body(text)[0] as T;

test('parser directives: syntax and escape read at the top only, once each', () => {
  const cases: [string, { syntax?: string; escape: string; check?: string }][] = [
    ['# syntax=docker/dockerfile:1\nFROM a', { syntax: 'docker/dockerfile:1', escape: '\\' }],
    ['#escape=`\nFROM a', { escape: '`' }],
    ['# ESCAPE = ` \n# Syntax=x\nFROM a', { escape: '`', syntax: 'x' }],
    ['# check=skip=all\nFROM a', { escape: '\\', check: 'skip=all' }],
    // after a blank line, a comment or an instruction, a directive is a comment
    ['\n# escape=`\nFROM a', { escape: '\\' }],
    ['# hello\n# escape=`\nFROM a', { escape: '\\' }],
    ['FROM a\n# escape=`', { escape: '\\' }],
    // an unknown directive ends them too
    ['# foo=bar\n# escape=`\nFROM a', { escape: '\\' }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parse(text).directives, want, text);
});

test('faults name the file and line, in Docker words', () => {
  const cases: [string, number | undefined, string][] = [
    ['FROM a\nRUNN x', 2, 'unknown instruction: RUNN (did you mean RUN?)'],
    ['FROM a\ncopyy x y', 2, 'unknown instruction: COPYY (did you mean copy?)'],
    ['FROM a\nFrobnicate x', 2, 'unknown instruction: FROBNICATE'],
    ['FROM a\nRUN --mount=type=cahce,target=/x y', 2, 'unsupported mount type "cahce" (did you mean cache?)'],
    ['FROM a\nRUN --mount=type=bind,targt=/x y', 2, "unexpected key 'targt' in 'targt=/x' (did you mean target?)"],
    ['FROM a\nRUN --mount=type=bind,bogus=1 y', 2, "unexpected key 'bogus' in 'bogus=1'"],
    ['FROM a\nRUN --mount=type=ssh y', 2, 'RUN --mount=type=ssh is not supported: berth does not forward an SSH agent to builds'],
    ['FROM a\nRUN --mount=type=bind,target=/x,uid=1 y', 2, 'uid not allowed for "bind" type mounts'],
    ['FROM a\nRUN --mount=type=bind,target=/x,sharing=locked y', 2, 'invalid cache sharing set for bind mount'],
    ['FROM a\nRUN --mount=type=cache,target=/x,sharing=maybe y', 2, 'unsupported sharing value "maybe"'],
    ['FROM a\nRUN --mount=type=cache,target=/x,mode=999 y', 2, 'invalid value 999 for mode'],
    ['FROM a\nRUN --mount=type=cache,target=/x,ro=maybe y', 2, 'invalid value for ro: maybe'],
    ['FROM a\nRUN --mount=type=bind,target=/x,required y', 2, "unexpected key 'required' for mount type 'bind'"],
    ['FROM a\nRUN --mount=type=bind,target y', 2, "invalid field 'target' must be a key=value pair"],
    ['FROM a\nRUN --mount=type=secret y', 2, 'invalid secret mount. one of source, target required'],
    ['FROM a\nRUN --mount=type=secret,id=a,src=b y', 2, "both source and id can't be set"],
    ['FROM a\nRUN --mount=type=secret,id=a,from=x y', 2, 'secret mount should not have a from'],
    ['FROM a\nRUN --mount=type=tmpfs,target=/t,size=lots y', 2, "invalid size: 'lots'"],
    ["FROM a\nRUN --mount='type=bind,\"target=/x' y", 2, 'failed to parse csv mounts: extraneous or missing " in quoted-field'],
    ['# escape=x\nFROM a', 1, "invalid escape token 'x' does not match ` or \\"],
    ['# escape=`\n# escape=`\nFROM a', 2, 'only one escape parser directive can be used'],
    ['', undefined, 'file with no instructions'],
    ['# only a comment\n\n', undefined, 'file with no instructions'],
    ['ARG A', undefined, 'dockerfile contains no stages to build'],
    ['RUN x\nFROM a', 1, 'no build stage in current context'],
    ['FROM', 1, 'FROM requires either one or three arguments'],
    ['FROM a b', 1, 'FROM requires either one or three arguments'],
    ['FROM a AS 1x', 1, 'invalid name for build stage: "1x", name can\'t start with a number or contain symbols'],
    ['FROM a AS x\nFROM b AS X', 2, 'duplicate stage name "x"'],
    ['FROM --plat=x a', 1, 'unknown flag: plat'],
    ['FROM --platform a', 1, 'missing a value on flag: platform'],
    ['FROM a\n\n\nRUN', 4, 'RUN requires at least one argument'],
    ['FROM a\nRUN []', 2, 'RUN requires at least one argument'],
    ['FROM a\nRUN [1]', 2, 'when using JSON array syntax, arrays must be comprised of strings only'],
    ['FROM a\nRUN --network=bridge x', 2, 'unsupported network mode "bridge"'],
    [
      'FROM a\nRUN --security=insecure x',
      2,
      'RUN --security=insecure is not supported: berth runs every build step with the default security profile',
    ],
    ['FROM a\nRUN --device=x y', 2, 'unknown flag: device'],
    ['FROM a\nCOPY x', 2, 'COPY requires at least two arguments, but only one was provided. Destination could not be determined.'],
    ['FROM a\nADD x', 2, 'ADD requires at least two arguments, but only one was provided. Destination could not be determined.'],
    ['FROM a\nCOPY --link=maybe a b', 2, 'expecting boolean value for flag link, not: maybe'],
    ['FROM a\nCOPY --link= a b', 2, 'missing a value on flag: link'],
    ['FROM a\nCOPY --from=x --from=y a b', 2, 'duplicate flag specified: from'],
    ['FROM a\nCOPY --checksum=x a b', 2, 'unknown flag: checksum'],
    ['FROM a\nADD --from=x a b', 2, 'unknown flag: from'],
    ['FROM a\nENV', 2, 'ENV requires at least one argument'],
    ['FROM a\nENV x', 2, 'ENV must have two arguments'],
    ['FROM a\nENV a=b c', 2, 'Syntax error - can\'t find = in "c". Must be of the form: name=value'],
    ['FROM a\nENV =b', 2, 'ENV names can not be blank'],
    ['FROM a\nLABEL x', 2, 'LABEL must have two arguments'],
    ['FROM a\nARG', 2, 'ARG requires at least one argument'],
    ['FROM a\nARG =x', 2, 'ARG names can not be blank'],
    ['FROM a\nEXPOSE', 2, 'EXPOSE requires at least one argument'],
    ['FROM a\nVOLUME', 2, 'VOLUME requires at least one argument'],
    ['FROM a\nVOLUME [""]', 2, 'VOLUME specified can not be an empty string'],
    ['FROM a\nWORKDIR', 2, 'WORKDIR requires exactly one argument'],
    ['FROM a\nUSER', 2, 'USER requires exactly one argument'],
    ['FROM a\nSTOPSIGNAL', 2, 'STOPSIGNAL requires exactly one argument'],
    ['FROM a\nSTOPSIGNAL --x=1 TERM', 2, 'unknown flag: x'],
    ['FROM a\nMAINTAINER', 2, 'MAINTAINER requires exactly one argument'],
    ['FROM a\nSHELL', 2, 'SHELL requires at least one argument'],
    ['FROM a\nSHELL []', 2, 'SHELL requires at least one argument'],
    ['FROM a\nSHELL /bin/bash -c', 2, 'SHELL requires the arguments to be in JSON form'],
    ['FROM a\nHEALTHCHECK', 2, 'HEALTHCHECK requires at least one argument'],
    ['FROM a\nHEALTHCHECK NONE x', 2, 'HEALTHCHECK NONE takes no arguments'],
    ['FROM a\nHEALTHCHECK --interval=1s NONE', 2, 'HEALTHCHECK NONE takes no flags (--interval=1s)'],
    ['FROM a\nHEALTHCHECK CMD', 2, 'Missing command after HEALTHCHECK CMD'],
    ['FROM a\nHEALTHCHECK FOO x', 2, 'Unknown type "FOO" in HEALTHCHECK (try CMD)'],
    ['FROM a\nHEALTHCHECK --interval=1us CMD x', 2, 'Interval "interval" cannot be less than 1ms'],
    ['FROM a\nHEALTHCHECK --timeout=-1s CMD x', 2, 'Interval "timeout" cannot be less than 1ms'],
    ['FROM a\nHEALTHCHECK --interval=5 CMD x', 2, 'time: missing unit in duration "5"'],
    ['FROM a\nHEALTHCHECK --interval=5d CMD x', 2, 'time: unknown unit "d" in duration "5d"'],
    ['FROM a\nHEALTHCHECK --retries=-1 CMD x', 2, '--retries cannot be negative (-1)'],
    ['FROM a\nHEALTHCHECK --retries=x CMD x', 2, 'strconv.ParseInt: parsing "x": invalid syntax'],
    ['FROM a\nHEALTHCHECK --bogus=1 CMD x', 2, 'unknown flag: bogus'],
    ['FROM a\nONBUILD', 2, 'ONBUILD requires at least one argument'],
    ['FROM a\nONBUILD ONBUILD RUN x', 2, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"],
    ['FROM a\nONBUILD FROM b', 2, "FROM isn't allowed as an ONBUILD trigger"],
    ['FROM a\nONBUILD maintainer b', 2, "MAINTAINER isn't allowed as an ONBUILD trigger"],
    ['FROM a\nONBUILD RUNN b', 2, 'unknown instruction: RUNN (did you mean RUN?)'],
    ['FROM a\nRUN <<EOF\nline\n', 2, 'unterminated heredoc'],
    ['FROM a\nCOPY a <<EOF\nx\nEOF', 2, 'COPY cannot accept a heredoc as a destination'],
    // lines are counted through heredoc bodies, continuations and their comment lines
    ['FROM a\nRUN <<EOF\nx\nEOF\nRUNN y', 5, 'unknown instruction: RUNN (did you mean RUN?)'],
    ['FROM a\nRUN a \\\n# c\n  b\n\nRUNN', 6, 'unknown instruction: RUNN (did you mean RUN?)'],
    ['# escape=`\nFROM a\nRUN a `\n  b\nRUNN', 5, 'unknown instruction: RUNN (did you mean RUN?)'],
    // the line of a continued instruction is its first
    ['FROM a\nRUN --mount=type=nope \\\n  x', 2, 'unsupported mount type "nope"'],
  ];
  for (const [text, line, reason] of cases) {
    assert.throws(
      () => parse(text),
      (err: unknown) => {
        assert.ok(err instanceof DockerfileError, `${text}: ${err}`);
        assert.equal(err.reason, reason, text);
        assert.equal(err.line, line, text);
        assert.equal(err.kind, 'invalid');
        assert.equal(err.message, line === undefined ? `Dockerfile: ${reason}` : `Dockerfile:${line}: ${reason}`);
        return true;
      },
      text,
    );
  }
});

test('line continuations: escape char, spaces after it, comment and empty lines inside', () => {
  const cases: [string, string, number, number][] = [
    ['RUN a \\\n  b', 'a   b', 2, 3],
    ['RUN a \\  \n  b', 'a   b', 2, 3],
    ['RUN a \\\n# comment\n  b', 'a   b', 2, 4],
    ['RUN a \\\n    # indented comment\n  b', 'a   b', 2, 4],
    ['RUN a \\\n\n  b', 'a   b', 2, 4],
    // an escaped escape at the end does not continue the line
    ['RUN a \\\\\nRUN b', 'a \\\\', 2, 2],
    // a continuation at the end of the file ends the instruction
    ['RUN a \\', 'a', 2, 2],
    ['RUN a\\\nb', 'ab', 2, 3],
    ['RUN a \\\r\n  b\r\n', 'a   b', 2, 3],
  ];
  for (const [text, want, line, endLine] of cases) {
    const run = one<RunInstruction>(text);
    assert.deepEqual(run.command, { form: 'shell', text: want }, text);
    assert.equal(run.line, line, text);
    assert.equal(run.endLine, endLine, text);
  }
  // with the backtick escape, a backslash is an ordinary character
  const df = parse('# escape=`\nFROM a\nRUN dir c:\\ `\n  /b\nRUN x');
  const runs = df.stages[0].instructions as RunInstruction[];
  assert.deepEqual(runs[0].command, { form: 'shell', text: 'dir c:\\   /b' });
  assert.equal(runs.length, 2);
  // an empty continuation line is warned of in dockerd's words
  assert.deepEqual(parse('FROM a\nRUN a \\\n\n  b').warnings, [
    'Empty continuation line found in:\n    RUN a   b',
    'Empty continuation lines will become errors in a future release.',
  ]);
});

test('comments, blank lines, BOM, case of keywords, original text', () => {
  const df = parse('\uFEFF# c\n\n  from  a  AS  Base  \n\trun   echo  "x"  # not a comment\n');
  assert.equal(df.stages[0].name, 'base');
  assert.equal(df.stages[0].from.image, 'a');
  assert.equal(df.stages[0].from.line, 3);
  const run = df.stages[0].instructions[0] as RunInstruction;
  assert.deepEqual(run.command, { form: 'shell', text: 'echo  "x"  # not a comment' });
  assert.equal(run.original, 'run   echo  "x"  # not a comment');
});

test('JSON exec form and shell form', () => {
  const cases: [string, unknown][] = [
    ['CMD ["a", "b c"]', { form: 'exec', args: ['a', 'b c'] }],
    ['CMD []', { form: 'exec', args: [] }],
    ['CMD  ["a"] trailing', { form: 'exec', args: ['a'] }],
    ['CMD [a, b]', { form: 'shell', text: '[a, b]' }],
    ["CMD ['a']", { form: 'shell', text: "['a']" }],
    ['CMD echo "$HOME"', { form: 'shell', text: 'echo "$HOME"' }],
    ['ENTRYPOINT ["/bin/app", "--x"]', { form: 'exec', args: ['/bin/app', '--x'] }],
    ['ENTRYPOINT exec app', { form: 'shell', text: 'exec app' }],
    ['RUN ["sh", "-c", "echo \\"q\\""]', { form: 'exec', args: ['sh', '-c', 'echo "q"'] }],
  ];
  for (const [text, want] of cases) assert.deepEqual((one(text) as { command: unknown }).command, want, text);
  assert.deepEqual(one('SHELL ["/bin/bash", "-eo", "pipefail", "-c"]'), {
    kind: 'SHELL',
    line: 2,
    endLine: 2,
    original: 'SHELL ["/bin/bash", "-eo", "pipefail", "-c"]',
    shell: ['/bin/bash', '-eo', 'pipefail', '-c'],
  });
});

test('FROM: platform, stage names, indexes', () => {
  const df = parse('ARG V=1\nFROM --platform=$BUILDPLATFORM golang:${V} AS build\nFROM build\nFROM scratch as Out');
  assert.deepEqual(
    df.stages.map((s) => [s.index, s.name, s.from.image, s.from.platform]),
    [
      [0, 'build', 'golang:${V}', '$BUILDPLATFORM'],
      [1, undefined, 'build', undefined],
      [2, 'out', 'scratch', undefined],
    ],
  );
  assert.deepEqual(df.globalArgs[0].args, [{ name: 'V', default: '1' }]);
});

test('ENV, LABEL and ARG: both forms, quotes kept for expansion', () => {
  const cases: [string, unknown][] = [
    ['ENV A B C', [{ key: 'A', value: 'B C' }]],
    ['ENV A    "B C"  ', [{ key: 'A', value: '"B C"' }]],
    [
      'ENV A=1 B="x y" C=\'$z\' D=a\\ b',
      [
        { key: 'A', value: '1' },
        { key: 'B', value: '"x y"' },
        { key: 'C', value: "'$z'" },
        { key: 'D', value: 'a\\ b' },
      ],
    ],
    [
      'ENV E= F=""',
      [
        { key: 'E', value: '' },
        { key: 'F', value: '""' },
      ],
    ],
    [
      'LABEL "com.x"="y z" b=c',
      [
        { key: '"com.x"', value: '"y z"' },
        { key: 'b', value: 'c' },
      ],
    ],
  ];
  for (const [text, want] of cases) assert.deepEqual((one(text) as { pairs: unknown }).pairs, want, text);
  assert.deepEqual((one('ARG A B=1 C= D="x y"') as { args: unknown }).args, [
    { name: 'A' },
    { name: 'B', default: '1' },
    { name: 'C', default: '' },
    { name: 'D', default: '"x y"' },
  ]);
});

test('EXPOSE, VOLUME, WORKDIR, USER, STOPSIGNAL, MAINTAINER', () => {
  assert.deepEqual((one('EXPOSE 8080/udp 443 80') as { ports: unknown }).ports, ['443', '80', '8080/udp']);
  assert.deepEqual((one('VOLUME /a /b') as { paths: unknown }).paths, ['/a', '/b']);
  assert.deepEqual((one('VOLUME ["/a b", "/c"]') as { paths: unknown }).paths, ['/a b', '/c']);
  assert.equal((one('WORKDIR /a b') as { path: string }).path, '/a b');
  assert.equal((one('USER app:app') as { user: string }).user, 'app:app');
  assert.equal((one('STOPSIGNAL SIGKILL') as { signal: string }).signal, 'SIGKILL');
  assert.equal((one('MAINTAINER Jo <jo@x>') as { maintainer: string }).maintainer, 'Jo <jo@x>');
});

test('COPY and ADD flags and sources', () => {
  const copy = one<CopyInstruction>(
    'COPY --from=build --chown=app:app --chmod=0755 --link --parents --exclude=*.md --exclude=x a b* /dst/',
  );
  assert.deepEqual(
    { from: copy.from, chown: copy.chown, chmod: copy.chmod, link: copy.link, parents: copy.parents, exclude: copy.exclude },
    { from: 'build', chown: 'app:app', chmod: '0755', link: true, parents: true, exclude: ['*.md', 'x'] },
  );
  assert.deepEqual(copy.sources, [
    { kind: 'path', path: 'a' },
    { kind: 'path', path: 'b*' },
  ]);
  assert.equal(copy.dest, '/dst/');
  assert.deepEqual(one<CopyInstruction>('COPY ["a b", "c"]').sources, [{ kind: 'path', path: 'a b' }]);
  const add = one<AddInstruction>('ADD --checksum=sha256:abc --keep-git-dir=true --unpack=false https://x/y.tgz /');
  assert.deepEqual(
    { checksum: add.checksum, keep: add.keepGitDir, unpack: add.unpack, link: add.link },
    { checksum: 'sha256:abc', keep: true, unpack: false, link: false },
  );
  assert.equal(one<AddInstruction>('ADD a b').unpack, undefined);
  // flags end at `--`
  assert.deepEqual(one<CopyInstruction>('COPY --link -- --weird /d').sources, [{ kind: 'path', path: '--weird' }]);
  // quoted flag values
  assert.equal(one<CopyInstruction>('COPY --chown="a b" x y').chown, 'a b');
});

test('heredocs: RUN, COPY, several on a line, <<- tabs, quoted delimiters', () => {
  const run = one<RunInstruction>('RUN <<EOF\necho $HOME\n  indented\nEOF\nRUN after');
  assert.deepEqual(run.heredocs, [{ name: 'EOF', expand: true, chomp: false, content: 'echo $HOME\n  indented\n' }]);
  assert.deepEqual(run.command, { form: 'shell', text: '<<EOF' });
  assert.equal(run.endLine, 5);
  const two = body('RUN cat <<A 3<<"B" >out\na\nA\nb $x\nB\nRUN next');
  assert.deepEqual((two[0] as RunInstruction).heredocs, [
    { name: 'A', expand: true, chomp: false, content: 'a\n' },
    { name: 'B', fd: 3, expand: false, chomp: false, content: 'b $x\n' },
  ]);
  assert.deepEqual((two[1] as RunInstruction).command, { form: 'shell', text: 'next' });
  const chomp = one<RunInstruction>("RUN <<-'X'\n\t\techo\n\tnot\tstripped\n\tX");
  assert.deepEqual(chomp.heredocs, [{ name: 'X', expand: false, chomp: true, content: 'echo\nnot\tstripped\n' }]);
  // a delimiter that is only partly quoted is quoted
  assert.equal(one<RunInstruction>('RUN <<E"O"F\nx\nEOF').heredocs[0].expand, false);
  const copy = one<CopyInstruction>('COPY --chmod=755 <<one.sh <<two.sh /bin/\necho 1\none.sh\necho 2\ntwo.sh');
  assert.deepEqual(copy.sources, [
    { kind: 'heredoc', heredoc: { name: 'one.sh', expand: true, chomp: false, content: 'echo 1\n' } },
    { kind: 'heredoc', heredoc: { name: 'two.sh', expand: true, chomp: false, content: 'echo 2\n' } },
  ]);
  // exec form opens no heredoc; other instructions neither
  assert.deepEqual(one<RunInstruction>('RUN ["cat", "<<EOF"]').heredocs, []);
  assert.equal(body('ENV A=<<EOF\nRUN x').length, 2);
  // ONBUILD RUN with a heredoc keeps the body in its expression
  const ob = one<OnbuildInstruction>('ONBUILD RUN <<EOF\necho hi\nEOF');
  assert.equal(ob.expression, 'RUN <<EOF\necho hi\nEOF');
  assert.deepEqual((ob.instruction as RunInstruction).heredocs, [{ name: 'EOF', expand: true, chomp: false, content: 'echo hi\n' }]);
});

test('RUN flags: mounts, network, security', () => {
  const run = one<RunInstruction>(
    'RUN --mount=type=cache,target=/c,id=go,sharing=locked,mode=0700,uid=1,gid=2 --mount=type=bind,from=build,src=/out,dst=/in,rw --mount=type=tmpfs,target=/t,size=64m --mount=type=secret,id=tok,required --network=none --security=sandbox make',
  );
  assert.deepEqual(run.mounts, [
    { type: 'cache', target: '/c', id: 'go', sharing: 'locked', readonly: false, mode: 0o700, uid: 1, gid: 2 },
    { type: 'bind', target: '/in', source: '/out', from: 'build', readonly: false },
    { type: 'tmpfs', target: '/t', size: 64 * 1024 * 1024 },
    { type: 'secret', id: 'tok', target: '/run/secrets/tok', required: true, mode: 0o400, uid: 0, gid: 0 },
  ]);
  assert.equal(run.network, 'none');
  // a bind mount may name no target (the WORKDIR) and say rw on its own
  assert.deepEqual(one<RunInstruction>('RUN --mount=from=bins --mount=target=.,readwrite x').mounts, [
    { type: 'bind', target: '', from: 'bins', readonly: true },
    { type: 'bind', target: '.', readonly: false },
  ]);
  assert.deepEqual(run.command, { form: 'shell', text: 'make' });
});

test('HEALTHCHECK: NONE, timing in nanoseconds, exec and shell', () => {
  assert.deepEqual(one<HealthcheckInstruction>('HEALTHCHECK none'), {
    kind: 'HEALTHCHECK',
    line: 2,
    endLine: 2,
    original: 'HEALTHCHECK none',
    none: true,
  });
  const hc = one<HealthcheckInstruction>(
    'HEALTHCHECK --interval=1m30s --timeout=1.5s --start-period=0 --start-interval=100ms --retries=0 CMD ["curl", "-f", "x"]',
  );
  assert.deepEqual(hc, {
    kind: 'HEALTHCHECK',
    line: 2,
    endLine: 2,
    original: 'HEALTHCHECK --interval=1m30s --timeout=1.5s --start-period=0 --start-interval=100ms --retries=0 CMD ["curl", "-f", "x"]',
    none: false,
    command: { form: 'exec', args: ['curl', '-f', 'x'] },
    interval: 90e9,
    timeout: 1.5e9,
    startPeriod: 0,
    startInterval: 100e6,
    retries: 0,
  });
  const shell = one<HealthcheckInstruction>('HEALTHCHECK cmd   curl -f x || exit 1');
  assert.ok(!shell.none && shell.command.form === 'shell' && shell.command.text === 'curl -f x || exit 1');
});

test('ONBUILD keeps its trigger as written and parses it', () => {
  const ob = one<OnbuildInstruction>('onbuild  COPY --chown=1 . /app');
  assert.equal(ob.expression, 'COPY --chown=1 . /app');
  assert.equal(ob.instruction.kind, 'COPY');
  assert.equal((ob.instruction as CopyInstruction).chown, '1');
});
