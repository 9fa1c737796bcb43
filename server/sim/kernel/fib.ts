// The forwarding information base: routing tables held as routes (the local
// table derived from addresses), policy rules choosing which tables a lookup
// consults, longest-prefix lookup and source selection.
import { inPrefix, networkOf, prefixMask, type Ipv4 } from './addr';
import type { Device, Ipv4Address } from './device';
import { fail, ok, OK, type Errno, type KResult } from './errno';
import type { NetNs } from './netns';

/** rtm_type: the kinds of route the kernel knows (the lab makes all but anycast, nat and xresolve). */
export type RouteType = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw' | 'local' | 'broadcast' | 'multicast' | 'anycast' | 'nat' | 'xresolve';

export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

/** fib_props[].error: what a lookup ending on a route of this type fails with (throw goes on to the next rule). */
const ROUTE_TYPE_ERRORS: Partial<Record<RouteType, Errno>> = { blackhole: 'EINVAL', unreachable: 'EHOSTUNREACH', prohibit: 'EACCES' };

/** Route types that only say what becomes of a packet: they have no nexthop (no gateway, no device). */
function nexthopless(type: RouteType): boolean {
  return type === 'throw' || ROUTE_TYPE_ERRORS[type] !== undefined;
}

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
  table: number;
  /** RTA_METRICS (`mtu`, `advmss`, …), in RTAX order. */
  metrics?: RouteMetric[];
  /** RTA_MULTIPATH: a route over several nexthops has them here, and no gateway or device of its own. */
  nexthops?: Nexthop[];
}

export interface Nexthop {
  gateway: Ipv4 | null;
  dev: Device;
  weight: number;
}

/**
 * The nexthop a packet takes: a multipath route's first whose device is up.
 * (Linux picks among them by a hash of the flow keyed at random each boot.)
 */
export function firstHop(route: Route): { gateway: Ipv4 | null; dev: Device | null } {
  return route.nexthops?.find((nh) => nh.dev.adminUp) ?? route.nexthops?.[0] ?? route;
}

export interface RouteMetric {
  name: string;
  value: number;
  /** `lock`: the value is not to be changed by the stack (path MTU discovery, say). */
  lock: boolean;
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
  table?: number;
  metrics?: RouteMetric[];
  /** Several nexthops, each checked as a route's gateway and device would be. */
  nexthops?: Array<{ gateway: Ipv4 | null; dev: Device | null; weight: number }>;
}

/** A routing policy rule (struct fib_rule): a selector and what to do with a packet it matches. */
export interface FibRule {
  pref: number;
  /** `not`: the rule applies to what the selector does not match. */
  invert: boolean;
  src: { addr: Ipv4; prefixLen: number } | null;
  dst: { addr: Ipv4; prefixLen: number } | null;
  tos: number;
  fwmark: number | null;
  fwmask: number | null;
  /** Interface names, kept even while no such device exists. */
  iif: string | null;
  oif: string | null;
  action: RuleAction;
  /** The table a `lookup` consults (0 for the other actions). */
  table: number;
}

export type RuleAction = 'lookup' | 'blackhole' | 'unreachable' | 'prohibit';

/** What a rule whose action is not a lookup answers (fib4_rule_action). */
const RULE_ACTION_ERRORS: Record<Exclude<RuleAction, 'lookup'>, Errno> = { blackhole: 'EINVAL', unreachable: 'ENETUNREACH', prohibit: 'EACCES' };

function lookupRule(pref: number, table: number): FibRule {
  return { pref, invert: false, src: null, dst: null, tos: 0, fwmark: null, fwmask: null, iif: null, oif: null, action: 'lookup', table };
}

/** fib_default_rules_init: every namespace starts with these (shared: a namespace's rules are replaced, never changed in place). */
export const DEFAULT_RULES: readonly FibRule[] = Object.freeze([lookupRule(0, RT_TABLE_LOCAL), lookupRule(32766, RT_TABLE_MAIN), lookupRule(32767, RT_TABLE_DEFAULT)]);

