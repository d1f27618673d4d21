// Image routes: pull and import (`POST /images/create`, Docker's JSON progress stream), list,
// inspect, remove.

import { familiarString, parseReference, type PullProgress } from '../../image/index.js';
import { errorMessage, invalid } from '../../errors.js';
import type { Engine } from '../../engine/index.js';
import { COMMON_HEADERS, boolParam, sendError, sendJSON } from './http.js';
import type { Context, Router } from './router.js';

const familiar = (name: string) => { try { return familiarString(parseReference(name)); } catch { return name; } };
const unix = (iso?: string) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

/**
 * The digests of repositories the image still has a tag in (all of them for an untagged one):
 * Docker drops `repo@digest` with the repository's last tag.
 */
function repoDigests(tags: string[], digests: string[]): string[] {
  const repos = new Set(tags.map((t) => familiar(t).replace(/:[^:/]+$/, '')));
  return digests.map(familiar).filter((d) => !repos.size || repos.has(d.split('@')[0]));
}

/** Docker's progress line for a pull event (`docker pull` draws these). */
function progressMessage(p: PullProgress): Record<string, unknown> | undefined {
  switch (p.status) {
    case 'Resolving': return undefined;
    case 'Waiting': return { status: 'Pulling fs layer', progressDetail: {}, id: p.id };
    case 'Downloading': {
      const detail = { current: p.current ?? 0, total: p.total ?? 0 };
      const width = 50, done = p.total ? Math.min(width, Math.floor((width * (p.current ?? 0)) / p.total)) : 0;
      const bar = `[${'='.repeat(Math.max(0, done - 1))}${done ? '>' : ''}${' '.repeat(width - done)}]`;
      return { status: 'Downloading', progressDetail: detail, progress: `${bar} ${p.current ?? 0}/${p.total ?? 0}`, id: p.id };
    }
    default: return { status: p.status, progressDetail: {}, id: p.id };
  }
}

/** Writes one JSON message per line; the headers go with the first, so an early failure keeps its status code. */
function jsonStream(ctx: Context) {
  const res = ctx.res!;
  return {
    write(msg: unknown) {
      if (!res.headersSent) res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
      res.write(JSON.stringify(msg) + '\r\n');
    },
    fail(err: unknown) {
      if (!res.headersSent) return sendError(ctx, err);
      const message = errorMessage(err);
      res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\r\n');
    },
    end() {
      if (!res.headersSent) res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
      res.end();
    },
  };
}

export function imageRoutes(router: Router, engine: Engine): void {
  router.on('POST', '/images/create', async (ctx) => {
    const q = ctx.query;
    const out = jsonStream(ctx);
    try {
      if (q.get('fromSrc')) {
        if (q.get('fromSrc') !== '-') throw invalid('import from a URL is not supported: send the tar as the body (fromSrc=-)');
        const repo = q.get('repo') || '';
        const tag = q.get('tag') || '';
        const name = repo ? (tag ? `${repo}:${tag}` : repo) : undefined;
        const id = await engine.images.import(ctx.req, name);
        out.write({ status: id });
        return out.end();
      }
      const image = q.get('fromImage');
      if (!image) throw invalid('fromImage or fromSrc is required');
      let ref = parseReference(image);
      const tag = q.get('tag');
      if (tag && !ref.digest) ref = parseReference(/^sha256:/.test(tag) ? `${image}@${tag}` : `${image}:${tag}`);
      else if (!ref.tag && !ref.digest) ref = parseReference(`${image}:latest`);
      const label = familiarString(ref);
      const layers = new Set<string>();
      let begun = false;
      const begin = () => {
        if (begun) return;
        begun = true;
        const repo = ref.domain === 'docker.io' ? ref.path : familiarString({ ...ref, tag: undefined, digest: undefined });
        out.write({ status: `Pulling from ${repo}`, id: ref.tag ?? ref.digest });
      };
      const r = await engine.images.pull(label, (p) => {
        // Layers only (12 hex digits); the library's whole-image events have no Docker line.
        if (!/^[0-9a-f]{12}$/.test(p.id)) return;
        begin();
        layers.add(p.id);
        const m = progressMessage(p);
        if (m) out.write(m);
      });
      begin();
      // Layers are unpacked as they download: each is complete with the pull.
      for (const id of layers) out.write({ status: 'Pull complete', progressDetail: {}, id });
      out.write({ status: `Digest: ${r.repoDigest.split('@').pop()}` });
      out.write({ status: `Status: ${r.hadIt ? 'Image is up to date' : 'Downloaded newer image'} for ${label}` });
      out.end();
    } catch (e) {
      out.fail(e);
    }
  });

  router.on('GET', '/images/json', async (ctx) => {
    const list = await engine.images.list();
    const containers = engine.containers.list();
    sendJSON(ctx, 200, list.map((i) => ({
      Id: i.id, ParentId: '', RepoTags: i.repoTags.map(familiar), RepoDigests: repoDigests(i.repoTags, i.repoDigests),
      Created: unix(i.created), Size: i.size, SharedSize: -1, Labels: {},
      Containers: boolParam(ctx.query, 'shared-size') ? containers.filter((c) => c.Image === i.id).length : -1,
    })));
  });

  router.on('GET', '/images/:name*/json', async (ctx) => {
    const img = await engine.images.inspect(ctx.params.name);
    const c = img.config;
    const size = img.manifest.layers.reduce((a, l) => a + l.size, 0);
    sendJSON(ctx, 200, {
      Id: img.id, RepoTags: img.repoTags.map(familiar), RepoDigests: repoDigests(img.repoTags, img.record.repoDigests), Parent: '',
      Comment: c.history?.at(-1)?.comment ?? '', Created: c.created ?? '', DockerVersion: '', Author: c.author ?? '',
      Config: { Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false,
        StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null, ...c.config },
      Architecture: c.architecture, Variant: c.variant, Os: c.os, Size: size,
      GraphDriver: { Name: 'overlayfs', Data: null },
      RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
      Metadata: { LastTagTime: img.record.created },
      Descriptor: img.record.target,
    });
  });

  router.on('DELETE', '/images/:name*', async (ctx) => {
    const r = await engine.images.remove(ctx.params.name, { force: boolParam(ctx.query, 'force') });
    sendJSON(ctx, 200, [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))]);
  });
}
