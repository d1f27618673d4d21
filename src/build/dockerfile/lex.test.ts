import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LexError, processWord, type Lookup } from './lex.js';

const env: Record<string, string> = { PWD: '/home', SHELL: 'bash', KOREAN: '한국어', EMPTY: '' };
const lookup: Lookup = (name) => (Object.hasOwn(env, name) ? env[name] : undefined);
const word = (w: string, escape: '\\' | '`' = '\\') => processWord(w, lookup, { escape }).word;

test('words as Docker expands them (moby envVarTest cases; null = an error)', () => {
  const cases: [string, string | null][] = [
    ['hello', 'hello'],
    ["he'll'o", 'hello'],
    ["he'llo", null],
    ["he\\'llo", "he'llo"],
    ["he\\\\'llo", null],
    ['abc\\tdef', 'abctdef'],
    ['"abc\\tdef"', 'abc\\tdef'],
    ['"abc\\\\tdef"', 'abc\\tdef'],
    ["'abc\\tdef'", 'abc\\tdef'],
    ['hello\\', 'hello'],
    ['hello\\\\', 'hello\\'],
    ['"hello', null],
    ['"hello\\"', null],
    ['"hel\'lo"', "hel'lo"],
    ["'hello", null],
    ["'hello\\'", 'hello\\'],
    ["'hello\\there'", 'hello\\there'],
    ["'hello\\\\there'", 'hello\\\\there'],
    ['"\'\'"', "''"],
    ['$.', '$.'],
    ['$1', ''],
    ['he$1x', 'hex'],
    ['he$.x', 'he$.x'],
    ['he$pwd.', 'he.'],
    ['he$PWD', 'he/home'],
    ['he\\$PWD', 'he$PWD'],
    ['he\\\\$PWD', 'he\\/home'],
    ['"he\\$PWD"', 'he$PWD'],
    ['"he\\\\$PWD"', 'he\\/home'],
    ['\\${}', '${}'],
    ['\\${}aaa', '${}aaa'],
    ['he\\${}', 'he${}'],
    ['he\\${}xx', 'he${}xx'],
    ['${}', null],
    ['${}aaa', null],
    ['he${}', null],
    ['he${}xx', null],
    ['he${hi}', 'he'],
    ['he${hi}xx', 'hexx'],
    ['he${PWD}', 'he/home'],
    ['he${.}', null],
    ['he${XXX:-000}xx', 'he000xx'],
    ['he${PWD:-000}xx', 'he/homexx'],
    ['he${XXX:-$PWD}xx', 'he/homexx'],
    ['he${XXX:-${PWD:-yyy}}xx', 'he/homexx'],
    ['he${XXX:-${YYY:-yyy}}xx', 'heyyyxx'],
    ['he${XXX:YYY}', null],
    ['he${XXX:+${PWD}}xx', 'hexx'],
    ['he${PWD:+${XXX}}xx', 'hexx'],
    ['he${PWD:+${SHELL}}xx', 'hebashxx'],
    ['he${XXX:+000}xx', 'hexx'],
    ['he${PWD:+000}xx', 'he000xx'],
    ["'he${XX}'", 'he${XX}'],
    ['"he${PWD}"', 'he/home'],
    ['"he\'$PWD\'"', "he'/home'"],
    ['"$PWD"', '/home'],
    ["'$PWD'", '$PWD'],
    ["'\\$PWD'", '\\$PWD'],
    ['\'"hello"\'', '"hello"'],
    ['he\\$PWD', 'he$PWD'],
    ['"he\\$PWD"', 'he$PWD'],
    ["'he\\$PWD'", 'he\\$PWD'],
    ['he${PWD', null],
    ['he${PWD:=000}xx', null],
    ['he${PWD:+${PWD}:}xx', 'he/home:xx'],
    ['he${XXX:-\\$PWD:}xx', 'he$PWD:xx'],
    ['he${XXX:-\\${PWD}z}xx', 'he${PWDz}xx'],
    ['안녕하세요', '안녕하세요'],
    ["안'녕'하세요", '안녕하세요'],
    ["안'녕하세요", null],
    ["안녕\\'하세요", "안녕'하세요"],
    ["안\\\\'녕하세요", null],
    ['안녕\\t하세요', '안녕t하세요'],
    ['"안녕\\t하세요"', '안녕\\t하세요'],
    ['안녕하세요\\\\', '안녕하세요\\'],
    ['안녕$1x', '안녕x'],
    ['안녕${XXX:-${YYY:-yyy}}xx', '안녕yyyxx'],
    ['$KOREAN', '한국어'],
    ['안녕$KOREAN', '안녕한국어'],
    ['${{aaa}', null],
    ['${aaa}}', '}'],
    ['${aaa', null],
    ['${{aaa:-bbb}', null],
    ['${aaa:-bbb}}', 'bbb}'],
    ['${aaa:-bbb', null],
    ['${aaa:-bbb}', 'bbb'],
    ['${aaa:-${bbb:-ccc}}', 'ccc'],
    ['${aaa:-bbb ${foo}', null],
    ['${aaa:-bbb {foo}', 'bbb {foo'],
    ['${:}', null],
    ['${:-bbb}', null],
    ['${:+bbb}', null],
  ];
  for (const [input, want] of cases) {
    if (want === null) assert.throws(() => word(input), LexError, input);
    else assert.equal(word(input), want, input);
  }
});

