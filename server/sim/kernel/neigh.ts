// The neighbour table and ARP (net/core/neighbour.c, net/ipv4/arp.c):
// resolution with retries on the simulated clock, queued packets, and the
// host-unreachable errors when resolution fails.
import { BROADCAST_MAC, type Ipv4, type Mac } from './addr';
import { IFF_NOARP, type Device } from './device';
import { fail, OK, type KResult } from './errno';
import { isLocalAddress, selectSource } from './fib';
import { icmpSend } from './ipv4';
import { transmitFrame } from './l2';
import type { NetNs } from './netns';
import { ARP_REPLY, ARP_REQUEST, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, type ArpMessage, type Ipv4Packet } from './packet';
import type { Timer } from './world';

export type NudState = 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'NOARP' | 'PERMANENT';

export interface NeighEntry {
  dev: Device;
  ip: Ipv4;
  mac: Mac | null;
  state: NudState;
  queue: Ipv4Packet[];
  probes: number;
  timer: Timer | null;
  confirmedUs: number;
  /** Set for entries added by a user (`ip neigh add`), shown with their state as given. */
  manual: boolean;
}

const RETRANS_US = 1_000_000;
/** A timer armed by a send fires just after the sender's own clock tick (the send itself took time). */
const TIMER_SLACK_US = 50;
const MCAST_SOLICIT = 3;
const UCAST_SOLICIT = 3;
const DELAY_FIRST_PROBE_US = 5_000_000;
const BASE_REACHABLE_US = 30_000_000;
const UNRES_QLEN = 101;

function key(dev: Device, ip: Ipv4): string {
  return `${dev.ifindex}|${ip}`;
}

export function neighLookup(dev: Device, ip: Ipv4): NeighEntry | undefined {
  return dev.ns.neigh.get(key(dev, ip));
}

function now(dev: Device): number {
  return dev.ns.host.world.now;
}

/** REACHABLE ages into STALE without traffic; computed when looked at. */
export function currentState(entry: NeighEntry): NudState {
  if (entry.state === 'REACHABLE' && !entry.manual) {
    const reachableUs = BASE_REACHABLE_US / 2 + (entry.ip % 1000) * BASE_REACHABLE_US / 1000;
    if (now(entry.dev) - entry.confirmedUs > reachableUs) entry.state = 'STALE';
  }
  return entry.state;
}

function cancelTimer(entry: NeighEntry): void {
  if (entry.timer) entry.timer.cancelled = true;
  entry.timer = null;
}

function sendArpRequest(entry: NeighEntry, unicastTo: Mac | null): void {
  const dev = entry.dev;
  const queued = entry.queue[entry.queue.length - 1];
  // arp_solicit: the queued packet's own source when it is ours, else the device's best.
  const src = queued && isLocalAddress(dev.ns, queued.src) ? queued.src : selectSource(dev.ns, dev, entry.ip, 'link') ?? 0;
  const arp: ArpMessage = { op: ARP_REQUEST, senderMac: dev.mac, senderIp: src, targetMac: 0, targetIp: entry.ip };
  transmitFrame(dev, { src: dev.mac, dst: unicastTo ?? BROADCAST_MAC, arp });
}

function failEntry(entry: NeighEntry): void {
  cancelTimer(entry);
  entry.state = 'FAILED';
  entry.mac = null;
  const queue = entry.queue;
  entry.queue = [];
  const ns = entry.dev.ns;
  ns.host.world.tracer?.drop(ns, entry.dev, `dropped: nobody answered ARP for ${nexthopText(entry.ip)} on ${entry.dev.name} (host unreachable)`);
  for (const packet of queue) icmpSend(ns, packet, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH);
}

function armSolicitTimer(entry: NeighEntry): void {
  entry.timer = entry.dev.ns.host.world.schedule(RETRANS_US + TIMER_SLACK_US, () => {
    entry.timer = null;
    if (entry.state !== 'INCOMPLETE' && entry.state !== 'PROBE') return;
    const limit = entry.state === 'INCOMPLETE' ? MCAST_SOLICIT : UCAST_SOLICIT;
    if (entry.probes >= limit || !entry.dev.ns.alive) {
      failEntry(entry);
      return;
    }
    entry.probes++;
    sendArpRequest(entry, entry.state === 'PROBE' ? entry.mac : null);
    armSolicitTimer(entry);
  });
}

function sendVia(entry: NeighEntry, packet: Ipv4Packet): void {
  transmitFrame(entry.dev, { src: entry.dev.mac, dst: entry.mac!, ip: packet });
}

