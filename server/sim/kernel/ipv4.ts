// The IPv4 packet path (net/ipv4/ip_input.c, ip_forward.c, ip_output.c,
// icmp.c): local output, receive, forward, local delivery and ICMP, with
// the netfilter hooks where Linux has them.
import { BROADCAST_MAC, formatIpv4, inPrefix, isLoopback, isMulticast, prefixMask, type Ipv4 } from './addr';
import { transmitFrame } from './l2';
import type { Device } from './device';
import { fail, ok, type Errno, type KResult } from './errno';
import { fibLookup, fibResolve, fibValidateSource, isLocalAddress, selectSource, type FibResult, type FlowKey } from './fib';
import { neighOutput } from './neigh';
import { tcpIcmpError, tcpInput, udpIcmpError, udpInput } from './sockets';
import { netfilterHook } from './netfilter';
import { bridgeCallsIptables, bridgeDnat } from './links/bridge';
import type { NetNs } from './netns';
import {
  clonePacket,
  ICMP_DEST_UNREACH,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_FRAG_NEEDED,
  ICMP_HOST_UNREACH,
  ICMP_NET_UNREACH,
  ICMP_PKT_FILTERED,
  ICMP_PORT_UNREACH,
  ICMP_REDIRECT,
  ICMP_TIME_EXCEEDED,
  type BridgedFrom,
  type IcmpMessage,
  type Ipv4Packet,
} from './packet';

/** Simulated per-hop costs, so round-trip times look like a real machine's. */
const HOP_US = { stack: 6, wire: 14 } as const;

function tracer(ns: NetNs) {
  return ns.host.world.tracer;
}

export function defaultTtl(ns: NetNs): number {
  return Number(ns.sysctl.get('net.ipv4.ip_default_ttl') ?? 64);
}

/**
 * Route and source for a new local packet: what connect() on a socket works
 * out (ip_route_connect). The source chosen by a first lookup takes part in
 * the second, so rules selecting on it steer the socket's traffic.
 */
export function routeOutput(ns: NetNs, dst: Ipv4, oif: Device | null = null): KResult<FibResult & { src: Ipv4 }> {
  const first = fibResolve(ns, dst, oif);
  if (typeof first === 'string') return fail(first);
  const src = first.type === 'local' ? dst : (first.prefsrc ?? selectSource(ns, first.dev, dst));
  if (src === null) return fail('ENETUNREACH');
  const res = fibResolve(ns, dst, oif, { src });
  return typeof res === 'string' ? fail(res) : ok({ ...res, src });
}

/** What became of a packet handed to ip_local_out; `rejected` is what sendmsg reports as EPERM, `nobufs` as ENOBUFS, `too-big` as EMSGSIZE. */
export type OutputResult = 'sent' | 'dropped' | 'rejected' | 'nobufs' | { tooBig: number };

/** ip_local_out: a packet this namespace originates, routed by its source too unless `flow` says otherwise. */
export function ipOutput(ns: NetNs, packet: Ipv4Packet, oif: Device | null = null, flow: FlowKey = { src: packet.src }): OutputResult {
  packet.elapsedUs += HOP_US.stack + ns.host.world.jitterUs(4);
  const pre = netfilterHook(ns, 'OUTPUT', packet, null, null);
  if (pre.verdict !== 'accept') return pre.verdict === 'reject' ? 'rejected' : 'dropped';
  // A mark set in OUTPUT steers the route (ip_route_me_harder).
  const res = fibLookup(ns, packet.dst, oif, packet.mark ? { ...flow, mark: packet.mark } : flow);
  if (!res) {
    tracer(ns)?.drop(ns, null, `dropped: ${ns.label} has no route to ${formatIpv4(packet.dst)}`, packet);
    return 'dropped';
  }
  tracer(ns)?.note(ns, res.dev, 'route', packet, routeText(res, packet.dst));
  if (res.type !== 'local' && isLoopback(packet.src) && !routeLocalnet(res.dev)) {
    // __mkroute_output: a loopback source (a DNAT of 127.0.0.1, say) may not leave the host.
    tracer(ns)?.drop(ns, res.dev, `dropped: source ${formatIpv4(packet.src)} is a loopback address and ${res.dev?.name} does not allow it (net.ipv4.conf.${res.dev?.name}.route_localnet is 0)`, packet);
    return 'dropped';
  }
  if (packet.length > MAX_DATAGRAM && res.dev) {
    // ip_append_data refuses more than one IPv4 datagram holds with EMSGSIZE, reporting the route's MTU.
    tracer(ns)?.drop(ns, res.dev, `datagram of ${packet.length} bytes exceeds the IPv4 maximum`, packet);
    return { tooBig: Math.min(res.dev.mtu, MAX_DATAGRAM) };
  }
  if (res.type === 'local') {
    const lo = res.dev;
    if (!lo || !lo.adminUp) return 'dropped';
    const post = netfilterHook(ns, 'POSTROUTING', packet, null, lo);
    if (post.verdict !== 'accept') return post.verdict === 'reject' ? 'rejected' : 'dropped';
    // Through lo and back in, PREROUTING and INPUT included.
    transmitFrame(lo, { src: 0, dst: 0, ip: packet });
    return 'sent';
  }
  return finishOutput(ns, packet, null, res);
}