/** fib_default_rule_pref: one below the rule after the first, or 0. */
function defaultRulePref(ns: NetNs): number {
  const second = ns.rules[1];
  return second && second.pref > 0 ? second.pref - 1 : 0;
}

/** fib_nl_newrule: without a preference it takes the default one; it goes after the rules of equal preference. */
export function addRule(ns: NetNs, spec: Omit<FibRule, 'pref'> & { pref: number | null }): void {
  const rule: FibRule = { ...spec, pref: spec.pref ?? defaultRulePref(ns) };
  let at = 0;
  while (at < ns.rules.length && ns.rules[at]!.pref <= rule.pref) at++;
  ns.rules = [...ns.rules.slice(0, at), rule, ...ns.rules.slice(at)];
  ns.customRules = true;
}

/** fib_nl_delrule: the first rule matching every attribute the selector gives (`not` is not compared). */
export function deleteRule(ns: NetNs, sel: Partial<FibRule>): KResult {
  const index = ns.rules.findIndex(
    (r) =>
      (sel.pref === undefined || r.pref === sel.pref) &&
      (sel.src === undefined || samePrefix(r.src, sel.src)) &&
      (sel.dst === undefined || samePrefix(r.dst, sel.dst)) &&
      (sel.tos === undefined || r.tos === sel.tos) &&
      (sel.fwmark === undefined || r.fwmark === sel.fwmark) &&
      (sel.fwmask === undefined || r.fwmask === sel.fwmask) &&
      (sel.iif === undefined || r.iif === sel.iif) &&
      (sel.oif === undefined || r.oif === sel.oif) &&
      (sel.action === undefined || r.action === sel.action) &&
      (sel.table === undefined || r.table === sel.table),
  );
  if (index < 0) return fail('ENOENT');
  ns.rules = ns.rules.filter((_, i) => i !== index);
  ns.customRules = true;
  return OK;
}

function samePrefix(a: FibRule['src'], b: FibRule['src']): boolean {
  return a === b || (a !== null && b !== null && a.addr === b.addr && a.prefixLen === b.prefixLen);
}

/** The flow a lookup is for beyond its destination: a source, the interface it came in on (lo for local output), a mark. */
export interface FlowKey {
  src?: Ipv4 | null;
  iif?: Device | null;
  mark?: number;
}

const LOCAL_FLOW: FlowKey = {};

/** fib_rule_match with fib4_rule_match; flows here carry no TOS, so a rule selecting one never matches. */
function ruleMatches(rule: FibRule, dst: Ipv4, oif: Device | null, flow: FlowKey): boolean {
  const matched =
    rule.tos === 0 &&
    (rule.iif === null || rule.iif === (flow.iif ? flow.iif.name : 'lo')) &&
    (rule.oif === null || rule.oif === oif?.name) &&
    (rule.fwmark === null || (((rule.fwmark ^ (flow.mark ?? 0)) & (rule.fwmask ?? 0xffffffff)) >>> 0) === 0) &&
    (rule.src === null || inPrefix(flow.src ?? 0, rule.src.addr, rule.src.prefixLen)) &&
    (rule.dst === null || inPrefix(dst, rule.dst.addr, rule.dst.prefixLen));
  return matched !== rule.invert;
}

/** Kernel dump order: by destination, then the longer prefix first, then metric. */
function compareRoutes(a: Route, b: Route): number {
  return a.dst - b.dst || b.prefixLen - a.prefixLen || a.metric - b.metric;
}

export function primaryAddresses(dev: Device): Ipv4Address[] {
  return dev.ipv4.filter((a) => !a.secondary);
}

/** Scopes from the widest to the narrowest. */
const SCOPE_RANK = { global: 0, link: 1, host: 2 } as const;

/** The primary address a secondary belongs to (itself for a primary). */
export function primaryOf(dev: Device, a: Ipv4Address): Ipv4Address {
  if (!a.secondary) return a;
  return dev.ipv4.find((x) => !x.secondary && x.prefixLen === a.prefixLen && inPrefix(a.local, x.local, x.prefixLen)) ?? a;
}

