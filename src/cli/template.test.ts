import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignColumns, compile, formatRows } from './template.js';

const r = (src: string, dot: unknown) => compile(src).render(dot);

test('fields, nested fields, maps, missing keys', () => {
  const dot = { State: { Status: 'running', Pid: 7 }, Config: { Labels: { a: '1' } } };
  assert.equal(r('{{.State.Status}} {{.State.Pid}}', dot), 'running 7');
  assert.equal(r('{{.Config.Labels.a}}|{{.Config.Labels.zz}}', dot), '1|<no value>');
  assert.equal(r('{{.}}', 'x'), 'x');
  assert.equal(r('{{.Config.Labels}}', dot), 'map[a:1]');
});

test('json, pipelines, join, lower/upper, index, printf, len, escapes', () => {
  const dot = { Names: ['a', 'b'], Labels: { 'com.x': 'Y' }, Name: 'Web' };
  assert.equal(r('{{json .Labels}}', dot), '{"com.x":"Y"}');
  assert.equal(r('{{.Labels | json}}', dot), '{"com.x":"Y"}');
  assert.equal(r('{{join .Names ","}}', dot), 'a,b');
  assert.equal(r('{{lower .Name}}{{upper .Name}}{{.Name | lower}}', dot), 'webWEBweb');
  assert.equal(r('{{index .Labels "com.x"}}', dot), 'Y');
  assert.equal(r('{{printf "%s=%d" .Name (len .Names)}}', dot), 'Web=2');
  assert.equal(r('{{.Name}}\\t{{.Name}}\\n', dot), 'Web\tWeb\n');
  assert.equal(r('{{json .}}', { A: 1 }), '{"A":1}');
});

test('if/else if/else, range with and without variables, with, trim markers, comments', () => {
  assert.equal(r('{{if .A}}yes{{else}}no{{end}}', { A: '' }), 'no');
  assert.equal(r('{{if eq .A "x"}}X{{else if eq .A "y"}}Y{{else}}Z{{end}}!', { A: 'y' }), 'Y!');
  assert.equal(r('{{if eq .A "x"}}X{{else if eq .A "y"}}Y{{else}}Z{{end}}!', { A: 'q' }), 'Z!');
  assert.equal(r('{{range .L}}[{{.}}]{{end}}', { L: [1, 2] }), '[1][2]');
  assert.equal(r('{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}', { M: { b: 2, a: 1 } }), 'a=1;b=2;');
  assert.equal(r('{{range .L}}x{{else}}empty{{end}}', { L: [] }), 'empty');
  assert.equal(r('{{with .S}}{{.P}}{{end}}', { S: { P: 'p' } }), 'p');
  assert.equal(r('a  {{- /* c */ -}}  b {{- .X}}', { X: 1 }), 'ab1');
  assert.equal(r('{{range .L}}{{$.N}}{{.}}{{end}}', { N: 'n', L: ['a'] }), 'na');
});

test('methods with arguments, like .Label "k"', () => {
  const dot = { Label: (k: string) => (({ tier: 'web' }) as Record<string, string>)[k] ?? '' };
  assert.equal(r('{{.Label "tier"}}-{{.Label "none"}}', dot), 'web-');
});

test('errors say what is wrong', () => {
  assert.throws(() => compile('{{.A'), /unclosed action/);
  assert.throws(() => compile('{{nosuch .A}}'), /function "nosuch" not defined/);
  assert.throws(() => compile('{{if .A}}x'), /missing \{\{end\}\}/);
  class Ctx {
    get ID() {
      return 'x';
    }
  }
  assert.throws(() => r('{{.Nope}}', new Ctx()), /can't evaluate field Nope/);
});

test("table: a header from the field names, columns aligned as docker's tabwriter", () => {
  const rows = [
    { ID: 'abc', Names: 'web' },
    { ID: 'abcdefghijklm', Names: 'db' },
  ];
  const out = formatRows('table {{.ID}}\\t{{.Names}}', rows, { defaultTable: '', headers: { ID: 'CONTAINER ID', Names: 'NAMES' } });
  assert.equal(out, 'CONTAINER ID    NAMES\nabc             web\nabcdefghijklm   db\n');
  assert.equal(formatRows('{{.Names}}', rows, { defaultTable: '', headers: {} }), 'web\ndb\n');
  assert.equal(formatRows('json', [{ A: 1 }], { defaultTable: '', headers: {} }), '{"A":1}\n');
  assert.equal(formatRows(undefined, rows, { defaultTable: '{{.Names}}', headers: { Names: 'NAMES' } }), 'NAMES\nweb\ndb\n');
  assert.equal(alignColumns(['a\tb', 'ccc\td']), 'a         b\nccc       d\n');
});

test('a CLI row (a context that marshals itself) has fields, not keys: an unknown one is an error', () => {
  const row = { Name: 'x', toJSON: () => ({ Name: 'x' }) };
  assert.equal(r('{{.Name}}', row), 'x');
  assert.throws(() => r('{{.Bad}}', row), /can't evaluate field Bad/);
});

test("a template naming an unknown field fails even with no rows, as docker's formatter", () => {
  const opts = { defaultTable: '{{.Name}}', headers: { Name: 'NAME' } };
  assert.equal(formatRows('{{.Name}}', [], opts), '');
  assert.throws(() => formatRows('{{.Bad}}', [], opts), /can't evaluate field Bad/);
  assert.throws(() => formatRows('table {{.Bad}}', [], opts), /can't evaluate field Bad/);
});
