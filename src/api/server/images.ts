// Image routes: pull and import (`POST /images/create`), push, tag, list (filters), inspect,
// history, remove, save (`/images/get`, `/images/{name}/get`), load, with Docker's JSON
// progress streams: once a stream has begun the status stays 200 and a failure is its last
// message (`{"errorDetail": …, "error": …}`), as dockerd does.

import { familiarString, parseReference } from '../../common/reference.js';
import { errorMessage, invalid, unsupported } from '../../errors.js';
import type { Engine, PullProgress, PushProgress } from '../../engine/index.js';
import { labelMatch } from '../../common/filters.js';
import { registryAuth } from './auth.js';
import { COMMON_HEADERS, apiOlder, boolParam, sendError, sendJSON } from './http.js';
import type { Context, Router } from './router.js';
import type { IncomingMessage } from 'node:http';
import { parseFilters, untilTime } from './filters.js';
import { loadError } from './load-error.js';
import type { Platform } from '../../oci/image.js';

const familiar = (name: string) => {
  try {
    return familiarString(parseReference(name));
  } catch {
    return name;
  }
};
/**
 * The `platform` parameters the image routes take from API 1.46-1.49 on (`since`): each a JSON
 * OCI platform as the docker CLI encodes it (`{"os":"linux","architecture":"arm64"}`), checked in
 * dockerd's words (httputils.DecodePlatform). Before `since` dockerd reads none, nor does berthd.
 */
function platformParams(ctx: Context, since: string): Platform[] {
  if (apiOlder(ctx.version, since)) return [];
  return ctx.query
    .getAll('platform')
    .filter(Boolean)
    .map((raw) => {
      let p: Partial<Platform> | null;
      try {
        p = JSON.parse(raw) as Partial<Platform> | null;
      } catch (e) {
        throw invalid(`failed to parse platform: ${errorMessage(e)}`);
      }
      if (!p?.os || !p.architecture) throw invalid('both OS and architecture must be provided');
      return { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) };
    });
}

/**
 * `manifests` (API 1.47 on the list, 1.48 on inspect): each image's per-platform manifests.
 * berth keeps one platform of an image and has no such list: asked for, it is refused.
 */
function refuseManifests(ctx: Context, since: string): void {
  if (!apiOlder(ctx.version, since) && boolParam(ctx.query, 'manifests')) {
    throw unsupported('manifests is not supported by berthd: it keeps one platform of each image, with no list of manifests');
  }
}

const unix = (iso?: string) => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

/**
 * The digests of repositories the image still has a tag in (all of them for an untagged one):
 * Docker drops `repo@digest` with the repository's last tag.
 */
function repoDigests(tags: string[], digests: string[]): string[] {
  const repos = new Set(tags.map((t) => familiar(t).replace(/:[^:/]+$/, '')));
  return digests.map(familiar).filter((d) => !repos.size || repos.has(d.split('@')[0]));
}

/** Docker's progress bar text: `[====>     ] 1.2MB/3.4MB`. */
function progressBar(current: number, total: number): string {
  const width = 50,
    done = total ? Math.min(width, Math.floor((width * current) / total)) : 0;
  return `[${'='.repeat(Math.max(0, done - 1))}${done ? '>' : ''}${' '.repeat(width - done)}] ${current}/${total}`;
}

/** Docker's progress line for a pull event (`docker pull` draws these). */
function pullMessage(p: PullProgress): Record<string, unknown> | undefined {
  switch (p.status) {
    case 'Resolving':
      return undefined;
    case 'Waiting':
      return { status: 'Pulling fs layer', progressDetail: {}, id: p.id };
    case 'Downloading': {
      const detail = { current: p.current ?? 0, total: p.total ?? 0 };
      return { status: 'Downloading', progressDetail: detail, progress: progressBar(detail.current, detail.total), id: p.id };
    }
    default:
      return { status: p.status, progressDetail: {}, id: p.id };
  }
}

