// A container's /etc/hosts on several networks, side by side with dockerd 20.10 through the
// docker 28 CLI: its hostname at its address on each network it joins, a line appended for each
// network connected while it runs (berthd's lines in the order it joined them: its first
// network, then those connected before the start; dockerd 20.10's order at a start varies), no
// container name or alias on them, and every line left as it is at a disconnect, the first
// network's too (by moby's source its sandbox removes only lines ending in the container's name),
// the file's inode kept throughout. Subnets 10.239.x: no other test's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CliResult, EngineFixture } from './engine-fixture.js';
import { IMAGE, show, sideBySide } from './helpers/side-by-side.js';
import type { Dockerd } from './helpers/dockerd.js';

const NETS = ['bhn-a', 'bhn-b', 'bhn-c'];
const C = 'bhn-1';

let eng: EngineFixture;
let d: Dockerd;
const skip = sideBySide((p) => ({ eng, d } = p));

type Cli = (args: string[]) => CliResult;

function scenario(cli: Cli): Record<string, string> {
  const ok = (args: string[]) => {
    const r = cli(args);
    assert.equal(r.status, 0, show(args.join(' '), r));
    return r.stdout;
  };
  const hosts = () => ok(['exec', C, 'cat', '/etc/hosts']);
  const inode = () => ok(['exec', C, 'stat', '-c', '%i', '/etc/hosts']).trim();
  try {
    NETS.forEach((n, i) => ok(['network', 'create', '--subnet', `10.239.${i + 1}.0/24`, n]));
    ok(['create', '--name', C, '--hostname', 'web.example.test', '--network', 'bhn-a', '--network-alias', 'wa', IMAGE, 'sleep', '300']);
    ok(['network', 'connect', '--alias', 'wb', 'bhn-b', C]);
    ok(['start', C]);
    const out: Record<string, string> = { start: hosts() };
    const before = inode();
    ok(['network', 'connect', '--alias', 'wc', 'bhn-c', C]);
    out.connect = hosts();
    ok(['network', 'disconnect', 'bhn-b', C]);
    out.disconnect = hosts();
    ok(['network', 'disconnect', 'bhn-a', C]);
    out.disconnectFirst = hosts();
    out.sameFile = String(inode() === before);
    return out;
  } finally {
    cli(['rm', '-f', C]);
    for (const n of NETS) cli(['network', 'rm', n]);
  }
}

test('/etc/hosts on several networks: a line per network joined, kept at disconnect, as dockerd 20.10', { skip }, () => {
  const theirs = scenario((a) => d.docker(a));
  const ours = scenario((a) => eng.docker(a));
  // dockerd 20.10 joins the networks of a start in Go's map order (seen both ways): the lines
  // compared as sets; berthd's order, the networks' own, is checked below.
  const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.split('\n').sort()]));
  assert.deepEqual(sorted(ours), sorted(theirs));
  // What they agreed on, as it should be.
  const line = (n: number) => `10.239.${n}.2\tweb.example.test web\n`;
  assert.ok(ours.start.endsWith(`ip6-allrouters\n${line(1)}${line(2)}`), ours.start);
  assert.equal(ours.connect, ours.start + line(3));
  assert.equal(ours.disconnect, ours.connect);
  assert.equal(ours.disconnectFirst, ours.connect);
  assert.equal(ours.sameFile, 'true');
});
