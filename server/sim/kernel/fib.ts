// The forwarding information base: the main table held as routes, the local
// table derived from addresses, longest-prefix lookup and source selection.
import { inPrefix, isLoopback, networkOf, prefixMask, type Ipv4 } from './addr';
import type { Device, Ipv4Address } from './device';
import { fail, ok, OK, type KResult } from './errno';
import type { NetNs } from './netns';

export type RouteType = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'local';
export type RouteScope = 'global' | 'link' | 'host';
export type RouteProto = 'kernel' | 'boot' | 'static' | 'dhcp' | string;

export interface Route {
  type: RouteType;
  dst: Ipv4;
  prefixLen: number;
  gateway: Ipv4 | null;
  dev: Device | null;
  proto: RouteProto;
  scope: RouteScope;
  /** Preferred source (`src`), set by the user or for connected routes. */
  prefsrc: Ipv4 | null;
  metric: number;
  onlink: boolean;
}

export interface RouteSpec {
  type?: RouteType;
  dst: Ipv4;
  prefixLen: number;
  gateway?: Ipv4 | null;
  dev?: Device | null;
  proto?: RouteProto;
  scope?: RouteScope;
  prefsrc?: Ipv4 | null;
  metric?: number;
  onlink?: boolean;
}

/** Kernel dump order: by destination, then the longer prefix first, then metric. */
function compareRoutes(a: Route, b: Route): number {
  return a.dst - b.dst || b.prefixLen - a.prefixLen || a.metric - b.metric;
}

export function primaryAddresses(dev: Device): Ipv4Address[] {
  return dev.ipv4.filter((a) => !a.secondary);
}

/** Whether `addr` is one of this namespace's own (the local table's `local` routes). */
export function isLocalAddress(ns: NetNs, addr: Ipv4): boolean {
  // Local routes stay while a device is down: its addresses remain the host's.
  for (const dev of ns.devices.values()) {
    for (const a of dev.ipv4) {
      if (a.local === addr) return true;
      // 127.0.0.1/8 on lo makes the whole prefix local.
      if (dev.kind.name === 'loopback' && inPrefix(addr, a.local, a.prefixLen) && isLoopback(addr)) return true;
    }
  }
  return false;
}

/** inet_select_addr: the address a packet leaving `dev` towards `dst` takes. */
export function selectSource(ns: NetNs, dev: Device | null, dst: Ipv4, maxScope: RouteScope = 'global'): Ipv4 | null {
  const rank = { global: 0, link: 1, host: 2 } as const;
  if (dev) {
    let first: Ipv4 | null = null;
    for (const a of primaryAddresses(dev)) {
      if (rank[a.scope] > rank[maxScope]) continue;
      if (inPrefix(dst, a.local, a.prefixLen)) return a.local;
      if (first === null) first = a.local;
    }
    if (first !== null) return first;
  }
  for (const other of ns.sortedDevices()) {
    for (const a of primaryAddresses(other)) {
      if (a.scope !== 'link' && rank[a.scope] <= rank[maxScope]) return a.local;
    }
  }
  return null;
}

/** A route is usable while its device is up (routes through down devices are flushed). */
function usable(route: Route): boolean {
  return route.dev === null || route.dev.adminUp;
}

export interface FibResult {
  type: RouteType;
  route: Route | null;
  dev: Device | null;
  /** Where the packet goes next on the link: the gateway or the destination itself. */
  nexthop: Ipv4;
  prefsrc: Ipv4 | null;
}

/** fib_lookup: local addresses first, then the longest matching prefix, lowest metric. */
export function fibLookup(ns: NetNs, dst: Ipv4, oif: Device | null = null): FibResult | null {
  if (isLocalAddress(ns, dst)) {
    const lo = ns.device('lo') ?? null;
    return { type: 'local', route: null, dev: lo, nexthop: dst, prefsrc: dst };
  }
  let best: Route | null = null;
  for (const route of ns.routes) {
    if (!usable(route) || !inPrefix(dst, route.dst, route.prefixLen)) continue;
    if (oif && route.dev !== oif) continue;
    if (!best || route.prefixLen > best.prefixLen || (route.prefixLen === best.prefixLen && route.metric < best.metric)) best = route;
  }
  if (!best) {
    if (oif && oif.adminUp) {
      // SO_BINDTODEVICE without a matching route: the destination is taken as on-link.
      return { type: 'unicast', route: null, dev: oif, nexthop: dst, prefsrc: selectSource(ns, oif, dst) };
    }
    return null;
  }
  // A gateway that is one of our own addresses makes the route behave as on-link (nh scope host).
  const nexthop = best.gateway !== null && !isLocalAddress(ns, best.gateway) ? best.gateway : dst;
  const prefsrc = best.prefsrc ?? selectSource(ns, best.dev, best.gateway ?? dst, best.gateway ? 'global' : 'global');
  return { type: best.type, route: best, dev: best.dev, nexthop, prefsrc };
}

export function sortedRoutes(ns: NetNs): Route[] {
  return ns.routes.slice().sort(compareRoutes);
}

function sameKey(a: Route, spec: { dst: Ipv4; prefixLen: number; metric: number }): boolean {
  return a.dst === spec.dst && a.prefixLen === spec.prefixLen && a.metric === spec.metric;
}