/** IN_DEV_ROUTE_LOCALNET: loopback addresses may be routed by this device (or lo itself). */
function routeLocalnet(dev: Device | null): boolean {
  return !dev || dev.kind.name === 'loopback' || localnetAllowed(dev);
}

/** net.ipv4.conf.{all,DEV}.route_localnet: loopback addresses may be routed to and from the device. */
function localnetAllowed(dev: Device): boolean {
  const sysctl = dev.ns.sysctl;
  return sysctl.ipv4Conf('all', 'route_localnet') !== '0' || sysctl.ipv4Conf(dev.name, 'route_localnet') !== '0';
}

function routeText(res: FibResult, dst: Ipv4): string {
  if (res.type === 'local') return `route: ${formatIpv4(dst)} is local`;
  const via = res.route?.gateway != null ? ` via ${formatIpv4(res.route.gateway)}` : '';
  const prefix = res.route ? `${formatIpv4(res.route.dst)}/${res.route.prefixLen}` : 'on-link';
  return `route: ${formatIpv4(dst)} matches ${prefix === '0.0.0.0/0' ? 'default' : prefix}${via} dev ${res.dev?.name}`;
}

/** ip_rt_mtu_expires: how long a learned path MTU holds. */
const PMTU_EXPIRES_US = 600_000_000;
/** ip_rt_min_pmtu: a smaller MTU from an ICMP error is raised to this. */
const MIN_PMTU = 552;

/** The route exception a "fragmentation needed" left for `dst`, while it lasts. */
export function pmtuException(ns: NetNs, dst: Ipv4): { mtu: number; expiresUs: number } | undefined {
  const exception = ns.pmtuExceptions.get(dst);
  if (exception && exception.expiresUs <= ns.host.world.now) {
    ns.pmtuExceptions.delete(dst);
    return undefined;
  }
  return exception;
}

/** dst_mtu: the device's MTU, or less where a path MTU was learned. */
function pathMtu(ns: NetNs, dst: Ipv4, dev: Device): number {
  return Math.min(dev.mtu, pmtuException(ns, dst)?.mtu ?? Infinity);
}

/** __ip_rt_update_pmtu: a "fragmentation needed" lowers the path MTU to `dst` for a while. */
function learnPmtu(ns: NetNs, dst: Ipv4, reported: number): void {
  const dev = fibLookup(ns, dst)?.dev;
  if (!dev) return;
  const old = pathMtu(ns, dst, dev);
  if (old < reported) return;
  const mtu = reported < MIN_PMTU ? Math.min(old, MIN_PMTU) : reported;
  const now = ns.host.world.now;
  // The same MTU again renews the exception only in the second half of its life.
  const current = pmtuException(ns, dst);
  if (current?.mtu === mtu && now < current.expiresUs - PMTU_EXPIRES_US / 2) return;
  ns.pmtuExceptions.set(dst, { mtu, expiresUs: now + PMTU_EXPIRES_US });
}

