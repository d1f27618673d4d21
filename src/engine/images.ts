// Images as the engine serves them: pull and push (through the daemon's mirrors and insecure
// registries, with the caller's credentials), login, list, inspect, tag, remove (Docker's
// rules for names, containers and force), history, save, load, import, prune and the figures
// of `system df`. The image library does the work; this module holds Docker's policy.

import type { Readable } from 'node:stream';
import type { Credentials } from '../common/credentials.js';
import { failingClearlyWhenFull } from '../common/disk-full.js';
import { labelMatch } from '../common/filters.js';
import { conflict, invalid, isKind, notFound } from '../errors.js';
import {
  RegistryClient,
  checkImagePlatform,
  familiarName,
  familiarString,
  fetchManifest,
  formatReference,
  importRootfs,
  loadImages,
  parseReference,
  pull,
  push,
  repositoryName,
  saveImages,
  searchRegistry,
  type Image,
  type ImageStore,
  type ImageSummary,
  type PullProgress,
  type PullResult,
  type PushOptions,
  type PushResult,
  type RegistryOptions,
  type SearchResult,
  type Snapshotter,
} from '../image/index.js';
import type { Filters } from '../common/filters.js';
import type { Descriptor, Platform } from '../oci/image.js';
import { applyChanges } from './commit.js';
import type { Events } from './events.js';

/** A container made from an image, as the remove and prune rules need it. */
export interface ImageUser {
  id: string;
  running: boolean;
}

export interface ImagesOptions {
  store: ImageStore;
  /** berthd's data root, named when it is full. */
  dataRoot: string;
  snapshots: Snapshotter;
  registry: RegistryOptions;
  /** Image ID → the containers made from it. */
  users: () => Map<string, ImageUser[]>;
  /** Where the image events (pull, push, tag, untag, delete, save, load, import, prune) go. */
  events?: Events;
}

/** One line of `rmi`'s and `image prune`'s answer (Docker's ImageDeleteResponseItem). */
export type ImageDeleteItem = { Untagged: string } | { Deleted: string };

/** Filters of `image prune` (Docker's `dangling`, `until`, `label`, `label!`). */
export interface PruneFilters {
  dangling?: boolean;
  until?: number;
  label?: string[];
  notLabel?: string[];
}

export type PushProgress = Parameters<NonNullable<PushOptions['onProgress']>>[0];

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
const familiar = (name: string) => familiarString(parseReference(name));

