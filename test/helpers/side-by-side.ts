// Side by side with dockerd 20.10: a private berthd (engine-fixture.ts) and a private dockerd
// (dockerd.ts) with the same busybox root as `busybox` on each — berthd's pulled through its
// registry mirror, dockerd's imported — for tests that run the docker 28 CLI against both and
// the berth CLI against berthd. The suite's before and after hooks are registered here; both
// engines and everything they made are gone after it.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BERTH, startEngine, type CliResult, type EngineFixture } from '../engine-fixture.js';
import { makeRootfs } from './bundle.js';
import { missing, startDockerd, type Dockerd } from './dockerd.js';

export const IMAGE = 'busybox';

export interface SideBySideOptions {
  /** berthd's options (its daemon.json). */
  engine?: Parameters<typeof startEngine>[0];
  /** dockerd's added flags. */
  dockerd?: string[];
  /** Commands the suite needs besides dockerd's. */
  needs?: string[];
}

/**
 * Registers the hooks that start both engines (and `set` them for the suite) and stop them.
 * Returns why the suite cannot run here (a command missing), or false.
 */
export function sideBySide(set: (p: { eng: EngineFixture; d: Dockerd }) => void, o: SideBySideOptions = {}): string | false {
  const skip = missing('dockerd', 'containerd', 'containerd-shim-runc-v2', ...(o.needs ?? []));
  let eng: EngineFixture | undefined;
  let d: Dockerd | undefined;
  before(async () => {
    if (skip) return;
    eng = await startEngine(o.engine);
    try {
      d = await startDockerd(o.dockerd);
      makeRootfs(join(d.dir, 'rootfs'));
      assert.equal(spawnSync('tar', ['-C', join(d.dir, 'rootfs'), '-cf', join(d.dir, 'rootfs.tar'), '.']).status, 0);
      const imp = d.docker(['import', join(d.dir, 'rootfs.tar'), IMAGE]);
      assert.equal(imp.status, 0, imp.stderr);
      eng.dockerOk(['pull', IMAGE]);
    } catch (e) {
      await d?.stop();
      await eng.stop();
      throw e;
    }
    set({ eng, d });
  });
  after(async () => {
    await d?.stop();
    await eng?.stop();
  });
  return skip;
}

/** `run --rm` of a shell script on IMAGE with no network and a cgroup namespace of its own (its cgroup files at /sys/fs/cgroup/…), `flags` before the image. */
export const run = (flags: string[], script: string): string[] => [
  'run',
  '--rm',
  '--network',
  'none',
  '--cgroupns',
  'private',
  ...flags,
  IMAGE,
  'sh',
  '-c',
  script,
];

export const show = (who: string, r: CliResult) => `${who}: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** The berth CLI against the suite's berthd (and no other daemon). */
export function berthCli(eng: EngineFixture, args: string[]): CliResult {
  const r = spawnSync(BERTH, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, BERTH_HOST: eng.host, DOCKER_HOST: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
