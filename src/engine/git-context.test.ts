import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isGitRemote, parseGitRemote } from './git-context.js';

test("git remotes told apart and split as dockerd's builder does", () => {
  for (const r of ['git://h/x', 'git@h:x.git', 'github.com/a/b', 'https://h/x.git', 'http://h/x.git#main:sub'])
    assert.equal(isGitRemote(r), true, r);
  for (const r of ['https://h/x.tar', 'https://h/x.git.tar', 'ftp://h/x.git', 'h/x.git']) assert.equal(isGitRemote(r), false, r);
  assert.deepEqual(parseGitRemote('https://h/x.git'), { url: 'https://h/x.git', ref: 'HEAD', subdir: '' });
  assert.deepEqual(parseGitRemote('https://h/x.git#v1.2:docker/app'), { url: 'https://h/x.git', ref: 'v1.2', subdir: 'docker/app' });
  assert.deepEqual(parseGitRemote('git@h:x.git#:sub'), { url: 'git@h:x.git', ref: 'HEAD', subdir: 'sub' });
  assert.deepEqual(parseGitRemote('github.com/a/b#dev'), { url: 'https://github.com/a/b', ref: 'dev', subdir: '' });
  assert.throws(() => parseGitRemote('git://h/x#--upload-pack=touch /tmp/x'), /invalid refspec/);
});
