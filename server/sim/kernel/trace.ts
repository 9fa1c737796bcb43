// The story of a packet's walk: what each hop did with it and, when it died,
// why. Collected only while a Tracer is installed on the world (`explain`).
import { formatIpv4, formatMac } from './addr';
import type { Device } from './device';
import type { NetNs } from './netns';
import type { Frame, Ipv4Packet } from './packet';

export type TraceStep = 'xmit' | 'recv' | 'route' | 'arp' | 'bridge' | 'netfilter' | 'nat' | 'forward' | 'deliver' | 'drop' | 'icmp';

export interface TraceEvent {
  atUs: number;
  /** `hostA` or `hostA/red`. */
  where: string;
  device: string | null;
  step: TraceStep;
  /** A one-line account: "FORWARD: net.ipv4.ip_forward is 0". */
  text: string;
  /** src > dst of the IPv4 packet concerned, when there is one. */
  flow: string | null;
}

const ICMP_NAMES: Record<number, string> = { 0: 'echo reply', 3: 'destination unreachable', 8: 'echo request', 11: 'time exceeded' };

export function describePacket(packet: Ipv4Packet): string {
  const ports = packet.ports ? `:${packet.ports.sport} > ${formatIpv4(packet.dst)}:${packet.ports.dport}` : ` > ${formatIpv4(packet.dst)}`;
  const what = packet.icmp ? `ICMP ${ICMP_NAMES[packet.icmp.type] ?? `type ${packet.icmp.type}`}` : `${packet.protocol.toUpperCase()}${packet.ports?.tcpFlags ? ` [${packet.ports.tcpFlags}]` : ''}`;
  return `${formatIpv4(packet.src)}${ports} ${what}`;
}

function flowOf(frame: Frame | Ipv4Packet | undefined): string | null {
  if (!frame) return null;
  if ('ttl' in frame) return describePacket(frame);
  if (frame.ip) return describePacket(frame.ip);
  if (frame.arp) return frame.arp.op === 1 ? `ARP who-has ${formatIpv4(frame.arp.targetIp)} tell ${formatIpv4(frame.arp.senderIp)}` : `ARP ${formatIpv4(frame.arp.senderIp)} is-at ${formatMac(frame.arp.senderMac)}`;
  return null;
}

export class Tracer {
  readonly events: TraceEvent[] = [];
  constructor(private readonly clock: () => number) {}

  private push(ns: NetNs, dev: Device | null, step: TraceStep, text: string, packet?: Frame | Ipv4Packet): void {
    if (this.events.length >= 10_000) return; // a walk is bounded by TTL; the record too
    this.events.push({ atUs: this.clock(), where: ns.label, device: dev?.name ?? null, step, text, flow: flowOf(packet) });
  }

  note(ns: NetNs, dev: Device | null, step: TraceStep, packet?: Frame | Ipv4Packet, text: string = step): void {
    this.push(ns, dev, step, text, packet);
  }

  drop(ns: NetNs, dev: Device | null, why: string, packet?: Frame | Ipv4Packet): void {
    this.push(ns, dev, 'drop', why, packet);
  }
}
