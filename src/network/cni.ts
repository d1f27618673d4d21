// Runs a CNI network configuration list as the CNI spec 1.0 says a runtime must: ADD through
// the plugins in order, each given the previous one's result as `prevResult`; DEL in reverse
// order with the cached ADD result; CHECK in order with it. Each plugin is an executable found
// on CNI_PATH, given its config on stdin and the CNI_* variables in its environment. It knows
// nothing of containers or networks beyond that contract.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runChild } from '../native/child.js';
import { notFound, systemError, withCleanup } from '../errors.js';

/** One plugin's configuration (`type` names the executable); other fields are the plugin's own. */
export interface PluginConf {
  type: string;
  /** Which runtimeConfig keys the plugin takes (e.g. `portMappings`). */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

/** A network configuration list (spec §1). */
export interface NetConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}
export interface CniIp {
  address: string;
  gateway?: string;
  interface?: number;
}
export interface CniRoute {
  dst: string;
  gw?: string;
}

/** A plugin's success result (spec §5.1). */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIp[];
  routes?: CniRoute[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
}

/** The runtime's side of a call: who, where, and the capability arguments. */
export interface Attachment {
  containerId: string;
  /** Path of the network namespace (a pinned bind mount); '' on DEL when it is gone. */
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs (e.g. `IP` for host-local). */
  args?: Record<string, string>;
  /** Given as `runtimeConfig` to plugins declaring the capability. */
  capabilityArgs?: Record<string, unknown>;
}

/** Where CNI plugins live: $CNI_PATH, then Debian's and upstream's folders. */
export function cniPath(): string[] {
  return (process.env.CNI_PATH ?? '/usr/lib/cni:/opt/cni/bin').split(':').filter(Boolean);
}

export function findPlugin(type: string): string {
  for (const dir of cniPath()) if (existsSync(join(dir, type))) return join(dir, type);
  throw notFound(`CNI plugin ${type} not found in ${cniPath().join(':')} (install Debian's containernetworking-plugins)`);
}

type Command = 'ADD' | 'DEL' | 'CHECK';

/** The config one plugin sees: its own fields, the list's name and version, runtimeConfig, prevResult. */
export function pluginStdin(list: NetConfList, plugin: PluginConf, at: Attachment, prev?: CniResult): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  const rc = Object.fromEntries(Object.entries(at.capabilityArgs ?? {}).filter(([k]) => plugin.capabilities?.[k]));
  if (Object.keys(rc).length) conf.runtimeConfig = rc;
  if (prev) conf.prevResult = prev;
  return conf;
}

/** Runs one plugin; a failure is the plugin's error object (`msg`, `details`) as a BerthError. */
function pluginEnv(command: Command, at: Attachment): Record<string, string> {
  const env: Record<string, string> = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: at.containerId,
    CNI_NETNS: at.netns,
    CNI_IFNAME: at.ifName,
    CNI_PATH: cniPath().join(':'),
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
  };
  if (at.args && Object.keys(at.args).length)
    env.CNI_ARGS = ['IgnoreUnknown=1', ...Object.entries(at.args).map(([k, v]) => `${k}=${v}`)].join(';');
  return env;
}

export function execPlugin(command: Command, conf: Record<string, unknown>, at: Attachment): Promise<CniResult | undefined> {
  const type = String(conf.type);
  const bin = findPlugin(type);
  const env = pluginEnv(command, at);
  // Off the event loop (native/child.ts): a start runs two or three plugins.
  return runChild(bin, [], { env, input: JSON.stringify(conf), maxBuffer: 4 << 20 }).then(
    ({ code, signal, stdout, stderr }) => {
      if (code === 0) {
        try {
          return stdout.trim() ? (JSON.parse(stdout) as CniResult) : undefined;
        } catch {
          throw systemError(`CNI plugin ${type} ${command}: output is not JSON: ${stdout.slice(0, 200)}`);
        }
      }
      let msg = (stderr.trim() || (signal ? `killed by ${signal}` : `exit status ${code}`)).split('\n')[0];
      try {
        const e = JSON.parse(stdout) as { msg?: string; details?: string };
        if (e.msg) msg = e.details ? `${e.msg}: ${e.details}` : e.msg;
      } catch (e) {
        if (!(e instanceof SyntaxError)) throw e; // not JSON: stderr's first line says it
      }
      throw systemError(`CNI plugin ${type} ${command} for network ${String(conf.name)}: ${msg}`);
    },
    (e: Error) => {
      throw systemError(`CNI plugin ${type} ${command}: ${e.message}`, e);
    },
  );
}

/**
 * ADD: each plugin's result becomes the next one's prevResult; the last is the list's result.
 * `prev`: what was made before the list (a bridge endpoint berth made itself), given to the first.
 */
export async function addNetworkList(list: NetConfList, at: Attachment, prev?: CniResult): Promise<CniResult> {
  for (const p of list.plugins) {
    try {
      prev = (await execPlugin('ADD', pluginStdin(list, p, at, prev), at)) ?? prev;
    } catch (e) {
      // A failed ADD is undone as the spec asks (DEL of the whole list), then reported.
      const undo = await delNetworkList(list, at, prev).then(
        () => [],
        (d: Error) => [d],
      );
      throw withCleanup(e, undo);
    }
  }
  if (!prev) throw systemError(`CNI network ${list.name}: no plugin returned a result`);
  return prev;
}

/** DEL in reverse order; every plugin runs even when one fails, and the first failure is reported. */
export async function delNetworkList(list: NetConfList, at: Attachment, cached?: CniResult): Promise<void> {
  let first: unknown;
  for (const p of [...list.plugins].reverse()) {
    try {
      await execPlugin('DEL', pluginStdin(list, p, at, cached), at);
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
}

/** CHECK in order with the cached result: throws what the first plugin finds wrong. */
export async function checkNetworkList(list: NetConfList, at: Attachment, cached: CniResult): Promise<void> {
  for (const p of list.plugins) await execPlugin('CHECK', pluginStdin(list, p, at, cached), at);
}