/** Whether `dst` is the limited broadcast or the subnet broadcast of one of `dev`'s addresses. */
function isBroadcastOn(dev: Device, dst: Ipv4): boolean {
  if (dst === 0xffffffff) return true;
  return dev.ipv4.some((a) => a.prefixLen < 31 && inPrefix(dst, a.local, a.prefixLen) && ((dst | prefixMask(a.prefixLen)) >>> 0) === 0xffffffff);
}

/** POSTROUTING, then neighbour output (broadcasts go to every station, unresolved). */
function finishOutput(ns: NetNs, packet: Ipv4Packet, inDev: Device | null, res: FibResult): OutputResult {
  const dev = res.dev!;
  const post = netfilterHook(ns, 'POSTROUTING', packet, inDev, dev);
  if (post.verdict !== 'accept') return post.verdict === 'reject' ? 'rejected' : 'dropped';
  if (packet.length > MAX_DATAGRAM) {
    tracer(ns)?.drop(ns, dev, `datagram of ${packet.length} bytes exceeds the IPv4 maximum`, packet);
    return 'dropped';
  }
  // ipv4_mtu: a route's mtu metric stands in for the device's and for what path MTU discovery learned.
  const routeMtu = res.route?.metrics?.find((m) => m.name === 'mtu')?.value;
  const mtu = routeMtu ?? pathMtu(ns, packet.dst, dev);
  if (!packet.df && packet.length > mtu) packet.fragmented = true;
  if (packet.df && packet.length > mtu) {
    // Path MTU discovery: a local sender hears EMSGSIZE, a forwarded packet's source gets "fragmentation needed".
    tracer(ns)?.drop(ns, dev, `${packet.length} bytes with Don't Fragment exceed the ${routeMtu === undefined ? 'path MTU' : "route's MTU"} ${mtu} via ${dev.name}`, packet);
    if (inDev === null) return { tooBig: mtu };
    icmpSend(ns, packet, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, { mtu });
    return 'dropped';
  }
  packet.elapsedUs += HOP_US.wire + ns.host.world.jitterUs(6);
  if (inDev === null && isBroadcastOn(dev, packet.dst)) {
    transmitFrame(dev, { src: dev.mac, dst: BROADCAST_MAC, ip: packet });
    return 'sent';
  }
  // A device that drops what it is handed (NET_XMIT_DROP) makes sendmsg fail with ENOBUFS.
  return neighOutput(dev, res.nexthop, packet) ? 'sent' : 'nobufs';
}

const MAX_DATAGRAM = 65535;

