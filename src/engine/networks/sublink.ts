// dockerd's macvlan and ipvlan drivers, as far as they are pure: their network options checked
// in dockerd's words (moby's libnetwork/drivers/{macvlan,ipvlan}: parseNetworkOptions,
// createNetwork, createVlanLink, parseVlan), the kernel's values for their modes, and the
// parent link a network uses: the one named, a VLAN sub-interface `IF.VID` made when missing, or
// without a parent a dummy link named `dm-` and the network's short ID. What exists on the host
// is asked through `exists`; nothing here touches the kernel.

import { systemError, unsupported } from '../../errors.js';
import type { NetworkRecord } from '../types.js';

export const PARENT_OPT = 'parent';
export const MACVLAN_MODE_OPT = 'macvlan_mode';
export const IPVLAN_MODE_OPT = 'ipvlan_mode';
export const IPVLAN_FLAG_OPT = 'ipvlan_flag';

export type SubLinkDriver = 'macvlan' | 'ipvlan';
export const isSubLink = (driver: string): driver is SubLinkDriver => driver === 'macvlan' || driver === 'ipvlan';

/** The kernel's IFLA_MACVLAN_MODE, IFLA_IPVLAN_MODE and IFLA_IPVLAN_FLAGS values (linux/if_link.h). */
const MACVLAN_MODES: Record<string, number> = { private: 1, vepa: 2, bridge: 4, passthru: 8 };
const IPVLAN_MODES: Record<string, number> = { l2: 0, l3: 1, l3s: 2 };
const IPVLAN_FLAGS: Record<string, number> = { bridge: 0, private: 1, vepa: 2 };

/** What a network's endpoints are made with: the link kind, its parent and the kernel's mode and flags. */
export interface SubLinkConfig {
  kind: SubLinkDriver;
  parent: string;
  mode: number;
  flags: number;
  /** ipvlan l3 and l3s: no gateway; the default routes are on the link, as dockerd's Join adds them. */
  onLink: boolean;
  /** No default route (an internal network, or one with no parent: its dummy link leads nowhere, as moby 25+ has it). */
  internal: boolean;
}

/** The dummy parent dockerd makes for a network created without one: `dm-` and its ID's first 12 characters. */
export const dummyName = (networkId: string): string => `dm-${networkId.slice(0, 12)}`;

/**
 * The create options checked as dockerd checks them, in its words (errors of no type: its API
 * answers 500). dockerd ignores an option it does not know; berth refuses it, rather than keep it with no effect.
 */
export function checkSubLinkOptions(driver: SubLinkDriver, opts: Record<string, string>): void {
  const known = driver === 'macvlan' ? [PARENT_OPT, MACVLAN_MODE_OPT] : [PARENT_OPT, IPVLAN_MODE_OPT, IPVLAN_FLAG_OPT];
  const unknown = Object.keys(opts).find((k) => !known.includes(k));
  if (unknown) throw unsupported(`network option "${unknown}" is not supported by the ${driver} driver (only ${known.join(', ')})`);
  if (driver === 'macvlan') {
    const mode = opts[MACVLAN_MODE_OPT];
    if (mode && !(mode in MACVLAN_MODES))
      throw systemError(`requested macvlan mode '${mode}' is not valid, 'bridge' mode is the macvlan driver default`);
  } else {
    const mode = opts[IPVLAN_MODE_OPT];
    if (mode && !(mode in IPVLAN_MODES))
      throw systemError(`requested ipvlan mode '${mode}' is not valid, 'l2' mode is the ipvlan driver default`);
    const flag = opts[IPVLAN_FLAG_OPT];
    if (flag && !(flag in IPVLAN_FLAGS))
      throw systemError(`requested ipvlan flag '${flag}' is not valid, 'bridge' is the ipvlan driver default`);
  }
  if (opts[PARENT_OPT] === 'lo') throw systemError(`loopback interface is not a valid ${driver} parent link`);
}

/** The parent a network's record names: its `parent` option, else its dummy link. */
export const parentOf = (n: Pick<NetworkRecord, 'Id' | 'Options'>): string => n.Options[PARENT_OPT] || dummyName(n.Id);

/** A network's endpoints' link, from its record (checked at create). */
export function subLinkConfig(n: NetworkRecord): SubLinkConfig {
  const kind = n.Driver as SubLinkDriver;
  const o = n.Options;
  const mode = kind === 'macvlan' ? MACVLAN_MODES[o[MACVLAN_MODE_OPT] || 'bridge'] : IPVLAN_MODES[o[IPVLAN_MODE_OPT] || 'l2'];
  return {
    kind,
    parent: parentOf(n),
    mode,
    flags: kind === 'ipvlan' ? IPVLAN_FLAGS[o[IPVLAN_FLAG_OPT] || 'bridge'] : 0,
    onLink: kind === 'ipvlan' && mode !== IPVLAN_MODES.l2,
    internal: n.Internal || !o[PARENT_OPT],
  };
}

/** The link a new network needs made on the host before it is used: none (its parent exists), a dummy, or a VLAN of a parent. */
export type ParentPlan =
  { kind: 'none' } | { kind: 'dummy'; name: string } | { kind: 'vlan'; name: string; master: string; vlanId: number };

/**
 * What a new network's parent needs, or dockerd's refusal in its words: a parent another
 * network of either driver uses (dockerd 20.10 refuses it, naming that network's dummy name);
 * a missing one that is not `IF.VID` of an existing IF with a VID of 1 to 4094.
 */
export function planParent(
  id: string,
  opts: Record<string, string>,
  others: Pick<NetworkRecord, 'Id' | 'Options' | 'Driver'>[],
  exists: (link: string) => boolean,
): ParentPlan {
  const parent = opts[PARENT_OPT] || dummyName(id);
  const user = others.find((o) => isSubLink(o.Driver) && parentOf(o) === parent);
  if (user) throw systemError(`network ${dummyName(user.Id)} is already using parent interface ${parent}`);
  if (exists(parent)) return { kind: 'none' };
  if (parent === dummyName(id)) return { kind: 'dummy', name: parent };
  if (!parent.includes('.')) throw systemError(`invalid subinterface vlan name ${parent}, example formatting is eth0.10`);
  const parts = parent.split('.');
  if (parts.length !== 2)
    throw systemError(`required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received ${parent}`);
  const [master, vid] = parts;
  // Go's strconv.Atoi: an optional sign and decimal digits.
  if (!/^[+-]?\d+$/.test(vid)) throw systemError(`unable to parse a valid vlan id from: ${vid} (ex. eth0.10 for vlan 10)`);
  if (!exists(master)) throw systemError(`-o parent interface does was not found on the host: ${master}`);
  const vlanId = Number(vid);
  if (vlanId > 4094 || vlanId < 1) throw systemError(`vlan id must be between 1-4094, received: ${vlanId}`);
  return { kind: 'vlan', name: parent, master, vlanId };
}
