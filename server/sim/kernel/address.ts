// Interface addresses (net/ipv4/devinet.c and IPv6 addrconf): adding,
// deleting, and the connected routes that follow them; an IPv6 address is
// tentative until duplicate address detection passes on a running link.
import { inPrefix, ipv4, linkLocalFromMac, type Ipv4 } from './addr';
import type { Device, Ipv4Address, Ipv6Address } from './device';
import { fail, OK, type KResult } from './errno';
import { addConnectedRoute, removeConnectedRoute } from './fib';
import { addPrefixRoute6, dadRun, dadStop, flushRoutes6, removePrefixRoute6 } from './ipv6';

export interface AddressOptions {
  peer?: Ipv4 | null;
  broadcast?: Ipv4 | null;
  label?: string;
  scope?: Ipv4Address['scope'];
  noprefixroute?: boolean;
  routeMetric?: number;
  /** valid_lft and preferred_lft in seconds, null (or absent) for forever. */
  validLft?: number | null;
  preferredLft?: number | null;
}

export function addIpv4Address(dev: Device, local: Ipv4, prefixLen: number, opts: AddressOptions = {}, replace = false): KResult {
  const existing = dev.ipv4.find((a) => a.local === local && a.prefixLen === prefixLen);
  if (existing) {
    if (!replace) return fail('EEXIST');
    if (opts.broadcast !== undefined) existing.broadcast = opts.broadcast;
    if (opts.label) existing.label = opts.label;
    if (opts.scope) existing.scope = opts.scope;
    setLifetime(dev, existing, opts);
    return OK;
  }
  const secondary = dev.ipv4.some((a) => !a.secondary && a.prefixLen === prefixLen && inPrefix(local, a.local, prefixLen));
  const scope = opts.scope ?? (local >>> 24 === 127 ? 'host' : 'global');
  const address: Ipv4Address = {
    local,
    peer: opts.peer ?? null,
    prefixLen,
    broadcast: opts.broadcast ?? null,
    label: opts.label ?? dev.name,
    secondary,
    scope,
    noprefixroute: opts.noprefixroute ?? false,
    routeMetric: opts.routeMetric ?? 0,
    lifetime: null,
    seq: dev.ns.addressSeq++,
  };
  setLifetime(dev, address, opts);
  insertAddress(dev, address);
  dev.ns.localTableExists = true;
  addConnectedRoute(dev.ns, dev, address);
  return OK;
}

/** set_ifa_lifetime: a finite valid lifetime makes the address dynamic, and check_lifetime removes it when it runs out. */
function setLifetime(dev: Device, address: Ipv4Address, opts: AddressOptions): void {
  if (opts.validLft == null) {
    address.lifetime = null;
    return;
  }
  const sinceUs = dev.ns.host.world.now;
  address.lifetime = { valid: opts.validLft, preferred: opts.preferredLft ?? null, sinceUs };
  // check_lifetime runs on whole seconds, a little after the address's time is up.
  dev.ns.host.world.schedule(Math.ceil(opts.validLft + 1) * 1_000_000, { kind: 'address-expiry', dev, address, sinceUs });
}

/** The lifetime timer: the address goes unless its lifetime was set anew since. */
export function addressExpired(dev: Device, address: Ipv4Address, sinceUs: number): void {
  if (address.lifetime?.sinceUs !== sinceUs || !dev.ipv4.includes(address)) return;
  deleteIpv4Address(dev, address.local, address.prefixLen);
}

/** inet_insert_ifa: secondaries last; a primary after the primaries of narrower or equal scope. */
function insertAddress(dev: Device, address: Ipv4Address): void {
  if (address.secondary) dev.ipv4.push(address);
  else {
    const at = dev.ipv4.findIndex((a) => a.secondary || SCOPE_RANK[a.scope] < SCOPE_RANK[address.scope]);
    if (at < 0) dev.ipv4.push(address);
    else dev.ipv4.splice(at, 0, address);
  }
}

/**
 * Deletes the first address matching; `prefixLen` null matches any length.
 * A primary takes its secondaries with it, unless promote_secondaries makes
 * the first of them the subnet's primary.
 */
export function deleteIpv4Address(dev: Device, local: Ipv4, prefixLen: number | null): KResult {
  const index = dev.ipv4.findIndex((a) => a.local === local && (prefixLen === null || a.prefixLen === prefixLen));
  if (index < 0) return fail('EADDRNOTAVAIL');
  const [removed] = dev.ipv4.splice(index, 1);
  let promoted: Ipv4Address | null = null;
  if (!removed!.secondary) {
    const secondaries = dev.ipv4.filter((a) => a.secondary && a.prefixLen === removed!.prefixLen && inPrefix(a.local, removed!.local, removed!.prefixLen));
    const conf = (scope: string) => dev.ns.sysctl.ipv4Conf(scope, 'promote_secondaries') !== '0';
    promoted = secondaries.length > 0 && (conf('all') || conf(dev.name)) ? secondaries[0]! : null;
    if (promoted) {
      dev.ipv4.splice(dev.ipv4.indexOf(promoted), 1);
      promoted.secondary = false;
      insertAddress(dev, promoted);
    } else dev.ipv4 = dev.ipv4.filter((a) => !secondaries.includes(a));
  }
  removeConnectedRoute(dev.ns, dev, removed!);
  if (promoted) addConnectedRoute(dev.ns, dev, promoted);
  return OK;
}

