import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerignoreMatcher, cleanPath, ignores, keepBuildFiles, parseDockerignore } from './dockerignore.js';
import { BerthError } from '../errors.js';

test('reading a .dockerignore: comments, blanks, BOM, exceptions, leading / and ./ cleaned', () => {
  const text = '\uFEFF# comment\n\n  node_modules  \n #not a comment\n/abs/path/\n./rel//x/../y\n! ./keep/\n!/also\n*.log\r\n/\n';
  assert.deepEqual(parseDockerignore(text), ['node_modules', '#not a comment', 'abs/path', 'rel/y', '!keep', '!also', '*.log', '/']);
  assert.deepEqual(parseDockerignore(''), []);
});

test('filepath.Clean', () => {
  const cases: [string, string][] = [
    ['', '.'],
    ['./a/', 'a'],
    ['a//b/../c', 'a/c'],
    ['/', '/'],
    ['../x', '../x'],
    ['a/..', '.'],
  ];
  for (const [input, want] of cases) assert.equal(cleanPath(input), want, input);
});

test('one pattern against one path (moby patternmatcher cases, parents included)', () => {
  const cases: [string, string, boolean][] = [
    ['**', 'file', true],
    ['**', 'file/', true],
    ['**/', 'file', true],
    ['**', '/', true],
    ['**', 'dir/file', true],
    ['**/**', 'dir/file', true],
    ['dir/**', 'dir/file', true],
    ['dir/**', 'dir/dir2/file', true],
    ['**/dir', 'dir', true],
    ['**/dir', 'dir/file', true],
    ['**/dir2/*', 'dir/dir2/file', true],
    ['**/dir2/**', 'dir/dir2/dir3/file', true],
    ['**file', 'file', true],
    ['**file', 'dir/file', true],
    ['**/file', 'dir/dir/file', true],
    ['**/file*', 'dir/dir/file.txt', true],
    ['**/file*txt', 'dir/dir/file.txt', true],
    ['**/**/*.txt', 'dir/dir/file.txt', true],
    ['**/**/*.txt2', 'dir/dir/file.txt', false],
    ['**/*.txt', 'file.txt', true],
    ['a**/*.txt', 'a/dir/dir/file.txt', true],
    ['a/*.txt', 'a/dir/file.txt', false],
    ['a/*.txt', 'a/file.txt', true],
    ['a/*.txt**', 'a/file.txt', true],
    ['a[b-d]e', 'ae', false],
    ['a[b-d]e', 'ace', true],
    ['a[b-d]e', 'aae', false],
    ['a[^b-d]e', 'aze', true],
    ['.*', '.foo', true],
    ['.*', 'foo', false],
    ['abc.def', 'abcdef', false],
    ['abc.def', 'abc.def', true],
    ['abc?def', 'abcZdef', true],
    ['abc?def', 'abcdef', false],
    ['a\\\\', 'a\\', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['**/foo/bar', 'foo/bar', true],
    ['**/foo/bar', 'dir/dir2/foo/bar', true],
    ['abc/**', 'abc', false],
    ['abc/**', 'abc/def/ghi', true],
    ['**/.foo', 'bar.foo', false],
    ['a(b)c/def', 'a(b)c/def', true],
    ['a(b)c/def', 'a(b)c/xyz', false],
    ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
    ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
    // `*` and `?` stay within one directory; a matching parent leaves out what is under it
    ['*.go', 'main.go', true],
    ['*.go', 'cmd/main.go', false],
    ['*/temp*', 'somedir/temporary.txt', true],
    ['*/*/temp*', 'somedir/subdir/temporary.txt', true],
    ['*/temp*', 'somedir/subdir/temporary.txt', false],
    ['temp?', 'tempa', true],
    ['temp?', 'temp/x', false],
    ['node_modules', 'node_modules/a/b.js', true],
    ['node_modules', 'src/node_modules', false],
    ['docs', 'docsite', false],
  ];
  for (const [pattern, path, want] of cases) assert.equal(new DockerignoreMatcher([pattern]).matches(path), want, `${pattern} ~ ${path}`);
});

test('exceptions: the last pattern that matches wins', () => {
  const m = new DockerignoreMatcher(parseDockerignore('*.md\n!README*.md\nREADME-secret.md'));
  const cases: [string, boolean][] = [
    ['CHANGES.md', true],
    ['README.md', false],
    ['README-x.md', false],
    ['README-secret.md', true],
    ['docs/a.md', false],
  ];
  for (const [path, want] of cases) assert.equal(m.matches(path), want, path);
  const dir = new DockerignoreMatcher(['build', '!build/keep']);
  assert.equal(dir.matches('build/out.o'), true);
  assert.equal(dir.matches('build/keep'), false);
  assert.equal(dir.matches('build/keep/inner'), false);
});

test('walk decisions: an excluded directory is walked only when an exception names a path under it', () => {
  const m = new DockerignoreMatcher(['build', '!build/keep', 'vendor', '!**/important']);
  const cases: [string, boolean, string][] = [
    ['src', true, 'include'],
    ['src/a.c', false, 'include'],
    ['build', true, 'descend'],
    ['build/out.o', false, 'exclude'],
    ['build/keep', false, 'include'],
    ['build/sub', true, 'exclude'],
    // as in Docker, `!**/important` does not bring back a file from an excluded directory
    ['vendor', true, 'exclude'],
  ];
  for (const [path, isDir, want] of cases) assert.equal(m.decide(path, isDir), want, path);
  assert.equal(new DockerignoreMatcher(['build']).decide('build', true), 'exclude');
});

test('the Dockerfile and .dockerignore are always sent (unless the Dockerfile came on stdin)', () => {
  assert.deepEqual(keepBuildFiles(['*'], 'Dockerfile', false), ['*', '!.dockerignore', '!Dockerfile']);
  assert.deepEqual(keepBuildFiles(['*'], 'Dockerfile', true), ['*', '!.dockerignore']);
  assert.deepEqual(keepBuildFiles(['docker/'], 'docker\\Dockerfile.dev', false), ['docker/', '!docker/Dockerfile.dev']);
  assert.deepEqual(keepBuildFiles(['*.log'], 'Dockerfile', false), ['*.log']);
  const kept = new DockerignoreMatcher(keepBuildFiles(['*'], 'Dockerfile', false));
  assert.equal(kept.matches('Dockerfile'), false);
  assert.equal(kept.matches('.dockerignore'), false);
  assert.equal(kept.matches('src'), true);
  assert.equal(ignores(['*'], '.'), false);
});

test('bad patterns are refused as filepath.Match refuses them', () => {
  for (const bad of ['[', 'a[', '[]a]', '[a-]', 'a\\', '!']) {
    assert.throws(
      () => new DockerignoreMatcher([bad]),
      (err: unknown) => err instanceof BerthError && err.kind === 'invalid' && err.message.startsWith('.dockerignore: '),
      bad,
    );
  }
  for (const good of ['[a]', '[^a]', '[a-c]', '[\\]]', 'a\\b']) assert.doesNotThrow(() => new DockerignoreMatcher([good]), good);
});