/**
 * The local table's `local` route for `addr`, when it is one of this
 * namespace's own: the device holding the address (null for a route added by
 * hand), and the source the route prefers, the primary address of its subnet.
 */
function localRoute(ns: NetNs, addr: Ipv4): { dev: Device | null; prefsrc: Ipv4 } | null {
  // Local routes stay while a device is down: its addresses remain the host's.
  for (const dev of ns.devices.values()) {
    for (const a of dev.ipv4) {
      // An address on lo makes its whole prefix local (127.0.0.1/8 all of 127/8).
      if (a.local === addr || (dev.kind.name === 'loopback' && inPrefix(addr, a.local, a.prefixLen))) return { dev, prefsrc: primaryOf(dev, a).local };
    }
  }
  // A local route added by hand (`ip route add local PREFIX dev lo`) makes its whole prefix ours.
  const route = tableLookup(ns.tables.get(RT_TABLE_LOCAL) ?? [], addr, null);
  return route?.type === 'local' ? { dev: null, prefsrc: route.prefsrc ?? addr } : null;
}

/** When `addr` is one of this namespace's own, the source its local route prefers. */
export function localRouteSource(ns: NetNs, addr: Ipv4): Ipv4 | null {
  return localRoute(ns, addr)?.prefsrc ?? null;
}

/** Whether `addr` is one of this namespace's own. */
export function isLocalAddress(ns: NetNs, addr: Ipv4): boolean {
  return localRoute(ns, addr) !== null;
}

/** inet_select_addr: the address a packet leaving `dev` towards `dst` takes. */
export function selectSource(ns: NetNs, dev: Device | null, dst: Ipv4, maxScope: RouteScope = 'global'): Ipv4 | null {
  if (dev) {
    let first: Ipv4 | null = null;
    for (const a of primaryAddresses(dev)) {
      if (SCOPE_RANK[a.scope] > SCOPE_RANK[maxScope]) continue;
      if (inPrefix(dst, a.local, a.prefixLen)) return a.local;
      if (first === null) first = a.local;
    }
    if (first !== null) return first;
  }
  for (const other of ns.sortedDevices()) {
    for (const a of primaryAddresses(other)) {
      if (a.scope !== 'link' && SCOPE_RANK[a.scope] <= SCOPE_RANK[maxScope]) return a.local;
    }
  }
  return null;
}

/**
 * ip_ignore_linkdown: a device without carrier whose conf (or all's) sets
 * ignore_routes_with_linkdown has its routes skipped, and dumped as dead.
 */
export function linkdownIgnored(dev: Device): boolean {
  if (dev.carrier) return false;
  const knob = (scope: string) => dev.ns.sysctl.get(`net.ipv4.conf.${scope}.ignore_routes_with_linkdown`) ?? '0';
  return knob(dev.name) !== '0' || knob('all') !== '0';
}

/** A route is usable while its device is up (routes through down devices are flushed) and its carrier not ignored. */
function usable(route: Route): boolean {
  const dev = firstHop(route).dev;
  return dev === null || (dev.adminUp && !linkdownIgnored(dev));
}

export interface FibResult {
  type: RouteType;
  route: Route | null;
  dev: Device | null;
  /** Where the packet goes next on the link: the gateway or the destination itself. */
  nexthop: Ipv4;
  prefsrc: Ipv4 | null;
}

/**
 * fib_table_lookup: the longest matching prefix, lowest metric, among the
 * routes at least as narrow as `minScope`. An output device does not filter
 * out routes without a nexthop.
 */
function tableLookup(routes: Route[], dst: Ipv4, oif: Device | null, minScope: RouteScope = 'global'): Route | null {
  let best: Route | null = null;
  for (const route of routes) {
    if (!usable(route) || !inPrefix(dst, route.dst, route.prefixLen)) continue;
    if (oif && firstHop(route).dev !== oif && !nexthopless(route.type)) continue;
    if (SCOPE_RANK[route.scope] < SCOPE_RANK[minScope]) continue;
    if (!best || route.prefixLen > best.prefixLen || (route.prefixLen === best.prefixLen && route.metric < best.metric)) best = route;
  }
  return best;
}