/** moby's isSingleReference: one tag at most, and any digest references in that tag's repository. */
function isSingleReference(refs: string[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const tags = refs.filter((r) => !r.includes('@'));
  if (tags.length > 1) return false;
  const repos = new Set(refs.filter((r) => r.includes('@')).map((r) => repositoryName(parseReference(r))));
  const single = repositoryName(parseReference(tags[0] ?? refs[0]));
  return repos.size === 1 && repos.has(single);
}

export class Images {
  constructor(private readonly opts: ImagesOptions) {}

  get store(): ImageStore {
    return this.opts.store;
  }

  /** An image event as moby's LogImageEvent: the image's labels and `name` as attributes. */
  private event(action: string, id: string, name: string, labels?: Record<string, string>): void {
    this.opts.events?.emit('image', action, id, { ...labels, name });
  }

  private registry(credentials?: Credentials): RegistryOptions {
    return credentials ? { ...this.opts.registry, credentials } : this.opts.registry;
  }

  /** `hadIt`: the name already pointed at the same image before the pull (Docker's "up to date"). */
  async pull(
    reference: string,
    o: { credentials?: Credentials; onProgress?: (p: PullProgress) => void; platform?: string } = {},
  ): Promise<PullResult & { hadIt: boolean }> {
    const before = await this.opts.store.resolve(reference).then(
      (i) => i.record.target.digest,
      () => undefined,
    );
    const r = await failingClearlyWhenFull(this.opts.dataRoot, () =>
      pull(this.opts.store, reference, {
        ...this.registry(o.credentials),
        unpack: this.opts.snapshots,
        onProgress: o.onProgress,
        platform: o.platform || undefined,
      }),
    );
    this.event('pull', familiarString(r.reference), familiarName(r.reference), r.image.config.config?.Labels);
    return { ...r, hadIt: before === r.manifest.digest };
  }

  /**
   * The names `push` of `name` (and `tag`) sends, checked to exist before anything is sent: the
   * one named, or without a tag every tag of that repository (as the API's empty `tag`).
   */
  async pushTargets(name: string, tag?: string): Promise<string[]> {
    const ref = parseReference(name);
    const explicit = tag || (/:[^/]+$/.test(name.split('@')[0]) ? ref.tag : undefined);
    if (explicit || ref.digest) {
      const one = ref.digest ? name : `${repositoryName(ref)}:${explicit}`;
      await this.opts.store.resolve(one).catch(() => {
        throw notFound(`An image does not exist locally with the tag: ${familiar(one)}`);
      });
      return [one];
    }
    const repo = repositoryName(ref);
    const all = (await this.opts.store.list())
      .flatMap((i) => i.repoTags)
      .filter((t) => repositoryName(parseReference(t)) === repo)
      .sort();
    if (!all.length) throw notFound(`An image does not exist locally with the tag: ${familiar(repo)}`);
    return all;
  }

  async push(target: string, o: { credentials?: Credentials; onProgress?: (p: PushProgress) => void } = {}): Promise<PushResult> {
    const r = await push(this.opts.store, target, target, { ...this.registry(o.credentials), onProgress: o.onProgress });
    const ref = parseReference(target);
    this.event('push', familiarString(ref), familiarName(ref));
    return r;
  }

  /**
   * `docker login`: the credentials checked against `server` (a host, or a URL of it; empty or
   * Docker Hub's names mean docker.io, checked at its registry endpoint as dockerd does).
   * Mirrors are never sent credentials.
   */
  login(server: string, credentials: Credentials): Promise<{ identityToken?: string }> {
    let host = server
      .trim()
      .replace(/^[a-z]+:\/\//i, '')
      .replace(/\/.*$/, '');
    if (!host || host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
    return new RegistryClient(host, this.registry(credentials)).login();
  }

  /**
   * `GET /distribution/{name}/json`: what the registry has for `name` (its mirrors first), as
   * dockerd answers: the manifest or index descriptor and the platforms it serves.
   */
  async distribution(name: string, credentials?: Credentials): Promise<{ Descriptor: Descriptor; Platforms: Platform[] }> {
    const ref = parseReference(name);
    let last: unknown;
    for (const client of RegistryClient.forPull(ref.domain, this.registry(credentials))) {
      let top: Awaited<ReturnType<typeof fetchManifest>>;
      try {
        top = await fetchManifest(client, ref.path, ref.digest ?? ref.tag!);
      } catch (e) {
        last = e;
        continue;
      }
      if (top.parsed.kind === 'index') {
        return { Descriptor: top.desc, Platforms: top.parsed.index.manifests.flatMap((m) => (m.platform ? [m.platform] : [])) };
      }
      // A single manifest: its platform is its config's.
      const res = await client.request('GET', ref.path, `/blobs/${top.parsed.manifest.config.digest}`, { what: `config of ${name}` });
      const cfg = (await res.json()) as { architecture?: string; os?: string; variant?: string };
      return {
        Descriptor: top.desc,
        Platforms:
          cfg.os && cfg.architecture
            ? [{ architecture: cfg.architecture, os: cfg.os, ...(cfg.variant ? { variant: cfg.variant } : {}) }]
            : [],
      };
    }
    throw last;
  }

  /** `GET /images/search`: the index the term names (Docker Hub's without a host), as dockerd searches. */
  search(term: string, limit: number, filters: Filters, credentials?: Credentials): Promise<SearchResult[]> {
    return searchRegistry(term, limit, filters, this.registry(credentials));
  }

  list(): Promise<ImageSummary[]> {
    return this.opts.store.list();
  }

  inspect(name: string): Promise<Image> {
    return this.opts.store.resolve(name);
  }

  /**
   * `name`'s image, which must be of one of `platforms` when the caller names some (API 1.46 and
   * later's `platform` parameters of inspect, history, save and push): berth keeps one platform
   * of an image, so another one is dockerd's 404 for a platform the image does not have.
   */
  async forPlatforms(name: string, platforms: Platform[]): Promise<Image> {
    const img = await this.opts.store.resolve(name);
    if (!platforms.length) return img;
    let miss: unknown;
    for (const p of platforms) {
      try {
        checkImagePlatform(name, img.config, p);
        return img;
      } catch (e) {
        miss = e;
      }
    }
    throw miss;
  }

  /** The image's `Size` as dockerd reports it: its layers' unpacked sizes added up. */
  size(img: Image): Promise<number> {
    return this.opts.store.imageSize(img.manifest);
  }

  /** `docker tag SOURCE REPO[:TAG]`. */
  async tag(source: string, repo: string, tag?: string): Promise<void> {
    if (!repo) throw invalid('repository name is required');
    const target = tag ? `${repo}:${tag}` : repo;
    const r = parseReference(target);
    if (r.digest) throw invalid(`refusing to create a tag with a digest reference: ${target}`);
    await this.opts.store.tag(source, target);
    const img = await this.opts.store.resolve(target);
    this.event('tag', img.id, familiarString(r), img.config.config?.Labels);
  }

  /**
   * `docker rmi` as moby's ImageDelete: by name, untags (refused while a container uses the
   * image's only name, unless forced) and deletes the image once no name is left; by ID,
   * removes every name first. A running container's image is never deleted; a stopped one's
   * only when forced.
   */
  async remove(name: string, o: { force?: boolean } = {}): Promise<ImageDeleteItem[]> {
    const store = this.opts.store;
    const img = await store.resolve(name);
    const users = this.opts.users().get(img.id) ?? [];
    const labels = img.config.config?.Labels;
    let refs = await store.references(img.id);
    let byName: string | undefined;
    try {
      byName = refs.find((r) => r === formatReference(parseReference(name)));
    } catch (e) {
      if (!isKind(e, 'invalid')) throw e; // an ID, not a name
    }
    /** moby's checkImageDeleteConflict: `soft` adds the conflicts force overrides. */
    const conflictOf = (soft: boolean, names: string[]): string | undefined => {
      const why = (c: string, forcible: boolean) =>
        `conflict: unable to delete ${short(img.id)} (${forcible ? 'must be forced' : 'cannot be forced'}) - ${c}`;
      const running = users.find((u) => u.running);
      if (running) return why(`image is being used by running container ${short(running.id)}`, false);
      if (soft && names.length) return why('image is referenced in multiple repositories', true);
      const stopped = users.find((u) => !u.running);
      if (soft && stopped) return why(`image is being used by stopped container ${short(stopped.id)}`, true);
      return undefined;
    };
    const items: ImageDeleteItem[] = [];
    if (byName) {
      if (!o.force && isSingleReference(refs) && users.length) {
        throw conflict(
          `conflict: unable to remove repository reference "${name}" (must force) - container ${short(users[0].id)} is using its referenced image ${short(img.id)}`,
        );
      }
      for (const n of await store.untag(byName)) items.push({ Untagged: familiar(n) });
      this.event('untag', img.id, img.id, labels);
      refs = await store.references(img.id);
      if (refs.length) return items;
      // The last name went as asked; an image a container still uses stays, dangling.
      if (conflictOf(!o.force, refs)) return items;
    } else {
      // By ID: names in one repository go with the image; names in several need force.
      const c = conflictOf(!o.force, isSingleReference(refs) ? [] : refs);
      if (c) throw conflict(c);
    }
    // By ID, every manifest of that config goes (a pulled image and its loaded copy are one image).
    items.push(...(await this.deleteImage(img, byName ? undefined : img.id)));
    for (const layer of await this.opts.snapshots.pruneLayers(store)) items.push({ Deleted: layer });
    return items;
  }

  /**
   * Deletes an image with its names, reporting each as Docker does (untag events, then delete):
   * its one manifest, or every manifest `id` names.
   */
  private async deleteImage(
    img: { id: string; manifestDigest: string; labels?: Record<string, string> } | Image,
    id?: string,
  ): Promise<ImageDeleteItem[]> {
    const manifest = 'record' in img ? img.record.target.digest : img.manifestDigest;
    const labels = 'record' in img ? img.config.config?.Labels : img.labels;
    const r = await this.opts.store.delete(id ?? manifest);
    const items: ImageDeleteItem[] = r.untagged.map((n) => ({ Untagged: familiar(n) }));
    for (const _ of r.untagged) this.event('untag', img.id, img.id, labels);
    items.push({ Deleted: img.id });
    this.event('delete', img.id, img.id, labels);
    return items;
  }

  /** `docker history`: newest first; the top entry carries the image's ID and tags. */
  history(name: string) {
    return this.opts.store.history(name);
  }

  /** `docker save`: the named images as one tar (fails before any byte when a name is unknown). */
  async save(names: string[]): Promise<Readable> {
    if (!names.length) throw invalid('give at least one image name to save');
    const tar = await saveImages(this.opts.store, names);
    for (const id of new Set(await Promise.all(names.map(async (n) => (await this.opts.store.resolve(n)).id)))) this.event('save', id, id);
    return tar;
  }

  /** `docker load`: the names the archive's images got. */
  async load(source: Readable): Promise<string[]> {
    const r = await failingClearlyWhenFull(this.opts.dataRoot, () => loadImages(this.opts.store, source));
    for (const m of new Set(r.manifests)) {
      const id = (await this.opts.store.readManifest(m)).config.digest;
      this.event('load', id, id);
    }
    return r.names.map(familiar);
  }

  /**
   * `docker import`: a root file system tar as a one-layer image, named `reference` when given
   * (else dangling), its config changed by Dockerfile instructions. Returns the image ID.
   */
  async import(source: Readable, o: { reference?: string; changes?: string[]; message?: string; platform?: string } = {}): Promise<string> {
    if (o.reference) parseReference(o.reference);
    const config = applyChanges({}, o.changes ?? []);
    const desc = await failingClearlyWhenFull(this.opts.dataRoot, () =>
      importRootfs(this.opts.store, source, o.reference, {
        config,
        comment: '',
        message: o.message,
        platform: o.platform || undefined,
      }),
    );
    const id = (await this.opts.store.readManifest(desc.digest)).config.digest;
    this.event('import', id, id, config.Labels);
    return id;
  }

  /**
   * `docker image prune`: images no container uses — only dangling ones (no tag) unless
   * `dangling` is false — created before `until` and matching the label filters.
   */
  async prune(f: PruneFilters = {}): Promise<{ ImagesDeleted: ImageDeleteItem[]; SpaceReclaimed: number }> {
    const store = this.opts.store;
    const users = this.opts.users();
    const images = await store.list();
    const deleted: ImageDeleteItem[] = [];
    let space = 0;
    for (const i of images) {
      if (users.get(i.id)?.length) continue;
      if (f.dangling !== false && i.repoTags.length) continue;
      if (f.until !== undefined && i.created && Date.parse(i.created) / 1000 >= f.until) continue;
      if (f.label?.some((l) => !labelMatch(i.labels, l))) continue;
      if (f.notLabel?.some((l) => labelMatch(i.labels, l))) continue;
      deleted.push(...(await this.deleteImage(i)));
    }
    if (deleted.length) {
      // Reclaimed, as dockerd counts it: the unpacked size of each layer no image uses any more.
      const left = new Set((await store.list()).flatMap((i) => i.layers.map((l) => l.chainID)));
      const gone = new Map(
        images
          .flatMap((i) => i.layers)
          .filter((l) => !left.has(l.chainID))
          .map((l) => [l.chainID, l.size]),
      );
      space = [...gone.values()].reduce((a, n) => a + n, 0);
      for (const layer of await this.opts.snapshots.pruneLayers(store)) deleted.push({ Deleted: layer });
    }
    this.opts.events?.emit('image', 'prune', '', { reclaimed: String(space) });
    return { ImagesDeleted: deleted, SpaceReclaimed: space };
  }

  /**
   * `system df` figures as dockerd's: LayersSize is every layer images use, each counted once (by
   * chain ID) at its unpacked size; an image's SharedSize is the size of its layers another image
   * uses too (two manifests of one config are one image, as dockerd sees them).
   */
  async usage(): Promise<{ layersSize: number; images: (ImageSummary & { sharedSize: number })[] }> {
    const list = await this.opts.store.list();
    const sizes = new Map<string, number>();
    const users = new Map<string, Set<string>>();
    for (const i of list) {
      for (const l of i.layers) {
        sizes.set(l.chainID, l.size);
        users.set(l.chainID, (users.get(l.chainID) ?? new Set()).add(i.id));
      }
    }
    return {
      layersSize: [...sizes.values()].reduce((a, n) => a + n, 0),
      images: list.map((i) => ({
        ...i,
        sharedSize: i.layers.filter((l) => users.get(l.chainID)!.size > 1).reduce((a, l) => a + l.size, 0),
      })),
    };
  }
}
