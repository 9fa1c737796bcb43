// Connection tracking and NAT bindings (net/netfilter/nf_conntrack_core.c,
// nf_nat_core.c). A flow's NAT is decided on its first packet; later packets
// and replies are rewritten from the binding.
import type { Ipv4 } from './addr';
import type { IpProtocol, Ipv4Packet } from './packet';
import { ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST } from './packet';

export interface Tuple {
  proto: IpProtocol;
  src: Ipv4;
  dst: Ipv4;
  /** TCP/UDP ports; for ICMP echo both hold the identifier. */
  sport: number;
  dport: number;
}

export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';
export type CtDir = 'original' | 'reply';

export interface ConnEntry {
  id: number;
  orig: Tuple;
  reply: Tuple;
  seenReply: boolean;
  assured: boolean;
  expiresUs: number;
  /** TCP state as `conntrack -L` shows it. */
  tcpState: string | null;
  srcNat: boolean;
  dstNat: boolean;
}

/** What conntrack found out about one packet in one namespace. */
export interface CtInfo {
  entry: ConnEntry;
  dir: CtDir;
  state: CtState;
  /** For ICMP errors: the flow of the packet they quote. */
  related: boolean;
  confirmed: boolean;
}

const TIMEOUT_US: Record<IpProtocol, number> = { icmp: 30e6, udp: 30e6, tcp: 120e6 };

export function tupleKey(t: Tuple): string {
  return `${t.proto}|${t.src}|${t.dst}|${t.sport}|${t.dport}`;
}

export function invert(t: Tuple): Tuple {
  return { proto: t.proto, src: t.dst, dst: t.src, sport: t.dport, dport: t.sport };
}

export function packetTuple(p: Ipv4Packet): Tuple | null {
  if (p.protocol === 'icmp') {
    const icmp = p.icmp!;
    if (icmp.type !== ICMP_ECHO_REQUEST && icmp.type !== ICMP_ECHO_REPLY) return null;
    return { proto: 'icmp', src: p.src, dst: p.dst, sport: icmp.id, dport: icmp.id };
  }
  return { proto: p.protocol, src: p.src, dst: p.dst, sport: p.ports?.sport ?? 0, dport: p.ports?.dport ?? 0 };
}

export function setPacketSource(p: Ipv4Packet, addr: Ipv4, port: number): void {
  p.src = addr;
  if (p.protocol === 'icmp') p.icmp!.id = port;
  else if (p.ports) p.ports.sport = port;
}

export function setPacketDestination(p: Ipv4Packet, addr: Ipv4, port: number): void {
  p.dst = addr;
  if (p.protocol === 'icmp') p.icmp!.id = port;
  else if (p.ports) p.ports.dport = port;
}

export class Conntrack {
  private readonly byTuple = new Map<string, { entry: ConnEntry; dir: CtDir }>();
  private nextId = 1;

  constructor(private readonly clock: () => number) {}

  private live(found: { entry: ConnEntry; dir: CtDir } | undefined): { entry: ConnEntry; dir: CtDir } | undefined {
    if (found && found.entry.expiresUs <= this.clock()) {
      this.remove(found.entry);
      return undefined;
    }
    return found;
  }

  lookup(t: Tuple): { entry: ConnEntry; dir: CtDir } | undefined {
    return this.live(this.byTuple.get(tupleKey(t)));
  }

  /** A tuple some confirmed flow already uses (for choosing NAT ports). */
  taken(t: Tuple): boolean {
    return this.lookup(t) !== undefined;
  }

  create(orig: Tuple): ConnEntry {
    return {
      id: this.nextId++,
      orig,
      reply: invert(orig),
      seenReply: false,
      assured: false,
      expiresUs: this.clock() + TIMEOUT_US[orig.proto],
      tcpState: orig.proto === 'tcp' ? 'SYN_SENT' : null,
      srcNat: false,
      dstNat: false,
    };
  }

  confirm(entry: ConnEntry): void {
    this.byTuple.set(tupleKey(entry.orig), { entry, dir: 'original' });
    this.byTuple.set(tupleKey(entry.reply), { entry, dir: 'reply' });
  }

  refresh(entry: ConnEntry, dir: CtDir): void {
    if (dir === 'reply') {
      entry.seenReply = true;
      if (entry.orig.proto !== 'icmp') entry.assured = true;
    }
    const timeout = entry.orig.proto === 'udp' && entry.assured ? 120e6 : TIMEOUT_US[entry.orig.proto];
    entry.expiresUs = this.clock() + timeout;
  }

  remove(entry: ConnEntry): void {
    this.byTuple.delete(tupleKey(entry.orig));
    this.byTuple.delete(tupleKey(entry.reply));
  }

  entries(): ConnEntry[] {
    const seen = new Set<ConnEntry>();
    for (const { entry } of this.byTuple.values()) if (entry.expiresUs > this.clock()) seen.add(entry);
    return [...seen];
  }

  flush(): number {
    const count = this.entries().length;
    this.byTuple.clear();
    return count;
  }
}