/** ip_rcv: an IPv4 packet arrives on `dev`. */
export function ipReceive(dev: Device, packet: Ipv4Packet, broadcast: boolean, bridgedFrom?: BridgedFrom): void {
  const ns = dev.ns;
  // lo hands back the sender's own skb, its mark and conntrack entry with it; from a wire or another namespace it starts afresh.
  const looped = dev.kind.name === 'loopback';
  const ct = looped ? packet.ct : undefined;
  packet = clonePacket(packet);
  packet.ct = ct;
  if (!looped) packet.mark = packet.untracked = undefined;
  packet.elapsedUs += HOP_US.stack + ns.host.world.jitterUs(4);
  tracer(ns)?.note(ns, dev, 'recv', packet, 'arrived');
  const arrivedDst = packet.dst;
  const pre = netfilterHook(ns, 'PREROUTING', packet, dev, null);
  if (pre.verdict !== 'accept') return;
  // What lo loops back was routed on the way out; anything else is routed here, martians refused.
  const martian = dev.kind.name === 'loopback' ? null : inputMartian(dev, packet.src, packet.dst);
  if (martian) {
    tracer(ns)?.drop(ns, dev, `dropped: martian ${martian} (${formatIpv4(martian === 'source' ? packet.src : packet.dst)})`, packet);
    return;
  }
  if (broadcast || isLocalAddress(ns, packet.dst)) {
    if (!sourceValid(ns, dev, packet, null)) return;
    localInput(ns, dev, packet, broadcast);
    return;
  }
  if (!ns.sysctl.forwardingOn(dev.name)) {
    tracer(ns)?.drop(ns, dev, `dropped: not addressed to ${ns.label}, and it does not forward (net.ipv4.ip_forward is 0)`, packet);
    return;
  }
  const res = fibResolve(ns, packet.dst, null, { src: packet.src, iif: dev, mark: packet.mark });
  if (typeof res === 'string') {
    tracer(ns)?.drop(ns, dev, `dropped: ${ns.label} has no route to ${formatIpv4(packet.dst)}`, packet);
    // ip_error: a blackhole (EINVAL) drops silently.
    const code = UNROUTABLE_CODES[res];
    if (code !== undefined) icmpSend(ns, packet, ICMP_DEST_UNREACH, code);
    return;
  }
  if (!sourceValid(ns, dev, packet, res.dev)) return;
  tracer(ns)?.note(ns, dev, 'route', packet, routeText(res, packet.dst));
  if (bridgedFrom && packet.dst !== arrivedDst && res.dev === dev && bridgeCallsIptables(dev)) {
    tracer(ns)?.note(ns, dev, 'bridge', packet, `DNATed to a host on ${dev.name}: bridged from ${bridgedFrom.port.name}, not routed (br_netfilter)`);
    bridgeDnat(dev, bridgedFrom, packet, res.nexthop);
    return;
  }
  if (packet.ttl <= 1) {
    tracer(ns)?.drop(ns, dev, `TTL expired in transit: time exceeded sent to ${formatIpv4(packet.src)}`, packet);
    icmpSend(ns, packet, ICMP_TIME_EXCEEDED, 0);
    return;
  }
  if (res.dev === dev) maybeRedirect(ns, dev, packet, res.nexthop);
  const fwd = netfilterHook(ns, 'FORWARD', packet, dev, res.dev);
  if (fwd.verdict !== 'accept') return;
  packet.ttl--;
  tracer(ns)?.note(ns, dev, 'forward', packet, `forwarded from ${dev.name} to ${res.dev!.name}, ttl now ${packet.ttl}`);
  finishOutput(ns, packet, dev, res);
}

/**
 * ip_route_input_slow's martians: a multicast, broadcast or zero source, a
 * zero destination, and loopback addresses unless route_localnet allows them
 * (the limited broadcast takes any source). Multicast destinations are left
 * to the caller.
 */
export function inputMartian(dev: Device, src: Ipv4, dst: Ipv4): 'source' | 'destination' | null {
  if (isMulticast(src) || src === 0xffffffff) return 'source';
  if (dst === 0xffffffff || (src === 0 && dst === 0)) return null;
  if (src >>> 24 === 0) return 'source';
  if (dst >>> 24 === 0) return 'destination';
  if ((isLoopback(dst) || isLoopback(src)) && !localnetAllowed(dev)) return isLoopback(dst) ? 'destination' : 'source';
  return null;
}

/** The input route's source check (rp_filter); what lo loops back was routed on the way out and is not checked. */
function sourceValid(ns: NetNs, dev: Device, packet: Ipv4Packet, oif: Device | null): boolean {
  if (dev.kind.name === 'loopback' || fibValidateSource(dev, packet.src, packet.dst, oif)) return true;
  tracer(ns)?.drop(ns, dev, `dropped: reverse-path filter (rp_filter): ${ns.label} would not route ${formatIpv4(packet.src)} back out of ${dev.name}`, packet);
  return false;
}

/** ip_error: the destination unreachable code a failed forwarding lookup earns the sender. */
const UNROUTABLE_CODES: Partial<Record<Errno, number>> = { ENETUNREACH: ICMP_NET_UNREACH, EHOSTUNREACH: ICMP_HOST_UNREACH, EACCES: ICMP_PKT_FILTERED };

/**
 * ip_rt_send_redirect: a packet leaving by the interface it came in on, from
 * a host on that link, earns the sender a redirect to the better next hop —
 * rate-limited per source, and (as observed on Linux) not for its first packet.
 */
