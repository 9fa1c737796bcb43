// The neighbour table and ARP (net/core/neighbour.c, net/ipv4/arp.c):
// resolution with retries on the simulated clock, queued packets, and the
// host-unreachable errors when resolution fails. IPv6 neighbours live in the
// same table, resolved by neighbour discovery's messages (ipv6.ts).
import { BROADCAST_MAC, formatIpv4, type Ipv4, type Ipv6, type Mac } from './addr';
import { IFF_NOARP, type Device } from './device';
import { fail, OK, type KResult } from './errno';
import { fibLookup, fibValidateSource, isLocalAddress, selectSource } from './fib';
import { icmpSend } from './ipv4';
import { ndiscFailed, ndiscSolicit } from './ipv6';
import { transmitFrame } from './l2';
import type { NetNs } from './netns';
import { ARP_REPLY, ARP_REQUEST, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, type ArpMessage, type Frame, type Ipv4Packet, type Ipv6Packet } from './packet';
import type { Timer } from './world';

/** NONE is a fresh entry's state before anything resolved it (NUD_NONE, shown without a state). */
export type NudState = 'NONE' | 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'NOARP' | 'PERMANENT';

/** NUD_VALID: the states in which the entry's link-layer address means something. */
export function nudValid(state: NudState): boolean {
  return state !== 'NONE' && state !== 'INCOMPLETE' && state !== 'FAILED';
}

export interface NeighEntry {
  dev: Device;
  /** An IPv4 address, or an IPv6 one (text). */
  ip: Ipv4 | Ipv6;
  mac: Mac | null;
  state: NudState;
  /** Packets waiting for resolution, of the entry's family. */
  queue: Array<Ipv4Packet | Ipv6Packet>;
  /** Solicitations counted as the kernel does: resolving starts past the unicast ones (`ip -s` shows it). */
  probes: number;
  timer: Timer | null;
  /** When the entry was last used to send, confirmed reachable, and changed (`ip -s neigh`). */
  usedUs: number;
  confirmedUs: number;
  updatedUs: number;
  /** Set for entries added by a user (`ip neigh add`), shown with their state as given. */
  manual: boolean;
  /** NTF_ROUTER and NTF_EXT_LEARNED, as the last administrative update gave them (an IPv6 neighbour's advertisement also says whether it is a router). */
  router: boolean;
  externLearned: boolean;
}

/** The flags an administrative update (`ip neigh add|replace|change`) sets. */
export interface NeighFlags {
  router: boolean;
  externLearned: boolean;
}

/** A proxy neighbour (pneigh): an address this namespace answers ARP for on `dev`. */
export interface ProxyNeighEntry {
  dev: Device;
  ip: Ipv4 | Ipv6;
}

const RETRANS_US = 1_000_000;
/** A timer armed by a send fires just after the sender's own clock tick (the send itself took time). */
const TIMER_SLACK_US = 50;
const MCAST_SOLICIT = 3;
const UCAST_SOLICIT = 3;
const DELAY_FIRST_PROBE_US = 5_000_000;
const BASE_REACHABLE_US = 30_000_000;
const UNRES_QLEN = 101;

function key(dev: Device, ip: Ipv4 | Ipv6): string {
  return `${dev.ifindex}|${ip}`;
}

/** neigh_alloc: a new entry in state NONE, its confirmation backdated so it does not count as recent. */
function createEntry(dev: Device, ip: Ipv4 | Ipv6, manual: boolean): NeighEntry {
  const t = now(dev);
  const entry: NeighEntry = { dev, ip, mac: null, state: 'NONE', queue: [], probes: 0, timer: null, usedUs: t, confirmedUs: t - 2 * BASE_REACHABLE_US, updatedUs: t, manual, router: false, externLearned: false };
  dev.ns.neigh.set(key(dev, ip), entry);
  return entry;
}

function setState(entry: NeighEntry, state: NudState): void {
  entry.state = state;
  entry.updatedUs = now(entry.dev);
}