/**
 * fib_lookup: the route, or the errno the lookup fails with (a bare value:
 * this runs for every packet). The rules are tried in order; a lookup rule
 * consults its table (the local table being this namespace's addresses), and
 * a table without a match, or a throw route, passes on to the next rule.
 */
export function fibResolve(ns: NetNs, dst: Ipv4, oif: Device | null = null, flow: FlowKey = LOCAL_FLOW): FibResult | Errno {
  const res = ruleLookup(ns, dst, oif, flow);
  // With SO_BINDTODEVICE a failed lookup, whatever its error, takes the destination as on-link.
  if (typeof res === 'string' && oif && oif.adminUp) return { type: 'unicast', route: null, dev: oif, nexthop: dst, prefsrc: selectSource(ns, oif, dst) };
  return res;
}

/** The route a packet to `dst` takes, or null when the lookup fails. */
export function fibLookup(ns: NetNs, dst: Ipv4, oif: Device | null = null, flow: FlowKey = LOCAL_FLOW): FibResult | null {
  const res = fibResolve(ns, dst, oif, flow);
  return typeof res === 'string' ? null : res;
}

function ruleLookup(ns: NetNs, dst: Ipv4, oif: Device | null, flow: FlowKey): FibResult | Errno {
  for (const rule of ns.rules) {
    if (!ruleMatches(rule, dst, oif, flow)) continue;
    if (rule.action !== 'lookup') return RULE_ACTION_ERRORS[rule.action];
    if (rule.table === RT_TABLE_LOCAL) {
      // A bound device passes by local routes on other devices, as by any route: 127.0.0.1 bound to eth0 goes to the gateway.
      const local = localRoute(ns, dst);
      if (local && (!oif || !local.dev || oif === local.dev)) return { type: 'local', route: null, dev: ns.device('lo') ?? null, nexthop: dst, prefsrc: local.prefsrc };
      continue;
    }
    const table = ns.tables.get(rule.table);
    const route = table ? tableLookup(table, dst, oif) : null;
    if (!route || route.type === 'throw') continue;
    const error = ROUTE_TYPE_ERRORS[route.type];
    if (error) return error;
    // A gateway that is one of our own addresses makes the route behave as on-link (nh scope host).
    const hop = firstHop(route);
    const nexthop = hop.gateway !== null && !isLocalAddress(ns, hop.gateway) ? hop.gateway : dst;
    // A packet to a local route is ours: by default it comes from where it goes.
    const prefsrc = route.prefsrc ?? (route.type === 'local' ? dst : selectSource(ns, hop.dev, hop.gateway ?? dst));
    return { type: route.type, route, dev: hop.dev, nexthop, prefsrc };
  }
  return 'ENETUNREACH';
}

/** IN_DEV_RPFILTER: the larger of conf.all's and the device's rp_filter (1 strict, any other non-zero loose). */
function rpFilter(dev: Device): number {
  const sysctl = dev.ns.sysctl;
  return Math.max(Number(sysctl.ipv4Conf('all', 'rp_filter')), Number(sysctl.ipv4Conf(dev.name, 'rp_filter')));
}

/**
 * fib_validate_source under reverse-path filtering: whether a packet from
 * `src` to `dst` arriving on `dev`, for us (`oif` null) or to leave by `oif`,
 * passes. The route back to its source must be unicast and, when strict,
 * leave by `dev`; loose only needs it to exist.
 */
export function fibValidateSource(dev: Device, src: Ipv4, dst: Ipv4, oif: Device | null): boolean {
  const rpf = rpFilter(dev);
  if (rpf === 0) return true;
  const back = ruleLookup(dev.ns, src, null, { src: dst, iif: oif });
  if (typeof back === 'string' || back.type !== 'unicast') return false;
  return back.dev === dev || (rpf !== 1 && dev.ipv4.length > 0);
}