function maybeRedirect(ns: NetNs, dev: Device, packet: Ipv4Packet, nexthop: Ipv4): void {
  if (!redirectable(dev, packet.src)) return;
  // ICMP errors never earn a redirect and, as observed, leave the peer untouched.
  if (packet.icmp && packet.icmp.type !== ICMP_ECHO_REQUEST && packet.icmp.type !== ICMP_ECHO_REPLY) return;
  const peer = inetPeer(ns, packet.src);
  const now = ns.host.world.now;
  if (now - peer.rateLastUs > REDIRECT_SILENCE_US) {
    Object.assign(peer, { redirects: 0, rateTokensUs: 0, rateLastUs: now });
    return;
  }
  if (peer.redirects >= 9 || now - peer.rateLastUs < REDIRECT_LOAD_US * 2 ** peer.redirects) return;
  peer.redirects++;
  peer.rateLastUs = now;
  icmpSend(ns, packet, ICMP_REDIRECT, 1, { gateway: nexthop });
}

/** RTCF_DOREDIRECT: forwarding back out of `dev` a packet from `src`, on that link, calls for a redirect when the device sends them. */
export function redirectable(dev: Device, src: Ipv4): boolean {
  return dev.ns.sysctl.get(`net.ipv4.conf.${dev.name}.send_redirects`) === '1' && dev.ipv4.some((a) => inPrefix(src, a.local, a.prefixLen));
}

const REDIRECT_LOAD_US = 20_000;
const REDIRECT_SILENCE_US = 20_480_000;

/** INPUT hook, then ip_local_deliver. */
function localInput(ns: NetNs, dev: Device, packet: Ipv4Packet, broadcast = false): void {
  const input = netfilterHook(ns, 'INPUT', packet, dev, null);
  if (input.verdict !== 'accept') return;
  tracer(ns)?.note(ns, dev, 'deliver', packet, `delivered: ${formatIpv4(packet.dst)} is an address of ${ns.label}`);
  if (packet.protocol === 'icmp') {
    icmpReceive(ns, dev, packet, broadcast);
    return;
  }
  if (packet.protocol === 'tcp') tcpInput(ns, packet);
  else if (!udpInput(ns, packet) && !broadcast) icmpSend(ns, packet, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
}

function icmpReceive(ns: NetNs, dev: Device, packet: Ipv4Packet, broadcast: boolean): void {
  const icmp = packet.icmp!;
  if (icmp.type === ICMP_ECHO_REQUEST) {
    if (ns.sysctl.get('net.ipv4.icmp_echo_ignore_all') === '1') return;
    if (broadcast && ns.sysctl.get('net.ipv4.icmp_echo_ignore_broadcasts') === '1') return;
    const reply: Ipv4Packet = {
      src: broadcast ? replySourceForBroadcast(ns, dev, packet.src) : packet.dst,
      dst: packet.src,
      ttl: defaultTtl(ns),
      protocol: 'icmp',
      length: packet.length,
      icmp: { type: ICMP_ECHO_REPLY, code: 0, id: icmp.id, seq: icmp.seq },
      elapsedUs: packet.elapsedUs,
    };
    ipOutput(ns, reply);
    return;
  }
  if (icmp.type === ICMP_ECHO_REPLY) {
    ns.icmpSockets.get(icmp.id)?.onPacket(packet, dev);
    return;
  }
  // An error goes to the socket that sent the packet it quotes.
  const quoted = icmp.quoted;
  if (quoted && icmp.type === ICMP_DEST_UNREACH && icmp.code === ICMP_FRAG_NEEDED && icmp.mtu !== undefined) learnPmtu(ns, quoted.dst, icmp.mtu);
  if (quoted?.icmp) ns.icmpSockets.get(quoted.icmp.id)?.onPacket(packet, dev);
  else if (quoted?.protocol === 'udp' && quoted.ports) udpIcmpError(ns, packet);
  else if (quoted?.protocol === 'tcp' && quoted.ports) tcpIcmpError(ns, packet);
}

/** fib_compute_spec_dst: an echo to a broadcast is answered from the address the route back to its sender prefers. */
function replySourceForBroadcast(ns: NetNs, dev: Device, sender: Ipv4): Ipv4 {
  return fibLookup(ns, sender)?.prefsrc ?? selectSource(ns, dev, sender) ?? 0;
}

const IP_AND_ICMP_HEADERS = 28;
/** icmp_send keeps an error within the 576 bytes every host must accept. */
const ICMP_ERROR_MAX = 576;

/** XRLIM_BURST_FACTOR: a quiet peer may be sent this many errors at once. */
const ICMP_BURST = 6;
/** How long ago a new inet_peer was last refilled. */
const NEW_PEER_AGE_US = 60_000_000;

/**
 * icmpv4_xrlim_allow: the error types in icmp_ratemask (unreachables but for
 * fragmentation needed, time exceeded, parameter problems) are limited per
 * destination by a token bucket refilled one icmp_ratelimit per millisecond
 * of it, holding a burst of six; errors to this host (over lo) are never limited.
 */
function icmpRateAllows(ns: NetNs, dst: Ipv4, type: number, code: number, route: FibResult | null): boolean {
  if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) return true;
  if (route?.type === 'local' || route?.dev?.kind.name === 'loopback') return true;
  if (!((1 << type) & Number(ns.sysctl.get('net.ipv4.icmp_ratemask')))) return true;
  const intervalUs = Number(ns.sysctl.get('net.ipv4.icmp_ratelimit')) * 1000;
  const now = ns.host.world.now;
  const peer = inetPeer(ns, dst);
  peer.rateTokensUs = Math.min(peer.rateTokensUs + now - peer.rateLastUs, ICMP_BURST * intervalUs);
  peer.rateLastUs = now;
  const allowed = peer.rateTokensUs >= intervalUs;
  if (allowed) peer.rateTokensUs -= intervalUs;
  return allowed;
}

