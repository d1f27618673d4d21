// CNI network configurations written by others (kubelet's node: /etc/cni/net.d, filled by the
// cluster's network add-on), read as libcni reads them: the files ending in .conflist, .conf or
// .json, taken in lexical order, the first one being the default network; a .conf (or .json)
// holding one plugin's config is a list of that one plugin. Read again for each use, since an
// add-on rewrites its file as it pleases.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../common/errno.js';
import { invalid } from '../errors.js';
import type { NetConfList, PluginConf } from './cni.js';

/** The config files in `dir`, in the order libcni picks the first; none when `dir` is missing. */
export async function cniConfigFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** One file as a list; errors name the file and what is wrong with it. */
export async function loadCniConfig(file: string): Promise<NetConfList> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw invalid(`CNI network config ${file}: ${e.message}`);
  }
  const bad = (what: string) => invalid(`CNI network config ${file}: ${what}`);
  if (!isObject(doc)) throw bad('not a JSON object');
  if (typeof doc.name !== 'string' || !doc.name) throw bad('"name" is missing');
  if (typeof doc.cniVersion !== 'string' || !doc.cniVersion) throw bad('"cniVersion" is missing');
  const isList = file.endsWith('.conflist') || 'plugins' in doc;
  const plugins = isList ? doc.plugins : [doc];
  if (!Array.isArray(plugins) || !plugins.length) throw bad('"plugins" must be a non-empty list');
  for (const [i, p] of plugins.entries()) {
    if (!isObject(p) || typeof p.type !== 'string' || !p.type) throw bad(`plugins[${i}] has no "type"`);
  }
  if (doc.disableCheck !== undefined && typeof doc.disableCheck !== 'boolean') throw bad('"disableCheck" must be true or false');
  return { cniVersion: doc.cniVersion, name: doc.name, plugins: plugins as PluginConf[] };
}

/** The default network of `dir` (its first config file), or undefined when it has none. */
export async function defaultCniConfig(dir: string): Promise<{ file: string; list: NetConfList } | undefined> {
  const [first] = await cniConfigFiles(dir);
  if (!first) return undefined;
  const file = join(dir, first);
  return { file, list: await loadCniConfig(file) };
}

/** Whether some plugin of `list` takes the runtimeConfig key `capability` (portMappings, ips, mac). */
export const declares = (list: NetConfList, capability: string) => list.plugins.some((p) => p.capabilities?.[capability]);