/** Docker's progress line for a push event. */
function pushMessage(p: PushProgress): Record<string, unknown> {
  if (p.status === 'Pushing') {
    const detail = { current: p.current ?? 0, total: p.total ?? 0 };
    return { status: 'Pushing', progressDetail: detail, progress: progressBar(detail.current, detail.total), id: p.id };
  }
  return { status: p.status === 'Mounted' ? `Mounted from ${p.from ?? 'another repository'}` : p.status, progressDetail: {}, id: p.id };
}

/** Writes one JSON message per line; the headers go with the first, so an early failure keeps its status code. */
export function jsonStream(ctx: Context) {
  const res = ctx.res!;
  const head = () => {
    if (!res.headersSent) res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
  };
  return {
    /** Sends the 200 and its headers now. */
    begin() {
      head();
      res.flushHeaders();
    },
    write(msg: unknown) {
      head();
      res.write(JSON.stringify(msg) + '\r\n');
    },
    fail(err: unknown) {
      if (!res.headersSent) return sendError(ctx, err);
      const message = errorMessage(err);
      res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\r\n');
    },
    end() {
      head();
      res.end();
    },
  };
}

/** Reads what is left of a request body and drops it; done at its end, or when the client goes. */
function discard(req: IncomingMessage): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
    req.once('error', () => resolve()); // the client went: there is no one left to answer
    req.resume();
  });
}

/** Docker's `path.Match` globs as `reference` filters use them (`*` stops at `/`). */
function glob(pattern: string): RegExp {
  const re = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}

