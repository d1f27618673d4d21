import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKeyValueText } from './kv-file.js';

const parse = (text: string | Buffer, env: Record<string, string> = {}) => parseKeyValueText(Buffer.from(text), 'f', (k) => env[k]);

test('KEY=VALUE lines as docker reads them: values untouched, comments and blanks skipped, BOM and CR dropped', () => {
  assert.deepEqual(parse('\uFEFFA=1\r\n# c\n\n   B= two words \nC==x\n'), ['A=1', 'B= two words ', 'C==x']);
});

test('a bare KEY takes the value it has here, or stays bare', () => {
  assert.deepEqual(parse('HERE\nGONE\n', { HERE: 'v' }), ['HERE=v', 'GONE']);
});

test("docker's refusals: white space in a key, no key, bytes that are not UTF-8", () => {
  assert.throws(() => parse('a b=1\n'), /^BerthError: invalid env file \(f\): variable 'a b' contains whitespaces$/);
  assert.throws(() => parse('BARE \n'), /variable 'BARE ' contains whitespaces/);
  assert.throws(() => parse('=1\n'), /invalid env file \(f\): no variable name on line '=1'/);
  assert.throws(
    () => parse(Buffer.from([0x41, 0x0a, 0xff, 0x3d, 0x31, 0x0a])),
    /invalid env file \(f\): invalid utf8 bytes at line 2: \[255 61 49\]/,
  );
});