const SCOPE_RANK = { host: 2, link: 1, global: 0 } as const;

/**
 * addrconf: ::1 on loopback when up (loopback does no duplicate address
 * detection); the first time a device runs after coming up it is ready, gets
 * its link-local address and checks its tentative ones. Losing carrier
 * later changes none of that.
 */
export function syncIpv6(dev: Device): void {
  if (!dev.adminUp || ipv6Disabled(dev)) return;
  if (dev.kind.name === 'loopback') {
    if (!dev.ipv6.some((a) => a.address === '::1')) insertIpv6Address(dev, { address: '::1', prefixLen: 128, scope: 'host', seq: dev.ns.addressSeq++, tentative: false, nodad: false, dadTimer: null });
    return;
  }
  if (!dev.running || dev.ipv6Ready) return;
  dev.ipv6Ready = true;
  if (!dev.ipv6.some((a) => a.scope === 'link')) {
    insertIpv6Address(dev, { address: linkLocalFromMac(dev.mac), prefixLen: 64, scope: 'link', seq: dev.ns.addressSeq++, tentative: true, nodad: false, dadTimer: null });
  }
  // Addresses given while the device was down put their prefixes on the link now, in the order they came.
  for (const a of [...dev.ipv6].sort((x, y) => x.seq - y.seq)) addPrefixRoute6(dev, a);
  dadRun(dev);
}

/** net.ipv6.conf.DEV.disable_ipv6 */
export function ipv6Disabled(dev: Device): boolean {
  return dev.ns.sysctl.get(`net.ipv6.conf.${dev.name}.disable_ipv6`) === '1';
}

/** addrconf_disable_ipv6: turned off, IPv6 leaves the device as it does when it goes down; turned on, it is configured afresh. */
export function ipv6DisableChanged(dev: Device): void {
  if (!ipv6Disabled(dev)) {
    syncIpv6(dev);
    return;
  }
  dropIpv6(dev);
  flushRoutes6(dev.ns, (route) => route.dev === dev);
}

/** addrconf_ifdown: a device going down loses its IPv6 addresses, and is configured afresh when it next runs. */
export function dropIpv6(dev: Device): void {
  for (const a of dev.ipv6) dadStop(a);
  dev.ipv6 = [];
  dev.ipv6Ready = false;
}

/** ipv6_add_addr; with `nodad` the address skips detection. */
export function addIpv6Address(dev: Device, address: string, prefixLen: number, nodad = false): KResult {
  if (ipv6Disabled(dev)) return fail('EACCES', 'ipv6: IPv6 is disabled on this device');
  if (dev.ipv6.some((a) => a.address === address)) return fail('EEXIST', 'ipv6: address already assigned');
  const scope = address.startsWith('fe80:') ? 'link' : address === '::1' ? 'host' : 'global';
  const added: Ipv6Address = { address, prefixLen, scope, seq: dev.ns.addressSeq++, tentative: dev.kind.name !== 'loopback' && !nodad, nodad, dadTimer: null };
  insertIpv6Address(dev, added);
  if (dev.ipv6Ready) addPrefixRoute6(dev, added);
  dadRun(dev);
  return OK;
}

/** ipv6_addr_src_scope: global 0xe, link-local 0x2, loopback 0x1. */
const IPV6_SCOPE_VALUE = { global: 0xe, link: 0x2, host: 0x1 } as const;

/** ipv6_link_dev_addr: the list runs from the widest scope to the narrowest, the newest first within one. */
function insertIpv6Address(dev: Device, address: Ipv6Address): void {
  const at = dev.ipv6.findIndex((a) => IPV6_SCOPE_VALUE[address.scope] >= IPV6_SCOPE_VALUE[a.scope]);
  dev.ipv6.splice(at < 0 ? dev.ipv6.length : at, 0, address);
}

/** inet6_addr_del: the address with that prefix length. */
export function deleteIpv6Address(dev: Device, address: string, prefixLen: number): KResult {
  const index = dev.ipv6.findIndex((a) => a.address === address && a.prefixLen === prefixLen);
  if (index < 0) return fail('EADDRNOTAVAIL');
  const [removed] = dev.ipv6.splice(index, 1);
  dadStop(removed!);
  removePrefixRoute6(dev, removed!);
  return OK;
}

export const LOOPBACK_ADDRESS = ipv4(127, 0, 0, 1);
