// `berth system df [-v] [--format]`: GET /system/df as docker 28's client shows it
// (cli/command/formatter/disk_usage.go): a summary line per type, or with -v a table each of
// images, containers, volumes and build cache records; --format takes docker's fields, `table`,
// `table TEMPLATE`, `json` and Go templates; with -v, `json` is one object of the four lists and a
// template runs against that object.

import type { ApiClient } from '../../api/client.js';
import { BerthError } from '../../errors.js';
import { parseCommand } from '../args.js';
import { goTime, humanAgo, humanSize } from '../output.js';
import { compile, formatRows } from '../template.js';
import { ContainerContext, PS_HEADERS, type ContainerSummary } from './ps.js';

interface ImageUsage {
  Id: string;
  RepoTags: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  Containers: number;
}
interface VolumeUsage {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Scope: string;
  Labels: Record<string, string> | null;
  UsageData: { Size: number; RefCount: number };
}
interface CacheUsage {
  ID: string;
  Parent?: string;
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt?: string | null;
  UsageCount: number;
}
export interface DiskUsage {
  LayersSize: number;
  BuilderSize?: number;
  Images: ImageUsage[] | null;
  Containers: ContainerSummary[] | null;
  Volumes: VolumeUsage[] | null;
  BuildCache: CacheUsage[] | null;
}

/** A template's data (template.ts's Value). */
type Value = unknown;

/** A row: its fields, and the same as `{{json .}}` marshals them (docker's key order: sorted). */
const row = (r: Record<string, Value>): Value => ({ ...r, toJSON: () => r });
const size4 = (n: number) => humanSize(n, 4); // units.HumanSize
const withPercent = (part: number, whole: number) => (whole > 0 ? `${size4(part)} (${Math.floor((part * 100) / whole)}%)` : size4(part));
const ACTIVE_STATES = ['running', 'paused', 'restarting'];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

const SUMMARY_TABLE = '{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const SUMMARY_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

/** The four summary rows, as docker's diskUsage*Context compute them. */
export function summaryRows(d: DiskUsage): Value[] {
  const images = d.Images ?? [];
  const containers = d.Containers ?? [];
  const volumes = d.Volumes ?? [];
  const cache = d.BuildCache ?? [];
  const line = (Type: string, total: number, active: number, size: string, reclaimable: string) =>
    row({ Active: String(active), Reclaimable: reclaimable, Size: size, TotalCount: String(total), Type });
  const usedByImages = sum(images.filter((i) => i.Containers > 0 && i.SharedSize !== -1).map((i) => i.Size - i.SharedSize));
  const isActive = (c: ContainerSummary) => ACTIVE_STATES.some((s) => c.State.includes(s));
  const cSize = sum(containers.map((c) => c.SizeRw ?? 0));
  const vSizes = volumes.filter((v) => v.UsageData.Size !== -1);
  const vSize = sum(vSizes.map((v) => v.UsageData.Size));
  const builderSize = d.BuilderSize ?? sum(cache.filter((b) => !b.Shared).map((b) => b.Size));
  return [
    line(
      'Images',
      images.length,
      images.filter((i) => i.Containers > 0).length,
      size4(d.LayersSize),
      withPercent(d.LayersSize - usedByImages, d.LayersSize),
    ),
    line(
      'Containers',
      containers.length,
      containers.filter(isActive).length,
      size4(cSize),
      withPercent(sum(containers.filter((c) => !isActive(c)).map((c) => c.SizeRw ?? 0)), cSize),
    ),
    line(
      'Local Volumes',
      volumes.length,
      volumes.filter((v) => v.UsageData.RefCount > 0).length,
      size4(vSize),
      withPercent(sum(vSizes.filter((v) => v.UsageData.RefCount === 0).map((v) => v.UsageData.Size)), vSize),
    ),
    line(
      'Build Cache',
      cache.length,
      cache.filter((b) => b.InUse).length,
      size4(builderSize),
      size4(builderSize - sum(cache.filter((b) => b.InUse && !b.Shared).map((b) => b.Size))),
    ),
  ];
}

