import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from './parse.js';
import { contextOf, expandFrom, expandInstruction } from './expand.js';
import { runShellInput } from './run-heredoc.js';
import { DockerfileError } from './errors.js';

/** A small seeded generator (mulberry32), so a failure replays with its seed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'FROM',
  'RUN',
  'CMD',
  'COPY',
  'ADD',
  'ENV',
  'ARG',
  'LABEL',
  'EXPOSE',
  'VOLUME',
  'WORKDIR',
  'USER',
  'SHELL',
  'HEALTHCHECK',
  'ONBUILD',
  'STOPSIGNAL',
  'ENTRYPOINT',
  'MAINTAINER',
  'AS',
  'NONE',
  'scratch',
  'alpine',
  '--mount=',
  'type=cache',
  'type=bind',
  'type=secret',
  'type=tmpfs',
  'target=/x',
  'id=$A',
  ',',
  '--from=',
  '--chown=',
  '--link',
  '--platform=$P',
  '--interval=',
  '5s',
  '--',
  '-',
  '=',
  '"',
  "'",
  '\\',
  '`',
  '$',
  '${',
  '}',
  '${A:-b}',
  '${A:?}',
  '${A#*}',
  '${A/x/y}',
  '[',
  ']',
  '["a"]',
  '[1]',
  '<<EOF',
  '<<-"E"',
  'EOF',
  'E',
  '\t',
  ' ',
  ' ',
  ' ',
  '\n',
  '\n',
  '#',
  '# escape=`',
  '# syntax=x',
  'a',
  'b=c',
  '/path',
  '*',
  '?',
  '!',
  '\r\n',
  'é',
  '\u00a0',
];

test('random Dockerfiles parse, or fail with a DockerfileError, never anything else (seeded)', () => {
  const seeds = process.env.BERTH_FUZZ_SEED ? [Number(process.env.BERTH_FUZZ_SEED)] : Array.from({ length: 3000 }, (_, i) => i + 1);
  let parsed = 0;
  for (const seed of seeds) {
    const r = rng(seed);
    const n = 1 + Math.floor(r() * 40);
    let text = r() < 0.7 ? 'FROM a\n' : '';
    for (let i = 0; i < n; i++) text += PIECES[Math.floor(r() * PIECES.length)] + (r() < 0.5 ? ' ' : '');
    const vars: Record<string, string> = { A: 'x y', P: 'linux/amd64' };
    try {
      const df = parseDockerfile(text, { file: 'Dockerfile' });
      parsed++;
      const ctx = contextOf(df);
      for (const stage of df.stages) {
        try {
          expandFrom(stage.from, (k) => vars[k], ctx);
        } catch (err) {
          if (!(err instanceof DockerfileError)) assert.fail(`seed ${seed}: expandFrom threw ${err}\n${JSON.stringify(text)}`);
        }
        for (const inst of stage.instructions) {
          try {
            const { instruction } = expandInstruction(inst, (k) => vars[k], ctx);
            if (instruction.kind === 'RUN') runShellInput(instruction);
          } catch (err) {
            if (!(err instanceof DockerfileError)) assert.fail(`seed ${seed}: expandInstruction threw ${err}\n${JSON.stringify(text)}`);
          }
        }
      }
    } catch (err) {
      if (!(err instanceof DockerfileError)) assert.fail(`seed ${seed}: parse threw ${(err as Error).stack}\n${JSON.stringify(text)}`);
    }
  }
  // The generator must reach the instructions' parsers, not only fail at the first line.
  if (seeds.length > 1) assert.ok(parsed > seeds.length / 20, `only ${parsed} of ${seeds.length} parsed`);
});