test('set-but-empty differs from unset without the colon; ${V?} and ${V:?} fail with Docker words', () => {
  const cases: [string, string][] = [
    ['${EMPTY-d}', ''],
    ['${EMPTY:-d}', 'd'],
    ['${UNSET-d}', 'd'],
    ['${EMPTY+a}', 'a'],
    ['${EMPTY:+a}', ''],
    ['${UNSET+a}', ''],
    ['${PWD?}', '/home'],
    ['${EMPTY?}', ''],
  ];
  for (const [input, want] of cases) assert.equal(word(input), want, input);
  const faults: [string, string][] = [
    ['${UNSET?}', 'failed to process "${UNSET?}": UNSET: is not allowed to be unset'],
    ['${UNSET:?}', 'failed to process "${UNSET:?}": UNSET: is not allowed to be unset'],
    ['${EMPTY:?}', 'failed to process "${EMPTY:?}": EMPTY: is not allowed to be empty'],
    ['${EMPTY:?must be set}', 'failed to process "${EMPTY:?must be set}": EMPTY: must be set'],
    ['x${', 'failed to process "x${": syntax error: missing \'}\''],
    ['${}', 'failed to process "${}": syntax error: bad substitution'],
    ['${a:=b}', 'failed to process "${a:=b}": unsupported modifier (:=) in substitution'],
    ['${a:#b}', 'failed to process "${a:#b}": unsupported modifier (:#) in substitution'],
    ["'open", 'failed to process "\'open": unexpected end of statement while looking for matching single-quote'],
    ['"open', 'failed to process "\\"open": unexpected end of statement while looking for matching double-quote'],
  ];
  for (const [input, message] of faults) assert.throws(() => word(input), { name: 'Error', message }, input);
});

test('pattern removal and substitution: # ## % %% / //', () => {
  const vars: Record<string, string> = { P: '/usr/local/bin/app.tar.gz', V: 'a-b-c', S: 'a*b*c' };
  const w = (s: string) => processWord(s, (n) => vars[n], { escape: '\\' }).word;
  const cases: [string, string][] = [
    ['${P#*/}', 'usr/local/bin/app.tar.gz'],
    ['${P##*/}', 'app.tar.gz'],
    ['${P%.*}', '/usr/local/bin/app.tar'],
    ['${P%%.*}', '/usr/local/bin/app'],
    ['${P#nomatch}', '/usr/local/bin/app.tar.gz'],
    ['${V/-/+}', 'a+b-c'],
    ['${V//-/+}', 'a+b+c'],
    ['${V/?/X}', 'X-b-c'],
    ['${S#*\\*}', 'b*c'],
    ['${S%\\**}', 'a*b'],
    ['${UNSET#x}', ''],
  ];
  for (const [input, want] of cases) assert.equal(w(input), want, input);
  assert.throws(() => w('${V#a\\-}'), {
    message: 'failed to process "${V#a\\\\-}": invalid pattern (a\\-) in substitution: invalid escape \'\\-\'',
  });
});

test('the backtick escape: backslashes are ordinary, ` escapes', () => {
  assert.equal(word('c:\\path\\$PWD', '`'), 'c:\\path\\/home');
  assert.equal(word('a`$PWD', '`'), 'a$PWD');
  assert.equal(word('"a`"b"', '`'), 'a"b');
});

test('words split on unquoted whitespace after substitution; reads are reported', () => {
  const vars: Record<string, string> = { PORTS: '80 443/tcp', ONE: 'x' };
  const r = processWord('$PORTS "a b" c${ONE} $NONE', (n) => vars[n], { escape: '\\' });
  assert.deepEqual(r.words, ['80', '443/tcp', 'a b', 'cx']);
  assert.equal(r.word, '80 443/tcp a b cx ');
  assert.deepEqual([...r.matched].sort(), ['ONE', 'PORTS']);
  assert.deepEqual([...r.unmatched], ['NONE']);
  // an empty quoted word is dropped from the words, as Docker's ProcessWords drops it
  assert.deepEqual(processWord('a "" b', () => undefined, { escape: '\\' }).words, ['a', 'b']);
});

test('options: raw quotes and escapes, unset left as written, quotes as ordinary characters', () => {
  const none: Lookup = () => undefined;
  assert.equal(
    processWord(`"a" 'b' \\c $X \${Y:-z}`, none, { escape: '\\', rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).word,
    `"a" 'b' \\c $X \${Y:-z}`,
  );
  assert.equal(processWord(`echo "$PWD" 'x' \\n`, lookup, { escape: '\\', skipProcessQuotes: true }).word, `echo "/home" 'x' n`);
});
