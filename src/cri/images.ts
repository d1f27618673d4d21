// The CRI's ImageService over the engine's images: pull (with the registry credentials kubelet
// passes), list, status, remove and the image file system's usage. Images are the engine's own,
// so `berth images` shows what kubelet pulled.

import type { Engine } from '../engine/index.js';
import { BerthError, invalid } from '../errors.js';
import { refuseUnapplied, type Applied } from './fields.js';

interface ImageSpec {
  image?: string;
  annotations?: Record<string, string>;
}
interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  server_address?: string;
  identity_token?: string;
  registry_token?: string;
}
type Summary = Awaited<ReturnType<Engine['images']['list']>>[number];
type Resolved = Awaited<ReturnType<Engine['images']['inspect']>>;

/**
 * ImageSpec's annotations are unstructured hints (multi-arch targeting) that kubelet fills with
 * the pod's annotations: berth pulls this machine's platform whatever they say.
 */
const IMAGE_SPEC: Applied = { image: true, annotations: true };
/** The pod a pull is for is context only: credentials and the reference say all a pull needs. */
const PULL: Applied = {
  image: IMAGE_SPEC,
  auth: { username: true, password: true, auth: true, server_address: true, identity_token: true },
  sandbox_config: true,
};

/** The image a spec names, or undefined when there is none by that name or ID. */
async function resolve(engine: Engine, spec: ImageSpec | undefined): Promise<Resolved | undefined> {
  if (!spec?.image) throw invalid('image: a name or ID is required');
  try {
    return await engine.images.inspect(spec.image);
  } catch (e) {
    if (e instanceof BerthError && e.kind === 'not-found') return undefined;
    throw e;
  }
}

/** The engine's credentials of a CRI AuthConfig: username and password, `auth` (base64 user:pass), or an identity token. */
export function credentialsOf(a: AuthConfig | undefined): { username: string; password: string; identityToken?: string } | undefined {
  if (!a) return undefined;
  if (a.identity_token) return { username: a.username ?? '', password: '', identityToken: a.identity_token };
  if (a.auth) {
    const plain = Buffer.from(a.auth, 'base64').toString();
    const colon = plain.indexOf(':');
    if (colon < 0) throw invalid('auth.auth: not base64 of username:password');
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  if (a.username || a.password) return { username: a.username ?? '', password: a.password ?? '' };
  return undefined;
}

/** The CRI `Image` of a stored image: a numeric `User` is the uid, another is the username. */
function criImage(s: Summary, user: string | undefined) {
  const name = (user ?? '').split(':')[0];
  return {
    id: s.id,
    repo_tags: s.repoTags,
    repo_digests: s.repoDigests,
    size: String(s.size),
    ...(/^\d+$/.test(name) ? { uid: { value: name } } : { username: name }),
    spec: { image: s.id },
  };
}

async function summaryOf(engine: Engine, img: Resolved): Promise<Summary> {
  const s = (await engine.images.list()).find((x) => x.id === img.id);
  if (!s) throw new BerthError('not-found', `image ${img.id} was removed while it was being read`);
  return s;
}

export function imageService(engine: Engine) {
  return {
    async PullImage(req: { image?: ImageSpec; auth?: AuthConfig }) {
      refuseUnapplied('PullImage', req, PULL);
      if (req.auth?.registry_token) throw invalid('PullImage: berthd does not apply auth.registry_token');
      if (!req.image?.image) throw invalid('PullImage: image.image is required');
      const r = await engine.images.pull(req.image.image, { credentials: credentialsOf(req.auth) });
      return { image_ref: r.image.id };
    },

    async ListImages(req: { filter?: { image?: ImageSpec } }) {
      refuseUnapplied('ListImages', req, { filter: { image: IMAGE_SPEC } });
      const wanted = req.filter?.image?.image ? await resolve(engine, req.filter.image) : undefined;
      if (req.filter?.image?.image && !wanted) return { images: [] };
      const list = (await engine.images.list()).filter((s) => !wanted || s.id === wanted.id);
      const images = await Promise.all(list.map(async (s) => criImage(s, (await engine.images.inspect(s.id)).config.config?.User)));
      return { images };
    },

    async ImageStatus(req: { image?: ImageSpec; verbose?: boolean }) {
      refuseUnapplied('ImageStatus', req, { image: IMAGE_SPEC, verbose: true });
      const img = await resolve(engine, req.image);
      // An image that is not there is an empty answer, not an error: kubelet pulls on it.
      if (!img) return {};
      const image = criImage(await summaryOf(engine, img), img.config.config?.User);
      return { image, info: req.verbose ? { imageSpec: JSON.stringify(img.config) } : {} };
    },

    async RemoveImage(req: { image?: ImageSpec }) {
      refuseUnapplied('RemoveImage', req, { image: IMAGE_SPEC });
      const img = await resolve(engine, req.image);
      // Removing what is gone succeeds: kubelet retries removals.
      if (!img) return {};
      // The image goes, by every name it has (kubelet's image GC names it by ID).
      for (const tag of img.repoTags.slice(0, -1)) await engine.images.remove(tag);
      await engine.images.remove(img.repoTags.at(-1) ?? img.id);
      return {};
    },

    async ImageFsInfo() {
      const usage = await engine.images.usage();
      return {
        image_filesystems: [
          {
            timestamp: String(BigInt(Date.now()) * 1_000_000n),
            fs_id: { mountpoint: `${engine.options.dataRoot}/snapshots` },
            used_bytes: { value: String(usage.layersSize) },
          },
        ],
      };
    },
  };
}
