// IPv6 (net/ipv6): duplicate address detection, the routing table
// (route.c, with the prefix routes addrconf makes for addresses), source
// address selection, local output, receive, forwarding, ICMPv6 echo and
// errors, and neighbour discovery's messages (ndisc.c); the neighbour table
// itself is the one ARP uses (neigh.ts).
import { compareIpv6, IPV6_ANY, ipv6InPrefix, ipv6MulticastMac, ipv6Network, isIpv6LinkLocal, isIpv6Multicast, solicitedNode, type Ipv6, type Mac } from './addr';
import { IFF_MULTICAST, type Device, type Ipv6Address } from './device';
import { fail, ok, OK, type Errno, type KResult } from './errno';
import { ipv6Disabled } from './address';
import type { AddMode } from './fib';
import { transmitFrame } from './l2';
import { neighLookup, neighOutput, neighSolicitSource, neighLearn, neighConfirm, type NeighEntry } from './neigh';
import type { NetNs } from './netns';
import {
  clonePacket6,
  ICMPV6_ADDR_UNREACH,
  ICMPV6_ADM_PROHIBITED,
  ICMPV6_DEST_UNREACH,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_NOROUTE,
  ICMPV6_TIME_EXCEED,
  NDISC_NEIGHBOUR_ADVERTISEMENT,
  NDISC_NEIGHBOUR_SOLICITATION,
  type Ipv6Packet,
} from './packet';

/** Simulated per-hop costs, as for IPv4. */
const HOP_US = { stack: 6, wire: 14 } as const;

// --- Duplicate address detection (addrconf_dad_*) ---

/** dad_transmits (1) solicitations, retrans_timer (1 s) apart, after a random delay of up to rtr_solicit_delay (1 s). */
const DAD_RETRANS_US = 1_000_000;
const DAD_MAX_DELAY_US = 1_000_000;

/**
 * addrconf_dad_run: on a ready link, tentative addresses start their
 * detection (nobody else claims them here, so each passes); on a link not
 * yet ready they wait for it.
 */
export function dadRun(dev: Device): void {
  if (!dev.ipv6Ready) return;
  for (const a of dev.ipv6) {
    if (a.tentative && !a.dadTimer) a.dadTimer = dev.ns.host.world.schedule(dev.ns.host.world.jitterUs(DAD_MAX_DELAY_US) + DAD_RETRANS_US, { kind: 'dad', dev, address: a });
  }
}

export function dadStop(a: Ipv6Address): void {
  if (a.dadTimer) a.dadTimer.cancelled = true;
  a.dadTimer = null;
}

/** addrconf_dad_completed: the address is the host's to use. */
export function dadCompleted(dev: Device, a: Ipv6Address): void {
  dadStop(a);
  if (dev.ipv6.includes(a)) a.tentative = false;
}

/** Finishes every detection under way in a namespace at once. */
export function dadSettle(ns: NetNs): void {
  for (const dev of ns.devices.values()) for (const a of dev.ipv6) if (a.dadTimer) dadCompleted(dev, a);
}

// --- Routes (ip6_fib) ---

export type Route6Type = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';

export interface Route6 {
  type: Route6Type;
  dst: Ipv6;
  prefixLen: number;
  gateway: Ipv6 | null;
  dev: Device | null;
  proto: string;
  metric: number;
}

/** IP6_RT_PRIO_USER and IP6_RT_PRIO_ADDRCONF: the metrics of routes added by hand and of prefix routes. */
const IP6_RT_PRIO_USER = 1024;
const IP6_RT_PRIO_ADDRCONF = 256;

/** What a lookup ending on a route of this type fails with (ip6_rt_type_to_error). */
const ROUTE6_ERRORS: Partial<Record<Route6Type, Errno>> = { blackhole: 'EINVAL', unreachable: 'EHOSTUNREACH', prohibit: 'EACCES' };

/** The prefix an address puts on its link: fe80::/64 for a link-local one, none for a /128. */
function prefixOf(a: Ipv6Address): { dst: Ipv6; prefixLen: number } | null {
  const prefixLen = a.scope === 'link' ? 64 : a.prefixLen;
  return prefixLen === 128 ? null : { dst: ipv6Network(a.address, prefixLen), prefixLen };
}

