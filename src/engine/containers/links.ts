// Legacy links, the engine's side, as dockerd 20.10 keeps them: made at create from
// HostConfig.Links (on the default bridge, or none, where they stay unused), each the linked
// container's ID under an alias; at start on the default bridge, each linked container must run
// there, and gives the new one a /etc/hosts line and its `ALIAS_*` variables (engine/links.ts).
// On a user-defined network a link is the endpoint's, an alias its embedded DNS answers
// (networks/dns.ts). Names, inspect's `/name:/parent/alias` list and `rm --link` read them here.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, invalid, systemError } from '../../errors.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { initPaths } from '../init-files.js';
import { linkEnv, linkHostNames, parseLink } from '../links.js';
import type { ContainerRecord, EndpointRequest, HostConfig, LegacyLink } from '../types.js';
import type { ContainerTable } from './table.js';

const HOST_AND_LINKS = "conflicting options: host type networking can't be used with links. This would result in undefined behavior";
const CONTAINER_AND_LINKS = "conflicting options: container type network can't be used with links. This would result in undefined behavior";

/** The modes whose links are legacy ones, as given and as planned: not a user-defined network's. */
const LEGACY_MODES = ['', 'default', 'bridge', 'none'];

const running = (c: ContainerRecord) => c.State.Status === 'running' || c.State.Status === 'paused';

/** The container a link names, or dockerd's 400 (a 404 would send the docker CLI off to pull the image). */
function linked(t: ContainerTable, name: string, words: string): ContainerRecord {
  if (!name) throw invalid(`${words} : invalid name or ID supplied: ""`);
  try {
    return t.find(name).rec;
  } catch (e) {
    if (e instanceof BerthError && e.kind === 'not-found') throw invalid(`${words} ${name}: ${e.message}`);
    throw e;
  }
}

/**
 * Before the network is planned: links with another container's network or the host's are
 * dockerd's 400, first of the network's checks. On a user-defined network dockerd takes the
 * endpoint's links and leaves HostConfig's aside (the docker CLI sends both): a body with only
 * HostConfig's gets them on its endpoint, which the network's checks then take or refuse.
 */
export function checkLinkMode(hc: HostConfig, endpoints: Record<string, EndpointRequest>): void {
  const mode = hc.NetworkMode ?? '';
  if (!hc.Links?.length) return;
  if (mode === 'host') throw invalid(HOST_AND_LINKS);
  if (mode.startsWith('container:')) throw invalid(CONTAINER_AND_LINKS);
  if (!LEGACY_MODES.includes(mode) && !endpoints[mode]?.Links?.length) endpoints[mode] = { ...endpoints[mode], Links: [...hc.Links] };
}

/**
 * A new container's legacy links, from HostConfig.Links, once its NetworkMode is planned (the
 * default bridge, or none): the containers they name are found (through `container:` modes to
 * the one whose network it is) and recorded.
 */
export function registerLinks(t: ContainerTable, rec: ContainerRecord): void {
  const links = rec.HostConfig.Links ?? [];
  if (!links.length || !LEGACY_MODES.includes(rec.HostConfig.NetworkMode ?? '')) return;
  const out: LegacyLink[] = [];
  for (const l of links) {
    const { name, alias } = parseLink(l);
    // dockerd takes an empty alias and drops the link (its name is the container's own): berth says so.
    if (!alias) throw invalid(`invalid link ${l}: the alias is empty`);
    let child = linked(t, name, 'could not get container for');
    while (child.HostConfig.NetworkMode?.startsWith('container:'))
      child = linked(t, child.HostConfig.NetworkMode.slice('container:'.length), 'Could not get container for');
    if (child.HostConfig.NetworkMode === 'host') throw invalid(HOST_AND_LINKS);
    const same = out.find((o) => o.Alias === alias);
    if (same && same.Id !== child.Id) throw invalid(`invalid links: the alias ${alias} names both ${same.Name} and ${child.Name}`);
    if (!same) out.push({ Id: child.Id, Name: child.Name, Alias: alias });
  }
  rec.LegacyLinks = out;
}

/**
 * A start's links on the default bridge: each linked container must run there; its variables
 * go into the bundle's env (those of the last start out), and its /etc/hosts lines are
 * returned, as ExtraHosts entries (`names:ip`). A variable of the container's own env wins, as
 * in dockerd. Nothing on another network, or with none.
 */