/** Checks a gateway the way fib_check_nh does for a route being added. */
function checkGateway(ns: NetNs, gateway: Ipv4, dev: Device | null, onlink: boolean): KResult<Device> {
  if (onlink) {
    if (!dev) return fail('EINVAL', 'Nexthop device required for onlink');
    if (!dev.adminUp) return fail('ENETDOWN', 'Nexthop device is not up');
    return ok(dev);
  }
  let match: Route | null = null;
  for (const route of ns.routes) {
    if (!usable(route) || route.type !== 'unicast' || !inPrefix(gateway, route.dst, route.prefixLen)) continue;
    if (dev && route.dev !== dev) continue;
    if (!match || route.prefixLen > match.prefixLen || (route.prefixLen === match.prefixLen && route.metric < match.metric)) match = route;
  }
  // The gateway must be directly reachable: the route to it has no gateway of its own.
  if (!match || match.gateway !== null || !match.dev) return fail('EINVAL', 'Nexthop has invalid gateway');
  return ok(match.dev);
}

export type AddMode = 'add' | 'replace' | 'change' | 'append' | 'prepend';

export function addRoute(ns: NetNs, spec: RouteSpec, mode: AddMode = 'add'): KResult {
  const type = spec.type ?? 'unicast';
  let dev = spec.dev ?? null;
  const gateway = spec.gateway ?? null;
  const dst = networkOf(spec.dst, spec.prefixLen);
  if (dst !== spec.dst) return fail('EINVAL', 'Invalid prefix for given prefix length');
  if (type === 'unicast') {
    if (gateway !== null) {
      const checked = checkGateway(ns, gateway, dev, spec.onlink ?? false);
      if (!checked.ok) return checked;
      dev = checked.value;
    } else if (!dev) {
      return fail('ENODEV');
    } else if (!dev.adminUp) {
      return fail('ENETDOWN', 'Nexthop device is not up');
    }
  }
  const route: Route = {
    type,
    dst,
    prefixLen: spec.prefixLen,
    gateway,
    dev,
    proto: spec.proto ?? 'boot',
    scope: spec.scope ?? (type === 'unicast' && gateway === null ? 'link' : type === 'local' ? 'host' : 'global'),
    prefsrc: spec.prefsrc ?? null,
    metric: spec.metric ?? 0,
    onlink: spec.onlink ?? false,
  };
  if (route.prefsrc !== null && !isLocalAddress(ns, route.prefsrc)) return fail('EINVAL', 'Invalid prefsrc address');
  const existing = ns.routes.findIndex((r) => sameKey(r, route));
  if (mode === 'add' || mode === 'prepend' || mode === 'append') {
    if (existing >= 0 && mode === 'add') return fail('EEXIST');
    ns.routes.push(route);
  } else if (mode === 'replace') {
    if (existing >= 0) ns.routes[existing] = route;
    else ns.routes.push(route);
  } else {
    if (existing < 0) return fail('ENOENT');
    ns.routes[existing] = route;
  }
  ns.routes.sort(compareRoutes);
  return OK;
}

export interface RouteSelector {
  dst: Ipv4;
  prefixLen: number;
  gateway?: Ipv4 | null;
  dev?: Device | null;
  metric?: number | null;
  proto?: RouteProto | null;
  scope?: RouteScope | null;
  type?: RouteType | null;
}

/** fib_table_delete: the first route matching every attribute given. */
export function deleteRoute(ns: NetNs, sel: RouteSelector): KResult {
  const index = ns.routes.findIndex(
    (r) =>
      r.dst === sel.dst &&
      r.prefixLen === sel.prefixLen &&
      (sel.gateway == null || r.gateway === sel.gateway) &&
      (sel.dev == null || r.dev === sel.dev) &&
      (sel.metric == null || r.metric === sel.metric) &&
      (sel.proto == null || r.proto === sel.proto) &&
      (sel.type == null || r.type === sel.type),
  );
  if (index < 0) return fail('ESRCH');
  ns.routes.splice(index, 1);
  return OK;
}

/** Connected (prefix) route for an address, as fib_add_ifaddr installs it. */
export function addConnectedRoute(ns: NetNs, dev: Device, a: Ipv4Address): void {
  if (!dev.adminUp || a.secondary || dev.kind.name === 'loopback') return;
  const dst = networkOf(a.peer ?? a.local, a.prefixLen);
  if (a.prefixLen === 32 && a.peer === null) return;
  if (ns.routes.some((r) => r.dst === dst && r.prefixLen === a.prefixLen && r.dev === dev && r.proto === 'kernel')) return;
  ns.routes.push({ type: 'unicast', dst, prefixLen: a.prefixLen, gateway: null, dev, proto: 'kernel', scope: 'link', prefsrc: a.local, metric: 0, onlink: false });
  ns.routes.sort(compareRoutes);
}

export function removeConnectedRoute(ns: NetNs, dev: Device, a: Ipv4Address): void {
  const dst = networkOf(a.peer ?? a.local, a.prefixLen);
  ns.routes = ns.routes.filter((r) => !(r.proto === 'kernel' && r.dev === dev && r.dst === dst && r.prefixLen === a.prefixLen && r.prefsrc === a.local));
  // Routes whose gateway is no longer reachable die with the prefix (fib_sync_down_addr).
  pruneUnreachableGateways(ns);
}

/** Routes through a device that went down or away are flushed (fib_sync_down_dev). */
export function flushDeviceRoutes(ns: NetNs, dev: Device): void {
  ns.routes = ns.routes.filter((r) => r.dev !== dev);
}

function pruneUnreachableGateways(ns: NetNs): void {
  ns.routes = ns.routes.filter((r) => {
    if (r.gateway === null || r.onlink || !r.dev) return true;
    return r.dev.ipv4.some((a) => inPrefix(r.gateway!, a.local, a.prefixLen)) || ns.routes.some((o) => o !== r && o.gateway === null && o.dev === r.dev && inPrefix(r.gateway!, o.dst, o.prefixLen));
  });
}

export function netmaskOf(len: number): Ipv4 {
  return prefixMask(len);
}
