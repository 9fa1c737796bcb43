// The story of a packet's walk: what each hop did with it and, when it died,
// why. Collected only while a Tracer is installed on the world (`explain`).
import { formatIpv4 } from './addr';
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

export function describePacket(packet: Ipv4Packet): string {
  const what = packet.icmp ? `icmp type ${packet.icmp.type}` : packet.protocol;
  return `${formatIpv4(packet.src)} > ${formatIpv4(packet.dst)} ${what}`;
}

function flowOf(frame: Frame | Ipv4Packet | undefined): string | null {
  if (!frame) return null;
  if ('ttl' in frame) return describePacket(frame);
  if (frame.ip) return describePacket(frame.ip);
  if (frame.arp) return `arp ${frame.arp.op === 1 ? 'who-has' : 'reply'} ${formatIpv4(frame.arp.targetIp)}`;
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
