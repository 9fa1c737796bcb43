// The story of a packet's walk: what each hop did with it and, when it died,
// why. Told only while a sink is installed on the world: a Tracer keeps every
// event (`explain`), a PathRecorder only the path (ping, curl, traceroute and
// nc in a lab, whose diagram draws it).
import { PATH_HOPS_KEPT, type PacketPath, type PathDrop, type PathHop } from '../../../shared/protocol';
import { formatIpv4, formatMac } from './addr';
import type { Device } from './device';
import type { NetNs } from './netns';
import { ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, ICMPV6_DEST_UNREACH, ICMPV6_TIME_EXCEED, type Frame, type Ipv4Packet, type Ipv6Packet } from './packet';

export type TraceStep = 'xmit' | 'recv' | 'route' | 'arp' | 'bridge' | 'netfilter' | 'nat' | 'forward' | 'deliver' | 'drop' | 'icmp';

export interface TraceEvent {
  atUs: number;
  /** `hostA` or `hostA/red`. */
  where: string;
  device: string | null;
  step: TraceStep;
  /** A one-line account: "FORWARD: net.ipv4.ip_forward is 0". */
  text: string;
  /** src > dst of the IP packet concerned, when there is one. */
  flow: string | null;
}

const ICMP_NAMES: Record<number, string> = { 0: 'echo reply', 3: 'destination unreachable', 8: 'echo request', 11: 'time exceeded' };

export function describePacket(packet: Ipv4Packet): string {
  const ports = packet.ports ? `:${packet.ports.sport} > ${formatIpv4(packet.dst)}:${packet.ports.dport}` : ` > ${formatIpv4(packet.dst)}`;
  const what = packet.icmp ? `ICMP ${ICMP_NAMES[packet.icmp.type] ?? `type ${packet.icmp.type}`}` : `${packet.protocol.toUpperCase()}${packet.ports?.tcpFlags ? ` [${packet.ports.tcpFlags}]` : ''}`;
  return `${formatIpv4(packet.src)}${ports} ${what}`;
}

/** Why a dropped packet died, from a drop's account without the "dropped: " some start with. */
export function dropReason(text: string): string {
  return text.replace(/^dropped: /, '');
}

const ICMP6_NAMES: Record<number, string> = { 1: 'destination unreachable', 3: 'time exceeded', 128: 'echo request', 129: 'echo reply', 135: 'neighbor solicitation', 136: 'neighbor advertisement' };

function flowOf(frame: Traced | undefined): string | null {
  const ip6 = ip6Of(frame);
  if (ip6) return `${ip6.src} > ${ip6.dst} ICMPv6 ${ICMP6_NAMES[ip6.icmp6.type] ?? `type ${ip6.icmp6.type}`}`;
  if (!frame || 'hopLimit' in frame) return null;
  if ('ttl' in frame) return describePacket(frame);
  if (frame.ip) return describePacket(frame.ip);
  if (frame.arp) return frame.arp.op === 1 ? `ARP who-has ${formatIpv4(frame.arp.targetIp)} tell ${formatIpv4(frame.arp.senderIp)}` : `ARP ${formatIpv4(frame.arp.senderIp)} is-at ${formatMac(frame.arp.senderMac)}`;
  return null;
}

/** What the kernel tells about a packet's walk, to whoever is tracing it. */
export interface TraceSink {
  note(ns: NetNs, dev: Device | null, step: TraceStep, packet?: Traced, text?: string): void;
  drop(ns: NetNs, dev: Device | null, why: string, packet?: Traced): void;
}

/** Every event, in words (`explain`). */
export class Tracer implements TraceSink {
  readonly events: TraceEvent[] = [];
  constructor(private readonly clock: () => number) {}

  private push(ns: NetNs, dev: Device | null, step: TraceStep, text: string, packet?: Traced): void {
    if (this.events.length >= 10_000) return; // a walk is bounded by TTL; the record too
    this.events.push({ atUs: this.clock(), where: ns.label, device: dev?.name ?? null, step, text, flow: flowOf(packet) });
  }

  note(ns: NetNs, dev: Device | null, step: TraceStep, packet?: Traced, text: string = step): void {
    this.push(ns, dev, step, text, packet);
  }

  drop(ns: NetNs, dev: Device | null, why: string, packet?: Traced): void {
    this.push(ns, dev, 'drop', why, packet);
  }
}

/** What a trace event may be about: a frame, or an IP packet of either family. */
export type Traced = Frame | Ipv4Packet | Ipv6Packet;

function ipOf(packet: Traced | undefined): Ipv4Packet | undefined {
  if (!packet || 'hopLimit' in packet) return undefined;
  return 'ttl' in packet ? packet : packet.ip;
}

function ip6Of(packet: Traced | undefined): Ipv6Packet | undefined {
  if (!packet || 'ttl' in packet) return undefined;
  return 'hopLimit' in packet ? packet : packet.ip6;
}

/**
 * Only the path, in constant space and without words, so that the programs
 * that send packets can record theirs as they run: the places their IP
 * packets crossed (ARP goes the same way), each once, in the order first
 * crossed; and the last packet that died, unless a packet reached its
 * destination after it (an ICMP error reaching the sender reports a death,
 * it does not undo it).
 */
export class PathRecorder implements TraceSink {
  /** Keyed by the device, or the namespace for a place without one. */
  private readonly hops = new Map<Device | NetNs, PathHop>();
  private lastDrop: PathDrop | null = null;

  note(ns: NetNs, dev: Device | null, step: TraceStep, packet?: Traced): void {
    if (step === 'deliver') {
      const type = ipOf(packet)?.icmp?.type;
      const type6 = ip6Of(packet)?.icmp6.type;
      const error = type === ICMP_DEST_UNREACH || type === ICMP_TIME_EXCEEDED || type6 === ICMPV6_DEST_UNREACH || type6 === ICMPV6_TIME_EXCEED;
      if (!error) this.lastDrop = null;
    }
    if (!packet || ipOf(packet) || ip6Of(packet)) this.cross(ns, dev, step);
  }

  drop(ns: NetNs, dev: Device | null, why: string): void {
    this.cross(ns, dev, 'drop');
    this.lastDrop = { where: ns.label, device: dev?.name ?? null, reason: dropReason(why) };
  }

  path(): PacketPath {
    return { path: [...this.hops.values()], drop: this.lastDrop };
  }

  private cross(ns: NetNs, dev: Device | null, step: TraceStep): void {
    const key = dev ?? ns;
    if (!this.hops.has(key) && this.hops.size < PATH_HOPS_KEPT) this.hops.set(key, { where: ns.label, device: dev?.name ?? null, step });
  }
}

/**
 * The sinks installed on a world, each told every event while installed:
 * commands running at the same time see each other's packets.
 */
export class TraceFanout {
  private sinks: TraceSink[] = [];

  add(sink: TraceSink): void {
    this.sinks.push(sink);
  }

  /** Uninstalls one; true when none is left. */
  remove(sink: TraceSink): boolean {
    this.sinks = this.sinks.filter((s) => s !== sink);
    return this.sinks.length === 0;
  }

  note(ns: NetNs, dev: Device | null, step: TraceStep, packet?: Traced, text: string = step): void {
    for (const sink of this.sinks) sink.note(ns, dev, step, packet, text);
  }

  drop(ns: NetNs, dev: Device | null, why: string, packet?: Traced): void {
    for (const sink of this.sinks) sink.drop(ns, dev, why, packet);
  }
}