function isPrefixRoute(route: Route6, dev: Device, prefix: { dst: Ipv6; prefixLen: number }): boolean {
  return route.proto === 'kernel' && route.dev === dev && route.dst === prefix.dst && route.prefixLen === prefix.prefixLen;
}

/** addrconf_prefix_route: an address on an up device puts its prefix on the link, once. */
export function addPrefixRoute6(dev: Device, a: Ipv6Address): void {
  const prefix = prefixOf(a);
  if (!prefix || !dev.adminUp || dev.kind.name === 'loopback' || dev.ns.routes6.some((r) => isPrefixRoute(r, dev, prefix))) return;
  dev.ns.routes6.push({ type: 'unicast', ...prefix, gateway: null, dev, proto: 'kernel', metric: IP6_RT_PRIO_ADDRCONF });
}

/** The prefix route goes with the last address of its prefix on the device. */
export function removePrefixRoute6(dev: Device, a: Ipv6Address): void {
  const prefix = prefixOf(a);
  if (!prefix || dev.ipv6.some((other) => other !== a && prefixOf(other)?.dst === prefix.dst && prefixOf(other)?.prefixLen === prefix.prefixLen)) return;
  dev.ns.routes6 = dev.ns.routes6.filter((r) => !isPrefixRoute(r, dev, prefix));
}

/**
 * The dump's order, a walk of the prefix tree: a prefix after the narrower
 * ones inside it, otherwise by address; within a prefix by metric, then age.
 */
function compareDump(a: Route6, b: Route6): number {
  const shorter = Math.min(a.prefixLen, b.prefixLen);
  const byBits = compareIpv6(ipv6Network(a.dst, shorter), ipv6Network(b.dst, shorter));
  if (byBits !== 0) return byBits;
  if (a.prefixLen !== b.prefixLen) return b.prefixLen - a.prefixLen;
  return a.metric - b.metric;
}

/** The main table as `ip -6 route` lists it (the sort is stable: equal routes stay in the order added). */
export function dumpRoutes6(ns: NetNs): Route6[] {
  return [...ns.routes6].sort(compareDump);
}

/** Routes through a device that is down are not used (fib6_ifdown marks them dead); those that only refuse need none. */
function usable(route: Route6): boolean {
  return route.type !== 'unicast' || route.dev === null || route.dev.adminUp;
}

function tableLookup(ns: NetNs, dst: Ipv6, oif: Device | null, onlyOnLink = false): Route6 | null {
  let best: Route6 | null = null;
  for (const route of ns.routes6) {
    if (!usable(route) || !ipv6InPrefix(dst, route.dst, route.prefixLen)) continue;
    if (oif && route.dev !== oif && ROUTE6_ERRORS[route.type] === undefined) continue;
    if (onlyOnLink && (route.gateway !== null || route.type !== 'unicast')) continue;
    if (!best || route.prefixLen > best.prefixLen || (route.prefixLen === best.prefixLen && route.metric < best.metric)) best = route;
  }
  return best;
}

/** Whether `addr` is one of the namespace's own usable addresses (a local route); a link-local one only on its device when one is given. */
export function isLocalAddress6(ns: NetNs, addr: Ipv6, dev: Device | null = null): boolean {
  for (const d of ns.devices.values()) {
    if (dev && isIpv6LinkLocal(addr) && d !== dev) continue;
    if (d.ipv6.some((a) => a.address === addr && !a.tentative)) return true;
  }
  return false;
}

export interface Fib6Result {
  type: 'unicast' | 'local' | 'multicast';
  route: Route6 | null;
  dev: Device;
  /** The gateway, or the destination itself on the link. */
  nexthop: Ipv6;
}

