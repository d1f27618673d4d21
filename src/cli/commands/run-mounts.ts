// `berth run`'s (and create's) mount and init-file flags: --mount, --tmpfs, --volumes-from,
// -h/--hostname, --dns, --dns-search, --dns-option, --add-host, as the API's HostConfig fields.
// Parsing only: the engine checks them.

import { parseSize } from '../../common/size.js';
import { BerthError } from '../../errors.js';

const truthy = (v: string | undefined) => v === undefined || v === '' || v === 'true' || v === '1';

/**
 * `--mount type=…,source=…,target=…[,readonly][,volume-nocopy][,tmpfs-size=…][,tmpfs-mode=…][,image-subpath=…]`,
 * as the docker 28 CLI sends it (an image mount without ReadOnly: dockerd makes it read-only).
 */
export function parseMount(spec: string): Record<string, unknown> {
  const m: Record<string, any> = { Type: 'volume' };
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    switch (key) {
      case 'type':
        m.Type = val;
        break;
      case 'source':
      case 'src':
        m.Source = val;
        break;
      case 'target':
      case 'destination':
      case 'dst':
        m.Target = val;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = truthy(val);
        break;
      case 'volume-nocopy':
        (m.VolumeOptions ??= {}).NoCopy = truthy(val);
        break;
      case 'volume-label': {
        const [k, ...v] = (val ?? '').split('=');
        ((m.VolumeOptions ??= {}).Labels ??= {})[k] = v.join('=');
        break;
      }
      case 'volume-driver':
        ((m.VolumeOptions ??= {}).DriverConfig ??= {}).Name = val;
        break;
      case 'tmpfs-size':
        (m.TmpfsOptions ??= {}).SizeBytes = parseSize(val ?? '');
        break;
      case 'tmpfs-mode':
        (m.TmpfsOptions ??= {}).Mode = parseInt(val ?? '', 8);
        break;
      case 'bind-propagation':
        (m.BindOptions ??= {}).Propagation = val;
        break;
      case 'image-subpath':
        (m.ImageOptions ??= {}).Subpath = val;
        break;
      default:
        throw new BerthError('invalid', `invalid argument "${spec}" for "--mount" flag: unexpected key '${key}' in '${field}'`);
    }
  }
  const bad = (why: string) => new BerthError('invalid', `invalid argument "${spec}" for "--mount" flag: ${why}`);
  if (!m.Target) throw bad('target is required');
  // The docker CLI's check: one type's options with another type are refused before any request.
  for (const [type, field] of [
    ['volume', 'VolumeOptions'],
    ['image', 'ImageOptions'],
    ['bind', 'BindOptions'],
    ['tmpfs', 'TmpfsOptions'],
  ])
    if (m[field] && m.Type !== type) throw bad(`cannot mix '${type}-*' options with mount type '${m.Type}'`);
  return m;
}

/** The HostConfig fields of the flags (undefined where not given). */
export function mountFields(f: Record<string, unknown>): Record<string, unknown> {
  const l = (k: string) => f[k] as string[] | undefined;
  return {
    Mounts: l('mount')?.map(parseMount),
    VolumesFrom: l('volumes-from'),
    Tmpfs:
      l('tmpfs') &&
      Object.fromEntries(
        l('tmpfs')!.map((t) => {
          const i = t.indexOf(':');
          return i < 0 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)];
        }),
      ),
    Dns: l('dns'),
    DnsSearch: l('dns-search'),
    DnsOptions: l('dns-option'),
    ExtraHosts: l('add-host'),
  };
}
