// Runs last: the suite must leave no mounts, cgroups, processes or state of berth behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

function findDirs(root: string, pred: (name: string) => boolean, depth: number, out: string[] = []): string[] {
  if (depth < 0) return out;
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const p = join(root, e.name);
    if (pred(e.name)) out.push(p);
    findDirs(p, pred, depth - 1, out);
  }
  return out;
}

test('no berth mounts are left', () => {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => /berth/.test(l));
  assert.deepEqual(lines, []);
});

test('no berth cgroups are left', () => {
  assert.deepEqual(
    findDirs('/sys/fs/cgroup', (n) => n.includes('berth'), 4),
    [],
  );
});

test('no test bundles or temp dirs are left', () => {
  // Every temp dir of the suite's is named berth-… (berth-test-, berth-registry-, berth-images-).
  const left = readdirSync('/tmp').filter((n) => n.startsWith('berth-'));
  assert.deepEqual(left, []);
});

test('no processes run from a test bundle', () => {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  assert.deepEqual(
    out.split('\n').filter((l) => l.includes('berth-test-')),
    [],
  );
});

test('no network namespaces or veths were left', () => {
  if (!existsSync('/run/netns')) return;
  assert.deepEqual(
    readdirSync('/run/netns').filter((n) => n.includes('berth')),
    [],
  );
});

test('no berth bridges, veths on them, or netns pins are left', () => {
  const ifs = readdirSync('/sys/class/net');
  const master = (dev: string) => {
    try {
      return readFileSync(`/sys/class/net/${dev}/master/uevent`, 'utf8').match(/INTERFACE=(\S+)/)?.[1] ?? '';
    } catch {
      return '';
    }
  };
  assert.deepEqual(
    ifs.filter((n) => n.startsWith('berth') || master(n).startsWith('berth')),
    [],
  );
});

test('no iptables or ip6tables rules of berth networks are left', () => {
  // CNI's portmap names its rules after the network and a 64-hex container ID; berth's network
  // rules name the bridge. berth's own chains, and FORWARD's jumps to them, go with the last
  // berth bridge (network/iptables.ts removeIdleChains); an IPv6 network's are in ip6tables too.
  const bins = [
    'iptables-save',
    ...(existsSync('/usr/sbin/ip6tables-save') || existsSync('/sbin/ip6tables-save') ? ['ip6tables-save'] : []),
  ];
  const lines = bins.flatMap((bin) => ['nat', 'filter'].flatMap((t) => execFileSync(bin, ['-t', t], { encoding: 'utf8' }).split('\n')));
  assert.deepEqual(
    lines.filter((l) => /id: \\?"[0-9a-f]{64}\\?"/.test(l) || /-[io] berth/.test(l) || /BERTH-/.test(l)),
    [],
  );
});