/** ip6_route_lookup: our own addresses through lo, else the longest prefix in the main table. */
export function fib6Lookup(ns: NetNs, dst: Ipv6, oif: Device | null = null): Fib6Result | Errno {
  if (isLocalAddress6(ns, dst, oif)) {
    const lo = ns.device('lo');
    return lo ? { type: 'local', route: null, dev: lo, nexthop: dst } : 'ENETUNREACH';
  }
  if (isIpv6Multicast(dst)) {
    // The local table has ff00::/8 on every up multicast device: the one asked for, else the first.
    const dev = oif ?? ns.sortedDevices().find((d) => d.adminUp && d.kind.name !== 'loopback' && d.flags & IFF_MULTICAST);
    return dev ? { type: 'multicast', route: null, dev, nexthop: dst } : 'ENETUNREACH';
  }
  const route = tableLookup(ns, dst, oif);
  if (!route) return 'ENETUNREACH';
  const error = ROUTE6_ERRORS[route.type];
  if (error) return error;
  return { type: 'unicast', route, dev: route.dev!, nexthop: route.gateway ?? dst };
}

/**
 * ipv6_dev_get_saddr (RFC 6724): among usable addresses, the destination
 * itself, then one of sufficient and smallest scope, then one on the
 * outgoing device, then the longest match. Only the outgoing device's
 * addresses for a link-local destination.
 */
export function selectSource6(ns: NetNs, dev: Device | null, dst: Ipv6): Ipv6 | null {
  const dstScope = scopeRank(dst);
  let best: { addr: Ipv6; score: number[] } | null = null;
  for (const d of ns.sortedDevices()) {
    if (dstScope === 0 && dev && d !== dev) continue;
    for (const a of d.ipv6) {
      if (a.tentative) continue;
      const scope = scopeRank(a.address);
      const score = [a.address === dst ? 1 : 0, scope >= dstScope ? -scope : scope - 100, d === dev ? 1 : 0, commonPrefix(a.address, dst)];
      if (!best || compareScores(score, best.score) > 0) best = { addr: a.address, score };
    }
  }
  return best?.addr ?? null;
}

/** Scopes as numbers: link-local 0, loopback 0, global 1. */
function scopeRank(addr: Ipv6): number {
  return isIpv6LinkLocal(addr) || addr === '::1' || addr.startsWith('ff02:') ? 0 : 1;
}