/** neigh_output: sends an IPv4 packet to `nexthop` on `dev`, resolving it first. */
export function neighOutput(dev: Device, nexthop: Ipv4, packet: Ipv4Packet): void {
  if (dev.kind.name === 'loopback' || dev.flags & IFF_NOARP) {
    transmitFrame(dev, { src: dev.mac, dst: dev.mac, ip: packet });
    return;
  }
  const ns = dev.ns;
  let entry = neighLookup(dev, nexthop);
  if (!entry) {
    entry = { dev, ip: nexthop, mac: null, state: 'FAILED', queue: [], probes: 0, timer: null, confirmedUs: 0, manual: false };
    ns.neigh.set(key(dev, nexthop), entry);
  }
  switch (currentState(entry)) {
    case 'PERMANENT':
    case 'NOARP':
    case 'REACHABLE':
    case 'DELAY':
    case 'PROBE':
      sendVia(entry, packet);
      return;
    case 'STALE':
      entry.state = 'DELAY';
      cancelTimer(entry);
      entry.timer = ns.host.world.schedule(DELAY_FIRST_PROBE_US, () => {
        entry!.timer = null;
        if (entry!.state !== 'DELAY') return;
        entry!.state = 'PROBE';
        entry!.probes = 1;
        sendArpRequest(entry!, entry!.mac);
        armSolicitTimer(entry!);
      });
      sendVia(entry, packet);
      return;
    case 'INCOMPLETE':
      if (entry.queue.length >= UNRES_QLEN) entry.queue.shift();
      entry.queue.push(packet);
      return;
    case 'FAILED':
      entry.state = 'INCOMPLETE';
      entry.probes = 1;
      entry.queue.push(packet);
      ns.host.world.tracer?.note(ns, dev, 'arp', packet, `waits for ARP: who has ${nexthopText(nexthop)}?`);
      armSolicitTimer(entry);
      sendArpRequest(entry, null);
      return;
  }
}

function nexthopText(ip: Ipv4): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/** neigh_update: learns or confirms a neighbour's address and releases its queue. */
function update(entry: NeighEntry, mac: Mac, state: NudState): void {
  if (entry.state === 'PERMANENT' || entry.state === 'NOARP') return;
  const changed = entry.mac !== mac;
  if (state === 'STALE' && !changed && entry.mac !== null && entry.state !== 'INCOMPLETE' && entry.state !== 'FAILED') return;
  cancelTimer(entry);
  entry.mac = mac;
  entry.state = state;
  if (state === 'REACHABLE') entry.confirmedUs = now(entry.dev);
  const queue = entry.queue;
  entry.queue = [];
  for (const packet of queue) sendVia(entry, packet);
}

/** arp_process: an ARP message arrives on `dev`. */
export function arpReceive(dev: Device, arp: ArpMessage): void {
  if (dev.flags & IFF_NOARP) return;
  const ns = dev.ns;
  let entry = neighLookup(dev, arp.senderIp);
  if (arp.op === ARP_REQUEST) {
    if (arp.senderIp !== 0 && isLocalAddress(ns, arp.targetIp)) {
      // neigh_event_ns: whoever asks for us becomes a (STALE) neighbour.
      if (!entry) {
        entry = { dev, ip: arp.senderIp, mac: null, state: 'NOARP', queue: [], probes: 0, timer: null, confirmedUs: 0, manual: false };
        entry.state = 'STALE';
        entry.mac = arp.senderMac;
        ns.neigh.set(key(dev, arp.senderIp), entry);
      } else {
        update(entry, arp.senderMac, 'STALE');
      }
      const reply: ArpMessage = { op: ARP_REPLY, senderMac: dev.mac, senderIp: arp.targetIp, targetMac: arp.senderMac, targetIp: arp.senderIp };
      transmitFrame(dev, { src: dev.mac, dst: arp.senderMac, arp: reply });
      return;
    }
    if (entry) update(entry, arp.senderMac, 'STALE');
    return;
  }
  if (entry) update(entry, arp.senderMac, 'REACHABLE');
}

/** `ip neigh add|replace|change` */
export function neighSet(dev: Device, ip: Ipv4, mac: Mac | null, state: NudState, mode: 'add' | 'replace' | 'change'): KResult {
  const existing = neighLookup(dev, ip);
  if (existing && mode === 'add') return fail('EEXIST');
  if (!existing && mode === 'change') return fail('ENOENT');
  const entry: NeighEntry = existing ?? { dev, ip, mac: null, state, queue: [], probes: 0, timer: null, confirmedUs: now(dev), manual: true };
  cancelTimer(entry);
  entry.mac = mac;
  entry.state = state;
  entry.manual = true;
  entry.confirmedUs = now(dev);
  dev.ns.neigh.set(key(dev, ip), entry);
  const queue = entry.queue;
  entry.queue = [];
  if (mac !== null) for (const packet of queue) sendVia(entry, packet);
  return OK;
}

export function neighDelete(dev: Device, ip: Ipv4): KResult {
  const entry = neighLookup(dev, ip);
  if (!entry) return fail('ENOENT');
  cancelTimer(entry);
  dev.ns.neigh.delete(key(dev, ip));
  return OK;
}

/** Entries of a device are forgotten when it goes down or leaves (neigh_ifdown). */
export function neighFlushDevice(dev: Device, keepPermanent = false): void {
  for (const [k, entry] of [...dev.ns.neigh]) {
    if (entry.dev !== dev) continue;
    if (keepPermanent && entry.state === 'PERMANENT') continue;
    cancelTimer(entry);
    dev.ns.neigh.delete(k);
  }
}

export function neighEntries(ns: NetNs): NeighEntry[] {
  return [...ns.neigh.values()];
}
