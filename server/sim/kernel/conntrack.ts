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
/** What ctnetlink tells event listeners (conntrack -E). */
export type CtEvent = 'NEW' | 'UPDATE' | 'DESTROY';

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
  /** TCP: which direction closed first. */
  finDir?: CtDir;
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

/** nf_conntrack_proto_tcp's timeouts, per state. */
const TCP_TIMEOUT_US: Record<string, number> = {
  SYN_SENT: 120e6,
  SYN_RECV: 60e6,
  ESTABLISHED: 432000e6,
  FIN_WAIT: 120e6,
  CLOSE_WAIT: 60e6,
  LAST_ACK: 30e6,
  TIME_WAIT: 120e6,
  CLOSE: 10e6,
};

/** The TCP state machine as conntrack follows it from the flags it sees. */
function trackTcp(entry: ConnEntry, dir: CtDir, flags: string): void {
  const state = entry.tcpState ?? 'SYN_SENT';
  if (flags.startsWith('R')) entry.tcpState = 'CLOSE';
  else if (flags === 'S') entry.tcpState = state === 'SYN_SENT' || state === 'CLOSE' || state === 'TIME_WAIT' ? 'SYN_SENT' : state;
  else if (flags === 'S.') entry.tcpState = dir === 'reply' && state === 'SYN_SENT' ? 'SYN_RECV' : state;
  else if (flags.startsWith('F')) {
    if (state === 'ESTABLISHED') {
      entry.tcpState = 'FIN_WAIT';
      entry.finDir = dir;
    } else if ((state === 'FIN_WAIT' || state === 'CLOSE_WAIT') && entry.finDir !== dir) entry.tcpState = 'LAST_ACK';
  } else if (state === 'SYN_RECV' && dir === 'original') {
    entry.tcpState = 'ESTABLISHED';
    entry.assured = true;
  } else if (state === 'LAST_ACK' && entry.finDir === dir) entry.tcpState = 'TIME_WAIT';
  else if (state === 'FIN_WAIT' && entry.finDir !== dir) entry.tcpState = 'CLOSE_WAIT';
}

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
  /** Programs listening to events (conntrack -E). */
  watchers: Array<(event: CtEvent, entry: ConnEntry) => void> = [];

  /** Holds the clock itself rather than a closure over it, so the table is plain data. */
  constructor(private readonly clock: { readonly now: number }) {}

  private live(found: { entry: ConnEntry; dir: CtDir } | undefined): { entry: ConnEntry; dir: CtDir } | undefined {
    if (found && found.entry.expiresUs <= this.clock.now) {
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
      expiresUs: this.clock.now + TIMEOUT_US[orig.proto],
      tcpState: orig.proto === 'tcp' ? 'SYN_SENT' : null,
      srcNat: false,
      dstNat: false,
    };
  }

  confirm(entry: ConnEntry): void {
    this.byTuple.set(tupleKey(entry.orig), { entry, dir: 'original' });
    this.byTuple.set(tupleKey(entry.reply), { entry, dir: 'reply' });
    this.emit('NEW', entry);
  }

  private emit(event: CtEvent, entry: ConnEntry): void {
    for (const watcher of this.watchers) watcher(event, entry);
  }

  /** A packet of the flow: timeouts and state move on, and a change of state, reply or assurance is an event. */
  refresh(entry: ConnEntry, dir: CtDir, tcpFlags?: string): void {
    const before = `${entry.seenReply} ${entry.assured} ${entry.tcpState}`;
    this.update(entry, dir, tcpFlags);
    if (this.byTuple.get(tupleKey(entry.orig))?.entry === entry && `${entry.seenReply} ${entry.assured} ${entry.tcpState}` !== before) this.emit('UPDATE', entry);
  }

  private update(entry: ConnEntry, dir: CtDir, tcpFlags?: string): void {
    if (entry.orig.proto === 'tcp' && !entry.seenReply) {
      // nf_conntrack_tcp: a reset before any reply means there never was a connection; the entry goes at once.
      if (tcpFlags?.startsWith('R')) {
        this.remove(entry);
        return;
      }
      // A retransmitted SYN does not renew the timeout, lest port reuse keep the entry alive for ever.
      if (tcpFlags === 'S' && entry.tcpState === 'SYN_SENT') return;
    }
    if (dir === 'reply') entry.seenReply = true;
    if (entry.orig.proto === 'tcp') {
      trackTcp(entry, dir, tcpFlags ?? '');
      entry.expiresUs = this.clock.now + TCP_TIMEOUT_US[entry.tcpState!]!;
      return;
    }
    // A UDP flow that saw a reply and then more traffic becomes assured.
    if (entry.orig.proto === 'udp' && entry.seenReply && dir === 'original') entry.assured = true;
    const timeout = entry.orig.proto === 'udp' && entry.assured ? 120e6 : TIMEOUT_US[entry.orig.proto];
    entry.expiresUs = this.clock.now + timeout;
  }

  remove(entry: ConnEntry): void {
    if (this.byTuple.get(tupleKey(entry.orig))?.entry !== entry) return;
    this.byTuple.delete(tupleKey(entry.orig));
    this.byTuple.delete(tupleKey(entry.reply));
    this.emit('DESTROY', entry);
  }

  entries(): ConnEntry[] {
    const seen = new Set<ConnEntry>();
    for (const { entry } of this.byTuple.values()) if (entry.expiresUs > this.clock.now) seen.add(entry);
    return [...seen];
  }

  flush(): number {
    const all = this.entries();
    for (const entry of all) this.remove(entry);
    this.byTuple.clear();
    return all.length;
  }
}
