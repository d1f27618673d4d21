import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgCountError, commandHelp, FlagError, parseArgs, parseCommand, type CommandSpec } from './args.js';

const spec = {
  detach: { short: 'd', type: 'bool' },
  interactive: { short: 'i', type: 'bool' },
  tty: { short: 't', type: 'bool' },
  env: { short: 'e', type: 'list' },
  name: { type: 'string' },
} as const;

test('short groups, attached values, --flag=value, lists', () => {
  const r = parseArgs(['-it', '-eA=1', '-e', 'B=2', '--env=C=3', '--name', 'x', 'img'], spec);
  assert.deepEqual(r.flags, { interactive: true, tty: true, env: ['A=1', 'B=2', 'C=3'], name: 'x' });
  assert.deepEqual(r.args, ['img']);
});

test('parsing stops at the first operand: the command keeps its flags', () => {
  const r = parseArgs(['-d', 'busybox', 'ls', '-l', '--name', 'y'], spec, { stopAtOperand: true });
  assert.deepEqual(r.flags, { detach: true });
  assert.deepEqual(r.args, ['busybox', 'ls', '-l', '--name', 'y']);
});

test('unknown flags and missing values are refused', () => {
  assert.throws(() => parseArgs(['--nope'], spec), /unknown flag: --nope/);
  assert.throws(() => parseArgs(['-x'], spec), /unknown shorthand flag: 'x'/);
  assert.throws(() => parseArgs(['--name'], spec), /flag needs an argument/);
});

test("a command's count of operands is checked in docker's words", () => {
  const c = (args: CommandSpec['args']): CommandSpec => ({ path: 'x y', use: '[OPTIONS]', about: 'X', flags: {}, args });
  const msg = (spec: CommandSpec, argv: string[]) => {
    try {
      parseCommand(spec, argv);
      return '';
    } catch (e) {
      return (e as ArgCountError).message;
    }
  };
  assert.equal(msg(c({ max: 0 }), ['a']), "'berth x y' accepts no arguments");
  assert.equal(msg(c({ min: 1, max: 1 }), []), "'berth x y' requires 1 argument");
  assert.equal(msg(c({ min: 2, max: 2 }), ['a']), "'berth x y' requires 2 arguments");
  assert.equal(msg(c({ min: 1 }), []), "'berth x y' requires at least 1 argument");
  assert.equal(msg(c({ max: 1 }), ['a', 'b']), "'berth x y' requires at most 1 argument");
  assert.equal(msg(c({ min: 1, max: 2 }), []), "'berth x y' requires at least 1 and at most 2 arguments");
  assert.equal(msg(c({ min: 1 }), ['a']), '');
});

test("bad flag values name the flag as pflag does; bools take Go's spellings", () => {
  const spec = {
    memory: {
      short: 'm',
      type: 'string',
      check: (v: string) => {
        if (v === 'x') throw new Error('bad');
      },
    },
    init: { type: 'bool' },
  } as const;
  assert.throws(
    () => parseArgs(['-m', 'x'], spec),
    (e: unknown) => e instanceof FlagError && e.message === 'invalid argument "x" for "-m, --memory" flag: bad',
  );
  assert.deepEqual(parseArgs(['--init=False'], spec).flags, { init: false });
  assert.throws(() => parseArgs(['--init=no'], spec), /strconv.ParseBool: parsing "no": invalid syntax/);
});

test('help shows each flag with its kind, description and default', () => {
  const h = commandHelp({
    path: 'x',
    use: '[OPTIONS]',
    about: 'Does x',
    aliases: ['berth x'],
    flags: { all: { short: 'a', type: 'bool', desc: 'Everything' }, n: { type: 'string', arg: 'int', desc: 'How many', dflt: '-1' } },
  });
  assert.equal(
    h,
    'Usage:  berth x [OPTIONS]\n\nDoes x\n\nAliases:\n  berth x\n\nOptions:\n  -a, --all     Everything\n      --n int   How many (default -1)\n',
  );
});