const IMAGE_TABLE = '{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const IMAGE_HEADERS = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  ID: 'IMAGE ID',
  CreatedSince: 'CREATED',
  Size: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  Containers: 'CONTAINERS',
};
const CONTAINER_TABLE = '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const VOLUME_TABLE = '{{.Name}}\t{{.Links}}\t{{.Size}}';
const VOLUME_HEADERS = { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' };
const CACHE_TABLE = '{{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';
const CACHE_HEADERS = {
  ID: 'CACHE ID',
  CacheType: 'CACHE TYPE',
  Size: 'SIZE',
  CreatedSince: 'CREATED',
  LastUsedSince: 'LAST USED',
  UsageCount: 'USAGE',
  Shared: 'SHARED',
};

/** Each object's rows for -v: `trunc` as docker's tables (short IDs), off for json. */
export function verboseRows(d: DiskUsage, trunc: boolean) {
  const short = (id: string) => (trunc ? id.replace(/^sha256:/, '').slice(0, 12) : id);
  const unix = (iso: string) => Date.parse(iso) / 1000;
  return {
    Images: (d.Images ?? []).map((i) => {
      // Only the first tag, as docker's df: REPO and TAG split at the tag's colon.
      const tag = i.RepoTags[0] && i.RepoTags[0] !== '<none>:<none>' ? i.RepoTags[0] : '';
      const at = tag.lastIndexOf(':');
      const shared = i.SharedSize === -1 ? 'N/A' : size4(i.SharedSize);
      return row({
        Containers: String(i.Containers),
        CreatedAt: goTime(i.Created),
        CreatedSince: humanAgo(i.Created),
        Digest: '',
        ID: short(i.Id),
        Repository: tag ? tag.slice(0, at) : '<none>',
        SharedSize: shared,
        Size: humanSize(i.Size, 3),
        Tag: tag ? tag.slice(at + 1) : '<none>',
        UniqueSize: i.SharedSize === -1 ? 'N/A' : size4(i.Size - i.SharedSize),
        VirtualSize: size4(i.Size),
      });
    }),
    // docker's df shows a container's own layer only: no virtual size.
    Containers: (d.Containers ?? []).map((c) => new ContainerContext({ ...c, SizeRootFs: 0 }, trunc) as unknown as Value),
    Volumes: (d.Volumes ?? []).map((v) =>
      row({
        Availability: 'N/A',
        Driver: v.Driver,
        Group: 'N/A',
        Labels: Object.entries(v.Labels ?? {})
          .sort()
          .map(([k, x]) => `${k}=${x}`)
          .join(','),
        Links: String(v.UsageData.RefCount),
        Mountpoint: v.Mountpoint,
        Name: v.Name,
        Scope: v.Scope,
        Size: v.UsageData.Size === -1 ? 'N/A' : size4(v.UsageData.Size),
        Status: 'N/A',
      }),
    ),
    BuildCache: (d.BuildCache ?? []).map((b) =>
      row({
        CacheType: b.Type,
        CreatedAt: goTime(unix(b.CreatedAt)),
        CreatedSince: humanAgo(unix(b.CreatedAt)),
        Description: b.Description,
        ID: `${short(b.ID)}${b.InUse ? '*' : ''}`,
        InUse: String(b.InUse),
        LastUsedAt: b.LastUsedAt ? goTime(unix(b.LastUsedAt)) : '',
        LastUsedSince: b.LastUsedAt ? humanAgo(unix(b.LastUsedAt)) : '',
        Parent: short(b.Parent ?? ''),
        Shared: String(b.Shared),
        Size: humanSize(b.Size, 3),
        UsageCount: String(b.UsageCount),
      }),
    ),
  };
}

/** What `system df` prints for `format` (undefined: docker's default table). */
export function renderDiskUsage(d: DiskUsage, format: string | undefined, verbose: boolean): string {
  if (format === 'raw') throw new BerthError('unsupported', 'berth system df --format raw is not supported');
  if (!verbose) return formatRows(format, summaryRows(d), { defaultTable: SUMMARY_TABLE, headers: SUMMARY_HEADERS });
  // As docker's: one object, and no newline after it.
  if (format === 'json') return JSON.stringify(verboseRows(d, false));
  const rows = verboseRows(d, true);
  if (format !== undefined && format !== 'table' && !format.startsWith('table ')) return compile(format).render(rows as unknown as Value);
  const section = (title: string, list: Value[], defaultTable: string, headers: Record<string, string>) =>
    `${title}\n\n${formatRows('table', list, { defaultTable, headers })}`;
  const builderSize = d.BuilderSize ?? sum((d.BuildCache ?? []).filter((b) => !b.Shared).map((b) => b.Size));
  return [
    section('Images space usage:', rows.Images, IMAGE_TABLE, IMAGE_HEADERS),
    section('\nContainers space usage:', rows.Containers, CONTAINER_TABLE, PS_HEADERS),
    section('\nLocal Volumes space usage:', rows.Volumes, VOLUME_TABLE, VOLUME_HEADERS),
    section(`\nBuild cache usage: ${size4(builderSize)}`, rows.BuildCache, CACHE_TABLE, CACHE_HEADERS),
  ].join('');
}

export async function df(client: ApiClient, argv: string[]): Promise<number> {
  const { flags } = parseCommand(
    {
      path: 'system df',
      use: '[OPTIONS]',
      about: 'Show berth disk usage',
      args: { max: 0 },
      flags: {
        format: { type: 'string', desc: "Format the output: 'table', 'table TEMPLATE', 'json' or a Go template" },
        verbose: { short: 'v', type: 'bool', desc: 'Show detailed information on space usage' },
      },
    },
    argv,
  );
  const d = await client.json<DiskUsage>('GET', '/system/df');
  process.stdout.write(renderDiskUsage(d, flags.format as string | undefined, !!flags.verbose));
  return 0;
}
