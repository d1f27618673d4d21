// The images a CRI test or bench pulls, pushed to a local registry: busybox (every applet) and a
// pod sandbox ("pause") image whose entrypoint is berth's pause program when it is built
// (native/build/berth-pause: reaps zombies, exits on SIGTERM), busybox's sleep otherwise.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore, push } from '../../src/image/index.js';
import { makeRootfs } from './bundle.js';
import { configFor, gzLayer } from './images.js';
import { packTar } from '../../src/image/tar.js';

export const PAUSE_BINARY = new URL('../../../native/build/berth-pause', import.meta.url).pathname;

export interface PodImages {
  busybox: string;
  pause: string;
}

/** Pushes `<registry>/test/busybox:latest` and `<registry>/berth/pause:1`; returns their names. */
export async function pushPodImages(registry: string): Promise<PodImages> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-images-'));
  try {
    const store = new ImageStore(join(dir, 'store'));
    const rootfs = join(dir, 'rootfs');
    makeRootfs(rootfs);
    const busybox = gzLayer(execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 64 << 20 }));
    const mtime = new Date('2024-01-01T00:00:00Z');
    const pauseLayer = existsSync(PAUSE_BINARY)
      ? gzLayer(await packTar([{ header: { name: 'pause', mode: 0o755, mtime }, body: readFileSync(PAUSE_BINARY) }]))
      : busybox;
    const entrypoint = existsSync(PAUSE_BINARY) ? ['/pause'] : ['/bin/sleep', '2147483647'];
    for (const l of [busybox, pauseLayer]) await store.content.put(l.blob, l.desc);
    await store.createImage('local/busybox:latest', configFor([busybox]), [busybox.desc]);
    const pauseConfig = configFor([pauseLayer]);
    pauseConfig.config = { Entrypoint: entrypoint };
    await store.createImage('local/pause:1', pauseConfig, [pauseLayer.desc]);
    const images = { busybox: `${registry}/test/busybox:latest`, pause: `${registry}/berth/pause:1` };
    await push(store, 'local/busybox:latest', images.busybox);
    await push(store, 'local/pause:1', images.pause);
    return images;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