/** A table (the main one unless named) in dump order. */
export function sortedRoutes(ns: NetNs, tableId = RT_TABLE_MAIN): Route[] {
  return (ns.tables.get(tableId) ?? []).slice().sort(compareRoutes);
}

/** fib_new_table: a table comes into being with its first route and stays, empty or not. */
function tableFor(ns: NetNs, id: number): Route[] {
  let table = ns.tables.get(id);
  if (!table) ns.tables.set(id, (table = []));
  return table;
}

function sameKey(a: Route, spec: { dst: Ipv4; prefixLen: number; metric: number }): boolean {
  return a.dst === spec.dst && a.prefixLen === spec.prefixLen && a.metric === spec.metric;
}

/**
 * Checks a gateway the way fib_check_nh does for a route being added: it
 * must be reachable directly, through a route of narrower scope (link or
 * host) in the route's own table or else the main one; a route asking for
 * link or host scope itself leaves none narrower to reach it by.
 */
function checkGateway(ns: NetNs, gateway: Ipv4, dev: Device | null, onlink: boolean, scope: RouteScope | undefined, tableId: number): KResult<Device> {
  if (onlink) {
    if (!dev) return fail('EINVAL', 'Nexthop device required for onlink');
    if (!dev.adminUp) return fail('ENETDOWN', 'Nexthop device is not up');
    return ok(dev);
  }
  const invalid = fail('EINVAL', 'Nexthop has invalid gateway');
  if (scope === 'link' || scope === 'host') return invalid;
  const table = ns.tables.get(tableId);
  const match = (table && tableLookup(table, gateway, dev, 'link')) ?? (tableId !== RT_TABLE_MAIN ? tableLookup(ns.routes, gateway, dev, 'link') : null);
  if (!match?.dev) return invalid;
  return ok(match.dev);
}

/** What RTM_NEWROUTE's flags ask for; `test` is NLM_F_EXCL alone. */
/** fib_check_nh: a gateway must be reachable (giving the device), a bare device must be up. */
function checkNexthop(ns: NetNs, gateway: Ipv4 | null, dev: Device | null, onlink: boolean, scope: RouteScope | undefined, tableId: number): KResult<Device> {
  if (gateway !== null) return checkGateway(ns, gateway, dev, onlink, scope, tableId);
  if (!dev) return fail('ENODEV');
  if (!dev.adminUp) return fail('ENETDOWN', 'Nexthop device is not up');
  return ok(dev);
}

export type AddMode = 'add' | 'replace' | 'change' | 'append' | 'prepend' | 'test';