export function neighLookup(dev: Device, ip: Ipv4 | Ipv6): NeighEntry | undefined {
  return dev.ns.neigh.get(key(dev, ip));
}

function now(dev: Device): number {
  return dev.ns.host.world.now;
}

/** NUD_IN_TIMER: states with a pending timer, which holds a reference to the entry (`ip -s` shows it as ref). */
export function nudInTimer(state: NudState): boolean {
  return state === 'INCOMPLETE' || state === 'REACHABLE' || state === 'DELAY' || state === 'PROBE';
}

/** REACHABLE ages into STALE without traffic; computed when looked at. */
export function currentState(entry: NeighEntry): NudState {
  if (entry.state === 'REACHABLE' && !entry.manual) {
    const reachableUs = BASE_REACHABLE_US / 2 + (reachableDraw(entry.ip) * BASE_REACHABLE_US) / 1000;
    const expiresUs = entry.confirmedUs + reachableUs;
    if (now(entry.dev) > expiresUs) {
      // The kernel's timer would have made it STALE back then.
      entry.state = 'STALE';
      entry.updatedUs = expiresUs;
    }
  }
  return entry.state;
}

/** The entry's stand-in for the random part of its reachable time, in thousandths. */
function reachableDraw(ip: Ipv4 | Ipv6): number {
  if (typeof ip === 'number') return ip % 1000;
  let hash = 0;
  for (const c of ip) hash = (hash * 31 + c.charCodeAt(0)) % 1000;
  return hash;
}

function cancelTimer(entry: NeighEntry): void {
  if (entry.timer) entry.timer.cancelled = true;
  entry.timer = null;
}

/** The source of the packet queued last, which a solicitation may take as its own. */
export function neighSolicitSource(entry: NeighEntry): Ipv4 | Ipv6 | null {
  return entry.queue[entry.queue.length - 1]?.src ?? null;
}

/** neigh->ops->solicit: an ARP request, or an IPv6 neighbour solicitation. */
function solicit(entry: NeighEntry, unicastTo: Mac | null): void {
  if (typeof entry.ip === 'string') {
    ndiscSolicit(entry, unicastTo);
    return;
  }
  const dev = entry.dev;
  const queued = neighSolicitSource(entry) as Ipv4 | null;
  // arp_solicit: the queued packet's own source when it is ours, else the device's best.
  const src = queued !== null && isLocalAddress(dev.ns, queued) ? queued : selectSource(dev.ns, dev, entry.ip, 'link') ?? 0;
  const arp: ArpMessage = { op: ARP_REQUEST, senderMac: dev.mac, senderIp: src, targetMac: 0, targetIp: entry.ip };
  transmitFrame(dev, { src: dev.mac, dst: unicastTo ?? BROADCAST_MAC, arp });
}

function failEntry(entry: NeighEntry): void {
  cancelTimer(entry);
  setState(entry, 'FAILED');
  entry.mac = null;
  const queue = entry.queue;
  entry.queue = [];
  const ns = entry.dev.ns;
  ns.host.world.tracer?.drop(ns, entry.dev, `dropped: nobody answered ${typeof entry.ip === 'string' ? 'neighbour solicitations' : 'ARP'} for ${nexthopText(entry.ip)} on ${entry.dev.name} (host unreachable)`);
  for (const packet of queue) {
    if ('icmp6' in packet) ndiscFailed(entry.dev, packet);
    else icmpSend(ns, packet, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH);
  }
}

function armSolicitTimer(entry: NeighEntry): void {
  entry.timer = entry.dev.ns.host.world.schedule(RETRANS_US + TIMER_SLACK_US, { kind: 'neigh-solicit', entry });
}

/** The retransmit timer: solicit again, or give up. */
export function neighSolicitExpired(entry: NeighEntry): void {
  entry.timer = null;
  if (entry.state !== 'INCOMPLETE' && entry.state !== 'PROBE') return;
  // neigh_max_probes: resolving may also use the multicast ones.
  const limit = entry.state === 'INCOMPLETE' ? UCAST_SOLICIT + MCAST_SOLICIT : UCAST_SOLICIT;
  if (entry.probes >= limit || !entry.dev.ns.alive) {
    failEntry(entry);
    return;
  }
  entry.probes++;
  solicit(entry, entry.state === 'PROBE' ? entry.mac : null);
  armSolicitTimer(entry);
}