function commonPrefix(a: Ipv6, b: Ipv6): number {
  let len = 0;
  while (len < 128 && ipv6InPrefix(a, b, len + 1)) len++;
  return len;
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * ip6_dst_lookup_tail: the route and source of a new local flow. The source
 * is chosen first, even when the lookup failed: without any usable address
 * (all still tentative, say) the flow fails with EADDRNOTAVAIL before the
 * route's own error.
 */
export function routeOutput6(ns: NetNs, dst: Ipv6, oif: Device | null = null): KResult<Fib6Result & { src: Ipv6 }> {
  const res = fib6Lookup(ns, dst, oif);
  const local = typeof res !== 'string' && res.type === 'local';
  const src = local ? dst : selectSource6(ns, typeof res === 'string' ? oif : res.dev, dst);
  if (src === null) return fail('EADDRNOTAVAIL');
  if (typeof res === 'string') return fail(res);
  return ok({ ...res, src });
}

/** A route as `ip -6 route add` asks for it: without a metric, the kernel's default. */
export type Route6Spec = Omit<Route6, 'metric'> & { metric: number | null };

/**
 * ip6_route_add: a gateway must be on a link we have (a link-local one needs
 * its device); a prefix takes one route per metric, which only replace and
 * change (NLM_F_REPLACE) take the place of, and change and test (without
 * NLM_F_CREATE) never make.
 */
export function addRoute6(ns: NetNs, spec: Route6Spec, mode: AddMode = 'add'): KResult {
  const dst = ipv6Network(spec.dst, spec.prefixLen);
  let dev = spec.dev;
  if (spec.type !== 'unicast') dev = ns.device('lo') ?? null;
  else if (spec.gateway !== null) {
    if (isIpv6LinkLocal(spec.gateway)) {
      if (!dev) return fail('ENODEV', 'Egress device not specified');
    } else {
      const onLink = tableLookup(ns, spec.gateway, dev, true);
      if (!onLink) return fail('EHOSTUNREACH');
      dev = onLink.dev;
    }
  } else if (!dev) return fail('ENODEV');
  if (dev && !dev.adminUp && spec.type === 'unicast') return fail('ENETDOWN', 'Nexthop device is not up');
  const route: Route6 = { type: spec.type, dst, prefixLen: spec.prefixLen, gateway: spec.gateway, dev, proto: spec.proto, metric: spec.metric ?? IP6_RT_PRIO_USER };
  const same = ns.routes6.findIndex((r) => r.dst === dst && r.prefixLen === route.prefixLen && r.metric === route.metric);
  if (same < 0) {
    if (mode === 'change' || mode === 'test') return fail('ENOENT');
    ns.routes6.push(route);
  } else if (mode === 'replace' || mode === 'change') ns.routes6[same] = route;
  else return fail('EEXIST');
  return OK;
}

export interface Route6Selector {
  type: Route6Type | null;
  dst: Ipv6;
  prefixLen: number;
  gateway: Ipv6 | null;
  dev: Device | null;
  metric: number | null;
}

/**
 * ip6_route_del: the first route of the prefix, by metric then age, matching what else is given.
 * With none, the tree's root (the default prefix) offers its null entry,
 * which cannot be deleted; another prefix is not found at all.
 */
export function deleteRoute6(ns: NetNs, sel: Route6Selector): KResult {
  const dst = ipv6Network(sel.dst, sel.prefixLen);
  const doomed = dumpRoutes6(ns).find((r) => r.dst === dst && r.prefixLen === sel.prefixLen && (sel.type === null || r.type === sel.type) && (sel.gateway === null || r.gateway === sel.gateway) && (sel.dev === null || r.dev === sel.dev) && (sel.metric === null || r.metric === sel.metric));
  if (!doomed) return fail(sel.prefixLen === 0 ? 'ENOENT' : 'ESRCH');
  ns.routes6 = ns.routes6.filter((r) => r !== doomed);
  return OK;
}

/** Removes the routes that `doomed` picks. */
export function flushRoutes6(ns: NetNs, doomed: (route: Route6) => boolean): void {
  ns.routes6 = ns.routes6.filter((r) => !doomed(r));
}

// --- The packet path (ip6_output.c, ip6_input.c) ---

function tracer(ns: NetNs) {
  return ns.host.world.tracer;
}

/** The hop limit of the packets this host sends (net.ipv6.conf.*.hop_limit's default). */
export const DEFAULT_HOP_LIMIT = 64;

/** ip6_local_out: a packet this namespace originates; false when it could not be sent. */
export function ip6Output(ns: NetNs, packet: Ipv6Packet, oif: Device | null = null): boolean {
  packet.elapsedUs += HOP_US.stack + ns.host.world.jitterUs(4);
  const res = fib6Lookup(ns, packet.dst, oif);
  if (typeof res === 'string') {
    tracer(ns)?.drop(ns, null, `dropped: ${ns.label} has no route to ${packet.dst}`, packet);
    return false;
  }
  if (res.type === 'local') {
    if (!res.dev.adminUp) return false;
    transmitFrame(res.dev, { src: 0, dst: 0, ip6: packet });
    return true;
  }
  finishOutput(ns, packet, res.dev, res.nexthop);
  return true;
}

/** ip6_finish_output2: multicast to its mapped address, unicast through the neighbour. */
function finishOutput(ns: NetNs, packet: Ipv6Packet, dev: Device, nexthop: Ipv6): void {
  packet.elapsedUs += HOP_US.wire + ns.host.world.jitterUs(6);
  if (isIpv6Multicast(packet.dst)) {
    transmitFrame(dev, { src: dev.mac, dst: ipv6MulticastMac(packet.dst), ip6: packet });
    return;
  }
  neighOutput(dev, nexthop, packet);
}

/** ipv6_rcv: a packet arrives on `dev`. */
export function ipv6Receive(dev: Device, arrived: Ipv6Packet): void {
  const ns = dev.ns;
  if (ipv6Disabled(dev)) return;
  const packet = clonePacket6(arrived);
  packet.elapsedUs += HOP_US.stack + ns.host.world.jitterUs(4);
  tracer(ns)?.note(ns, dev, 'recv', packet, 'arrived');
  if (isIpv6Multicast(packet.dst)) {
    // Groups a device listens to: all nodes, and the solicited-node group of each of its addresses.
    if (packet.dst === 'ff02::1' || dev.ipv6.some((a) => solicitedNode(a.address).group === packet.dst)) icmp6Receive(ns, dev, packet);
    return;
  }
  if (dev.kind.name === 'loopback' || isLocalAddress6(ns, packet.dst, dev)) {
    icmp6Receive(ns, dev, packet);
    return;
  }
  ip6Forward(ns, dev, packet);
}

/**
 * ip6_route_input, then ip6_forward: a destination without a route earns
 * the sender "no route" whether or not this host forwards (the discard
 * route answers it); the rest goes on only with
 * net.ipv6.conf.all.forwarding, while the hop limit lasts.
 */
function ip6Forward(ns: NetNs, dev: Device, packet: Ipv6Packet): void {
  const res = fib6Lookup(ns, packet.dst);
  if (typeof res === 'string') {
    tracer(ns)?.drop(ns, dev, `dropped: ${ns.label} has no route to ${packet.dst}`, packet);
    // A blackhole (EINVAL) drops silently.
    if (res !== 'EINVAL') icmp6Send(ns, packet, ICMPV6_DEST_UNREACH, res === 'EACCES' ? ICMPV6_ADM_PROHIBITED : ICMPV6_NOROUTE, dev);
    return;
  }
  if (res.type === 'local') return;
  if (ns.sysctl.get('net.ipv6.conf.all.forwarding') === '0') {
    tracer(ns)?.drop(ns, dev, `dropped: not addressed to ${ns.label}, and it does not forward (net.ipv6.conf.all.forwarding is 0)`, packet);
    return;
  }
  // Link-local addresses never leave their link.
  if (isIpv6LinkLocal(packet.dst) || isIpv6LinkLocal(packet.src)) return;
  if (packet.hopLimit <= 1) {
    tracer(ns)?.drop(ns, dev, `hop limit exceeded in transit: time exceeded sent to ${packet.src}`, packet);
    icmp6Send(ns, packet, ICMPV6_TIME_EXCEED, 0, dev);
    return;
  }
  packet.hopLimit--;
  tracer(ns)?.note(ns, dev, 'forward', packet, `forwarded from ${dev.name} to ${res.dev.name}, hop limit now ${packet.hopLimit}`);
  finishOutput(ns, packet, res.dev, res.nexthop);
}

function icmp6Receive(ns: NetNs, dev: Device, packet: Ipv6Packet): void {
  const icmp = packet.icmp6;
  // Neighbour discovery is the link's business, not a delivery.
  if (icmp.type !== NDISC_NEIGHBOUR_SOLICITATION && icmp.type !== NDISC_NEIGHBOUR_ADVERTISEMENT) tracer(ns)?.note(ns, dev, 'deliver', packet, `delivered: ${packet.dst} is an address of ${ns.label}`);
  switch (icmp.type) {
    case ICMPV6_ECHO_REQUEST: {
      const src = isIpv6Multicast(packet.dst) ? selectSource6(ns, dev, packet.src) : packet.dst;
      if (src === null) return;
      const reply: Ipv6Packet = { src, dst: packet.src, hopLimit: DEFAULT_HOP_LIMIT, payloadLength: packet.payloadLength, icmp6: { type: ICMPV6_ECHO_REPLY, code: 0, id: icmp.id, seq: icmp.seq }, elapsedUs: packet.elapsedUs };
      // A reply to a link-local sender leaves by the device the request came in on.
      ip6Output(ns, reply, isIpv6LinkLocal(packet.src) && dev.kind.name !== 'loopback' ? dev : null);
      return;
    }
    case ICMPV6_ECHO_REPLY:
      ns.icmpSockets.get(icmp.id)?.onPacket6?.(packet, dev);
      return;
    case NDISC_NEIGHBOUR_SOLICITATION:
      ndiscRecvNs(dev, packet);
      return;
    case NDISC_NEIGHBOUR_ADVERTISEMENT:
      ndiscRecvNa(dev, packet);
      return;
    default: {
      const quoted = icmp.quoted?.icmp6;
      if (quoted?.type === ICMPV6_ECHO_REQUEST) ns.icmpSockets.get(quoted.id)?.onPacket6?.(packet, dev);
    }
  }
}

/** icmp6_send: reports a problem with a forwarded packet to its source, from the address the route back to it picks. */
function icmp6Send(ns: NetNs, offending: Ipv6Packet, type: number, code: number, inDev: Device): void {
  if (offending.icmp6.type !== ICMPV6_ECHO_REQUEST && offending.icmp6.type !== ICMPV6_ECHO_REPLY) return;
  const back = fib6Lookup(ns, offending.src);
  const src = selectSource6(ns, typeof back === 'string' ? inDev : back.dev, offending.src);
  if (src === null) return;
  const error: Ipv6Packet = { src, dst: offending.src, hopLimit: DEFAULT_HOP_LIMIT, payloadLength: Math.min(1232, 8 + 40 + offending.payloadLength), icmp6: { type, code, id: 0, seq: 0, quoted: clonePacket6(offending) }, elapsedUs: offending.elapsedUs };
  tracer(ns)?.note(ns, inDev, 'icmp', error, `sends ICMPv6 ${type === ICMPV6_TIME_EXCEED ? 'time exceeded' : 'destination unreachable'} to ${offending.src}`);
  ip6Output(ns, error);
}

/** ndisc_error_report: resolution failed; a forwarded packet's source hears the address is unreachable (a local sender hears nothing). */
export function ndiscFailed(dev: Device, packet: Ipv6Packet): void {
  if (isLocalAddress6(dev.ns, packet.src)) return;
  icmp6Send(dev.ns, packet, ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH, dev);
}

// --- Neighbour discovery (ndisc.c) ---

/**
 * ndisc_solicit: a multicast solicitation to the target's solicited-node
 * group, or a unicast probe to its cached address. It comes from the
 * waiting packet's source when that is ours, else from the device's
 * link-local address; without a usable one nothing is sent.
 */
export function ndiscSolicit(entry: NeighEntry, unicastTo: Mac | null): void {
  const dev = entry.dev;
  const target = entry.ip as Ipv6;
  const queued = neighSolicitSource(entry) as Ipv6 | null;
  const src = queued !== null && isLocalAddress6(dev.ns, queued) ? queued : (dev.ipv6.find((a) => a.scope === 'link' && !a.tentative)?.address ?? null);
  if (src === null) return;
  const group = solicitedNode(target);
  const ns: Ipv6Packet = {
    src,
    dst: unicastTo === null ? group.group : target,
    hopLimit: 255,
    payloadLength: 32,
    icmp6: { type: NDISC_NEIGHBOUR_SOLICITATION, code: 0, id: 0, seq: 0, target, lladdr: dev.mac },
    elapsedUs: 0,
  };
  transmitFrame(dev, { src: dev.mac, dst: unicastTo ?? group.mac, ip6: ns });
}

/** ndisc_recv_ns: a solicitation for one of this device's usable addresses teaches us the asker and earns it an advertisement. */
function ndiscRecvNs(dev: Device, packet: Ipv6Packet): void {
  const msg = packet.icmp6;
  const mine = dev.ipv6.find((a) => a.address === msg.target);
  if (!mine || mine.tentative || packet.src === IPV6_ANY) return;
  const multicast = isIpv6Multicast(packet.dst);
  if (msg.lladdr != null || !multicast) neighLearn(dev, packet.src, msg.lladdr ?? null);
  const na: Ipv6Packet = {
    src: msg.target!,
    dst: packet.src,
    hopLimit: 255,
    payloadLength: multicast ? 32 : 24,
    icmp6: { type: NDISC_NEIGHBOUR_ADVERTISEMENT, code: 0, id: 0, seq: 0, target: msg.target!, lladdr: multicast ? dev.mac : null, router: dev.ns.sysctl.get(`net.ipv6.conf.${dev.name}.forwarding`) !== '0', solicited: true, override: multicast },
    elapsedUs: packet.elapsedUs,
  };
  neighOutput(dev, packet.src, na);
}

/** ndisc_recv_na: an advertisement updates the entry it answers (solicited: reachable), with the router flag it carries. */
function ndiscRecvNa(dev: Device, packet: Ipv6Packet): void {
  const msg = packet.icmp6;
  const entry = neighLookup(dev, msg.target!);
  if (!entry) return;
  neighConfirm(entry, msg.lladdr ?? null, msg.solicited ? 'REACHABLE' : 'STALE', msg.override ?? false);
  entry.router = msg.router ?? false;
}