export function addRoute(ns: NetNs, spec: RouteSpec, mode: AddMode = 'add'): KResult {
  const type = spec.type ?? 'unicast';
  const tableId = spec.table ?? RT_TABLE_MAIN;
  // A single nexthop given as such is a plain route.
  const single = spec.nexthops?.length === 1 ? spec.nexthops[0]! : null;
  let dev = single ? single.dev : (spec.dev ?? null);
  const gateway = single ? single.gateway : (spec.gateway ?? null);
  const dst = networkOf(spec.dst, spec.prefixLen);
  if (dst !== spec.dst) return fail('EINVAL', 'Invalid prefix for given prefix length');
  const nexthop = (gw: Ipv4 | null, via: Device | null) => checkNexthop(ns, gw, via, spec.onlink ?? false, spec.scope, tableId);
  let nexthops: Nexthop[] | undefined;
  if (nexthopless(type)) {
    if (gateway !== null || dev !== null || spec.nexthops) return fail('EINVAL', 'Gateway, device and multipath can not be specified for this route type');
  } else if (type === 'unicast' && spec.nexthops && !single) {
    nexthops = [];
    for (const nh of spec.nexthops) {
      const checked = nexthop(nh.gateway, nh.dev);
      if (!checked.ok) return checked;
      nexthops.push({ gateway: nh.gateway, dev: checked.value, weight: nh.weight });
    }
  } else if (type === 'unicast') {
    const checked = nexthop(gateway, dev);
    if (!checked.ok) return checked;
    dev = checked.value;
  }
  const route: Route = {
    type,
    dst,
    prefixLen: spec.prefixLen,
    gateway,
    dev,
    proto: spec.proto ?? 'boot',
    scope: spec.scope ?? ((type === 'unicast' && gateway === null && !nexthops) || type === 'broadcast' ? 'link' : type === 'local' ? 'host' : 'global'),
    prefsrc: spec.prefsrc ?? null,
    metric: spec.metric ?? 0,
    onlink: spec.onlink ?? false,
    table: tableId,
    ...(spec.metrics?.length ? { metrics: spec.metrics } : {}),
    ...(nexthops ? { nexthops } : {}),
  };
  if (route.prefsrc !== null && !isLocalAddress(ns, route.prefsrc)) return fail('EINVAL', 'Invalid prefsrc address');
  const table = tableFor(ns, tableId);
  const existing = table.findIndex((r) => sameKey(r, route));
  if (existing < 0) {
    // Without NLM_F_CREATE (change, test) nothing comes into being.
    if (mode === 'change' || mode === 'test') return fail('ENOENT');
    table.push(route);
  } else if (mode === 'add' || mode === 'test') return fail('EEXIST');
  else if (mode === 'replace' || mode === 'change') table[existing] = route;
  else {
    // prepend and append add an alias, but never a second identical route.
    if (table.some((r) => sameKey(r, route) && sameRoute(r, route))) return fail('EEXIST');
    if (mode === 'prepend') table.splice(existing, 0, route);
    else table.push(route);
  }
  table.sort(compareRoutes);
  return OK;
}

/** fa_match: the same type and fib_info (nexthop, source, protocol, scope and metrics). */
function sameRoute(a: Route, b: Route): boolean {
  const metrics = (r: Route) => JSON.stringify(r.metrics ?? []);
  const hops = (r: Route) => (r.nexthops ?? []).map((nh) => `${nh.gateway}/${nh.dev.ifindex}/${nh.weight}`).join();
  return a.type === b.type && a.gateway === b.gateway && a.dev === b.dev && a.prefsrc === b.prefsrc && a.proto === b.proto && a.scope === b.scope && metrics(a) === metrics(b) && hops(a) === hops(b);
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
  table?: number | null;
}

/** fib_table_delete: the first route matching every attribute given (in the main table unless one is named). */
export function deleteRoute(ns: NetNs, sel: RouteSelector): KResult {
  const table = ns.tables.get(sel.table ?? RT_TABLE_MAIN);
  const index = (table ?? []).findIndex(
    (r) =>
      r.dst === sel.dst &&
      r.prefixLen === sel.prefixLen &&
      (sel.gateway == null || firstHop(r).gateway === sel.gateway) &&
      (sel.dev == null || firstHop(r).dev === sel.dev) &&
      (sel.metric == null || r.metric === sel.metric) &&
      (sel.proto == null || r.proto === sel.proto) &&
      (sel.type == null || r.type === sel.type),
  );
  if (!table || index < 0) return fail('ESRCH');
  table.splice(index, 1);
  return OK;
}

/** Keeps, in every table, only the routes `keep` accepts. */
export function filterRoutes(ns: NetNs, keep: (route: Route) => boolean): void {
  for (const [id, routes] of ns.tables) ns.tables.set(id, routes.filter(keep));
}

/** Connected (prefix) route for an address, as fib_add_ifaddr installs it. */
export function addConnectedRoute(ns: NetNs, dev: Device, a: Ipv4Address): void {
  if (!dev.adminUp || a.secondary || a.noprefixroute || dev.kind.name === 'loopback') return;
  const dst = networkOf(a.peer ?? a.local, a.prefixLen);
  if (a.prefixLen === 32 && a.peer === null) return;
  if (ns.routes.some((r) => r.dst === dst && r.prefixLen === a.prefixLen && r.dev === dev && r.proto === 'kernel')) return;
  ns.routes.push({ type: 'unicast', dst, prefixLen: a.prefixLen, gateway: null, dev, proto: 'kernel', scope: 'link', prefsrc: a.local, metric: a.routeMetric, onlink: false, table: RT_TABLE_MAIN });
  ns.routes.sort(compareRoutes);
}