/** DELAY ran out without a confirmation: probe the cached address. */
export function neighDelayExpired(entry: NeighEntry): void {
  entry.timer = null;
  if (entry.state !== 'DELAY') return;
  setState(entry, 'PROBE');
  entry.probes = 1;
  solicit(entry, entry.mac);
  armSolicitTimer(entry);
}

/** The frame carrying a packet of either family. */
function frameOf(src: Mac, dst: Mac, packet: Ipv4Packet | Ipv6Packet): Frame {
  return 'icmp6' in packet ? { src, dst, ip6: packet } : { src, dst, ip: packet };
}

function sendVia(entry: NeighEntry, packet: Ipv4Packet | Ipv6Packet): boolean {
  return transmitFrame(entry.dev, frameOf(entry.dev.mac, entry.mac!, packet));
}

/**
 * neigh_output: sends a packet to `nexthop` (of the packet's family) on
 * `dev`, resolving it first. False when the device dropped what was sent at
 * once (a packet queued for resolution counts as sent).
 */
export function neighOutput(dev: Device, nexthop: Ipv4 | Ipv6, packet: Ipv4Packet | Ipv6Packet): boolean {
  if (dev.kind.name === 'loopback' || dev.flags & IFF_NOARP) return transmitFrame(dev, frameOf(dev.mac, dev.mac, packet));
  const ns = dev.ns;
  const entry = neighLookup(dev, nexthop) ?? createEntry(dev, nexthop, false);
  switch (currentState(entry)) {
    case 'PERMANENT':
    case 'NOARP':
    case 'REACHABLE':
    case 'DELAY':
    case 'PROBE':
      return sendVia(entry, packet);
    case 'STALE':
      entry.usedUs = ns.host.world.now;
      setState(entry, 'DELAY');
      cancelTimer(entry);
      entry.timer = ns.host.world.schedule(DELAY_FIRST_PROBE_US, { kind: 'neigh-delay', entry });
      return sendVia(entry, packet);
    case 'INCOMPLETE':
      entry.usedUs = ns.host.world.now;
      if (entry.queue.length >= UNRES_QLEN) entry.queue.shift();
      entry.queue.push(packet);
      return true;
    case 'NONE':
    case 'FAILED':
      entry.usedUs = ns.host.world.now;
      setState(entry, 'INCOMPLETE');
      entry.probes = UCAST_SOLICIT + 1;
      entry.queue.push(packet);
      ns.host.world.tracer?.note(ns, dev, 'arp', packet, `waits for ${typeof nexthop === 'string' ? 'neighbour discovery' : 'ARP'}: who has ${nexthopText(nexthop)}?`);
      armSolicitTimer(entry);
      solicit(entry, null);
      return true;
  }
}

function nexthopText(ip: Ipv4 | Ipv6): string {
  return typeof ip === 'string' ? ip : formatIpv4(ip);
}

/** neigh_update: learns or confirms a neighbour's address and releases its queue. */
function update(entry: NeighEntry, mac: Mac, state: NudState): void {
  if (entry.state === 'PERMANENT' || entry.state === 'NOARP') return;
  const changed = entry.mac !== mac;
  if (state === 'STALE' && !changed && entry.mac !== null && nudValid(entry.state)) return;
  cancelTimer(entry);
  entry.mac = mac;
  setState(entry, state);
  if (state === 'REACHABLE') entry.confirmedUs = now(entry.dev);
  const queue = entry.queue;
  entry.queue = [];
  for (const packet of queue) sendVia(entry, packet);
}

