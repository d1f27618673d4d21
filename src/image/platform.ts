// Platforms: the host's, parsing `os/arch[/variant]` as `--platform` takes it, and choosing the
// best manifest of an index the way containerd's platform matcher does (exact variant first,
// then a lower compatible variant). Pure.

import { arch as hostArch } from 'node:os';
import { invalid, notFound } from '../errors.js';
import type { Descriptor, Platform } from '../oci/image.js';

const NODE_TO_GOARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips: 'mips',
  mipsel: 'mipsle',
  loong64: 'loong64',
};

/** Normalises an architecture and variant as containerd does (aarch64 → arm64, arm64 → v8). */
export function normalizePlatform(p: Platform): Platform {
  let { architecture, variant } = p;
  const os = p.os.toLowerCase();
  architecture = architecture.toLowerCase();
  switch (architecture) {
    case 'x86_64':
    case 'x86-64':
      architecture = 'amd64';
      if (variant === 'v1') variant = undefined;
      break;
    case 'amd64':
      if (variant === 'v1') variant = undefined;
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (!variant || variant === '8') variant = 'v8';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (!variant) variant = 'v7';
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
    case 'i386':
      architecture = '386';
      break;
  }
  return { ...p, os, architecture, ...(variant ? { variant } : { variant: undefined }) };
}

export function hostPlatform(): Platform {
  return normalizePlatform({ os: 'linux', architecture: NODE_TO_GOARCH[hostArch()] ?? hostArch() });
}

/** Parses `linux/arm64/v8`, `linux/amd64`, or `arm64` (os defaults to linux). */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.some((x) => x === '') || parts.length > 3) {
    throw invalid(`invalid platform "${s}": want os/arch[/variant], e.g. linux/arm64/v8`);
  }
  if (parts.length === 1) return normalizePlatform({ os: 'linux', architecture: parts[0] });
  return normalizePlatform({ os: parts[0], architecture: parts[1], ...(parts[2] ? { variant: parts[2] } : {}) });
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/**
 * Picks the manifest for `want` from an index's manifests: same os and architecture, the same
 * variant if one exists, else the highest variant not above the wanted one (an arm v7 host runs
 * v6 images). Attestation manifests (`unknown/unknown`) never match.
 */
export function selectManifest(manifests: Descriptor[], want: Platform): Descriptor {
  const w = normalizePlatform(want);
  let best: { d: Descriptor; rank: number } | undefined;
  for (const d of manifests) {
    if (!d.platform) continue;
    const p = normalizePlatform(d.platform);
    if (p.os !== w.os || p.architecture !== w.architecture) continue;
    let rank: number;
    if ((p.variant ?? '') === (w.variant ?? '')) rank = 1000;
    else if (
      p.variant &&
      w.variant &&
      /^v\d+$/.test(p.variant) &&
      /^v\d+$/.test(w.variant) &&
      Number(p.variant.slice(1)) < Number(w.variant.slice(1))
    )
      rank = Number(p.variant.slice(1));
    else if (!p.variant) rank = 1;
    else continue;
    if (!best || rank > best.rank) best = { d, rank };
  }
  if (!best) {
    const have = manifests.filter((d) => d.platform).map((d) => formatPlatform(normalizePlatform(d.platform!)));
    throw notFound(`no matching manifest for ${formatPlatform(w)} in the manifest list entries (has: ${have.join(', ') || 'none'})`);
  }
  return best.d;
}

/**
 * dockerd's 404 when an image found by name is of another platform than the one asked for: the
 * same os and architecture, and the variant when one is asked. An image with no platform in its
 * config matches nothing.
 */
export function checkImagePlatform(
  ref: string,
  img: { os?: string; architecture?: string; variant?: string },
  want: Platform,
  /** The wanted platform as the caller named it (dockerd's message quotes it so: `linux/arm64`, not `linux/arm64/v8`). */
  named = formatPlatform(want),
): void {
  const have =
    img.os && img.architecture ? normalizePlatform({ os: img.os, architecture: img.architecture, variant: img.variant }) : undefined;
  const w = normalizePlatform(want);
  if (have && have.os === w.os && have.architecture === w.architecture && (!w.variant || have.variant === w.variant)) return;
  throw notFound(
    `image with reference ${ref} was found but does not match the specified platform: wanted ${named}, actual: ${have ? formatPlatform(have) : 'nil'}`,
  );
}