export function removeConnectedRoute(ns: NetNs, dev: Device, a: Ipv4Address): void {
  const dst = networkOf(a.peer ?? a.local, a.prefixLen);
  filterRoutes(ns, (r) => !(r.proto === 'kernel' && r.dev === dev && r.dst === dst && r.prefixLen === a.prefixLen && r.prefsrc === a.local));
  // Routes whose gateway is no longer reachable die with the prefix (fib_sync_down_addr).
  pruneUnreachableGateways(ns);
}

/**
 * The local table as fib_add_ifaddr fills it: a local route for every address,
 * kept while its device is down (its nexthop has scope nowhere); the
 * loopback's whole prefix; and, while the device is up, the broadcasts. Each
 * takes the source of the address's primary. Routes to one destination are
 * listed in the order they were made; a route the same in all is made once.
 */
export function localTableRoutes(ns: NetNs): Route[] {
  const routes = new Map<string, Route>();
  const add = (type: RouteType, dst: Ipv4, prefixLen: number, dev: Device, prefsrc: Ipv4) => {
    const key = `${type} ${dst}/${prefixLen} ${dev.ifindex}`;
    const scope = type === 'local' ? 'host' : 'link';
    if (!routes.has(key)) routes.set(key, { type, dst, prefixLen, gateway: null, dev, proto: 'kernel', scope, prefsrc, metric: 0, onlink: false, table: RT_TABLE_LOCAL });
  };
  const addresses = [...ns.devices.values()].flatMap((dev) => dev.ipv4.map((a) => ({ dev, a }))).sort((x, y) => x.a.seq - y.a.seq);
  for (const { dev, a } of addresses) {
    const src = primaryOf(dev, a).local;
    const net = networkOf(a.local, a.prefixLen);
    if (dev.kind.name === 'loopback' && a.prefixLen < 32) add('local', net, a.prefixLen, dev, src);
    add('local', a.local, 32, dev, src);
    if (!dev.adminUp) continue;
    const subnetBroadcast = (net | (~prefixMask(a.prefixLen) >>> 0)) >>> 0;
    if (a.broadcast !== null && a.broadcast !== subnetBroadcast) add('broadcast', a.broadcast, 32, dev, src);
    if (a.prefixLen < 31) add('broadcast', subnetBroadcast, 32, dev, src);
  }
  // Routes added to the table by hand join the kernel's.
  return [...routes.values(), ...(ns.tables.get(RT_TABLE_LOCAL) ?? [])].sort((x, y) => x.dst - y.dst || x.prefixLen - y.prefixLen);
}

/** Routes through a device that went down or away are flushed (fib_sync_down_dev), IPv6 ones too (rt6_sync_down_dev). */
export function flushDeviceRoutes(ns: NetNs, dev: Device): void {
  // A multipath route goes with the last of its nexthops' devices.
  filterRoutes(ns, (r) => r.dev !== dev && !(r.nexthops?.every((nh) => nh.dev === dev) ?? false));
  ns.routes6 = ns.routes6.filter((r) => r.dev !== dev);
}

function pruneUnreachableGateways(ns: NetNs): void {
  filterRoutes(ns, (r) => {
    if (r.gateway === null || r.onlink || !r.dev) return true;
    return r.dev.ipv4.some((a) => inPrefix(r.gateway!, a.local, a.prefixLen)) || ns.routes.some((o) => o !== r && o.gateway === null && o.dev === r.dev && inPrefix(r.gateway!, o.dst, o.prefixLen));
  });
}

export function netmaskOf(len: number): Ipv4 {
  return prefixMask(len);
}