export async function startLinks(t: ContainerTable, rec: ContainerRecord): Promise<string[]> {
  const hosts: string[] = [];
  const env: string[] = [];
  if (rec.NetworkSettings?.Networks.bridge) {
    for (const l of rec.LegacyLinks ?? []) {
      const fullName = `${rec.Name}/${l.Alias}`;
      const child = t.byId.get(l.Id)?.rec;
      const ep = child?.NetworkSettings?.Networks.bridge;
      if (child && !ep) throw systemError(`Cannot link to ${child.Name}, as it does not belong to the default network`);
      if (!child || !ep || !running(child))
        throw systemError(`Cannot link to a non running container: ${child?.Name ?? l.Name} AS ${fullName}`);
      hosts.push(`${linkHostNames(l.Alias, child.Config.Hostname ?? '', child.Name.slice(1))}:${ep.IPAddress}`);
      env.push(
        ...linkEnv(fullName, { ip: ep.IPAddress, env: child.Config.Env ?? [], exposed: Object.keys(child.Config.ExposedPorts ?? {}) }),
      );
    }
  }
  if (!env.length && !rec.LinkEnv?.length) return hosts;
  // Each variable once, as runc's setenv leaves dockerd's repeats (a range's first port's _ADDR and _PROTO).
  const own = new Set((rec.Config.Env ?? []).map((e) => e.split('=', 1)[0]));
  const added = [...new Map(env.map((e) => [e.split('=', 1)[0], e])).values()].filter((e) => !own.has(e.split('=', 1)[0]));
  const path = join(t.store.dir(rec.Id), 'config.json');
  const spec = JSON.parse(await readFile(path, 'utf8')) as Spec;
  const last = new Set(rec.LinkEnv ?? []);
  const base = (spec.process?.env ?? []).filter((e) => !last.has(e));
  // After HOSTNAME (and TERM), before the container's own variables, where dockerd puts them.
  let at = base.findIndex((e) => e.startsWith('HOSTNAME=')) + 1;
  if (base[at] === 'TERM=xterm') at++;
  spec.process = { ...spec.process!, env: [...base.slice(0, at), ...added, ...base.slice(at)] };
  await writeFile(path, JSON.stringify(spec));
  rec.LinkEnv = added;
  return hosts;
}

/**
 * The parents of a container that has just started on the default bridge: each running one's
 * /etc/hosts lines for its alias get the new address, as dockerd updates them.
 */
export async function updateParents(t: ContainerTable, rec: ContainerRecord): Promise<void> {
  const ip = rec.NetworkSettings?.Networks.bridge?.IPAddress;
  if (!ip) return;
  for (const { rec: p } of t.byId.values()) {
    const aliases = (p.LegacyLinks ?? []).filter((l) => l.Id === rec.Id).map((l) => l.Alias);
    if (!aliases.length || !running(p) || !p.NetworkSettings?.Networks.bridge) continue;
    const path = initPaths(t.store.dir(p.Id)).HostsPath;
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n').map((line) => {
      const [addr, names = ''] = line.split('\t');
      return aliases.includes(names.split(' ')[0]) && addr ? `${ip}\t${names}` : line;
    });
    await writeFile(path, lines.join('\n'));
  }
}

/** The names a container is known by: its own and `/parent/alias` for each link to it, in name order as dockerd lists them. */
export function linkNames(all: ContainerRecord[], rec: ContainerRecord): string[] {
  const names = [rec.Name];
  for (const p of all) for (const l of p.LegacyLinks ?? []) if (l.Id === rec.Id) names.push(`${p.Name}/${l.Alias}`);
  return names.sort();
}

/** Inspect's HostConfig.Links: `/name:/parent/alias` for each link, or null. */
export function inspectLinks(t: ContainerTable, rec: ContainerRecord): string[] | null {
  const links = rec.LegacyLinks ?? [];
  if (!links.length) return null;
  return links.map((l) => `${t.byId.get(l.Id)?.rec.Name ?? l.Name}:${rec.Name}/${l.Alias}`);
}

/** `rm --link parent/alias`: the parent forgets the link (its next start goes without it); dockerd's words when `ref` names no link. */
export async function removeLink(t: ContainerTable, ref: string): Promise<void> {
  t.find(ref);
  const name = ref.startsWith('/') ? ref : `/${ref}`;
  const slash = name.lastIndexOf('/');
  if (slash === 0) throw systemError('Conflict, cannot remove the default link name of the container');
  const parent = t.find(name.slice(0, slash));
  await t.serial(parent, async () => {
    parent.rec.LegacyLinks = parent.rec.LegacyLinks?.filter((l) => l.Alias !== name.slice(slash + 1));
    await t.save(parent);
  });
}