/** arp_process: an ARP message arrives on `dev`. */
export function arpReceive(dev: Device, arp: ArpMessage): void {
  if (dev.flags & IFF_NOARP) return;
  const ns = dev.ns;
  const entry = neighLookup(dev, arp.senderIp);
  if (arp.op === ARP_REQUEST && arp.senderIp !== 0) {
    if (isLocalAddress(ns, arp.targetIp)) {
      learnRequester(dev, arp);
      sendArpReply(dev, arp);
      return;
    }
    if (answersAsProxy(dev, arp)) {
      learnRequester(dev, arp);
      // pneigh_enqueue: a broadcast request is answered after a random part of proxy_delay.
      ns.host.world.schedule(ns.host.world.jitterUs(PROXY_DELAY_US), { kind: 'proxy-arp-reply', dev, arp });
      return;
    }
  }
  if (entry) update(entry, arp.senderMac, arp.op === ARP_REQUEST ? 'STALE' : 'REACHABLE');
}

/** PROXY_DELAY: 8/10 of a second. */
const PROXY_DELAY_US = 800_000;

/** neigh_event_ns: whoever asks for us becomes a (STALE) neighbour. */
function learnRequester(dev: Device, arp: ArpMessage): void {
  neighLearn(dev, arp.senderIp, arp.senderMac);
}

/** A neighbour that asked for us: known (STALE) by the address it gave, or at least entered. */
export function neighLearn(dev: Device, ip: Ipv4 | Ipv6, mac: Mac | null): void {
  const entry = neighLookup(dev, ip) ?? createEntry(dev, ip, false);
  if (mac !== null) update(entry, mac, 'STALE');
}

/** A neighbour confirmed what it is (an IPv6 advertisement): its address, the one cached when it gave none; a different one only when it overrides. */
export function neighConfirm(entry: NeighEntry, mac: Mac | null, state: NudState, override: boolean): void {
  const lladdr = mac ?? entry.mac;
  if (lladdr === null) return;
  if (!override && entry.mac !== null && lladdr !== entry.mac && nudValid(entry.state)) return;
  update(entry, lladdr, state);
}

/** pneigh's delayed answer, unless the namespace went away meanwhile. */
export function proxyArpReplyDue(dev: Device, arp: ArpMessage): void {
  if (dev.ns.alive) sendArpReply(dev, arp);
}

/** Answers `arp` with this device's address for the target it asked about. */
function sendArpReply(dev: Device, arp: ArpMessage): void {
  const reply: ArpMessage = { op: ARP_REPLY, senderMac: dev.mac, senderIp: arp.targetIp, targetMac: arp.senderMac, targetIp: arp.senderIp };
  transmitFrame(dev, { src: dev.mac, dst: arp.senderMac, arp: reply });
}

/**
 * A forwarding router answers for a target it routes out of another device,
 * when proxy_arp is on for the arriving device (conf.all or its own) or a
 * proxy entry names the target (the route lookup validating the sender as
 * for any packet arriving there).
 */
function answersAsProxy(dev: Device, arp: ArpMessage): boolean {
  const ns = dev.ns;
  if (!ns.sysctl.forwardingOn(dev.name)) return false;
  const route = fibLookup(ns, arp.targetIp, null, { src: arp.senderIp, iif: dev });
  if (!route || route.type !== 'unicast' || !route.dev || route.dev === dev) return false;
  return fibValidateSource(dev, arp.senderIp, arp.targetIp, route.dev) && (arpFwdProxy(dev, route.dev) || pneighLookup(dev, arp.targetIp) !== undefined);
}

/** arp_fwd_proxy: proxy_arp on, and the devices on different media (medium_id -1 never proxies, 0 always). */
function arpFwdProxy(inDev: Device, outDev: Device): boolean {
  const conf = (dev: string, knob: string) => inDev.ns.sysctl.ipv4Conf(dev, knob);
  if (conf('all', 'proxy_arp') === '0' && conf(inDev.name, 'proxy_arp') === '0') return false;
  const inMedium = conf(inDev.name, 'medium_id');
  if (inMedium === '0') return true;
  const outMedium = conf(outDev.name, 'medium_id');
  return inMedium !== '-1' && outMedium !== inMedium && outMedium !== '-1';
}