export function imageRoutes(router: Router, engine: Engine): void {
  router.on('POST', '/images/create', async (ctx) => {
    const q = ctx.query;
    const out = jsonStream(ctx);
    try {
      if (q.get('fromSrc')) {
        if (q.get('fromSrc') !== '-')
          throw invalid('import from a URL is not supported by berthd: fetch the file and send it as the body (fromSrc=-)');
        const repo = q.get('repo') || '';
        const tag = q.get('tag') || '';
        const id = await engine.images.import(ctx.req, {
          reference: repo ? (tag ? `${repo}:${tag}` : repo) : undefined,
          changes: q.getAll('changes').filter(Boolean),
          message: q.get('message') || undefined,
          platform: q.get('platform') || undefined,
        });
        out.write({ status: id });
        return out.end();
      }
      const image = q.get('fromImage');
      if (!image) throw invalid('fromImage or fromSrc is required');
      const credentials = registryAuth(ctx);
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
      const r = await engine.images.pull(label, {
        credentials,
        platform: q.get('platform') || undefined,
        onProgress: (p) => {
          // Layers only: the library's whole-image and config events have no Docker line.
          if (p.config || !/^[0-9a-f]{12}$/.test(p.id)) return;
          begin();
          layers.add(p.id);
          const m = pullMessage(p);
          if (m) out.write(m);
        },
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

  router.on('POST', '/images/:name*/push', async (ctx) => {
    const credentials = registryAuth(ctx);
    const targets = await engine.images.pushTargets(ctx.params.name, ctx.query.get('tag') || undefined);
    const platforms = platformParams(ctx, '1.46');
    // Only a named platform needs the images read here: push reads them itself.
    if (platforms.length) for (const t of targets) await engine.images.forPlatforms(t, platforms);
    const out = jsonStream(ctx);
    try {
      const ref = parseReference(targets[0]);
      out.write({ status: `The push refers to repository [${familiarString({ ...ref, tag: undefined, digest: undefined })}]` });
      for (const target of targets) {
        const img = await engine.images.inspect(target);
        // Docker shows layers only, not the config blob.
        const layers = new Set(img.manifest.layers.map((l) => l.digest.slice(7, 19)));
        const r = await engine.images.push(target, {
          credentials,
          onProgress: (p) => {
            if (layers.has(p.id)) out.write(pushMessage(p));
          },
        });
        const tag = parseReference(target).tag ?? '';
        out.write({ status: `${tag || target.split('@')[1]}: digest: ${r.digest} size: ${r.size}` });
        out.write({ progressDetail: {}, aux: { Tag: tag, Digest: r.digest, Size: r.size } });
      }
      out.end();
    } catch (e) {
      out.fail(e);
    }
  });

  router.on('POST', '/images/:name*/tag', async (ctx) => {
    await engine.images.tag(ctx.params.name, ctx.query.get('repo') ?? '', ctx.query.get('tag') || undefined);
    ctx.res!.writeHead(201, COMMON_HEADERS);
    ctx.res!.end();
  });

  router.on('GET', '/images/json', async (ctx) => {
    refuseManifests(ctx, '1.47');
    const filters = parseFilters(ctx.query);
    const list = await engine.images.list();
    const createdOf = async (name: string) => unix((await engine.images.inspect(name)).config.created);
    const before = filters.before?.length ? await createdOf(filters.before[0]) : undefined;
    const since = filters.since?.length ? await createdOf(filters.since[0]) : undefined;
    for (const k of Object.keys(filters)) {
      if (!['reference', 'dangling', 'label', 'before', 'since', 'until'].includes(k)) throw invalid(`Invalid filter '${k}'`);
    }
    const dangling = filters.dangling?.length ? boolParam(new URLSearchParams({ d: filters.dangling[0] }), 'd') : undefined;
    const until = filters.until?.length ? untilTime(filters.until[0]) : undefined;
    const patterns = (filters.reference ?? []).map(glob);
    // shared-size came with API 1.42: dockerd ignores it before.
    const shared =
      !apiOlder(ctx.version, '1.42') && boolParam(ctx.query, 'shared-size')
        ? new Map((await engine.images.usage()).images.map((i) => [i.manifestDigest, i.sharedSize]))
        : undefined;
    const containers = engine.containers.list();
    const rows = list.filter((i) => {
      const created = unix(i.created);
      if (dangling !== undefined && (i.repoTags.length === 0) !== dangling) return false;
      if (before !== undefined && created >= before) return false;
      if (since !== undefined && created <= since) return false;
      if (until !== undefined && created >= until) return false;
      if (filters.label?.some((l) => !labelMatch(i.labels, l))) return false;
      if (patterns.length) {
        const names = i.repoTags.map(familiar).flatMap((t) => [t, t.replace(/:[^:/]+$/, '')]);
        if (!patterns.some((p) => names.some((n) => p.test(n)))) return false;
      }
      return true;
    });
    rows.sort((a, b) => unix(b.created) - unix(a.created));
    sendJSON(
      ctx,
      200,
      rows.map((i) => ({
        Id: i.id,
        ParentId: '',
        RepoTags: i.repoTags.map(familiar),
        RepoDigests: repoDigests(i.repoTags, i.repoDigests),
        Created: unix(i.created),
        Size: i.size,
        ...(apiOlder(ctx.version, '1.44') && { VirtualSize: i.size }),
        SharedSize: shared?.get(i.manifestDigest) ?? -1,
        Labels: i.labels ?? {},
        Containers: shared ? containers.filter((c) => c.Image === i.id).length : -1,
      })),
    );
  });

  router.on('GET', '/images/:name*/json', async (ctx) => {
    refuseManifests(ctx, '1.48');
    const img = await engine.images.forPlatforms(ctx.params.name, platformParams(ctx, '1.49'));
    const c = img.config;
    const size = await engine.images.size(img);
    sendJSON(ctx, 200, {
      Id: img.id,
      RepoTags: img.repoTags.map(familiar),
      RepoDigests: repoDigests(img.repoTags, img.record.repoDigests),
      Parent: '',
      Comment: c.history?.at(-1)?.comment ?? '',
      Created: c.created ?? '',
      DockerVersion: '',
      Author: c.author ?? '',
      Config: {
        Hostname: '',
        Domainname: '',
        User: '',
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        Tty: false,
        OpenStdin: false,
        StdinOnce: false,
        Env: null,
        Cmd: null,
        Image: '',
        Volumes: null,
        WorkingDir: '',
        Entrypoint: null,
        OnBuild: null,
        Labels: null,
        ...c.config,
      },
      Architecture: c.architecture,
      Variant: c.variant,
      Os: c.os,
      Size: size,
      ...(apiOlder(ctx.version, '1.44') && { VirtualSize: size }),
      GraphDriver: { Name: 'overlay2', Data: null },
      RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
      Metadata: { LastTagTime: img.record.created },
      Descriptor: img.record.target,
    });
  });

  router.on('GET', '/images/:name*/history', async (ctx) => {
    const img = await engine.images.forPlatforms(ctx.params.name, platformParams(ctx, '1.48'));
    const hist = await engine.images.history(img.id);
    sendJSON(
      ctx,
      200,
      hist.map((h, i) => ({
        Id: i === 0 ? img.id : '<missing>',
        Created: unix(h.created),
        CreatedBy: h.createdBy ?? '',
        Tags: i === 0 ? img.repoTags.map(familiar) : null,
        Size: h.size,
        Comment: h.comment ?? '',
      })),
    );
  });

  router.on('DELETE', '/images/:name*', async (ctx) => {
    // `noprune` keeps untagged parents: berth's images have none, so there is nothing to keep.
    if (!apiOlder(ctx.version, '1.50') && ctx.query.getAll('platforms').some(Boolean)) {
      throw unsupported('platforms is not supported by berthd: it keeps one platform of an image; remove the image itself');
    }
    sendJSON(ctx, 200, await engine.images.remove(ctx.params.name, { force: boolParam(ctx.query, 'force') }));
  });

  const save = async (ctx: Context, names: string[]) => {
    const platforms = platformParams(ctx, '1.48');
    if (platforms.length) for (const n of names) await engine.images.forPlatforms(n, platforms);
    const tar = await engine.images.save(names);
    ctx.res!.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/x-tar' });
    tar.on('error', () => ctx.res!.destroy());
    tar.pipe(ctx.res!);
  };
  router.on('GET', '/images/get', (ctx) =>
    save(
      ctx,
      ctx.query
        .getAll('names')
        .flatMap((n) => n.split(','))
        .filter(Boolean),
    ),
  );
  router.on('GET', '/images/:name*/get', (ctx) => save(ctx, [ctx.params.name]));

  router.on('GET', '/images/search', async (ctx) => {
    const raw = ctx.query.get('limit');
    // dockerd's router: a limit that is not an integer is the caller's 400 (a negative one
    // too, where dockerd's wrapping of no error answers an empty 200).
    if (raw && !/^[+-]?\d+$/.test(raw))
      throw invalid(`invalid limit specified: strconv.Atoi: parsing ${JSON.stringify(raw)}: invalid syntax`);
    if (raw && Number(raw) < 0) throw invalid('invalid limit specified');
    const results = await engine.images.search(
      ctx.query.get('term') ?? '',
      raw ? Number(raw) : 0,
      parseFilters(ctx.query),
      registryAuth(ctx),
    );
    sendJSON(ctx, 200, results);
  });

  router.on('GET', '/distribution/:name*/json', async (ctx) => {
    sendJSON(ctx, 200, await engine.images.distribution(ctx.params.name, registryAuth(ctx)));
  });

  router.on('POST', '/images/load', async (ctx) => {
    // `quiet` drops dockerd's progress bars; berthd's answer is the `Loaded image` lines either way.
    if (platformParams(ctx, '1.48').length) {
      throw unsupported("platform is not supported by berthd's load: it loads each image of the archive as it is");
    }
    const out = jsonStream(ctx);
    // As dockerd: the 200 goes out before the archive is read, so a bad one is a stream error.
    out.begin();
    try {
      for (const name of await engine.images.load(ctx.req)) out.write({ stream: `Loaded image: ${name}\n` });
      out.end();
    } catch (e) {
      // The rest of the body is read and dropped first: a client still sending it would meet a
      // closed connection (EPIPE) rather than this answer.
      await discard(ctx.req);
      out.fail(loadError(e));
    }
  });
}