/** inet_getpeer: a new peer's last refill is a minute back, so its first errors get a full burst. */
function inetPeer(ns: NetNs, addr: Ipv4): { rateLastUs: number; rateTokensUs: number; redirects: number } {
  let peer = ns.inetPeers.get(addr);
  if (!peer) ns.inetPeers.set(addr, (peer = { rateLastUs: ns.host.world.now - NEW_PEER_AGE_US, rateTokensUs: 0, redirects: 0 }));
  return peer;
}

/** icmp_send: reports a problem with `offending` to its source (with a redirect's gateway, or the MTU a packet needs). */
export function icmpSend(ns: NetNs, offending: Ipv4Packet, type: number, code: number, extra: Pick<IcmpMessage, 'gateway' | 'mtu'> = {}): void {
  // Never answer an ICMP error with another.
  if (offending.icmp && offending.icmp.type !== ICMP_ECHO_REQUEST && offending.icmp.type !== ICMP_ECHO_REPLY) return;
  const addressedToUs = isLocalAddress(ns, offending.dst);
  const back = fibLookup(ns, offending.src);
  const src = addressedToUs ? offending.dst : (back?.prefsrc ?? selectSource(ns, null, offending.src));
  if (src === null) return;
  if (!icmpRateAllows(ns, offending.src, type, code, back)) {
    tracer(ns)?.drop(ns, null, `ICMP error to ${formatIpv4(offending.src)} suppressed by the rate limit (net.ipv4.icmp_ratelimit)`, offending);
    return;
  }
  const error: Ipv4Packet = {
    src,
    dst: offending.src,
    ttl: defaultTtl(ns),
    protocol: 'icmp',
    // As much of the offending datagram as fits in 576 bytes.
    length: IP_AND_ICMP_HEADERS + Math.min(offending.length, ICMP_ERROR_MAX - IP_AND_ICMP_HEADERS),
    icmp: { type, code, id: 0, seq: 0, quoted: clonePacket(offending), ...extra },
    elapsedUs: offending.elapsedUs,
    answersFlow: offending.ct,
  };
  tracer(ns)?.note(ns, null, 'icmp', error, `sends ICMP ${type === ICMP_TIME_EXCEEDED ? 'time exceeded' : 'destination unreachable'} to ${formatIpv4(offending.src)}`);
  // Unless it answers a packet addressed to us, icmp_send routes the error without a source, so source rules pass it by.
  ipOutput(ns, error, null, addressedToUs ? { src } : {});
}