/** `ip neigh add|replace|change`: neigh_add, then __neigh_update with the state and address given. */
export function neighSet(dev: Device, ip: Ipv4 | Ipv6, mac: Mac | null, state: NudState, mode: 'add' | 'replace' | 'change', flags: NeighFlags = { router: false, externLearned: false }): KResult {
  const existing = neighLookup(dev, ip);
  if (existing && mode === 'add') return fail('EEXIST');
  if (!existing && mode === 'change') return fail('ENOENT');
  // The entry exists from here on, even when the update below fails (it stays in NONE).
  const entry = existing ?? createEntry(dev, ip, true);
  entry.manual = true;
  Object.assign(entry, flags);
  cancelTimer(entry);
  if (!nudValid(state)) {
    // An invalid state takes no address, and no timer: an INCOMPLETE entry made so resolves nothing.
    setState(entry, state);
    return OK;
  }
  const lladdr = mac ?? (nudValid(entry.state) ? entry.mac : null);
  if (lladdr === null) return fail('EINVAL', 'No link layer address given');
  entry.mac = lladdr;
  setState(entry, state);
  if (state === 'PERMANENT' || state === 'NOARP' || state === 'REACHABLE') entry.confirmedUs = now(dev);
  startTimer(entry);
  const queue = entry.queue;
  entry.queue = [];
  for (const packet of queue) sendVia(entry, packet);
  return OK;
}

/** __neigh_update arms a valid state's timer to fire at once unless it is REACHABLE: DELAY, never confirmed, goes on to PROBE, and probing starts. */
function startTimer(entry: NeighEntry): void {
  if (entry.state === 'DELAY') neighDelayExpired(entry);
  else if (entry.state === 'PROBE') neighSolicitExpired(entry);
}

export function neighDelete(dev: Device, ip: Ipv4 | Ipv6): KResult {
  const entry = neighLookup(dev, ip);
  if (!entry) return fail('ENOENT');
  cancelTimer(entry);
  dev.ns.neigh.delete(key(dev, ip));
  return OK;
}

export function pneighLookup(dev: Device, ip: Ipv4 | Ipv6): ProxyNeighEntry | undefined {
  return dev.ns.pneigh?.get(key(dev, ip));
}

/** `ip neigh add|replace proxy`: pneigh_create; adding an existing one is no error. */
export function pneighAdd(dev: Device, ip: Ipv4 | Ipv6): KResult {
  if (!pneighLookup(dev, ip)) (dev.ns.pneigh ??= new Map()).set(key(dev, ip), { dev, ip });
  return OK;
}

export function pneighDelete(dev: Device, ip: Ipv4 | Ipv6): KResult {
  return dev.ns.pneigh?.delete(key(dev, ip)) ? OK : fail('ENOENT');
}

export function pneighEntries(ns: NetNs): ProxyNeighEntry[] {
  return [...(ns.pneigh?.values() ?? [])];
}

/** Entries of a device, proxy ones included, are forgotten when it goes down or leaves (neigh_ifdown). */
export function neighFlushDevice(dev: Device): void {
  for (const [k, entry] of [...dev.ns.neigh]) {
    if (entry.dev !== dev) continue;
    cancelTimer(entry);
    dev.ns.neigh.delete(k);
  }
  const pneigh = dev.ns.pneigh;
  if (pneigh) for (const [k, entry] of [...pneigh]) if (entry.dev === dev) pneigh.delete(k);
}

/** neigh_carrier_down: all but the permanent entries of a device that lost its carrier go. */
export function neighCarrierDown(dev: Device): void {
  for (const [k, entry] of [...dev.ns.neigh]) {
    if (entry.dev !== dev || entry.state === 'PERMANENT') continue;
    cancelTimer(entry);
    dev.ns.neigh.delete(k);
  }
}

export function neighEntries(ns: NetNs): NeighEntry[] {
  return [...ns.neigh.values()];
}
