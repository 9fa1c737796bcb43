// Interface addresses (net/ipv4/devinet.c and IPv6 addrconf for link-local):
// adding, deleting, and the connected routes that follow them.
import { inPrefix, ipv4, linkLocalFromMac, type Ipv4 } from './addr';
import type { Device, Ipv4Address } from './device';
import { fail, OK, type KResult } from './errno';
import { addConnectedRoute, removeConnectedRoute } from './fib';

export interface AddressOptions {
  broadcast?: Ipv4 | null;
  label?: string;
  scope?: Ipv4Address['scope'];
}

export function addIpv4Address(dev: Device, local: Ipv4, prefixLen: number, opts: AddressOptions = {}, replace = false): KResult {
  const existing = dev.ipv4.find((a) => a.local === local && a.prefixLen === prefixLen);
  if (existing) {
    if (!replace) return fail('EEXIST');
    if (opts.broadcast !== undefined) existing.broadcast = opts.broadcast;
    if (opts.label) existing.label = opts.label;
    if (opts.scope) existing.scope = opts.scope;
    return OK;
  }
  const secondary = dev.ipv4.some((a) => !a.secondary && a.prefixLen === prefixLen && inPrefix(local, a.local, prefixLen));
  const address: Ipv4Address = {
    local,
    prefixLen,
    broadcast: opts.broadcast ?? null,
    label: opts.label ?? dev.name,
    secondary,
    scope: opts.scope ?? (local >>> 24 === 127 ? 'host' : 'global'),
  };
  // Primaries are listed before secondaries (inet_insert_ifa).
  if (secondary) dev.ipv4.push(address);
  else {
    const firstSecondary = dev.ipv4.findIndex((a) => a.secondary);
    if (firstSecondary < 0) dev.ipv4.push(address);
    else dev.ipv4.splice(firstSecondary, 0, address);
  }
  addConnectedRoute(dev.ns, dev, address);
  return OK;
}

/** Deletes the first address matching; `prefixLen` null matches any length. */
export function deleteIpv4Address(dev: Device, local: Ipv4, prefixLen: number | null): KResult {
  const index = dev.ipv4.findIndex((a) => a.local === local && (prefixLen === null || a.prefixLen === prefixLen));
  if (index < 0) return fail('EADDRNOTAVAIL');
  const [removed] = dev.ipv4.splice(index, 1);
  if (!removed!.secondary) {
    // Without promote_secondaries, the primary takes its secondaries with it.
    const doomed = dev.ipv4.filter((a) => a.secondary && a.prefixLen === removed!.prefixLen && inPrefix(a.local, removed!.local, removed!.prefixLen));
    dev.ipv4 = dev.ipv4.filter((a) => !doomed.includes(a));
  }
  removeConnectedRoute(dev.ns, dev, removed!);
  return OK;
}

export function flushIpv4Addresses(dev: Device): void {
  while (dev.ipv4.length) deleteIpv4Address(dev, dev.ipv4[0]!.local, dev.ipv4[0]!.prefixLen);
}

/** addrconf: link-local once a device runs, ::1 on loopback; all IPv6 goes when it is down. */
export function syncIpv6(dev: Device): void {
  if (!dev.adminUp) {
    dev.ipv6 = [];
    return;
  }
  if (dev.kind.name === 'loopback') {
    if (!dev.ipv6.some((a) => a.address === '::1')) dev.ipv6.push({ address: '::1', prefixLen: 128, scope: 'host' });
    return;
  }
  if (dev.running && !dev.ipv6.some((a) => a.scope === 'link')) {
    dev.ipv6.push({ address: linkLocalFromMac(dev.mac), prefixLen: 64, scope: 'link' });
  }
}

export const LOOPBACK_ADDRESS = ipv4(127, 0, 0, 1);
